import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.js';
import { agentCopy, agentGit, backupsRepo, git, writeAsAgent } from '../support/sandbox.js';
import { makeArena, type Arena } from './attacker.js';

/**
 * G3. Agents cannot touch each other in agentK profiles (threat-model.md,
 * attacks 11 and 12): not another agent's branch, index, HOME or backups, not
 * the objects already in the shared store. And agents can still do their work.
 */
describeWithDocker('G3: agents cannot touch each other, and can still work', () => {
  let arena: Arena;
  beforeAll(async () => {
    arena = await makeArena({ agents: 6, up: ['agent2', 'agent3'] });
  });
  afterAll(async () => arena?.tearDown());

  it("attack 11: agent 2 can neither read agent 3's staged secret nor move agent 3's branch nor delete the backups", async () => {
    const { fx } = arena;
    const secret = `staged-secret-${process.pid}`;
    expect((await arena.inAgent(3, `echo ${secret} > secret.txt && git add secret.txt && echo staged`)).stdout).toBe('staged');
    // A backup exists (agent 6 removed with work), to be attacked too.
    writeAsAgent(path.join(agentCopy(fx, 6), 'work.txt'), 'agent 6 work\n');
    expect((await arena.run(['worktrees', 'remove', '6', '--force'])).exitCode).toBe(0);
    const backups = await git(fx.primary, ['--git-dir', backupsRepo(fx), 'for-each-ref']);
    const agent3Before = (await git(fx.primary, ['rev-parse', 'agent3/main'])).trim();
    await arena.run(['worktrees', 'list']);

    const shared = path.join(fx.primary, '.git');
    const attack = await arena.inAgent(
      2,
      [
        // Every object the agent can reach: the shared store (and its own).
        `git cat-file --batch-all-objects --batch=%\\(objectname\\) | grep -a -c ${secret}`,
        `ls ${path.join(fx.root, 'agent3')} 2>&1 | head -1`,
        `git --git-dir=${shared} update-ref refs/heads/agent3/main HEAD~1 && echo MOVED`,
        `git --git-dir=${shared} update-ref -d refs/heads/agent3/main && echo DELETED`,
        `ls ${backupsRepo(fx)} 2>/dev/null && echo SEES-BACKUPS`,
        'true',
      ].join('; '),
    );
    expect(attack.stdout.split('\n')[0]).toBe('0');
    expect(attack.stdout).not.toMatch(/MOVED|DELETED|SEES-BACKUPS/);
    expect(attack.stdout).toMatch(/No such file or directory/);
    await arena.run(['sync']);
    expect((await git(fx.primary, ['rev-parse', 'agent3/main'])).trim()).toBe(agent3Before);
    expect(await git(fx.primary, ['--git-dir', backupsRepo(fx), 'for-each-ref'])).toBe(backups);
    // Not in the shared store either, where every agent could read it: the staged blob stays in agent 3's own copy.
    expect(await git(fx.primary, ['cat-file', '--batch-all-objects', '--batch-check'])).not.toContain(
      (await agentGit(agentCopy(fx, 3), ['rev-parse', ':secret.txt'])).trim(),
    );
  });

  it('attack 12: a replace ref or graft making agent 5 look merged cannot get its branch deleted', async () => {
    const { fx } = arena;
    await agentGit(agentCopy(fx, 5), ['commit', '-q', '--allow-empty', '-m', 'unmerged work of agent 5']);
    expect((await arena.run(['sync', '5'])).exitCode).toBe(0);
    const tip = (await git(fx.primary, ['rev-parse', 'agent5/main'])).trim();
    const shared = path.join(fx.primary, '.git');
    const main = (await git(fx.primary, ['rev-parse', 'main'])).trim();
    // main's commit, grafted to have agent 5's tip as a parent: agent 5's work would look merged into main.
    const attack = await arena.inAgent(
      2,
      `git --git-dir=${shared} replace --graft ${main} ${tip} && echo GRAFTED; git replace --graft ${main} ${tip} && git push -f origin 'refs/replace/*' && echo PUSHED; true`,
    );
    expect(attack.stdout).not.toMatch(/GRAFTED|PUSHED/);
    const removed = await arena.run(['worktrees', 'remove', '5', '--delete-branch']);
    expect(removed.exitCode).toBe(1);
    expect(removed.stderr).toMatch(/agent5\/main has commits on no other branch/);
    expect((await git(fx.primary, ['rev-parse', 'agent5/main'])).trim()).toBe(tip);
  });

  it('agents still work: inside agent 2, commit, stash, rebase onto main, make agent2/feature, read agent3/main; each lands on the host', async () => {
    const { fx } = arena;
    writeAsAgent(path.join(fx.primary, 'from-main.txt'), 'main moves on\n');
    await git(fx.primary, ['add', 'from-main.txt']);
    await git(fx.primary, ['commit', '-qm', 'main moves on']);
    const main = (await git(fx.primary, ['rev-parse', 'main'])).trim();
    await agentGit(agentCopy(fx, 3), ['commit', '-q', '--allow-empty', '-m', 'agent 3 work']);
    expect((await arena.run(['sync', '3'])).exitCode).toBe(0);
    const agent3 = (await git(fx.primary, ['rev-parse', 'agent3/main'])).trim();

    const work = await arena.inAgent(
      2,
      [
        'set -e',
        'git config user.name "agent 2" && git config user.email agent2@localhost',
        'echo one > one.txt && git add one.txt && git commit -qm "agent 2 commits"',
        'echo draft > draft.txt && git add draft.txt && git stash -q && git stash list | wc -l',
        'git fetch -q origin && git rebase -q origin/main && git log -1 --format=%s HEAD~1',
        'git switch -q -c agent2/feature && git commit -q --allow-empty -m "feature work" && git switch -q agent2/main',
        'git log -1 --format=%H origin/agent3/main',
      ].join('\n'),
    );
    expect(work).toMatchObject({ exitCode: 0 });
    expect(work.stdout.split('\n')).toEqual(['1', 'main moves on', agent3]);
    const synced = await arena.run(['sync', '2', '--json']);
    expect(synced.exitCode, synced.stderr + synced.stdout).toBe(0);
    // On the host: the rebased branch (on top of main), the feature branch, and the stash, shown by devkit.
    expect((await git(fx.primary, ['log', '-1', '--format=%s', 'agent2/main'])).trim()).toBe('agent 2 commits');
    expect((await git(fx.primary, ['merge-base', 'agent2/main', 'main'])).trim()).toBe(main);
    expect((await git(fx.primary, ['log', '-1', '--format=%s', 'agent2/feature'])).trim()).toBe('feature work');
    const list = JSON.parse((await arena.run(['worktrees', 'list', '--json'])).stdout) as {
      agents: Array<{ index: number; stashes: number; ahead: number }>;
    };
    expect(list.agents.find((a) => a.index === 2)).toMatchObject({ stashes: 1, ahead: 1 });
    // A push to the shared repo from inside says why it cannot work.
    const push = await arena.inAgent(2, 'git push origin agent2/main');
    expect(push.exitCode).not.toBe(0);
    expect(push.stderr).toMatch(/devkit: the shared repo is read-only inside containers/);
  });
});
