import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { DevkitError } from '../errors.js';

/**
 * Host-side file access in places an agent can write (its copy, its HOME, the
 * whole dev root in dev-all). Paths are walked component by component from a
 * directory devkit trusts, each step through the file descriptor of the one
 * before (`/proc/self/fd/N/name`, Linux's openat), with O_NOFOLLOW: a symbolic
 * link an agent planted, or swapped in meanwhile, is refused, never followed.
 * Temp files get unpredictable names and are created exclusively.
 */

/** A planted symbolic link (or another odd file) where devkit expected a plain file or folder. */
export class PlantedLinkError extends DevkitError {
  constructor(
    readonly where: string,
    found: string,
  ) {
    super(`refusing ${where}: it is ${found}, not what devkit made there (planted by an agent?); move it away and try again`);
    this.name = 'PlantedLinkError';
  }
}

/** An open directory reached without following links; `path` is for messages and for tools that take a path. */
export interface SafeDir {
  readonly fd: number;
  readonly path: string;
  close(): void;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

function via(dir: SafeDir, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new DevkitError(`internal: ${JSON.stringify(name)} is not one path component`);
  }
  return `/proc/self/fd/${dir.fd}/${name}`;
}

/** The error code of a failed file system call (ENOENT, EEXIST...), if it has one. */
export function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function describeType(stat: Stats): string {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFile()) return 'a file';
  return 'a special file';
}

