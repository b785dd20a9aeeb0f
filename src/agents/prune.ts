import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { git, gitMutate } from '../git/git.js';
import { refExists } from '../git/repo.js';
import { gitWorksIn, scanGitProcesses, type GitProcessScan } from '../git/lock-owners.js';
import { listWorktrees, type WorktreeEntry } from '../git/worktrees.js';
import { resolveExisting } from '../validate.js';
import type { DevRoot } from './devroot.js';
import { agentIndexOfFolder, agentIndexOfWorktree, agentPaths, lockReason } from './layout.js';
import { removeAgent } from './remove.js';

export type FindingKind = 'copy-missing' | 'copy-unregistered' | 'stale-lock' | 'busy-lock' | 'devhome-parked';

export interface Finding {
  kind: FindingKind;
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
  /** For a lock: the copies whose git processes could own it. */
  owners: string[];
}

/** A finding --apply has not acted on yet; index null and no owners unless given. */
function finding(fields: Omit<Finding, 'applied' | 'index' | 'owners'> & Partial<Pick<Finding, 'index' | 'owners'>>): Finding {
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
    else if (dirent.name.endsWith('.lock')) found.push(full);
  }
  return found;
}

/** git's lock files in the repo, each with the folders whose git processes could own it. */
function gitLocks(devRoot: DevRoot, entries: readonly WorktreeEntry[]): Array<{ file: string; owners: string[] }> {
  const common = devRoot.repo.commonDir;
  const allCopies = entries.map((entry) => entry.path);
  const locks: Array<{ file: string; owners: string[] }> = [];
  const shared = ['config.lock', 'packed-refs.lock', 'shallow.lock', 'index.lock', 'HEAD.lock'].map((name) => path.join(common, name));
  for (const file of [...shared, ...lockFilesUnder(path.join(common, 'refs'))]) {
    // The primary's index.lock and HEAD.lock live in the common dir too; any copy's git could hold a shared lock.
    if (existsSync(file)) locks.push({ file, owners: allCopies });
  }
  const adminBase = path.join(common, 'worktrees');
  for (const id of existsSync(adminBase) ? readdirSync(adminBase) : []) {
    let copy: string;
    try {
      copy = path.dirname(readFileSync(path.join(adminBase, id, 'gitdir'), 'utf8').trim());
    } catch {
      continue;
    }
    for (const name of ['index.lock', 'HEAD.lock']) {
      const file = path.join(adminBase, id, name);
      if (existsSync(file)) locks.push({ file, owners: [copy] });
    }
  }
  return locks;
}

function lockFinding(lock: { file: string; owners: string[] }, scan: GitProcessScan | null): Finding {
  const age = Date.now() - statSync(lock.file).mtimeMs;
  const seconds = Math.round(age / 1000);
  const busy = scan === null || age < LOCK_GRACE_MS || lock.owners.some((owner) => gitWorksIn(scan, owner));
  if (busy) {
    const why = scan === null ? 'owner unknown (no /proc here)' : age < LOCK_GRACE_MS ? 'just taken' : 'a git process is working there';
    return finding({ kind: 'busy-lock', path: lock.file, problem: `git lock held (${why}, ${seconds} s old)`, fix: 'left alone', safe: false, owners: lock.owners });
  }
  return finding({
    kind: 'stale-lock',
    path: lock.file,
    problem: `stale git lock: no git process works in its copy (${seconds} s old)`,
    fix: 'delete the lock file (it holds no work)',
    safe: true,
    owners: lock.owners,
  });
}

