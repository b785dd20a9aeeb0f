import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { stackSummary } from '../../../stack/containers.js';
import { createTeam, sessionId } from '../../../teams/teams.js';
import { parseIndex } from '../../../validate.js';

export async function run(
  flags: { name: string; agents: string; session?: string; base?: string; json?: boolean },
  context: CommandContext,
): Promise<number> {
  const fleet = await openFleet(context);
  const count = parseIndex(flags.agents, { what: '--agents N', max: fleet.config.maxAgents });
  const team = await createTeam(
    fleet,
    { name: flags.name, count, session: sessionId(flags.session, context.env), base: flags.base },
    context,
    // One line per member as it comes up (compose's own lines only on a terminal or with --verbose).
    (up) => context.io.out(stackSummary(up.profile.name, up.containers)),
  );
  if (flags.json) context.io.json(team);
  context.io.out(`team ${team.name} (session ${team.session}): ${team.members.map((m) => m.agent).join(', ')}`);
  return 0;
}
