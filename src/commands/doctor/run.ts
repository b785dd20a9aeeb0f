import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { formatTable } from '../../cli/table.js';
import { diagnose } from '../../doctor/doctor.js';
import { engineOrError } from '../../doctor/engine-or-error.js';

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const { api, error } = await engineOrError(fleet.env);
  const found = await diagnose(fleet, api, error);
  if (flags.json) context.io.json({ findings: found });
  const rows = found.map((f) => [f.ok ? 'ok' : 'PROBLEM', f.check, f.detail, f.fix ?? '']);
  for (const line of formatTable(['', 'CHECK', 'FOUND', 'FIX'], rows)) context.io.out(line);
  return found.every((f) => f.ok) ? 0 : 1;
}
