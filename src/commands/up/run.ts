import { openDevRoot, type CommandContext } from '../../agents/devroot.js';
import { printContainers, type StackContainer } from '../../stack/containers.js';
import type { Profile } from '../../stack/profile.js';
import { upProfile } from '../../stack/up.js';
import { processContext, type CommandHost } from '../context.js';

export interface UpOptions {
  profile?: string;
  json?: boolean;
}

export async function runUp(options: UpOptions, context: CommandContext): Promise<{ profile: Profile; containers: StackContainer[] }> {
  return upProfile(await openDevRoot(context), options.profile, context, options.json === true);
}

export async function main(options: UpOptions, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runUp(options, context);
  if (options.json) context.io.json(result);
  printContainers(context.io, result.containers);
  host.setExitCode(0);
}
