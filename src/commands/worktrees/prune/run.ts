import { openFleet } from '../../open-fleet.js';
import { applyFixes, findOrphans } from '../../../agents/prune.js';
import type { CommandContext } from '../../../cli/context.js';
import { formatTable } from '../../../cli/table.js';
import { withFleetLock } from '../../../fleet/fleet.js';

export async function run(flags: { apply?: boolean; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  // Look again under the lock: another devkit may have changed things while we waited.
  const findings =
    flags.apply === true
      ? await withFleetLock(fleet, context, 'worktrees prune --apply', async () => applyFixes(fleet, findOrphans(fleet)))
      : findOrphans(fleet);
  if (flags.json) context.io.json({ findings });
  if (findings.length === 0) context.io.log('nothing to prune');
  const rows = findings.map((f) => [
    f.index === null ? '-' : `agent${f.index}`,
    f.problem,
    `${f.applied ? 'done: ' : flags.apply ? '' : 'fix: '}${f.fix}`,
    f.path,
  ]);
  if (rows.length > 0) for (const line of formatTable(['AGENT', 'PROBLEM', 'ACTION', 'PATH'], rows)) context.io.out(line);
  if (!flags.apply && findings.some((f) => f.safe)) context.io.log('run devkit worktrees prune --apply to make the safe repairs');
  return 0;
}
