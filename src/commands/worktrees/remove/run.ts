import { openFleet } from '../../open-fleet.js';
import { refuseWhileWritable, removeAgent } from '../../../agents/remove.js';
import type { CommandContext } from '../../../cli/context.js';
import { DevkitError } from '../../../errors.js';
import { withFleetLock } from '../../../fleet/fleet.js';
import { hookFailure } from '../../../hooks/hook-files.js';
import { runPreRemove } from '../../../hooks/pre-remove.js';
import { removeProfileFiles } from '../../../stack/workspace-files.js';
import { parseIndex } from '../../../validate.js';

export interface WorktreesRemoveOptions {
  index: string;
  force?: boolean;
  deleteBranch?: boolean;
  json?: boolean;
}

export async function run(options: WorktreesRemoveOptions, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const index = parseIndex(options.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  const request = { index, force: options.force === true, deleteBranch: options.deleteBranch === true };
  const result = await withFleetLock(fleet, context, `worktrees remove ${index}`, async () => {
    await refuseWhileWritable(fleet, index);
    const hook = await runPreRemove(fleet, index, context.io);
    const failure = hookFailure(hook === null ? [] : [hook], `removal refused, nothing removed`);
    if (failure !== null) throw new DevkitError(failure);
    const removed = await removeAgent(fleet, request);
    removeProfileFiles(fleet.workspace.dir, removed.name); // its containers are down: removeAgent refuses otherwise
    return removed;
  });
  if (options.json) context.io.json(result);
  if (result.backup !== null) {
    context.io.out(`saved ${result.name}'s work to ${result.backup.ref} in ${result.backup.repo}`);
    context.io.out(`restore with: devkit restore ${result.index} ${result.backup.name}`);
    context.io.out(`or by hand, into a folder of its own: ${result.backup.restore}`);
  }
  context.io.out(`removed ${result.worktree}`);
  context.io.log(result.branchDeleted ? `deleted branch ${result.branch} (it was merged)` : `kept branch ${result.branch}`);
  if (result.devhomeKept !== null)
    context.io.log(`kept HOME ${result.devhomeKept} (keys, agent logins); it is reused if agent ${result.index} is made again`);
  return 0;
}
