import path from 'node:path';
import { inspectAgents, type CopySummary } from '../agents/inspect.js';
import type { CommandContext } from '../cli/context.js';
import type { EngineApi } from '../docker/engine-api.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentPaths } from '../fleet/layout.js';
import { debugSwallow } from '../debug.js';
import { diskUsage } from '../fs/disk.js';
import { recentDenials } from '../policy/policy.js';
import { agentProject } from '../stack/overlay.js';

/** One row of `devkit status`: the git side of an agent, its container, its disk and its egress refusals. */
export interface AgentStatus extends CopySummary {
  container: { profile: string; state: string; startedAt: string | null; uptimeSeconds: number | null } | null;
  disk: { worktreeBytes: number; devhomeBytes: number; volumesBytes: number; totalBytes: number };
  /** Requests agent K's own proxy refused, in its recent log; null when the engine cannot be asked. */
  egressDenials: number | null;
}

async function containerOf(api: EngineApi, root: string, profile: string): Promise<AgentStatus['container']> {
  const [dev] = await api.listContainers([`devkit.root=${root}`, `devkit.profile=${profile}`, 'com.docker.compose.service=dev']);
  if (dev === undefined) return { profile, state: 'none', startedAt: null, uptimeSeconds: null };
  const startedAt = dev.State === 'running' ? await api.containerStartedAt(dev.Id) : null;
  const uptimeSeconds = startedAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
  return { profile, state: dev.State, startedAt, uptimeSeconds };
}

/** Every agent's status row. Without an engine, the container and egress fields are null and the rest is still there. */
export async function agentStatuses(fleet: Fleet, context: CommandContext, api: EngineApi | null): Promise<AgentStatus[]> {
  const [agents, volumeSizes] = await Promise.all([inspectAgents(fleet, context), api === null ? new Map<string, number>() : api.projectVolumeSizes()]);
  return Promise.all(
    agents.map(async (agent) => {
      const paths = agentPaths(fleet.config, agent.index);
      // Agent 1's copy holds the shared .git (every agent's objects) and its HOME: neither is its copy's own.
      const skip = agent.index === 1 ? ['.git', path.basename(paths.devhome)] : [];
      const worktreeBytes = agent.exists ? diskUsage(paths.worktree, skip) : 0;
      const devhomeBytes = diskUsage(paths.devhome);
      // Volumes of agent K's own compose project (the shared caches are external and belong to no agent).
      const volumesBytes = volumeSizes.get(agentProject(fleet, agent.index)) ?? 0;
      const container = api === null ? null : await containerOf(api, fleet.config.root, agent.name).catch(debugSwallow(`${agent.name}'s container`));
      const egressDenials = api === null ? null : ((await recentDenials(api, fleet.config.root, agent.name).catch(debugSwallow(`${agent.name}'s proxy log`)))?.length ?? null);
      return {
        ...agent,
        container,
        disk: { worktreeBytes, devhomeBytes, volumesBytes, totalBytes: worktreeBytes + devhomeBytes + volumesBytes },
        egressDenials,
      };
    }),
  );
}
