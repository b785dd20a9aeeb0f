import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { formatTable } from '../../cli/table.js';
import { agentName } from '../../fleet/layout.js';
import { knownAgents, requireAgent } from '../../fleet/records.js';
import { formatRange, readPortRanges, type PortRange } from '../../stack/ports.js';
import { parseIndex } from '../../validate.js';

interface AgentPorts {
  index: number;
  name: string;
  /** On the host's loopback; the same numbers inside the dev container. */
  host: '127.0.0.1';
  /** null until the agent's first up gives it a range. */
  ports: PortRange | null;
}

export async function run(flags: { index?: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const indexes =
    flags.index === undefined
      ? knownAgents(fleet.state)
      : [requireAgent(fleet.state, parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents }))];
  const ranges = readPortRanges(fleet.env, fleet.config.root);
  const agents: AgentPorts[] = indexes.map((index) => ({
    index,
    name: agentName(index),
    host: '127.0.0.1',
    ports: ranges.get(index) ?? null,
  }));
  if (flags.json) context.io.json({ agents });
  const rows = agents.map((a) => [a.name, a.ports === null ? '- (given on its first up)' : `${a.host}:${formatRange(a.ports)}`]);
  for (const line of formatTable(['AGENT', 'PORTS'], rows)) context.io.out(line);
  return 0;
}
