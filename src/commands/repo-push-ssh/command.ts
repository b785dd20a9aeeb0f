import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../context.js';

export interface RepoPushOptions {
  index?: string;
  branch?: string;
  json?: boolean;
}

export function registerRepoPushSsh(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('repo-push-ssh')
      .description("push agent K's branch to origin over SSH, through the egress proxy, with agent K's key only (from inside its container)")
      .option('--index <K>', 'the agent (default: the one whose copy you are in)')
      .argument('[BRANCH]', "the branch to push (default: the agent's branch)"),
  ).action(async (branch: string | undefined, flags: RepoPushOptions) =>
    (await import('./run.js')).main({ ...flags, branch, profile: program.opts<{ profile?: string }>().profile }, host),
  );
}
