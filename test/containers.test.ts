import { statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, removeStacks } from './support/docker.js';
import { relayTo, toEngine } from './support/engine-relay.js';
import { AGENT_UID, agentCopy, agentHome, devkit, git, inAgentContainer, makeDevRoot, type DevRootFixture } from './support/sandbox.js';

describeWithDocker('agents in their containers', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const inAgent = (k: number, script: string) => inAgentContainer(fx.workspace, k, script);

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await run(['worktrees', 'init', '4'])).exitCode).toBe(0);
    const ups = await Promise.all(['dev-all', 'agent2', 'agent3'].map((profile) => run(['-p', profile, 'up'])));
    for (const up of ups)
      expect({ exitCode: up.exitCode, stderr: up.exitCode === 0 ? '' : up.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
  });

  it('dev-all: exec-cd 2 agent2/<repo> is in agent 2 copy, with its HOME, on its branch', async () => {
    const result = await run([
      '-p',
      'dev-all',
      'exec-cd',
      '2',
      `agent2/${fx.repo}`,
      'sh',
      '-c',
      'pwd; echo $HOME; git rev-parse --abbrev-ref HEAD',
    ]);
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toBe(`/workspaces/dev/agent2/${fx.repo}\n/workspaces/dev/agent2/.devhome-agent2\nagent2/main`);
  });

  it('agent3: exec-cd 3 . is at /workspace with HOME /workspace/.devhome on agent3/main', async () => {
    const result = await inAgent(3, 'pwd; echo $HOME; git rev-parse --abbrev-ref HEAD');
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toBe('/workspace\n/workspace/.devhome\nagent3/main');
  });

  it('exec-cd reaches the container over TCP (DOCKER_HOST=tcp://...): stdin in, its end as EOF, output and exit code back', async () => {
    const relay = await relayTo(net.createServer({ allowHalfOpen: true }, toEngine));
    try {
      const result = await devkit(['-p', 'agent3', 'exec-cd', '3', '.', 'sh', '-c', 'pwd; cat; echo done >&2; exit 3'], {
        cwd: fx.workspace,
        env: { DOCKER_HOST: `tcp://127.0.0.1:${relay.port}` },
        input: 'through the relay\n',
      });
      expect(result).toEqual({ exitCode: 3, stdout: '/workspace\nthrough the relay', stderr: 'done' });
      expect(relay.connections).toBeGreaterThanOrEqual(2); // the exec's calls and its hijacked stream
    } finally {
      await relay.close();
    }
  });

  it("a commit inside agent 3's container reaches agent3/main on the host when devkit syncs, leaving agent 2 alone", async () => {
    const agent2Before = (await git(fx.primary, ['rev-parse', 'agent2/main'])).trim();
    const script =
      'echo from-container > inside.txt && git add inside.txt && git -c user.name=A -c user.email=a@b commit -qm "made inside" && git rev-parse HEAD';
    const result = await run(['-p', 'agent3', 'exec-cd', '3', '.', 'sh', '-c', script]);
    expect(result.exitCode).toBe(0);
    const commit = result.stdout.trim();
    const synced = await run(['sync', '3']);
    expect(synced).toMatchObject({ exitCode: 0, stdout: `agent3\tagent3/main moved at ${commit.slice(0, 10)}` });
    expect((await git(fx.primary, ['rev-parse', 'agent3/main'])).trim()).toBe(commit);
    expect((await git(fx.primary, ['log', '-1', '--format=%s', 'agent3/main'])).trim()).toBe('made inside');
    expect((await git(fx.primary, ['rev-parse', 'agent2/main'])).trim()).toBe(agent2Before);
    // Files the agent wrote belong to the agents' uid: the user's own, or 10000 when devkit runs as root.
    expect(statSync(path.join(agentCopy(fx, 3), 'inside.txt')).uid).toBe(AGENT_UID);
  });

  it("agent 2's container sees neither agent 3's copy nor its HOME", async () => {
    writeFileSync(path.join(agentHome(fx, 3), 'secret-of-agent3'), 'x');
    const probe = [
      `test -e ${agentCopy(fx, 3)} && echo sees-copy-by-host-path`,
      'test -n "$(ls -A /workspaces/dev)" && echo sees-dev-root',
      `find / -xdev -name secret-of-agent3 2>/dev/null`,
      `ls /workspace`,
    ].join('; ');
    const result = await run(['-p', 'agent2', 'exec-cd', '2', '.', 'sh', '-c', `${probe}; true`]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toMatch(/sees-copy|sees-dev-root|secret-of-agent3/);
    expect(result.stdout).toContain('README');
  });

  it('the shared repo is read-only inside every container; agent 1, whose copy it is, is told why its git cannot write', async () => {
    const gitDir = path.join(fx.primary, '.git');
    const tips = await git(fx.primary, ['for-each-ref']);
    const inside = await inAgent(
      2,
      `echo x > ${gitDir}/hooks/pre-commit && echo hook-written; git --git-dir=${gitDir} config core.hooksPath /tmp && echo config-written; ` +
        `git --git-dir=${gitDir} update-ref refs/heads/main HEAD~1 && echo ref-written; git fetch -q origin && git rev-parse origin/agent3/main; true`,
    );
    expect(inside.exitCode).toBe(0);
    expect(inside.stdout).not.toMatch(/-written/);
    expect(inside.stderr).toMatch(/Read-only file system/);
    // Reading it works: agent 2 fetches every branch from it.
    expect(inside.stdout.trim()).toBe((await git(fx.primary, ['rev-parse', 'agent3/main'])).trim());
    expect(await git(fx.primary, ['for-each-ref'])).toBe(tips);

    const agent1 = await run([
      '-p',
      'dev-all',
      'exec-cd',
      '1',
      fx.repo,
      'git',
      '-c',
      'user.name=a',
      '-c',
      'user.email=a@b',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'x',
    ]);
    expect(agent1.exitCode).not.toBe(0);
    expect(agent1.stderr).toMatch(/devkit: hint: .* is the shared repo, read-only inside containers/);
    // From agent 2's copy, git pointed at the shared repo by -C or --git-dir gets the same hint.
    for (const target of [`-C ${fx.primary}`, `--git-dir=${gitDir}`, `-c core.quotePath=false --git-dir ${gitDir}`]) {
      const pointed = await inAgent(2, `git ${target} branch from-agent-2`);
      expect({ target, exitCode: pointed.exitCode }).toEqual({ target, exitCode: 128 });
      expect(pointed.stderr).toContain(`devkit: hint: ${gitDir} is the shared repo, read-only inside containers`);
    }
  });

  it('ps lists each running profile and its services', async () => {
    const result = await run(['ps', '--json']);
    const { containers } = JSON.parse(result.stdout) as { containers: Array<{ profile: string; service: string; state: string }> };
    const running = containers
      .filter((c) => c.state === 'running')
      .map((c) => `${c.profile}/${c.service}`)
      .sort();
    expect(running).toEqual([
      'agent2/dev',
      'agent2/dns',
      'agent2/ports',
      'agent2/tinyproxy',
      'agent3/dev',
      'agent3/dns',
      'agent3/ports',
      'agent3/tinyproxy',
      'dev-all/dev',
      'dev-all/dns',
      'dev-all/tinyproxy',
    ]);
  });
});
