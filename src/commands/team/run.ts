import { openDevRoot } from '../../agents/devroot.js';
import { DevkitError } from '../../errors.js';
import { listTeams } from '../../teams/state.js';
import { cleanupSession, createTeam, destroyTeam, sessionId, type MemberOutcome } from '../../teams/teams.js';
import { formatTable } from '../../table.js';
import { parseIndex } from '../../validate.js';
import { processContext, type CommandHost } from '../context.js';
import type { Io } from '../../io.js';

export async function create(name: string, flags: { agents: string; session?: string; base?: string; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const devRoot = await openDevRoot(context);
  const count = parseIndex(flags.agents, { what: '--agents N', max: devRoot.config.maxAgents });
  const team = await createTeam(devRoot, { name, count, session: sessionId(flags.session, context.env), base: flags.base }, context);
  if (flags.json) context.io.json(team);
  context.io.out(`team ${team.name} (session ${team.session}): ${team.members.map((m) => m.agent).join(', ')}`);
  host.setExitCode(0);
}

/** Prints each member's outcome; a member left behind makes the command fail, after the others went on. */
function report(io: Io, results: Array<{ team: string; members: MemberOutcome[] }>): void {
  for (const { team, members } of results) {
    for (const member of members) {
      io.out(`${team}/${member.agent}\t${member.removed ? `removed${member.backupRef === null ? '' : `, work saved to ${member.backupRef}`}` : `LEFT: ${member.problem}`}`);
    }
  }
  const left = results.flatMap((r) => r.members.filter((m) => !m.removed).map((m) => `${r.team}/${m.agent}`));
  if (left.length > 0) throw new DevkitError(`${left.join(', ')} left in place (see above); the team record keeps them: run again with --force to back up their work and remove them`);
}

export async function destroy(name: string, flags: { force?: boolean; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const members = await destroyTeam(await openDevRoot(context), name, flags.force === true, context);
  if (flags.json) context.io.json({ team: name, members });
  report(context.io, [{ team: name, members }]);
  host.setExitCode(0);
}

export async function cleanup(id: string, flags: { force?: boolean; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const results = await cleanupSession(await openDevRoot(context), sessionId(id, {}), flags.force === true, context);
  if (flags.json) context.io.json({ session: id, teams: results });
  if (results.length === 0) context.io.log(`session ${id} has no teams`);
  report(context.io, results);
  host.setExitCode(0);
}

export async function list(flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const teams = listTeams((await openDevRoot(context)).repo.commonDir);
  if (flags.json) context.io.json({ teams });
  const rows = teams.map((t) => [t.name, t.session, t.members.map((m) => `${m.agent}${m.state === 'planned' ? '?' : ''}`).join(' ')]);
  for (const line of formatTable(['TEAM', 'SESSION', 'MEMBERS'], rows)) context.io.out(line);
  host.setExitCode(0);
}