/** Finds what is orphaned or stale around the repo's agents. Changes nothing. */
export async function findOrphans(devRoot: DevRoot): Promise<Finding[]> {
  const { config } = devRoot;
  const entries = await listWorktrees(devRoot.repo.top);
  const findings: Finding[] = [];
  const registered = new Set<number>();
  for (const entry of entries) {
    const index = agentIndexOfWorktree(config, resolveExisting(entry.path));
    if (index === null || index === 1) continue;
    registered.add(index);
    if (entry.prunableReason !== null || !existsSync(entry.path)) {
      const branch = agentPaths(config, index).branch;
      findings.push(
        finding({
          kind: 'copy-missing',
          index,
          path: entry.path,
          problem: "the copy's folder is gone; git still lists it",
          fix: `drop git's entry for it; branch ${branch} is kept, and commits on no other branch are saved under refs/devkit/backup/`,
          safe: true,
        }),
      );
    }
  }
  const folders = existsSync(config.root) ? readdirSync(config.root) : [];
  for (const index of folders.map(agentIndexOfFolder).filter((i): i is number => i !== null && !registered.has(i))) {
    const agent = agentPaths(config, index);
    if (existsSync(agent.worktree)) {
      const branchKnown = agent.branch !== null && (await refExists(devRoot.repo.top, `refs/heads/${agent.branch}`));
      findings.push(
        finding({
          kind: 'copy-unregistered',
          index,
          path: agent.worktree,
          problem: 'a copy git does not know (its admin entry was pruned): git does not work in it',
          fix: branchKnown ? `register it again on ${agent.branch}, its files untouched` : `left alone: branch ${agent.branch} is gone; copy your work out by hand`,
          safe: branchKnown,
        }),
      );
    } else if (existsSync(agent.devhome)) {
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
  }
  const scan = scanGitProcesses();
  for (const lock of gitLocks(devRoot, entries)) findings.push(lockFinding(lock, scan));
  return findings;
}

/**
 * Registers a copy whose admin entry was lost, through git's own machinery:
 * a fresh admin entry is made for its branch with `worktree add --no-checkout`
 * in a scratch folder, the copy's .git file is pointed at it, `worktree
 * repair` moves it over, and `reset` rebuilds the index from HEAD. Files in
 * the copy are never written.
 */
async function reattachCopy(devRoot: DevRoot, index: number): Promise<void> {
  const agent = agentPaths(devRoot.config, index);
  const cwd = devRoot.repo.top;
  const scratch = path.join(agent.dir, `.devkit-reattach-${process.pid}`);
  await gitMutate(['worktree', 'add', '--quiet', '--no-checkout', '--lock', '--reason', lockReason(index), '--end-of-options', scratch, agent.branch ?? ''], { cwd });
  writeFileSync(path.join(agent.worktree, '.git'), readFileSync(path.join(scratch, '.git')));
  await gitMutate(['worktree', 'repair', '--end-of-options', agent.worktree], { cwd });
  rmSync(path.join(scratch, '.git'));
  rmdirSync(scratch); // empty now: --no-checkout wrote nothing else there
  await git(['reset', '--quiet'], { cwd: agent.worktree });
}

/** Applies the safe fixes; findings that could hold work are left as they are. The caller holds the repo lock. */
export async function applyFixes(devRoot: DevRoot, findings: readonly Finding[]): Promise<Finding[]> {
  const done: Finding[] = [];
  for (const finding of findings) {
    if (!finding.safe) {
      done.push(finding);
      continue;
    }
    if (finding.kind === 'copy-missing' && finding.index !== null) {
      await removeAgent(devRoot, { index: finding.index, force: true, deleteBranch: false });
    } else if (finding.kind === 'copy-unregistered' && finding.index !== null) {
      await reattachCopy(devRoot, finding.index);
    } else if (finding.kind === 'stale-lock') {
      // Look again right before deleting: a new git may have taken the same lock meanwhile.
      if (!existsSync(finding.path) || lockFinding({ file: finding.path, owners: finding.owners }, scanGitProcesses()).kind !== 'stale-lock') {
        done.push({ ...finding, fix: 'left alone: taken again meanwhile' });
        continue;
      }
      unlinkSync(finding.path);
    }
    done.push({ ...finding, applied: true });
  }
  return done;
}
