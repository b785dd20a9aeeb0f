import { UsageError } from '../errors.js';
import { checkDomain, checkHostName, checkIpv4, parseAgentName } from '../validate.js';
import { DEFAULT_PRESETS, EGRESS_PRESETS } from './egress-presets.js';

/** One agent's own changes to the egress policy, for its agentK stack. */
export interface AgentEgress {
  /** Domains only this agent reaches. */
  allow: string[];
  /** Domains the others reach and this agent does not (presets', the global list's, pinned hosts'). */
  deny: string[];
  /** CONNECT ports only this agent may open. */
  ports: number[];
  /** Ports the others may open and this agent may not. */
  denyPorts: number[];
}

/**
 * Egress policy: the domains agents may reach (each with its subdomains),
 * through the proxy and the DNS sidecar, and the ports CONNECT may open.
 * In force: the presets' domains and `allow`, less `deny`; per agent, that
 * plus its own `allow`, less its own `deny`.
 */
export interface EgressConfig {
  /** Named sets of domains devkit keeps (egress-presets.ts). */
  presets: string[];
  allow: string[];
  /** Domains taken away from every agent (a preset's, say). */
  deny: string[];
  ports: number[];
  agents: Record<string, AgentEgress>;
  /**
   * Names with the address they resolve to, allowed like `allow` entries. The
   * proxy reaches no private, loopback or link-local address through a name
   * (DNS rebinding), except an address named here: a git server or mirror on
   * your own network.
   */
  hosts: Record<string, string>;
  /** The DNS servers allowed names are forwarded to (default: Docker's own resolver in the dns sidecar). */
  resolvers: string[];
  /**
   * Docker networks of the user's (a git server, a package mirror) that each
   * agent's proxy joins: it reaches their services by name, as the policy allows.
   */
  networks: string[];
}

/** A Docker network's name, as the engine takes one. */
const DOCKER_NETWORK = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Docker's embedded resolver, as the dns sidecar sees it. */
export const DOCKER_RESOLVER = '127.0.0.11';

/** Where `git push` over SSH goes: a Host alias and what it really connects to. */
export interface SshConfig {
  /** The host name in remote URLs (`git@github.com:owner/repo.git`). */
  host: string;
  /** What ssh connects to, through the proxy. */
  hostName: string;
  port: number;
  user: string;
  /** The HTTP proxy ssh tunnels through (CONNECT), as host:port: the stack's own by default. */
  proxy: string;
}

/** Who commits in agents' containers: written into each new HOME's .gitconfig. */
export interface GitIdentityConfig {
  /** For every agent; unset parts come from the host user's own git config. */
  name?: string;
  email?: string;
  /** Per agent (`agentK`), over the above. */
  agents: Record<string, { name?: string; email?: string }>;
}

export const DEFAULT_SSH: SshConfig = { host: 'github.com', hostName: 'ssh.github.com', port: 443, user: 'git', proxy: 'tinyproxy:8888' };

type Raw = Record<string, unknown>;

/** A string setting, as its text; anything else (a number, a list) is refused by name. */
function text(value: unknown, what: string, file: string): string {
  if (typeof value !== 'string') throw new UsageError(`${file}: '${what}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function mapping(value: unknown, what: string, file: string): Raw {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${file}: '${what}' must be a mapping`);
  return value as Raw;
}

function onlyKeys(fields: Raw, known: readonly string[], what: string, file: string): void {
  for (const key of Object.keys(fields)) {
    if (!known.includes(key)) throw new UsageError(`${file}: unknown key '${what}.${key}' (known keys: ${known.join(', ')})`);
  }
}

function hostList(value: unknown, what: string, file: string): string[] {
  if (!Array.isArray(value)) throw new UsageError(`${file}: '${what}' must be a list of host names`);
  return value.map((host) => {
    if (typeof host !== 'string') throw new UsageError(`${file}: '${what}' must be a list of host names, got ${JSON.stringify(host)}`);
    return checkDomain(host, `${file}: '${what}' entry`);
  });
}

function port(value: unknown, what: string, file: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new UsageError(`${file}: '${what}' must be a port from 1 to 65535, got ${JSON.stringify(value)}`);
  }
  return value;
}

function portList(value: unknown, what: string, file: string): number[] {
  if (!Array.isArray(value)) throw new UsageError(`${file}: '${what}' must be a list of ports`);
  return value.map((each) => port(each, what, file));
}

