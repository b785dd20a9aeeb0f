import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, profileContainers, removeStacks } from './support/docker.js';
import { devkit, makeDevRoot, type DevRootFixture } from './support/sandbox.js';
import { paneShows, tmux } from './support/tmux.js';

/**
 * `up` never kills work in progress (issue 11): a running agent's container
 * that a new image would replace is left running while it has live exec
 * sessions (a tmux-shells window here), and `up` says so; `up --recreate`
 * replaces it.
 */
describeWithDocker('up with a shell open in the container', () => {
  let fx: DevRootFixture;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const devContainer = () => profileContainers(fx.root, 'agent2', { service: 'dev', running: true });

  beforeAll(async () => {
    fx = await makeDevRoot({ repo: `keep${process.pid}` });
    expect((await run(['worktrees', 'init', '2'])).exitCode).toBe(0);
    const shells = await run(['tmux-shells', '2']);
    expect(shells.exitCode, shells.stderr).toBe(0);
    await paneShows(`=${fx.repo}:agent2`, /^agent2:\/workspace\$/m);
  }, 300_000);
  afterAll(async () => {
    await tmux(['kill-session', '-t', `=${fx.repo}`]);
    await removeStacks(fx.root, fx.repo);
    fx.cleanup();
  });

  it('leaves the container and the window alive after an image change, and says so; --recreate replaces it', async () => {
    const before = await devContainer();
    expect(before).not.toBe('');
    mkdirSync(path.join(fx.workspace, 'image'));
    writeFileSync(
      path.join(fx.workspace, 'image', 'Dockerfile'),
      'ARG DEVKIT_IMAGE\nFROM ${DEVKIT_IMAGE}\nRUN echo second > /etc/marker\n',
    );
    appendFileSync(path.join(fx.workspace, 'devkit.yml'), 'image:\n  dockerfile: image/Dockerfile\n');

    const up = await run(['-p', 'agent2', 'up']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).toContain(
      'agent2: dev left running with 1 live session (tmux-shells window agent2 among them): ' +
        'recreating it for its new image or overlay would end them; devkit -p agent2 up --recreate does it',
    );
    expect(await devContainer()).toBe(before);
    await tmux(['send-keys', '-t', `=${fx.repo}:agent2`, 'echo still-$((40+2))', 'Enter']);
    await paneShows(`=${fx.repo}:agent2`, /^still-42$/m);

    const recreate = await run(['-p', 'agent2', 'up', '--recreate']);
    expect(recreate.exitCode, recreate.stderr).toBe(0);
    expect(recreate.stderr).not.toContain('left running');
    const after = await devContainer();
    expect(after).not.toBe(before);
    expect((await run(['agent', 'run', '2', '--', 'cat', '/etc/marker'])).stdout.trim()).toBe('second');
  });
});
