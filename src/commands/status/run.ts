import { openFleet } from '../open-fleet.js';
import type { CommandContext } from '../../cli/context.js';
import { formatTable } from '../../cli/table.js';
import { debugSwallow } from '../../debug.js';
import { connectEngine } from '../../docker/engine-api.js';
import { UsageError, oneLine } from '../../errors.js';
import { withFleetLock } from '../../fleet/fleet.js';
import { formatRange } from '../../stack/ports.js';
import type { SilentEngine } from '../../fleet/engines.js';
import { agentStatuses, type AgentStatus } from '../../status/agent-status.js';
import { setTimeout as sleep } from 'node:timers/promises';

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

function changes(r: AgentStatus): string {
  if (r.condition === 'tampered') return 'TAMPERED';
  if (r.dirty === null) return '-';
  return `${r.dirty.modified}M ${r.dirty.untracked}?${r.stashes > 0 ? ` ${r.stashes}S` : ''}`;
}

function rows(reports: readonly AgentStatus[]): string[] {
  return formatTable(
    ['AGENT', 'ENGINE', 'BRANCH', 'AHEAD/BEHIND', 'CHANGES', 'CONTAINER', 'UP', 'PORTS', 'DISK (COPY+HOME+VOL)', 'DENIED', 'CONFLICTS'],
    reports.map((r) => [
      r.name,
      r.engine ?? 'local',
      r.branch ?? '(detached)',
      r.ahead === null ? '-' : `+${r.ahead}/-${r.behind ?? 0}`,
      changes(r),
      r.container === null ? (r.engine === null ? 'no engine' : 'no answer') : r.container.state,
      uptime(r.container?.uptimeSeconds ?? null),
      r.ports === null ? '-' : formatRange(r.ports),
      size(r.disk.totalBytes),
      r.egressDenials === null ? '-' : String(r.egressDenials),
      r.conflicts === null ? '-' : String(r.conflicts),
    ]),
  );
}

async function statuses(context: CommandContext): Promise<{ agents: AgentStatus[]; silent: SilentEngine[] }> {
  const fleet = await openFleet(context);
  return agentStatuses(fleet, context, await connectEngine(fleet.env).catch(debugSwallow('the engine')));
}

/** DURATION as `--checkpoint-every` takes it: a whole number of seconds, minutes or hours. */
function parseDuration(raw: string): number {
  const match = /^([1-9][0-9]{0,6})(s|m|h)$/.exec(raw);
  if (match === null) throw new UsageError(`--checkpoint-every ${JSON.stringify(raw)} is not a duration: give one like 30s, 5m or 1h`);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

/** Checkpoints every agent whose state changed since its last checkpoint; what fails is said, and the watch goes on. */
async function checkpointChanged(context: CommandContext, reports: readonly AgentStatus[], every: string): Promise<void> {
  const fleet = await openFleet(context);
  const { checkpointAgent } = await import('../../agents/checkpoint.js');
  for (const r of reports.filter((report) => report.index > 1 && report.condition === 'ok')) {
    try {
      const made = await withFleetLock(fleet, context, `checkpoint ${r.index}`, () =>
        checkpointAgent(fleet, { index: r.index, message: `every ${every} (status --watch)`, onlyIfChanged: true }),
      );
      if (made !== null) context.io.log(`devkit: checkpoint ${made.name} of ${r.name}`);
    } catch (error) {
      context.io.log(`devkit: no checkpoint of ${r.name}: ${error instanceof Error ? oneLine(error.message) : String(error)}`);
    }
  }
}

export async function run(flags: { json?: boolean; watch?: boolean; checkpointEvery?: string }, context: CommandContext): Promise<number> {
  if (flags.watch && flags.json) throw new UsageError('--watch redraws a table on the terminal; leave out --json');
  const every = flags.checkpointEvery === undefined ? null : parseDuration(flags.checkpointEvery);
  if (every !== null && !flags.watch)
    throw new UsageError('--checkpoint-every goes with --watch: devkit status --watch --checkpoint-every 5m');
  let nextCheckpoint = 0;
  if (flags.json) {
    const { agents, silent } = await statuses(context);
    context.io.json({ agents, silentEngines: silent.map(({ context: name, where, error }) => ({ context: name, where, error })) });
    return 0;
  }
  for (;;) {
    const { agents: reports, silent } = await statuses(context);
    if (flags.watch) context.io.clearScreen();
    for (const line of rows(reports)) context.io.out(line);
    for (const engine of silent) {
      const whose = reports.filter((r) => r.engine === engine.context).map((r) => r.name);
      context.io.log(`devkit: ${engine.error}: ${whose.join(', ')} shown as last synced; start that engine`);
    }
    for (const r of reports)
      if (r.problems.length > 0 && !silent.some((engine) => engine.context === r.engine))
        context.io.log(`devkit: ${r.name} ${r.condition === 'tampered' ? 'is tampered' : 'has a problem'}: ${r.problems.join('; ')}`);
    if (!flags.watch) return 0;
    if (every !== null && performance.now() >= nextCheckpoint) {
      nextCheckpoint = performance.now() + every;
      await checkpointChanged(context, reports, flags.checkpointEvery ?? '');
    }
    await sleep(Math.min(2000, every ?? 2000));
  }
}
