import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.js';
import { agentCopy, backupsRepo, git, rootStateOf, snapshot } from '../support/sandbox.js';
import { makeArena, type Arena } from './attacker.js';

/**
 * G6. No work is lost, even when an agent misbehaves (threat-model.md, attacks
 * 13 and 14), and attack 18: a lock naming a foreign host, escape sequences
 * from proxies and records.
 */
describeWithDocker('G6: no work is lost to a misbehaving agent', () => {
  let arena: Arena;
  beforeAll(async () => {
    arena = await makeArena({ agents: 5, up: ['agent2', 'agent3', 'agent4'] });
  });
  afterAll(async () => arena?.tearDown());

  it('attack 13: ignored files and a nested repo count as work; excludes an agent edits hide nothing; --force saves all of it', async () => {
    const { fx } = arena;
    const made = await arena.inAgent(
      2,
      [
        'echo SECRET=1 > .env && mkdir -p target && echo built > target/out.jar && echo .env >> .gitignore && git add .gitignore && git -c user.name=a -c user.email=b commit -qm ignore',
        'git init -q vendor/lib && git -C vendor/lib -c user.name=a -c user.email=b commit -q --allow-empty -m "nested history"',
        "printf '*\\n' >> .git/info/exclude && echo hidden > hidden.txt",
        `printf '*\\n' >> ${fx.primary}/.git/info/exclude 2>/dev/null && echo EXCLUDED-IN-SHARED; echo done`,
      ].join(' && '),
    );
    expect(made).toMatchObject({ exitCode: 0, stdout: 'done' });
    expect((await arena.run(['-p', 'agent2', 'down'])).exitCode).toBe(0);
    const before = snapshot(agentCopy(fx, 2));
    const refused = await arena.run(['worktrees', 'remove', '2']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/agent 2 holds 1 untracked file, 2 ignored files, 1 nested repository/);
    expect(snapshot(agentCopy(fx, 2))).toEqual(before);
    const forced = await arena.run(['worktrees', 'remove', '2', '--force', '--json']);
    expect(forced.exitCode).toBe(0);
    const ref = (JSON.parse(forced.stdout) as { backup: { ref: string } }).backup.ref;
    const files = (await git(fx.primary, ['--git-dir', backupsRepo(fx), 'ls-tree', '-r', '--name-only', ref])).split('\n');
    expect(files).toEqual(expect.arrayContaining(['.env', 'target/out.jar', 'hidden.txt', '.devkit-backup/nested/vendor/lib.tar']));
    const tar = await git(fx.primary, ['--git-dir', backupsRepo(fx), 'cat-file', 'blob', `${ref}:.devkit-backup/nested/vendor/lib.tar`]);
    expect(tar).toContain('vendor/lib/.git/');
    expect((await arena.run(['worktrees', 'init', '2'])).exitCode).toBe(0);
  });

  it('attack 14: with an engine that does not answer, remove, team destroy and session cleanup refuse and keep everything', async () => {
    const { fx } = arena;
    const before = snapshot(fx.root);
    const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const removed = await arena.run(['worktrees', 'remove', '3', '--force'], noEngine);
    expect(removed.exitCode).toBe(1);
    expect(removed.stderr).toMatch(
      /^devkit: the Docker engine does not answer .* devkit cannot tell whether a container still writes agent 3's copy/,
    );
    expect(existsSync(agentCopy(fx, 3))).toBe(true);
    expect((await arena.run(['team', 'create', 't', '--agents', '1', '--session', 's14'])).exitCode).toBe(0);
    for (const args of [
      ['team', 'destroy', 't', '--force'],
      ['session', 'cleanup', 's14', '--force'],
    ]) {
      const result = await arena.run(args, noEngine);
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 1 });
      expect(result.stderr).toMatch(/the Docker engine does not answer/);
    }
    expect(JSON.parse((await arena.run(['team', 'list', '--json'])).stdout)).toMatchObject({ teams: [{ name: 't' }] });
    expect((await arena.run(['session', 'cleanup', 's14'])).exitCode).toBe(0);
    expect(snapshot(fx.root).size).toBeGreaterThanOrEqual(before.size);
  });

  it('attack 18: a lock naming a foreign host is reported at once with the command that clears it, not waited on', async () => {
    const lock = path.join(rootStateOf(arena.fx), 'lock');
    writeFileSync(
      lock,
      JSON.stringify({ pid: 1, start: null, host: 'elsewhere.example', command: 'worktrees init 9', since: '2026-01-01T00:00:00.000Z' }),
    );
    const started = Date.now();
    const result = await arena.run(['worktrees', 'init', '5'], { DEVKIT_LOCK_WAIT_MS: '60000' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `devkit: devkit's lock ${lock} names pid 1 on host elsewhere.example (devkit worktrees init 9, since 2026-01-01T00:00:00.000Z), which cannot be checked from here: if no devkit runs there, clear it with: rm -- '${lock}'`,
    ]);
    rmSync(lock);
    expect((await arena.run(['worktrees', 'init', '5'])).exitCode).toBe(0);
  });

  it('attack 18: escape sequences an agent sends through the proxy or writes in its copy reach no terminal raw', async () => {
    const esc = '\\033]0;pwned\\007\\033[2J';
    await arena.inAgent(
      4,
      `printf 'GET http://x${esc}.devkit.test/ HTTP/1.0\\r\\n\\r\\n' | nc -q 2 tinyproxy 8888 >/dev/null; printf 'gitdir: \\033[31mred\\n' > /tmp/x; rm -rf .git && cp /tmp/x .git; true`,
    );
    const outputs = [
      await arena.run(['policy', 'log', '--agent', '4']),
      await arena.run(['status']),
      await arena.run(['worktrees', 'list']),
      await arena.run(['doctor']),
    ];
    for (const result of outputs) {
      expect(result.stdout + result.stderr).not.toMatch(/\x1b|\x07/);
    }
    // Shown escaped instead, as \x1b (or \u001b inside a quoted name).
    expect(outputs[0]?.stdout).toMatch(/x\\x1b\]0;pwned\\x07\\x1b\[2J\.devkit\.test/);
    expect(outputs[1]?.stderr).toContain('gitdir: \\u001b[31mred');
    expect(readFileSync(path.join(agentCopy(arena.fx, 4), '.git'), 'utf8')).toContain('\x1b');
  });
});
