import { openFleet } from '../open-fleet.js';
import { checkpointAgent } from '../../agents/checkpoint.js';
import type { CommandContext } from '../../cli/context.js';
import { withFleetLock } from '../../fleet/fleet.js';
import { requireAgent } from '../../fleet/records.js';
import { parseIndex } from '../../validate.js';
import { DevkitError } from '../../errors.js';

export async function run(flags: { index: string; message?: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const index = requireAgent(fleet.state, parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents }));
  const made = await withFleetLock(fleet, context, `checkpoint ${index}`, () =>
    checkpointAgent(fleet, { index, message: flags.message ?? 'checkpoint' }),
  );
  if (made === null) throw new DevkitError(`the checkpoint of agent ${index} was skipped`); // nothing asked to skip: never
  if (flags.json) context.io.json({ index, ...made, branches: Object.fromEntries(made.branches) });
  context.io.out(made.name);
  context.io.log(`checkpoint of agent${index}: restore it with devkit restore ${index} ${made.name}`);
  return 0;
}
