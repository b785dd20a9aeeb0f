import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { wrapText } from '../../cli/table.js';
import { diagnose, type DoctorCheck } from '../../doctor/doctor.js';
import { engineOrError } from '../../doctor/engine-or-error.js';

/**
 * doctor's report within 100 columns: per finding, its verdict, the check and
 * what was found, then the fix, wrapped under the verdict.
 */
const WIDTH = 100;
const INDENT = ' '.repeat('PROBLEM'.length + 2);

function findingLines(found: readonly DoctorCheck[]): string[] {
  const width = WIDTH - INDENT.length;
  return found.flatMap((f) => {
    const head = `${f.check}  `;
    const detail = wrapText(f.detail, width, width - head.length);
    const lines = [`${head}${detail[0] ?? ''}`, ...detail.slice(1), ...(f.fix === null ? [] : wrapText(`fix: ${f.fix}`, width))];
    return lines.map((line, i) => `${i === 0 ? (f.ok ? 'ok' : 'PROBLEM').padEnd(INDENT.length) : INDENT}${line}`);
  });
}

export async function run(flags: { json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const { api, error } = await engineOrError(fleet.env);
  const found = await diagnose(fleet, api, error);
  if (flags.json) context.io.json({ findings: found });
  for (const line of findingLines(found)) context.io.out(line);
  return found.every((f) => f.ok) ? 0 : 1;
}
