import type { CommandContext, DevRoot } from '../agents/devroot.js';
import { withDevRootLock } from '../agents/devroot.js';
import { runCompose } from './compose.js';
import { profileContainers, type StackContainer } from './containers.js';
import { prepareStack } from './prepare.js';
import { resolveProfile, type Profile } from './profile.js';

/** Images, overlay and .env under the repo lock, then compose up outside it, so agents start in parallel. */
export async function upProfile(devRoot: DevRoot, profileName: string | undefined, context: CommandContext, quiet: boolean): Promise<{ profile: Profile; containers: StackContainer[] }> {
  const profile = await resolveProfile(devRoot, profileName);
  await withDevRootLock(devRoot, context, `-p ${profile.name} up`, () => prepareStack(devRoot, profile, context.io));
  await runCompose({ cwd: devRoot.workspace.dir, files: profile.files, args: ['up', '--detach', '--wait'], quiet });
  return { profile, containers: await profileContainers(devRoot, profile.name) };
}
