import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.js';
import { DEVKIT_BIN, agentCopy, backupsRepo, git } from '../support/sandbox.js';
import { makeArena, type Arena } from './attacker.js';

/**
 * An agent writes its copy's .git/index, and devkit hands an index to git on
 * the host. What the red team did with that (each failed before the fix):
 * hid changes from status and removal with assume-unchanged, skip-worktree
 * or stat data that matches a changed file (G6); named paths outside the
 * copy, which host git stats, hashes or tars as devkit's user (G2); made git
 * hash a sparse 1 TiB file, hanging status and removal. And: work held only
 * by a tag, and a top-level folder named like a HOME, left out of backups.
 */

/** Index format 2 or 3 entries (what git writes unless told otherwise): each one's offset and path. */
function entries(bytes: Buffer): Array<{ at: number; name: string }> {
  const found: Array<{ at: number; name: string }> = [];
  let at = 12;
  for (let i = 0; i < bytes.readUInt32BE(8); i++) {
    const flags = bytes.readUInt16BE(at + 60);
    const nameAt = at + ((flags & 0x4000) !== 0 ? 64 : 62); // format 3: extended flags follow
    const length = flags & 0xfff;
    found.push({ at, name: bytes.toString('utf8', nameAt, nameAt + length) });
    at += (nameAt - at + length + 8) & ~7;
  }
  return found;
}

/** Writes an index back as the agent would, its checksum made again; the file keeps its owner (the agent's uid). */
function rewriteIndex(copy: string, change: (bytes: Buffer, found: Array<{ at: number; name: string }>) => void): void {
  const file = path.join(copy, '.git', 'index');
  const bytes = readFileSync(file);
  expect([2, 3]).toContain(bytes.readUInt32BE(4));
  change(bytes, entries(bytes));
  createHash('sha1')
    .update(bytes.subarray(0, bytes.length - 20))
    .digest()
    .copy(bytes, bytes.length - 20);
  writeFileSync(file, bytes);
}

