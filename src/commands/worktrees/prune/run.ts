import { openDevRoot, withDevRootLock, type CommandContext } from '../../../agents/devroot.js';
import { applyFixes, findOrphans, type Finding } from '../../../agents/prune.js';
import { formatTable } from '../../../table.js';
import { processContext, type CommandHost } from '../../context.js';

export async function runWorktreesPrune(options: { apply?: boolean }, context: CommandContext): Promise<Finding[]> {
  const devRoot = await openDevRoot(context);
  if (options.apply !== true) return findOrphans(devRoot);
  // Look again under the lock: another devkit may have changed things while we waited.
  return withDevRootLock(devRoot, context, 'worktrees prune --apply', async () => applyFixes(devRoot, await findOrphans(devRoot)));
}

export async function main(flags: { apply?: boolean; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const findings = await runWorktreesPrune(flags, context);
  if (flags.json) context.io.json({ findings });
  if (findings.length === 0) context.io.log('nothing to prune');
  const rows = findings.map((f) => [f.index === null ? '-' : `agent${f.index}`, f.problem, `${f.applied ? 'done: ' : flags.apply ? '' : 'fix: '}${f.fix}`, f.path]);
  if (rows.length > 0) for (const line of formatTable(['AGENT', 'PROBLEM', 'ACTION', 'PATH'], rows)) context.io.out(line);
  if (!flags.apply && findings.some((f) => f.safe)) context.io.log('run devkit worktrees prune --apply to make the safe repairs');
  host.setExitCode(0);
}
