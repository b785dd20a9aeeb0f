import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';
import type { LogOptions } from './run.js';

export function registerLog(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('log')
      .description("agent K's commits that its base branch does not have, after a sync (git log BASE..agentK/main in the shared repo)")
      .argument('<K>', 'the agent (2 or more)')
      .option('-n, --max-count <N>', 'at most N commits, newest first'),
  ).action(async (index: string, flags: Omit<LogOptions, 'index'>) => runWith(host, { ...flags, index }, (await import('./run.js')).run));
}
