import { execa } from 'execa';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, docker, profileContainers, removeStacks } from './support/docker.js';
import { GIT_SERVER, HTTP_SERVER, makeInternet, type Internet } from './support/internet.js';
import {
  agentCopy,
  agentGit,
  agentHome,
  devkit,
  expectRefused,
  git,
  inAgentContainer,
  makeDevRoot,
  snapshot,
  type DevRootFixture,
} from './support/sandbox.js';

describeWithDocker('egress policy and SSH through the proxy', () => {
  let fx: DevRootFixture;
  let internet: Internet;
  let gitServer: StartedTestContainer;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const inAgent = (k: number, script: string) => inAgentContainer(fx.workspace, k, script);

  beforeAll(async () => {
    fx = await makeDevRoot();
    internet = await makeInternet();
    const allowed = await internet.start('allowed.devkit.test', HTTP_SERVER('allowed'));
    await internet.start('blocked.devkit.test', HTTP_SERVER('blocked'));
    gitServer = await internet.start('git.devkit.test', GIT_SERVER);
    // The sites sit at private addresses, which the dns sidecar gives out only for names devkit.yml names with them.
    appendFileSync(
      path.join(fx.workspace, 'devkit.yml'),
      [
        'egress:',
        '  presets: [github, jvm, npm]',
        '  allow: [allowed.devkit.test, git.devkit.test]',
        // The npm preset's registry, played by the test site (the real one is never reached).
        `  hosts: { allowed.devkit.test: ${internet.address(allowed)}, registry.npmjs.org: ${internet.address(allowed)} }`,
        // The test's network, joined by each agent's sidecars on up: no docker network connect by hand.
        `  networks: [${internet.network.getName()}]`,
        'ssh:',
        '  host: git.devkit.test',
        '  port: 22',
        '',
      ].join('\n'),
    );
    await git(fx.primary, ['remote', 'add', 'origin', 'git@git.devkit.test:/srv/git/app.git']);
    expect((await run(['worktrees', 'init', '3'])).exitCode).toBe(0);
    expect((await run(['policy', 'ports', 'allow', '22'])).exitCode).toBe(0);
    for (const k of [2, 3]) expect((await run(['-p', `agent${k}`, 'up'])).exitCode).toBe(0);
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
    await internet?.stop();
  });

  it('lets an allowlisted site answer through the proxy, refuses another with 403, and nothing bypasses the proxy', async () => {
    const allowed = await inAgent(2, 'curl -s -m 5 http://allowed.devkit.test/');
    expect(allowed).toMatchObject({ exitCode: 0, stdout: 'hello from allowed' });
    const blocked = await inAgent(2, 'curl -s -m 5 -o /dev/null -w "%{http_code}" http://blocked.devkit.test/');
    expect(blocked.stdout).toBe('403');
    // CONNECT only to the configured ports (443 and 22 here): a tunnel to port 80 of an allowed site is refused.
    const tunnel = await inAgent(2, 'curl -s -m 5 -p -o /dev/null -w "%{http_connect}" http://allowed.devkit.test:80/');
    expect(tunnel.stdout).toBe('403');
    const log = JSON.parse((await run(['policy', 'log', '--agent', '2', '--json'])).stdout) as {
      denials: Array<{ target: string; reason: string }>;
    };
    expect(log.denials).toContainEqual(expect.objectContaining({ target: 'port 80', reason: 'port' }));
    expect(log.denials).toContainEqual(expect.objectContaining({ target: 'blocked.devkit.test', reason: 'domain' }));
    for (const name of ['allowed', 'blocked']) {
      const direct = await inAgent(2, `curl -s -m 3 --noproxy '*' http://${name}.devkit.test/`);
      expect(direct.exitCode).not.toBe(0);
      expect(direct.stdout).toBe('');
    }
  });

  it('answers NXDOMAIN for a name off the list, and resolves one on it', async () => {
    expect((await inAgent(2, 'getent hosts blocked.devkit.test')).exitCode).toBe(2);
    expect((await inAgent(2, 'getent hosts allowed.devkit.test')).stdout).toMatch(/\ballowed\.devkit\.test$/);
    const dns = await profileContainers(fx.root, 'agent2', { service: 'dns' });
    const logs = await execa('docker', ['logs', dns], { all: true });
    expect(logs.all).toMatch(/config blocked\.devkit\.test is NXDOMAIN/);
    // Its IPv6 address is asked for too, and answered in the sidecar (none): never forwarded to wait on a resolver.
    expect(logs.all).toMatch(/query\[AAAA\] allowed\.devkit\.test/);
    expect(logs.all).not.toMatch(/forwarded allowed\.devkit\.test/);
  });

  it('policy allow makes a refused site reachable without restarting the agent, and policy log shows the refusal', async () => {
    const dev = await profileContainers(fx.root, 'agent3', { service: 'dev' });
    const started = await docker(['inspect', '--format', '{{.State.StartedAt}}', dev]);
    expect((await inAgent(3, 'curl -s -m 5 -o /dev/null -w "%{http_code}" http://blocked.devkit.test/')).stdout).toBe('403');
    const log = JSON.parse((await run(['policy', 'log', '--agent', '3', '--json'])).stdout) as {
      denials: Array<{ profile: string; target: string }>;
    };
    expect(log.denials).toContainEqual(expect.objectContaining({ profile: 'agent3', target: 'blocked.devkit.test' }));

    const allow = await run(['policy', 'allow', 'blocked.devkit.test', '--agent', '3']);
    expect(allow).toMatchObject({
      exitCode: 0,
      stdout: expect.stringMatching(/allowed blocked\.devkit\.test for agent3; 2 running sidecar\(s\) reloaded/),
    });
    expect((await inAgent(3, 'curl -s -m 5 http://blocked.devkit.test/')).stdout).toBe('hello from blocked');
    // Only agent 3's list changed; agent 2 is still refused.
    expect((await inAgent(2, 'curl -s -m 5 -o /dev/null -w "%{http_code}" http://blocked.devkit.test/')).stdout).toBe('403');
    expect(await docker(['inspect', '--format', '{{.State.StartedAt}}', dev])).toBe(started);
    expect(readFileSync(path.join(fx.workspace, 'devkit.yml'), 'utf8')).toMatch(
      /agents:\n\s+agent3:\n\s+allow:\n\s+- blocked\.devkit\.test/,
    );
  });

  it("presets: agent 2 reaches the npm preset's registry; policy deny --agent 3 takes it from agent 3 alone, without a restart", async () => {
    const presets = JSON.parse((await run(['policy', 'presets', '--json'])).stdout) as { presets: Array<{ name: string; on: boolean }> };
    expect(presets.presets.filter((p) => p.on).map((p) => p.name)).toEqual(['github', 'jvm', 'npm']);
    const shown = JSON.parse((await run(['policy', 'show', '--agent', '3', '--json'])).stdout) as { allow: string[] };
    expect(shown.allow).toEqual(expect.arrayContaining(['registry.npmjs.org', 'github.com', 'repo1.maven.org']));
    const fetch = (k: number) => inAgent(k, 'curl -s -m 5 -w " %{http_code}" http://registry.npmjs.org/');
    expect((await fetch(3)).stdout).toBe('hello from allowed\n 200');

    const denied = await run(['policy', 'deny', 'registry.npmjs.org', '--agent', '3']);
    expect(denied).toMatchObject({
      exitCode: 0,
      stdout: 'denied registry.npmjs.org for agent3; 2 running sidecar(s) reloaded',
    });
    expect((await fetch(3)).stdout).toMatch(/<title>403 Filtered<\/title>[\s\S]* 403$/);
    expect((await fetch(2)).stdout).toBe('hello from allowed\n 200');
    expect(readFileSync(path.join(fx.workspace, 'devkit.yml'), 'utf8')).toMatch(/agent3:\n(\s+.*\n)*?\s+deny:\n\s+- registry\.npmjs\.org/);
    // Only a listed entry can be taken away: a name reached through a domain above it says so.
    const covered = await run(['policy', 'deny', 'api.github.com', '--agent', '2']);
    expect(covered).toMatchObject({ exitCode: 1, stdout: '' });
    expect(covered.stderr).toBe(
      'devkit: api.github.com is allowed through github.com (an entry allows all its subdomains), and cannot be denied alone: deny github.com --agent 2',
    );
  });

  it("pushes agent 2's branch to the git server over SSH through the proxy; agent 3's key is refused", async () => {
    const setup = await run(['ssh-setup', '--index', '2']);
    expect(setup.exitCode).toBe(0);
    expect(setup.stdout).toMatch(/^ssh-ed25519 \S+ devkit agent2@app$/);
    await execa('docker', ['exec', '-i', gitServer.getId(), 'sh', '-c', 'cat >> /home/git/.ssh/authorized_keys'], {
      input: `${setup.stdout}\n`,
    });
    const commit = await inAgent(
      2,
      'git -c user.name=A -c user.email=a@b commit -q --allow-empty -m "agent 2 pushes" && git rev-parse HEAD',
    );
    expect(commit.exitCode).toBe(0);

    const pushed = await run(['repo-push-ssh', '--index', '2']);
    expect(pushed).toMatchObject({
      exitCode: 0,
      stdout: "pushed agent2/main to git@git.devkit.test:/srv/git/app.git from agent2's container (agent2)",
    });
    expect(await docker(['exec', '-u', 'git', gitServer.getId(), 'git', '-C', '/srv/git/app.git', 'rev-parse', 'agent2/main'])).toBe(
      commit.stdout.trim(),
    );

    expect((await run(['ssh-setup', '--index', '3'])).exitCode).toBe(0);
    const refused = await run(['repo-push-ssh', '--index', '3']);
    expect(refused).toMatchObject({
      exitCode: 1,
      stderr:
        "devkit: git.devkit.test refused agent3's key: add its public key (devkit ssh-setup --index 3 prints it) as a deploy key with write access",
    });
    expect(await docker(['exec', '-u', 'git', gitServer.getId(), 'git', '-C', '/srv/git/app.git', 'branch', '--list', 'agent3/main'])).toBe(
      '',
    );

    // A git host the policy denies is named, with the fix.
    expect((await run(['policy', 'deny', 'git.devkit.test'])).exitCode).toBe(0);
    const denied = await run(['repo-push-ssh', '--index', '2']);
    expect(denied).toMatchObject({
      exitCode: 1,
      stderr:
        'devkit: the egress policy refuses git.devkit.test:22: devkit policy allow git.devkit.test, and devkit policy ports allow 22 if it is not 443',
    });
    expect((await run(['policy', 'allow', 'git.devkit.test'])).exitCode).toBe(0);

    // The git server off the network the proxy joined: the proxy cannot reach it, and the message says so (not "refused").
    await docker(['network', 'disconnect', internet.network.getName(), gitServer.getId()]);
    const unreachable = await run(['repo-push-ssh', '--index', '2']);
    await docker(['network', 'connect', '--alias', 'git.devkit.test', internet.network.getName(), gitServer.getId()]);
    expect(unreachable).toMatchObject({
      exitCode: 1,
      stderr:
        'devkit: the proxy cannot connect to git.devkit.test:22: is the server up, and on the internet or ' +
        "on a network the proxy joins (devkit.yml's egress.networks)?",
    });
  });

  it("ssh-setup is idempotent, keys are 0600, and no key shows in any agent's git status", async () => {
    // Run twice here, whatever ran before: the second run makes nothing and changes nothing.
    const setup = async () =>
      JSON.parse((await run(['ssh-setup', '--index', '2', '--json'])).stdout) as {
        publicKey: string;
        keyCreated: boolean;
        configChanged: boolean;
      };
    const first = await setup();
    expect(await setup()).toMatchObject({ publicKey: first.publicKey, keyCreated: false, configChanged: false });
    expect(readFileSync(path.join(agentHome(fx, 2), '.ssh', 'id_ed25519.pub'), 'utf8').trim()).toBe(first.publicKey);
    for (const k of ['1', '3']) expect((await run(['ssh-setup', '--index', k])).exitCode).toBe(0);
    for (const k of [1, 2, 3]) {
      expect(statSync(path.join(agentHome(fx, k), '.ssh', 'id_ed25519')).mode & 0o777).toBe(0o600);
      const status = await (k === 1 ? git : agentGit)(agentCopy(fx, k), ['status', '--porcelain', '--untracked-files=all']);
      expect(status).not.toMatch(/devhome|id_ed25519/);
    }
    // Inside the container the HOME is mounted at .devhome in the copy: still not in git status.
    const inside = await inAgent(2, 'git status --porcelain --untracked-files=all');
    expect(inside).toMatchObject({ exitCode: 0, stdout: '' });
    const ssh = await inAgent(2, 'ssh -F "$HOME/.ssh/config" -G git.devkit.test');
    expect(ssh.stdout).toMatch(/^proxycommand nc -X connect -x tinyproxy:8888 %h %p$/m);
  });

  it('bad input: exit 2, one line, nothing changed', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['ssh-setup', '--index', '0'], /--index K must be an integer from 1 to 64, got 0/],
      [['ssh-setup', '--index', '9'], /there is no agent 9 \(agents: 1, 2, 3\)/],
      [['repo-push-ssh', '--index', '7'], /there is no agent 7/],
      [['policy', 'allow', 'bad host'], /HOST "bad host" is not a host name/],
      [['policy', 'allow', 'a..b'], /HOST "a\.\.b" is not a host name/],
      [['policy', 'allow', 'UPPER.example'], /is not a host name/],
      [['policy', 'allow', 'example'], /HOST "example" is not a domain/],
      [['policy', 'deny', 'x.example', '--agent', 'two'], /--agent K must be an integer/],
    ];
    for (const [args, message] of cases) {
      const before = snapshot(path.dirname(fx.root));
      expectRefused(await run(args), message, { unchanged: { dir: path.dirname(fx.root), before } });
    }
  });
});

