import { openDevRoot, type CommandContext } from '../../agents/devroot.js';
import { runCompose } from '../../stack/compose.js';
import { resolveProfile, type Profile } from '../../stack/profile.js';
import { processContext, type CommandHost } from '../context.js';

export interface DownOptions {
  profile?: string;
  volumes?: boolean;
  json?: boolean;
}

export async function runDown(options: DownOptions, context: CommandContext): Promise<{ profile: Profile }> {
  const devRoot = await openDevRoot(context);
  const profile = await resolveProfile(devRoot, options.profile);
  // The shared caches are external volumes: --volumes removes only this project's own.
  const args = ['down', ...(options.volumes === true ? ['--volumes'] : [])];
  await runCompose({ cwd: devRoot.workspace.dir, files: profile.files, args, quiet: options.json === true });
  return { profile };
}

export async function main(options: DownOptions, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runDown(options, context);
  if (options.json) context.io.json(result);
  context.io.log(`${result.profile.project} is down`);
  host.setExitCode(0);
}
