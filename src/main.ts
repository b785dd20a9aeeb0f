import { EXIT_OK, EXIT_USAGE } from './errors.js';
import { reportFailure, restoreCaCertsVariable } from './cli/report.js';

const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version']);

/** --json before a `--` that ends devkit's own arguments. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs the CLI and returns its exit code; never throws. (exec-cd's usual shape starts from exec-cd-main.ts instead.) */
export async function main(argv: string[]): Promise<number> {
  restoreCaCertsVariable();
  try {
    const { buildProgram } = await import('./program.js');
    const exit = { code: EXIT_OK };
    await buildProgram(exit).parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    const { CommanderError } = await import('commander');
    if (error instanceof CommanderError) {
      // commander has already printed its one line (see configureOutput in program.ts).
      return COMMANDER_SUCCESS.has(error.code) ? EXIT_OK : EXIT_USAGE;
    }
    return reportFailure(error, { json: wantsJson(argv), env: process.env });
  }
}
