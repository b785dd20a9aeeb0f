import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../context.js';

export function registerDoctor(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('doctor')
      .description('check tools, engine, images, overlays, worktrees, git locks and devkit containers; each problem with the command that fixes it (exit 1 when there are problems)'),
  ).action(async (flags: { json?: boolean }) => (await import('./run.js')).doctor(flags, host));
  withJsonOption(program.command('gc').description('remove what doctor finds to be devkit garbage; never anything holding work')).action(
    async (flags: { json?: boolean }) => (await import('./run.js')).gc(flags, host),
  );
}
