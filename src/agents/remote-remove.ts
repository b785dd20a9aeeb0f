import { rmSync } from 'node:fs';
import path from 'node:path';
import type { CopyBackup } from './backup.js';
import { backupsRepo, timestamp } from './backups-repo.js';
import { connectEndpoint, engineFailure, type EngineApi } from '../docker/engine-api.js';
import { describeEndpoint } from '../docker/endpoint.js';
import { DevkitError } from '../errors.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { removeProjectByLabel } from '../stack/containers.js';
import { agentProject } from '../stack/project-names.js';
import { seedMarker } from '../stack/remote-copy.js';
import type { AgentEngine } from '../fleet/engines.js';
import { syncRef, syncRemoteAgent } from './remote-sync.js';
import { agentVolumes } from '../stack/project-names.js';

/**
 * Removing an agent whose copy lives in a volume on a remote engine: its work
 * is brought home first (devkit sync), and the copy's volume goes only when
 * that worked: an engine that does not answer, a running dev container or
 * branches outside agentK/ refuse, changing nothing. Uncommitted work needs
 * --force, and then stays in devkit's backups like a local copy's. The HOME
 * volume is kept, as a local HOME is.
 */
export interface RemoteRemoval {
  /** Where the copy was: its volume and engine, for people. */
  copy: string;
  /** The backup ref of its uncommitted work, when it had some. */
  backup: CopyBackup | null;
  /** The HOME volume, kept. */
  home: string;
  /** It had uncommitted work (saved in `backup`). */
  dirty: boolean;
}

/** A remote copy synced and checked for removal: `remove()` deletes it (after the caller's own checks). */
export interface CheckedRemoteCopy {
  remove(): Promise<RemoteRemoval>;
}

/** The engine of agent K's copy, or one line saying that removal (and its preRemove hook) removes nothing while it does not answer. */
export async function connectForRemoval(index: number, engine: AgentEngine): Promise<EngineApi> {
  return connectEndpoint(engine.endpoint).catch((error: unknown) => {
    throw new DevkitError(
      `${engineFailure(error)}: agent ${index}'s copy lives there and devkit cannot bring its work home, so it removes nothing; ` +
        'start that engine and try again',
    );
  });
}

/** Syncs agent K's remote copy and refuses (removing nothing) what removal must not do; the caller holds the fleet lock. */
export async function checkRemoteRemoval(
  fleet: Fleet,
  index: number,
  request: { engine: AgentEngine; force: boolean },
): Promise<CheckedRemoteCopy> {
  const api = await connectForRemoval(index, request.engine);
  const running = (await api.listContainers([`devkit.root=${fleet.config.root}`, `devkit.agent=${agentName(index)}`])).filter(
    (c) => c.State === 'running',
  );
  if (running.length > 0)
    throw new DevkitError(`agent${index} runs and could still write its copy: run devkit -p agent${index} down first`);
  // Every file counts as work here, as for a local copy: ignored ones (.env, build output) and nested repositories.
  const synced = await syncRemoteAgent(fleet, index, request.engine, { whole: true });
  if (synced.error !== null) throw new DevkitError(`cannot bring agent ${index}'s work home (${synced.error}): removed nothing`);
  if (synced.outside.length > 0)
    throw new DevkitError(
      `agent ${index}'s copy has refs outside ${agentName(index)}/ (${synced.outside.slice(0, 5).join(', ')}), ` +
        'which devkit does not bring home: ' +
        `rename its branches under ${agentName(index)}/ (or delete them) inside its container, then remove`,
    );
  const { snapshot } = synced;
  if (synced.dirty && !request.force) {
    const { modified, untracked } = synced.changes ?? { modified: 0, untracked: 0 };
    throw new DevkitError(
      `agent ${index} holds uncommitted work, ${modified} changed and ${untracked} new file(s) counting ignored ones and nested ` +
        `repositories (saved by this sync at ${syncRef(index)} in ${fleet.state.backupsRepo}): ` +
        "commit it and merge or push the branch, or pass --force to keep it in devkit's backups and remove",
    );
  }
  const volumes = agentVolumes(fleet.config, index);
  const remove = async (): Promise<RemoteRemoval> => {
    let backup: RemoteRemoval['backup'] = null;
    if (synced.dirty && snapshot !== null) {
      const ref = `refs/devkit/backup/${agentName(index)}/${timestamp(new Date())}`;
      await (await backupsRepo(fleet)).mutate(['update-ref', ref, snapshot]);
      const restore = `git --git-dir=${fleet.state.backupsRepo} archive ${ref} | tar -x -C FOLDER`;
      backup = { repo: fleet.state.backupsRepo, ref, commit: snapshot, restore, name: `backup/${path.basename(ref)}` };
    }
    // Its stopped containers and networks there go with it: no gc on this machine would see them once its record is gone.
    await removeProjectByLabel(api, fleet.config.root, agentProject(fleet, index));
    if ((await api.inspectVolume(volumes.copy)) !== null) await api.removeVolume(volumes.copy);
    rmSync(seedMarker(fleet, index), { force: true });
    const engine = describeEndpoint(api.endpoint);
    return { copy: `volume ${volumes.copy} on ${engine}`, backup, home: `volume ${volumes.home} on ${engine}`, dirty: synced.dirty };
  };
  return { remove };
}
