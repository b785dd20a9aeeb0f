import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../../context.js';
import type { WorktreesInitOptions } from './run.js';

export function registerWorktreesInit(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('init')
      .description('make agents 1..N: a locked worktree on agentK/main and a HOME for each agent K >= 2')
      .argument('<N>', 'number of agents, agent 1 being the primary clone')
      .option('--base <ref>', "where new agents' branches start (default: the primary clone's current branch)"),
  ).action(async (count: string, flags: Omit<WorktreesInitOptions, 'count'>) => (await import('./run.js')).main({ ...flags, count }, host));
}
