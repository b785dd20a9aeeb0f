import { execa } from 'execa';
import path from 'node:path';
import type { Io } from '../cli/io.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { readAgentRecords } from '../fleet/records.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { connectForRemoval } from '../agents/remote-remove.js';
import { contextArgs, runCompose } from '../stack/compose.js';
import { prepareStack } from '../stack/prepare.js';
import { composeTarget, resolveProfile } from '../stack/profile.js';
import { agentVolumes } from '../stack/project-names.js';
import { copyPresent, hookDir, hookScript, type HookRun } from './hook-files.js';

/**
 * devkit.yml's hooks.preRemove for agent K, before its removal: in a
 * container of its own made for the hook (`docker compose run --rm --no-deps`
 * of agent K's profile: its copy, its HOME, its uid, the sandbox checked as
 * for up, and no proxy, so no network), since removal refuses while agent K's
 * containers run. Its networks go again afterwards. Null when there is no
 * hook or no copy of agent K to run it in. The caller holds the fleet lock
 * and has checked that no container of agent K runs.
 */
export async function runPreRemove(fleet: Fleet, index: number, io: Io): Promise<HookRun | null> {
  const commands = fleet.config.hooks.preRemove;
  const record = readAgentRecords(fleet.state).get(index);
  if (commands.length === 0 || index < 2 || record === undefined) return null;
  if (!copyPresent(fleet, index, record)) return null;
  const profile = resolveProfile(fleet, agentName(index));
  if (profile.engine.remote) {
    // Its copy is a volume there: none (never up) is no copy to run the hook in, and up must not seed one for it.
    const api = await connectForRemoval(index, profile.engine);
    if ((await api.inspectVolume(agentVolumes(fleet.config, index).copy)) === null) return null;
  }
  await prepareStack(fleet, profile, io);
  const log = path.join(hookDir(fleet.state, index), 'preRemove.log');
  const compose = [
    ...contextArgs(profile.engine.context),
    'compose',
    '--progress',
    'quiet',
    ...profile.files.flatMap((file) => ['-f', file]),
  ];
  try {
    const child = await execa('docker', [...compose, 'run', '--rm', '--no-deps', '-T', 'dev', 'sh', '-c', hookScript(commands)], {
      cwd: fleet.workspace.dir,
      reject: false,
      stdin: 'ignore',
      all: true,
      stripFinalNewline: false,
    });
    writeFileAtomic(log, child.all, { mode: 0o600 });
    return { agent: profile.name, hook: 'preRemove', exitCode: child.exitCode ?? 1, log };
  } finally {
    // compose run made the project's networks; nothing of the agent's project is left running.
    await runCompose({ ...composeTarget(fleet, profile), args: ['down', '--timeout', '5'], quiet: true });
  }
}
