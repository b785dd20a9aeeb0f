import { fastExecCdArgs } from './commands/exec-cd/argv.js';
import { reportFailure, restoreCaCertsVariable } from './cli/report.js';

/**
 * exec-cd's own way in, bundled on its own as CommonJS (dist/exec-cd.cjs):
 * exec-cd is measured against `docker exec`, and Node 20's ESM loader and the
 * full command line cost it about 10 ms a run. Returns null for any argv that
 * is not plain `[-p NAME] exec-cd K PATH [CMD...]`; main.ts takes those. Every
 * command passes through here, so exec-cd itself (node:net and the rest) is
 * loaded only when it runs.
 */
export function execCdMain(argv: readonly string[]): Promise<number> | null {
  const args = fastExecCdArgs(argv);
  if (args === null) return null;
  restoreCaCertsVariable();
  return import('./exec/exec-cd.js')
    .then(({ execCd }) => execCd(args, process.env, process.cwd()))
    .catch((error: unknown) => reportFailure(error, { json: false, env: process.env }));
}
