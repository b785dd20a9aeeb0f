import type { ExecCdOptions } from '../../exec/exec-cd.js';

/**
 * Recognises exactly `[-p NAME | --profile NAME | --profile=NAME] exec-cd K PATH [CMD...]`,
 * so that exec-cd, the hot path, can skip loading the full command line.
 * Anything else (help, a misplaced option) returns null and goes to commander,
 * which parses the same shape and calls the same execCd.
 */
export function fastExecCdArgs(argv: readonly string[]): ExecCdOptions | null {
  let profile: string | undefined;
  let i = 0;
  if (argv[0] === '-p' || argv[0] === '--profile') {
    profile = argv[1];
    i = 2;
  } else if (argv[0]?.startsWith('--profile=')) {
    profile = argv[0].slice('--profile='.length);
    i = 1;
  }
  const [command, index, path, ...cmd] = argv.slice(i);
  if (command !== 'exec-cd' || index === undefined || path === undefined || index.startsWith('-') || path.startsWith('-')) return null;
  return { profile, index, path, cmd };
}
