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

  it('explains a refused key, a denied host and a host the proxy cannot reach from what ssh and nc print', () => {
    const where = { agent: 'agent2', index: 2, ssh: DEFAULT_SSH };
    expect(
      explainPushFailure('git@ssh.github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', where),
    ).toMatch(/refused agent2's key/);
    expect(explainPushFailure('nc: Proxy error: "HTTP/1.1 403 Filtered"\nkex_exchange_identification: Connection closed', where)).toMatch(
      /egress policy refuses ssh\.github\.com:443/,
    );
    expect(
      explainPushFailure('nc: Proxy error: "HTTP/1.0 500 Unable to connect"\nkex_exchange_identification: Connection closed', where),
    ).toMatch(/^the proxy cannot connect to ssh\.github\.com:443: /);
    expect(explainPushFailure('fatal: something else\n', where)).toBe("git push from agent2's container failed: fatal: something else");
  });
});

describe('policy files and proxy logs', () => {
  it('matches each domain and its subdomains only, plain HTTP on 80 or an allowed port, CONNECT on an allowed port; forwards only those names', () => {
    const files = renderPolicyFiles('agent2', {
      allow: ['github.com', 'repo1.maven.org'],
      ports: [443, 22],
      hosts: { 'git.corp.example': '10.1.2.3' },
      resolvers: ['127.0.0.11'],
    });
    const patterns = (files.filter ?? '')
      .trim()
      .split('\n')
      .map((line) => new RegExp(line, 'i'));
    // What tinyproxy matches: the request's URL, http://host[:port]/... for plain HTTP and host:port for CONNECT.
    const allowed = (url: string) => patterns.some((pattern) => pattern.test(url));
    const hostsAllowed = ['github.com', 'ssh.github.com', 'repo1.maven.org'];
    expect(
      hostsAllowed
        .flatMap((h) => [`http://${h}/`, `http://${h}:80/x`, `http://${h}`, `HTTP://${h.toUpperCase()}/`, `${h}:443`, `${h}:22`])
        .filter((u) => !allowed(u)),
    ).toEqual([]);
    const refused = [
      ...['evilgithub.com', 'github.com.evil.org', 'maven.org', 'repo1xmaven.org', 'x.git.corp.example'].flatMap((h) => [
        `http://${h}/`,
        `${h}:443`,
      ]),
      'http://github.com:18080/', // plain HTTP to a port off the list
      'github.com:80', // CONNECT to a port off the list
      'http://github.com@evil.org/', // a user name that looks like the host
      'http://evil.org/http://github.com/',
    ];
    expect(refused.filter(allowed)).toEqual([]);
    // A named host is allowed as it is (not its subdomains), and answered with its address by the resolver.
    expect(allowed('http://git.corp.example/') && allowed('git.corp.example:443')).toBe(true);
    expect(files.hosts).toBe('10.1.2.3 git.corp.example\n');
    expect(files['dns-servers']).toBe('server=/github.com/127.0.0.11\nserver=/repo1.maven.org/127.0.0.11\n');
    expect(files['tinyproxy.conf']).toMatch(/^FilterDefaultDeny Yes$/m);
    expect(files['tinyproxy.conf']).toMatch(/^FilterType ere$/m);
    expect(files['tinyproxy.conf']).toMatch(/^FilterURLs On$/m);
    expect(files.filter).not.toContain('#'); // tinyproxy would read the rest of the line as a comment
    expect(files['tinyproxy.conf']).toMatch(/^ConnectPort 443\nConnectPort 22$/m);
  });

  it("reads refusals from tinyproxy's log", () => {
    const log = [
      'CONNECT   Nov 21 19:56:33.145 [1]: Request (file descriptor 4): GET http://beta.test/ HTTP/1.1',
      'NOTICE    Nov 21 19:56:33.145 [1]: Proxying refused on filtered url "http://beta.test/index.html"',
      'INFO      Nov 21 19:57:01.002 [1]: Refused CONNECT method on port 80',
      'NOTICE    Nov 21 19:58:00.000 [1]: Proxying refused on filtered url "gamma.test:443"',
      'NOTICE    Nov 21 19:58:01.000 [1]: Proxying refused on filtered url "http://github.com:18080/"',
      'NOTICE    Nov 21 19:58:02.000 [1]: Proxying refused on filtered domain "delta.test"',
    ].join('\n');
    expect(parseDenials('agent2', log)).toEqual([
      { profile: 'agent2', time: 'Nov 21 19:56:33.145', target: 'beta.test', reason: 'domain' },
      { profile: 'agent2', time: 'Nov 21 19:57:01.002', target: 'port 80', reason: 'port' },
      { profile: 'agent2', time: 'Nov 21 19:58:00.000', target: 'gamma.test', reason: 'domain' },
      { profile: 'agent2', time: 'Nov 21 19:58:01.000', target: 'github.com:18080', reason: 'domain' },
      { profile: 'agent2', time: 'Nov 21 19:58:02.000', target: 'delta.test', reason: 'domain' },
    ]);
  });
});
