import path from 'node:path';

/**
 * The files devkit keeps for one dev root, in its state folder (see
 * registry.ts): out of every container's reach, and checked when read back.
 */
export interface RootState {
  dir: string;
  /** The repo lock (lock.ts). */
  lockFile: string;
  /** One record per agent devkit made (agents/records.ts). */
  agentsDir: string;
  /** Team records (teams/store.ts). */
  teamsDir: string;
  /** Subnets reserved for this root's compose projects (stack/network.ts). */
  subnetsFile: string;
  /** A bare repository holding removal backups; it borrows the shared repo's objects. */
  backupsRepo: string;
  /** A bare repository holding snapshots of agents' uncommitted work (agents/snapshot.ts); it borrows the shared repo's objects. */
  snapshotsRepo: string;
  /** Per agent: hard links to the objects of its copy, read by git from here instead of from where the agent can redirect it. */
  quarantineDir: string;
  /** Private scratch space (git views of copies, keys being made). */
  tmpDir: string;
}

export function rootState(dir: string): RootState {
  return {
    dir,
    lockFile: path.join(dir, 'lock'),
    agentsDir: path.join(dir, 'agents'),
    teamsDir: path.join(dir, 'teams'),
    subnetsFile: path.join(dir, 'subnets.json'),
    backupsRepo: path.join(dir, 'backups.git'),
    snapshotsRepo: path.join(dir, 'snapshots.git'),
    quarantineDir: path.join(dir, 'quarantine'),
    tmpDir: path.join(dir, 'tmp'),
  };
}
