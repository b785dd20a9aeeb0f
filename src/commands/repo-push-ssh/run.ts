import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { openDevRoot, type CommandContext } from '../../agents/devroot.js';
import { agentPaths } from '../../agents/layout.js';
import { sessionInfo } from '../../agents/session.js';
import { EngineApi, engineSocket } from '../../docker/engine-api.js';
import { DevkitError, UsageError } from '../../errors.js';
import { runExec } from '../../exec/session.js';
import { prepareExec } from '../../exec/target.js';
import { configGet, headState, shortBranch } from '../../git/repo.js';
import { explainPushFailure, sshRemoteUrl } from '../../ssh/push.js';
import { processContext, type CommandHost } from '../context.js';
import { existingAgent } from '../ssh-setup/run.js';
import type { RepoPushOptions } from './command.js';

export interface RepoPushResult {
  index: number;
  branch: string;
  url: string;
  profile: string;
}

/** Runs a command in a container and returns its exit code and what it printed. */
async function execCaptured(api: EngineApi, execId: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  out.on('data', (chunk: Buffer) => chunks.stdout.push(chunk));
  err.on('data', (chunk: Buffer) => chunks.stderr.push(chunk));
  const code = await runExec(api, execId, { stdin: Readable.from([]), stdout: out, stderr: err }, { tty: false, attachStdin: true });
  return { code, stdout: Buffer.concat(chunks.stdout).toString('utf8'), stderr: Buffer.concat(chunks.stderr).toString('utf8') };
}

export async function runRepoPushSsh(options: RepoPushOptions & { profile?: string }, context: CommandContext): Promise<RepoPushResult> {
  const devRoot = await openDevRoot(context);
  const rawIndex = options.index ?? (await sessionInfo(context.cwd).catch(() => null))?.index?.toString();
  if (rawIndex === undefined) throw new UsageError('repo-push-ssh needs --index K (or run it inside agent K\'s copy)');
  const index = await existingAgent(devRoot, rawIndex);
  const agent = agentPaths(devRoot.config, index);
  const branch = options.branch ?? agent.branch ?? shortBranch((await headState(agent.worktree)).branch ?? '');
  if (branch === '' || branch.startsWith('-')) throw new UsageError(`no branch to push for ${agent.name}: name one`);
  if (!existsSync(path.join(agent.devhome, '.ssh', 'id_ed25519'))) throw new DevkitError(`${agent.name} has no SSH key yet: run devkit ssh-setup --index ${index}`);
  const origin = await configGet(devRoot.repo.top, 'remote.origin.url');
  if (origin === null) throw new DevkitError(`${devRoot.repo.top} has no origin remote: git remote add origin ${devRoot.config.ssh.user}@${devRoot.config.ssh.host}:OWNER/REPO.git`);
  const url = sshRemoteUrl(origin, devRoot.config.ssh);

  const profile = options.profile ?? agent.name;
  const where = profile === 'dev-all' ? path.relative(devRoot.config.root, agent.worktree) : '.';
  const api = new EngineApi(engineSocket(context.env));
  const cmd = ['git', 'push', '--porcelain', url, `refs/heads/${branch}:refs/heads/${branch}`];
  const execId = await prepareExec(api, { profile, index: String(index), path: where, cmd, tty: false, attachStdin: true }, context);
  const result = await execCaptured(api, execId);
  if (result.code !== 0) throw new DevkitError(explainPushFailure(result.stderr, { agent: agent.name, index, ssh: devRoot.config.ssh }));
  return { index, branch, url, profile };
}

export async function main(options: RepoPushOptions & { profile?: string }, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runRepoPushSsh(options, context);
  if (options.json) context.io.json(result);
  context.io.out(`pushed ${result.branch} to ${result.url} from agent${result.index}'s container (${result.profile})`);
  host.setExitCode(0);
}
