import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseYamlCached, type ParsedYaml } from '../src/config/yaml-cache.js';

describe('devkit.yml parsed once per content', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'yaml-cache-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const where = (name: string) => ({ stateHome: path.join(scratch, name), configPath: path.join(scratch, name, 'devkit.yml') });
  /** Reads through the cache as loadWorkspace does: parse, then remember (loadWorkspace remembers once the placement is checked). */
  const read = async (text: string, at: { stateHome: string; configPath: string }): Promise<ParsedYaml> => {
    const { parsed, remember } = await parseYamlCached(text, at);
    remember();
    return parsed;
  };
  const cacheFiles = (name: string): string[] => {
    try {
      return readdirSync(path.join(scratch, name, 'cache', 'config'));
    } catch {
      return [];
    }
  };

  it('answers a second read of the same content from the cache, and parses again when the content changes', async () => {
    const at = where('same');
    expect(await read('root: /dev/one\nrepo: app\n', at)).toEqual({ ok: true, value: { root: '/dev/one', repo: 'app' } });
    const [file] = cacheFiles('same');
    expect(file).toBeDefined();
    // Change what the cache holds for this content: a read of the same text now shows it, proving the YAML was not parsed again.
    const cached = path.join(at.stateHome, 'cache', 'config', file ?? '');
    const entry = JSON.parse(readFileSync(cached, 'utf8')) as { sha256: string; value: unknown };
    writeFileSync(cached, JSON.stringify({ ...entry, value: { root: '/from/the/cache', repo: 'app' } }));
    expect(await read('root: /dev/one\nrepo: app\n', at)).toEqual({ ok: true, value: { root: '/from/the/cache', repo: 'app' } });
    // Other content is parsed, and replaces the entry.
    expect(await read('root: /dev/two\nrepo: app\n', at)).toEqual({ ok: true, value: { root: '/dev/two', repo: 'app' } });
    expect(cacheFiles('same')).toHaveLength(1);
  });

  it('writes nothing until the caller remembers the parse', async () => {
    const at = where('unremembered');
    const { parsed } = await parseYamlCached('repo: app\n', at);
    expect(parsed).toEqual({ ok: true, value: { repo: 'app' } });
    expect(cacheFiles('unremembered')).toEqual([]);
  });

  it('never caches invalid YAML or values JSON would change, and still parses them', async () => {
    const at = where('odd');
    expect(await read('root: [unclosed\n', at)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/flow sequence|Missing/i),
    });
    expect(await read('maxAgents: .inf\n', at)).toEqual({ ok: true, value: { maxAgents: Infinity } });
    expect(cacheFiles('odd')).toEqual([]);
  });

  it('parses when the cache cannot be written', async () => {
    const at = where('blocked');
    // A file where the cache folder goes: making the folder fails, for root too.
    mkdirSync(at.stateHome, { recursive: true });
    writeFileSync(path.join(at.stateHome, 'cache'), 'not a folder\n');
    expect(await read('repo: app\n', at)).toEqual({ ok: true, value: { repo: 'app' } });
    expect(await read('repo: app\n', at)).toEqual({ ok: true, value: { repo: 'app' } });
  });
});
