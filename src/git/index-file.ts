import { createHash } from 'node:crypto';

/**
 * git's index file (.git/index) read as data: an agent writes its copy's
 * index, and devkit hands that index to git on the host. Two things in it
 * must not be trusted: entry paths (git stats, hashes and tars what an entry
 * names, so `../../etc/passwd` would send it out of the copy), and the
 * assume-unchanged and skip-worktree flags (git then reports the file
 * unchanged, hiding work from status and from removal). `checkIndex` finds
 * both; `withoutHidingFlags` gives the same index with those flags cleared.
 * Formats 2, 3 and 4 (prefix-compressed paths) are read.
 */

const ASSUME_VALID = 0x8000;
const EXTENDED = 0x4000;
const NAME_MASK = 0x0fff;
const SKIP_WORKTREE = 0x4000; // in the extended flags

export interface IndexCheck {
  version: number;
  entries: number;
  /** Entries git would not report changes of: assume-unchanged or skip-worktree. */
  hidden: number;
  /** Entry paths that leave the copy or name a .git: at most a few, for the message. */
  badPaths: string[];
}

/** Offsets of what `withoutHidingFlags` changes, found while reading. */
interface Entry {
  /** Where the entry starts: its stat data (ctime, mtime, dev, ino, mode, uid, gid, size) is the first 40 bytes. */
  at: number;
  path: string;
  flagsAt: number;
  flags: number;
  extendedAt: number | null;
  extended: number;
}

export class IndexFormatError extends Error {}

/** A path git itself would refuse to check out: absolute, with an empty, `.` or `..` component, or a `.git` component. */
export function unsafeIndexPath(entryPath: string): boolean {
  if (entryPath === '' || entryPath.startsWith('/') || entryPath.includes('\0')) return true;
  return entryPath.split('/').some((part) => part === '' || part === '.' || part === '..' || part.toLowerCase() === '.git');
}

function entriesOf(bytes: Buffer, hashBytes: number): { version: number; entries: Entry[] } {
  if (bytes.length < 12 + hashBytes || bytes.toString('latin1', 0, 4) !== 'DIRC') throw new IndexFormatError('not a git index');
  const version = bytes.readUInt32BE(4);
  if (version < 2 || version > 4) throw new IndexFormatError(`index format ${version}`);
  const count = bytes.readUInt32BE(8);
  const end = bytes.length - hashBytes;
  const entries: Entry[] = [];
  let at = 12;
  let previous = '';
  for (let i = 0; i < count; i++) {
    const entryAt = at;
    const flagsAt = at + 40 + hashBytes;
    if (flagsAt + 2 > end) throw new IndexFormatError('index entries run past its end');
    const flags = bytes.readUInt16BE(flagsAt);
    const extendedAt = version >= 3 && (flags & EXTENDED) !== 0 ? flagsAt + 2 : null;
    const nameAt = flagsAt + (extendedAt === null ? 2 : 4);
    const extended = extendedAt === null ? 0 : bytes.readUInt16BE(extendedAt);
    let entryPath: string;
    if (version === 4) {
      // A varint of how many bytes of the previous path to drop, then the rest of this path, NUL-ended.
      let drop = 0;
      let cursor = nameAt;
      for (let byte = 0x80; (byte & 0x80) !== 0; cursor++) {
        if (cursor >= end) throw new IndexFormatError('index entries run past its end');
        byte = bytes[cursor] ?? 0;
        drop = (drop << 7) | (byte & 0x7f);
        if ((byte & 0x80) !== 0) drop += 1;
      }
      const nul = bytes.indexOf(0, cursor);
      if (nul < 0 || nul >= end || drop > previous.length) throw new IndexFormatError('a malformed index path');
      entryPath = previous.slice(0, previous.length - drop) + bytes.toString('utf8', cursor, nul);
      at = nul + 1;
    } else {
      const named = flags & NAME_MASK;
      const nul = named < NAME_MASK ? nameAt + named : bytes.indexOf(0, nameAt);
      if (nul < 0 || nul >= end || bytes[nul] !== 0) throw new IndexFormatError('a malformed index path');
      entryPath = bytes.toString('utf8', nameAt, nul);
      // Entries are padded with NULs to a multiple of 8 bytes from their start.
      at += (nul - at + 8) & ~7;
    }
    previous = entryPath;
    entries.push({ at: entryAt, path: entryPath, flagsAt, flags, extendedAt, extended });
  }
  return { version, entries };
}

/** Reads an index (sha1 ids are 20 bytes, sha256 ones 32); throws IndexFormatError on bytes git would refuse too. */
export function checkIndex(bytes: Buffer, hashBytes: number): IndexCheck {
  const { version, entries } = entriesOf(bytes, hashBytes);
  const hidden = entries.filter((e) => (e.flags & ASSUME_VALID) !== 0 || (e.extended & SKIP_WORKTREE) !== 0).length;
  const badPaths = entries
    .map((e) => e.path)
    .filter(unsafeIndexPath)
    .slice(0, 3);
  return { version, entries: entries.length, hidden, badPaths };
}

/**
 * The same index with every assume-unchanged and skip-worktree flag cleared,
 * and its checksum made again. With `forgetStat`, every entry's stat data
 * (all but its mode) is zeroed too: the agent wrote that data, and stat data
 * matching a file whose content changed would make git call it unchanged; git
 * compares the content of an entry whose recorded size is 0, so nothing is
 * taken on trust (and everything is read: for removal, not for status).
 */
export function withoutHidingFlags(bytes: Buffer, hashBytes: number, options: { forgetStat?: boolean } = {}): Buffer {
  const { entries } = entriesOf(bytes, hashBytes);
  const out = Buffer.from(bytes);
  for (const entry of entries) {
    out.writeUInt16BE(entry.flags & ~ASSUME_VALID, entry.flagsAt);
    if (entry.extendedAt !== null) out.writeUInt16BE(entry.extended & ~SKIP_WORKTREE, entry.extendedAt);
    if (options.forgetStat === true) {
      out.fill(0, entry.at, entry.at + 24); // ctime, mtime, dev, ino
      out.fill(0, entry.at + 28, entry.at + 40); // uid, gid, size (the mode at 24..28 stays)
    }
  }
  const body = out.subarray(0, out.length - hashBytes);
  createHash(hashBytes === 32 ? 'sha256' : 'sha1')
    .update(body)
    .digest()
    .copy(out, out.length - hashBytes);
  return out;
}
