import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectPrefix } from '../src/stack/workspace-files.js';
import { describeWithDocker, docker, removeStacks } from './support/docker.js';
import {
  DEVKIT_BIN,
  agentCopy,
  agentRecords,
  devkit,
  expectRefused,
  git,
  makeDevRoot,
  rootStateOf,
  snapshot,
  writeAsAgent,
  type DevRootFixture,
} from './support/sandbox.js';

interface Team {
  name: string;
  session: string;
  members: Array<{ index: number; agent: string; state: string }>;
}

describeWithDocker('teams and session cleanup', () => {
  let fx: DevRootFixture;
  const session = `session-${process.pid}`;
  const run = (args: string[]) => devkit(args, { cwd: fx.workspace });
  const teamFile = (name: string) => path.join(rootStateOf(fx), 'teams', `${name}.json`);

  beforeAll(async () => {
    fx = await makeDevRoot();
    expect((await devkit(['worktrees', 'list'], { cwd: fx.workspace })).exitCode).toBe(0);
  });
  afterAll(async () => {
    if (fx !== undefined) {
      await removeStacks(fx.root, fx.repo);
      fx.cleanup();
    }
  });

  it('create t1, kill -9 half-way through create t2, then session cleanup leaves nothing, and never loses work', async () => {
    const t1 = await run(['team', 'create', 't1', '--agents', '3', '--session', session, '--json']);
    expect(t1.exitCode).toBe(0);
    const team1 = JSON.parse(t1.stdout) as Team;
    expect(team1.members.map((m) => m.state)).toEqual(['created', 'created', 'created']);
    for (const member of team1.members) expect(existsSync(agentCopy(fx, member.index))).toBe(true);

    // A second create, killed with SIGKILL once its first member is up and the others are not.
    const t2 = execa(DEVKIT_BIN, ['team', 'create', 't2', '--agents', '3', '--session', session], { cwd: fx.workspace, reject: false });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const record = existsSync(teamFile('t2')) ? (JSON.parse(readFileSync(teamFile('t2'), 'utf8')) as Team) : null;
      if (record?.members[0]?.state === 'created') break;
      if (Date.now() > deadline) throw new Error('team create t2 never got its first member up');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    t2.kill('SIGKILL');
    expect((await t2).signal).toBe('SIGKILL');
    const team2 = JSON.parse(readFileSync(teamFile('t2'), 'utf8')) as Team;
    expect(team2.members.some((m) => m.state === 'planned')).toBe(true);

    // A member of t1 holds uncommitted work: cleanup refuses it and goes on with the rest.
    const busy = team1.members[0]?.index ?? -1;
    writeAsAgent(path.join(agentCopy(fx, busy), 'unsaved.txt'), 'work of a member\n');
    const refused = await run(['session', 'cleanup', session]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toMatch(new RegExp(`^t1/agent${busy}\\tLEFT: agent ${busy} holds 1 untracked file`, 'm'));
    // The killed create held devkit's lock: cleanup says it broke it, then ends with what it left.
    const lines = refused.stderr.trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('devkit: '))).toBe(true);
    expect(lines.at(-1)).toBe(
      `devkit: t1/agent${busy} left in place (see above); the team record keeps them: run again with --force to back up their work and remove them`,
    );
    expect(readFileSync(path.join(agentCopy(fx, busy), 'unsaved.txt'), 'utf8')).toBe('work of a member\n');
    expect(existsSync(teamFile('t2'))).toBe(false);

    const forced = await run(['session', 'cleanup', session, '--force']);
    expect(forced.exitCode).toBe(0);
    const ref = new RegExp(`^t1/agent${busy}\\tremoved, work saved to (refs/devkit/backup/agent${busy}/\\S+)$`, 'm').exec(
      forced.stdout,
    )?.[1];
    expect(ref).toBeDefined();
    expect(await git(fx.primary, ['--git-dir', path.join(rootStateOf(fx), 'backups.git'), 'show', `${ref}:unsaved.txt`])).toBe(
      'work of a member',
    );

    // Nothing of either team remains: copies, agent records, containers, networks, locks, team records.
    expect(agentRecords(fx)).toEqual([]);
    for (const member of [...team1.members, ...team2.members]) expect(existsSync(agentCopy(fx, member.index))).toBe(false);
    expect(await docker(['ps', '-aq', '--filter', `label=devkit.root=${fx.root}`])).toBe('');
    const prefix = projectPrefix({ root: fx.root, repo: fx.repo });
    const networks = (await docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').filter((name) => name.startsWith(prefix));
    expect(networks).toEqual([]);
    expect(readdirSync(rootStateOf(fx)).filter((name) => name.startsWith('lock'))).toEqual([]);
    expect(readdirSync(path.join(rootStateOf(fx), 'teams'))).toEqual([]);
  });

  it('bad input: an unknown team, a bad team name, a bad member count: exit 2, one line, nothing changed', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['team', 'destroy', 'nope'], /unknown team nope \(teams: (none|[a-z0-9, -]+)\)/],
      [['team', 'create', 'Bad_Name', '--agents', '2'], /team name "Bad_Name" is not a valid name/],
      [['team', 'create', 't3', '--agents', '0'], /--agents N must be an integer from 1 to 64, got 0/],
      [['session', 'cleanup', 'bad session'], /session id "bad session" is not valid/],
    ];
    for (const [args, message] of cases) {
      const before = snapshot(fx.root);
      expectRefused(await run(args), message, { unchanged: { dir: fx.root, before } });
    }
  });
});
