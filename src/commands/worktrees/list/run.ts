import { openDevRoot, type CommandContext } from '../../../agents/devroot.js';
import { inspectAgents, type AgentStatus } from '../../../agents/inspect.js';
import { formatTable } from '../../../table.js';
import { processContext, type CommandHost } from '../../context.js';

export async function runWorktreesList(context: CommandContext): Promise<AgentStatus[]> {
  return inspectAgents(await openDevRoot(context));
}

function describeRow(agent: AgentStatus): string[] {
  const dirty = agent.dirty === null ? '-' : agent.dirty.modified + agent.dirty.untracked === 0 ? 'clean' : `${agent.dirty.modified}M ${agent.dirty.untracked}?`;
  const ahead = agent.ahead === null ? '-' : `+${agent.ahead}/-${agent.behind ?? 0} ${agent.base}`;
  const state = !agent.exists ? 'MISSING' : !agent.registered ? 'NOT REGISTERED' : agent.index === 1 ? 'primary' : agent.locked ? 'locked' : 'UNLOCKED';
  return [agent.name, agent.branch ?? '(detached)', agent.head?.slice(0, 10) ?? '-', state, dirty, ahead, agent.path];
}

export async function main(flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const agents = await runWorktreesList(context);
  if (flags.json) context.io.json({ agents });
  const header = ['AGENT', 'BRANCH', 'HEAD', 'STATE', 'CHANGES', 'AHEAD/BEHIND', 'PATH'];
  for (const line of formatTable(header, agents.map(describeRow))) context.io.out(line);
  host.setExitCode(0);
}
