import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevRoot, type CommandContext } from '../../agents/devroot.js';
import { agentIndexesOf, agentPaths } from '../../agents/layout.js';
import { engine } from '../../docker/images.js';
import { UsageError } from '../../errors.js';
import { listWorktrees } from '../../git/worktrees.js';
import { stackContainers } from '../../stack/containers.js';
import { ensureTmux, openWindow, sessionName, windowsOf, attach } from '../../tmux/tmux.js';
import { parseIndex } from '../../validate.js';
import { processContext, type CommandHost } from '../context.js';
import { runUp } from '../up/run.js';
import { runSshSetup } from '../ssh-setup/run.js';

/** This devkit's own launcher, which each window runs. */
const DEVKIT = fileURLToPath(new URL('../bin/devkit', import.meta.url));

export interface TmuxShellsResult {
  session: string;
  windows: Array<{ name: string; created: boolean }>;
}

export async function runTmuxShells(options: { count: string; profile?: string }, context: CommandContext): Promise<TmuxShellsResult> {
  const devRoot = await openDevRoot(context);
  const count = parseIndex(options.count, { what: 'N (the number of agents)', max: devRoot.config.maxAgents });
  await ensureTmux();
  const known = agentIndexesOf(devRoot.config, await listWorktrees(devRoot.repo.top));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !known.includes(index));
  if (missing.length > 0) throw new UsageError(`agents ${missing.join(', ')} do not exist: make them with devkit worktrees init ${count}`);

  const session = sessionName(devRoot.config.repo);
  const existing = await windowsOf(session);
  const api = await engine();
  const windows: TmuxShellsResult['windows'] = [];
  for (let index = 1; index <= count; index++) {
    const name = `agent${index}`;
    if (existing?.includes(name)) {
      windows.push({ name, created: false });
      continue;
    }
    const profile = options.profile ?? name;
    await runSshSetup({ index: String(index) }, context);
    const running = (await stackContainers(api, { root: devRoot.config.root, profile })).some((c) => c.service === 'dev' && c.state === 'running');
    if (!running) await runUp({ profile, json: true }, context);
    const where = profile === 'dev-all' ? path.relative(devRoot.config.root, agentPaths(devRoot.config, index).worktree) : '.';
    await openWindow(session, { name, cwd: devRoot.workspace.dir, command: [DEVKIT, '-p', profile, 'exec-cd', String(index), where, 'bash'] }, existing !== null || windows.some((w) => w.created));
    windows.push({ name, created: true });
  }
  return { session, windows };
}

export async function main(options: { count: string; profile?: string; json?: boolean }, host: CommandHost): Promise<void> {
  const context = processContext(options);
  const result = await runTmuxShells(options, context);
  if (options.json) context.io.json(result);
  const added = result.windows.filter((w) => w.created).map((w) => w.name);
  context.io.log(`tmux session ${result.session}: ${added.length === 0 ? 'every window was there' : `added ${added.join(', ')}`}`);
  if (!options.json && process.stdin.isTTY && process.stdout.isTTY) {
    host.setExitCode(await attach(result.session));
    return;
  }
  context.io.out(`attach with: tmux attach -t ${result.session}`);
  host.setExitCode(0);
}
