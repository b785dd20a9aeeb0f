import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';
import { DEVHOME_EXCLUDES, agentPaths } from '../fleet/layout.js';
import { ownerToSet } from '../fleet/owner.js';
import { writeFileAtomic } from '../fs/atomic.js';
import {
  listIn,
  lstatIn,
  openDirIn,
  openSafeDir,
  readTextIn,
  removeTreeIn,
  setDirOwner,
  withSafeDir,
  writeFileIn,
  type SafeDir,
} from '../fs/safe.js';
import { initialGitconfig, type GitIdentity } from '../fleet/git-identity.js';

/** Whether agent K's HOME is there (as a plain folder). */
export function homeExists(fleet: Fleet, index: number): boolean {
  try {
    return withSafeDir(fleet.config.root, agentPaths(fleet.config, index).rel.devhome, () => true) === true;
  } catch {
    return false; // something odd sits there: not a HOME devkit keeps
  }
}

/**
 * Whether agent K's HOME holds nothing but what devkit put there when it made
 * it for `identity` (its .gitconfig as written, an empty .ssh), so removing
 * it loses nothing. A missing HOME is as made; a link or a file where a folder
 * should be is not (it is saved, as a link, before anything goes).
 */
export function homeAsMade(fleet: Fleet, index: number, identity: GitIdentity): boolean {
  const emptyFolder = (home: SafeDir, name: string): boolean => {
    const dir = openDirIn(home, name);
    try {
      return dir !== null && listIn(dir).length === 0;
    } finally {
      dir?.close();
    }
  };
  try {
    const asMade = withSafeDir(fleet.config.root, agentPaths(fleet.config, index).rel.devhome, (home) =>
      listIn(home).every((name) =>
        name === '.ssh' ? emptyFolder(home, name) : name === '.gitconfig' && readTextIn(home, name) === initialGitconfig(identity),
      ),
    );
    return asMade ?? true;
  } catch {
    return false;
  }
}

/** Deletes agent K's HOME, never following a link. The caller saved what it held, and no container can write it. */
export function removeHome(fleet: Fleet, index: number): void {
  const agent = agentPaths(fleet.config, index);
  const dir = openSafeDir(fleet.config.root, agent.rel.dir);
  if (dir === null) return;
  try {
    removeTreeIn(dir, path.basename(agent.devhome));
  } finally {
    dir.close();
  }
}

/**
 * Creates agent K's HOME (mode 0700, with a 0700 .ssh and a .gitconfig naming
 * `identity`) when it is missing, owned by the agent's uid. An existing HOME is left exactly as it
 * is: it holds keys and CLI logins. Everything is made through safe.ts, so a
 * link an agent planted where the HOME goes is refused. Returns true when made.
 */
export function ensureDevhome(fleet: Fleet, index: number, identity: GitIdentity): boolean {
  const agent = agentPaths(fleet.config, index);
  const owner = ownerToSet();
  const parent = openSafeDir(fleet.config.root, path.dirname(agent.rel.devhome), { create: { mode: 0o755 } });
  if (parent === null) return false;
  try {
    const name = path.basename(agent.rel.devhome);
    if (lstatIn(parent, name) !== null) return false;
    const home = openDirIn(parent, name, { create: { mode: 0o700 } });
    if (home === null) return false;
    try {
      setDirOwner(home, owner, 0o700);
      const ssh = openDirIn(home, '.ssh', { create: { mode: 0o700 } });
      if (ssh !== null) {
        setDirOwner(ssh, owner, 0o700);
        ssh.close();
      }
      writeFileIn(home, '.gitconfig', initialGitconfig(identity), { mode: 0o644, owner });
    } finally {
      home.close();
    }
    return true;
  } finally {
    parent.close();
  }
}

/** Adds the HOME patterns to an info/exclude file; false when they were there. */
export function addDevhomeExcludes(current: string): string | null {
  const present = new Set(current.split('\n').map((line) => line.trim()));
  const missing = DEVHOME_EXCLUDES.filter((pattern) => !present.has(pattern));
  if (missing.length === 0) return null;
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  return `${current}${separator}# devkit: agents' HOMEs are never committed\n${missing.join('\n')}\n`;
}

/** Keeps agent 1's HOME out of the primary clone's commits (its info/exclude is devkit's to write: no agent can). */
export function ensureDevhomeExcluded(fleet: Fleet): boolean {
  const file = path.join(fleet.shared.gitDir, 'info', 'exclude');
  const next = addDevhomeExcludes(existsSync(file) ? readFileSync(file, 'utf8') : '');
  if (next === null) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, next);
  return true;
}
