import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerTeam(program: Command, host: CommandHost): void {
  const team = program.command('team').description('teams of agents for an orchestrator: each member its own copy and container');
  withJsonOption(
    team
      .command('create')
      .description('spawn N members, each with its own copy and container, recorded with the session that made it')
      .argument('<NAME>', 'the team')
      .requiredOption('--agents <N>', 'how many members')
      .option('--session <ID>', 'the session that owns the team (default: DEVKIT_SESSION, else a new id)')
      .option('--base <ref>', "where the members' branches start"),
  ).action(async (name: string, flags: { agents: string; session?: string; base?: string; json?: boolean }) =>
    runWith(host, { ...flags, name }, (await import('./create/run.js')).run),
  );
  withJsonOption(
    team
      .command('destroy')
      .description(
        "remove every member's containers, copy, merged or empty branches and HOME; a member holding work is refused (kept) " +
          'unless --force, which backs it up first',
      )
      .argument('<NAME>', 'the team')
      .option('--force', "save members' work to devkit's backups and remove them")
      .option('--keep-homes', "keep members' HOMEs (keys, logins); their agent indexes stay taken"),
  ).action(async (name: string, flags: { force?: boolean; keepHomes?: boolean; json?: boolean }) =>
    runWith(host, { ...flags, name }, (await import('./destroy/run.js')).run),
  );
  withJsonOption(team.command('list').description('teams, their session and members')).action(async (flags: { json?: boolean }) =>
    runWith(host, flags, (await import('./list/run.js')).run),
  );
}
