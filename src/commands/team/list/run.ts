import { openFleet } from '../../open-fleet.js';
import type { CommandContext } from '../../../cli/context.js';
import { formatTable } from '../../../cli/table.js';
import { listTeams } from '../../../teams/store.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const teams = listTeams(await openFleet(context));
  if (flags.json) context.io.json({ teams });
  const rows = teams.map((t) => [t.name, t.session, t.members.map((m) => `${m.agent}${m.state === 'planned' ? '?' : ''}`).join(' ')]);
  for (const line of formatTable(['TEAM', 'SESSION', 'MEMBERS'], rows)) context.io.out(line);
  return 0;
}
