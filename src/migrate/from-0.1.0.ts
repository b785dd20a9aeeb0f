import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { backupsRepo } from '../agents/backups-repo.js';
import { convertWorktree } from '../agents/provision.js';
import type { CommandContext } from '../cli/context.js';
import { connectEngine } from '../docker/engine-api.js';
import { DevkitError } from '../errors.js';
import { STATE_FORMAT, movedFromOldLayout, stateFormatFile, withFleetLock, type Fleet } from '../fleet/fleet.js';
import { agentIndexOfCopy } from '../fleet/layout.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { parseHead } from '../git/refs.js';
import { processAlive } from '../proc.js';
import { readTeam, writeTeam } from '../teams/store.js';

/**
 * Moving a dev root made by devkit 0.1.0 to this layout, on first use, with
 * nothing lost. 0.1.0 kept its lock, team records, subnet reservations and
 * backups in the shared .git (where every container could write them) and
 * made agents worktrees of the shared repo. Each moves: the records (checked,
 * as every record devkit reads back) and the backups into devkit's state, and
 * each agent worktree becomes a copy of its own, its files, index, HEAD and
 * branch untouched. Work on the agent's branch stays on it in the shared repo.
 */

interface Moved {
  teams: number;
  subnets: number;
  backups: number;
  agents: number[];
  left: string[];
}

function refuseLiveOldLock(gitDir: string): void {
  const file = path.join(gitDir, 'devkit.lock');
  if (!existsSync(file)) return;
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; start?: string | null; host?: string };
    if (typeof owner.pid === 'number' && processAlive(owner.pid, owner.start ?? null)) {
      throw new DevkitError(`devkit 0.1.0 (pid ${owner.pid}) holds ${file}: let it finish, then run this command again`);
    }
  } catch (error) {
    if (error instanceof DevkitError) throw error;
  }
  rmSync(file, { force: true });
}

