import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from '../context.js';

export function registerOverlay(program: Command, host: CommandHost): void {
  const overlay = program.command('overlay').description('compose overlays: one per profile, layered on compose.yml');
  withJsonOption(
    overlay
      .command('create')
      .description('write overlays/agentK/compose.override.yml for agent K, checked with docker compose config first')
      .argument('<agentK>', 'the agent profile, e.g. agent3'),
  ).action(async (name: string, flags: { json?: boolean }) => (await import('./create/run.js')).main(name, flags, host));
}
