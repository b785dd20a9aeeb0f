import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStatus, parseWorktreeList } from '../src/git/worktrees.js';
import { agentIndexOfWorktree } from '../src/agents/layout.js';
import { checkName, checkPathArg, parseIndex } from '../src/validate.js';
import { DEFAULT_BASE_IMAGE } from '../src/config/config.js';
import { BASE_RECIPE_HASH, baseState } from '../src/docker/images.js';
import { tempDir } from './support/sandbox.js';

// Our own logic around git's output formats; the same paths run against real git in the CLI tests.
describe('parsers and checks', () => {
  it('parses git worktree list --porcelain -z, with lock reasons and prunable entries', () => {
    const text = [
      'worktree /r/app', 'HEAD abc', 'branch refs/heads/main', '',
      'worktree /r/agent2/app', 'HEAD def', 'branch refs/heads/agent2/main', 'locked devkit: agent2', '',
      'worktree /r/agent3/app', 'HEAD 123', 'detached', 'locked', 'prunable gitdir file points to non-existent location', '',
    ].join('\0');
    expect(parseWorktreeList(text)).toEqual([
      { path: '/r/app', head: 'abc', branch: 'refs/heads/main', bare: false, locked: false, lockReason: null, prunableReason: null },
      { path: '/r/agent2/app', head: 'def', branch: 'refs/heads/agent2/main', bare: false, locked: true, lockReason: 'devkit: agent2', prunableReason: null },
      { path: '/r/agent3/app', head: '123', branch: null, bare: false, locked: true, lockReason: null, prunableReason: 'gitdir file points to non-existent location' },
    ]);
  });

  it('counts a rename once and skips its original path', () => {
    expect(parseStatus(['R  new.txt', 'old.txt', ' M a', '?? b', '?? c', '!! ignored', ''].join('\0'))).toEqual({ modified: 2, untracked: 2 });
  });

  it('maps only <root>/agentK/<repo> (K >= 2) and the primary clone to agents', () => {
    const config = { root: '/r', repo: 'app' };
    expect(agentIndexOfWorktree(config, '/r/app')).toBe(1);
    expect(agentIndexOfWorktree(config, '/r/agent12/app')).toBe(12);
    expect(agentIndexOfWorktree(config, '/r/agent1/app')).toBeNull();
    expect(agentIndexOfWorktree(config, '/r/agent02/app')).toBeNull();
    expect(agentIndexOfWorktree(config, '/r/agent2/other')).toBeNull();
    expect(agentIndexOfWorktree(config, '/elsewhere/agent2/app')).toBeNull();
  });

  it('accepts indexes 1..max only', () => {
    expect(parseIndex('7', { what: 'K', max: 8 })).toBe(7);
    for (const bad of ['0', '9', '-1', '1e1', ' 1', '0x2', '', '99999999999999999999']) {
      expect(() => parseIndex(bad, { what: 'K', max: 8 })).toThrow(/K must be an integer from 1 to 8/);
    }
  });

  it('accepts profile and agent names matching ^[a-z][a-z0-9-]{0,62}$ only', () => {
    expect(checkName('agent3', 'profile')).toBe('agent3');
    expect(checkName('dev-all', 'profile')).toBe('dev-all');
    for (const bad of ['Agent3', '3agent', '-x', 'a_b', 'a'.repeat(64), '', 'a/b', 'a\0b']) {
      expect(() => checkName(bad, 'profile')).toThrow(/is not a valid name/);
    }
  });

  it('refuses NUL bytes, UNC and drive paths, and escapes by .. or symlink', () => {
    const root = tempDir('paths');
    mkdirSync(path.join(root, 'inside'));
    symlinkSync('/etc', path.join(root, 'link'));
    const check = (raw: string) => checkPathArg(raw, { label: 'PATH', base: path.join(root, 'inside'), within: root });
    expect(check('.')).toBe(path.join(root, 'inside'));
    expect(check('../inside/new/deeper')).toBe(path.join(root, 'inside', 'new', 'deeper'));
    expect(() => check('a\0b')).toThrow(/NUL byte/);
    expect(() => check('\\\\srv\\share')).toThrow(/UNC path/);
    expect(() => check('//srv/share')).toThrow(/UNC path/);
    expect(() => check('C:\\x')).toThrow(/Windows drive path/);
    expect(() => check('../..')).toThrow(/leaves/);
    expect(() => check('../link/passwd')).toThrow(/leaves .* resolves to \/etc\/passwd/);
  });

  it('calls the default base stale unless it carries this recipe; a configured base is the user\'s', () => {
    expect(baseState(DEFAULT_BASE_IMAGE, { labels: { 'devkit.base-recipe': BASE_RECIPE_HASH } })).toBe('current');
    expect(baseState(DEFAULT_BASE_IMAGE, { labels: {} })).toBe('stale');
    expect(baseState(DEFAULT_BASE_IMAGE, { labels: { 'devkit.base-recipe': 'an older recipe' } })).toBe('stale');
    expect(baseState('registry.example/base:1', { labels: {} })).toBe('current');
    expect(baseState(DEFAULT_BASE_IMAGE, null)).toBe('missing');
  });
});
