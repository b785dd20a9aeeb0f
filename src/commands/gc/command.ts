import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerGc(program: Command, host: CommandHost): void {
  withJsonOption(program.command('gc').description('remove what doctor finds to be devkit garbage; never anything holding work')).action(
    async (flags: { json?: boolean }) => runWith(host, flags, (await import('./run.js')).run),
  );
}
