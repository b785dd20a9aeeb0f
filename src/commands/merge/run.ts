import { openFleet } from '../open-fleet.js';
import { agentTarget } from '../../agents/base.js';
import { mergeAgent, removeMerged, type MergeResult, type Removal } from '../../agents/merge.js';
import type { CommandContext } from '../../cli/context.js';
import { UsageError } from '../../errors.js';
import { withFleetLock } from '../../fleet/fleet.js';
import type { MergeMode } from '../../git/merge.js';
import { removeProfileFiles } from '../../stack/workspace-files.js';
import { parseIndex } from '../../validate.js';

export interface MergeOptions {
  index: string;
  into?: string;
  squash?: boolean;
  rebase?: boolean;
  remove?: boolean;
  json?: boolean;
}

function modeOf(options: MergeOptions): MergeMode {
  if (options.squash === true && options.rebase === true) throw new UsageError('--squash and --rebase cannot go together: choose one');
  return options.squash === true ? 'squash' : options.rebase === true ? 'rebase' : 'merge';
}

function mergedLine(result: MergeResult): string {
  const count = `${result.commits} ${result.commits === 1 ? 'commit' : 'commits'}`;
  const at = result.to.slice(0, 7);
  if (result.how === 'up to date') return `${result.branch} is already in ${result.into} (nothing to merge)`;
  const how =
    result.how === 'rebased'
      ? `rebased, ${result.into} now at ${at}`
      : result.how === 'fast-forward'
        ? `fast-forward to ${at}`
        : `${result.how} ${at}`;
  return `merged ${result.branch} into ${result.into} (${how}, ${count})`;
}

function removalJson(removal: Removal | null): unknown {
  if (removal === null || !removal.removed) return removal;
  const { worktree, branch, branchDeleted, devhomeKept } = removal.result;
  return { removed: true, proof: removal.proof, worktree, branch, branchDeleted, devhomeKept };
}

export async function run(options: MergeOptions, context: CommandContext): Promise<number> {
  const mode = modeOf(options);
  const fleet = await openFleet(context);
  const index = parseIndex(options.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  const agent = await agentTarget(fleet, index, options.into);
  const { result, removal } = await withFleetLock(fleet, context, `merge ${index}`, async () => {
    const merged = await mergeAgent(fleet, agent, mode);
    const removed = options.remove === true ? await removeMerged(fleet, merged) : null;
    // Its containers are down: removeAgent refuses otherwise.
    if (removed?.removed === true) removeProfileFiles(fleet.workspace.dir, removed.result.name);
    return { result: merged, removal: removed };
  });
  if (options.json) context.io.json({ ...result, removal: removalJson(removal) });
  context.io.out(mergedLine(result));
  if (removal?.removed === true) {
    const { name, worktree, branch, devhomeKept } = removal.result;
    context.io.out(`removed ${name} (${worktree}) and its branch ${branch}: its work is in ${result.into}`);
    if (devhomeKept !== null) context.io.log(`kept HOME ${devhomeKept} (keys, agent logins); it is reused if agent ${index} is made again`);
  } else if (removal !== null) {
    context.io.out(`kept ${result.name} and its branch ${result.branch}: ${removal.reason}`);
  }
  return 0;
}
