import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

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

/** One entry as the walk meets it: offsets of what `withoutHidingFlags` changes, and where its path's bytes are. */
interface Entry {
  /** Where the entry starts: its stat data (ctime, mtime, dev, ino, mode, uid, gid, size) is the first 40 bytes. */
  at: number;
  flagsAt: number;
  flags: number;
  extendedAt: number | null;
  extended: number;
  /** The path: bytes[start, end) of `name` (the index itself, or a buffer made for a format 4 path). */
  name: Buffer;
  start: number;
  end: number;
}

export class IndexFormatError extends Error {}

const SLASH = 0x2f;
const DOT = 0x2e;

/** unsafeIndexPath on bytes, without making a string (status reads every entry of every copy). */
function unsafePathBytes(name: Buffer, start: number, end: number): boolean {
  if (start === end || name[start] === SLASH) return true;
  let part = start;
  for (let i = start; i <= end; i++) {
    if (i < end && name[i] !== SLASH) continue;
    const length = i - part;
    if (length === 0) return true;
    if (name[part] === DOT) {
      if (length === 1 || (length === 2 && name[part + 1] === DOT)) return true;
      // .git in any case
      const lower = (k: number): number => (name[part + k] ?? 0) | 0x20;
      if (length === 4 && lower(1) === 0x67 && lower(2) === 0x69 && lower(3) === 0x74) return true;
    }
    part = i + 1;
  }
  return false;
}

/** A path git itself would refuse to check out: absolute, with an empty, `.` or `..` component, or a `.git` component. */
export function unsafeIndexPath(entryPath: string): boolean {
  const bytes = Buffer.from(entryPath, 'utf8');
  return bytes.includes(0) || unsafePathBytes(bytes, 0, bytes.length);
}

/** Calls `visit` with each entry, in order; throws IndexFormatError on bytes git would refuse too. */
function walkEntries(bytes: Buffer, hashBytes: number, visit: (entry: Entry) => void): number {
  if (bytes.length < 12 + hashBytes || bytes.toString('latin1', 0, 4) !== 'DIRC') throw new IndexFormatError('not a git index');
  const version = bytes.readUInt32BE(4);
  if (version < 2 || version > 4) throw new IndexFormatError(`index format ${version}`);
  const count = bytes.readUInt32BE(8);
  const end = bytes.length - hashBytes;
  let at = 12;
  let previous = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const entryAt = at;
    const flagsAt = at + 40 + hashBytes;
    if (flagsAt + 2 > end) throw new IndexFormatError('index entries run past its end');
    const flags = bytes.readUInt16BE(flagsAt);
    const extendedAt = version >= 3 && (flags & EXTENDED) !== 0 ? flagsAt + 2 : null;
    const nameAt = flagsAt + (extendedAt === null ? 2 : 4);
    const extended = extendedAt === null ? 0 : bytes.readUInt16BE(extendedAt);
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
      const name = Buffer.concat([previous.subarray(0, previous.length - drop), bytes.subarray(cursor, nul)]);
      visit({ at: entryAt, flagsAt, flags, extendedAt, extended, name, start: 0, end: name.length });
      previous = name;
      at = nul + 1;
    } else {
      const named = flags & NAME_MASK;
      const nul = named < NAME_MASK ? nameAt + named : bytes.indexOf(0, nameAt);
      if (nul < 0 || nul >= end || bytes[nul] !== 0) throw new IndexFormatError('a malformed index path');
      visit({ at: entryAt, flagsAt, flags, extendedAt, extended, name: bytes, start: nameAt, end: nul });
      // Entries are padded with NULs to a multiple of 8 bytes from their start.
      at += (nul - at + 8) & ~7;
    }
  }
  return version;
}

/** Reads an index (sha1 ids are 20 bytes, sha256 ones 32); throws IndexFormatError on bytes git would refuse too. */
export function checkIndex(bytes: Buffer, hashBytes: number): IndexCheck {
  let entries = 0;
  let hidden = 0;
  const badPaths: string[] = [];
  const version = walkEntries(bytes, hashBytes, (entry) => {
    entries += 1;
    if ((entry.flags & ASSUME_VALID) !== 0 || (entry.extended & SKIP_WORKTREE) !== 0) hidden += 1;
    if (badPaths.length < 3 && unsafePathBytes(entry.name, entry.start, entry.end))
      badPaths.push(entry.name.toString('utf8', entry.start, entry.end));
  });
  return { version, entries, hidden, badPaths };
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
  const out = Buffer.from(bytes);
  walkEntries(bytes, hashBytes, (entry) => {
    out.writeUInt16BE(entry.flags & ~ASSUME_VALID, entry.flagsAt);
    if (entry.extendedAt !== null) out.writeUInt16BE(entry.extended & ~SKIP_WORKTREE, entry.extendedAt);
    if (options.forgetStat === true) {
      out.fill(0, entry.at, entry.at + 24); // ctime, mtime, dev, ino
      out.fill(0, entry.at + 28, entry.at + 40); // uid, gid, size (the mode at 24..28 stays)
    }
  });
  const body = out.subarray(0, out.length - hashBytes);
  createHash(hashBytes === 32 ? 'sha256' : 'sha1')
    .update(body)
    .digest()
    .copy(out, out.length - hashBytes);
  return out;
}

/** How long a fingerprint's tail is: the longest trailing checksum (sha256) an index ends with. */
const FINGERPRINT_TAIL = 32;

/**
 * An index's fingerprint: its size and trailing checksum, which git makes
 * again whenever it writes the file. Equal fingerprints are the same index.
 */
export function indexFingerprint(bytes: Buffer): string {
  return `${bytes.length}-${bytes.subarray(Math.max(0, bytes.length - FINGERPRINT_TAIL)).toString('hex')}`;
}

/** The fingerprint of an index file, reading only its tail; null when it cannot be read. */
export function indexFileFingerprint(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, FINGERPRINT_TAIL));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return `${size}-${tail.toString('hex')}`;
  } finally {
    closeSync(fd);
  }
}
