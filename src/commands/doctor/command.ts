import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerDoctor(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('doctor')
      .description(
        'check tools, engine, images, overlays, copies, git locks and devkit containers; ' +
          'each problem with the command that fixes it (exit 1 when there are problems)',
      ),
  ).action(async (flags: { json?: boolean }) => runWith(host, flags, (await import('./run.js')).run));
}
