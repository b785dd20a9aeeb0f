import type { EngineApi } from '../docker/engine-api.js';
import { debugSwallow } from '../debug.js';
import type { DevkitConfig } from '../config/config.js';
import { agentName } from '../fleet/layout.js';
import { agentVolumes } from './project-names.js';

/**
 * A short-lived container on an agent's engine with its copy and HOME
 * mounted where its dev container has them, for devkit's own work on them
 * while the dev container may be down (seeding, syncing): no network, every
 * capability dropped but those asked for, sleeping until devkit's execs are
 * done, then removed.
 */
export async function withAgentVolumes<T>(
  api: EngineApi,
  request: { config: Pick<DevkitConfig, 'root' | 'repo'>; index: number; image: string; capAdd?: string[]; readOnly?: boolean },
  body: (containerId: string) => Promise<T>,
): Promise<T> {
  const volumes = agentVolumes(request.config, request.index);
  const readOnly = request.readOnly === true;
  const id = await api.runContainer({
    Image: request.image,
    // The agent never gets this container: devkit's execs choose their user (root only to set owners on new volumes).
    User: '0:0',
    Cmd: ['sleep', '3600'],
    Labels: { 'devkit.root': request.config.root, 'devkit.agent': agentName(request.index), 'devkit.helper': 'volumes' },
    HostConfig: {
      Init: true,
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: request.capAdd ?? [],
      SecurityOpt: ['no-new-privileges'],
      Mounts: [
        { Type: 'volume', Source: volumes.copy, Target: '/workspace', ReadOnly: readOnly },
        { Type: 'volume', Source: volumes.home, Target: '/workspace/.devhome', ReadOnly: readOnly },
      ],
    },
  });
  try {
    return await body(id);
  } finally {
    await api.removeContainer(id).catch(debugSwallow(`removing helper container ${id.slice(0, 12)}`));
  }
}
