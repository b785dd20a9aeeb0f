import type { Command } from 'commander';
import { openDevRoot, withDevRootLock, type CommandContext } from '../../agents/devroot.js';
import { removeAgent, type RemoveResult } from '../../agents/remove.js';
import { parseIndex } from '../../validate.js';
import { processContext, withJsonOption, type CommandHost } from '../context.js';

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

export function registerWorktreesRemove(worktrees: Command, host: CommandHost): void {
  withJsonOption(
    worktrees
      .command('remove')
      .description("remove agent K's worktree; refuses when it holds work found nowhere else, unless --force, which saves that work to a ref first")
      .argument('<K>', 'agent index (2 or more)')
      .option('--force', 'save uncommitted, untracked and unmerged work under refs/devkit/backup/agentK/<time>, then remove')
      .option('--delete-branch', "also delete the agent's branch, only when every commit on it is on another branch"),
  ).action(async (index: string, flags: Omit<WorktreesRemoveOptions, 'index'>) => {
    const context = processContext(flags);
    const result = await runWorktreesRemove({ ...flags, index }, context);
    if (flags.json) context.io.json(result);
    if (result.backup !== null) {
      context.io.out(`saved ${result.name}'s work to ${result.backup.ref}`);
      context.io.log(`restore with: ${result.backup.restore}`);
    }
    context.io.out(`removed ${result.worktree}`);
    context.io.log(result.branchDeleted ? `deleted branch ${result.branch} (it was merged)` : `kept branch ${result.branch}`);
    if (result.devhomeKept !== null) context.io.log(`kept HOME ${result.devhomeKept} (keys, agent logins); it is reused if agent ${result.index} is made again`);
    host.setExitCode(0);
  });
}
