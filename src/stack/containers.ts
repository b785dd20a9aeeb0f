import type { Io } from '../cli/io.js';
import { formatTable } from '../cli/table.js';
import { debugSwallow } from '../debug.js';
import { connectEngine, type EngineApi } from '../docker/engine-api.js';
import { askRemoteEngines, type SilentEngine } from '../fleet/engines.js';
import type { Fleet } from '../fleet/fleet.js';

/** One container of a devkit stack, as ps shows it. */
export interface StackContainer {
  profile: string;
  agent: string;
  service: string;
  name: string;
  id: string;
  state: string;
  status: string;
}

/** Containers labelled for this dev root (and profile, when given), running or not. */
export async function stackContainers(api: EngineApi, filter: { root: string; profile?: string }): Promise<StackContainer[]> {
  const labels = [`devkit.root=${filter.root}`, ...(filter.profile === undefined ? [] : [`devkit.profile=${filter.profile}`])];
  const found = await api.listContainers(labels);
  return found
    .map((c) => ({
      profile: c.Labels['devkit.profile'] ?? '',
      agent: c.Labels['devkit.agent'] ?? '',
      service: c.Labels['com.docker.compose.service'] ?? '',
      name: (c.Names?.[0] ?? '').replace(/^\//, ''),
      id: c.Id,
      state: c.State,
      status: c.Status ?? '',
    }))
    .sort((a, b) => a.profile.localeCompare(b.profile, 'en', { numeric: true }) || a.service.localeCompare(b.service));
}

/**
 * The containers of one profile of this dev root, or of all its profiles, on
 * this machine's engine and on every engine the agents' records name; each
 * with its engine (`local` or the docker context). A remote engine that does
 * not answer is named in `silent` and the rest go on.
 */
export async function profileContainers(
  fleet: Fleet,
  profile: string | undefined,
): Promise<{ containers: Array<StackContainer & { engine: string }>; silent: SilentEngine[] }> {
  const filter = { root: fleet.config.root, profile };
  const local = (await stackContainers(await connectEngine(fleet.env), filter)).map((c) => ({ ...c, engine: 'local' }));
  const remote = await askRemoteEngines(fleet, async (api, context) =>
    (await stackContainers(api, filter)).map((c) => ({ ...c, engine: context })),
  );
  return { containers: [...local, ...[...remote.answers.values()].flat()], silent: remote.silent };
}

/** One line for a profile's stack: `agent2: dev running, dns running, tinyproxy running`. */
export function stackSummary(profile: string, containers: readonly StackContainer[]): string {
  const own = containers.filter((c) => c.profile === profile);
  return `${profile}: ${own.length === 0 ? 'no containers' : own.map((c) => `${c.service} ${c.state}`).join(', ')}`;
}

export function printContainers(io: Io, containers: ReadonlyArray<StackContainer & { engine: string }>): void {
  const rows = containers.map((c) => [c.profile, c.engine, c.service, c.state, c.status, c.name]);
  for (const line of formatTable(['PROFILE', 'ENGINE', 'SERVICE', 'STATE', 'STATUS', 'CONTAINER'], rows)) io.out(line);
}

/**
 * Removes a compose project's containers (this dev root's only) and then its
 * networks, by label: for a project whose compose files are gone, or that a
 * killed devkit left half made. Volumes are kept: they may hold data.
 * Returns how many of each went.
 */
export async function removeProjectByLabel(
  api: EngineApi,
  root: string,
  project: string,
): Promise<{ containers: number; networks: number }> {
  const containers = await api.listContainers([`com.docker.compose.project=${project}`, `devkit.root=${root}`]);
  for (const container of containers) await api.removeContainer(container.Id);
  const networks = await api.listNetworks([`com.docker.compose.project=${project}`]);
  // A network still used by something else stays.
  for (const network of networks) await api.removeNetwork(network.Id).catch(debugSwallow(`removing network ${network.Name}`));
  return { containers: containers.length, networks: networks.length };
}
