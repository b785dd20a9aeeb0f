import { readFileSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentCopy, agentGit, devkit, expectRefused, snapshot, useDevRoot, writeAsAgent, type DevRootFixture } from './support/sandbox.js';

/**
 * Three agents: 2 commits a change to a line of src/file1.txt, 3 changes the
 * same line without committing, 4 commits a change to src/file2.txt and
 * leaves a new file uncommitted.
 */
async function threeAgentsAtWork(fx: DevRootFixture): Promise<void> {
  const two = agentCopy(fx, 2);
  writeAsAgent(path.join(two, 'src', 'file1.txt'), 'line 1 as agent 2 has it\n');
  await agentGit(two, ['commit', '-qam', 'agent 2 on file1']);
  writeAsAgent(path.join(agentCopy(fx, 3), 'src', 'file1.txt'), 'line 1 as agent 3 has it\n');
  const four = agentCopy(fx, 4);
  writeAsAgent(path.join(four, 'src', 'file2.txt'), 'line 2 as agent 4 has it\n');
  await agentGit(four, ['commit', '-qam', 'agent 4 on file2']);
  writeAsAgent(path.join(four, 'notes', 'plan.txt'), 'not committed yet\n');
}

interface StatusRow {
  index: number;
  conflicts: number | null;
}

describe('the conflict radar: conflicts, diff and the CONFLICTS column of status', () => {
  const devRoot = useDevRoot({ agents: 4 });
  let fx: DevRootFixture;
  beforeEach(async () => {
    fx = devRoot();
    await threeAgentsAtWork(fx);
  });

  it('reports exactly the pair whose work collides, with the file and a merge order, and counts it per agent in status', async () => {
    const conflicts = await devkit(['conflicts', '--json'], { cwd: fx.workspace });
    expect(conflicts.exitCode, conflicts.stderr).toBe(0);
    expect(JSON.parse(conflicts.stdout)).toEqual({
      agents: [2, 3, 4],
      pairs: [{ agents: [2, 3], files: ['src/file1.txt'] }],
      order: [4, 2, 3],
      steps: [
        { agent: 4, files: [] },
        { agent: 2, files: [] },
        { agent: 3, files: ['src/file1.txt'] },
      ],
    });

    const human = await devkit(['conflicts'], { cwd: fx.workspace });
    expect(human.stdout.split('\n')).toEqual([
      'agent2 <> agent3: src/file1.txt',
      'merge order: agent4, agent2, agent3',
      '  agent3 conflicts with the agents merged before it on src/file1.txt',
    ]);

    const status = await devkit(['status', '--json'], { cwd: fx.workspace });
    expect(status.exitCode, status.stderr).toBe(0);
    const rows = (JSON.parse(status.stdout) as { agents: StatusRow[] }).agents.map((r) => [r.index, r.conflicts]);
    expect(rows).toEqual([
      [1, null],
      [2, 1],
      [3, 1],
      [4, 0],
    ]);
    const table = await devkit(['status'], { cwd: fx.workspace });
    expect(table.stdout.split('\n')[0]).toMatch(/ CONFLICTS$/);
    expect(table.stdout.split('\n')[2]).toMatch(/^agent2 .* 1$/);

    // Agent 3 commits to the other line: the radar sees the change and the conflict is gone.
    writeAsAgent(path.join(agentCopy(fx, 3), 'src', 'file1.txt'), 'line 1\n');
    writeAsAgent(path.join(agentCopy(fx, 3), 'src', 'file3.txt'), 'line 3 as agent 3 has it\n');
    const after = JSON.parse((await devkit(['status', '--json'], { cwd: fx.workspace })).stdout) as { agents: StatusRow[] };
    expect(after.agents.map((r) => r.conflicts)).toEqual([null, 0, 0, 0]);
  });

  it('diff shows committed and uncommitted work against the base', async () => {
    const names = await devkit(['diff', '4', '--name-only'], { cwd: fx.workspace });
    expect(names.exitCode, names.stderr).toBe(0);
    expect(names.stdout).toBe('notes/plan.txt\nsrc/file2.txt');
    const stat = await devkit(['diff', '3', '--stat'], { cwd: fx.workspace });
    expect(stat.stdout.split('\n')).toEqual([' src/file1.txt | 2 +-', ' 1 file changed, 1 insertion(+), 1 deletion(-)']);
    const patch = await devkit(['diff', '2'], { cwd: fx.workspace });
    expect(patch.stdout).toContain('-line 1\n+line 1 as agent 2 has it');
  });

  it('refuses an unknown agent, agent 1 and two formats with one line (exit 2)', async () => {
    const before = snapshot(fx.root);
    const unchanged = { dir: fx.root, before };
    expectRefused(await devkit(['diff', '9'], { cwd: fx.workspace }), /^devkit: there is no agent 9/, { unchanged });
    expectRefused(await devkit(['diff', '1'], { cwd: fx.workspace }), /^devkit: agent 1 is the primary clone/, { unchanged });
    expectRefused(await devkit(['diff', 'two'], { cwd: fx.workspace }), /^devkit: K \(the agent index\) must be an integer/, { unchanged });
    expectRefused(await devkit(['diff', '2', '--stat', '--name-only'], { cwd: fx.workspace }), /give one/, { unchanged });
  });

  it("touches no copy: every copy's files, index and HEAD are as they were", async () => {
    await devkit(['sync'], { cwd: fx.workspace }); // the shared repo takes the agents' branches first; the copies are not written
    const copies = [2, 3, 4].map((k) => agentCopy(fx, k));
    const before = copies.map((copy) => snapshot(copy));
    const bytes = (copy: string): Buffer[] => ['index', 'HEAD'].map((file) => readFileSync(path.join(copy, '.git', file)));
    const indexes = copies.map(bytes);
    for (const args of [['conflicts'], ['status'], ['diff', '3']]) {
      const result = await devkit(args, { cwd: fx.workspace });
      expect(result.exitCode, result.stderr).toBe(0);
    }
    expect(copies.map(bytes)).toEqual(indexes);
    // Loose objects are left out: git freshens (re-times) an object it finds in the quarantine, a hard link to the copy's file.
    const changed = copies.map((copy, i) =>
      [...snapshot(copy)].filter(([file, facts]) => !file.startsWith('.git/objects/') && before[i]?.get(file) !== facts),
    );
    expect(changed).toEqual([[], [], []]);
    expect(copies.map((copy) => [...snapshot(copy).keys()])).toEqual(before.map((files) => [...files.keys()]));
  });
});

