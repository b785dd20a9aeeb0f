import { openDevRoot, withDevRootLock, type CommandContext, type DevRoot } from '../../agents/devroot.js';
import type { EngineApi } from '../../docker/engine-api.js';
import { engine } from '../../docker/images.js';
import { diagnose, type DoctorFinding } from '../../doctor/doctor.js';
import { collectGarbage, type GcAction } from '../../doctor/gc.js';
import { formatTable } from '../../table.js';
import { processContext, type CommandHost } from '../context.js';

/** The engine, or why it cannot be reached: doctor reports a stopped daemon instead of failing. */
async function engineOrError(): Promise<{ api: EngineApi | null; error: string | null }> {
  try {
    return { api: await engine(), error: null };
  } catch (error) {
    return { api: null, error: (error as Error).message };
  }
}

export async function runDoctor(context: CommandContext): Promise<DoctorFinding[]> {
  const devRoot = await openDevRoot(context);
  const { api, error } = await engineOrError();
  return diagnose(devRoot, api, error);
}

export async function runGc(context: CommandContext): Promise<GcAction[]> {
  const devRoot = await openDevRoot(context);
  return withDevRootLock(devRoot, context, 'gc', async () => {
    const { api, error } = await engineOrError();
    return collectGarbage(devRoot, await diagnose(devRoot, api, error), api);
  });
}

export async function doctor(flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const found = await runDoctor(context);
  if (flags.json) context.io.json({ findings: found });
  const rows = found.map((f) => [f.ok ? 'ok' : 'PROBLEM', f.check, f.detail, f.fix ?? '']);
  for (const line of formatTable(['', 'CHECK', 'FOUND', 'FIX'], rows)) context.io.out(line);
  host.setExitCode(found.every((f) => f.ok) ? 0 : 1);
}

export async function gc(flags: { json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(flags);
  const actions = await runGc(context);
  if (flags.json) context.io.json({ actions });
  if (actions.length === 0) context.io.log('no garbage');
  for (const action of actions) context.io.out(action.detail);
  host.setExitCode(0);
}