/** 0.1.0's team records: each moves when it is one devkit would make for this root; others are left and named. */
function moveTeams(fleet: Fleet, moved: Moved): void {
  const dir = path.join(fleet.shared.gitDir, 'devkit-teams');
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const name = file.slice(0, -5);
    const staging = path.join(fleet.state.teamsDir, file);
    try {
      writeFileAtomic(staging, readFileSync(path.join(dir, file)));
      const team = readTeam(fleet, name);
      if (team !== null) writeTeam(fleet, team);
      rmSync(path.join(dir, file));
      moved.teams++;
    } catch (error) {
      rmSync(staging, { force: true });
      moved.left.push(`${path.join(dir, file)} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}

/** 0.1.0's subnet reservations: the ones devkit would hand out move (network.ts checks them again when read). */
function moveSubnets(fleet: Fleet, moved: Moved): void {
  const file = path.join(fleet.shared.gitDir, 'devkit-subnets.json');
  if (!existsSync(file)) return;
  let old: Record<string, unknown> = {};
  try {
    old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // unreadable: nothing to keep, each project gets a subnet again
  }
  const current = existsSync(fleet.state.subnetsFile)
    ? (JSON.parse(readFileSync(fleet.state.subnetsFile, 'utf8')) as Record<string, unknown>)
    : {};
  const strings = Object.fromEntries(Object.entries(old).filter(([, subnet]) => typeof subnet === 'string'));
  writeFileAtomic(fleet.state.subnetsFile, `${JSON.stringify({ ...strings, ...current }, null, 2)}\n`, { mode: 0o600 });
  moved.subnets = Object.keys(strings).length;
  rmSync(file);
}

/** 0.1.0's backups (refs/devkit/backup/* in the shared repo): into devkit's backups repository, then out of reach. */
async function moveBackups(fleet: Fleet, moved: Moved): Promise<void> {
  const refs = (await fleet.shared.git.run(['for-each-ref', '--format=%(refname)', 'refs/devkit/backup/'])).split('\n').filter(Boolean);
  if (refs.length === 0) return;
  const backups = await backupsRepo(fleet);
  await backups.run([
    'fetch',
    '--no-tags',
    '--no-write-fetch-head',
    '--quiet',
    fleet.shared.gitDir,
    '+refs/devkit/backup/*:refs/devkit/backup/*',
  ]);
  for (const ref of refs) {
    const id = (await fleet.shared.git.run(['rev-parse', ref])).trim();
    if ((await backups.result(['rev-parse', '--verify', '--quiet', ref])).stdout.trim() !== id)
      throw new DevkitError(`moving backup ${ref} failed: it is kept in ${fleet.shared.gitDir}`);
    await fleet.shared.git.mutate(['update-ref', '-d', ref, id]);
  }
  moved.backups = refs.length;
}

/** The 0.1.0 agent worktrees of this root: index, copy path, admin folder. */
async function oldAgents(fleet: Fleet): Promise<Array<{ index: number; copy: string; admin: string }>> {
  const admins = path.join(fleet.shared.gitDir, 'worktrees');
  if (!existsSync(admins)) return [];
  const found: Array<{ index: number; copy: string; admin: string }> = [];
  for (const id of readdirSync(admins)) {
    const admin = path.join(admins, id);
    let gitdir: string;
    try {
      gitdir = readFileSync(path.join(admin, 'gitdir'), 'utf8').trim();
    } catch {
      continue;
    }
    const copy = path.dirname(gitdir);
    const index = agentIndexOfCopy(fleet.config, copy);
    if (index !== null && index >= 2) found.push({ index, copy, admin });
  }
  return found;
}

/** Turns one 0.1.0 worktree into a copy of its own (see above). The caller checked no container runs for it. */
async function convertAgent(fleet: Fleet, old: { index: number; copy: string; admin: string }): Promise<void> {
  const head = parseHead(readFileSync(path.join(old.admin, 'HEAD'), 'utf8'));
  if (head === null) throw new DevkitError(`${old.admin}/HEAD is unreadable: agent ${old.index} is left as a 0.1.0 worktree`);
  const pointer = path.join(old.copy, '.git');
  if (!readFileSync(pointer, 'utf8').startsWith('gitdir: '))
    throw new DevkitError(`${pointer} is not a worktree's .git file: agent ${old.index} is left as it is`);
  await convertWorktree(fleet, old.index, { head, index: path.join(old.admin, 'index') });
  rmSync(old.admin, { recursive: true, force: true });
}

function say(context: CommandContext, fleet: Fleet, moved: Moved): void {
  const parts = [
    moved.teams > 0 ? `${moved.teams} team record(s) to ${fleet.state.teamsDir}` : '',
    moved.subnets > 0 ? `${moved.subnets} subnet reservation(s) to ${fleet.state.subnetsFile}` : '',
    moved.backups > 0 ? `${moved.backups} backup(s) to ${fleet.state.backupsRepo}` : '',
    moved.agents.length > 0 ? `agents ${moved.agents.join(', ')} from worktrees of the shared repo to copies of their own` : '',
  ].filter(Boolean);
  if (parts.length > 0) context.io.log(`devkit: moved what devkit 0.1.0 kept where agents could write it: ${parts.join('; ')}`);
  for (const left of moved.left) context.io.log(`devkit: left in place: ${left}`);
}

/**
 * Runs the move when it has not run for this root yet. Agents whose 0.1.0
 * containers still run (with the shared .git writable) are left until they
 * are down: the command that finds them says so, and the move runs again.
 */
export async function migrateFromOldLayout(fleet: Fleet, context: CommandContext): Promise<void> {
  if (movedFromOldLayout(fleet)) return;
  await withFleetLock(fleet, context, 'move from devkit 0.1.0', async () => {
    if (movedFromOldLayout(fleet)) return;
    const moved: Moved = { teams: 0, subnets: 0, backups: 0, agents: [], left: [] };
    refuseLiveOldLock(fleet.shared.gitDir);
    moveTeams(fleet, moved);
    moveSubnets(fleet, moved);
    await moveBackups(fleet, moved);
    const agents = await oldAgents(fleet);
    let waiting = false;
    if (agents.length > 0) {
      const running = await connectEngine(fleet.env)
        .then((api) => api.listContainers([`devkit.root=${fleet.config.root}`]))
        .then((all) => all.filter((c) => c.State === 'running'));
      for (const agent of agents) {
        const profiles = running.filter(
          (c) => c.Labels['devkit.agent'] === `agent${agent.index}` || c.Labels['devkit.profile'] === 'dev-all',
        );
        if (profiles.length > 0) {
          moved.left.push(
            `agent ${agent.index} stays a 0.1.0 worktree until its containers stop ` +
              `(devkit -p ${profiles[0]?.Labels['devkit.profile'] ?? `agent${agent.index}`} down)`,
          );
          waiting = true;
          continue;
        }
        await convertAgent(fleet, agent);
        moved.agents.push(agent.index);
      }
    }
    const admins = path.join(fleet.shared.gitDir, 'worktrees');
    if (existsSync(admins) && readdirSync(admins).length === 0) rmdirSync(admins);
    say(context, fleet, moved);
    if (!waiting) writeFileAtomic(stateFormatFile(fleet), `${STATE_FORMAT}\n`);
  });
}
