import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerConflicts(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('conflicts')
      .description(
        "which agents' work (commits and uncommitted changes) would conflict when merged, on which files, and an order to merge in",
      ),
  ).action(async (flags: { json?: boolean }) => runWith(host, flags, (await import('./run.js')).run));
}
