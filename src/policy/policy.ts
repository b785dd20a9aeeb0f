import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import type { DevkitConfig } from '../config/config.js';
import { EGRESS_PRESETS } from '../config/egress-presets.js';
import type { AgentEgress, EgressConfig } from '../config/sections.js';
import type { EngineApi } from '../docker/engine-api.js';
import { renderText } from '../templates.js';
import { policyDir } from './paths.js';

/** What one profile's sidecars let through. */
export interface ProfilePolicy {
  /** Domains, each with its subdomains. */
  allow: string[];
  /** Ports CONNECT may open. */
  ports: number[];
  /** Names with the address they resolve to (devkit.yml egress.hosts), each allowed as it is. */
  hosts: Record<string, string>;
  /** Where allowed names are looked up. */
  resolvers: string[];
}

/** A name is denied when it or a domain above it is on the deny list. */
function deniedBy(name: string, deny: readonly string[]): boolean {
  return deny.some((domain) => name === domain || name.endsWith(`.${domain}`));
}

/** The domains the presets in force bring. */
export function presetDomains(egress: EgressConfig): string[] {
  return egress.presets.flatMap((name) => EGRESS_PRESETS[name]?.domains ?? []);
}

/** Agent K's own changes to the policy (profile agentK); none for dev-all or an agent without a section. */
export function agentEgressOf(egress: EgressConfig, profile: string): AgentEgress {
  return egress.agents[profile] ?? { allow: [], deny: [], ports: [], denyPorts: [] };
}

/** The domains every agent reaches: the presets' and `egress.allow`, less `egress.deny`. */
export function globalDomains(egress: EgressConfig): string[] {
  const listed = [...presetDomains(egress), ...egress.allow];
  return [...new Set(listed)].filter((domain) => !egress.deny.includes(domain)).sort();
}

/**
 * What a profile's sidecars let through: the global policy, and for agent K's
 * own stack (profile agentK) its own additions and denials. A denied name is
 * taken away pinned or not (egress.hosts); dev-all gets the global policy.
 */
export function policyFor(config: Pick<DevkitConfig, 'egress'>, profile: string): ProfilePolicy {
  const { egress } = config;
  const own = agentEgressOf(egress, profile);
  const allow = [...new Set([...globalDomains(egress), ...own.allow])].filter((domain) => !own.deny.includes(domain)).sort();
  const deny = [...egress.deny, ...own.deny];
  return {
    allow,
    ports: [...new Set([...egress.ports, ...own.ports])].filter((port) => !own.denyPorts.includes(port)).sort((a, b) => a - b),
    hosts: Object.fromEntries(Object.entries(egress.hosts).filter(([name]) => !deniedBy(name, deny))),
    resolvers: [...egress.resolvers],
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * tinyproxy's filter, matched against each request's URL (FilterURLs): for a
 * host pattern (a domain with its subdomains, or one named host), plain HTTP
 * on port 80 or an allowed port, and CONNECT (its URL is host:port) to an
 * allowed port only. Matched on the URL, not the host alone, because
 * ConnectPort binds CONNECT only: plain HTTP could reach any port otherwise.
 * No '#' anywhere: tinyproxy reads the rest of a filter line after one as a
 * comment (a request line carries no fragment anyway).
 */
function urlFilter(hostPatterns: readonly string[], ports: readonly number[]): string {
  const connect = ports.join('|');
  const http = [...new Set([80, ...ports])].join('|');
  return hostPatterns
    .flatMap((host) => [`^http://${host}(:(${http}))?([/?]|$)\n`, ...(ports.length > 0 ? [`^${host}:(${connect})$\n`] : [])])
    .join('');
}

/**
 * The files the sidecars read: tinyproxy's filter (urlFilter: each allowed
 * domain with its subdomains, and each named host) and config; dnsmasq's
 * servers-file (allowlisted domains forwarded to the resolvers, Docker's own
 * in the sidecar by default; every other name gets NXDOMAIN, and a forwarded
 * answer with a private, loopback, link-local, shared or reserved address is
 * dropped: dnsmasq.conf) and hosts file (the named hosts, answered with their
 * address).
 */
export function renderPolicyFiles(profile: string, policy: ProfilePolicy): Record<string, string> {
  const hosts = Object.entries(policy.hosts).sort(([a], [b]) => a.localeCompare(b));
  return {
    filter: urlFilter(
      [...policy.allow.map((domain) => `([^/?@:]*\\.)?${escapeRegex(domain)}`), ...hosts.map(([name]) => escapeRegex(name))],
      policy.ports,
    ),
    'dns-servers': policy.allow.flatMap((domain) => policy.resolvers.map((resolver) => `server=/${domain}/${resolver}\n`)).join(''),
    hosts: hosts.map(([name, address]) => `${address} ${name}\n`).join(''),
    'tinyproxy.conf': renderText('policy/tinyproxy.conf.hbs', { profile, ports: policy.ports }),
  };
}

/** Writes a profile's policy files where they changed; returns true when any did. */
export function writePolicyFiles(workspaceDir: string, profile: string, policy: ProfilePolicy): boolean {
  const dir = policyDir(workspaceDir, profile);
  mkdirSync(dir, { recursive: true });
  const ignore = path.join(workspaceDir, '.devkit', '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# written by devkit: generated, never committed\n*\n');
  let changed = false;
  for (const [name, text] of Object.entries(renderPolicyFiles(profile, policy))) {
    const file = path.join(dir, name);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    // Renamed into place: the sidecars mount the folder, so they see the new file.
    writeFileAtomic(file, text);
    changed = true;
  }
  return changed;
}

/** Tells a profile's running sidecars to read their policy again: tinyproxy on SIGUSR1, dnsmasq on SIGHUP. */
export async function reloadSidecars(api: EngineApi, root: string, profile: string): Promise<number> {
  const signals: Record<string, string> = { tinyproxy: 'USR1', dns: 'HUP' };
  const running = (await api.listContainers([`devkit.root=${root}`, `devkit.profile=${profile}`])).filter((c) => c.State === 'running');
  let reloaded = 0;
  for (const container of running) {
    const signal = signals[container.Labels['com.docker.compose.service'] ?? ''];
    if (signal === undefined) continue;
    await api.killContainer(container.Id, signal);
    reloaded++;
  }
  return reloaded;
}
