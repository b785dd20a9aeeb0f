import { openFleet } from '../open-fleet.js';
import { copyCondition, readAndSync, syncedSnapshots } from '../../agents/inspect.js';
import { mergeOrder } from '../../agents/merge-order.js';
import { RadarLook } from '../../agents/radar.js';
import type { CommandContext } from '../../cli/context.js';
import { agentName } from '../../fleet/layout.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  // No git status first: each copy's snapshot starts as soon as it is read, and a copy whose files are its HEAD's is clean.
  const look = new RadarLook(fleet);
  const copies = await readAndSync(fleet, context, (facts, recorded) => {
    if (facts.index >= 2 && facts.state === 'ok' && recorded) look.take(facts, null);
  });
  // A remote agent's files are on its engine: its sync (just done) brought a snapshot of them home.
  for (const [index, snapshot] of syncedSnapshots(copies.synced)) look.takeSynced({ index, snapshot });
  const scan = await look.scan({ reference: copies.primaryHead });
  const { order, steps } = await mergeOrder(scan);
  scan.cache.save(true);
  const looked = [...scan.snapshots.keys()].sort((a, b) => a - b);
  for (const facts of copies.facts.values()) {
    const condition = copyCondition(facts, copies.recorded.has(facts.index));
    if (facts.index >= 2 && !looked.includes(facts.index))
      context.io.log(
        `devkit: ${agentName(facts.index)} left out: its copy is ${condition === 'ok' ? 'unreadable or has no commit' : condition}`,
      );
  }
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
