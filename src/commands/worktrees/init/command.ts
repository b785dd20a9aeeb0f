import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../../context.js';
import type { WorktreesInitOptions } from './run.js';

export function registerWorktreesInit(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('init')
      .description('make agents 1..N: for each agent K >= 2 a copy of its own on agentK/main (borrowing the shared objects) and a HOME')
      .argument('<N>', 'number of agents, agent 1 being the primary clone')
      .option('--base <ref>', "where new agents' branches start (default: the primary clone's current branch)"),
  ).action(async (count: string, flags: Omit<WorktreesInitOptions, 'count'>) =>
    runWith(host, { ...flags, count }, (await import('./run.js')).run),
  );
}
