import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DevkitError, UsageError } from '../errors.js';
import { DEFAULT_SOCKET, resolveEndpoint } from '../docker/endpoint.js';
import type { WorkspaceImage } from '../image/workspace-image.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { isInside } from '../fs/paths.js';
import { stateHome } from '../state/registry.js';
import { resolveExisting } from '../validate.js';
import { policyDir } from '../policy/paths.js';
import { runCompose } from './compose.js';
import { ENV_FILE } from './env-file.js';
import { formatRange, readPortRanges } from './ports.js';
import type { Profile } from './profile.js';
import { COMPOSE_FILE, DEV_ALL, USER_FILES, usersDir } from './workspace-files.js';
import { externalVolumes } from './compose-file.js';
import { agentVolumes } from './project-names.js';

/**
 * Before every `up`, devkit asks compose for the stack its files make and
 * checks it is a sandbox: no service privileged or with capabilities past the
 * few named, none running as root where an agent runs, no new privileges, the
 * dev container only on the internal network (on which the host has no
 * address), and no host folder mounted but the agent's own, with the shared
 * repo read-only wherever it appears. An agent's stack may also have its port
 * forwarder (`ports`), in exactly the shape devkit writes: nothing but the
 * forwarder publishes ports, and it only on 127.0.0.1. compose.yml and the dev-all overlay are
 * the user's files (made by devkit, perhaps by an older one); this is what
 * keeps them honest. A passing check is remembered until the files change.
 */

interface ComposeMountJson {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
}

interface ComposeServiceJson {
  user?: string;
  privileged?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  network_mode?: string;
  pid?: string;
  ipc?: string;
  devices?: unknown[];
  networks?: Record<string, unknown>;
  volumes?: ComposeMountJson[];
  sysctls?: Record<string, string | number>;
  image?: string;
  read_only?: boolean;
  command?: string[] | null;
  entrypoint?: string[] | null;
  ports?: Array<{ host_ip?: string; target?: number; published?: string | number; protocol?: string }>;
}

interface ComposeConfigJson {
  services?: Record<string, ComposeServiceJson>;
  volumes?: Record<string, { name?: string; external?: boolean }>;
  networks?: Record<string, { internal?: boolean; external?: boolean; driver_opts?: Record<string, string> }>;
}

/** Capabilities a service may add back: none (dnsmasq binds port 53 as nobody through ALLOWED_SYSCTLS). */
const ALLOWED_CAPS: Record<string, string[]> = { dns: [], tinyproxy: [], dev: [], ports: [] };

/** Kernel settings a service may change in its own namespaces. */
const ALLOWED_SYSCTLS: Record<string, string[]> = { dns: ['net.ipv4.ip_unprivileged_port_start'], tinyproxy: [], dev: [], ports: [] };

/** The port forwarder's service: the one service that publishes ports. */
const FORWARDER = 'ports';
const FORWARDER_IMAGE = 'devkit/ports:local';
/** Every setting the forwarder may have: anything else (a mount, extra_hosts, environment, another entrypoint) could aim it elsewhere. */
const FORWARDER_KEYS = [
  'image',
  'init',
  'user',
  'read_only',
  'cap_drop',
  'security_opt',
  'labels',
  'command',
  'entrypoint',
  'networks',
  'ports',
];

function hardened(name: string, service: ComposeServiceJson): string[] {
  const problems: string[] = [];
  if (service.privileged === true) problems.push(`${name} is privileged`);
  if (!(service.cap_drop ?? []).map((c) => c.toUpperCase()).includes('ALL')) problems.push(`${name} does not drop all capabilities`);
  const extra = (service.cap_add ?? [])
    .map((c) => c.toUpperCase().replace(/^CAP_/, ''))
    .filter((c) => !(ALLOWED_CAPS[name] ?? []).includes(c));
  if (extra.length > 0) problems.push(`${name} adds capabilities ${extra.join(', ')}`);
  if (!(service.security_opt ?? []).some((o) => /^no-new-privileges(:true)?$/.test(o))) problems.push(`${name} allows new privileges`);
  const sysctls = Object.keys(service.sysctls ?? {}).filter((key) => !(ALLOWED_SYSCTLS[name] ?? []).includes(key));
  if (sysctls.length > 0) problems.push(`${name} sets ${sysctls.join(', ')}`);
  for (const [key, value] of [
    ['network_mode', service.network_mode],
    ['pid', service.pid],
    ['ipc', service.ipc],
  ] as const) {
    if (value === 'host') problems.push(`${name} shares the host's ${key}`);
  }
  if ((service.devices ?? []).length > 0) problems.push(`${name} has host devices`);
  return problems;
}

