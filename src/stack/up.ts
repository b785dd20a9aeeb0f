import type { CommandContext } from '../cli/context.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { connectEngine } from '../docker/engine-api.js';
import { reloadSidecars } from '../policy/policy.js';
import { runCompose } from './compose.js';
import { profileContainers, type StackContainer } from './containers.js';
import { prepareStack } from './prepare.js';
import { resolveProfile, type Profile } from './profile.js';

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
): Promise<{ profile: Profile; containers: StackContainer[] }> {
  const profile = resolveProfile(fleet, profileName);
  const prepared = await withFleetLock(fleet, context, `-p ${profile.name} up`, () => prepareStack(fleet, profile, context.io));
  const args = ['up', '--detach', '--wait'];
  await runCompose({ cwd: fleet.workspace.dir, files: profile.files, args, quiet: !toolOutput });
  // devkit.yml's egress changed since the sidecars started (edited by hand): they read their policy again.
  if (prepared.policyChanged) await reloadSidecars(await connectEngine(fleet.env), fleet.config.root, profile.name);
  return { profile, containers: await profileContainers(fleet, profile.name) };
}
