import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { findOrphans } from '../agents/prune.js';
import type { EngineApi } from '../docker/engine-api.js';
import { imageFreshness } from '../docker/images.js';
import { devImageFinding } from './dev-image.js';
import type { Fleet } from '../fleet/fleet.js';
import { parseAgentName } from '../fleet/layout.js';
import { Git } from '../git/git.js';
import { networkForSubnet } from '../stack/network.js';
import { renderAgentOverlay } from '../stack/overlay.js';
import { readPortRanges } from '../stack/ports.js';
import { knownAgents, readAgentRecords } from '../fleet/records.js';
import { SANDBOX_VERSION, overlayFile } from '../stack/workspace-files.js';
import { projectPrefix } from '../stack/project-names.js';
import { agentEngine, askRemoteEngines, workspaceRemoteContexts } from '../fleet/engines.js';
import { describeEndpoint } from '../docker/endpoint.js';

/** One thing doctor looked at. */
export interface DoctorCheck {
  check: string;
  ok: boolean;
  /** What is wrong (or what was found, when ok). */
  detail: string;
  /** The command that fixes it; null when nothing needs doing. */
  fix: string | null;
  /** gc may remove it: it is devkit's own garbage and holds no work. */
  garbage: boolean;
  /** What gc acts on: a container's compose project, a container, a file, a lock file. */
  target: GcTarget | null;
}

export interface GcTarget {
  kind: 'project' | 'container' | 'file' | 'worktrees';
  name: string;
  /** The docker context of the remote engine it is on; absent for this machine's. */
  engine?: string;
}

function finding(check: string, ok: boolean, detail: string, extra: Partial<DoctorCheck> = {}): DoctorCheck {
  return { check, ok, detail, fix: null, garbage: false, target: null, ...extra };
}

async function toolChecks(fleet: Fleet): Promise<DoctorCheck[]> {
  const git = await new Git(fleet.git, fleet.state.dir).result(['version']);
  const gitVersion = /(\d+)\.(\d+)/.exec(git.stdout);
  const gitOk = gitVersion !== null && (Number(gitVersion[1]) > 2 || (Number(gitVersion[1]) === 2 && Number(gitVersion[2]) >= 30));
  const compose = await execa('docker', ['compose', 'version', '--short'], { reject: false }).catch(() => null);
  const composeVersion = compose?.stdout ?? ''.trim();
  return [
    finding('git', gitOk, git.stdout.trim() || 'git not found', gitOk ? {} : { fix: 'install git 2.30 or later' }),
    finding(
      'compose',
      compose?.exitCode === 0 && /^v?2\./.test(composeVersion),
      compose?.exitCode === 0 ? `Docker Compose ${composeVersion}` : 'Docker Compose v2 is missing',
      compose?.exitCode === 0 && /^v?2\./.test(composeVersion) ? {} : { fix: 'scripts/docker-engine.sh start (installs Compose v2)' },
    ),
  ];
}

function gitSideChecks(fleet: Fleet): DoctorCheck[] {
  return findOrphans(fleet).map((f) =>
    finding(`worktrees: ${f.kind}`, f.kind === 'devhome-parked', `${f.problem}: ${f.path}`, {
      fix: f.safe
        ? 'devkit worktrees prune --apply'
        : f.kind === 'copy-tampered'
          ? `devkit worktrees remove ${f.index ?? 'K'} --force (saves its files to devkit's backups), ` +
            `then devkit worktrees init ${f.index ?? 'K'}`
          : f.kind === 'busy-lock'
            ? null
            : f.fix,
      garbage: f.safe && f.kind !== 'copy-unregistered',
      target: f.safe ? { kind: 'worktrees', name: f.path } : null,
    }),
  );
}

