import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { debugSwallow } from '../debug.js';
import { writeFileAtomic } from '../fs/atomic.js';

/**
 * devkit.yml as plain data, parsed by the YAML library once per content and
 * then read back as JSON from devkit's state folder: every command reads
 * devkit.yml, and loading the YAML library alone takes longer than `git
 * status` in a copy. One cache file per config file, holding the content's
 * hash; the state folder is devkit's own (no container can write it).
 */

export type ParsedYaml = { ok: true; value: unknown } | { ok: false; error: string };

interface CacheEntry {
  sha256: string;
  value: unknown;
}

function cacheFile(stateHome: string, configPath: string): string {
  return path.join(stateHome, 'cache', 'config', `${createHash('sha256').update(configPath).digest('hex').slice(0, 32)}.json`);
}

function cached(file: string, sha256: string): ParsedYaml | null {
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheEntry>;
    return entry.sha256 === sha256 && 'value' in entry ? { ok: true, value: entry.value } : null;
  } catch {
    return null;
  }
}

/**
 * Parses YAML text, loading the YAML library through a module of its own (a
 * bundled CommonJS library imported on demand has no named exports).
 */
export async function parseYaml(text: string): Promise<ParsedYaml> {
  return (await import('./yaml-parse.js')).parseYamlText(text);
}

/**
 * parseYaml, answered from the cache when this config file's content was
 * parsed before. `remember` writes a fresh parse to the cache: the caller
 * calls it once it knows the state folder is one devkit may write (outside
 * the dev root the config names).
 */
export async function parseYamlCached(
  text: string,
  where: { stateHome: string; configPath: string },
): Promise<{ parsed: ParsedYaml; remember: () => void }> {
  const sha256 = createHash('sha256').update(text).digest('hex');
  const file = cacheFile(where.stateHome, where.configPath);
  const hit = cached(file, sha256);
  if (hit !== null) return { parsed: hit, remember: () => undefined };
  const parsed = await parseYaml(text);
  // Only data JSON keeps as it is (YAML's .inf or .nan would not come back the same): anything else is parsed every time.
  if (!parsed.ok || !isDeepStrictEqual(JSON.parse(JSON.stringify({ v: parsed.value })) as unknown, { v: parsed.value })) {
    return { parsed, remember: () => undefined };
  }
  const remember = (): void => {
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, JSON.stringify({ sha256, value: parsed.value } satisfies CacheEntry));
    } catch (error) {
      debugSwallow('the parsed devkit.yml cache')(error);
    }
  };
  return { parsed, remember };
}
