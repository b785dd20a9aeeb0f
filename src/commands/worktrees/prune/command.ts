import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../../context.js';

export function registerWorktreesPrune(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('prune')
      .description(
        'report orphans: records of copies that are gone, copies devkit has no record of, half-made copies, stale git locks; ' +
          '--apply repairs what holds no work',
      )
      .option('--apply', 'repair what is safe; anything that could hold work is left alone'),
  ).action(async (flags: { apply?: boolean; json?: boolean }) => runWith(host, flags, (await import('./run.js')).run));
}