function presetList(value: unknown, file: string): string[] {
  const known = Object.keys(EGRESS_PRESETS);
  if (!Array.isArray(value)) throw new UsageError(`${file}: 'egress.presets' must be a list of preset names (${known.join(', ')})`);
  return value.map((name) => {
    if (typeof name !== 'string' || !known.includes(name))
      throw new UsageError(`${file}: 'egress.presets' entry ${JSON.stringify(name)} is not a preset (known: ${known.join(', ')})`);
    return name;
  });
}

function agentEgress(raw: unknown, name: string, file: string): AgentEgress {
  const what = `egress.agents.${name}`;
  const fields = mapping(raw, what, file);
  onlyKeys(fields, ['allow', 'deny', 'ports', 'denyPorts'], what, file);
  return {
    allow: hostList(fields.allow ?? [], `${what}.allow`, file),
    deny: hostList(fields.deny ?? [], `${what}.deny`, file),
    ports: portList(fields.ports ?? [], `${what}.ports`, file),
    denyPorts: portList(fields.denyPorts ?? [], `${what}.denyPorts`, file),
  };
}

export function validateEgress(raw: unknown, file: string): EgressConfig {
  const fields = raw === undefined ? {} : mapping(raw, 'egress', file);
  onlyKeys(fields, ['presets', 'allow', 'deny', 'ports', 'agents', 'hosts', 'resolvers', 'networks'], 'egress', file);
  const agents: Record<string, AgentEgress> = {};
  for (const [name, body] of Object.entries(fields.agents === undefined ? {} : mapping(fields.agents, 'egress.agents', file))) {
    if (parseAgentName(name) === null) throw new UsageError(`${file}: 'egress.agents.${name}' is not an agent (agentK)`);
    agents[name] = agentEgress(body, name, file);
  }
  const hosts: Record<string, string> = {};
  for (const [name, address] of Object.entries(fields.hosts === undefined ? {} : mapping(fields.hosts, 'egress.hosts', file))) {
    checkDomain(name, `${file}: 'egress.hosts' name`);
    hosts[name] = checkIpv4(String(address), `${file}: 'egress.hosts.${name}'`);
  }
  const resolvers = fields.resolvers ?? [DOCKER_RESOLVER];
  if (!Array.isArray(resolvers) || resolvers.length === 0)
    throw new UsageError(`${file}: 'egress.resolvers' must be a list of IPv4 addresses`);
  return {
    // An allow list without presets is a devkit.yml from before presets, whose list was the whole policy.
    presets: fields.presets !== undefined ? presetList(fields.presets, file) : fields.allow === undefined ? [...DEFAULT_PRESETS] : [],
    allow: hostList(fields.allow ?? [], 'egress.allow', file),
    deny: hostList(fields.deny ?? [], 'egress.deny', file),
    ports: portList(fields.ports ?? [443], 'egress.ports', file),
    agents,
    hosts,
    resolvers: resolvers.map((address) => checkIpv4(String(address), `${file}: 'egress.resolvers' entry`)),
    networks: stringList(fields.networks ?? [], 'egress.networks', file).map((name) => {
      if (!DOCKER_NETWORK.test(name))
        throw new UsageError(`${file}: 'egress.networks' entry ${JSON.stringify(name)} is not a Docker network name`);
      return name;
    }),
  };
}

export function validateSsh(raw: unknown, file: string): SshConfig {
  if (raw === undefined) return { ...DEFAULT_SSH };
  const fields = mapping(raw, 'ssh', file);
  onlyKeys(fields, ['host', 'hostName', 'port', 'user', 'proxy'], 'ssh', file);
  const host = fields.host === undefined ? DEFAULT_SSH.host : checkHostName(text(fields.host, 'ssh.host', file), `${file}: 'ssh.host'`);
  const user = fields.user ?? DEFAULT_SSH.user;
  if (typeof user !== 'string' || !/^[a-z_][a-z0-9_-]{0,31}$/.test(user))
    throw new UsageError(`${file}: 'ssh.user' must be a user name, got ${JSON.stringify(user)}`);
  const proxy = fields.proxy ?? DEFAULT_SSH.proxy;
  const proxyParts = typeof proxy === 'string' ? /^([^:\s]+):(\d+)$/.exec(proxy) : null;
  if (proxyParts?.[1] === undefined || proxyParts[2] === undefined)
    throw new UsageError(`${file}: 'ssh.proxy' must be host:port, got ${JSON.stringify(proxy)}`);
  checkHostName(proxyParts[1], `${file}: 'ssh.proxy' host`);
  port(Number(proxyParts[2]), 'ssh.proxy port', file);
  return {
    proxy: proxy as string,
    host,
    hostName:
      fields.hostName === undefined
        ? fields.host === undefined
          ? DEFAULT_SSH.hostName
          : host
        : checkHostName(text(fields.hostName, 'ssh.hostName', file), `${file}: 'ssh.hostName'`),
    port: fields.port === undefined ? (fields.host === undefined ? DEFAULT_SSH.port : 22) : port(fields.port, 'ssh.port', file),
    user,
  };
}

