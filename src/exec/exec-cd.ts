import { engineClient } from '../docker/engine-api.js';
import { processExecMode, runExec } from './stream.js';
import { prepareExec, type ExecCdArgs } from './target.js';

export interface ExecCdOptions extends ExecCdArgs {
  cmd: string[];
}

/**
 * exec-cd: CMD (default bash) in the profile's container, in PATH, as agent K.
 * This module is the hot path measured against `docker exec`: keep its
 * imports light. Returns CMD's exit code.
 */
export async function execCd(options: ExecCdOptions, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const api = engineClient(env);
  const cmd = options.cmd.length > 0 ? options.cmd : ['bash'];
  const mode = processExecMode();
  const execId = await prepareExec(api, { ...options, cmd, ...mode }, { cwd, env });
  return runExec(api, execId, process, mode);
}
