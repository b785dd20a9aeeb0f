import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerStatus(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('status')
      .description(
        'one row per agent: branch, ahead/behind, changes, container and uptime, disk of its copy, HOME and volumes, refused egress',
      )
      .option('--watch', 'refresh every 2 seconds until Ctrl-C')
      .option('--checkpoint-every <DURATION>', 'with --watch: every DURATION (30s, 5m, 1h), checkpoint agents whose state changed'),
  ).action(async (flags: { json?: boolean; watch?: boolean; checkpointEvery?: string }) =>
    runWith(host, flags, (await import('./run.js')).run),
  );
}
