import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { connectEngine } from '../../../docker/engine-api.js';
import { withFleetLock } from '../../../fleet/fleet.js';
import type { OverlayAction } from '../../../stack/overlay.js';
import { writeStackFiles } from '../../../stack/prepare.js';
import { resolveProfile } from '../../../stack/profile.js';
import { overlayFile, rewriteDevAllOverlay } from '../../../stack/workspace-files.js';

export async function run(flags: { name: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const profile = resolveProfile(fleet, flags.name);
  const result = await withFleetLock(
    fleet,
    context,
    `overlay create ${profile.name}`,
    async (): Promise<{ file: string; action: OverlayAction }> => {
      if (profile.agentIndex === null) {
        const changed = rewriteDevAllOverlay(fleet.workspace.dir);
        return { file: overlayFile(fleet.workspace.dir, profile.name), action: changed ? 'updated' : 'unchanged' };
      }
      const { overlay } = await writeStackFiles(fleet, profile, await connectEngine(fleet.env), context.io);
      return overlay ?? { file: overlayFile(fleet.workspace.dir, profile.name), action: 'unchanged' };
    },
  );
  if (flags.json) context.io.json(result);
  context.io.out(`${result.file}\t${result.action}`);
  return 0;
}
