import { openDevRoot, type CommandContext } from '../../agents/devroot.js';
import { profileContainers, printContainers, type StackContainer } from '../../stack/containers.js';
import { resolveProfile } from '../../stack/profile.js';
import { processContext, type CommandHost } from '../context.js';

export async function runPs(options: { profile?: string }, context: CommandContext): Promise<StackContainer[]> {
  const devRoot = await openDevRoot(context);
  // Without -p, every profile of this dev root.
  const profile = options.profile === undefined ? undefined : (await resolveProfile(devRoot, options.profile)).name;
  return profileContainers(devRoot, profile);
}

export async function main(options: { profile?: string; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const containers = await runPs(options, context);
  if (options.json) context.io.json({ containers });
  printContainers(context.io, containers);
  host.setExitCode(0);
}
