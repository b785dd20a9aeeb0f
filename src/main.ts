import { fastExecCdArgs } from './commands/exec-cd/argv.js';
import { DevkitError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, oneLine } from './errors.js';

const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** Runs the CLI and returns its exit code; never throws. */
/** bin/devkit kept NODE_EXTRA_CA_CERTS from Node's start-up; the programs devkit runs get it back. */
function restoreCaCertsVariable(): void {
  const saved = process.env.DEVKIT_NODE_EXTRA_CA_CERTS;
  if (saved === undefined) return;
  process.env.NODE_EXTRA_CA_CERTS = saved;
  delete process.env.DEVKIT_NODE_EXTRA_CA_CERTS;
}

export async function main(argv: string[]): Promise<number> {
  restoreCaCertsVariable();
  try {
    // exec-cd is measured against `docker exec`: it skips loading the whole command line.
    const execCdArgs = fastExecCdArgs(argv);
    if (execCdArgs !== null) return await (await import('./commands/exec-cd/run.js')).execCd(execCdArgs);
    const { buildProgram } = await import('./program.js');
    const exit = { code: EXIT_OK };
    await buildProgram({ setExitCode: (code) => (exit.code = code) }).parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    const { CommanderError } = await import('commander');
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