/** A git identity part: one line of printable text git keeps as it is (no angle brackets, which end an ident in a commit). */
function identityPart(value: unknown, what: string, file: string): string {
  const part = text(value, what, file);
  const allowed = what.endsWith('email') ? /^[^\s<>"\\]+$/u : /^[^\p{Cc}<>"\\]+$/u;
  if (part.trim() !== part || !allowed.test(part))
    throw new UsageError(
      `${file}: '${what}' must be one line without surrounding spaces, quotes, backslashes or angle brackets` +
        `${what.endsWith('email') ? ' (and no spaces)' : ''}, got ${JSON.stringify(part)}`,
    );
  return part;
}

function identityFields(raw: unknown, what: string, file: string): { name?: string; email?: string } {
  const fields = mapping(raw, what, file);
  return {
    ...(fields.name === undefined ? {} : { name: identityPart(fields.name, `${what}.name`, file) }),
    ...(fields.email === undefined ? {} : { email: identityPart(fields.email, `${what}.email`, file) }),
  };
}

export function validateGitIdentity(raw: unknown, file: string): GitIdentityConfig {
  if (raw === undefined) return { agents: {} };
  const fields = mapping(raw, 'git', file);
  onlyKeys(fields, ['name', 'email', 'agents'], 'git', file);
  const agents: GitIdentityConfig['agents'] = {};
  for (const [name, body] of Object.entries(fields.agents === undefined ? {} : mapping(fields.agents, 'git.agents', file))) {
    if (parseAgentName(name) === null) throw new UsageError(`${file}: 'git.agents.${name}' is not an agent (agentK)`);
    onlyKeys(mapping(body, `git.agents.${name}`, file), ['name', 'email'], `git.agents.${name}`, file);
    agents[name] = identityFields(body, `git.agents.${name}`, file);
  }
  const { agents: _agents, ...shared } = fields;
  return { ...identityFields(shared, 'git', file), agents };
}

/**
 * The dev image a workspace's agents run: devkit's dev image, plus Debian
 * packages and npm CLIs (both fetched on the host, so no build needs the
 * network), then the user's own Dockerfile built FROM that.
 */
export interface ImageConfig {
  /** Debian package names, installed from .debs downloaded on the host. */
  packages: string[];
  /** npm specs (`name`, `name@version`) or absolute paths of package tarballs, installed on the host and copied in. */
  npm: string[];
  /** The user's Dockerfile (absolute), built FROM the image above (build arg DEVKIT_IMAGE); null when none. */
  dockerfile: string | null;
}

/** A Debian package name (Debian policy 5.6.1). */
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;
/** An npm package name, optionally @version or @tag (no URLs, no git specs: they would fetch what the key cannot see). */
const NPM_SPEC = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*(?:@[A-Za-z0-9.^~<>=*+|-]+)?$/;

function stringList(value: unknown, what: string, file: string): string[] {
  if (!Array.isArray(value) || value.some((each) => typeof each !== 'string'))
    throw new UsageError(`${file}: '${what}' must be a list of strings`);
  return value as string[];
}

/**
 * `image:` of devkit.yml. Paths are relative to the workspace; resolve turns
 * one into an absolute path and refuses one an agent could write (the dev
 * root): what it names is built or installed on the host.
 */
export function validateImage(raw: unknown, file: string, resolve: (raw: string, what: string) => string): ImageConfig {
  if (raw === undefined) return { packages: [], npm: [], dockerfile: null };
  const fields = mapping(raw, 'image', file);
  onlyKeys(fields, ['packages', 'npm', 'dockerfile'], 'image', file);
  const packages = stringList(fields.packages ?? [], 'image.packages', file).map((name) => {
    if (!DEBIAN_PACKAGE.test(name))
      throw new UsageError(`${file}: 'image.packages' entry ${JSON.stringify(name)} is not a Debian package name`);
    return name;
  });
  const npm = stringList(fields.npm ?? [], 'image.npm', file).map((spec) => {
    if (spec.endsWith('.tgz')) return resolve(spec, 'image.npm');
    if (!NPM_SPEC.test(spec))
      throw new UsageError(
        `${file}: 'image.npm' entry ${JSON.stringify(spec)} is neither an npm package name[@version] nor a path to a .tgz`,
      );
    return spec;
  });
  const dockerfile =
    fields.dockerfile === undefined ? null : resolve(text(fields.dockerfile, 'image.dockerfile', file), 'image.dockerfile');
  return { packages: [...new Set(packages)].sort(), npm, dockerfile };
}

