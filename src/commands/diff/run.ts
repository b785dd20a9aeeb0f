import { openFleet } from '../open-fleet.js';
import { agentDiff, remoteAgentDiff } from '../../agents/agent-diff.js';
import { readCopy } from '../../agents/copy.js';
import { checkedIndexOf } from '../../agents/copy-git.js';
import { syncAgents } from '../../agents/sync.js';
import type { CommandContext } from '../../cli/context.js';
import { DevkitError, UsageError } from '../../errors.js';
import { readAgentRecords, requireAgent } from '../../fleet/records.js';
import { parseIndex } from '../../validate.js';

export async function run(flags: { index: string; stat?: boolean; nameOnly?: boolean }, context: CommandContext): Promise<number> {
  if (flags.stat && flags.nameOnly) throw new UsageError('--stat and --name-only are two formats: give one');
  const fleet = await openFleet(context);
  const index = parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  if (index === 1) throw new UsageError('agent 1 is the primary clone, whose work is the base: diff agents 2 and up');
  requireAgent(fleet.state, index);
  // Its branch as the shared repo will have it: the merge base is taken against what a merge would see.
  const [synced] = await syncAgents(fleet, context, [index]);
  const format = flags.stat ? 'stat' : flags.nameOnly ? 'name-only' : 'patch';
  let out: string;
  if (readAgentRecords(fleet.state).get(index)?.engine !== undefined) {
    // On a remote engine: what the sync just brought home, or nothing when it could not.
    if (synced?.error) throw new DevkitError(synced.error);
    out = await remoteAgentDiff(fleet, index, format);
  } else {
    const facts = readCopy(fleet.config, fleet.shared.gitDir, index, { checkedIndex: checkedIndexOf(fleet, index) });
    out = await agentDiff(fleet, facts, format);
  }
  for (const line of out.replace(/\n$/, '').split('\n')) if (out !== '') context.io.out(line);
  return 0;
}
