import { statSync } from 'node:fs';
import path from 'node:path';
import { locateWorkspace } from '../config/locate.js';
import { EngineApi, engineClient, type ContainerSummary, type ExecSpec } from '../docker/engine-api.js';
import { debugSwallow } from '../debug.js';
import { DevkitError, UsageError } from '../errors.js';
import { agentPaths } from '../fleet/layout.js';
import { readAgentRecords, requireAgent } from '../fleet/records.js';
import { recordEngine, type AgentEngine } from '../fleet/engines.js';
import { readComposeEnv } from '../stack/env-file.js';
import { rootState } from '../state/root-state.js';
import { rootStateDir } from '../state/registry.js';
import { checkName, checkPathArg, parseAgentName, parseIndex } from '../validate.js';

export interface ExecCdArgs {
  profile: string | undefined;
  index: string;
  path: string;
}

export interface ExecCdRequest extends ExecCdArgs {
  cmd: string[];
  tty: boolean;
  attachStdin: boolean;
}

const DEV_ALL_ROOT = '/workspaces/dev';
const AGENT_ROOT = '/workspace';

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** The workspace's folder (devkit.yml's, or the one managing the root cwd is in) and the root DEVKIT_ROOT names, if it does. */
function scopeOf(cwd: string, env: NodeJS.ProcessEnv): { workspace: string | null; envRoot: string | null; stateHome: string } {
  const location = locateWorkspace(cwd, env);
  const envRoot = env.DEVKIT_ROOT === undefined ? null : checkPathArg(env.DEVKIT_ROOT, { label: 'DEVKIT_ROOT', base: cwd });
  return { workspace: location.configPath === null ? null : location.dir, envRoot, stateHome: location.stateHome };
}

/** The stack as devkit wrote it to .env beside compose.yml (env-file.ts), or null. */
function stackFromEnvFile(workspace: string | null): { project: string; root: string; repo: string; maxAgents: number } | null {
  const values = workspace === null ? null : readComposeEnv(workspace);
  if (values?.DEVKIT_PROJECT === undefined || values.DEVKIT_ROOT === undefined || values.DEVKIT_REPO === undefined) return null;
  const maxAgents = Number(values.DEVKIT_MAX_AGENTS ?? '');
  return {
    project: values.DEVKIT_PROJECT,
    root: values.DEVKIT_ROOT,
    repo: values.DEVKIT_REPO,
    maxAgents: Number.isInteger(maxAgents) && maxAgents > 0 ? maxAgents : 999,
  };
}

/** PATH as the user gave it, relative to the mount; an absolute PATH must name the mount itself. */
function relativeToMount(raw: string, containerRoot: string): string {
  if (raw.includes('\0')) throw new UsageError('PATH contains a NUL byte');
  if (!raw.startsWith('/')) return raw;
  if (raw === containerRoot || raw.startsWith(`${containerRoot}/`)) return `.${raw.slice(containerRoot.length)}`;
  throw new UsageError(`PATH ${JSON.stringify(raw)} leaves ${containerRoot}: give a path under it`);
}

/** The exec for agent K in a profile whose container mounts `root`, with the host-side checks of K (an agent devkit made) and PATH. */
interface ExecPlace {
  profile: string;
  root: string;
  repo: string;
  stateHome: string;
  /** The user's TERM, given to a command on a terminal. */
  term: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** PATH inside a copy that only its engine has (stack/remote-copy.ts): checked for its shape alone, the engine says whether it is there. */
function remoteWorkingDir(raw: string): string {
  const relative = path.posix.normalize(relativeToMount(raw, AGENT_ROOT));
  if (relative === '..' || relative.startsWith('../'))
    throw new UsageError(`PATH ${JSON.stringify(raw)} leaves ${AGENT_ROOT}: give a path under it`);
  return path.posix.join(AGENT_ROOT, relative);
}

/** The exec's spec, and the engine of agent K's container when its record names one (a copy in volumes there). */
function planExec(request: ExecCdRequest, where: ExecPlace): { spec: ExecSpec; engine: AgentEngine | null } {
  const containerRoot = where.profile === 'dev-all' ? DEV_ALL_ROOT : AGENT_ROOT;
  const records = readAgentRecords(rootState(rootStateDir(where.stateHome, where.root)));
  const index = requireAgent(records, Number(request.index));
  const engine = recordEngine(where.env, records.get(index));
  const agent = agentPaths(where, index);
  let workingDir: string;
  if (engine !== null) {
    if (where.profile === 'dev-all')
      throw new UsageError(
        `agent ${index}'s copy lives on docker context ${engine.context ?? ''}, not under the dev root: use -p ${agent.name}`,
      );
    workingDir = remoteWorkingDir(request.path);
  } else {
    const hostMount = where.profile === 'dev-all' ? where.root : agent.worktree;
    const hostPath = checkPathArg(relativeToMount(request.path, containerRoot), { label: 'PATH', base: hostMount, within: hostMount });
    if (!isDirectory(hostPath)) throw new UsageError(`PATH ${JSON.stringify(request.path)} is not a folder in ${hostMount}`);
    workingDir = path.posix.join(containerRoot, path.relative(hostMount, hostPath));
  }
  const home =
    where.profile === 'dev-all' ? path.posix.join(DEV_ALL_ROOT, path.relative(where.root, agent.devhome)) : `${AGENT_ROOT}/.devhome`;
  const env = [`HOME=${home}`, `DEV_HOME=${home}`, `DEVKIT_AGENT=${agent.name}`];
  const spec: ExecSpec = {
    Cmd: request.cmd,
    Env: request.tty ? [...env, `TERM=${where.term ?? 'xterm-256color'}`] : env,
    WorkingDir: workingDir,
    Tty: request.tty,
    AttachStdin: request.attachStdin,
    AttachStdout: true,
    AttachStderr: true,
  };
  return { spec, engine };
}

function hasLabels(container: ContainerSummary, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([key, value]) => container.Labels[key] === value);
}

