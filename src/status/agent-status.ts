import { inspectAgentsWithFacts, type CopySummary } from '../agents/inspect.js';
import { conflictCounts, radarInputs, scanConflicts } from '../agents/radar.js';
import type { CommandContext } from '../cli/context.js';
import type { EngineApi } from '../docker/engine-api.js';
import { askRemoteEngines, type SilentEngine } from '../fleet/engines.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentFolders, agentPaths } from '../fleet/layout.js';
import { debugError, debugSwallow } from '../debug.js';
import { diskUsages } from '../fs/disk.js';
import { recentDenials } from '../policy/log.js';
import { readPortRanges, type PortRange } from '../stack/ports.js';
import { agentProject } from '../stack/project-names.js';

/** One row of `devkit status`: the git side of an agent, its container, its disk and its egress refusals. */
export interface AgentStatus extends CopySummary {
  container: { profile: string; state: string; startedAt: string | null; uptimeSeconds: number | null } | null;
  disk: { worktreeBytes: number; devhomeBytes: number; volumesBytes: number; totalBytes: number };
  /** Requests agent K's own proxy refused, in its recent log; null when the engine cannot be asked. */
  egressDenials: number | null;
  /** Its host ports on 127.0.0.1 (the same inside), from devkit's state: null until its first up. */
  ports: PortRange | null;
  /** How many other agents merging its work (commits and uncommitted) would conflict with; null for agent 1 and copies not read. */
  conflicts: number | null;
}

/** The radar's count per agent (agents/radar.ts); null when it could not look (said with DEVKIT_DEBUG). */
async function radarCounts(
  fleet: Fleet,
  inspected: Awaited<ReturnType<typeof inspectAgentsWithFacts>>,
): Promise<Map<number, number> | null> {
  try {
    const { agents, reference } = radarInputs(inspected.summaries, inspected.facts, inspected.synced);
    const scan = await scanConflicts(fleet, agents, { reference });
    scan.cache.save(true);
    const counts = conflictCounts(scan.pairs);
    return new Map([...scan.snapshots.keys()].map((k) => [k, counts.get(k) ?? 0]));
  } catch (error) {
    debugError('the conflict radar', error);
    return null;
  }
}

/** Each profile's dev container, with its state and start time, from one listing of this root's containers. */
async function devContainers(api: EngineApi, root: string): Promise<Map<string, NonNullable<AgentStatus['container']>>> {
  const found = await api.listContainers([`devkit.root=${root}`, 'com.docker.compose.service=dev']);
  const entries = await Promise.all(
    found.map(async (dev) => {
      const profile = dev.Labels['devkit.profile'] ?? '';
      const startedAt = dev.State === 'running' ? await api.containerStartedAt(dev.Id) : null;
      const uptimeSeconds = startedAt === null ? null : Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
      return [profile, { profile, state: dev.State, startedAt, uptimeSeconds }] as const;
    }),
  );
  return new Map(entries);
}

/** What the engine says of every agent at once; null fields when it cannot be asked. */
async function engineView(
  api: EngineApi | null,
  root: string,
): Promise<{
  containers: Map<string, NonNullable<AgentStatus['container']>> | null;
  denials: Map<string, number> | null;
  volumes: Map<string, number>;
}> {
  if (api === null) return { containers: null, denials: null, volumes: new Map() };
  const [containers, denials, volumes] = await Promise.all([
    devContainers(api, root).catch(debugSwallow("the agents' containers")),
    recentDenials(api, root, undefined).catch(debugSwallow("the proxies' logs")),
    api.projectVolumeSizes(),
  ]);
  const counts = new Map<string, number>();
  for (const denial of denials ?? []) counts.set(denial.profile, (counts.get(denial.profile) ?? 0) + 1);
  return { containers, denials: denials === null ? null : counts, volumes };
}

type EngineView = Awaited<ReturnType<typeof engineView>>;

/** What each remote engine the agents' records name says of them; one that does not answer is reported, the rest go on. */
function remoteViews(fleet: Fleet): Promise<{ answers: Map<string, EngineView>; silent: SilentEngine[] }> {
  return askRemoteEngines(fleet, async (api) => {
    const [view, copies] = await Promise.all([
      engineView(api, fleet.config.root),
      api.volumeSizes('devkit.agent', [`devkit.root=${fleet.config.root}`]),
    ]);
    return { ...view, volumes: new Map([...view.volumes, ...copies]) };
  });
}

/**
 * Every agent's status row, from every engine the agents are on. Without an
 * engine, the container and egress fields are null and the rest is still
 * there; remote engines that do not answer are named in `silent`.
 */
export async function agentStatuses(
  fleet: Fleet,
  context: CommandContext,
  api: EngineApi | null,
): Promise<{ agents: AgentStatus[]; silent: SilentEngine[] }> {
  const primary = agentPaths(fleet.config, 1);
  const others = agentFolders(fleet.config.root).map((index) => agentPaths(fleet.config, index));
  // du starts first, on its own: it is the slowest part, and runs while devkit reads the copies and git looks at them.
  const disk = diskUsages(fleet.git.env, [
    // Agent 1's copy holds the shared .git (every agent's objects) and its HOME: neither is its copy's own.
    { dirs: [primary.worktree], skip: [fleet.shared.gitDir, primary.devhome] },
    { dirs: [primary.devhome, ...others.flatMap((agent) => [agent.worktree, agent.devhome])] },
  ]);
  // The radar starts once the copies are read and runs beside du and the engine.
  const inspection = inspectAgentsWithFacts(fleet, context).then(async (inspected) => ({
    agents: inspected.summaries,
    conflicts: await radarCounts(fleet, inspected),
  }));
  const [{ agents, conflicts }, local, sizes, remote] = await Promise.all([
    inspection,
    engineView(api, fleet.config.root),
    disk,
    remoteViews(fleet),
  ]);
  const ports = readPortRanges(fleet.env, fleet.config.root);
  const unanswered: EngineView = { containers: null, denials: null, volumes: new Map() };
  const rows = agents.map((agent) => {
    const engine = agent.engine === null ? local : (remote.answers.get(agent.engine) ?? unanswered);
    const paths = agentPaths(fleet.config, agent.index);
    const worktreeBytes = agent.exists ? (sizes.get(paths.worktree) ?? 0) : 0;
    const devhomeBytes = sizes.get(paths.devhome) ?? 0;
    // Volumes of agent K's own compose project (the shared caches are external and belong to no agent).
    const volumesBytes = (engine.volumes.get(agentProject(fleet, agent.index)) ?? 0) + (engine.volumes.get(agent.name) ?? 0);
    const none = { profile: agent.name, state: 'none', startedAt: null, uptimeSeconds: null };
    return {
      ...agent,
      container: engine.containers === null ? null : (engine.containers.get(agent.name) ?? none),
      disk: { worktreeBytes, devhomeBytes, volumesBytes, totalBytes: worktreeBytes + devhomeBytes + volumesBytes },
      egressDenials: engine.denials === null ? null : (engine.denials.get(agent.name) ?? 0),
      ports: ports.get(agent.index) ?? null,
      conflicts: conflicts?.get(agent.index) ?? null,
    };
  });
  return { agents: rows, silent: remote.silent };
}
