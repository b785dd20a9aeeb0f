import type { CommandContext } from '../cli/context.js';
import type { Io } from '../cli/io.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { connectEndpoint } from '../docker/engine-api.js';
import { reloadSidecars } from '../policy/policy.js';
import { runCompose } from './compose.js';
import { stackContainers, type StackContainer } from './containers.js';
import { containersToKeep, keptLine, type KeptContainer } from './live-sessions.js';
import { prepareStack, type PreparedStack } from './prepare.js';
import { composeTarget, resolveProfile, type Profile } from './profile.js';

export interface StackUp {
  profile: Profile;
  containers: StackContainer[];
  /** Containers left running with live sessions rather than recreated (see containersToKeep). */
  kept: KeptContainer[];
}

/** How compose's own progress shows: not at all, as it likes (one stack), or as plain lines (several side by side). */
export type ComposeOutput = 'quiet' | 'own' | 'plain';

/** How a stack comes up: compose's output, whether containers with live sessions are recreated too, where devkit's lines go. */
export interface UpHow {
  output: ComposeOutput;
  recreate?: boolean;
  io: Io;
}

/**
 * `docker compose up --wait` for a profile prepareStack made ready; outside
 * the fleet lock, so agents start in parallel. A running container with live
 * exec sessions that compose would recreate is left as it is (said on
 * stderr) unless `recreate`.
 */
export async function composeUp(fleet: Fleet, profile: Profile, prepared: PreparedStack, how: UpHow): Promise<StackUp> {
  const api = await connectEndpoint(profile.engine.endpoint);
  // A container with shells in it is not recreated behind their backs: it stays as it is until --recreate.
  const kept = how.recreate === true ? [] : await containersToKeep(fleet, profile, api);
  for (const container of kept) how.io.log(keptLine(profile.name, container));
  const args = ['up', '--detach', '--wait', ...(kept.length > 0 ? ['--no-recreate'] : [])];
  const { output } = how;
  await runCompose({ ...composeTarget(fleet, profile), args, quiet: output === 'quiet', plain: output === 'plain' });
  // devkit.yml's egress changed since the sidecars started (edited by hand): they read their policy again.
  if (prepared.policyChanged) await reloadSidecars(api, fleet.config.root, profile.name);
  return { profile, containers: await stackContainers(api, { root: fleet.config.root, profile: profile.name }), kept };
}

/**
 * Images, overlay and .env under the fleet lock, then compose up outside it,
 * so agents start in parallel. compose's own output shows when `toolOutput`
 * (a terminal, or --verbose); else devkit's lines alone: a wait for the lock,
 * if any, and the result.
 */
export async function upProfile(
  fleet: Fleet,
  profileName: string | undefined,
  context: CommandContext,
  toolOutput: boolean,
  options: { recreate?: boolean } = {},
): Promise<StackUp> {
  const profile = resolveProfile(fleet, profileName);
  const prepared = await withFleetLock(fleet, context, `-p ${profile.name} up`, () => prepareStack(fleet, profile, context.io));
  return composeUp(fleet, profile, prepared, { output: toolOutput ? 'own' : 'quiet', recreate: options.recreate, io: context.io });
}
