import type { SshConfig } from '../config/sections.js';
import { DevkitError, UsageError } from '../errors.js';
import { runAsAgent } from '../agents/writers.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths, type AgentPaths } from '../fleet/layout.js';
import { lstatIn, withSafeDir } from '../fs/safe.js';
import { configGet, headState, shortBranch } from '../git/repo.js';

/**
 * The origin as an SSH URL on the configured host: an https URL on that host
 * becomes `user@host:path`; an SSH URL is kept. Anything else is refused.
 */
export function sshRemoteUrl(origin: string, ssh: SshConfig): string {
  const https = /^https?:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/.exec(origin);
  if (https !== null) {
    const [, host, repoPath] = https;
    if (host !== ssh.host)
      throw new DevkitError(`origin ${origin} is on ${host}, not on ${ssh.host}: set ssh.host in devkit.yml, or give origin an SSH URL`);
    return `${ssh.user}@${ssh.host}:${(repoPath ?? '').replace(/\/$/, '').replace(/(\.git)?$/, '.git')}`;
  }
  if (/^(ssh:\/\/|[^/\s]+@[^/\s]+:)/.test(origin)) return origin;
  throw new DevkitError(`origin ${origin} is neither an https nor an SSH URL: repo-push-ssh pushes over SSH`);
}

/** git push's failure, said in one line with what to do. */
export function explainPushFailure(stderr: string, context: { agent: string; index: number; ssh: SshConfig }): string {
  if (/Permission denied \(publickey/.test(stderr)) {
    return (
      `${context.ssh.hostName} refused ${context.agent}'s key: add its public key ` +
      `(devkit ssh-setup --index ${context.index} prints it) as a deploy key with write access`
    );
  }
  if (/Proxy error: .*\b403\b|403 Filtered/.test(stderr)) {
    return (
      `the egress policy refuses ${context.ssh.hostName}:${context.ssh.port}: devkit policy allow ${context.ssh.hostName}, ` +
      `and devkit policy ports allow ${context.ssh.port} if it is not 443`
    );
  }
  // tinyproxy's answer when it cannot open the connection (no such name, nothing listening, no route).
  if (/Proxy error: .*\b(500|502|503|504)\b/.test(stderr)) {
    return (
      `the proxy cannot connect to ${context.ssh.hostName}:${context.ssh.port}: is the server up, and on the internet or ` +
      "on a network the proxy joins (devkit.yml's egress.networks)?"
    );
  }
  const last = stderr.trim().split('\n').filter(Boolean).slice(-2).join('; ');
  return `git push from ${context.agent}'s container failed: ${last || 'no message'}`;
}

export interface PushRequest {
  index: number;
  /** Default: the agent's branch (agent 1: the primary clone's). */
  branch?: string;
  /** Default: the agent's own profile. */
  profile?: string;
}

export interface PushResult {
  index: number;
  branch: string;
  url: string;
  profile: string;
}

function hasKey(fleet: Fleet, agent: AgentPaths): boolean {
  try {
    return withSafeDir(fleet.config.root, `${agent.rel.devhome}/.ssh`, (dir) => lstatIn(dir, 'id_ed25519')?.isFile() === true) === true;
  } catch {
    return false;
  }
}

/**
 * Pushes agent K's branch to origin over SSH from inside agent K's container
 * (its own profile unless another is named), through the proxy, with agent K's
 * key only: the key never leaves the agent's HOME and the sandbox.
 */
export async function pushOverSsh(fleet: Fleet, request: PushRequest): Promise<PushResult> {
  const agent = agentPaths(fleet.config, request.index);
  const primaryBranch = agent.branch === null ? (await headState(fleet.shared.git)).branch : null;
  const branch = request.branch ?? agent.branch ?? shortBranch(primaryBranch ?? '');
  if (branch === '' || branch.startsWith('-')) throw new UsageError(`no branch to push for ${agent.name}: name one`);
  if (!hasKey(fleet, agent)) throw new DevkitError(`${agent.name} has no SSH key yet: run devkit ssh-setup --index ${request.index}`);
  const origin = await configGet(fleet.shared.git, 'remote.origin.url');
  if (origin === null)
    throw new DevkitError(
      `${fleet.shared.top} has no origin remote: git remote add origin ${fleet.config.ssh.user}@${fleet.config.ssh.host}:OWNER/REPO.git`,
    );
  const url = sshRemoteUrl(origin, fleet.config.ssh);
  const profile = request.profile ?? agent.name;
  const cmd = ['git', 'push', '--porcelain', url, `refs/heads/${branch}:refs/heads/${branch}`];
  const result = await runAsAgent(fleet, request.index, profile, cmd);
  if (result.code !== 0)
    throw new DevkitError(explainPushFailure(result.stderr, { agent: agent.name, index: request.index, ssh: fleet.config.ssh }));
  return { index: request.index, branch, url, profile };
}