/** Shell commands devkit.yml runs inside an agent's container at points of its life (see hooks/). */
export interface HooksConfig {
  /** After an agent's first successful up, once per agent. */
  postCreate: string[];
  /** Before worktrees remove K (and team destroy) removes it; a failure refuses the removal. */
  preRemove: string[];
}

/** One hook: a shell command, or a list of them run in order. */
function hookCommands(value: unknown, what: string, file: string): string[] {
  const commands = typeof value === 'string' ? [value] : value;
  const bad = (got: unknown): UsageError =>
    new UsageError(`${file}: '${what}' must be a shell command (a string) or a list of them, got ${JSON.stringify(got)}`);
  if (!Array.isArray(commands)) throw bad(value);
  return commands.map((command: unknown) => {
    if (typeof command !== 'string' || command.trim() === '' || command.includes('\0')) throw bad(command);
    return command;
  });
}

export function validateHooks(raw: unknown, file: string): HooksConfig {
  if (raw === undefined) return { postCreate: [], preRemove: [] };
  const fields = mapping(raw, 'hooks', file);
  onlyKeys(fields, ['postCreate', 'preRemove'], 'hooks', file);
  return {
    postCreate: fields.postCreate === undefined ? [] : hookCommands(fields.postCreate, 'hooks.postCreate', file),
    preRemove: fields.preRemove === undefined ? [] : hookCommands(fields.preRemove, 'hooks.preRemove', file),
  };
}

/**
 * Where agents' containers run: a docker context per workspace (`engine:`)
 * and per agent (`agents.agentK.engine`). Unset, devkit uses the engine the
 * docker CLI would (DOCKER_HOST, DOCKER_CONTEXT, the current context).
 */
export interface EnginesConfig {
  /** `engine:`, or null. */
  workspace: string | null;
  /** agentK → its `agents.agentK.engine`. */
  agents: Record<string, string>;
}

/** A docker context's name, as `docker context create` takes one. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]{0,99}$/;

function contextName(raw: unknown, what: string, file: string): string {
  if (typeof raw !== 'string' || !CONTEXT_NAME.test(raw))
    throw new UsageError(`${file}: '${what}' must name a docker context (docker context ls), got ${JSON.stringify(raw)}`);
  return raw;
}

export function validateEngines(engine: unknown, agentsRaw: unknown, file: string): EnginesConfig {
  const agents: Record<string, string> = {};
  for (const [name, body] of Object.entries(agentsRaw === undefined ? {} : mapping(agentsRaw, 'agents', file))) {
    const index = parseAgentName(name);
    if (index === null) throw new UsageError(`${file}: 'agents.${name}' is not an agent (agentK)`);
    const fields = mapping(body, `agents.${name}`, file);
    onlyKeys(fields, ['engine'], `agents.${name}`, file);
    if (fields.engine === undefined) continue;
    if (index === 1)
      throw new UsageError(
        `${file}: 'agents.agent1.engine': agent 1 works in the primary clone on this machine; give an engine to agents 2 and up`,
      );
    agents[name] = contextName(fields.engine, `agents.${name}.engine`, file);
  }
  return { workspace: engine === undefined ? null : contextName(engine, 'engine', file), agents };
}

/**
 * `registry:` — where remote engines get devkit's images from: this machine's
 * engine pushes them under this prefix (HOST[:PORT][/PATH], as an image name
 * starts), the remote engine pulls them. The first part must be a registry's
 * host (a dot or a port, or localhost), as the docker CLI tells one from a
 * Docker Hub namespace: `team/devkit` would push to Docker Hub's `team`.
 */
const REGISTRY_HOST = String.raw`localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*:[0-9]{1,5}`;
/** Path components as an image name has them (lower case, separated by ., _, __ or dashes). */
const REGISTRY_PATH = String.raw`(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*`;
const REGISTRY = new RegExp(`^(?<host>${REGISTRY_HOST})${REGISTRY_PATH}$`);

export function validateRegistry(raw: unknown, file: string): string | null {
  if (raw === undefined) return null;
  const value = text(raw, 'registry', file);
  const host = REGISTRY.exec(value)?.groups?.host;
  if (host === undefined || host.length > 255)
    throw new UsageError(
      `${file}: 'registry' must be a registry host with an optional path, as registry.example.com:5000/devkit ` +
        `(the host needs a dot or a port; docker.io/NAME for Docker Hub), got ${JSON.stringify(value)}`,
    );
  return value;
}
