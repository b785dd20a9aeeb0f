import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_BASE_IMAGE } from '../src/config/config.js';
import { BASE_RECIPE_HASH } from '../src/docker/images.js';
import { describeWithDocker, docker, removeStacks } from './support/docker.js';
import { agentCopy, devkit, expectRefused, git, makeDevRoot, snapshot, tempDir, type DevRootFixture } from './support/sandbox.js';

interface Mount {
  Source: string;
  Destination: string;
  RW: boolean;
}

async function devContainer(fx: DevRootFixture, profile: string): Promise<{ id: string; mounts: Mount[] }> {
  const id = await docker([
    'ps',
    '-q',
    '--filter',
    `label=devkit.root=${fx.root}`,
    '--filter',
    `label=devkit.profile=${profile}`,
    '--filter',
    'label=com.docker.compose.service=dev',
  ]);
  const mounts = JSON.parse(await docker(['inspect', '--format', '{{json .Mounts}}', id])) as Mount[];
  return { id, mounts };
}

describeWithDocker('the compose stack', () => {
  let fx: DevRootFixture;
  const run = (args: string[], env?: Record<string, string>) => devkit(args, { cwd: fx.workspace, env });

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await run(['worktrees', 'init', '4'])).exitCode).toBe(0);
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root);
      fx.cleanup();
    }
  });

  it("agents 2, 3 and 4 brought up at once run three containers, each mounting its own copy, none recreating another's", async () => {
    expect((await run(['-p', 'agent2', 'up'])).exitCode).toBe(0);
    const agent2 = await devContainer(fx, 'agent2');
    const ups = await Promise.all(['agent2', 'agent3', 'agent4'].map((profile) => run(['-p', profile, 'up'])));
    for (const up of ups) expect(up.exitCode).toBe(0);
    // Off a terminal: at most two lines per agent, devkit's own, not compose's (those come with --verbose).
    ups.forEach((up, i) => {
      const profile = `agent${i + 2}`;
      expect(up.stdout).toBe(`${profile}: dev running, dns running, ports running, tinyproxy running`);
      // stderr: nothing, or the one line saying whose up it waits for.
      expect(up.stderr).toMatch(/^(devkit: waiting for pid \d+ \(devkit -p agent\d up, since [^)]+\) to finish)?$/);
    });
    const verbose = await run(['--verbose', '-p', 'agent2', 'up']);
    expect(verbose.stderr).toMatch(/Container .*agent2-dev-1 +(Running|Healthy|Started)/);
    for (const k of [2, 3, 4]) {
      const container = await devContainer(fx, `agent${k}`);
      expect(container.id).toMatch(/^[0-9a-f]{12}$/);
      expect(container.mounts).toContainEqual(expect.objectContaining({ Source: agentCopy(fx, k), Destination: '/workspace', RW: true }));
      expect(container.mounts.filter((m) => m.Destination === '/workspace')).toHaveLength(1);
    }
    expect((await devContainer(fx, 'agent2')).id).toBe(agent2.id);
  });

  it('docker compose up by hand with the overlay agrees with devkit up: nothing is recreated', async () => {
    expect((await run(['-p', 'agent3', 'up'])).exitCode).toBe(0);
    const before = await devContainer(fx, 'agent3');
    const overlay = path.join('overlays', 'agent3', 'compose.override.yml');
    const byHand = await execa('docker', ['compose', '-f', 'compose.yml', '-f', overlay, 'up', '-d'], { cwd: fx.workspace, reject: false });
    expect(byHand.exitCode).toBe(0);
    expect((await devContainer(fx, 'agent3')).id).toBe(before.id);
    const config = await execa('docker', ['compose', '-f', 'compose.yml', '-f', overlay, 'config', '--format', 'json'], {
      cwd: fx.workspace,
    });
    const parsed = JSON.parse(config.stdout) as { name: string; services: { dev: { labels: Record<string, string> } } };
    expect(parsed.name).toMatch(/-agent3$/);
    expect(parsed.services.dev.labels).toMatchObject({ 'devkit.agent': 'agent3', 'devkit.repo': fx.repo, 'devkit.profile': 'agent3' });
  });

  it('down keeps the shared caches, even with --volumes, and up brings the agent back; -q keeps compose quiet too', async () => {
    expect(await run(['-q', '-p', 'agent4', 'up'])).toMatchObject({ exitCode: 0, stderr: '' });
    const marker = `cache-${process.pid}`;
    expect((await run(['-p', 'agent4', 'exec-cd', '4', '.', 'sh', '-c', `touch /cache/ivy2/${marker}`])).exitCode).toBe(0);
    expect(await run(['-q', '-p', 'agent4', 'down', '--volumes'])).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await docker(['ps', '-aq', '--filter', `label=devkit.root=${fx.root}`, '--filter', 'label=devkit.profile=agent4'])).toBe('');
    expect((await run(['-p', 'agent4', 'up'])).exitCode).toBe(0);
    expect((await run(['-p', 'agent4', 'exec-cd', '4', '.', 'test', '-e', `/cache/ivy2/${marker}`])).exitCode).toBe(0);
  });

  it('worktrees remove refuses an agent whose container runs, even with --force, and goes ahead once it is down', async () => {
    expect((await run(['-p', 'agent4', 'up'])).exitCode).toBe(0);
    const refused = await run(['worktrees', 'remove', '4', '--force']);
    expect(refused).toMatchObject({
      exitCode: 1,
      stderr: "devkit: agent4 runs and could still write agent 4's copy: run devkit -p agent4 down first",
    });
    expect(existsSync(agentCopy(fx, 4))).toBe(true);
    expect((await run(['-p', 'agent4', 'down'])).exitCode).toBe(0);
    expect((await run(['worktrees', 'remove', '4', '--force'])).exitCode).toBe(0);
    expect((await run(['worktrees', 'init', '4'])).exitCode).toBe(0);
  });

  it('overlay create writes a checked overlay once, then leaves it unchanged', async () => {
    const first = JSON.parse((await run(['overlay', 'create', 'agent2', '--json'])).stdout) as { action: string; file: string };
    expect(['created', 'unchanged']).toContain(first.action);
    expect(first.file).toBe(path.join(fx.workspace, 'overlays', 'agent2', 'compose.override.yml'));
    const again = JSON.parse((await run(['overlay', 'create', 'agent2', '--json'])).stdout) as { action: string };
    expect(again.action).toBe('unchanged');
  });

  it('image build returns at once when the images are up to date', async () => {
    const result = await run(['image', 'build', '--json']);
    const { images } = JSON.parse(result.stdout) as { images: Array<{ tag: string; built: boolean }> };
    expect(images.map((image) => [image.tag, image.built])).toEqual([
      ['devkit/dev:local', false],
      ['devkit/proxy:local', false],
      ['devkit/dns:local', false],
      ['devkit/ports:local', false],
    ]);
  });

  it("labels the bootstrapped base with its recipe's hash, so a devkit whose package list changed makes it again", async () => {
    const label = await docker(['image', 'inspect', '--format', '{{index .Config.Labels "devkit.base-recipe"}}', DEFAULT_BASE_IMAGE]);
    expect(label).toBe(BASE_RECIPE_HASH);
  });

  it('up refuses a stack that is not a sandbox (compose.yml edited), and no container is made or changed', async () => {
    const composeFile = path.join(fx.workspace, 'compose.yml');
    const containers = () => docker(['ps', '-a', '--format', '{{.ID}} {{.CreatedAt}}', '--filter', `label=devkit.root=${fx.root}`]);
    const before = await containers();
    const original = readFileSync(composeFile, 'utf8');
    const edits: Array<[string, RegExp]> = [
      ['    init: true\n    privileged: true\n', /dev is privileged/],
      ['    init: true\n    cap_add: [SYS_ADMIN]\n', /dev adds capabilities SYS_ADMIN/],
      ['    init: true\n    sysctls: { net.ipv4.ip_forward: 1 }\n', /dev sets net\.ipv4\.ip_forward/],
      ['    init: true\n    pid: host\n', /dev shares the host's pid/],
    ];
    try {
      for (const [edit, problem] of edits) {
        // The first service in compose.yml is dev: the edit goes into it.
        writeFileSync(composeFile, original.replace('    init: true\n', edit));
        const result = await run(['-p', 'agent3', 'up']);
        expectRefused(result, problem, { exitCode: 1 });
        expect(result.stderr).toMatch(/^devkit: the agent3 stack is not a sandbox/);
        expect(await containers()).toBe(before);
      }
      // A compose.yml that is not YAML any more: one line naming it.
      writeFileSync(composeFile, `${original}\nservices: [unclosed\n`);
      expectRefused(await run(['-p', 'agent3', 'up']), /compose\.yml: not valid YAML/);
      expect(await containers()).toBe(before);
    } finally {
      writeFileSync(composeFile, original);
    }
  });

  it('bad profiles and a missing engine: one line, exit 2 or 1, nothing changed', async () => {
    const cases: Array<[string[], number, RegExp, Record<string, string>?]> = [
      [['up'], 2, /this command needs a profile/],
      [['-p', 'Agent2', 'up'], 2, /profile "Agent2" is not a valid name/],
      [['-p', 'nope', 'up'], 2, /unknown profile nope: use dev-all or agentK/],
      [['-p', 'agent9', 'up'], 2, /there is no agent 9 \(agents: 1, 2, 3, 4\)/],
      [['-p', 'agent2', 'up'], 1, /cannot reach the Docker engine/, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }],
    ];
    for (const [args, code, message, env] of cases) {
      const before = snapshot(fx.workspace);
      expectRefused(await run(args, env), message, { exitCode: code, unchanged: { dir: fx.workspace, before } });
    }
  });
});

