import type { Command } from 'commander';
import { runWith, type CommandHost } from '../context.js';

export function registerDiff(program: Command, host: CommandHost): void {
  program
    .command('diff')
    .description('what agent K would bring: its commits and uncommitted work against its base, as git diff prints it')
    .argument('<K>', 'the agent (2 and up)')
    .option('--stat', 'a diffstat instead of the patch')
    .option('--name-only', 'the changed files only')
    .action(async (index: string, flags: { stat?: boolean; nameOnly?: boolean }) =>
      runWith(host, { ...flags, index }, (await import('./run.js')).run),
    );
}