function checkRunning(container: ContainerSummary | undefined, profile: string): ContainerSummary {
  if (container === undefined) throw new DevkitError(`no dev container for profile ${profile} here: start it with devkit -p ${profile} up`);
  if (container.State !== 'running')
    throw new DevkitError(`the ${profile} dev container is ${container.State}: start it with devkit -p ${profile} up`);
  return container;
}

/** Checks what needs no engine: the profile, K against it, and PATH's shape. Returns the profile. */
function checkArgs(request: ExecCdRequest, maxAgents: number): string {
  if (request.profile === undefined) throw new UsageError('exec-cd needs a profile: devkit -p dev-all exec-cd K PATH CMD... or -p agentK');
  const profile = checkName(request.profile, 'profile');
  const profileAgent = parseAgentName(profile);
  if (profile !== 'dev-all' && profileAgent === null) throw new UsageError(`unknown profile ${profile}: use dev-all or agentK`);
  const index = parseIndex(request.index, { what: 'K (the agent index)', max: maxAgents });
  if (profileAgent !== null && profileAgent !== index) {
    throw new UsageError(`profile ${profile} is agent ${profileAgent}'s container: use -p agent${index} or -p dev-all for agent ${index}`);
  }
  relativeToMount(request.path, profile === 'dev-all' ? DEV_ALL_ROOT : AGENT_ROOT);
  return profile;
}

/**
 * Checks exec-cd's arguments and creates the exec (not started yet); returns
 * its id. The fast way plans from the .env devkit wrote and, in parallel,
 * looks the container up by the name compose gave it and creates the exec
 * there; that exec is used only if the container's labels prove it is this
 * profile's dev container, in this workspace, mounting that root. Otherwise
 * the container is found by a label search and the plan made from its labels.
 */
export async function prepareExec(
  request: ExecCdRequest,
  context: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ api: EngineApi; execId: string }> {
  const scope = scopeOf(context.cwd, context.env);
  const stack = stackFromEnvFile(scope.workspace);
  const profile = checkArgs(request, stack?.maxAgents ?? 999);
  const wanted: Record<string, string> = { 'devkit.profile': profile, 'com.docker.compose.service': 'dev' };
  if (scope.envRoot !== null) wanted['devkit.root'] = scope.envRoot;
  else if (scope.workspace !== null) wanted['devkit.workspace'] = scope.workspace;
  const place = (root: string, repo: string): ExecPlace => ({
    profile,
    root,
    repo,
    stateHome: scope.stateHome,
    term: context.env.TERM,
    env: context.env,
  });

  if (stack !== null && (scope.envRoot === null || scope.envRoot === stack.root)) {
    const { spec, engine } = planExec(request, place(stack.root, stack.repo));
    const api = engine === null ? engineClient(context.env) : new EngineApi(engine.endpoint);
    const name = `${stack.project}-${profile}-dev-1`;
    const exec = api.createExec(name, spec).catch(debugSwallow(`creating the exec in ${name}`)); // the label search below tries again
    const [container, execId] = await Promise.all([api.findContainer(name), exec]);
    if (container !== null && hasLabels(container, { ...wanted, 'devkit.root': stack.root, 'devkit.repo': stack.repo })) {
      checkRunning(container, profile);
      if (execId !== null) return { api, execId };
    }
    if (engine !== null) return { api, execId: await createByLabels(api, request, wanted, place) };
  }
  const api = engineClient(context.env);
  return { api, execId: await createByLabels(api, request, wanted, place) };
}

/** The slow way: the profile's dev container found by a label search on `api`'s engine, the plan made from its labels. */
async function createByLabels(
  api: EngineApi,
  request: ExecCdRequest,
  wanted: Record<string, string>,
  place: (root: string, repo: string) => ExecPlace,
): Promise<string> {
  const profile = wanted['devkit.profile'] ?? '';
  const found = await api.listContainers(Object.entries(wanted).map(([key, value]) => `${key}=${value}`));
  const container = checkRunning(found.find((c) => c.State === 'running') ?? found[0], profile);
  const root = container.Labels['devkit.root'];
  const repo = container.Labels['devkit.repo'];
  if (root === undefined || repo === undefined) {
    throw new DevkitError(
      `container ${container.Id.slice(0, 12)} has no devkit.root/devkit.repo labels: recreate it with devkit -p ${profile} up`,
    );
  }
  const { spec, engine } = planExec(request, place(root, repo));
  if (engine !== null && engine.endpoint.context !== api.endpoint.context)
    throw new DevkitError(
      `agent ${request.index}'s container is on docker context ${engine.context ?? ''}, not on ${api.endpoint.context}`,
    );
  return api.createExec(container.Id, spec);
}