function uidOf(user: string | undefined): number | null {
  const uid = user?.split(':')[0];
  return uid === undefined || !/^[0-9]+$/.test(uid) ? null : Number(uid);
}

/** The image's own user (unset: root), uid 0 or the name root. */
function runsAsRoot(user: string | undefined): boolean {
  const who = user?.split(':')[0];
  return who === undefined || who === '' || who === 'root' || uidOf(user) === 0;
}

/** The host folders a profile's dev container may mount, and whether each may be written. */
function allowedBinds(fleet: Fleet, profile: Profile): Array<{ source: string; writable: boolean }> {
  const shared = [{ source: fleet.shared.gitDir, writable: false }];
  const users = usersDir(fleet.workspace.dir, profile.name);
  const userFiles = Object.keys(USER_FILES).map((file) => ({ source: path.join(users, file), writable: false }));
  if (profile.agentIndex === null) {
    return [{ source: fleet.config.root, writable: true }, { source: fleet.shared.top, writable: true }, ...shared, ...userFiles];
  }
  const agent = agentPaths(fleet.config, profile.agentIndex);
  return [{ source: agent.worktree, writable: true }, { source: agent.devhome, writable: true }, ...shared, ...userFiles];
}

/** The engine's socket on the host: whoever can reach it is root there, read-only mount or not. */
function engineSocket(env: NodeJS.ProcessEnv): string {
  const endpoint = resolveEndpoint(env);
  return resolveExisting(endpoint.kind === 'unix' ? endpoint.path : DEFAULT_SOCKET);
}

/**
 * Why dev may not have an extra host folder (one of the user's own, from
 * compose.local.yml, say), or null when it may: only read-only, and none
 * holding or inside the dev root (other agents' work), devkit's state
 * (backups, records) or the engine's socket.
 */
function extraBindProblem(fleet: Fleet, source: string, readOnly: boolean): string | null {
  if (!readOnly) return `dev mounts ${source} writable: a host folder of your own is mounted read-only`;
  const resolved = resolveExisting(source);
  const guarded: Array<[string, string]> = [
    [resolveExisting(fleet.config.root), 'the dev root'],
    [resolveExisting(stateHome(fleet.env)), "devkit's state"],
    [engineSocket(fleet.env), "the Docker engine's socket"],
  ];
  for (const [dir, what] of guarded)
    if (isInside(resolved, dir) || isInside(dir, resolved)) return `dev mounts ${source}, which holds or is inside ${what}`;
  return null;
}

/**
 * On a remote engine nothing may come from a host folder (that engine's
 * disk is another machine's, or this one's by accident), and dev may mount
 * only its own copy and HOME volumes and the shared caches compose.yml
 * names: never another agent's copy.
 */
function remoteMountProblems(fleet: Fleet, profile: Profile, name: string, config: ComposeConfigJson): string[] {
  const service = config.services?.[name] ?? {};
  const volumes = profile.agentIndex === null ? null : agentVolumes(fleet.config, profile.agentIndex);
  const own = volumes === null ? [] : [volumes.copy, volumes.home];
  const allowed = name === 'dev' ? [...own, ...externalVolumes(path.join(fleet.workspace.dir, COMPOSE_FILE))] : [];
  const problems: string[] = [];
  for (const mount of service.volumes ?? []) {
    const source = (mount.source ?? '').replaceAll('$$', '$');
    if (mount.type === 'bind') problems.push(`${name} mounts host folder ${source}, which an engine on another machine must not`);
    else if (mount.type !== 'volume') problems.push(`${name} has a ${mount.type} mount at ${mount.target}`);
    else if (!allowed.includes(config.volumes?.[source]?.name ?? source))
      problems.push(`${name} mounts volume ${source}, which is not its own`);
  }
  return problems;
}

