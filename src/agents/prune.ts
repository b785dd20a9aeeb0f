import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Fleet } from '../fleet/fleet.js';
import { agentIndexesSeen, agentName, agentPaths } from '../fleet/layout.js';
import { agentOwner } from '../fleet/owner.js';
import { deleteAgentRecord, readAgentRecords, writeAgentRecord } from '../fleet/records.js';
import { listIn, lstatIn, openSafeDir, removeFileIn, removeTreeIn, type SafeDir } from '../fs/safe.js';
import { gitWorksIn, scanGitProcesses, type GitProcessScan } from '../git/lock-owners.js';
import { readCopy } from './copy.js';
import { homeExists } from './devhome.js';

export type PruneFindingKind =
  'copy-missing' | 'copy-unregistered' | 'copy-tampered' | 'stale-lock' | 'busy-lock' | 'devhome-parked' | 'staging-leftover';

/** One orphan or stale thing `worktrees prune` found. */
export interface PruneFinding {
  kind: PruneFindingKind;
  /** The agent it concerns, when it concerns one. */
  index: number | null;
  path: string;
  /** What is wrong, for people. */
  problem: string;
  /** What --apply does about it, or why it leaves it alone. */
  fix: string;
  /** Whether --apply may act on it: never when it could hold work. */
  safe: boolean;
  applied: boolean;
  /** For a lock: the folders whose git processes could own it. */
  owners: string[];
}

/** A finding --apply has not acted on yet; index null and no owners unless given. */
function finding(
  fields: Omit<PruneFinding, 'applied' | 'index' | 'owners'> & Partial<Pick<PruneFinding, 'index' | 'owners'>>,
): PruneFinding {
  return { index: null, owners: [], ...fields, applied: false };
}

/** A git lock is never called stale while it is this young: its git may be about to finish. */
const LOCK_GRACE_MS = 10_000;

function lockFilesUnder(dir: string, depth = 0): string[] {
  if (depth > 32 || !existsSync(dir)) return [];
  const found: string[] = [];
  for (const dirent of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, dirent.name);
    if (dirent.isDirectory()) found.push(...lockFilesUnder(full, depth + 1));
    else if (dirent.isFile() && dirent.name.endsWith('.lock')) found.push(full);
  }
  return found;
}

interface LockCandidate {
  file: string;
  owners: string[];
}

/** git's lock files in the shared repo: any git working in the primary clone could own them. */
function sharedLocks(fleet: Fleet): LockCandidate[] {
  const dir = fleet.shared.gitDir;
  const top = ['config.lock', 'packed-refs.lock', 'shallow.lock', 'index.lock', 'HEAD.lock'].map((name) => path.join(dir, name));
  return [...top, ...lockFilesUnder(path.join(dir, 'refs'))]
    .filter((file) => existsSync(file))
    .map((file) => ({ file, owners: [fleet.shared.top] }));
}

/** git's lock files at the top of an agent copy's .git (index.lock, HEAD.lock...), read without following links. */
function copyLocks(fleet: Fleet, index: number): LockCandidate[] {
  const agent = agentPaths(fleet.config, index);
  if (readCopy(fleet.config, fleet.shared.gitDir, index).state !== 'ok') return [];
  const git = openSafeDir(fleet.config.root, `${agent.rel.worktree}/.git`);
  if (git === null) return [];
  try {
    return listIn(git)
      .filter((name) => name.endsWith('.lock') && lstatIn(git, name)?.isFile() === true)
      .map((name) => ({ file: path.join(agent.worktree, '.git', name), owners: [agent.worktree] }));
  } finally {
    git.close();
  }
}

function lockFinding(lock: LockCandidate, scan: GitProcessScan | null, index: number | null): PruneFinding {
  const age = Date.now() - statSync(lock.file).mtimeMs;
  const seconds = Math.round(age / 1000);
  const busy = scan === null || age < LOCK_GRACE_MS || lock.owners.some((owner) => gitWorksIn(scan, owner));
  if (busy) {
    const why = scan === null ? 'owner unknown (no /proc here)' : age < LOCK_GRACE_MS ? 'just taken' : 'a git process is working there';
    return finding({
      kind: 'busy-lock',
      index,
      path: lock.file,
      problem: `git lock held (${why}, ${seconds} s old)`,
      fix: 'left alone',
      safe: false,
      owners: lock.owners,
    });
  }
  return finding({
    kind: 'stale-lock',
    index,
    path: lock.file,
    problem: `stale git lock: no git process works in its copy (${seconds} s old)`,
    fix: 'delete the lock file (it holds no work)',
    safe: true,
    owners: lock.owners,
  });
}

