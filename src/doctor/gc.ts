import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DevRoot } from '../agents/devroot.js';
import { applyFixes, findOrphans } from '../agents/prune.js';
import type { EngineApi } from '../docker/engine-api.js';
import type { DoctorFinding } from './doctor.js';

/**
 * An orphaned project's compose files are gone, so compose cannot take it
 * down: its containers (those of this dev root only) and then its networks are
 * removed by label. Volumes are kept: they may hold data.
 */
async function removeOrphanProject(api: EngineApi, root: string, project: string): Promise<GcAction> {
  const containers = await api.listContainers([`com.docker.compose.project=${project}`, `devkit.root=${root}`]);
  for (const container of containers) await api.removeContainer(container.Id);
  const networks = await api.listNetworks([`com.docker.compose.project=${project}`]);
  for (const network of networks) await api.removeNetwork(network.Id).catch(() => undefined); // still used by something else: keep it
  return { detail: `removed ${containers.length} container(s) and ${networks.length} network(s) of ${project} (volumes kept)`, done: true };
}

export interface GcAction {
  detail: string;
  done: boolean;
}

/**
 * Removes what doctor found to be devkit's own garbage, never work: the safe
 * `worktrees prune` repairs (entries of vanished copies, with their commits
 * kept; stale git locks), compose projects of agents that are gone (their
 * containers and networks; volumes are kept, they may hold data), and overlays
 * of agents that are gone. The caller holds the repo lock.
 */
export async function collectGarbage(devRoot: DevRoot, findings: readonly DoctorFinding[], api: EngineApi | null): Promise<GcAction[]> {
  const actions: GcAction[] = [];
  const garbage = findings.filter((f) => f.garbage && f.target !== null);
  if (garbage.some((f) => f.target?.kind === 'worktrees')) {
    for (const fixed of await applyFixes(devRoot, await findOrphans(devRoot))) {
      actions.push({ detail: `${fixed.applied ? 'fixed' : 'left alone'}: ${fixed.problem} (${fixed.path})`, done: fixed.applied });
    }
  }
  for (const f of garbage) {
    if (f.target?.kind === 'project' && api !== null) {
      actions.push(await removeOrphanProject(api, devRoot.config.root, f.target.name));
    } else if (f.target?.kind === 'file') {
      rmSync(f.target.name, { force: true });
      const dir = path.dirname(f.target.name);
      if (readdirSync(dir).length === 0) rmdirSync(dir);
      actions.push({ detail: `removed ${f.target.name}`, done: true });
    }
  }
  return actions;
}
