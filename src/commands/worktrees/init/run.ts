import { openDevRoot, withDevRootLock, type CommandContext } from '../../../agents/devroot.js';
import { provisionAgents, resolveBase, type ProvisionResult } from '../../../agents/provision.js';
import { parseIndex } from '../../../validate.js';
import { processContext, type CommandHost } from '../../context.js';

export interface WorktreesInitOptions {
  count: string;
  base?: string;
  json?: boolean;
}

export async function runWorktreesInit(options: WorktreesInitOptions, context: CommandContext): Promise<ProvisionResult> {
  const devRoot = await openDevRoot(context);
  const count = parseIndex(options.count, { what: 'N (the number of agents)', max: devRoot.config.maxAgents });
  const base = await resolveBase(devRoot, options.base);
  return withDevRootLock(devRoot, context, `worktrees init ${count}`, () => provisionAgents(devRoot, count, base));
}

const ACTION_TEXT = {
  created: 'created',
  present: 'already there',
  relocked: 'locked again (it was unlocked)',
  'devhome-created': 'HOME created',
} as const;

export async function main(options: WorktreesInitOptions, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runWorktreesInit(options, context);
  if (options.json) context.io.json(result);
  for (const agent of result.agents) {
    context.io.out(`${agent.name}\t${agent.branch ?? '(primary clone)'}\t${agent.worktree}\t${ACTION_TEXT[agent.action]}`);
  }
  if (!result.changed) context.io.log(`nothing changed: agents 1..${result.agents.length} already exist`);
  host.setExitCode(0);
}
