import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IndexFormatError, checkIndex, unsafeIndexPath, withoutHidingFlags } from '../src/git/index-file.js';
import { git, tempDir } from './support/sandbox.js';

/** A repository with files a/1.txt, a/2.txt, b.txt committed, in `format` (sha1 or sha256) and index format `version`. */
async function repo(version: number, format: 'sha1' | 'sha256' = 'sha1'): Promise<{ dir: string; index: () => Buffer; ids: number }> {
  const dir = tempDir('index-file');
  await git(dir, ['init', '-q', `--object-format=${format}`, '-b', 'main']);
  for (const [file, text] of [
    ['a/1.txt', 'one\n'],
    ['a/2.txt', 'two\n'],
    ['b.txt', 'bee\n'],
  ]) {
    const full = path.join(dir, file ?? '');
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text ?? '');
  }
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-qm', 'files']);
  await git(dir, ['update-index', '--index-version', String(version)]);
  return { dir, index: () => readFileSync(path.join(dir, '.git', 'index')), ids: format === 'sha256' ? 32 : 20 };
}

describe("git's index read as data", () => {
  it.each([
    [2, 'sha1'],
    [3, 'sha1'],
    [4, 'sha1'],
    [4, 'sha256'],
  ] as const)('format %i (%s): counts entries and the ones hidden by assume-unchanged or skip-worktree', async (version, format) => {
    const r = await repo(version, format);
    // git writes format 3 only while some entry has extended flags: a plain one is format 2 again.
    expect(checkIndex(r.index(), r.ids)).toEqual({ version: version === 3 ? 2 : version, entries: 3, hidden: 0, badPaths: [] });
    await git(r.dir, ['update-index', '--assume-unchanged', 'a/2.txt']);
    await git(r.dir, ['update-index', '--skip-worktree', 'b.txt']);
    // git writes format 3 at least once an entry has extended flags.
    expect(checkIndex(r.index(), r.ids)).toMatchObject({ entries: 3, hidden: 2, badPaths: [] });
  });

  it.each([2, 3, 4])(
    'format %i: with the flags cleared, git reports the changes they hid, and reads the index as valid',
    async (version) => {
      const r = await repo(version);
      writeFileSync(path.join(r.dir, 'a', '2.txt'), 'changed\n');
      writeFileSync(path.join(r.dir, 'b.txt'), 'changed too\n');
      await git(r.dir, ['update-index', '--assume-unchanged', 'a/2.txt']);
      await git(r.dir, ['update-index', '--skip-worktree', 'b.txt']);
      expect(await git(r.dir, ['status', '--porcelain'])).toBe('');
      const cleared = withoutHidingFlags(r.index(), r.ids);
      writeFileSync(path.join(r.dir, '.git', 'index'), cleared);
      expect(checkIndex(cleared, r.ids).hidden).toBe(0);
      expect((await git(r.dir, ['status', '--porcelain'])).split('\n').sort()).toEqual([' M a/2.txt', ' M b.txt']);
      expect(await git(r.dir, ['ls-files', '-v'])).toBe('H a/1.txt\nH a/2.txt\nH b.txt');
    },
  );

  it('with its stat data forgotten, git compares every file by its content, and still reads the index as valid', async () => {
    const r = await repo(2);
    // Same size, content changed (test/security/index-attacks.test.ts forges the stat data itself, as an agent can).
    writeFileSync(path.join(r.dir, 'b.txt'), 'BEE\n');
    await git(r.dir, ['update-index', '--assume-unchanged', 'b.txt']);
    const trusting = withoutHidingFlags(r.index(), r.ids);
    const forgetting = withoutHidingFlags(r.index(), r.ids, { forgetStat: true });
    writeFileSync(path.join(r.dir, '.git', 'index'), forgetting);
    expect(await git(r.dir, ['status', '--porcelain'])).toBe(' M b.txt');
    expect(trusting.equals(forgetting)).toBe(false);
  });

  it('finds entry paths that leave the copy or name a .git, and refuses bytes that are not an index', async () => {
    const r = await repo(2);
    const bytes = r.index();
    // Rename a/1.txt to ../1.txt in place (same length) and make the checksum again, as an agent can.
    const at = bytes.indexOf('a/1.txt');
    bytes.write('../1.tx', at);
    const renamed = withoutHidingFlags(bytes, r.ids);
    expect(checkIndex(renamed, r.ids).badPaths).toEqual(['../1.tx']);
    for (const bad of ['../x', '/etc/passwd', 'a/../../x', '.git/config', 'a/.GIT/hooks', 'a//b', './a', 'a/.', '']) {
      expect({ bad, unsafe: unsafeIndexPath(bad) }).toEqual({ bad, unsafe: true });
    }
    for (const good of ['a', 'a/b.txt', '.gitignore', 'x/.gitmodules', '..a', 'a..b/c', '.github/workflows/ci.yml']) {
      expect({ good, unsafe: unsafeIndexPath(good) }).toEqual({ good, unsafe: false });
    }
    expect(() => checkIndex(Buffer.from('not an index at all, just some bytes'), 20)).toThrow(IndexFormatError);
    expect(() => checkIndex(bytes.subarray(0, 40), 20)).toThrow(IndexFormatError);
  });
});
