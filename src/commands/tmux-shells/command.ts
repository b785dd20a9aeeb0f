import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerTmuxShells(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('tmux-shells')
      .description(
        "a tmux session named after the repo, one window agentK per agent 1..N, each a shell inside its agent's container; " +
          'again, it adds only missing windows and attaches',
      )
      .argument('<N>', 'agents 1..N'),
  ).action(async (count: string, flags: { json?: boolean }) =>
    runWith(host, { ...flags, count, profile: host.profile() }, (await import('./run.js')).run),
  );
}