describeWithDocker("G2 and G6: an agent's index is data, never trusted", () => {
  let arena: Arena;
  beforeAll(async () => {
    arena = await makeArena({ agents: 5, up: ['agent2', 'agent3', 'agent4', 'agent5'] });
  });
  afterAll(async () => arena?.tearDown());

  it('changes hidden by assume-unchanged, skip-worktree or forged stat data, a commit only a tag holds and a .devhome-agent* folder: removal refuses, --force saves all', async () => {
    const { fx } = arena;
    const copy = agentCopy(fx, 3);
    const made = await arena.inAgent(
      3,
      [
        'git config user.name a && git config user.email a@b',
        'echo PRECIOUS > tagged.txt && git add tagged.txt && git commit -qm "only a tag holds this" && git tag precious && git reset -q --hard HEAD~1',
        'echo "hidden by skip-worktree" >> src/file1.txt && git update-index --skip-worktree src/file1.txt',
        'echo "hidden by assume-unchanged" >> src/file2.txt && git update-index --assume-unchanged src/file2.txt',
        'mkdir .devhome-agent3x && echo "work in a folder named like a HOME" > .devhome-agent3x/work.txt',
        // README keeps its size: its forged stat data below then says nothing changed.
        "printf 'SECOND\\n' > README && git rev-parse precious",
      ].join(' && '),
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const tagged = made.stdout.trim();
    // The agent writes README's current stat data into its index entry, over the entry of the old content.
    rewriteIndex(copy, (bytes, found) => {
      const entry = found.find((e) => e.name === 'README');
      if (entry === undefined) throw new Error('no README entry');
      const stat = lstatSync(path.join(copy, 'README'), { bigint: true });
      const fields: Array<[number, bigint]> = [
        [0, stat.ctimeNs / 1_000_000_000n],
        [4, stat.ctimeNs % 1_000_000_000n],
        [8, stat.mtimeNs / 1_000_000_000n],
        [12, stat.mtimeNs % 1_000_000_000n],
        [16, stat.dev],
        [20, stat.ino],
        [28, stat.uid],
        [32, stat.gid],
        [36, stat.size],
      ];
      for (const [offset, value] of fields) bytes.writeUInt32BE(Number(value & 0xffffffffn), entry.at + offset);
    });

    expect((await arena.run(['-p', 'agent3', 'down'])).exitCode).toBe(0);
    const refused = await arena.run(['worktrees', 'remove', '3']);
    expect(refused.exitCode, refused.stdout).toBe(1);
    expect(refused.stderr).toMatch(/agent 3 holds 3 modified files, 1 untracked file, 1 commit on no shared branch/);

    const forced = await arena.run(['worktrees', 'remove', '3', '--force', '--json']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    const ref = (JSON.parse(forced.stdout) as { backup: { ref: string } }).backup.ref;
    const show = (file: string) => git(fx.primary, ['--git-dir', backupsRepo(fx), 'show', `${ref}:${file}`]);
    expect(await show('src/file1.txt')).toContain('hidden by skip-worktree');
    expect(await show('src/file2.txt')).toContain('hidden by assume-unchanged');
    expect(await show('README')).toBe('SECOND');
    expect(await show('.devhome-agent3x/work.txt')).toBe('work in a folder named like a HOME');
    const parents = (await git(fx.primary, ['--git-dir', backupsRepo(fx), 'rev-parse', `${ref}^@`])).trim().split('\n');
    expect(parents).toContain(tagged);
  });

  it('index entries naming paths outside the copy make it tampered: no host git reads them, removal needs --force and tars nothing outside', async () => {
    const { fx } = arena;
    const copy = agentCopy(fx, 2);
    const secret = path.join(fx.root, 'agent4', '.devhome-agent4', 'secret-of-agent4');
    writeFileSync(secret, 'AGENT4-PRIVATE\n');
    // devkit reads the good index first and keeps it in its view: the forged one that follows must be checked all the same.
    expect((await arena.run(['worktrees', 'list'])).exitCode).toBe(0);
    // Two entries renamed in place (same length): a file and a gitlink that leave the copy.
    rewriteIndex(copy, (bytes, found) => {
      const rename = (from: string, to: string, mode?: number) => {
        const entry = found.find((e) => e.name === from);
        if (entry === undefined || to.length !== from.length || (bytes.readUInt16BE(entry.at + 60) & 0x4000) !== 0)
          throw new Error(`cannot rename ${from}`);
        bytes.write(to, entry.at + 62, 'utf8');
        if (mode !== undefined) bytes.writeUInt32BE(mode, entry.at + 24);
      };
      rename('src/file3.txt', '../../../tmp1');
      rename('src/file4.txt', '../../agent4/', 0o160000);
    });
    const listed = await arena.run(['worktrees', 'list', '--json']);
    const agent2 = (JSON.parse(listed.stdout) as { agents: Array<{ index: number; condition: string; problems: string[] }> }).agents.find(
      (a) => a.index === 2,
    );
    expect(agent2?.condition).toBe('tampered');
    expect(agent2?.problems.join('; ')).toContain('.git/index names paths outside the copy ("../../../tmp1", "../../agent4/")');

    expect((await arena.run(['-p', 'agent2', 'down'])).exitCode).toBe(0);
    const refused = await arena.run(['worktrees', 'remove', '2']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/does not link up as devkit made it/);
    const forced = await arena.run(['worktrees', 'remove', '2', '--force', '--json']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    const ref = (JSON.parse(forced.stdout) as { backup: { ref: string } }).backup.ref;
    const files = await git(fx.primary, ['--git-dir', backupsRepo(fx), 'ls-tree', '-r', '--name-only', ref]);
    expect(files).not.toMatch(/secret-of-agent4|tmp1|agent4\//);
    expect(files).toContain('src/file1.txt');
    // Agent 4's HOME is as it was.
    expect(readFileSync(secret, 'utf8')).toBe('AGENT4-PRIVATE\n');
  });

  it('a git over a copy that reads for hours (an index entry over a sparse 1 TiB file) is stopped in time: status says so, removal refuses', async () => {
    const made = await arena.inAgent(
      4,
      'truncate -s 1T big.bin && git update-index --add --cacheinfo "100644,$(git hash-object -w /dev/null),big.bin" && echo made',
    );
    expect(made.stdout).toBe('made');
    const env = { DEVKIT_STATUS_TIMEOUT_MS: '3000' };
    const started = Date.now();
    const status = await arena.run(['status', '--json'], env);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(status.exitCode).toBe(0);
    const agent4 = (JSON.parse(status.stdout) as { agents: Array<{ index: number; dirty: unknown; problems: string[] }> }).agents.find(
      (a) => a.index === 4,
    );
    expect(agent4?.dirty).toBeNull();
    expect(agent4?.problems.join('; ')).toMatch(/its git gave no answer within 3 s and was stopped/);

    expect((await arena.run(['-p', 'agent4', 'down'])).exitCode).toBe(0);
    const refused = await arena.run(['worktrees', 'remove', '4'], env);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/gave no answer within 3 s/);
    expect(lstatSync(path.join(agentCopy(arena.fx, 4), 'big.bin')).size).toBe(2 ** 40);
  });

  it("a passphrase on agent 5's key makes ssh-setup fail at once with one line, never ask on the user's terminal; a key's comment cannot print lines", async () => {
    const made = await arena.inAgent(
      5,
      'mkdir -p ~/.ssh && ssh-keygen -q -t ed25519 -N agentpass -f ~/.ssh/id_ed25519 && rm ~/.ssh/id_ed25519.pub && echo made',
    );
    expect(made.stdout).toBe('made');
    // On a terminal, as the user runs it (script gives it one): ssh-keygen would ask for the passphrase there, holding devkit's lock.
    const started = Date.now();
    const onTerminal = await execa('script', ['-qec', `${DEVKIT_BIN} ssh-setup --index 5`, '/dev/null'], {
      cwd: arena.fx.workspace,
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(onTerminal.exitCode).toBe(1);
    expect(onTerminal.stdout).toMatch(/devkit: agent5's key .* is unreadable to ssh-keygen without a passphrase/);
    expect(onTerminal.stdout).not.toMatch(/Enter passphrase/);
    expect((await arena.run(['worktrees', 'list'])).exitCode).toBe(0); // the lock is free

    // A key whose comment holds a line break and a right-to-left override: one line comes out, with devkit's comment.
    const spoof = await arena.inAgent(
      5,
      'rm -f ~/.ssh/id_ed25519 && ssh-keygen -q -t ed25519 -N "" -C "$(printf \'x\\ndevkit: key verified by the git host, nothing to add \\342\\200\\256\')" -f ~/.ssh/id_ed25519 && echo made',
    );
    expect(spoof.stdout).toBe('made');
    const printed = await arena.run(['ssh-setup', '--index', '5']);
    expect(printed.exitCode, printed.stderr).toBe(0);
    expect(printed.stdout.split('\n')).toEqual([expect.stringMatching(/^ssh-ed25519 [A-Za-z0-9+/]+=* devkit agent5@app$/)]);
  });
});
