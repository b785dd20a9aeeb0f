import type { CommandContext } from '../cli/context.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { connectEngine } from '../docker/engine-api.js';
import { reloadSidecars } from '../policy/policy.js';
import { runCompose } from './compose.js';
import { profileContainers, type StackContainer } from './containers.js';
import { prepareStack, type PreparedStack } from './prepare.js';
import { resolveProfile, type Profile } from './profile.js';

export interface StackUp {
  profile: Profile;
  containers: StackContainer[];
}

/** How compose's own progress shows: not at all, as it likes (one stack), or as plain lines (several side by side). */
export type ComposeOutput = 'quiet' | 'own' | 'plain';

/**
 * `docker compose up --wait` for a profile prepareStack made ready; outside
 * the fleet lock, so agents start in parallel.
 */
export async function composeUp(fleet: Fleet, profile: Profile, prepared: PreparedStack, output: ComposeOutput): Promise<StackUp> {
  const args = ['up', '--detach', '--wait'];
  await runCompose({ cwd: fleet.workspace.dir, files: profile.files, args, quiet: output === 'quiet', plain: output === 'plain' });
  // devkit.yml's egress changed since the sidecars started (edited by hand): they read their policy again.
  if (prepared.policyChanged) await reloadSidecars(await connectEngine(fleet.env), fleet.config.root, profile.name);
  return { profile, containers: await profileContainers(fleet, profile.name) };
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
): Promise<StackUp> {
  const profile = resolveProfile(fleet, profileName);
  const prepared = await withFleetLock(fleet, context, `-p ${profile.name} up`, () => prepareStack(fleet, profile, context.io));
  return composeUp(fleet, profile, prepared, toolOutput ? 'own' : 'quiet');
}
