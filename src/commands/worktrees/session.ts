import type { Command } from 'commander';
import { worktreeNotice } from '../../agents/notice.js';
import { sessionInfo } from '../../agents/session.js';
import { processContext, withJsonOption, type CommandHost } from '../context.js';

export function registerWorktreesSession(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees.command('session').description('name, path and branch of the copy you are in, and of the primary clone it came from (for status lines)'),
  ).action(async (flags: { json?: boolean }) => {
    const context = processContext(flags);
    const info = await sessionInfo(context.cwd);
    if (flags.json) context.io.json(info);
    for (const [key, value] of Object.entries(info)) context.io.out(`${key}: ${value ?? ''}`);
    host.setExitCode(0);
  });

  worktrees
    .command('notice')
    .description('print the notice for an agent forked into this worktree from PARENT_DIR: how inherited paths map onto its own copy')
    .requiredOption('--from <PARENT_DIR>', "the parent's directory the agent's inherited paths refer to")
    .action(async (flags: { from: string }) => {
      const context = processContext({});
      context.io.out((await worktreeNotice(context.cwd, flags.from)).trimEnd());
      host.setExitCode(0);
    });
}
