/** What `git status` says of a working copy, counted. */
export interface DirtyCounts {
  /** Tracked files with staged or unstaged changes (conflicts included). */
  modified: number;
  /** Untracked files, not counting ignored ones. */
  untracked: number;
  /** Ignored files (build output, .env): counted only when asked, as work removal would lose. */
  ignored: number;
}

/** Parses `git status --porcelain=v1 -z`. */
export function parseStatus(text: string): DirtyCounts {
  const counts: DirtyCounts = { modified: 0, untracked: 0, ignored: 0 };
  const fields = text.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? '';
    if (field.length < 3) continue;
    const code = field.slice(0, 2);
    if (code === '??') counts.untracked++;
    else if (code === '!!') counts.ignored++;
    else counts.modified++;
    // A rename or copy is followed by a field holding the original path.
    if (code[0] === 'R' || code[0] === 'C') i++;
  }
  return counts;
}

/** `git status` arguments for counting: every untracked file, ignored ones when asked, never inside nested repositories. */
export function statusArgs(withIgnored: boolean): string[] {
  return [
    'status',
    '--porcelain=v1',
    '-z',
    '--untracked-files=all',
    '--ignore-submodules=all',
    ...(withIgnored ? ['--ignored=traditional'] : []),
  ];
}

/** Parses `%(upstream:track)`: "[ahead 2, behind 1]", "[gone]", or empty when in step. */
export function parseTrack(text: string): { ahead: number; behind: number } | null {
  if (text.includes('gone')) return null;
  const ahead = /ahead (\d+)/.exec(text)?.[1];
  const behind = /behind (\d+)/.exec(text)?.[1];
  return { ahead: Number(ahead ?? 0), behind: Number(behind ?? 0) };
}
