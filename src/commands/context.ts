import type { Command } from 'commander';
import { processContext, type CommandContext } from '../cli/context.js';

/** What program.ts hands every command's register function. */
export interface CommandHost {
  setExitCode(code: number): void;
  /** The context of a command run in this process, with its --json and the program's --quiet and --verbose. */
  context(flags: { json?: boolean }): CommandContext;
  /** The program's -p, for commands that take a profile. */
  profile(): string | undefined;
}

/** The one --json option every command that has a result shares. */
export function withJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as JSON on stdout (logs stay on stderr)');
}

/** The host of commands run by this process's command line. */
export function processHost(program: Command, exit: { code: number }): CommandHost {
  return {
    setExitCode: (code) => (exit.code = code),
    context: (flags) => {
      const { quiet, verbose } = program.opts<{ quiet?: boolean; verbose?: boolean }>();
      return processContext({ json: flags.json, quiet, verbose });
    },
    profile: () => program.opts<{ profile?: string }>().profile,
  };
}

/** Runs a command's `run` with its context and records the exit code it returns. */
export async function runWith<T extends object>(
  host: CommandHost,
  flags: T,
  run: (flags: T, context: CommandContext) => Promise<number>,
): Promise<void> {
  const json = 'json' in flags && flags.json === true;
  host.setExitCode(await run(flags, host.context({ json })));
}
