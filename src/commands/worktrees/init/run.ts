import { openFleet } from '../../open-fleet.js';
import { includedLines } from '../../../agents/include-copy.js';
import { provisionAgents, resolveBase } from '../../../agents/provision.js';
import type { CommandContext } from '../../../cli/context.js';
import { withFleetLock } from '../../../fleet/fleet.js';
import { parseIndex } from '../../../validate.js';

export interface WorktreesInitOptions {
  count: string;
  base?: string;
  json?: boolean;
}

const ACTION_TEXT = {
  created: 'created',
  present: 'already there',
  'devhome-created': 'HOME created',
} as const;

export async function run(options: WorktreesInitOptions, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const count = parseIndex(options.count, { what: 'N (the number of agents)', max: fleet.config.maxAgents });
  const base = await resolveBase(fleet, options.base);
  const result = await withFleetLock(fleet, context, `worktrees init ${count}`, () => provisionAgents(fleet, count, base));
  if (options.json) context.io.json(result);
  for (const agent of result.agents) {
    const included = includedLines(agent.name, agent.included);
    const copied = included === null ? '' : `, ${included.count}`;
    context.io.out(`${agent.name}\t${agent.branch ?? '(primary clone)'}\t${agent.worktree}\t${ACTION_TEXT[agent.action]}${copied}`);
    for (const line of included?.skipped ?? []) context.io.log(line);
  }
  if (!result.changed) context.io.log(`nothing changed: agents 1..${result.agents.length} already exist`);
  return 0;
}