describe('the conflict radar: folders, untracked and ignored files', () => {
  const devRoot = useDevRoot({ agents: 4 });
  let fx: DevRootFixture;
  beforeEach(() => {
    fx = devRoot();
  });
  const pairs = async (): Promise<unknown> => {
    const result = await devkit(['conflicts', '--json'], { cwd: fx.workspace });
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { pairs: unknown }).pairs;
  };

  it('a file added to a folder another agent renamed away is a conflict (a directory rename); files beside each other are not; a new change after a cached run is seen', async () => {
    const two = agentCopy(fx, 2);
    await agentGit(two, ['mv', 'src', 'lib']);
    await agentGit(two, ['commit', '-qm', 'src is lib now']);
    const three = agentCopy(fx, 3);
    writeAsAgent(path.join(three, 'src', 'new.txt'), 'new\n');
    // Agent 4 only changes a file in the folder agent 3 adds to: no conflict.
    writeAsAgent(path.join(agentCopy(fx, 4), 'src', 'file7.txt'), 'line 7 as agent 4 has it\n');
    expect(await pairs()).toEqual([{ agents: [2, 3], files: ['lib/new.txt'] }]);

    // Agent 3 moves its file out of the folder: seen (the radar's cache keeps the last run's results).
    rmSync(path.join(three, 'src', 'new.txt'));
    writeAsAgent(path.join(three, 'new.txt'), 'new\n');
    expect(await pairs()).toEqual([]);
    writeAsAgent(path.join(three, 'src', 'again.txt'), 'again\n');
    expect(await pairs()).toEqual([{ agents: [2, 3], files: ['lib/again.txt'] }]);
  });

  it('names what an agent conflicts on against all the agents merged before it, whether the order merged them or knew they could not meet', async () => {
    const two = agentCopy(fx, 2);
    writeAsAgent(path.join(two, 'src', 'file1.txt'), 'line 1 as agent 2 has it\n');
    await agentGit(two, ['commit', '-qam', 'agent 2 on file1']);
    const three = agentCopy(fx, 3);
    writeAsAgent(path.join(three, 'src', 'file1.txt'), 'line 1 as agent 3 has it\n');
    writeAsAgent(path.join(three, 'src', 'file2.txt'), 'line 2 as agent 3 has it\n');
    const four = agentCopy(fx, 4);
    writeAsAgent(path.join(four, 'src', 'file2.txt'), 'line 2 as agent 4 has it\n');
    // Every file written a while ago: git hashes again a file as new as the index it reads it into (racily clean), and writes that index.
    const past = new Date(Date.now() - 10_000);
    for (const copy of [two, three, four])
      for (const file of snapshot(copy).keys())
        if (file !== '.git' && !file.startsWith('.git/')) utimesSync(path.join(copy, file), past, past);
    let merges = 0;
    let trees: Array<string | undefined> = [];
    const order = async (): Promise<unknown> => {
      const result = await devkit(['conflicts', '--json'], { cwd: fx.workspace, env: { DEVKIT_DEBUG: '1' } });
      expect(result.exitCode, result.stderr).toBe(0);
      merges = result.stderr.split('\n').filter((line) => / merge-tree /.test(line)).length;
      trees = result.stderr.split('\n').flatMap((line) => (/ write-tree /.test(line) ? [/views\/(agent\d+)/.exec(line)?.[1]] : []));
      const { order: agents, steps } = JSON.parse(result.stdout) as { order: unknown; steps: unknown };
      return { agents, steps };
    };
    const expected = {
      agents: [2, 4, 3],
      steps: [
        { agent: 2, files: [] },
        { agent: 4, files: [] },
        { agent: 3, files: ['src/file1.txt', 'src/file2.txt'] },
      ],
    };
    // 2 and 4 cannot meet: the line is their changes side by side, and 3's files are its pairs' files.
    expect(await order()).toEqual(expected);
    expect(merges).toBe(2); // the pairs (2, 3) and (3, 4); none for the order
    // 4 deletes a file (a rename on the line's side could then move 3's work): merged for real, the same answer.
    rmSync(path.join(four, 'src', 'file5.txt'));
    expect(await order()).toEqual(expected);
    expect(trees).toEqual(['agent4']); // the copies of 2 and 3 did not change: git add left their indexes as they were
    // 2 and 4 make the same change to one file: they meet, merge cleanly, and 4 joins the line by a merge.
    for (const copy of [two, four]) writeAsAgent(path.join(copy, 'src', 'file7.txt'), 'line 7 as both have it\n');
    expect(await order()).toEqual(expected);
  });

  it('reads each copy without git status: counts untracked files and not ignored ones, and sees a copy made clean again', async () => {
    const two = agentCopy(fx, 2);
    writeAsAgent(path.join(two, '.gitignore'), '*.log\n');
    await agentGit(two, ['add', '.gitignore']);
    await agentGit(two, ['commit', '-qm', 'ignore logs']);
    writeAsAgent(path.join(two, 'out.log'), 'agent 2 ignores this\n');
    const three = agentCopy(fx, 3);
    writeAsAgent(path.join(three, 'out.log'), 'agent 3 keeps this\n');
    writeAsAgent(path.join(three, 'notes.txt'), 'notes of agent 3\n');
    writeAsAgent(path.join(agentCopy(fx, 4), 'notes.txt'), 'notes of agent 4\n');
    const conflicts = async (): Promise<unknown> => {
      const result = await devkit(['conflicts', '--json'], { cwd: fx.workspace });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout);
    };
    expect(await conflicts()).toMatchObject({ agents: [2, 3, 4], pairs: [{ agents: [3, 4], files: ['notes.txt'] }] });

    // Agent 4 drops its notes (its copy is its HEAD again), agent 3 commits its own: nothing collides.
    rmSync(path.join(agentCopy(fx, 4), 'notes.txt'));
    await agentGit(three, ['add', '--all']);
    await agentGit(three, ['commit', '-qm', 'notes and log']);
    expect(await conflicts()).toEqual({
      agents: [2, 3, 4],
      pairs: [],
      order: [2, 3, 4],
      steps: [2, 3, 4].map((agent) => ({ agent, files: [] })),
    });
  });
});
