import { DevkitError } from '../errors.js';
import { CommandNotInImage, processExecMode, runExec } from '../docker/exec-stream.js';
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
  const cmd = options.cmd.length > 0 ? options.cmd : ['bash'];
  const mode = processExecMode();
  const { api, execId } = await prepareExec({ ...options, cmd, ...mode }, { cwd, env });
  try {
    return await runExec(api, execId, process, mode);
  } catch (error) {
    if (!(error instanceof CommandNotInImage)) throw error;
    const profile = options.profile ?? `agent${options.index}`;
    const whose = profile === 'dev-all' ? 'the dev-all image' : `agent ${options.index}'s image`;
    throw new DevkitError(
      `${error.command} is not in ${whose}: add it under image.npm (npm CLIs) or image.packages (Debian packages) in devkit.yml, ` +
        `then devkit -p ${profile} up`,
      { exitCode: error.exitCode },
    );
  }
}
