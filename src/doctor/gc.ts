import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { applyFixes, findOrphans } from '../agents/prune.js';
import type { EngineApi } from '../docker/engine-api.js';
import type { Fleet } from '../fleet/fleet.js';
import { removeProjectByLabel } from '../stack/containers.js';
import { knownAgents } from '../fleet/records.js';
import { profileProject } from '../stack/project-names.js';
import type { DoctorCheck } from './doctor.js';

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
export async function collectGarbage(fleet: Fleet, findings: readonly DoctorCheck[], api: EngineApi | null): Promise<GcAction[]> {
  const actions: GcAction[] = [];
  const garbage = findings.filter((f) => f.garbage && f.target !== null);
  if (garbage.some((f) => f.target?.kind === 'worktrees')) {
    for (const fixed of applyFixes(fleet, findOrphans(fleet))) {
      actions.push({ detail: `${fixed.applied ? 'fixed' : 'left alone'}: ${fixed.problem} (${fixed.path})`, done: fixed.applied });
    }
  }
  // Read again now: an agent made meanwhile keeps its containers, whatever doctor saw.
  const living = new Set(knownAgents(fleet.state).map((index) => profileProject(fleet.config, `agent${index}`)));
  for (const f of garbage) {
    if (f.target?.kind === 'project' && api !== null && !living.has(f.target.name)) {
      // Its compose files are gone, so compose cannot take it down: by label.
      const removed = await removeProjectByLabel(api, fleet.config.root, f.target.name);
      actions.push({
        detail: `removed ${removed.containers} container(s) and ${removed.networks} network(s) of ${f.target.name} (volumes kept)`,
        done: true,
      });
    } else if (f.target?.kind === 'file') {
      rmSync(f.target.name, { force: true });
      const dir = path.dirname(f.target.name);
      if (readdirSync(dir).length === 0) rmdirSync(dir);
      actions.push({ detail: `removed ${f.target.name}`, done: true });
    }
  }
  return actions;
}
