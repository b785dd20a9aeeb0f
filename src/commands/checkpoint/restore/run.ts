import { openFleet } from '../../open-fleet.js';
import { restoreAgent } from '../../../agents/restore.js';
import type { CommandContext } from '../../../cli/context.js';
import { withFleetLock } from '../../../fleet/fleet.js';
import { parseIndex } from '../../../validate.js';

export async function run(flags: { index: string; name: string; json?: boolean }, context: CommandContext): Promise<number> {
  const fleet = await openFleet(context);
  const index = parseIndex(flags.index, { what: 'K (the agent index)', max: fleet.config.maxAgents });
  const result = await withFleetLock(fleet, context, `restore ${index} ${flags.name}`, () => restoreAgent(fleet, index, flags.name));
  if (flags.json) {
    const { restored, saved } = result;
    context.io.json({
      index,
      name: result.name,
      kind: restored.kind,
      commit: restored.commit,
      profile: result.profile,
      remade: result.remade,
      saved: saved === null ? null : { name: saved.name, ref: saved.ref, commit: saved.commit },
    });
  }
  if (result.saved !== null) context.io.out(`saved what agent${index} held first as checkpoint ${result.saved.name}`);
  context.io.out(`restored ${result.name} into agent${index}'s copy`);
  if (result.restored.kind === 'backup')
    context.io.log(
      `devkit: the backup's .devkit-backup/ entries (its .git and nested repositories, as tars) stay in the backup: ` +
        `git --git-dir=${fleet.state.backupsRepo} show ${result.restored.ref}:.devkit-backup/git-dir.tar > git-dir.tar`,
    );
  return 0;
}
