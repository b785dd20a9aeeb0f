import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { wrapText } from '../../cli/table.js';
import { diagnose, type DoctorCheck } from '../../doctor/doctor.js';
import { engineOrError } from '../../doctor/engine-or-error.js';

/** doctor's report within 100 columns: per finding, its verdict and check, then what was found and the fix, wrapped under them. */
const WIDTH = 100;

function findingLines(found: readonly DoctorCheck[]): string[] {
  const checkWidth = Math.max(...found.map((f) => f.check.length), 0);
  const indent = ' '.repeat('PROBLEM'.length + 2 + checkWidth + 2);
  return found.flatMap((f) => {
    const head = `${(f.ok ? 'ok' : 'PROBLEM').padEnd('PROBLEM'.length)}  ${f.check.padEnd(checkWidth)}  `;
    const text = wrapText(f.detail, WIDTH - indent.length);
    const fix = f.fix === null ? [] : wrapText(`fix: ${f.fix}`, WIDTH - indent.length);
    return [...text, ...fix].map((line, i) => `${i === 0 ? head : indent}${line}`.trimEnd());
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
