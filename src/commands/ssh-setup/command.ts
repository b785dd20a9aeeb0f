import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerSshSetup(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('ssh-setup')
      .description("agent K's SSH key (made once, 0600), .ssh/config through the egress proxy, and core.sshCommand; prints the public key")
      .requiredOption('--index <K>', 'the agent'),
  ).action(async (flags: { index: string; json?: boolean }) => runWith(host, flags, (await import('./run.js')).run));
}
