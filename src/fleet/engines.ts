import { connectEndpoint, engineFailure, type EngineApi } from '../docker/engine-api.js';
import { describeEndpoint, isLocalEngine, resolveEndpoint, type EngineEndpoint } from '../docker/endpoint.js';
import { UsageError, oneLine } from '../errors.js';
import type { DevkitConfig } from '../config/config.js';
import type { Fleet } from './fleet.js';
import { agentName } from './layout.js';
import { readAgentRecords, type AgentRecord } from './records.js';

/**
 * Which engine each agent's container runs on. devkit.yml may name a docker
 * context per agent (`agents.agentK.engine`) or for the whole workspace
 * (`engine:`); unnamed, the engine is the docker CLI's (endpoint.ts). An
 * agent on an engine that is not this machine's keeps its copy and HOME in
 * volumes there, and its record says which context holds them: that record,
 * not devkit.yml, is where its work is.
 */
export interface AgentEngine {
  /** The docker context named for it, or null for the docker CLI's choice. */
  context: string | null;
  endpoint: EngineEndpoint;
  /** Its copy lives in volumes on that engine, not under the dev root. */
  remote: boolean;
}

/** The context devkit.yml names for agent K (its own, else the workspace's), or null. */
export function configuredContext(config: Pick<DevkitConfig, 'engines'>, index: number): string | null {
  return config.engines.agents[agentName(index)] ?? config.engines.workspace;
}

/** The engine devkit.yml places agent K on (for an agent not made yet, or one under the dev root). */
export function configuredEngine(fleet: Pick<Fleet, 'config' | 'env'>, index: number): AgentEngine {
  const context = configuredContext(fleet.config, index);
  const endpoint = resolveEndpoint(fleet.env, context);
  return { context, endpoint, remote: index > 1 && !isLocalEngine(endpoint) };
}

/** The engine of an agent whose record says its copy is in volumes on `record.engine`. */
function recordedEngine(fleet: Pick<Fleet, 'env'>, context: string): AgentEngine {
  return { context, endpoint: resolveEndpoint(fleet.env, context), remote: true };
}

/**
 * The engine agent K runs on: where its record says its copy lives, else
 * where devkit.yml places it. An agent whose copy lives on one engine while
 * devkit.yml now names another is refused in one line: moving work between
 * engines is not something devkit does behind the user's back.
 */
export function agentEngine(fleet: Pick<Fleet, 'config' | 'env' | 'state'>, index: number, record?: AgentRecord): AgentEngine {
  const known = record ?? readAgentRecords(fleet.state).get(index);
  const recorded = known?.engine;
  if (recorded === undefined) {
    const configured = configuredEngine(fleet, index);
    if (known !== undefined && configured.remote)
      throw new UsageError(
        `agent ${index}'s copy is under the dev root on this machine, but devkit.yml places it on docker context ` +
          `${configured.context ?? configured.endpoint.context}: take agents.${agentName(index)}.engine out, ` +
          `or remove the agent (devkit worktrees remove ${index}) and make it again there`,
      );
    return configured;
  }
  const configured = configuredEngine(fleet, index).endpoint.context;
  if (configured !== recorded)
    throw new UsageError(
      `agent ${index}'s copy lives on the engine of docker context ${recorded}, but devkit.yml now places it on ` +
        `${configured}: put agents.${agentName(index)}.engine back to ${recorded}, ` +
        `or bring its work home (devkit sync ${index}) and remove it (devkit worktrees remove ${index}) first`,
    );
  return recordedEngine(fleet, recorded);
}

/** The engine of agent K read from its record alone (exec-cd's fast path: no devkit.yml). */
export function recordEngine(env: NodeJS.ProcessEnv, record: AgentRecord | undefined): AgentEngine | null {
  return record?.engine === undefined ? null : recordedEngine({ env }, record.engine);
}

/** The docker contexts of the remote engines this root's agents' copies live on (their records say), each once. */
export function remoteContexts(state: Fleet['state']): string[] {
  return [...new Set([...readAgentRecords(state).values()].flatMap((record) => record.engine ?? []))];
}

/**
 * Every remote engine this root uses, each once: those its agents' copies
 * live on (their records say) and those devkit.yml places agents on, where a
 * removed agent's containers may be left. A context that cannot be read
 * counts: asking it says why.
 */
export function workspaceRemoteContexts(fleet: Pick<Fleet, 'config' | 'env' | 'state'>): string[] {
  const { workspace, agents } = fleet.config.engines;
  const named = [workspace, ...Object.values(agents)]
    .flatMap((context) => context ?? [])
    .filter((context) => {
      try {
        return !isLocalEngine(resolveEndpoint(fleet.env, context));
      } catch {
        return true;
      }
    });
  return [...new Set([...remoteContexts(fleet.state), ...named])];
}

/** A remote engine agents' copies live on that did not answer: its context, its address, and why. */
export interface SilentEngine {
  context: string;
  where: string;
  /** Why, as one line without a fix (engineFailure). */
  error: string;
  /** The error's whole line, its fix included. */
  message: string;
}

/**
 * `ask` of each remote engine the agents' records name, side by side, by
 * context; an engine that does not answer (or fails the asking) is in
 * `silent`, and the rest go on.
 */
export async function askRemoteEngines<T>(
  fleet: Pick<Fleet, 'env' | 'state'>,
  ask: (api: EngineApi, context: string) => Promise<T>,
  contexts: readonly string[] = remoteContexts(fleet.state),
): Promise<{ answers: Map<string, T>; silent: SilentEngine[] }> {
  const answers = new Map<string, T>();
  const silent: SilentEngine[] = [];
  await Promise.all(
    contexts.map(async (context) => {
      const endpoint = resolveEndpoint(fleet.env, context);
      try {
        answers.set(context, await ask(await connectEndpoint(endpoint), context));
      } catch (error) {
        const message = oneLine(error instanceof Error ? error.message : String(error));
        silent.push({ context, where: describeEndpoint(endpoint), error: engineFailure(error), message });
      }
    }),
  );
  return { answers, silent };
}
