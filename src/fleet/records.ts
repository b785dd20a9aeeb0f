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
  /**
   * The docker context of the engine its copy and HOME live on, in volumes,
   * when that engine is not this machine's (fleet/engines.ts); absent for a copy
   * under the dev root.
   */
  engine?: string;
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
    const record: AgentRecord = { index, name: agentName(index), createdAt: raw.createdAt, owner: { uid: owner.uid, gid: owner.gid } };
    if (typeof raw.engine === 'string' && raw.engine !== '') record.engine = raw.engine;
    return record;
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
export function knownAgents(state: RootState | ReadonlyMap<number, AgentRecord>): number[] {
  const records = isRecords(state) ? state : readAgentRecords(state);
  return [1, ...records.keys()].sort((a, b) => a - b);
}

function isRecords(state: RootState | ReadonlyMap<number, AgentRecord>): state is ReadonlyMap<number, AgentRecord> {
  return state instanceof Map;
}

/** `index` when agent K exists (in the state or its records); else the one message every command gives, naming those there are. */
export function requireAgent(state: RootState | ReadonlyMap<number, AgentRecord>, index: number): number {
  const known = knownAgents(state);
  if (!known.includes(index))
    throw new UsageError(`there is no agent ${index} (agents: ${known.join(', ')}): make it with devkit worktrees init ${index}`);
  return index;
}
