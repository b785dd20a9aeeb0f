import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../../context.js';
import type { WorktreesRemoveOptions } from './run.js';

export function registerWorktreesRemove(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('remove')
      .description("remove agent K's worktree; refuses when it holds work found nowhere else, unless --force, which saves that work to a ref first")
      .argument('<K>', 'agent index (2 or more)')
      .option('--force', 'save uncommitted, untracked and unmerged work under refs/devkit/backup/agentK/<time>, then remove')
      .option('--delete-branch', "also delete the agent's branch, only when every commit on it is on another branch"),
  ).action(async (index: string, flags: Omit<WorktreesRemoveOptions, 'index'>) => (await import('./run.js')).main({ ...flags, index }, host));
}
