import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerPorts(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('ports')
      .description("each agent's host ports on 127.0.0.1, passed to the same ports of its dev container ($DEVKIT_PORT, $DEVKIT_PORTS)")
      .argument('[K]', 'the agent'),
  ).action(async (index: string | undefined, flags: { json?: boolean }) =>
    runWith(host, { ...flags, index }, (await import('./run.js')).run),
  );
}
