import { openFleet } from '../open-fleet.js';
import { fileURLToPath } from 'node:url';
import type { CommandContext } from '../../cli/context.js';
import { connectEngine } from '../../docker/engine-api.js';
import { UsageError } from '../../errors.js';
import { withFleetLock } from '../../fleet/fleet.js';
import { agentName, agentPaths, copyPathIn, parseAgentName } from '../../fleet/layout.js';
import { knownAgents } from '../../fleet/records.js';
import { setUpSsh } from '../../ssh/setup.js';
import { stackContainers } from '../../stack/containers.js';
import { upProfile } from '../../stack/up.js';
import { hookFailure } from '../../hooks/hook-files.js';
import { runPostCreate } from '../../hooks/post-create.js';
import { attach, ensureTmux, markSession, openWindow, windowsOf } from '../../tmux/tmux.js';
import { shellsSession } from '../../stack/live-sessions.js';
import { parseIndex } from '../../validate.js';

/** This devkit's own launcher, which each window runs. */
const DEVKIT = fileURLToPath(new URL('../bin/devkit', import.meta.url));

export interface TmuxShellsResult {
  session: string;
  windows: Array<{ name: string; created: boolean }>;
}

async function openShells(options: { count: string; profile?: string }, context: CommandContext): Promise<TmuxShellsResult> {
  const fleet = await openFleet(context);
  const count = parseIndex(options.count, { what: 'N (the number of agents)', max: fleet.config.maxAgents });
  // An agentK profile is agent K's container alone: every other agent's window would open and die at once.
  const only = options.profile === undefined ? null : parseAgentName(options.profile);
  if (only !== null) {
    throw new UsageError(
      `-p ${options.profile} is agent ${only}'s container alone; tmux-shells opens a window per agent: ` +
        'leave out -p (each agent in its own container) or use -p dev-all',
    );
  }
  await ensureTmux();
  const known = knownAgents(fleet.state);
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((index) => !known.includes(index));
  if (missing.length > 0) throw new UsageError(`agents ${missing.join(', ')} do not exist: make them with devkit worktrees init ${count}`);

  const session = await shellsSession(fleet.config);
  const existing = await windowsOf(session);
  // A session of an older devkit, or the first window's new one below, is marked as this root's.
  if (existing !== null) await markSession(session, fleet.config.root);
  const api = await connectEngine(fleet.env);
  const windows: TmuxShellsResult['windows'] = [];
  for (let index = 1; index <= count; index++) {
    const name = agentName(index);
    if (existing?.includes(name)) {
      windows.push({ name, created: false });
      continue;
    }
    const profile = options.profile ?? name;
    await withFleetLock(fleet, context, `ssh-setup --index ${index}`, () =>
      setUpSsh(fleet, agentPaths(fleet.config, index), fleet.config.ssh),
    );
    const running = (await stackContainers(api, { root: fleet.config.root, profile })).some(
      (c) => c.service === 'dev' && c.state === 'running',
    );
    if (!running) {
      const up = await upProfile(fleet, profile, context, false);
      const failure = hookFailure(await runPostCreate(fleet, up.profile, context.io), 'it runs again on the next up');
      if (failure !== null) context.io.log(`devkit: ${failure}`);
    }
    const where = copyPathIn(fleet.config, index, profile);
    // The first window made starts the session, which is then marked as this root's.
    const sessionExists = existing !== null || windows.some((w) => w.created);
    await openWindow(
      session,
      { name, cwd: fleet.workspace.dir, command: [DEVKIT, '-p', profile, 'exec-cd', String(index), where, 'bash'] },
      sessionExists,
    );
    if (!sessionExists) await markSession(session, fleet.config.root);
    windows.push({ name, created: true });
  }
  return { session, windows };
}

export async function run(options: { count: string; profile?: string; json?: boolean }, context: CommandContext): Promise<number> {
  const result = await openShells(options, context);
  if (options.json) context.io.json(result);
  const added = result.windows.filter((w) => w.created).map((w) => w.name);
  context.io.log(`tmux session ${result.session}: ${added.length === 0 ? 'every window was there' : `added ${added.join(', ')}`}`);
  if (!options.json && process.stdin.isTTY && process.stdout.isTTY) return attach(result.session, context.env);
  context.io.out(`attach with: tmux attach -t ${result.session}`);
  return 0;
}
