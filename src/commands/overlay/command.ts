import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerOverlay(program: Command, host: CommandHost): void {
  const overlay = program.command('overlay').description('compose overlays: one per profile, layered on compose.yml');
  withJsonOption(
    overlay
      .command('create')
      .description(
        'write overlays/agentK/compose.override.yml for agent K, checked with docker compose config first ' +
          "(dev-all: write devkit's dev-all overlay again)",
      )
      .argument('<profile>', 'the profile, e.g. agent3 or dev-all'),
  ).action(async (name: string, flags: { json?: boolean }) => runWith(host, { ...flags, name }, (await import('./create/run.js')).run));
}
