import type { SshConfig } from '../config/sections.js';
import { DevkitError } from '../errors.js';

/**
 * The origin as an SSH URL on the configured host: an https URL on that host
 * becomes `user@host:path`; an SSH URL is kept. Anything else is refused.
 */
export function sshRemoteUrl(origin: string, ssh: SshConfig): string {
  const https = /^https?:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/.exec(origin);
  if (https !== null) {
    const [, host, repoPath] = https;
    if (host !== ssh.host) throw new DevkitError(`origin ${origin} is on ${host}, not on ${ssh.host}: set ssh.host in devkit.yml, or give origin an SSH URL`);
    return `${ssh.user}@${ssh.host}:${(repoPath ?? '').replace(/\/$/, '').replace(/(\.git)?$/, '.git')}`;
  }
  if (/^(ssh:\/\/|[^/\s]+@[^/\s]+:)/.test(origin)) return origin;
  throw new DevkitError(`origin ${origin} is neither an https nor an SSH URL: repo-push-ssh pushes over SSH`);
}

/** git push's failure, said in one line with what to do. */
export function explainPushFailure(stderr: string, context: { agent: string; index: number; ssh: SshConfig }): string {
  if (/Permission denied \(publickey/.test(stderr)) {
    return `${context.ssh.hostName} refused ${context.agent}'s key: add its public key (devkit ssh-setup --index ${context.index} prints it) as a deploy key with write access`;
  }
  if (/Proxy error: .*\b403\b|403 Filtered/.test(stderr)) {
    return `the egress policy refuses ${context.ssh.hostName}:${context.ssh.port}: devkit policy allow ${context.ssh.hostName}, and add port ${context.ssh.port} to egress.ports if it is not 443`;
  }
  const last = stderr.trim().split('\n').filter(Boolean).slice(-2).join('; ');
  return `git push from ${context.agent}'s container failed: ${last || 'no message'}`;
}
