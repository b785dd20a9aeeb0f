import type { EngineApi } from '../docker/engine-api.js';
import { debugSwallow } from '../debug.js';
import type { Fleet } from '../fleet/fleet.js';
import type { DevkitConfig } from '../config/config.js';
import { sessionFor, windowsOf } from '../tmux/tmux.js';
import { projectPrefix } from './project-names.js';
import { composeWouldRecreate } from './compose.js';
import { stackContainers } from './containers.js';
import type { Profile } from './profile.js';

/**
 * The tmux session of this dev root's tmux-shells: named after the repo, or,
 * when another root's shells hold that name, after the repo and a hash of the
 * root, as the root's compose projects are.
 */
export function shellsSession(config: Pick<DevkitConfig, 'root' | 'repo'>): Promise<string> {
  return sessionFor(config.root, { repo: config.repo, fallback: projectPrefix(config) });
}

/** A running container `up` leaves as it is, rather than end the work in it. */
export interface KeptContainer {
  service: string;
  name: string;
  /** Its exec sessions that still run: shells, agent CLIs, tmux-shells windows. */
  sessions: number;
  /** Whether tmux-shells has a window open on it. */
  tmuxWindow: boolean;
}

/**
 * The profile's running containers that have live exec sessions and that
 * compose would recreate (a new image, a changed overlay): recreating one
 * would end those sessions. Asks compose only when some container has one.
 */
export async function containersToKeep(fleet: Fleet, profile: Profile, api: EngineApi): Promise<KeptContainer[]> {
  const running = (await stackContainers(api, { root: fleet.config.root, profile: profile.name })).filter((c) => c.state === 'running');
  const busy = (await Promise.all(running.map(async (c) => ({ ...c, sessions: (await api.liveExecs(c.id)).length })))).filter(
    (c) => c.sessions > 0,
  );
  if (busy.length === 0) return [];
  const recreated = await composeWouldRecreate(fleet.workspace.dir, profile.files, profile.engine.context);
  const kept = busy.filter((c) => recreated.includes(c.name));
  if (kept.length === 0) return [];
  const windows = await shellsSession(fleet.config).then(windowsOf).catch(debugSwallow('listing tmux-shells windows'));
  return kept.map((c) => ({
    service: c.service,
    name: c.name,
    sessions: c.sessions,
    tmuxWindow: c.service === 'dev' && (windows ?? []).includes(profile.name),
  }));
}

/** What up says of a kept container: which, how many sessions, and how to replace it anyway. */
export function keptLine(profile: string, kept: KeptContainer): string {
  const count = `${kept.sessions} live session${kept.sessions === 1 ? '' : 's'}`;
  const sessions = kept.tmuxWindow ? `${count} (tmux-shells window ${profile} among them)` : count;
  return (
    `${profile}: ${kept.service} left running with ${sessions}: recreating it for its new image or overlay would end them; ` +
    `devkit -p ${profile} up --recreate does it`
  );
}
