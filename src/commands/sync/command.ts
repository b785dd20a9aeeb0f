import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerSync(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('sync')
      .description(
        "bring agents' branches under agentK/ from their copies into the shared repo, every object checked (all agents without K)",
      )
      .argument('[K]', 'the agent'),
  ).action(async (index: string | undefined, flags: { json?: boolean }) =>
    runWith(host, { ...flags, index }, (await import('./run.js')).run),
  );
}
