import { openDevRoot, withDevRootLock, type CommandContext } from '../../../agents/devroot.js';
import { UsageError } from '../../../errors.js';
import { engine } from '../../../docker/images.js';
import type { OverlayAction } from '../../../stack/overlay.js';
import { writeStackFiles } from '../../../stack/prepare.js';
import { resolveProfile } from '../../../stack/profile.js';
import { processContext, type CommandHost } from '../../context.js';

export async function runOverlayCreate(name: string, context: CommandContext): Promise<{ file: string; action: OverlayAction }> {
  const devRoot = await openDevRoot(context);
  const profile = await resolveProfile(devRoot, name);
  if (profile.agentIndex === null) throw new UsageError(`${name} is not an agent profile: overlay create makes agentK overlays (dev-all is checked in)`);
  return withDevRootLock(devRoot, context, `overlay create ${name}`, async () => {
    const { overlay } = await writeStackFiles(devRoot, profile, await engine());
    if (overlay === null) throw new UsageError(`${name} is not an agent profile`);
    return overlay;
  });
}

export async function main(name: string, flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const result = await runOverlayCreate(name, context);
  if (flags.json) context.io.json(result);
  context.io.out(`${result.file}\t${result.action}`);
  host.setExitCode(0);
}