/** Half-made copies a killed `worktrees init` left in agent folders (devkit's own, holding no work). */
function stagingLeftovers(fleet: Fleet, index: number): string[] {
  const dir = openSafeDir(fleet.config.root, agentName(index));
  if (dir === null) return [];
  try {
    return listIn(dir)
      .filter((name) => name.startsWith('.devkit-new-'))
      .map((name) => path.join(dir.path, name));
  } finally {
    dir.close();
  }
}

/** Finds what is orphaned or stale around the fleet's agents. Changes nothing. */
export function findOrphans(fleet: Fleet): PruneFinding[] {
  const records = readAgentRecords(fleet.state);
  const findings: PruneFinding[] = [];
  const scan = scanGitProcesses();
  for (const index of agentIndexesSeen(fleet.config.root, records.keys())) {
    // A remote agent's copy is a volume on its engine: having no folder here is no sign that it went.
    if (records.get(index)?.engine !== undefined) continue;
    const agent = agentPaths(fleet.config, index);
    const facts = readCopy(fleet.config, fleet.shared.gitDir, index);
    if (records.has(index) && facts.state === 'missing') {
      findings.push(
        finding({
          kind: 'copy-missing',
          index,
          path: agent.worktree,
          problem: "the copy's folder is gone; devkit still lists it",
          fix: `forget it; branch ${agent.branch ?? ''} and its HOME are kept (devkit worktrees init ${index} makes it again)`,
          safe: true,
        }),
      );
    } else if (facts.state === 'tampered') {
      findings.push(
        finding({
          kind: 'copy-tampered',
          index,
          path: agent.worktree,
          problem: `the copy does not link up as devkit made it: ${facts.problems.join('; ')}`,
          fix: `left alone: devkit reads nothing through it; devkit worktrees remove ${index} --force saves its files and removes it`,
          safe: false,
        }),
      );
    } else if (!records.has(index) && facts.state === 'ok') {
      findings.push(
        finding({
          kind: 'copy-unregistered',
          index,
          path: agent.worktree,
          problem: 'a copy devkit has no record of (its state was lost)',
          fix: 'register it again, its files untouched',
          safe: true,
        }),
      );
    } else if (!records.has(index) && facts.state === 'missing' && homeExists(fleet, index)) {
      findings.push(
        finding({
          kind: 'devhome-parked',
          index,
          path: agent.devhome,
          problem: `agent ${index}'s HOME, kept after its copy was removed`,
          fix: `left alone: it holds keys and logins; devkit worktrees init ${index} or more reuses it`,
          safe: false,
        }),
      );
    }
    for (const leftover of stagingLeftovers(fleet, index)) {
      findings.push(
        finding({
          kind: 'staging-leftover',
          index,
          path: leftover,
          problem: 'a copy a killed devkit left half made',
          fix: 'delete it (devkit made it; it holds no work)',
          safe: true,
        }),
      );
    }
    for (const lock of copyLocks(fleet, index)) findings.push(lockFinding(lock, scan, index));
  }
  for (const lock of sharedLocks(fleet)) findings.push(lockFinding(lock, scan, null));
  return findings;
}

function inParent<T>(fleet: Fleet, file: string, body: (dir: SafeDir, name: string) => T): T | null {
  const relative = path.relative(fleet.config.root, path.dirname(file));
  const dir = relative.startsWith('..') ? null : openSafeDir(fleet.config.root, relative);
  if (dir === null) return null;
  try {
    return body(dir, path.basename(file));
  } finally {
    dir.close();
  }
}

/** Applies the safe fixes; findings that could hold work are left as they are. The caller holds the fleet lock. */
export function applyFixes(fleet: Fleet, findings: readonly PruneFinding[]): PruneFinding[] {
  const done: PruneFinding[] = [];
  for (const found of findings) {
    if (!found.safe) {
      done.push(found);
      continue;
    }
    if (found.kind === 'copy-missing' && found.index !== null) {
      deleteAgentRecord(fleet.state, found.index);
    } else if (found.kind === 'copy-unregistered' && found.index !== null) {
      writeAgentRecord(fleet.state, {
        index: found.index,
        name: agentName(found.index),
        createdAt: new Date().toISOString(),
        owner: agentOwner(),
      });
    } else if (found.kind === 'staging-leftover') {
      inParent(fleet, found.path, (dir, name) => removeTreeIn(dir, name));
    } else if (found.kind === 'stale-lock') {
      // Look again right before deleting: a new git may have taken the same lock meanwhile.
      if (
        !existsSync(found.path) ||
        lockFinding({ file: found.path, owners: found.owners }, scanGitProcesses(), found.index).kind !== 'stale-lock'
      ) {
        done.push({ ...found, fix: 'left alone: taken again meanwhile' });
        continue;
      }
      if (found.index === null) rmSync(found.path);
      else inParent(fleet, found.path, (dir, name) => removeFileIn(dir, name));
    }
    done.push({ ...found, applied: true });
  }
  return done;
}