describeWithDocker('overlays for awkward paths', () => {
  it('a root with spaces, quotes, colons, # and $ renders an overlay compose takes literally', async () => {
    const base = tempDir('awkward');
    const root = path.join(base, 'dev root: "x" #1 $HOME {{y}}');
    const primary = path.join(root, 'app');
    mkdirSync(primary, { recursive: true });
    await git(primary, ['init', '-q', '-b', 'main']);
    await git(primary, ['commit', '-q', '--allow-empty', '-m', 'first']);
    const workspace = path.join(base, 'ws');
    mkdirSync(workspace);
    expect((await devkit(['init', '--root', root, '--repo', 'app'], { cwd: workspace })).exitCode).toBe(0);
    expect((await devkit(['worktrees', 'init', '2'], { cwd: workspace })).exitCode).toBe(0);
    const created = await devkit(['overlay', 'create', 'agent2'], { cwd: workspace });
    expect(created.exitCode).toBe(0);
    expect(existsSync(path.join(workspace, 'overlays', 'agent2', 'compose.override.yml'))).toBe(true);
    expect(readFileSync(path.join(workspace, 'overlays', 'agent2', 'compose.override.yml'), 'utf8')).toContain('$$HOME');
    // What the engine mounts is the path itself: nothing interpolated, nothing cut at a quote or colon.
    try {
      expect((await devkit(['-p', 'agent2', 'up'], { cwd: workspace })).exitCode).toBe(0);
      const id = await docker(['ps', '-q', '--filter', `label=devkit.root=${root}`, '--filter', 'label=com.docker.compose.service=dev']);
      const mounts = JSON.parse(await docker(['inspect', '--format', '{{json .Mounts}}', id])) as Array<{
        Source: string;
        Destination: string;
      }>;
      expect(mounts).toContainEqual(expect.objectContaining({ Source: path.join(root, 'agent2', 'app'), Destination: '/workspace' }));
      const pwd = await devkit(['-p', 'agent2', 'exec-cd', '2', '.', 'git', 'rev-parse', '--abbrev-ref', 'HEAD'], { cwd: workspace });
      expect(pwd).toMatchObject({ exitCode: 0, stdout: 'agent2/main' });
    } finally {
      await removeStacks(root);
      rmSync(base, { recursive: true, force: true });
    }
  });
});
