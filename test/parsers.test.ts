import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStatus, parseTrack } from '../src/git/status.js';
import { isValidRefName, parseHead, parsePackedRefs } from '../src/git/refs.js';
import { agentIndexOfCopy } from '../src/fleet/layout.js';
import { checkName, checkPathArg, parseIndex } from '../src/validate.js';
import { DEFAULT_BASE_IMAGE } from '../src/config/config.js';
import { BASE_RECIPE_HASH, baseState } from '../src/docker/images.js';
import { tempDir } from './support/sandbox.js';
import { escapeControls } from '../src/cli/io.js';
import { validateRegistry } from '../src/config/sections.js';
import { registryReference } from '../src/docker/registry-transfer.js';

// Our own logic around git's output formats; the same paths run against real git in the CLI tests.
describe('parsers and checks', () => {
  it("reads an agent's refs as data: packed-refs, HEAD and ref names git itself could have written", () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const packed = [
      '# pack-refs with: peeled fully-peeled sorted ',
      `${a} refs/heads/agent2/main`,
      `^${b}`,
      `${b} refs/tags/v1`,
      `zz refs/heads/bad`,
      `${a} refs/heads/../../x`,
      '',
    ].join('\n');
    expect([...parsePackedRefs(packed)]).toEqual([
      ['refs/heads/agent2/main', a],
      ['refs/tags/v1', b],
    ]);
    expect(parseHead('ref: refs/heads/agent2/main\n')).toEqual({ kind: 'branch', ref: 'refs/heads/agent2/main' });
    expect(parseHead(`${a}\n`)).toEqual({ kind: 'detached', commit: a });
    expect(parseHead('ref: ../../etc/passwd')).toBeNull();
    for (const bad of [
      'refs/heads/a..b',
      'refs/heads/.hidden',
      'refs/heads/x.lock',
      'heads/main',
      'refs/heads/a b',
      'refs/heads/a\u001b[2J',
    ]) {
      expect({ bad, valid: isValidRefName(bad) }).toEqual({ bad, valid: false });
    }
    expect(parseTrack('[ahead 2, behind 1]')).toEqual({ ahead: 2, behind: 1 });
    expect(parseTrack('')).toEqual({ ahead: 0, behind: 0 });
    expect(parseTrack('[gone]')).toBeNull();
  });

  it('counts a rename once and skips its original path', () => {
    expect(parseStatus(['R  new.txt', 'old.txt', ' M a', '?? b', '?? c', '!! ignored', ''].join('\0'))).toEqual({
      modified: 2,
      untracked: 2,
      ignored: 1,
    });
  });

  it('maps only <root>/agentK/<repo> (K >= 2) and the primary clone to agents', () => {
    const config = { root: '/r', repo: 'app' };
    expect(agentIndexOfCopy(config, '/r/app')).toBe(1);
    expect(agentIndexOfCopy(config, '/r/agent12/app')).toBe(12);
    expect(agentIndexOfCopy(config, '/r/agent1/app')).toBeNull();
    expect(agentIndexOfCopy(config, '/r/agent02/app')).toBeNull();
    expect(agentIndexOfCopy(config, '/r/agent2/other')).toBeNull();
    expect(agentIndexOfCopy(config, '/elsewhere/agent2/app')).toBeNull();
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

  it("calls the default base stale unless it carries this recipe; a configured base is the user's", () => {
    expect(baseState(DEFAULT_BASE_IMAGE, { labels: { 'devkit.base-recipe': BASE_RECIPE_HASH } })).toBe('current');
    expect(baseState(DEFAULT_BASE_IMAGE, { labels: {} })).toBe('stale');
    expect(baseState(DEFAULT_BASE_IMAGE, { labels: { 'devkit.base-recipe': 'an older recipe' } })).toBe('stale');
    expect(baseState('registry.example/base:1', { labels: {} })).toBe('current');
    expect(baseState(DEFAULT_BASE_IMAGE, null)).toBe('missing');
  });
});

describe("devkit.yml's registry", () => {
  it('takes a registry host (a dot, a port, or localhost) with an optional path, as the docker CLI tells one from a Docker Hub name', () => {
    for (const value of [
      'localhost:5000',
      'localhost/devkit',
      'registry.example.com/team/devkit',
      'docker.io/team',
      '10.0.0.5:5000/x-y/z__w',
    ])
      expect(validateRegistry(value, 'devkit.yml')).toBe(value);
    expect(validateRegistry(undefined, 'devkit.yml')).toBeNull();
    for (const value of [
      'team/devkit',
      'devkit',
      'registry.example.com/',
      'registry.example.com//x',
      'reg.example/-x',
      'reg.example:5000:1',
    ])
      expect(() => validateRegistry(value, 'devkit.yml')).toThrow(/'registry' must be a registry host/);
  });

  it("names an image in the registry by its ID under the registry's prefix, without the registry its own name may start with", () => {
    const id = `sha256:${'a'.repeat(64)}`;
    expect(registryReference('reg.example:5000/devkit', { tag: 'devkit/dev:local', id })).toBe(
      `reg.example:5000/devkit/devkit/dev:sha256-${'a'.repeat(64)}`,
    );
    expect(registryReference('localhost:5000', { tag: 'other.example/team/base:bookworm', id })).toBe(
      `localhost:5000/team/base:sha256-${'a'.repeat(64)}`,
    );
    expect(registryReference('localhost:5000', { tag: 'plain', id })).toBe(`localhost:5000/plain:sha256-${'a'.repeat(64)}`);
  });
});

describe('text from agents on the terminal', () => {
  it('shows control characters and the invisible characters that reorder or hide text as escapes, and leaves the rest', () => {
    expect(escapeControls('a\x1b[2Jb\rc\x07\x9bd\te')).toBe('a\\x1b[2Jb\\x0dc\\x07\\x9bd\te');
    expect(escapeControls('key \u202edlrow olleh\u202c, \u2066x\u2069, zero\u200bwidth, \ufeffbom, \u061c')).toBe(
      'key \\u{202e}dlrow olleh\\u{202c}, \\u{2066}x\\u{2069}, zero\\u{200b}width, \\u{feff}bom, \\u{61c}',
    );
    expect(escapeControls('agent2/main ✓ héllo 日本')).toBe('agent2/main ✓ héllo 日本');
  });
});
