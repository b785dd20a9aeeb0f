import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { isInside } from '../fs/paths.js';
import { UsageError } from '../errors.js';

/**
 * devkit's own state: the repo lock, team records, subnet reservations,
 * backups, agent records. It lives where no container can write: in the host
 * user's state folder, never in the shared .git or anywhere under a dev root
 * (dev-all mounts all of it). One folder per dev root, and a record of which
 * workspace manages it, so that a command run inside an agent's copy finds
 * its workspace. Kept light: exec-cd's fast path loads it.
 */

/** The folder holding all of devkit's state for this user. */
export function stateHome(env: NodeJS.ProcessEnv): string {
  if (env.DEVKIT_STATE_DIR !== undefined && env.DEVKIT_STATE_DIR !== '') {
    // Relative, it would name another folder in every directory a command runs in.
    if (!path.isAbsolute(env.DEVKIT_STATE_DIR))
      throw new UsageError(`DEVKIT_STATE_DIR must be an absolute path, got ${JSON.stringify(env.DEVKIT_STATE_DIR)}`);
    return path.normalize(env.DEVKIT_STATE_DIR);
  }
  const base =
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ''
      ? env.XDG_STATE_HOME
      : path.join(env.HOME ?? os.homedir(), '.local', 'state');
  return path.join(path.resolve(base), 'devkit');
}

/** What the state folder records about one dev root. */
export interface RootRecord {
  root: string;
  repo: string;
  /** Workspaces that manage this root, oldest first; the last is the one found from inside the root. */
  workspaces: string[];
}

/** The folder for one dev root's state: its name says which root, the hash keeps two roots apart. */
export function rootStateDir(home: string, root: string): string {
  const slug =
    path
      .basename(root)
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 40) || 'root';
  return path.join(home, 'roots', `${slug}-${createHash('sha256').update(root).digest('hex').slice(0, 16)}`);
}

function readRecord(file: string): RootRecord | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<RootRecord>;
    if (typeof parsed.root !== 'string' || typeof parsed.repo !== 'string' || !Array.isArray(parsed.workspaces)) return null;
    return { root: parsed.root, repo: parsed.repo, workspaces: parsed.workspaces.filter((w): w is string => typeof w === 'string') };
  } catch {
    return null;
  }
}

/** Every dev root this user's devkit knows. */
export function knownRoots(home: string): RootRecord[] {
  let names: string[];
  try {
    names = readdirSync(path.join(home, 'roots'));
  } catch {
    return [];
  }
  return names
    .map((name) => readRecord(path.join(home, 'roots', name, 'root.json')))
    .filter((record): record is RootRecord => record !== null);
}

/** The known dev root holding `dir`, if any. */
export function rootHolding(home: string, dir: string): RootRecord | null {
  return knownRoots(home).find((record) => isInside(dir, record.root)) ?? null;
}

/**
 * Records that `workspace` manages `root` (made once, kept up to date; null:
 * the root alone, for DEVKIT_ROOT without a devkit.yml); returns the root's
 * state folder.
 */
export function registerWorkspace(home: string, root: string, repo: string, workspace: string | null): string {
  const dir = rootStateDir(home, root);
  const file = path.join(dir, 'root.json');
  const current = readRecord(file);
  if (current !== null && current.repo === repo && (workspace === null || current.workspaces.at(-1) === workspace)) return dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kept = (current?.workspaces ?? []).filter((w) => w !== workspace);
  const workspaces = workspace === null ? kept : [...kept, workspace];
  writeFileAtomic(file, `${JSON.stringify({ root, repo, workspaces } satisfies RootRecord, null, 2)}\n`, { mode: 0o600 });
  return dir;
}
