import { openFleet } from '../open-fleet.js';
import { agentDiff } from '../../agents/agent-diff.js';
import { readCopy } from '../../agents/copy.js';
import { checkedIndexOf } from '../../agents/copy-git.js';
import { syncAgents } from '../../agents/sync.js';
import type { CommandContext } from '../../cli/context.js';
import { UsageError } from '../../errors.js';
import { requireAgent } from '../../fleet/records.js';
import { parseIndex } from '../../validate.js';

export async function run(flags: { index: string; stat?: boolean; nameOnly?: boolean }, context: CommandContext): Promise<number> {
  if (flags.stat && flags.nameOnly) throw new UsageError('--stat and --name-only are two formats: give one');
  const fleet = await openFleet(context);
  const index = parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  if (index === 1) throw new UsageError('agent 1 is the primary clone, whose work is the base: diff agents 2 and up');
  requireAgent(fleet.state, index);
  // Its branch as the shared repo will have it: the merge base is taken against what a merge would see.
  await syncAgents(fleet, context, [index]);
  const facts = readCopy(fleet.config, fleet.shared.gitDir, index, { checkedIndex: checkedIndexOf(fleet, index) });
  const out = await agentDiff(fleet, facts, flags.stat ? 'stat' : flags.nameOnly ? 'name-only' : 'patch');
  for (const line of out.replace(/\n$/, '').split('\n')) if (out !== '') context.io.out(line);
  return 0;
}