function mountProblems(fleet: Fleet, profile: Profile, name: string, service: ComposeServiceJson): string[] {
  const allowed =
    name === 'dev' ? allowedBinds(fleet, profile) : [{ source: policyDir(fleet.workspace.dir, profile.name), writable: false }];
  const problems: string[] = [];
  for (const mount of service.volumes ?? []) {
    if (mount.type !== 'bind') continue;
    // compose prints its config as compose input: a literal $ comes back as $$.
    const source = (mount.source ?? '').replaceAll('$$', '$');
    const entry = allowed.find((a) => a.source === source);
    const extra = entry === undefined && name === 'dev' ? extraBindProblem(fleet, source, mount.read_only === true) : undefined;
    if (extra !== undefined) {
      if (extra !== null) problems.push(extra);
    } else if (entry === undefined) problems.push(`${name} mounts ${source}, which is not its own`);
    else if (!entry.writable && mount.read_only !== true) problems.push(`${name} mounts ${source} writable`);
    if (isInside(source, fleet.shared.gitDir) && mount.read_only !== true)
      problems.push(`${name} mounts the shared repo (${source}) writable`);
  }
  return problems;
}

/**
 * What is wrong with agent K's forwarder: devkit's image with its own
 * entrypoint (which connects to `dev` alone), as nobody on a read-only root,
 * on the internal and outbound networks, publishing exactly the range it
 * forwards (the agent's own), each port on 127.0.0.1 under its own number.
 */
function forwarderProblems(fleet: Fleet, profile: Profile, service: ComposeServiceJson): string[] {
  const name = FORWARDER;
  if (profile.agentIndex === null) return [`service ${name} is not devkit's`];
  const problems = [...hardened(name, service)];
  const extra = Object.keys(service).filter((key) => !FORWARDER_KEYS.includes(key));
  if (extra.length > 0) problems.push(`${name} sets ${extra.join(', ')}, which the forwarder may not have`);
  if (service.image !== FORWARDER_IMAGE) problems.push(`${name} runs ${service.image ?? 'no image'}, not ${FORWARDER_IMAGE}`);
  if ((service.entrypoint ?? null) !== null) problems.push(`${name} has an entrypoint of its own`);
  if (runsAsRoot(service.user)) problems.push(`${name} runs as root`);
  if (service.read_only !== true) problems.push(`${name} has a writable root file system`);
  const networks = service.networks ?? {};
  if (Object.keys(networks).sort().join(',') !== 'internal,outbound' || Object.values(networks).some((n) => n !== null))
    problems.push(`${name} is on networks other than internal and outbound, or with settings of its own`);
  const match = /^([0-9]+)-([0-9]+)$/.exec(service.command?.length === 1 ? (service.command[0] ?? '') : '');
  const range = match === null ? null : { first: Number(match[1]), last: Number(match[2]) };
  const own = readPortRanges(fleet.env, fleet.config.root).get(profile.agentIndex);
  if (range === null || (own !== undefined && formatRange(own) !== formatRange(range)))
    problems.push(`${name} does not forward ${profile.name}'s own ports (${own === undefined ? 'none given yet' : formatRange(own)})`);
  const published = (service.ports ?? []).map((p) => ({ ...p, published: String(p.published ?? '') }));
  for (const port of published) {
    if (port.host_ip !== '127.0.0.1') problems.push(`${name} publishes port ${port.published} on ${port.host_ip ?? 'every address'}`);
    else if (port.published !== String(port.target) || (port.protocol ?? 'tcp') !== 'tcp')
      problems.push(`${name} publishes ${port.published} for ${port.target ?? '?'}/${port.protocol ?? 'tcp'}`);
  }
  const targets = published.map((p) => p.target ?? 0).sort((a, b) => a - b);
  if (range !== null && targets.join(',') !== Array.from({ length: range.last - range.first + 1 }, (_, i) => range.first + i).join(','))
    problems.push(`${name} publishes ports other than ${formatRange(range)}`);
  return problems;
}

