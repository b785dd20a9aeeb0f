import { openFleet } from '../../open-fleet.js';
import { listRestorable } from '../../../agents/restore.js';
import type { CommandContext } from '../../../cli/context.js';
import { formatTable } from '../../../cli/table.js';
import { UsageError } from '../../../errors.js';
import { readAgentRecords, requireAgent } from '../../../fleet/records.js';
import { parseIndex } from '../../../validate.js';

export async function run(flags: { index: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const index = parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  if (index === 1) throw new UsageError('agent 1 is the primary clone: checkpoints are for agents 2 and up');
  const found = await listRestorable(fleet, index);
  // A removed agent's backups are listed too; an agent that never was is bad input.
  if (found.length === 0 && !readAgentRecords(fleet.state).has(index)) requireAgent(fleet.state, index);
  if (flags.json) {
    context.io.json({
      index,
      checkpoints: found.map(({ kind, name, ref, commit, time, message, head, headRef }) => ({
        kind,
        name,
        ref,
        commit,
        time,
        message,
        head,
        headRef,
      })),
    });
    return 0;
  }
  const rows = found.map((r) => [
    r.name,
    r.time,
    r.kind,
    r.head?.slice(0, 10) ?? '-',
    r.headRef?.replace(/^refs\/heads\//, '') ?? '-',
    r.message,
  ]);
  for (const line of formatTable(['NAME', 'TIME', 'KIND', 'HEAD', 'BRANCH', 'MESSAGE'], rows)) context.io.out(line);
  return 0;
}
