import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Io } from '../cli/io.js';
import type { EngineApi } from '../docker/engine-api.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { withRepoLock } from '../state/lock.js';
import { stateHome } from '../state/registry.js';
import { agentProject } from './project-names.js';

/**
 * Each agent's range of host ports: published on 127.0.0.1 by the forwarder
 * of its stack (the `ports` service) and passed on to the same port of its
 * dev container, so a server on $DEVKIT_PORT inside answers on
 * 127.0.0.1:$DEVKIT_PORT on the host. One registry for every dev root of the
 * user (ports.json in the state home, under a lock of its own), so ranges
 * never collide between agents, roots or workspaces; a new range also skips
 * ports other containers of the engine publish and ports in use on the host's
 * loopback. A range is kept once given (removing the agent keeps it too), so
 * an agent's ports stay the same across ups, downs and a remove and init.
 */

export const PORTS_PER_AGENT = 5;
/** Below Linux's ephemeral ports (32768 up), above most services' well-known ones. */
const POOL_FIRST = 20000;
const POOL_LAST = 29999;
const SLOTS = Math.floor((POOL_LAST - POOL_FIRST + 1) / PORTS_PER_AGENT);
/** The most ports one range may hold (the forwarder refuses more): bounds what a hand-edited registry can ask for. */
const MAX_RANGE = 100;

export interface PortRange {
  first: number;
  last: number;
}

interface PortsEntry extends PortRange {
  root: string;
  agent: number;
}

function portsFile(home: string): string {
  return path.join(home, 'ports.json');
}

function validRange(first: unknown, last: unknown): boolean {
  return (
    Number.isInteger(first) &&
    Number.isInteger(last) &&
    (first as number) >= 1024 &&
    (last as number) <= 65535 &&
    (last as number) >= (first as number) &&
    (last as number) - (first as number) < MAX_RANGE
  );
}

/** The registry's entries that parse (a broken file counts as none: its ranges are found taken again on the engine or loopback). */
function readEntries(home: string): PortsEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(portsFile(home), 'utf8'));
  } catch {
    return [];
  }
  const entries = raw !== null && typeof raw === 'object' && 'agents' in raw && Array.isArray(raw.agents) ? (raw.agents as unknown[]) : [];
  return entries.flatMap((entry): PortsEntry[] => {
    if (entry === null || typeof entry !== 'object') return [];
    const { root, agent, first, last } = entry as Record<string, unknown>;
    if (typeof root !== 'string' || !Number.isInteger(agent) || (agent as number) < 1 || !validRange(first, last)) return [];
    return [{ root, agent: agent as number, first: first as number, last: last as number }];
  });
}

/** The ranges of one dev root's agents, by index: one small file read, for status and `devkit ports`. */
export function readPortRanges(env: NodeJS.ProcessEnv, root: string): Map<number, PortRange> {
  return new Map(
    readEntries(stateHome(env))
      .filter((entry) => entry.root === root)
      .map((entry) => [entry.agent, { first: entry.first, last: entry.last }]),
  );
}

export function formatRange(range: PortRange): string {
  return `${range.first}-${range.last}`;
}

/** What the dev container gets: DEVKIT_PORT, the first port, and DEVKIT_PORTS, the range as FIRST-LAST. */
export function portsEnv(range: PortRange): { DEVKIT_PORT: string; DEVKIT_PORTS: string } {
  return { DEVKIT_PORT: String(range.first), DEVKIT_PORTS: formatRange(range) };
}

/** Whether nothing listens on 127.0.0.1:port (nor on every address), by binding it for a moment. */
function loopbackFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function rangeFree(range: PortRange, taken: ReadonlySet<number>): Promise<boolean> {
  for (let port = range.first; port <= range.last; port++) if (taken.has(port)) return false;
  for (let port = range.first; port <= range.last; port++) if (!(await loopbackFree(port))) return false;
  return true;
}

/**
 * Agent K's range: the one the registry holds, or a new one (the first free
 * slot from a hash of the root and the agent, so the same agent tends to get
 * the same ports even on another machine). The caller holds the fleet lock;
 * the registry's own lock keeps other roots' ups out meanwhile.
 */
export async function agentPortRange(fleet: Fleet, index: number, api: EngineApi, io: Io): Promise<PortRange> {
  const home = stateHome(fleet.env);
  const root = fleet.config.root;
  const command = `-p ${agentName(index)} up (ports)`;
  return withRepoLock({ file: path.join(home, 'ports.lock'), command, io, env: fleet.env }, async () => {
    const entries = readEntries(home);
    const own = entries.find((entry) => entry.root === root && entry.agent === index);
    if (own !== undefined) return { first: own.first, last: own.last };
    const project = agentProject(fleet, index);
    const taken = new Set<number>([
      ...entries.flatMap((entry) => Array.from({ length: entry.last - entry.first + 1 }, (_, i) => entry.first + i)),
      ...(await api.publishedPorts()).filter((p) => p.project !== project).map((p) => p.port),
    ]);
    const start = createHash('sha256').update(`${root}\0${index}`).digest().readUInt32BE(0) % SLOTS;
    for (let i = 0; i < SLOTS; i++) {
      const first = POOL_FIRST + ((start + i) % SLOTS) * PORTS_PER_AGENT;
      const range = { first, last: first + PORTS_PER_AGENT - 1 };
      if (!(await rangeFree(range, taken))) continue;
      const next = [...entries, { root, agent: index, ...range }];
      writeFileAtomic(portsFile(home), `${JSON.stringify({ agents: next }, null, 2)}\n`, { mode: 0o600 });
      return range;
    }
    throw new DevkitError(
      `no free range of ${PORTS_PER_AGENT} ports left in ${POOL_FIRST}-${POOL_LAST} for ${agentName(index)}: ` +
        `free ports there, or drop ranges of dev roots you no longer use from ${portsFile(home)}`,
    );
  });
}
