import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, removeStacks } from './support/docker.js';
import { agentCopy, agentHome, devkit, git, makeDevRoot, worktreeRecords, type DevRootFixture } from './support/sandbox.js';

describeWithDocker('agents in their containers', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await run(['worktrees', 'init', '4'])).exitCode).toBe(0);
    const ups = await Promise.all(['dev-all', 'agent2', 'agent3'].map((profile) => run(['-p', profile, 'up'])));
    for (const up of ups) expect({ exitCode: up.exitCode, stderr: up.exitCode === 0 ? '' : up.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
  });

  it('dev-all: exec-cd 2 agent2/<repo> is in agent 2 copy, with its HOME, on its branch', async () => {
    const result = await run(['-p', 'dev-all', 'exec-cd', '2', `agent2/${fx.repo}`, 'sh', '-c', 'pwd; echo $HOME; git rev-parse --abbrev-ref HEAD']);
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toBe(`/workspaces/dev/agent2/${fx.repo}\n/workspaces/dev/agent2/.devhome-agent2\nagent2/main`);
  });

  it('agent3: exec-cd 3 . is at /workspace with HOME /workspace/.devhome on agent3/main', async () => {
    const result = await run(['-p', 'agent3', 'exec-cd', '3', '.', 'sh', '-c', 'pwd; echo $HOME; git rev-parse --abbrev-ref HEAD']);
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toBe('/workspace\n/workspace/.devhome\nagent3/main');
  });

  it("a commit inside agent 3's container lands on agent3/main on the host, leaving agent 2 alone", async () => {
    const agent2Before = (await git(fx.primary, ['rev-parse', 'agent2/main'])).trim();
    const script = 'echo from-container > inside.txt && git add inside.txt && git -c user.name=A -c user.email=a@b commit -qm "made inside" && git rev-parse HEAD';
    const result = await run(['-p', 'agent3', 'exec-cd', '3', '.', 'sh', '-c', script]);
    expect(result.exitCode).toBe(0);
    const commit = result.stdout.trim();
    expect((await git(fx.primary, ['rev-parse', 'agent3/main'])).trim()).toBe(commit);
    expect((await git(fx.primary, ['log', '-1', '--format=%s', 'agent3/main'])).trim()).toBe('made inside');
    expect((await git(fx.primary, ['rev-parse', 'agent2/main'])).trim()).toBe(agent2Before);
    expect((await git(agentCopy(fx, 2), ['status', '--porcelain'])).trim()).toBe('');
    // Files the agent wrote belong to the user who ran devkit.
    expect(statSync(path.join(agentCopy(fx, 3), 'inside.txt')).uid).toBe(process.getuid?.());
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

  it('git worktree prune inside a container keeps every agent; hooks and config cannot be written', async () => {
    const before = await worktreeRecords(fx.primary);
    const hooks = path.join(fx.primary, '.git', 'hooks');
    const result = await run([
      '-p', 'agent2', 'exec-cd', '2', '.', 'sh', '-c',
      `git worktree prune; echo '#!/bin/sh' > ${hooks}/pre-commit && echo hook-written; git config core.hooksPath /tmp && echo config-written; true`,
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toMatch(/hook-written|config-written/);
    expect(result.stderr).toMatch(/Read-only file system/);
    expect(result.stderr).toMatch(/could not write config file/);
    expect(existsSync(path.join(hooks, 'pre-commit'))).toBe(false);
    expect(readFileSync(path.join(fx.primary, '.git', 'config'), 'utf8')).not.toContain('hooksPath');
    expect(await worktreeRecords(fx.primary)).toEqual(before);

    const fromDevAll = await run(['-p', 'dev-all', 'exec-cd', '1', fx.repo, 'sh', '-c', 'git worktree prune; echo x > .git/hooks/pre-commit && echo hook-written; true']);
    expect(fromDevAll.stdout).not.toContain('hook-written');
    expect(await worktreeRecords(fx.primary)).toEqual(before);
  });

  it('ps lists each running profile and its services', async () => {
    const result = await run(['ps', '--json']);
    const { containers } = JSON.parse(result.stdout) as { containers: Array<{ profile: string; service: string; state: string }> };
    const running = containers.filter((c) => c.state === 'running').map((c) => `${c.profile}/${c.service}`).sort();
    expect(running).toEqual(['agent2/dev', 'agent2/dns', 'agent2/tinyproxy', 'agent3/dev', 'agent3/dns', 'agent3/tinyproxy', 'dev-all/dev', 'dev-all/dns', 'dev-all/tinyproxy']);
  });
});
