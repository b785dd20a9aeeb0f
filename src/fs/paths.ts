import path from 'node:path';

/** True when `candidate` is `dir` or below it (both absolute and normalised). */
export function isInside(candidate: string, dir: string): boolean {
  return candidate === dir || candidate.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}
