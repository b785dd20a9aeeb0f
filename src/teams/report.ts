import type { Io } from '../cli/io.js';
import { DevkitError } from '../errors.js';
import type { MemberOutcome } from './teams.js';

/** Prints each member's outcome; a member left behind makes the command fail, after the others went on. */
export function reportOutcomes(io: Io, results: Array<{ team: string; members: MemberOutcome[] }>): void {
  for (const { team, members } of results) {
    for (const member of members) {
      const saved = member.backupRef === null ? '' : `, work saved to ${member.backupRef}`;
      io.out(`${team}/${member.agent}\t${member.removed ? `removed${saved}` : `LEFT: ${member.problem}`}`);
      if (member.restore !== null) io.out(`  restore with: ${member.restore}`);
      if (!member.removed) continue;
      for (const kept of member.branches.kept) io.out(`  branch ${kept.branch} kept: ${kept.reason}`);
      if (member.branches.deleted.length > 0) io.out(`  branches deleted (merged or empty): ${member.branches.deleted.join(', ')}`);
      if (member.home.state === 'kept') io.out('  HOME kept (--keep-homes)');
      if (member.home.state === 'saved')
        io.out(`  HOME saved to ${member.home.backupRef ?? '?'}, restore with: ${member.home.restore ?? '?'}`);
    }
  }
  const left = results.flatMap((r) => r.members.filter((m) => !m.removed).map((m) => `${r.team}/${m.agent}`));
  if (left.length > 0)
    throw new DevkitError(
      `${left.join(', ')} left in place (see above); the team record keeps them: ` +
        'run again with --force to back up their work and remove them',
    );
}