/** The internal network's subnet an overlay names; undefined when it is not YAML any more (edited by hand: stale, like any mismatch). */
function overlaySubnet(text: string): string | undefined {
  try {
    const doc = parse(text) as { networks?: { internal?: { ipam?: { config?: Array<{ subnet?: string }> } } } } | null;
    return doc?.networks?.internal?.ipam?.config?.[0]?.subnet;
  } catch {
    return undefined;
  }
}

/** Overlays that no longer match their template, and overlays of agents that are gone. */
function overlayChecks(fleet: Fleet, agents: readonly number[]): DoctorCheck[] {
  const dir = path.join(fleet.workspace.dir, 'overlays');
  const findings: DoctorCheck[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const index = parseAgentName(name);
    const file = overlayFile(fleet.workspace.dir, name);
    if (index === null || !existsSync(file)) continue;
    if (!agents.includes(index)) {
      findings.push(
        finding('overlay', false, `${file} belongs to no agent (agent ${index} is gone)`, {
          fix: 'devkit gc',
          garbage: true,
          target: { kind: 'file', name: file },
        }),
      );
      continue;
    }
    const text = readFileSync(file, 'utf8');
    const subnet = overlaySubnet(text);
    const network = subnet === undefined ? null : networkForSubnet(subnet);
    // An agent with no ports yet has never been up since devkit gave ranges: its overlay is stale too.
    const ports = readPortRanges(fleet.env, fleet.config.root).get(index);
    const remote = overlayIsRemote(fleet, index);
    const current = network !== null && ports !== undefined && renderAgentOverlay(fleet, index, network, ports, remote) === text;
    findings.push(
      finding(
        'overlay',
        current,
        current ? `${file} matches its template` : `${file} no longer matches its template`,
        current ? {} : { fix: `devkit overlay create ${name}` },
      ),
    );
  }
  return findings;
}

/**
 * devkit's containers of this dev root on one engine (`engine`: a remote
 * one's context) that belong to no agent (and no dev-all), and helper
 * containers (stack/volume-helper.ts) left by a devkit that was stopped:
 * helpers live only under the fleet lock, which doctor's caller gc holds.
 */
async function containerChecks(api: EngineApi, fleet: Fleet, agents: readonly number[], engine?: string): Promise<DoctorCheck[]> {
  const containers = await api.listContainers([`devkit.root=${fleet.config.root}`]);
  const on = engine === undefined ? {} : { engine };
  const where = engine === undefined ? '' : `on docker context ${engine}: `;
  const projects = new Map<string, string>();
  const unsandboxed = new Set<string>();
  const helpers: Array<{ id: string; agent: string }> = [];
  for (const container of containers) {
    const agent = container.Labels['devkit.agent'] ?? '';
    const index = parseAgentName(agent);
    const orphan = agent !== 'all' && (index === null || !agents.includes(index));
    if (container.Labels['devkit.helper'] !== undefined) helpers.push({ id: container.Id, agent });
    else if (orphan) projects.set(container.Labels['com.docker.compose.project'] ?? '', agent);
    else if (container.Labels['devkit.sandbox'] !== SANDBOX_VERSION) unsandboxed.add(container.Labels['devkit.profile'] ?? agent);
  }
  const prefix = projectPrefix(fleet.config);
  const old = [...unsandboxed].map((profile) =>
    finding('containers', false, `${where}${profile}'s containers were made by devkit 0.1.0: the shared .git is writable in them`, {
      fix: `devkit -p ${profile} down && devkit -p ${profile} up`,
    }),
  );
  const volumes = (await api.listVolumes(['com.docker.compose.project']))
    .map((volume) => ({ name: volume.Name, project: volume.Labels?.['com.docker.compose.project'] ?? '' }))
    .filter(({ project }) => {
      const index = new RegExp(`^${prefix}-agent([1-9][0-9]*)$`).exec(project)?.[1];
      return index !== undefined && !agents.includes(Number(index));
    })
    // A volume may hold data: reported, never collected.
    .map(({ name, project }) =>
      finding('volumes', false, `${where}volume ${name} of ${project} belongs to no agent`, {
        fix: `docker ${engine === undefined ? '' : `--context ${engine} `}volume rm ${name} (if it holds nothing you need)`,
      }),
    );
  const left = helpers.map(({ id, agent }) =>
    finding(
      'containers',
      false,
      `${where}helper container ${id.slice(0, 12)} of ${agent} is left over (devkit runs one only under the lock)`,
      {
        fix: 'devkit gc',
        garbage: true,
        target: { kind: 'container', name: id, ...on },
      },
    ),
  );
  return [
    ...old,
    ...volumes,
    ...left,
    ...[...projects.entries()]
      .filter(([project]) => project.startsWith(`${prefix}-`))
      .map(([project, agent]) =>
        finding('containers', false, `${where}compose project ${project} runs for ${agent || 'no agent'}, which no longer exists`, {
          fix: 'devkit gc',
          garbage: true,
          target: { kind: 'project', name: project, ...on },
        }),
      ),
  ];
}

