import { openFleet } from '../open-fleet.js';
import { inspectAgentsWithFacts } from '../../agents/inspect.js';
import { mergeOrder } from '../../agents/merge-order.js';
import { radarInputs, scanConflicts } from '../../agents/radar.js';
import type { CommandContext } from '../../cli/context.js';
import { agentName } from '../../fleet/layout.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const inspected = await inspectAgentsWithFacts(fleet, context);
  const { agents, reference } = radarInputs(inspected.summaries, inspected.facts);
  const scan = await scanConflicts(fleet, agents, { reference });
  const { order, steps } = await mergeOrder(scan.store, scan.snapshots, scan.pairs, scan.cache);
  scan.cache.save(true);
  const looked = [...scan.snapshots.keys()].sort((a, b) => a - b);
  for (const summary of inspected.summaries)
    if (summary.index >= 2 && !looked.includes(summary.index))
      context.io.log(
        `devkit: ${summary.name} left out: its copy is ${summary.condition === 'ok' ? 'unreadable or has no commit' : summary.condition}`,
      );
  if (flags.json) {
    context.io.json({ agents: looked, pairs: scan.pairs, order, steps });
    return 0;
  }
  if (scan.pairs.length === 0) context.io.out(`no conflicts between the ${looked.length} agents' work`);
  for (const {
    agents: [a, b],
    files,
  } of scan.pairs)
    context.io.out(`${agentName(a)} <> ${agentName(b)}: ${files.join(', ')}`);
  if (order.length > 0) context.io.out(`merge order: ${order.map(agentName).join(', ')}`);
  for (const step of steps)
    if (step.files.length > 0)
      context.io.out(`  ${agentName(step.agent)} conflicts with the agents merged before it on ${step.files.join(', ')}`);
  return 0;
}
