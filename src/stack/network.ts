import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EngineApi } from '../docker/engine-api.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { parseAgentName } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { DEV_ALL } from './workspace-files.js';
import { projectPrefix } from './project-names.js';

/**
 * A project's internal network. The dev container's resolver must be the dns
 * sidecar, and compose takes a resolver only as an address, so the sidecar
 * gets a fixed address on a subnet of the project's own.
 */
export interface ProjectNetwork {
  subnet: string;
  /** Where the engine hands out addresses: the lower half, so the sidecar's fixed address is never taken. */
  ipRange: string;
  /** The dns sidecar's fixed address, in the upper half. */
  dnsIp: string;
}

// 4,096 /28 subnets (14 addresses: gateway, dev, proxy, dns and room) in 10.213.0.0/16. Docker's
// default pools (172.17-31.0.0/16, 192.168.0.0/16) hand whole /16s to networks like the outbound
// one, so a pool there can be taken entirely; Docker never hands out 10.0.0.0/8 by default.
const POOL_BASE = (10 << 24) | (213 << 16);
const SLOTS = 4096;
const SLOT_SIZE = 16;

function ipToInt(ip: string): number {
  return ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

function cidrRange(cidr: string): [number, number] | null {
  const [ip, bits] = cidr.split('/');
  if (ip === undefined || bits === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return null; // IPv6: cannot overlap ours
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(ip) / size) * size;
  return [start, start + size - 1];
}

function overlaps(a: [number, number], b: [number, number]): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

function networkAt(start: number): ProjectNetwork {
  return { subnet: `${intToIp(start)}/28`, ipRange: `${intToIp(start)}/29`, dnsIp: intToIp(start + SLOT_SIZE - 2) };
}

/** The network devkit would write for a /28 it chose earlier (read back from an overlay). */
export function networkForSubnet(subnet: string): ProjectNetwork | null {
  const range = cidrRange(subnet);
  return range === null || !subnet.endsWith('/28') ? null : networkAt(range[0]);
}

function slotNetwork(slot: number): ProjectNetwork {
  return networkAt((POOL_BASE + slot * SLOT_SIZE) >>> 0);
}

/** Whether `subnet` is one devkit hands out: a /28 of 10.213.0.0/16 on a slot boundary. */
function isOurSubnet(subnet: string): boolean {
  const range = cidrRange(subnet);
  return (
    range !== null &&
    subnet.endsWith('/28') &&
    range[0] >= POOL_BASE &&
    range[1] < POOL_BASE + SLOTS * SLOT_SIZE &&
    intToIp(range[0]) === subnet.split('/')[0]
  );
}

/**
 * Subnets this root's projects hold, kept in devkit's state. Read back
 * checked: only this root's project names (dev-all, agentK) and only subnets
 * devkit hands out count, so no forged entry can make devkit create a network
 * (and a host route) for a range of someone else's.
 */
function readReservations(fleet: Fleet): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(fleet.state.subnetsFile, 'utf8'));
  } catch {
    return {};
  }
  const prefix = `${projectPrefix(fleet.config)}-`;
  const valid: Record<string, string> = {};
  for (const [project, subnet] of Object.entries(raw !== null && typeof raw === 'object' ? raw : {})) {
    const profile = project.startsWith(prefix) ? project.slice(prefix.length) : '';
    if ((profile === DEV_ALL || parseAgentName(profile) !== null) && typeof subnet === 'string' && isOurSubnet(subnet))
      valid[project] = subnet;
  }
  return valid;
}

/**
 * The project's internal network: the subnet its network already has, or the
 * one reserved for it, or a new one (first free slot from a hash of the
 * project name) that no other network or reservation overlaps. The caller
 * holds the fleet lock, so this root's concurrent ups never pick the same one.
 */
export async function projectNetwork(api: EngineApi, fleet: Fleet, project: string): Promise<ProjectNetwork> {
  const networks = await api.networkSubnets();
  const own = networks.find((n) => n.name === `${project}_internal`)?.subnets[0];
  const reservations = readReservations(fleet);
  const taken = [
    ...networks.filter((n) => n.name !== `${project}_internal`).flatMap((n) => n.subnets),
    ...Object.entries(reservations)
      .filter(([name]) => name !== project)
      .map(([, subnet]) => subnet),
  ]
    .map(cidrRange)
    .filter((range): range is [number, number] => range !== null);
  const free = (subnet: string): boolean => {
    const range = cidrRange(subnet);
    return range !== null && !taken.some((other) => overlaps(range, other));
  };
  let chosen: ProjectNetwork | null = null;
  for (const candidate of [own, reservations[project]]) {
    const range = candidate === undefined ? null : cidrRange(candidate);
    if (candidate !== undefined && range !== null && candidate.endsWith('/28') && free(candidate)) {
      chosen = networkAt(range[0]);
      break;
    }
  }
  if (chosen === null) {
    const first = createHash('sha256').update(project).digest().readUInt16BE(0) % SLOTS;
    for (let i = 0; i < SLOTS && chosen === null; i++) {
      const candidate = slotNetwork((first + i) % SLOTS);
      if (free(candidate.subnet)) chosen = candidate;
    }
  }
  if (chosen === null)
    throw new DevkitError('no free /28 subnet left in 10.213.0.0/16 for a devkit network: remove networks you no longer use');
  if (reservations[project] !== chosen.subnet) {
    writeFileAtomic(fleet.state.subnetsFile, `${JSON.stringify({ ...reservations, [project]: chosen.subnet }, null, 2)}\n`, {
      mode: 0o600,
    });
  }
  return chosen;
}
