import type Docker from 'dockerode';

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
export async function stackContainers(docker: Docker, filter: { root: string; profile?: string }): Promise<StackContainer[]> {
  const labels = [`devkit.root=${filter.root}`, ...(filter.profile === undefined ? [] : [`devkit.profile=${filter.profile}`])];
  const found = await docker.listContainers({ all: true, filters: { label: labels } });
  return found
    .map((c) => ({
      profile: c.Labels['devkit.profile'] ?? '',
      agent: c.Labels['devkit.agent'] ?? '',
      service: c.Labels['com.docker.compose.service'] ?? '',
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      id: c.Id,
      state: c.State,
      status: c.Status,
    }))
    .sort((a, b) => a.profile.localeCompare(b.profile, 'en', { numeric: true }) || a.service.localeCompare(b.service));
}
