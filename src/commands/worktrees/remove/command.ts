import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../../context.js';
import type { WorktreesRemoveOptions } from './run.js';

export function registerWorktreesRemove(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('remove')
      .description(
        "remove agent K's copy; refused while it holds work (files, ignored files, nested repos, commits, stashes) " +
          'unless --force, which backs it up first',
      )
      .argument('<K>', 'the agent to remove (2 or more)')
      .option('--force', "save the copy's work to devkit's backups, then remove it")
      .option('--delete-branch', 'also delete the agent branch in the shared repo, if it is merged'),
  ).action(async (index: string, flags: Omit<WorktreesRemoveOptions, 'index'>) =>
    runWith(host, { ...flags, index }, (await import('./run.js')).run),
  );
}
