import type { CommandContext } from '../cli/context.js';
import { loadFleet, movedFromOldLayout, type Fleet } from '../fleet/fleet.js';

/** The fleet a command works on: devkit.yml's dev root, its shared repo and devkit's state, moved from 0.1.0's layout on first use. */
export async function openFleet(context: CommandContext): Promise<Fleet> {
  const fleet = await loadFleet(context);
  // Loaded only when there may be something to move: it pulls in much of devkit.
  if (!movedFromOldLayout(fleet)) await (await import('../migrate/from-0.1.0.js')).migrateFromOldLayout(fleet, context);
  return fleet;
}
