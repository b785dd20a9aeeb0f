import type { DevRoot } from '../agents/devroot.js';
import type { EngineApi } from '../docker/engine-api.js';
import { engine } from '../docker/images.js';
import type { Io } from '../io.js';
import { formatTable } from '../table.js';

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

/** The containers of one profile of this dev root, or of all its profiles. */
export async function profileContainers(devRoot: DevRoot, profile: string | undefined): Promise<StackContainer[]> {
  return stackContainers(await engine(), { root: devRoot.config.root, profile });
}

export function printContainers(io: Io, containers: readonly StackContainer[]): void {
  const rows = containers.map((c) => [c.profile, c.service, c.state, c.status, c.name]);
  for (const line of formatTable(['PROFILE', 'SERVICE', 'STATE', 'STATUS', 'CONTAINER'], rows)) io.out(line);
}