/** Everything doctor checks; changes nothing. */
export async function diagnose(fleet: Fleet, api: EngineApi | null, engineError: string | null): Promise<DoctorCheck[]> {
  const agents = knownAgents(fleet.state);
  const findings = [...(await toolChecks(fleet))];
  findings.push(
    api === null
      ? finding('engine', false, `the Docker engine does not answer (${engineError ?? 'unknown'})`, {
          fix: 'scripts/docker-engine.sh start',
        })
      : finding(
          'engine',
          true,
          await api.version().then(
            (v) => `Docker Engine ${v.Version} (API ${v.ApiVersion}) answers`,
            () => 'the Docker engine answers',
          ),
        ),
  );
  if (api !== null) {
    for (const image of await imageFreshness(api, fleet.config.baseImage)) {
      findings.push(
        finding(
          'image',
          image.state === 'current',
          `${image.tag} is ${image.state}`,
          image.state === 'current' ? {} : { fix: 'devkit image build' },
        ),
      );
    }
    const devImage = await devImageFinding(api, fleet);
    if (devImage !== null)
      findings.push(finding('dev image', devImage.ok, devImage.detail, devImage.fix === undefined ? {} : { fix: devImage.fix }));
    findings.push(...(await containerChecks(api, fleet, agents)));
  }
  findings.push(...(await remoteEngineChecks(fleet)));
  findings.push(...overlayChecks(fleet, agents));
  findings.push(...gitSideChecks(fleet));
  return findings;
}

/** Whether agent K's overlay is the remote kind (fleet/engines.ts); a placement devkit refuses counts as local here, and up says why. */
function overlayIsRemote(fleet: Fleet, index: number): boolean {
  try {
    return agentEngine(fleet, index).remote;
  } catch {
    return false;
  }
}

/** Each remote engine this root uses: whether it answers, and what of this root's is left there (as on this machine's). */
async function remoteEngineChecks(fleet: Fleet): Promise<DoctorCheck[]> {
  const records = [...readAgentRecords(fleet.state).values()];
  const agents = knownAgents(fleet.state);
  const livingOn = (context: string): string => records.flatMap((r) => (r.engine === context ? [r.name] : [])).join(', ') || 'no agent';
  const { answers, silent } = await askRemoteEngines(
    fleet,
    async (api, context) => ({
      where: describeEndpoint(api.endpoint),
      version: (await api.version()).Version,
      findings: await containerChecks(api, fleet, agents, context),
    }),
    workspaceRemoteContexts(fleet),
  );
  return [
    ...[...answers].flatMap(([context, engine]) => [
      finding('engine', true, `${engine.where}: Docker Engine ${engine.version} answers (${livingOn(context)})`),
      ...engine.findings,
    ]),
    ...silent.map((engine) =>
      finding('engine', false, `${engine.message} (${livingOn(engine.context)} live there)`, {
        fix: `start the engine of docker context ${engine.context}`,
      }),
    ),
  ];
}
