import type { CommandContext } from '../../cli/context.js';
import { execCd, type ExecCdOptions } from '../../exec/exec-cd.js';

/** exec-cd through the full command line (help, odd argument orders); the usual shape starts from exec-cd-main.ts. */
export async function run(options: ExecCdOptions, context: CommandContext): Promise<number> {
  return execCd(options, context.env, context.cwd);
}
