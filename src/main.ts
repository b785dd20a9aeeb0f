import { CommanderError } from 'commander';
import { DevkitError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine } from './errors.js';
import { buildProgram } from './program.js';

const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** Runs the CLI and returns its exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const exit = { code: EXIT_OK };
  const program = buildProgram({ setExitCode: (code) => (exit.code = code) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its one line (see configureOutput in program.ts).
      return COMMANDER_SUCCESS.has(error.code) ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof DevkitError) {
      process.stderr.write(`devkit: ${oneLine(error.message)}\n`);
      if (process.env.DEVKIT_DEBUG && error.cause instanceof Error) process.stderr.write(`${error.cause.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`devkit: internal error: ${oneLine(message)} (DEVKIT_DEBUG=1 shows where)\n`);
    if (process.env.DEVKIT_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}
