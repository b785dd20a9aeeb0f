import type { CommandContext } from '../../cli/context.js';
import { loadWorkspace } from '../../config/config.js';
import { execCd } from '../../exec/exec-cd.js';
import { agentName, copyPathIn } from '../../fleet/layout.js';
import { parseIndex } from '../../validate.js';

export interface AgentRunOptions {
  index: string;
  cmd: string[];
  profile: string | undefined;
}

/**
 * CMD as agent K: exec-cd into agent K's own container at its copy (or, with
 * -p dev-all, the shared container at agent K's folder). Returns CMD's exit code.
 */
export async function run(options: AgentRunOptions, context: CommandContext): Promise<number> {
  const { config } = await loadWorkspace(context.cwd, context.env);
  const index = parseIndex(options.index, { what: 'K (the agent index)', max: config.maxAgents });
  const profile = options.profile ?? agentName(index);
  const where = copyPathIn(config, index, profile);
  // commander keeps the -- that separates devkit's arguments from CMD's.
  const cmd = options.cmd[0] === '--' ? options.cmd.slice(1) : options.cmd;
  return execCd({ profile, index: String(index), path: where, cmd }, context.env, context.cwd);
}
