import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { reportOutcomes } from '../../../teams/report.js';
import { cleanupSession, destroyRequest, sessionId } from '../../../teams/teams.js';

export async function run(
  flags: { id: string; force?: boolean; keepHomes?: boolean; json?: boolean },
  context: CommandContext,
): Promise<number> {
  const results = await cleanupSession(await openFleet(context), sessionId(flags.id, {}), destroyRequest(flags), context);
  if (flags.json) context.io.json({ session: flags.id, teams: results });
  if (results.length === 0) context.io.log(`session ${flags.id} has no teams`);
  reportOutcomes(context.io, results);
  return 0;
}
