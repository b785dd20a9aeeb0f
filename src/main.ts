import { EXIT_OK, EXIT_USAGE } from './errors.js';
import { reportFailure, restoreCaCertsVariable } from './report.js';

const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** Runs the CLI and returns its exit code; never throws. (exec-cd's usual shape starts from exec-cd-main.ts instead.) */
export async function main(argv: string[]): Promise<number> {
  restoreCaCertsVariable();
  try {
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
    return reportFailure(error);
  }
}
