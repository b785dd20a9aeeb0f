import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listPids, processArgs } from '../src/proc.js';
import { projectPrefix } from '../src/stack/project-names.js';
import { describeWithDocker, docker, removeStacks } from './support/docker.js';
import {
  DEVKIT_BIN,
  agentCopy,
  agentGit,
  agentHome,
  agentRecords,
  devkit,
  expectRefused,
  git,
  makeDevRoot,
  rootStateOf,
  snapshot,
  tempDir,
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

    // A second create, killed with SIGKILL while its members' composes run side by side (two at once at least).
    const t2 = execa(DEVKIT_BIN, ['team', 'create', 't2', '--agents', '3', '--session', session], { cwd: fx.workspace, reject: false });
    const composingOverlays = (): Set<string> =>
      new Set(
        (listPids() ?? [])
          .map((pid) => processArgs(pid) ?? [])
          .filter((args) => args.includes('compose') && args.includes('up'))
          .flatMap((args) => args.filter((arg) => arg.startsWith(path.join(fx.workspace, 'overlays')))),
      );
    const deadline = Date.now() + 60_000;
    while (composingOverlays().size < 2) {
      if (Date.now() > deadline) throw new Error("team create t2 never brought two members' stacks up at once");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t2.kill('SIGKILL');
    expect((await t2).signal).toBe('SIGKILL');
    const team2 = JSON.parse(readFileSync(teamFile('t2'), 'utf8')) as Team;
    expect(team2.members.some((m) => m.state === 'planned')).toBe(true);

    // A member of t1 holds uncommitted work: cleanup refuses it and goes on with the rest.
    const busy = team1.members[0]?.index ?? -1;
    writeAsAgent(path.join(agentCopy(fx, busy), 'unsaved.txt'), 'work of a member\n');
    // With --json: one document on stdout, naming the member left and why, then exit 1 and the line on stderr.
    const refusedJson = await run(['session', 'cleanup', session, '--json']);
    expect(refusedJson.exitCode).toBe(1);
    const outcome = JSON.parse(refusedJson.stdout) as { teams: Array<{ team: string; members: Array<Record<string, unknown>> }> };
    expect(outcome.teams.find((team) => team.team === 't1')?.members).toContainEqual(
      expect.objectContaining({
        agent: `agent${busy}`,
        removed: false,
        problem: expect.stringMatching(/^agent \d+ holds 1 untracked file/),
      }),
    );
    expect(refusedJson.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^devkit: t1/agent${busy} left in place \\(see above\\)`));
    const refused = await run(['session', 'cleanup', session]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toMatch(new RegExp(`^t1/agent${busy}\\tLEFT: agent ${busy} holds 1 untracked file`, 'm'));
    // The killed create may have held devkit's lock: cleanup says it broke it, then ends with what it left.
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
    // Nor their folders, HOMEs, overlays or branches: the dev root holds the primary clone alone.
    expect(readdirSync(fx.root)).toEqual([fx.repo]);
    expect(readdirSync(path.join(fx.workspace, 'overlays'))).toEqual(['dev-all']);
    expect(await git(fx.primary, ['for-each-ref', '--format=%(refname)', 'refs/heads/'])).toBe('refs/heads/main');
  });

  it('create prints one line per member; destroy keeps only branches and HOMEs holding work (saved), and create reuses the indexes', async () => {
    const created = await run(['team', 'create', 't3', '--agents', '2', '--session', session]);
    expect(created.exitCode).toBe(0);
    // Off a terminal: devkit's own lines, one per member as it comes up, then the team; not compose's (those with --verbose).
    const lines = created.stdout.split('\n');
    const indexes = lines
      .slice(0, 2)
      .map((line) => Number(/^agent(\d+): dev running, dns running, ports running, tinyproxy running$/.exec(line)?.[1]))
      .sort((a, b) => a - b);
    expect(indexes.every((k) => k >= 2)).toBe(true);
    expect(lines.slice(2)).toEqual([`team t3 (session ${session}): agent${indexes[0]}, agent${indexes[1]}`]);
    expect(created.stderr).toMatch(/^(devkit: waiting for pid \d+ [^\n]*)?$/);
    const [merged, worked] = indexes as [number, number];

    // Member `worked` commits on its branch and has an SSH key in its HOME; member `merged` did nothing.
    const copy = agentCopy(fx, worked);
    writeAsAgent(path.join(copy, 'done.txt'), 'finished work\n');
    await agentGit(copy, ['add', 'done.txt']);
    await agentGit(copy, ['commit', '-qm', 'work of a member']);
    writeAsAgent(path.join(agentHome(fx, worked), '.ssh', 'id_ed25519'), 'a key\n');

    const destroyed = await run(['team', 'destroy', 't3']);
    expect(destroyed.exitCode).toBe(0);
    expect(destroyed.stdout).toContain(`t3/agent${merged}\tremoved\n  branches deleted (merged or empty): agent${merged}/main\n`);
    expect(destroyed.stdout).toContain(`t3/agent${worked}\tremoved\n  branch agent${worked}/main kept: 1 commit on no other branch\n`);
    const home = new RegExp(`^  HOME saved to (refs/devkit/backup/agent${worked}/\\S+-home), restore with: (.+)$`, 'm').exec(
      destroyed.stdout,
    );
    expect(home).not.toBeNull();
    // The HOME's key is in the backup, and the restore command brings it back.
    for (const k of [merged, worked]) expect(existsSync(path.join(fx.root, `agent${k}`))).toBe(false);
    expect(await git(fx.primary, ['log', '-1', '--format=%s', `agent${worked}/main`])).toBe('work of a member');
    expect(await git(fx.primary, ['branch', '--list', `agent${merged}/*`])).toBe('');
    for (const k of [merged, worked]) expect(existsSync(path.join(fx.workspace, 'overlays', `agent${k}`))).toBe(false);
    const restore = await execa('sh', ['-c', home?.[2] ?? 'false'], { reject: false });
    expect(restore.exitCode).toBe(0);
    expect(readFileSync(path.join(agentHome(fx, worked), '.ssh', 'id_ed25519'), 'utf8')).toBe('a key\n');
    rmSync(path.join(fx.root, `agent${worked}`), { recursive: true, force: true });

    // The freed index is the next team's; the kept branch keeps its index (a new member starts from its base).
    const again = JSON.parse((await run(['team', 'create', 't4', '--agents', '2', '--session', session, '--json'])).stdout) as Team;
    const reused = again.members.map((m) => m.index);
    expect(reused[0]).toBe(merged);
    expect(reused).not.toContain(worked);
    // With --keep-homes their HOMEs stay, and so do their indexes.
    const kept = await run(['team', 'destroy', 't4', '--keep-homes']);
    expect(kept.exitCode).toBe(0);
    expect(kept.stdout.match(/^ {2}HOME kept \(--keep-homes\)$/gm)).toHaveLength(2);
    for (const k of reused) expect(existsSync(agentHome(fx, k))).toBe(true);
    // --verbose: compose's own lines too, off a terminal.
    const next = await run(['--verbose', 'team', 'create', 't5', '--agents', '1', '--session', session]);
    expect(next.exitCode).toBe(0);
    const index = Number(/^agent(\d+): dev running/.exec(next.stdout)?.[1]);
    expect([...reused, worked]).not.toContain(index);
    expect(next.stderr).toMatch(new RegExp(`Container \\S+-agent${index}-dev-1 +(Running|Healthy|Started)`));

    // An agent that swaps its HOME for a link to a host folder: destroy saves the link as a link, removes it, not what it names.
    const outside = tempDir('teams-outside');
    writeFileSync(path.join(outside, 'host-file'), 'host data\n');
    rmSync(agentHome(fx, index), { recursive: true, force: true });
    symlinkSync(outside, agentHome(fx, index));
    const gone = await run(['team', 'destroy', 't5']);
    expect(gone.exitCode).toBe(0);
    expect(gone.stdout).toMatch(new RegExp(`^ {2}HOME saved to refs/devkit/backup/agent${index}/\\S+-home, restore with: `, 'm'));
    expect(existsSync(path.join(fx.root, `agent${index}`))).toBe(false);
    expect(readFileSync(path.join(outside, 'host-file'), 'utf8')).toBe('host data\n');
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