/** What is wrong with the stack compose makes for a profile (empty when it is a sandbox). */
export function sandboxProblems(fleet: Fleet, profile: Profile, config: ComposeConfigJson): string[] {
  const services = config.services ?? {};
  const problems: string[] = [];
  for (const name of ['dev', 'tinyproxy', 'dns']) {
    const service = services[name];
    if (service === undefined) {
      problems.push(`service ${name} is missing`);
      continue;
    }
    const mounts = profile.engine.remote ? remoteMountProblems(fleet, profile, name, config) : mountProblems(fleet, profile, name, service);
    problems.push(...hardened(name, service), ...mounts);
  }
  for (const [name, service] of Object.entries(services)) {
    if (name === FORWARDER) problems.push(...forwarderProblems(fleet, profile, service));
    else if (!['dev', 'tinyproxy', 'dns'].includes(name)) problems.push(`service ${name} is not devkit's`);
    else if ((service.ports ?? []).length > 0) problems.push(`${name} publishes ports (only the ${FORWARDER} forwarder may)`);
  }
  const dev = services.dev;
  const uid = uidOf(dev?.user);
  if (dev !== undefined && (uid === null || uid === 0)) problems.push(`dev runs as ${dev.user ?? 'the image user'}, not an agent's uid`);
  for (const sidecar of ['tinyproxy', 'dns'] as const) if (runsAsRoot(services[sidecar]?.user)) problems.push(`${sidecar} runs as root`);
  if (dev !== undefined && Object.keys(dev.networks ?? {}).join(',') !== 'internal')
    problems.push('dev is on networks other than the internal one');
  const internal = config.networks?.internal;
  if (internal?.internal !== true) problems.push('the internal network is not internal');
  if (internal?.driver_opts?.['com.docker.network.bridge.inhibit_ipv4'] !== 'true')
    problems.push('the host has an address on the internal network');
  return problems;
}

function inputsHash(profile: Profile, workspaceDir: string): string {
  const hash = createHash('sha256').update('sandbox-check-2');
  for (const file of [...profile.files, path.join(workspaceDir, ENV_FILE)])
    hash.update('\0').update(existsSync(file) ? readFileSync(file) : '');
  return hash.digest('hex');
}

/** Refuses a stack whose dev image is not the one devkit.yml's image section makes (a compose.yml from before it, say). */
function checkDevImage(wanted: WorkspaceImage, profile: Profile, image: string | undefined): void {
  if (wanted.key === null || image === wanted.tag) return;
  throw new UsageError(
    `the ${profile.name} stack runs ${image ?? 'no image'} for dev, not ${wanted.tag}, which devkit.yml's image section makes: ` +
      "set the dev service's image to ${DEVKIT_DEV_IMAGE} in compose.yml (devkit writes it to .env)",
  );
}

/** Refuses to go on when the profile's stack is not a sandbox; the fix names the file to look at. */
export async function checkSandbox(fleet: Fleet, profile: Profile, devImage: WorkspaceImage): Promise<void> {
  const marker = path.join(fleet.state.dir, 'sandbox-checked', profile.name);
  const hash = inputsHash(profile, fleet.workspace.dir);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === hash) return;
  const json = await runCompose({ cwd: fleet.workspace.dir, files: profile.files, args: ['config', '--format', 'json'], quiet: true });
  const config = JSON.parse(json) as ComposeConfigJson;
  checkDevImage(devImage, profile, config.services?.dev?.image);
  const problems = sandboxProblems(fleet, profile, config);
  if (problems.length > 0) {
    const fix =
      profile.name === DEV_ALL
        ? 'devkit overlay create dev-all rewrites overlays/dev-all from devkit'
        : `devkit overlay create ${profile.name}`;
    throw new DevkitError(
      `the ${profile.name} stack is not a sandbox (${problems.join('; ')}): ` +
        `check ${profile.files.map((file) => path.relative(fleet.workspace.dir, file)).join(', ')}; ${fix}`,
    );
  }
  mkdirSync(path.dirname(marker), { recursive: true });
  writeFileAtomic(marker, hash);
}
