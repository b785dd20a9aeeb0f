import type { CommandContext } from '../cli/context.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { connectEngine } from '../docker/engine-api.js';
import { reloadSidecars } from '../policy/policy.js';
import { runCompose } from './compose.js';
import { profileContainers, type StackContainer } from './containers.js';
import { prepareStack } from './prepare.js';
import { containersToKeep, keptLine, type KeptContainer } from './live-sessions.js';
import { resolveProfile, type Profile } from './profile.js';

/**
 * Images, overlay and .env under the fleet lock, then compose up outside it,
 * so agents start in parallel. A running container with live exec sessions
 * that compose would recreate is left as it is (said on stderr) unless
 * `recreate`. compose's own output shows when `toolOutput`
 * (a terminal, or --verbose); else devkit's lines alone: a wait for the lock,
 * if any, and the result.
 */
export async function upProfile(
  fleet: Fleet,
  profileName: string | undefined,
  context: CommandContext,
  toolOutput: boolean,
  options: { recreate?: boolean } = {},
): Promise<{ profile: Profile; containers: StackContainer[]; kept: KeptContainer[] }> {
  const profile = resolveProfile(fleet, profileName);
  const prepared = await withFleetLock(fleet, context, `-p ${profile.name} up`, () => prepareStack(fleet, profile, context.io));
  const api = await connectEngine(fleet.env);
  // A container with shells in it is not recreated behind their backs: it stays as it is until --recreate.
  const kept = options.recreate === true ? [] : await containersToKeep(fleet, profile, api);
  for (const container of kept) context.io.log(keptLine(profile.name, container));
  const args = ['up', '--detach', '--wait', ...(kept.length > 0 ? ['--no-recreate'] : [])];
  await runCompose({ cwd: fleet.workspace.dir, files: profile.files, args, quiet: !toolOutput });
  // devkit.yml's egress changed since the sidecars started (edited by hand): they read their policy again.
  if (prepared.policyChanged) await reloadSidecars(api, fleet.config.root, profile.name);
  return { profile, containers: await profileContainers(fleet, profile.name), kept };
}