function wrap(fd: number, where: string): SafeDir {
  let open = true;
  return {
    fd,
    path: where,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** A directory devkit trusts (the dev root named in devkit.yml, its own state folder), opened as it is. */
export function openTrustedDir(dir: string): SafeDir {
  try {
    return wrap(openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY), dir);
  } catch (error) {
    throw new DevkitError(`cannot open ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** What is at `name` in `dir`, not following a link; null when nothing is. */
export function lstatIn(dir: SafeDir, name: string): Stats | null {
  return lstatSync(via(dir, name), { throwIfNoEntry: false }) ?? null;
}

/** Opens the folder `name` in `dir` (making it with `create`); a link or a file there is refused. Null when missing. */
export function openDirIn(dir: SafeDir, name: string, options: { create?: { mode: number } } = {}): SafeDir | null {
  const where = path.join(dir.path, name);
  if (options.create !== undefined) {
    try {
      mkdirSync(via(dir, name), options.create.mode);
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw error;
    }
  }
  try {
    return wrap(openSync(via(dir, name), DIR_FLAGS), where);
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    if (errno(error) === 'ENOTDIR' || errno(error) === 'ELOOP') {
      const stat = lstatIn(dir, name);
      throw new PlantedLinkError(where, stat === null ? 'gone' : describeType(stat));
    }
    throw error;
  }
}

/** Opens `relative` (folders separated by '/') below `dir`, one component at a time. Null when a part is missing. */
export function openPathIn(dir: SafeDir, relative: string, options: { create?: { mode: number } } = {}): SafeDir | null {
  let current: SafeDir | null = dir;
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  for (const part of parts) {
    const next: SafeDir | null = openDirIn(current, part, options);
    if (current !== dir) current.close();
    if (next === null) return null;
    current = next;
  }
  // The caller closes what it gets; an empty path hands back a fresh descriptor of dir itself.
  return current === dir ? wrap(openSync(`/proc/self/fd/${dir.fd}/.`, DIR_FLAGS), dir.path) : current;
}

/** Opens a folder below a trusted base: the common way in. */
export function openSafeDir(trustedBase: string, relative: string, options: { create?: { mode: number } } = {}): SafeDir | null {
  const base = openTrustedDir(trustedBase);
  try {
    return openPathIn(base, relative, options);
  } finally {
    base.close();
  }
}

/** Runs `body` with the folder open; null (and body not run) when it is missing. */
export function withSafeDir<T>(
  trustedBase: string,
  relative: string,
  body: (dir: SafeDir) => T,
  options: { create?: { mode: number } } = {},
): T | null {
  const dir = openSafeDir(trustedBase, relative, options);
  if (dir === null) return null;
  try {
    return body(dir);
  } finally {
    dir.close();
  }
}

/** Names in the folder. */
export function listIn(dir: SafeDir): string[] {
  return readdirSync(`/proc/self/fd/${dir.fd}`);
}

/** Opens a plain file for reading without following a link or blocking on a FIFO; null when missing. The caller closes it. */
export function openFileIn(dir: SafeDir, name: string): number | null {
  const where = path.join(dir.path, name);
  let fd: number;
  try {
    fd = openSync(via(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (errno(error) === 'ENOENT') return null;
    if (errno(error) === 'ELOOP') throw new PlantedLinkError(where, 'a symbolic link');
    throw error;
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new PlantedLinkError(where, describeType(stat));
  }
  return fd;
}

/** A plain file's bytes, at most `maxBytes` (a bigger file is refused); null when missing. */
export function readFileIn(dir: SafeDir, name: string, maxBytes = 16 * 1024 * 1024): Buffer | null {
  const fd = openFileIn(dir, name);
  if (fd === null) return null;
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new DevkitError(`${path.join(dir.path, name)} is ${size} bytes, more than devkit reads (${maxBytes})`);
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const read = readSync(fd, buffer, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}

export function readTextIn(dir: SafeDir, name: string, maxBytes?: number): string | null {
  return readFileIn(dir, name, maxBytes)?.toString('utf8') ?? null;
}

export interface WriteOptions {
  mode?: number;
  /** Owner to give the file (devkit running as root writing an agent's file). */
  owner?: { uid: number; gid: number } | null;
}

/** A temp name nobody can guess, in the same folder. */
function tempName(): string {
  return `.devkit-tmp-${randomBytes(9).toString('hex')}`;
}

/**
 * Writes `name` in `dir` whole or not at all: a temp file with an
 * unguessable name, created exclusively, renamed over it. Refuses when a link
 * or a folder sits at `name` (a rename would replace a link, but it is planted
 * and the user should know).
 */
export function writeFileIn(dir: SafeDir, name: string, data: string | Buffer, options: WriteOptions = {}): void {
  const existing = lstatIn(dir, name);
  if (existing !== null && !existing.isFile()) throw new PlantedLinkError(path.join(dir.path, name), describeType(existing));
  const temp = tempName();
  const mode = options.mode ?? 0o644;
  const fd = openSync(via(dir, temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fchmodSync(fd, mode); // the umask may have taken bits off
    if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
  } catch (error) {
    closeSync(fd);
    unlinkSync(via(dir, temp));
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(via(dir, temp), via(dir, name));
  } catch (error) {
    unlinkSync(via(dir, temp));
    throw error;
  }
}

/** Sets a plain file's mode (and owner) through a descriptor opened without following links; false when missing. */
export function chmodFileIn(dir: SafeDir, name: string, mode: number, owner: { uid: number; gid: number } | null = null): boolean {
  const fd = openFileIn(dir, name);
  if (fd === null) return false;
  try {
    fchmodSync(fd, mode);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Creates `name` holding `data` only if nothing is there; false when something is. */
export function createFileIn(dir: SafeDir, name: string, data: string | Buffer, options: WriteOptions = {}): boolean {
  const temp = tempName();
  const mode = options.mode ?? 0o644;
  const fd = openSync(via(dir, temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fchmodSync(fd, mode);
    if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
  } finally {
    closeSync(fd);
  }
  try {
    // link(2) never replaces: exactly one of several racing creators wins.
    linkSync(via(dir, temp), via(dir, name));
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(via(dir, temp));
  }
}

/** Deletes the plain file or link `name` (never what a link points at); false when it was not there. */
export function removeFileIn(dir: SafeDir, name: string): boolean {
  try {
    unlinkSync(via(dir, name));
    return true;
  } catch (error) {
    if (errno(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Deletes the empty folder `name`. */
export function removeEmptyDirIn(dir: SafeDir, name: string): void {
  rmdirSync(via(dir, name));
}

/** Gives the folder itself an owner and mode (through its descriptor, so no link is followed). */
export function setDirOwner(dir: SafeDir, owner: { uid: number; gid: number } | null, mode?: number): void {
  if (mode !== undefined) fchmodSync(dir.fd, mode);
  if (owner) fchownSync(dir.fd, owner.uid, owner.gid);
}

/**
 * Puts the plain file `name` at `target` (a path devkit owns): a hard link
 * where the file system allows it (no bytes copied), else a copy read through
 * a descriptor opened without following links. A link to anything but a plain
 * file is undone and refused.
 */
export function linkOrCopyOut(dir: SafeDir, name: string, target: string): void {
  try {
    linkSync(via(dir, name), target);
    if (lstatSync(target).isFile()) return;
    unlinkSync(target);
    throw new PlantedLinkError(path.join(dir.path, name), 'not a plain file');
  } catch (error) {
    if (error instanceof PlantedLinkError) throw error;
    if (errno(error) !== 'EXDEV' && errno(error) !== 'EPERM') throw error;
  }
  const from = openFileIn(dir, name);
  if (from === null) return;
  const to = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o444);
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (;;) {
      const read = readSync(from, buffer, 0, buffer.length, null);
      if (read === 0) break;
      let offset = 0;
      while (offset < read) offset += writeSync(to, buffer, offset, read - offset);
    }
  } finally {
    closeSync(from);
    closeSync(to);
  }
}

/** The path of `name` in `dir` as a kernel path that cannot be redirected by a swapped parent (for tools that take a path). */
export function pinnedPath(dir: SafeDir, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dir.fd}` : via(dir, name);
}

/**
 * The folder as a path a child process can use (its own /proc/self/fd does
 * not hold devkit's descriptor): the kernel resolves it to the very folder
 * devkit opened, wherever that is now.
 */
export function childPath(dir: SafeDir): string {
  return `/proc/${process.pid}/fd/${dir.fd}`;
}

/**
 * Deletes the folder `name` in `dir` and everything in it, never following a
 * link (a link is deleted, not what it points at). For a copy devkit has
 * proven is an agent's, with no container able to write it meanwhile.
 */
export function removeTreeIn(dir: SafeDir, name: string): void {
  const stat = lstatIn(dir, name);
  if (stat === null) return;
  if (!stat.isDirectory()) {
    removeFileIn(dir, name);
    return;
  }
  const sub = openDirIn(dir, name);
  if (sub === null) return;
  try {
    for (const entry of listIn(sub)) removeTreeIn(sub, entry);
  } finally {
    sub.close();
  }
  removeEmptyDirIn(dir, name);
}
