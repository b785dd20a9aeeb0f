import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from '../context.js';

export function registerSession(program: Command, host: CommandHost): void {
  const session = program.command('session').description("an orchestrator's sessions");
  withJsonOption(
    session
      .command('cleanup')
      .description('destroy every team the session made, so no copy or container outlives it')
      .argument('<SESSION_ID>', 'the session')
      .option('--force', "save members' work to devkit's backups and remove them")
      .option('--keep-homes', "keep members' HOMEs (keys, logins); their agent indexes stay taken"),
  ).action(async (id: string, flags: { force?: boolean; keepHomes?: boolean; json?: boolean }) =>
    runWith(host, { ...flags, id }, (await import('./cleanup/run.js')).run),
  );
}
