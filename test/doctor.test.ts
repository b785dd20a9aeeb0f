import { execa } from 'execa';
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectPrefix } from '../src/stack/project-names.js';
import { describeWithDocker, docker, profileContainers, removeStacks } from './support/docker.js';
import { agentCopy, agentRecords, devkit, git, makeDevRoot, writeAsAgent, type DevRootFixture } from './support/sandbox.js';

interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix: string | null;
}

describeWithDocker('doctor and gc on a broken setup', () => {
  let fx: DevRootFixture;
  let orphan = '';
  const run = (args: string[], env?: Record<string, string>) => devkit(args, { cwd: fx.workspace, env });
  const doctor = async (env?: Record<string, string>) => {
    const result = await run(['doctor', '--json'], env);
    return { exitCode: result.exitCode, findings: (JSON.parse(result.stdout) as { findings: Finding[] }).findings };
  };

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await run(['worktrees', 'init', '5'])).exitCode).toBe(0);
    expect((await run(['-p', 'agent2', 'up'])).exitCode).toBe(0);
    const healthy = await doctor();
    expect(healthy.findings.filter((f) => !f.ok)).toEqual([]);
    expect(healthy.exitCode).toBe(0);

    // A copy's folder deleted by hand.
    rmSync(agentCopy(fx, 3), { recursive: true });
    // A stale index.lock in agent 4's copy, its git long gone.
    const lock = path.join(agentCopy(fx, 4), '.git', 'index.lock');
    writeAsAgent(lock, '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    // An orphaned container with devkit's labels, for an agent that does not exist.
    const project = `${projectPrefix({ root: fx.root, repo: fx.repo })}-agent9`;
    orphan = await docker([
      'run',
      '-d',
      '--label',
      `devkit.root=${fx.root}`,
      '--label',
      'devkit.agent=agent9',
      '--label',
      'devkit.profile=agent9',
      '--label',
      `com.docker.compose.project=${project}`,
      '--label',
      'com.docker.compose.service=dev',
      'devkit/dev:local',
    ]);
    // A volume of an agent that is gone (it may hold data: reported, never collected).
    await docker(['volume', 'create', '--label', `com.docker.compose.project=${project}`, `${project}_data`]);
    // An overlay edited by hand, no longer what its template makes.
    const overlay = path.join(fx.workspace, 'overlays', 'agent2', 'compose.override.yml');
    writeFileSync(overlay, readFileSync(overlay, 'utf8').replace('working_dir: /workspace', 'working_dir: /tmp'));
    // Work in a copy that no longer links up as devkit made it (its .git swapped for a file): only its files hold it.
    rmSync(path.join(agentCopy(fx, 5), '.git'), { recursive: true });
    writeAsAgent(path.join(agentCopy(fx, 5), '.git'), 'gitdir: /somewhere/else\n');
    writeAsAgent(path.join(agentCopy(fx, 5), 'precious.txt'), 'only here\n');
  });
  afterAll(async () => {
    await execa('docker', ['rm', '-f', orphan], { reject: false });
    await execa('sh', ['-c', `docker volume ls -q | grep -- '-agent9_data$' | xargs -r docker volume rm`], { reject: false });
    if (fx !== undefined) {
      await removeStacks(fx.root, fx.repo);
      fx.cleanup();
    }
  });

  it('names each problem with the command that fixes it, and exits 1', async () => {
    const { exitCode, findings } = await doctor();
    expect(exitCode).toBe(1);
    // As people read it: within 100 columns, every problem and its fix shown.
    const text = await run(['doctor']);
    expect(text.exitCode).toBe(1);
    const lines = text.stdout.split('\n');
    expect(lines.filter((line) => line.length > 100)).toEqual([]);
    expect(lines.filter((line) => line.startsWith('PROBLEM')).length).toBe(findings.filter((f) => !f.ok).length);
    expect(text.stdout.replace(/\n +/g, ' ')).toContain('fix: devkit overlay create agent2');
    const problems = findings.filter((f) => !f.ok).map((f) => [f.check, f.fix]);
    expect(problems).toEqual(
      expect.arrayContaining([
        ['containers', 'devkit gc'],
        ['volumes', expect.stringMatching(/^docker volume rm .*-agent9_data/)],
        ['overlay', 'devkit overlay create agent2'],
        ['worktrees: copy-missing', 'devkit worktrees prune --apply'],
        ['worktrees: stale-lock', 'devkit worktrees prune --apply'],
        [
          'worktrees: copy-tampered',
          "devkit worktrees remove 5 --force (saves its files to devkit's backups), then devkit worktrees init 5",
        ],
      ]),
    );
    expect(findings.find((f) => f.check === 'containers')?.detail).toMatch(/-agent9 runs for agent9, which no longer exists/);
    expect(findings.find((f) => f.check === 'engine')?.detail).toMatch(/^Docker Engine \d+\.\d+\.\d+\S* \(API 1\.\d+\) answers$/);
    expect(findings.find((f) => f.check === 'compose')).toMatchObject({ ok: true, detail: expect.stringMatching(/^Docker Compose v?2\./) });
  });

  it('names a stopped daemon', async () => {
    const { exitCode, findings } = await doctor({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(exitCode).toBe(1);
    expect(findings.find((f) => f.check === 'engine')).toMatchObject({ ok: false, fix: 'scripts/docker-engine.sh start' });
  });

  it('gc fixes all but the one holding work', async () => {
    expect((await run(['gc'])).exitCode).toBe(0);
    const { findings } = await doctor();
    // Left: the copy holding work, the volume that may hold data, and the hand-edited overlay (a person's edit).
    expect(
      findings
        .filter((f) => !f.ok)
        .map((f) => f.check)
        .sort(),
    ).toEqual(['overlay', 'volumes', 'worktrees: copy-tampered']);
    expect(readFileSync(path.join(agentCopy(fx, 5), 'precious.txt'), 'utf8')).toBe('only here\n');
    expect(existsSync(path.join(agentCopy(fx, 4), '.git', 'index.lock'))).toBe(false);
    expect((await execa('docker', ['inspect', orphan], { reject: false })).exitCode).not.toBe(0);
    expect(agentRecords(fx)).toEqual([2, 4, 5]);
    expect((await git(fx.primary, ['branch', '--list', 'agent3/main'])).trim()).toBe('agent3/main');
    // Agent 2 still exists, so its running containers were left alone.
    expect(await profileContainers(fx.root, 'agent2', { running: true })).not.toBe('');
  });
});
