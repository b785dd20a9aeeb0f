import { closeSync, constants, copyFileSync } from 'node:fs';
import path from 'node:path';
import { oneLine } from '../errors.js';
import { PlantedLinkError, lstatIn, openFileIn, openPathIn, pinnedPath, type SafeDir } from '../fs/safe.js';

/** What went into a new copy from the include file: how many files, and each one left out with why. */
export interface IncludedCopy {
  copied: number;
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * Copies `files` (paths relative to the primary clone, from includedFiles)
 * from `from` (the primary clone, which dev-all agents can write) into `to`
 * (a copy devkit is making). Every path is walked without following a link on
 * either side; only plain files are copied (a clone of their blocks where the
 * file system can, else their bytes), never over something already there.
 * Links, special files and paths a link or a file stands in are left out and
 * said so.
 */
export function copyIncluded(from: SafeDir, to: SafeDir, files: readonly string[]): IncludedCopy {
  const result: IncludedCopy = { copied: 0, skipped: [] };
  for (const file of files) {
    const reason = copyOne(from, to, file);
    if (reason === null) result.copied++;
    else result.skipped.push({ path: file, reason });
  }
  return result;
}

/** Copies one file; returns why it was left out, or null. */
function copyOne(from: SafeDir, to: SafeDir, file: string): string | null {
  const folder = path.posix.dirname(file);
  const name = path.posix.basename(file);
  let source: SafeDir | null = null;
  let target: SafeDir | null = null;
  try {
    source = openPathIn(from, folder === '.' ? '' : folder);
    if (source === null) return 'gone from the primary clone';
    const stat = lstatIn(source, name);
    if (stat === null) return 'gone from the primary clone';
    if (stat.isSymbolicLink()) return 'a symbolic link (devkit follows none out of the primary clone)';
    if (!stat.isFile()) return 'not a plain file';
    const fd = openFileIn(source, name);
    if (fd === null) return 'gone from the primary clone';
    try {
      target = openPathIn(to, folder === '.' ? '' : folder, { create: { mode: 0o755 } });
      if (target === null) return 'its folder cannot be made in the new copy';
      // The descriptor's own file, whatever now sits at the path; never over a file the branch has (EXCL).
      copyFileSync(`/proc/self/fd/${fd}`, pinnedPath(target, name), constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      return null;
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return "the new copy's branch has it";
    if (error instanceof PlantedLinkError) return 'a folder on its way is a link or a file (in the primary clone or the branch)';
    return oneLine(error instanceof Error ? error.message : String(error));
  } finally {
    source?.close();
    target?.close();
  }
}

/** What to tell the user of a new copy's included files: how many, and each left out. */
export function includedLines(agent: string, included: IncludedCopy | null): { count: string; skipped: string[] } | null {
  if (included === null) return null;
  return {
    count: `${included.copied} included file${included.copied === 1 ? '' : 's'} copied`,
    skipped: included.skipped.map((left) => `${agent}: left out included ${left.path}: ${left.reason}`),
  };
}
