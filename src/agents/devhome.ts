import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEVHOME_EXCLUDES } from './layout.js';

/**
 * Creates an agent's HOME (mode 0700, with a 0700 .ssh) when it is missing.
 * An existing devhome is left exactly as it is: it holds keys and CLI logins.
 * Returns true when it was created.
 */
export function ensureDevhome(devhome: string): boolean {
  if (existsSync(devhome)) return false;
  mkdirSync(path.join(devhome, '.ssh'), { recursive: true, mode: 0o700 });
  return true;
}

/** Writes a file by renaming a sibling temp file over it, so readers never see half of it. */
export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, file);
}

/**
 * Adds the devhome patterns to the shared repo's info/exclude (which every
 * worktree reads), so `git add -A` in any agent's copy never picks up a HOME.
 * Returns true when the file changed.
 */
export function ensureDevhomeExcluded(commonDir: string): boolean {
  const file = path.join(commonDir, 'info', 'exclude');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const present = new Set(text.split('\n').map((line) => line.trim()));
  const missing = DEVHOME_EXCLUDES.filter((pattern) => !present.has(pattern));
  if (missing.length === 0) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  writeFileAtomic(file, `${text}${separator}# devkit: agents' HOMEs are never committed\n${missing.join('\n')}\n`);
  return true;
}
