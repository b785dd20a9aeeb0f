import { openFleet } from '../open-fleet.js';
import { agentTarget } from '../../agents/base.js';
import { agentLog } from '../../agents/log.js';
import { syncAgents } from '../../agents/sync.js';
import type { CommandContext } from '../../cli/context.js';
import { parseIndex } from '../../validate.js';

export interface LogOptions {
  index: string;
  maxCount?: string;
  json?: boolean;
}

export async function run(options: LogOptions, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const index = parseIndex(options.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  const limit = options.maxCount === undefined ? null : parseIndex(options.maxCount, { what: '-n', max: Number.MAX_SAFE_INTEGER });
  const agent = await agentTarget(fleet, index);
  const [synced] = await syncAgents(fleet, context, [index]);
  for (const problem of [...(synced?.problems ?? []), ...(synced?.error == null ? [] : [synced.error])])
    context.io.log(`devkit: agent${index}: ${problem} (showing what the shared repo has)`);
  const log = await agentLog(fleet, agent, limit);
  if (options.json) context.io.json({ index, branch: agent.branch, ...log });
  if (log.commits.length === 0) context.io.out(`${agent.branch} has no commits that ${log.base} does not have`);
  for (const commit of log.commits) context.io.out(`${commit.id.slice(0, 7)} ${commit.subject} (${commit.author}, ${commit.date})`);
  return 0;
}
