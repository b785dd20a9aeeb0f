import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

/** devkit checkpoint K, devkit checkpoints K and devkit restore K NAME. */
export function registerCheckpoint(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('checkpoint')
      .description("save agent K's whole state (commits, staged, modified, untracked and included files) without touching its copy")
      .argument('<K>', 'the agent (2 or more)')
      .option('-m, --message <MSG>', 'what the checkpoint is'),
  ).action(async (index: string, flags: { message?: string; json?: boolean }) =>
    runWith(host, { ...flags, index }, (await import('./run.js')).run),
  );
  withJsonOption(
    program
      .command('checkpoints')
      .description("agent K's checkpoints and removal backups, newest first")
      .argument('<K>', 'the agent (2 or more)'),
  ).action(async (index: string, flags: { json?: boolean }) => runWith(host, { ...flags, index }, (await import('./list/run.js')).run));
  withJsonOption(
    program
      .command('restore')
      .description(
        "bring a checkpoint or removal backup back into agent K's copy, through its running container (what it held is checkpointed first)",
      )
      .argument('<K>', 'the agent (2 or more)')
      .argument('<NAME>', 'a name devkit checkpoints K lists'),
  ).action(async (index: string, name: string, flags: { json?: boolean }) =>
    runWith(host, { ...flags, index, name }, (await import('./restore/run.js')).run),
  );
}
