import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeCommit } from '../src/git/loose-object.js';
import { git, tempDir } from './support/sandbox.js';

const IDENTITY = { name: 'devkit', email: 'devkit@localhost', date: '1000000000 +0000' };
const COMMIT_ENV = {
  GIT_AUTHOR_NAME: IDENTITY.name,
  GIT_AUTHOR_EMAIL: IDENTITY.email,
  GIT_AUTHOR_DATE: IDENTITY.date,
  GIT_COMMITTER_NAME: IDENTITY.name,
  GIT_COMMITTER_EMAIL: IDENTITY.email,
  GIT_COMMITTER_DATE: IDENTITY.date,
};

/** A bare store of that format holding an empty tree and two commits of it (the parents to use). */
async function store(format: 'sha1' | 'sha256'): Promise<{ dir: string; tree: string; parents: [string, string] }> {
  const dir = tempDir('loose-object');
  await git(dir, ['init', '-q', '--bare', `--object-format=${format}`]);
  const tree = (await git(dir, ['mktree'])).trim();
  const one = (await git(dir, ['commit-tree', tree, '-m', 'one'], COMMIT_ENV)).trim();
  const two = (await git(dir, ['commit-tree', tree, '-m', 'two'], COMMIT_ENV)).trim();
  return { dir, tree, parents: [one, two] };
}

describe('commits devkit writes itself (loose-object.ts)', () => {
  it.each(['sha1', 'sha256'] as const)(
    '%s: the id and bytes git commit-tree gives, a parent named twice kept once, read back by git fsck',
    async (format) => {
      const { dir, tree, parents } = await store(format);
      const message = "devkit snapshot of agent2's uncommitted work";
      const identity = `${IDENTITY.name} <${IDENTITY.email}> ${IDENTITY.date}`;
      for (const asked of [parents, [parents[0], parents[0]]]) {
        const ours = writeCommit(path.join(dir, 'objects'), format, { tree, parents: asked, identity, message });
        const args = ['commit-tree', tree, ...asked.flatMap((p) => ['-p', p]), '-m', message];
        const theirs = (await git(dir, args, COMMIT_ENV)).trim();
        expect(ours).toBe(theirs);
        const file = path.join(dir, 'objects', ours.slice(0, 2), ours.slice(2));
        expect(inflateSync(readFileSync(file)).toString()).toBe(
          `commit ${(await git(dir, ['cat-file', '-s', ours])).trim()}\0${await git(dir, ['cat-file', 'commit', ours])}\n`,
        );
      }
      // Written again: left alone, same id.
      const again = writeCommit(path.join(dir, 'objects'), format, { tree, parents, identity, message });
      expect(await git(dir, ['cat-file', '-t', again])).toBe('commit');
      await git(dir, ['fsck', '--strict', '--no-dangling']);
    },
  );

  it('refuses what is not an object id, and an identity that would add a header', () => {
    const dir = tempDir('loose-object');
    const identity = 'devkit <devkit@localhost> 1000000000 +0000';
    expect(() => writeCommit(dir, 'sha1', { tree: 'HEAD', parents: [], identity, message: 'm' })).toThrow(/not an object id/);
    expect(() => writeCommit(dir, 'sha1', { tree: '0'.repeat(40), parents: [], identity: `${identity}\nparent x`, message: 'm' })).toThrow(
      /not a commit identity/,
    );
  });
});
