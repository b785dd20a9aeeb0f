import { readdirSync, rmSync } from 'node:fs';
import { UsageError } from '../errors.js';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { readTextIn, withSafeDir } from '../fs/safe.js';
import type { RootState } from '../state/root-state.js';
import { agentName, parseAgentName } from './layout.js';
import type { Owner } from './owner.js';

/**
 * devkit's record of each agent it made (K >= 2), in its state folder: which
 * agents exist is devkit's word, not what a folder under the dev root says.
 */
export interface AgentRecord {
  index: number;
  name: string;
  createdAt: string;
  /** The uid:gid its copy and HOME belong to. */
  owner: Owner;
}

function recordFile(state: RootState, index: number): string {
  return path.join(state.agentsDir, `${agentName(index)}.json`);
}

function parseRecord(text: string, index: number): AgentRecord | null {
  try {
    const raw = JSON.parse(text) as Partial<AgentRecord>;
    const owner = raw.owner;
    if (raw.index !== index || raw.name !== agentName(index) || typeof raw.createdAt !== 'string') return null;
    if (owner === undefined || !Number.isInteger(owner.uid) || !Number.isInteger(owner.gid)) return null;
    return { index, name: agentName(index), createdAt: raw.createdAt, owner: { uid: owner.uid, gid: owner.gid } };
  } catch {
    return null;
  }
}

/** Every agent devkit made here, by index (a record that does not parse counts as none). */
export function readAgentRecords(state: RootState): Map<number, AgentRecord> {
  const records = new Map<number, AgentRecord>();
  let names: string[];
  try {
    names = readdirSync(state.agentsDir);
  } catch {
    return records;
  }
  for (const file of names) {
    const index = file.endsWith('.json') ? parseAgentName(file.slice(0, -5)) : null;
    if (index === null || index < 2) continue;
    const text = withSafeDir(state.agentsDir, '', (dir) => readTextIn(dir, file, 64 * 1024));
    const record = text === null ? null : parseRecord(text, index);
    if (record !== null) records.set(index, record);
  }
  return records;
}

export function writeAgentRecord(state: RootState, record: AgentRecord): void {
  writeFileAtomic(recordFile(state, record.index), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export function deleteAgentRecord(state: RootState, index: number): void {
  rmSync(recordFile(state, index), { force: true });
}

/** The agents of a dev root: agent 1 (the primary clone) and every agent devkit made. */
export function knownAgents(state: RootState): number[] {
  return [1, ...readAgentRecords(state).keys()].sort((a, b) => a - b);
}

/** `index` when agent K exists; else the one message every command gives, naming the agents there are. */
export function requireAgent(state: RootState, index: number): number {
  const known = knownAgents(state);
  if (!known.includes(index))
    throw new UsageError(`there is no agent ${index} (agents: ${known.join(', ')}): make it with devkit worktrees init ${index}`);
  return index;
}
