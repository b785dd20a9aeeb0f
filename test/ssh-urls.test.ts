import { describe, expect, it } from 'vitest';
import { DEFAULT_SSH } from '../src/config/sections.js';
import { explainPushFailure, sshRemoteUrl } from '../src/ssh/push.js';
import { parseDenials } from '../src/policy/log.js';
import { renderPolicyFiles } from '../src/policy/policy.js';

// Our own logic around git's, nc's, tinyproxy's and dnsmasq's words; the same paths run against the real programs in egress-ssh.test.ts.
describe('SSH remotes and push failures', () => {
  it('maps an https GitHub origin to its SSH form and keeps SSH origins', () => {
    expect(sshRemoteUrl('https://github.com/acme/app', DEFAULT_SSH)).toBe('git@github.com:acme/app.git');
    expect(sshRemoteUrl('https://github.com/acme/app.git', DEFAULT_SSH)).toBe('git@github.com:acme/app.git');
    expect(sshRemoteUrl('https://token@github.com/acme/app.git/', DEFAULT_SSH)).toBe('git@github.com:acme/app.git');
    expect(sshRemoteUrl('git@github.com:acme/app.git', DEFAULT_SSH)).toBe('git@github.com:acme/app.git');
    expect(sshRemoteUrl('ssh://git@github.com/acme/app.git', DEFAULT_SSH)).toBe('ssh://git@github.com/acme/app.git');
    expect(() => sshRemoteUrl('https://gitlab.example/acme/app.git', DEFAULT_SSH)).toThrow(/is on gitlab.example, not on github.com/);
    expect(() => sshRemoteUrl('/srv/git/app.git', DEFAULT_SSH)).toThrow(/neither an https nor an SSH URL/);
  });

  it('explains a refused key and a denied host from what ssh and nc print', () => {
    const where = { agent: 'agent2', index: 2, ssh: DEFAULT_SSH };
    expect(
      explainPushFailure('git@ssh.github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', where),
    ).toMatch(/refused agent2's key/);
    expect(explainPushFailure('nc: Proxy error: "HTTP/1.1 403 Filtered"\nkex_exchange_identification: Connection closed', where)).toMatch(
      /egress policy refuses ssh\.github\.com:443/,
    );
    expect(explainPushFailure('fatal: something else\n', where)).toBe("git push from agent2's container failed: fatal: something else");
  });
});

describe('policy files and proxy logs', () => {
  it('matches each domain and its subdomains only, and forwards only those names', () => {
    const files = renderPolicyFiles('agent2', {
      allow: ['github.com', 'repo1.maven.org'],
      ports: [443, 22],
      hosts: { 'git.corp.example': '10.1.2.3' },
      resolvers: ['127.0.0.11'],
    });
    const patterns = (files.filter ?? '')
      .trim()
      .split('\n')
      .map((line) => new RegExp(line));
    const allowed = (host: string) => patterns.some((pattern) => pattern.test(host));
    expect(['github.com', 'ssh.github.com', 'repo1.maven.org'].every(allowed)).toBe(true);
    expect(['evilgithub.com', 'github.com.evil.org', 'maven.org', 'repo1xmaven.org', 'x.git.corp.example'].some(allowed)).toBe(false);
    // A named host is allowed as it is (not its subdomains), and answered with its address by the resolver.
    expect(allowed('git.corp.example')).toBe(true);
    expect(files.hosts).toBe('10.1.2.3 git.corp.example\n');
    expect(files['dns-servers']).toBe('server=/github.com/127.0.0.11\nserver=/repo1.maven.org/127.0.0.11\n');
    expect(files['tinyproxy.conf']).toMatch(/^FilterDefaultDeny Yes$/m);
    expect(files['tinyproxy.conf']).toMatch(/^FilterType ere$/m);
    expect(files['tinyproxy.conf']).toMatch(/^ConnectPort 443\nConnectPort 22$/m);
  });

  it("reads refusals from tinyproxy's log", () => {
    const log = [
      'CONNECT   Nov 21 19:56:33.145 [1]: Request (file descriptor 4): GET http://beta.test/ HTTP/1.1',
      'NOTICE    Nov 21 19:56:33.145 [1]: Proxying refused on filtered domain "beta.test"',
      'INFO      Nov 21 19:57:01.002 [1]: Refused CONNECT method on port 80',
    ].join('\n');
    expect(parseDenials('agent2', log)).toEqual([
      { profile: 'agent2', time: 'Nov 21 19:56:33.145', target: 'beta.test', reason: 'domain' },
      { profile: 'agent2', time: 'Nov 21 19:57:01.002', target: 'port 80', reason: 'port' },
    ]);
  });
});
