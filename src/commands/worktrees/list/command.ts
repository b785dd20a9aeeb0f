import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../../context.js';

export function registerWorktreesList(worktrees: Command, host: CommandHost): void {
  withJsonOption(worktrees.command('list').description("each agent's worktree: branch, HEAD, lock, changes, commits ahead")).action(
    async (flags: { json?: boolean }) => (await import('./run.js')).main(flags, host),
  );
}
