import { connectEngine, type ContainerSummary, type EngineApi } from '../docker/engine-api.js';
import { DevkitError } from '../errors.js';
import { execCaptured, type CapturedExec } from '../docker/exec-capture.js';
import { prepareExec } from '../exec/target.js';
import type { Fleet } from '../fleet/fleet.js';
import { copyPathIn, parseAgentName } from '../fleet/layout.js';

/**
 * The profiles whose running containers can write agent K's copy (its own,
 * and this root's dev-all), its own first. An engine that does not answer
 * cannot tell: that is an error saying so.
 */
export async function writerProfiles(fleet: Fleet, index: number): Promise<string[]> {
  let containers: ContainerSummary[];
  try {
    containers = await (await connectEngine(fleet.env)).listContainers([`devkit.root=${fleet.config.root}`]);
  } catch (error) {
    throw new DevkitError(
      `the Docker engine does not answer (${error instanceof Error ? error.message : String(error)}), ` +
        `so devkit cannot tell whether a container still writes agent ${index}'s copy: ` +
        'start it (scripts/docker-engine.sh start) and try again',
    );
  }
  const writers = containers.filter(
    (c) => c.State === 'running' && (c.Labels['devkit.profile'] === 'dev-all' || parseAgentName(c.Labels['devkit.agent'] ?? '') === index),
  );
  return [...new Set(writers.map((c) => c.Labels['devkit.profile'] ?? '?'))].sort((a, b) =>
    a === 'dev-all' ? 1 : b === 'dev-all' ? -1 : 0,
  );
}

/**
 * CMD in agent K's copy inside `profile`'s running dev container, as the
 * agent (the way `devkit agent run` runs it), with `input` on its stdin.
 */
export async function runAsAgent(
  fleet: Fleet,
  index: number,
  profile: string,
  cmd: string[],
  input: Buffer | string = '',
): Promise<CapturedExec> {
  const { api, execId } = await agentExec(fleet, { index, profile, cmd, attachStdin: true });
  return execCaptured(api, execId, input);
}

/** An exec, created and not yet started, of CMD in agent K's copy inside `profile`'s running dev container, as the agent. */
export async function agentExec(
  fleet: Fleet,
  request: { index: number; profile: string; cmd: string[]; attachStdin: boolean },
): Promise<{ api: EngineApi; execId: string }> {
  const { index, profile, cmd, attachStdin } = request;
  return prepareExec(
    { profile, index: String(index), path: copyPathIn(fleet.config, index, profile), cmd, tty: false, attachStdin },
    { cwd: fleet.workspace.dir, env: fleet.env },
  );
}