describeWithDocker('default SSH settings and the shared caches', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const inAgent = (k: number, script: string) => inAgentContainer(fx.workspace, k, script);
  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await run(['worktrees', 'init', '3'])).exitCode).toBe(0);
    for (const k of [2, 3]) expect((await run(['-p', `agent${k}`, 'up'])).exitCode).toBe(0);
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
  });

  it("ssh -G github.com inside the container: ssh.github.com, port 443, through the proxy, with the agent's key", async () => {
    expect((await run(['ssh-setup', '--index', '2'])).exitCode).toBe(0);
    const result = await inAgent(2, 'ssh -F "$HOME/.ssh/config" -G github.com; git config core.sshCommand');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^hostname ssh\.github\.com$/m);
    expect(result.stdout).toMatch(/^port 443$/m);
    expect(result.stdout).toMatch(/^proxycommand nc -X connect -x tinyproxy:8888 %h %p$/m);
    expect(result.stdout).toMatch(/^identitiesonly yes$/m);
    expect(result.stdout).toMatch(/^stricthostkeychecking accept-new$/m);
    expect(result.stdout).toMatch(/^ssh -F "\$HOME\/.ssh\/config"$/m);
  });

  it('repo-push-ssh without an origin says so in one line', async () => {
    expect((await run(['ssh-setup', '--index', '2'])).exitCode).toBe(0);
    const result = await run(['repo-push-ssh', '--index', '2']);
    expect(result).toMatchObject({
      exitCode: 1,
      stderr: `devkit: ${fx.primary} has no origin remote: git remote add origin git@github.com:OWNER/REPO.git`,
    });
  });

  it("two agents share the Ivy, sbt and Coursier caches, and neither sees the other's HOME", async () => {
    const marker = `shared-${process.pid}`;
    const write = await inAgent(
      2,
      `for d in /cache/ivy2 /cache/sbt /cache/coursier; do echo ${marker} > $d/${marker}; done; echo secret > $HOME/only-agent2`,
    );
    expect(write.exitCode).toBe(0);
    const read = await inAgent(
      3,
      `cat /cache/ivy2/${marker} /cache/sbt/${marker} /cache/coursier/${marker}; ls -A $HOME; find / -xdev -name only-agent2 2>/dev/null; echo "$JAVA_TOOL_OPTIONS"; echo "$COURSIER_CACHE"`,
    );
    expect(read.exitCode).toBe(0);
    const lines = read.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([marker, marker, marker]);
    expect(read.stdout).not.toContain('only-agent2');
    expect(read.stdout).toContain('-Dsbt.ivy.home=/cache/ivy2');
    expect(read.stdout).toContain('-Dhttps.proxyHost=tinyproxy');
    expect(lines).toContain('/cache/coursier');
  });
});
