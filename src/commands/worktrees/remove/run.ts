import { openDevRoot, withDevRootLock, type CommandContext } from '../../../agents/devroot.js';
import { removeAgent, type RemoveResult } from '../../../agents/remove.js';
import { parseIndex } from '../../../validate.js';
import { processContext, type CommandHost } from '../../context.js';

export interface WorktreesRemoveOptions {
  index: string;
  force?: boolean;
  deleteBranch?: boolean;
  json?: boolean;
}

export async function runWorktreesRemove(options: WorktreesRemoveOptions, context: CommandContext): Promise<RemoveResult> {
  const devRoot = await openDevRoot(context);
  const index = parseIndex(options.index, { what: 'K (the agent index)', max: devRoot.config.maxAgents });
  const request = { index, force: options.force === true, deleteBranch: options.deleteBranch === true };
  return withDevRootLock(devRoot, context, `worktrees remove ${index}`, () => removeAgent(devRoot, request));
}

export async function main(options: WorktreesRemoveOptions, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runWorktreesRemove(options, context);
  if (options.json) context.io.json(result);
  if (result.backup !== null) {
    context.io.out(`saved ${result.name}'s work to ${result.backup.ref}`);
    context.io.log(`restore with: ${result.backup.restore}`);
  }
  context.io.out(`removed ${result.worktree}`);
  context.io.log(result.branchDeleted ? `deleted branch ${result.branch} (it was merged)` : `kept branch ${result.branch}`);
  if (result.devhomeKept !== null) context.io.log(`kept HOME ${result.devhomeKept} (keys, agent logins); it is reused if agent ${result.index} is made again`);
  host.setExitCode(0);
}
