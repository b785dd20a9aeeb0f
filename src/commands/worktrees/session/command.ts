import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../../context.js';

export function registerWorktreesSession(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('session')
      .description('name, path and branch of the copy you are in, and of the primary clone it came from (for status lines)'),
  ).action(async (flags: { json?: boolean }) => runWith(host, flags, (await import('./run.js')).run));
}
