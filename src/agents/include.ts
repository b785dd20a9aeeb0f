import { lstatSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';

/**
 * `.devkit/include` in the workspace: gitignore patterns naming untracked or
 * ignored files of the primary clone (`.env`, `.bsp/`, `.metals/`, local
 * settings) that a new agent's copy gets too. git evaluates the patterns.
 */
export const INCLUDE_FILE = path.join('.devkit', 'include');

export function includeFilePath(workspaceDir: string): string {
  return path.join(workspaceDir, INCLUDE_FILE);
}

/** The include file when there is one (null when not); anything but a plain file is refused, before anything changes. */
export function checkIncludeFile(workspaceDir: string): string | null {
  const file = includeFilePath(workspaceDir);
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return null;
  if (!stat.isFile()) {
    const what = stat.isSymbolicLink() ? 'a symbolic link' : stat.isDirectory() ? 'a folder' : 'a special file';
    throw new UsageError(`${file} is ${what}: it must be a plain file of gitignore patterns (or absent)`);
  }
  return file;
}

/** Agents' HOMEs in the primary clone (agent 1's keys): never handed to another agent, whatever the patterns say. */
const NEVER_INCLUDED = /^\.devhome(-agent\d+)?(\/|$)/;

/**
 * The primary clone's untracked and ignored files the include file matches,
 * as paths relative to its top, sorted; none without an include file. Nested
 * repositories are not entered, and links are listed as themselves (git
 * follows none): the caller decides what to do with each.
 */
export async function includedFiles(fleet: Pick<Fleet, 'workspace' | 'shared'>): Promise<string[]> {
  const file = checkIncludeFile(fleet.workspace.dir);
  if (file === null) return [];
  const listed = await fleet.shared.git.run(['ls-files', '-z', '--others', '--ignored', `--exclude-from=${file}`]);
  return listed
    .split('\0')
    .filter((entry) => entry !== '' && !entry.endsWith('/') && !NEVER_INCLUDED.test(entry))
    .sort();
}
