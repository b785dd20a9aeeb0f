import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../../context.js';

export function registerWorktreesPrune(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('prune')
      .description('report orphans: git entries whose folder is gone, copies git lost, stale git locks; --apply repairs what holds no work')
      .option('--apply', 'repair what is safe; anything that could hold work is left alone'),
  ).action(async (flags: { apply?: boolean; json?: boolean }) => (await import('./run.js')).main(flags, host));
}
