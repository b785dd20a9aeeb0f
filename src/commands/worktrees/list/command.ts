import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../../context.js';

export function registerWorktreesList(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('list')
      .description("each agent's copy: branch, HEAD, state, changes, commits ahead (agents' branches are synced first)"),
  ).action(async (flags: { json?: boolean }) => runWith(host, flags, (await import('./run.js')).run));
}
