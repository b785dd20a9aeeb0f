import type { Command } from 'commander';
import { withJsonOption, type CommandHost } from './context.js';

/** up, down and ps: the profile's compose stack. They read -p from the program. */
export function registerStack(program: Command, host: CommandHost): void {
  const profile = (): string | undefined => program.opts<{ profile?: string }>().profile;
  withJsonOption(program.command('up').description("start the profile's stack: builds missing images, writes a missing overlay, waits until it runs")).action(
    async (flags: { json?: boolean }) => (await import('./up/run.js')).main({ ...flags, profile: profile() }, host),
  );
  withJsonOption(
    program
      .command('down')
      .description("stop and remove the profile's containers; volumes are kept unless --volumes")
      .option('--volumes', "also remove the project's own volumes (never the shared caches)"),
  ).action(async (flags: { json?: boolean; volumes?: boolean }) => (await import('./down/run.js')).main({ ...flags, profile: profile() }, host));
  withJsonOption(program.command('ps').description("each agent's containers and their state (all profiles without -p)")).action(
    async (flags: { json?: boolean }) => (await import('./ps/run.js')).main({ ...flags, profile: profile() }, host),
  );
}
