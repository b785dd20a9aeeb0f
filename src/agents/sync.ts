import type { CommandContext } from '../cli/context.js';
import { withFleetLock, type Fleet } from '../fleet/fleet.js';
import { agentName } from '../fleet/layout.js';
import { readAgentRecords } from '../fleet/records.js';
import { agentEngine } from '../fleet/engines.js';
import { blankCopyFacts, readCopy, type CopyFacts } from './copy.js';
import { apply, needsWork, plan, sharedRefs, type SyncOutcome } from './sync-plan.js';

export type { BranchChange, SyncOutcome } from './sync-plan.js';

/** Brings agent K's branches in. The caller holds the fleet lock. */
export async function syncAgent(fleet: Fleet, index: number): Promise<SyncOutcome> {
  const engine = agentEngine(fleet, index);
  if (engine.remote) {
    // Loaded only for a remote agent: its engine client and image names are no cost to local fleets.
    const { syncRemoteAgent } = await import('./remote-sync.js');
    return syncRemoteAgent(fleet, index, engine);
  }
  return apply(fleet, plan(readCopy(fleet.config, fleet.shared.gitDir, index), await sharedRefs(fleet)));
}

/**
 * Brings every given agent's branches in, taking the lock only when one has
 * something to bring (status and list call this on every run, and an idle
 * fleet costs a read of each copy's refs). Agent 1 is the shared repo itself.
 */
export async function syncAgents(
  fleet: Fleet,
  context: CommandContext,
  indexes: readonly number[],
  known: { facts?: ReadonlyMap<number, CopyFacts>; shared?: ReadonlyMap<string, string> } = {},
): Promise<SyncOutcome[]> {
  const agents = indexes.filter((index) => index >= 2);
  const records = readAgentRecords(fleet.state);
  // An agent on a remote engine is asked every time: only its engine knows whether it has something new.
  const remote = agents.some((index) => records.get(index)?.engine !== undefined);
  const refs = known.shared ?? (await sharedRefs(fleet));
  const plans = agents.map((index) => plan(known.facts?.get(index) ?? readCopy(fleet.config, fleet.shared.gitDir, index), refs));
  if (!remote && !plans.some(needsWork)) return Promise.all(plans.map((p) => apply(fleet, p)));
  return withFleetLock(fleet, context, 'sync', async () => {
    const outcomes: SyncOutcome[] = [];
    // Planned again under the lock: another devkit may have synced meanwhile.
    for (const index of agents) outcomes.push(await syncAgentReporting(fleet, index));
    return outcomes;
  });
}

/** syncAgent, with a failure (a branch checked out in the primary clone, a bad object) reported in the outcome. */
async function syncAgentReporting(fleet: Fleet, index: number): Promise<SyncOutcome> {
  try {
    return await syncAgent(fleet, index);
  } catch (error) {
    const remote = readAgentRecords(fleet.state).get(index)?.engine !== undefined;
    const facts = remote ? blankCopyFacts(index) : readCopy(fleet.config, fleet.shared.gitDir, index);
    return {
      index,
      name: agentName(index),
      state: facts.state,
      problems: facts.problems,
      changed: [],
      kept: [],
      outside: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
