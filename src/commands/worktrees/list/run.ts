import { openFleet } from '../../open-fleet.js';
import { inspectAgents, type CopySummary } from '../../../agents/inspect.js';
import type { CommandContext } from '../../../cli/context.js';
import { formatTable } from '../../../cli/table.js';

function describeRow(agent: CopySummary): string[] {
  const dirty =
    agent.dirty === null
      ? '-'
      : agent.dirty.modified + agent.dirty.untracked === 0
        ? 'clean'
        : `${agent.dirty.modified}M ${agent.dirty.untracked}?`;
  const ahead = agent.ahead === null ? '-' : `+${agent.ahead}/-${agent.behind ?? 0} ${agent.base}`;
  const state = agent.index === 1 ? 'primary' : agent.condition === 'ok' ? 'ok' : agent.condition.toUpperCase();
  return [agent.name, agent.branch ?? '(detached)', agent.head?.slice(0, 10) ?? '-', state, dirty, ahead, agent.path];
}

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const agents = await inspectAgents(await openFleet(context), context);
  if (flags.json) context.io.json({ agents });
  const header = ['AGENT', 'BRANCH', 'HEAD', 'STATE', 'CHANGES', 'AHEAD/BEHIND', 'PATH'];
  for (const line of formatTable(header, agents.map(describeRow))) context.io.out(line);
  for (const agent of agents) if (agent.problems.length > 0) context.io.log(`devkit: ${agent.name}: ${agent.problems.join('; ')}`);
  return 0;
}
