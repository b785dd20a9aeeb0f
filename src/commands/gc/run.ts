import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { diagnose } from '../../doctor/doctor.js';
import { engineOrError } from '../../doctor/engine-or-error.js';
import { collectGarbage } from '../../doctor/gc.js';
import { withFleetLock } from '../../fleet/fleet.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const actions = await withFleetLock(fleet, context, 'gc', async () => {
    const { api, error } = await engineOrError(fleet.env);
    return collectGarbage(fleet, await diagnose(fleet, api, error), api);
  });
  if (flags.json) context.io.json({ actions });
  if (actions.length === 0) context.io.log('no garbage');
  for (const action of actions) context.io.out(action.detail);
  return 0;
}
