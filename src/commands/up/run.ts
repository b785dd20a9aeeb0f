import { openDevRoot, withDevRootLock, type CommandContext } from '../../agents/devroot.js';
import { runCompose } from '../../stack/compose.js';
import { profileContainers, printContainers, type StackContainer } from '../../stack/containers.js';
import { prepareStack } from '../../stack/prepare.js';
import { resolveProfile, type Profile } from '../../stack/profile.js';
import { processContext, type CommandHost } from '../context.js';

export interface UpOptions {
  profile?: string;
  json?: boolean;
}

/** Images, overlay and .env under the repo lock, then compose up outside it, so agents start in parallel. */
export async function runUp(options: UpOptions, context: CommandContext): Promise<{ profile: Profile; containers: StackContainer[] }> {
  const devRoot = await openDevRoot(context);
  const profile = await resolveProfile(devRoot, options.profile);
  await withDevRootLock(devRoot, context, `-p ${profile.name} up`, () => prepareStack(devRoot, profile, context.io));
  await runCompose({ cwd: devRoot.workspace.dir, files: profile.files, args: ['up', '--detach', '--wait'], quiet: options.json === true });
  return { profile, containers: await profileContainers(devRoot, profile.name) };
}

export async function main(options: UpOptions, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runUp(options, context);
  if (options.json) context.io.json(result);
  printContainers(context.io, result.containers);
  host.setExitCode(0);
}
