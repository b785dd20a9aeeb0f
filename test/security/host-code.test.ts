import { chmodSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.js';
import { agentCopy, git } from '../support/sandbox.js';
import { makeArena, marker, type Arena } from './attacker.js';

/**
 * G1. The host never runs what an agent wrote (threat-model.md, attacks 1 to 4):
 * no devkit command, and no git devkit runs on the host, runs a program named
 * by agent-writable config, hooks, a redirected .git or commondir, a nested
 * repo's config.
 */
describeWithDocker('G1: the host never runs what an agent wrote', () => {
  let arena: Arena;
  beforeAll(async () => {
    arena = await makeArena({ agents: 5, up: ['agent2', 'agent3', 'agent4', 'dev-all'] });
  });
  afterAll(async () => arena?.tearDown());

  it('attack 1: a nested repo with core.fsmonitor, added to the index, runs nothing on the host through list, status, sync or remove', async () => {
    const { fx } = arena;
    const attack = await arena.inAgent(
      2,
      `git init -q sub && (cd sub && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m s && git config core.fsmonitor "${marker(arena, 'attack1')}; false") && git add sub && ` +
        // Its own repository's config too, where it can write it.
        `(git config core.fsmonitor "${marker(arena, 'attack1-own')}; false"; git config core.hooksPath /workspace/hooks; true) 2>/dev/null && echo done`,
    );
    expect(attack).toMatchObject({ exitCode: 0, stdout: 'done' });
    for (const args of [['worktrees', 'list'], ['status'], ['sync', '2'], ['worktrees', 'prune'], ['doctor']]) await arena.run(args);
    // Removal waits for every container that can write the copy: its own, and dev-all's.
    for (const profile of ['agent2', 'dev-all']) expect((await arena.run(['-p', profile, 'down'])).exitCode).toBe(0);
    const removed = await arena.run(['worktrees', 'remove', '2', '--force']);
    expect(removed.exitCode).toBe(0);
    expect(arena.markersLeft()).toEqual([]);
    // The nested repo itself was saved (as a tar), not run.
    expect(removed.stdout).toMatch(/saved agent2's work to refs\/devkit\/backup\/agent2\//);
    expect((await arena.run(['worktrees', 'init', '2'])).exitCode).toBe(0);
    expect(fx.root).toBeTruthy();
  });

  it(".git rewritten to a file naming a git dir of the agent's, with core.fsmonitor (attack 2): status runs nothing and shows the copy tampered", async () => {
    const { fx } = arena;
    const evil = path.join(agentCopy(fx, 3), 'evil');
    const attack = await arena.inAgent(
      3,
      `git init -q --bare /workspace/evil && git --git-dir=/workspace/evil config core.fsmonitor "${marker(arena, 'attack2')}; false" && ` +
        `rm -rf /workspace/.git && printf 'gitdir: ${evil}\\n' > /workspace/.git && echo done`,
    );
    expect(attack).toMatchObject({ exitCode: 0, stdout: 'done' });
    const status = await arena.run(['status', '--json']);
    expect(status.exitCode).toBe(0);
    const agents = (JSON.parse(status.stdout) as { agents: Array<{ index: number; condition: string; problems: string[] }> }).agents;
    expect(agents.find((a) => a.index === 3)).toMatchObject({
      condition: 'tampered',
      problems: [expect.stringContaining(`.git is a file saying "gitdir: ${evil}"`)],
    });
    for (const args of [['worktrees', 'list'], ['sync'], ['worktrees', 'prune', '--apply'], ['doctor'], ['gc']]) await arena.run(args);
    const doctor = await arena.run(['doctor']);
    expect(doctor.stdout.replace(/\n +/g, ' ')).toMatch(/worktrees: copy-tampered .*devkit worktrees remove 3 --force/);
    expect(arena.markersLeft()).toEqual([]);
  });

  it("attack 3: the shared git dir is read-only inside containers (commondir, hooks, config, objects, refs, info); devkit's and the user's own git run nothing", async () => {
    const { fx } = arena;
    const shared = path.join(fx.primary, '.git');
    const tries = [
      `mkdir ${shared}/evil`,
      `echo ${shared}/evil > ${shared}/commondir`,
      `echo "#!/bin/sh" > ${shared}/hooks/post-checkout`,
      `git --git-dir=${shared} config core.fsmonitor "${marker(arena, 'attack3')}"`,
      `echo x > ${shared}/objects/info/alternates`,
      `echo '*' >> ${shared}/info/exclude`,
      `git --git-dir=${shared} update-ref refs/heads/agent3/main HEAD`,
      `rm ${shared}/packed-refs ${shared}/HEAD`,
    ];
    for (const attempt of tries) {
      const result = await arena.inAgent(4, `${attempt} && echo WROTE`);
      expect({ attempt, wrote: result.stdout.includes('WROTE') }).toEqual({ attempt, wrote: false });
    }
    expect((await arena.run(['worktrees', 'init', '5'])).exitCode).toBe(0);
    await git(fx.primary, ['status']);
    expect(arena.markersLeft()).toEqual([]);
  });

  it("attack 4: in dev-all the primary clone's .git cannot be renamed away, nor the primary clone itself", async () => {
    const { fx } = arena;
    // As when devkit runs as the user who owns the dev root: the agents' uid may write in it, so only the mounts stop this.
    for (const dir of [fx.root, fx.primary]) chmodSync(dir, 0o777);
    expect((await arena.run(['-p', 'dev-all', 'up'])).exitCode).toBe(0);
    const attack = await arena.inDevAll(
      1,
      '.',
      `cd /workspaces/dev && (mv ${fx.repo}/.git ${fx.repo}/.git-moved && echo MOVED-GIT); (mv ${fx.repo} ${fx.repo}-moved && echo MOVED-CLONE); ` +
        `mkdir -p ${fx.repo}-evil/.git && true`,
    );
    expect(attack.stdout).not.toMatch(/MOVED/);
    expect(attack.stderr).toMatch(/cannot move 'app\/.git' to 'app\/.git-moved': Device or resource busy/);
    expect(attack.stderr).toMatch(/cannot move 'app' to 'app-moved': Device or resource busy/);
    for (const dir of [fx.root, fx.primary]) chmodSync(dir, 0o755);
    expect((await arena.run(['worktrees', 'init', '5'])).exitCode).toBe(0);
    expect((await git(fx.primary, ['rev-parse', '--git-dir'])).trim()).toBe('.git');
    expect(arena.markersLeft()).toEqual([]);
  });
});
