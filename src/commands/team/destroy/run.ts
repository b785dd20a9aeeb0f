import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { reportOutcomes } from '../../../teams/report.js';
import { destroyTeam } from '../../../teams/teams.js';

export async function run(flags: { name: string; force?: boolean; json?: boolean }, context: CommandContext): Promise<number> {
  const members = await destroyTeam(await openFleet(context), flags.name, flags.force === true, context);
  if (flags.json) context.io.json({ team: flags.name, members });
  reportOutcomes(context.io, [{ team: flags.name, members }]);
  return 0;
}
