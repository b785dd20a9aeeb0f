import path from 'node:path';
import { findConfigFile } from '../../config/find.js';
import { loadWorkspace } from '../../config/config.js';
import { agentPaths } from '../../agents/layout.js';
import { parseIndex } from '../../validate.js';
import { execCd } from '../exec-cd/run.js';

/**
 * CMD as agent K: exec-cd into agent K's own container at its copy (or, with
 * -p dev-all, the shared container at agent K's folder). Returns CMD's exit code.
 */
export async function runAgentCommand(options: { index: string; cmd: string[]; profile: string | undefined }): Promise<number> {
  const index = parseIndex(options.index, { what: 'K (the agent index)', max: 999 });
  const profile = options.profile ?? `agent${index}`;
  let where = '.';
  if (profile === 'dev-all' && findConfigFile(process.cwd()) !== null) {
    const { config } = loadWorkspace(process.cwd(), process.env);
    where = path.relative(config.root, agentPaths(config, index).worktree) || '.';
  }
  // commander keeps the -- that separates devkit's arguments from CMD's.
  const cmd = options.cmd[0] === '--' ? options.cmd.slice(1) : options.cmd;
  return execCd({ profile, index: String(index), path: where, cmd });
}
