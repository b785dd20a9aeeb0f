import type { Command } from 'commander';
import { openDevRoot, withDevRootLock, type CommandContext } from '../../agents/devroot.js';
import { UsageError } from '../../errors.js';
import { writeAgentOverlay, type OverlayAction } from '../../stack/overlay.js';
import { resolveProfile } from '../../stack/profile.js';
import { ensureStackFiles, writeComposeEnv } from '../../stack/workspace-files.js';
import { processContext, withJsonOption, type CommandHost } from '../context.js';

export async function runOverlayCreate(name: string, context: CommandContext): Promise<{ file: string; action: OverlayAction }> {
  const devRoot = await openDevRoot(context);
  const profile = await resolveProfile(devRoot, name);
  if (profile.agentIndex === null) throw new UsageError(`${name} is not an agent profile: overlay create makes agentK overlays (dev-all is checked in)`);
  const index = profile.agentIndex;
  return withDevRootLock(devRoot, context, `overlay create ${name}`, async () => {
    ensureStackFiles(devRoot.workspace.dir);
    writeComposeEnv(devRoot);
    return writeAgentOverlay(devRoot, index);
  });
}

export function registerOverlay(program: Command, host: CommandHost): void {
  const overlay = program.command('overlay').description("compose overlays: one per profile, layered on compose.yml");
  withJsonOption(
    overlay
      .command('create')
      .description('write overlays/agentK/compose.override.yml for agent K, checked with docker compose config first')
      .argument('<agentK>', 'the agent profile, e.g. agent3'),
  ).action(async (name: string, flags: { json?: boolean }) => {
    const context = processContext(flags);
    const result = await runOverlayCreate(name, context);
    if (flags.json) context.io.json(result);
    context.io.out(`${result.file}\t${result.action}`);
    host.setExitCode(0);
  });
}
