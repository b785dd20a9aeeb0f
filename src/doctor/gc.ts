import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { applyFixes, findOrphans } from '../agents/prune.js';
import { connectEndpoint, type EngineApi } from '../docker/engine-api.js';
import { resolveEndpoint } from '../docker/endpoint.js';
import type { Fleet } from '../fleet/fleet.js';
import { removeProjectByLabel } from '../stack/containers.js';
import { knownAgents } from '../fleet/records.js';
import { profileProject } from '../stack/project-names.js';
import type { DoctorCheck, GcTarget } from './doctor.js';

export interface GcAction {
  detail: string;
  done: boolean;
}

/**
 * Removes what doctor found to be devkit's own garbage, never work: the safe
 * `worktrees prune` repairs (entries of vanished copies, with their commits
 * kept; stale git locks), compose projects of agents that are gone (their
 * containers and networks; volumes are kept, they may hold data) and helper
 * containers a stopped devkit left, on this machine's engine and every remote
 * one the root uses, and overlays of agents that are gone. The caller holds
 * the repo lock.
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
  const engines = new Map<string, Promise<EngineApi>>();
  const engineOf = (target: GcTarget): Promise<EngineApi> | null => {
    if (target.engine === undefined) return api === null ? null : Promise.resolve(api);
    const context = target.engine;
    if (!engines.has(context)) engines.set(context, connectEndpoint(resolveEndpoint(fleet.env, context)));
    return engines.get(context) ?? null;
  };
  for (const f of garbage) {
    const target = f.target;
    if (target === null) continue;
    const on = target.engine === undefined ? '' : ` on docker context ${target.engine}`;
    const engine = target.kind === 'project' || target.kind === 'container' ? engineOf(target) : null;
    if (target.kind === 'project' && engine !== null && !living.has(target.name)) {
      // Its compose files are gone, so compose cannot take it down: by label.
      const removed = await removeProjectByLabel(await engine, fleet.config.root, target.name);
      actions.push({
        detail: `removed ${removed.containers} container(s) and ${removed.networks} network(s) of ${target.name}${on} (volumes kept)`,
        done: true,
      });
    } else if (target.kind === 'container' && engine !== null) {
      await (await engine).removeContainer(target.name);
      actions.push({ detail: `removed helper container ${target.name.slice(0, 12)}${on}`, done: true });
    } else if (target.kind === 'file') {
      rmSync(target.name, { force: true });
      const dir = path.dirname(target.name);
      if (readdirSync(dir).length === 0) rmdirSync(dir);
      actions.push({ detail: `removed ${target.name}`, done: true });
    }
  }
  return actions;
}
