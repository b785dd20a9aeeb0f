import type { Command } from 'commander';
import { runWith, type CommandHost } from '../../context.js';

export function registerWorktreesNotice(worktrees: Command, host: CommandHost): void {
  worktrees
    .command('notice')
    .description('print the notice for an agent forked into this copy from PARENT_DIR: how inherited paths map onto its own copy')
    .requiredOption('--from <PARENT_DIR>', "the parent's directory the agent's inherited paths refer to")
    .action(async (flags: { from: string }) => runWith(host, flags, (await import('./run.js')).run));
}
