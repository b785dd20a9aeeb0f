import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { reportOutcomes } from '../../../teams/report.js';
import { destroyRequest, destroyTeam } from '../../../teams/teams.js';

export async function run(
  flags: { name: string; force?: boolean; keepHomes?: boolean; json?: boolean },
  context: CommandContext,
): Promise<number> {
  const members = await destroyTeam(await openFleet(context), flags.name, destroyRequest(flags), context);
  if (flags.json) context.io.json({ team: flags.name, members });
  reportOutcomes(context.io, [{ team: flags.name, members }]);
  return 0;
}
