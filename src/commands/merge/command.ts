import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';
import type { MergeOptions } from './run.js';

export function registerMerge(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('merge')
      .description(
        "merge agent K's branch (agentK/main) into its base branch of the shared repo, after a sync; " +
          'refused, changing nothing, when it would conflict',
      )
      .argument('<K>', 'the agent (2 or more)')
      .option('--into <branch>', "the branch to merge into (default: the agent's base, else the primary clone's current branch)")
      .option('--squash', "one commit on the target holding all of the agent's changes")
      .option('--rebase', "the agent's commits replayed on the target, which is fast-forwarded (agentK/main is left as it is)")
      .option('--remove', 'then remove the agent (copy and branch), when its work is provably in the target and its copy holds no other'),
  ).action(async (index: string, flags: Omit<MergeOptions, 'index'>) => runWith(host, { ...flags, index }, (await import('./run.js')).run));
}
