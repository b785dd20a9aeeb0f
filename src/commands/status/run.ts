import { openDevRoot, type CommandContext } from '../../agents/devroot.js';
import { agentReports, type AgentReport } from '../../agents/status.js';
import { engine } from '../../docker/images.js';
import { UsageError } from '../../errors.js';
import { formatTable } from '../../table.js';
import { processContext, type CommandHost } from '../context.js';
import { setTimeout as sleep } from 'node:timers/promises';

export async function runStatus(context: CommandContext): Promise<AgentReport[]> {
  const devRoot = await openDevRoot(context);
  return agentReports(devRoot, await engine().catch(() => null));
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function uptime(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

function rows(reports: readonly AgentReport[]): string[] {
  return formatTable(
    ['AGENT', 'BRANCH', 'AHEAD/BEHIND', 'CHANGES', 'CONTAINER', 'UP', 'DISK (COPY+HOME+VOL)', 'DENIED'],
    reports.map((r) => [
      r.name,
      r.branch ?? '(detached)',
      r.ahead === null ? '-' : `+${r.ahead}/-${r.behind ?? 0}`,
      r.dirty === null ? '-' : `${r.dirty.modified}M ${r.dirty.untracked}?`,
      r.container === null ? 'no engine' : r.container.state,
      uptime(r.container?.uptimeSeconds ?? null),
      size(r.disk.totalBytes),
      r.egressDenials === null ? '-' : String(r.egressDenials),
    ]),
  );
}

export async function main(flags: { json?: boolean; watch?: boolean }, host: CommandHost): Promise<void> {
  if (flags.watch && flags.json) throw new UsageError('--watch redraws a table on the terminal; leave out --json');
  const context = processContext(flags);
  if (flags.json) {
    context.io.json({ agents: await runStatus(context) });
    host.setExitCode(0);
    return;
  }
  for (;;) {
    const lines = rows(await runStatus(context));
    if (flags.watch) process.stdout.write('\x1b[H\x1b[2J');
    for (const line of lines) context.io.out(line);
    if (!flags.watch) break;
    await sleep(2000);
  }
  host.setExitCode(0);
}
