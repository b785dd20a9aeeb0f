import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Io } from '../cli/io.js';
import { runExec } from '../docker/exec-stream.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { agentExec } from '../agents/writers.js';
import { readAgentRecords } from '../fleet/records.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { Profile } from '../stack/profile.js';
import { withRepoLock } from '../state/lock.js';
import { copyPresent, hookDir, hookScript, type HookRun } from './hook-files.js';

/** Which copy of agent K its postCreate ran for (the createdAt of devkit's record of it), or null. */
function doneFor(file: string): string | null {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { createdAt?: string }).createdAt ?? null;
  } catch {
    return null;
  }
}

/** Runs `script` as agent K in the profile's running dev container, at its copy with its HOME (as agent run does); output to `log`. */
async function runInContainer(fleet: Fleet, profile: Profile, index: number, script: string, log: string): Promise<number> {
  const { api, execId } = await agentExec(fleet, { index, profile: profile.name, cmd: ['sh', '-c', script], attachStdin: false });
  const output = createWriteStream(log, { mode: 0o600 });
  try {
    return await runExec(api, execId, { stdin: Readable.from([]), stdout: output, stderr: output }, { tty: false, attachStdin: false });
  } finally {
    await new Promise<void>((resolve) => output.end(resolve));
  }
}

/**
 * devkit.yml's hooks.postCreate for the agents a profile just brought up
 * (agent K for agentK, on whichever engine it runs; every agent devkit made
 * under the dev root for dev-all) whose copy has not
 * had it yet: once per copy, recorded in the state folder only when it
 * succeeds (a failed one runs again on the next up). Agents' hooks run side by
 * side; one agent's runs are serialised, so two ups never run it twice.
 */
export async function runPostCreate(fleet: Fleet, profile: Profile, io: Io): Promise<HookRun[]> {
  const commands = fleet.config.hooks.postCreate;
  if (commands.length === 0) return [];
  const records = readAgentRecords(fleet.state);
  // dev-all holds the copies under the dev root: a remote agent's runs on its own engine, at its own up.
  const underRoot = [...records].filter(([, record]) => record.engine === undefined).map(([index]) => index);
  const wanted = profile.agentIndex === null ? underRoot : [profile.agentIndex];
  const indexes = wanted.filter((index) => {
    const record = records.get(index);
    return record !== undefined && copyPresent(fleet, index, record);
  });
  const settled = await Promise.allSettled(
    indexes.map((index) => {
      const createdAt = records.get(index)?.createdAt ?? '';
      const dir = hookDir(fleet.state, index);
      const lock = { file: path.join(dir, 'postCreate.lock'), command: `postCreate hook of ${agentName(index)}`, io, env: fleet.env };
      return withRepoLock(lock, async (): Promise<HookRun | null> => {
        const done = path.join(dir, 'postCreate.done');
        if (doneFor(done) === createdAt) return null;
        const log = path.join(dir, 'postCreate.log');
        io.log(`${agentName(index)}: running the postCreate hook in ${profile.name} (output: ${log})`);
        const exitCode = await runInContainer(fleet, profile, index, hookScript(commands), log);
        const record = { createdAt, profile: profile.name, ranAt: new Date().toISOString() };
        if (exitCode === 0) writeFileAtomic(done, `${JSON.stringify(record)}\n`);
        return { agent: agentName(index), hook: 'postCreate', exitCode, log };
      });
    }),
  );
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.flatMap((result) => (result.status === 'fulfilled' && result.value !== null ? [result.value] : []));
}
