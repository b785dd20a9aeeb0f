import type { Command } from 'commander';
import { runWith, withJsonOption, type CommandHost } from './context.js';

/** up, down and ps: the profile's compose stack. They read -p from the program. */
export function registerStack(program: Command, host: CommandHost): void {
  withJsonOption(
    program
      .command('up')
      .description(
        "start the profile's stack: builds missing images, writes a missing overlay, checks it is a sandbox, waits until it runs",
      )
      .option('--recreate', 'recreate containers with live exec sessions too (up leaves them running otherwise)'),
  ).action(async (flags: { json?: boolean; recreate?: boolean }) =>
    runWith(host, { ...flags, profile: host.profile() }, (await import('./up/run.js')).run),
  );
  withJsonOption(
    program
      .command('down')
      .description("stop and remove the profile's containers; volumes are kept unless --volumes")
      .option('--volumes', "also remove the project's own volumes (never the shared caches)"),
  ).action(async (flags: { json?: boolean; volumes?: boolean }) =>
    runWith(host, { ...flags, profile: host.profile() }, (await import('./down/run.js')).run),
  );
  withJsonOption(program.command('ps').description("each agent's containers and their state (all profiles without -p)")).action(
    async (flags: { json?: boolean }) => runWith(host, { ...flags, profile: host.profile() }, (await import('./ps/run.js')).run),
  );
}
