import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export interface RepoPushOptions {
  index?: string;
  branch?: string;
  profile?: string;
  json?: boolean;
}

export function registerRepoPushSsh(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('repo-push-ssh')
      .description(
        "push agent K's branch to origin over SSH, through the egress proxy, with agent K's key only (from inside its container)",
      )
      .option('--index <K>', 'the agent (default: the one whose copy you are in)')
      .argument('[BRANCH]', "the branch to push (default: the agent's branch)"),
  ).action(async (branch: string | undefined, flags: RepoPushOptions) =>
    runWith(host, { ...flags, branch, profile: host.profile() }, (await import('./run.js')).run),
  );
}
