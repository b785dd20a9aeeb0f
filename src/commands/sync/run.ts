import { openFleet } from '../open-fleet.js';
import { knownIndexes } from '../../agents/inspect.js';
import { syncAgents } from '../../agents/sync.js';
import type { CommandContext } from '../../cli/context.js';
import { requireAgent } from '../../fleet/records.js';
import { parseIndex } from '../../validate.js';
import { syncRef } from '../../agents/remote-sync.js';

export async function run(flags: { index?: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const indexes =
    flags.index === undefined
      ? [...knownIndexes(fleet).recorded]
      : [requireAgent(fleet.state, parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents }))];
  const outcomes = await syncAgents(fleet, context, indexes);
  if (flags.json) context.io.json({ agents: outcomes });
  for (const outcome of outcomes) {
    const changes = outcome.changed.map((c) =>
      c.to === null ? `${c.branch} deleted` : `${c.branch} ${c.from === null ? 'new' : 'moved'} at ${c.to.slice(0, 10)}`,
    );
    const summary = changes.length === 0 ? 'up to date' : changes.join(', ');
    context.io.out(`${outcome.name}\t${outcome.state === 'ok' ? summary : outcome.state.toUpperCase()}`);
    if (outcome.kept.length > 0)
      context.io.log(
        `devkit: ${outcome.name} deleted ${outcome.kept.join(', ')} in its copy; kept in the shared repo (commits on no other branch)`,
      );
    if (outcome.outside.length > 0)
      context.io.log(
        outcome.outside.length === 1
          ? `devkit: ${outcome.name}'s branch ${outcome.outside[0] ?? ''} is outside ${outcome.name}/: it stays in its copy`
          : `devkit: ${outcome.name}'s branches ${outcome.outside.join(', ')} are outside ${outcome.name}/: they stay in its copy`,
      );
    if ('snapshot' in outcome && typeof outcome.snapshot === 'string')
      context.io.log(
        `devkit: ${outcome.name}'s uncommitted work is at ${syncRef(outcome.index)} in ${fleet.state.backupsRepo} ` +
          `(${outcome.snapshot.slice(0, 10)})`,
      );
    for (const problem of [...outcome.problems, ...(outcome.error === null ? [] : [outcome.error])])
      context.io.log(`devkit: ${outcome.name}: ${problem}`);
  }
  return outcomes.some((o) => o.state !== 'ok' || o.error !== null) ? 1 : 0;
}
