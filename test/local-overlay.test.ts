import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, profileContainers, removeStacks } from './support/docker.js';
import { devkit, expectRefused, makeDevRoot, tempDir, type DevRootFixture } from './support/sandbox.js';

/**
 * The user's own overlay (issue 11): compose.local.yml beside compose.yml (every
 * profile) and in a profile's overlay folder (that profile), layered after
 * devkit's, kept across `overlay create`, checked by compose and by the
 * sandbox check like the rest.
 */
describeWithDocker("the user's compose.local.yml", () => {
  let fx: DevRootFixture;
  let data: string;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const local = (text: string, profile?: string): void => {
    const dir = profile === undefined ? fx.workspace : path.join(fx.workspace, 'overlays', profile);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'compose.local.yml'), text);
  };
  const devMount = (source: string, readOnly: boolean): string =>
    `services:\n  dev:\n    volumes:\n      - { type: bind, source: ${JSON.stringify(source)}, target: /data, read_only: ${readOnly} }\n`;

  beforeAll(async () => {
    fx = await makeDevRoot();
    data = tempDir('local-data');
    mkdirSync(data, { recursive: true });
    chmodSync(data, 0o755); // the agent's uid reads it
    writeFileSync(path.join(data, 'hello'), 'from the host\n', { mode: 0o644 });
    expect((await run(['worktrees', 'init', '4'])).exitCode).toBe(0);
    local(`${devMount(data, true)}    environment:\n      FROM_LOCAL: everyone\n`);
    local('services:\n  dev:\n    environment:\n      FROM_AGENT2: two\n', 'agent2');
    for (const k of [2, 3]) {
      const up = await run(['-p', `agent${k}`, 'up']);
      expect(up.exitCode, up.stderr).toBe(0);
    }
  }, 300_000);
  afterAll(async () => {
    await removeStacks(fx.root);
    fx.cleanup();
    rmSync(data, { recursive: true, force: true });
  });

  it("layers the workspace's file on every agent and a profile's own on that agent alone", async () => {
    const show = 'echo "$FROM_LOCAL/${FROM_AGENT2:-none}"; cat /data/hello';
    expect((await run(['agent', 'run', '2', '--', 'sh', '-c', show])).stdout).toBe('everyone/two\nfrom the host');
    expect((await run(['agent', 'run', '3', '--', 'sh', '-c', show])).stdout).toBe('everyone/none\nfrom the host');
  });

  it('is kept by overlay create and applies on the next up', async () => {
    expect((await run(['overlay', 'create', 'agent2'])).exitCode).toBe(0);
    const again = await run(['-p', 'agent2', 'up']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await run(['agent', 'run', '2', '--', 'printenv', 'FROM_AGENT2'])).stdout).toBe('two');
  });

  it('is refused, and nothing is made, when it mounts a folder writable, the dev root, or is not valid compose', async () => {
    const cases: Array<[string, RegExp]> = [
      [devMount(data, false), /dev mounts .*local-data.* writable: a host folder of your own is mounted read-only/],
      [devMount(fx.root, true), /dev mounts .* which holds or is inside the dev root/],
      [devMount(path.dirname(fx.root), true), /dev mounts .* which holds or is inside the dev root/],
      ['services:\n  dev:\n    no_such_setting: 1\n', /docker compose config .*failed: .*no_such_setting/],
    ];
    for (const [text, message] of cases) {
      local(text, 'agent4');
      expectRefused(await run(['-p', 'agent4', 'up']), message, { exitCode: 1 });
      expect(await profileContainers(fx.root, 'agent4')).toBe('');
    }
  });
});
