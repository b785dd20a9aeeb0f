import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../cli/io.js';
import { agentGitIdentity, hostGitIdentity, initialGitconfig } from '../fleet/git-identity.js';
import { describeEndpoint } from '../docker/endpoint.js';
import type { EngineApi } from '../docker/engine-api.js';
import { DevkitError, oneLine } from '../errors.js';
import { execCaptured } from '../docker/exec-capture.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentBranch, agentNamespace, agentName, DEVHOME_EXCLUDES } from '../fleet/layout.js';
import { agentOwner } from '../fleet/owner.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { refsUnder } from '../git/repo.js';
import { withAgentVolumes } from './volume-helper.js';
import { agentVolumeLabels, agentVolumes } from './project-names.js';

/**
 * Agent K's copy on an engine that cannot see the dev root: a clone in a
 * volume, seeded once from the shared repo with a git bundle of its
 * branches sent through the Engine API (an exec's stdin: no network, no
 * registry), on branch agentK/main like a local copy; its HOME in a second
 * volume gets the .gitconfig and .ssh a local HOME gets. devkit remembers
 * which volume it seeded (by a random id it labels the volume with), so each
 * up asks the engine one question; a volume made again (deleted by hand) is
 * seeded again.
 */

/** The label holding the id devkit gave a copy's volume when it made it. */
const COPY_ID_LABEL = 'devkit.copy-id';

/**
 * Which copy volume this is. Not its CreatedAt: the engine reports the
 * mtime of the volume's folder there, which moves as files come and go at
 * the top of the copy. A volume made before the label falls back to it.
 */
function copyId(volume: { CreatedAt: string; Labels: Record<string, string> | null }): string {
  return volume.Labels?.[COPY_ID_LABEL] ?? volume.CreatedAt;
}

/** Run as the agent in the helper container: makes the HOME and the clone unless they are there. Never overwrites a file. */
const SEED_SCRIPT = `set -euf
home=/workspace/.devhome
if [ -z "$(ls -A "$home")" ]; then
  mkdir -m 700 "$home/.ssh"
  printf '%s' "$DEVKIT_GITCONFIG" > "$home/.gitconfig"
fi
cd /workspace
if [ -e .git ]; then cat > /dev/null; echo present; exit 0; fi
rm -rf .devkit-seed
if [ -n "$(ls -A | grep -vx .devhome)" ]; then echo "/workspace holds files but no .git: devkit seeds only an empty copy" >&2; exit 3; fi
cat > /tmp/seed.bundle
# Made beside it and renamed into place: a seed cut short leaves no .git that looks whole.
git init -q -b "$DEVKIT_BRANCH" .devkit-seed
git -C .devkit-seed fetch -q --no-tags --update-head-ok /tmp/seed.bundle "+refs/heads/$DEVKIT_NAMESPACE*:refs/heads/$DEVKIT_NAMESPACE*"
for pattern in $DEVKIT_EXCLUDES; do printf '%s\\n' "$pattern" >> .devkit-seed/.git/info/exclude; done
mv .devkit-seed/.git .git
rmdir .devkit-seed
git reset -q --hard
echo seeded
`;

export function seedMarker(fleet: Fleet, index: number): string {
  return path.join(fleet.state.dir, 'remote', `${agentName(index)}.seeded`);
}

function readMarker(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** A bundle of agent K's branches in the shared repo, in devkit's temp folder. */
async function bundleBranches(fleet: Fleet, index: number): Promise<Buffer> {
  const refs = [...(await refsUnder(fleet.shared.git, agentNamespace(index))).keys()];
  if (!refs.includes(`refs/heads/${agentBranch(index)}`))
    throw new DevkitError(
      `the shared repo has no branch ${agentBranch(index)}: make agent ${index} again with devkit worktrees init ${index}`,
    );
  const file = path.join(fleet.state.tmpDir, `seed-${agentName(index)}-${process.pid}.bundle`);
  try {
    await fleet.shared.git.run(['bundle', 'create', '--quiet', file, ...refs]);
    return readFileSync(file);
  } finally {
    rmSync(file, { force: true });
  }
}

/** Makes agent K's copy and HOME volumes on `api`'s engine and seeds them, unless devkit did already. The caller holds the fleet lock. */
export async function ensureRemoteCopy(
  fleet: Fleet,
  index: number,
  api: EngineApi,
  options: { image: string; io: Io },
): Promise<'present' | 'seeded'> {
  const volumes = agentVolumes(fleet.config, index);
  const marker = seedMarker(fleet, index);
  const [copy, home] = await Promise.all([api.inspectVolume(volumes.copy), api.inspectVolume(volumes.home)]);
  if (copy !== null && home !== null && readMarker(marker) === copyId(copy)) return 'present';
  await api.createVolume(volumes.copy, { ...agentVolumeLabels(fleet.config, index, 'copy'), [COPY_ID_LABEL]: randomUUID() });
  await api.createVolume(volumes.home, agentVolumeLabels(fleet.config, index, 'home'));
  options.io.log(`devkit: seeding agent ${index}'s copy on ${describeEndpoint(api.endpoint)}`);
  const owner = agentOwner();
  const identity = agentGitIdentity(fleet.config.git, await hostGitIdentity(fleet.git), index);
  const bundle = await bundleBranches(fleet, index);
  await withAgentVolumes(api, { config: fleet.config, index, image: options.image, capAdd: ['CHOWN', 'FOWNER'] }, async (id) => {
    // New volumes belong to root: the agent's uid gets them (only their tops; nothing in them is followed).
    const chown = await execCaptured(
      api,
      await api.createExec(id, {
        Cmd: ['sh', '-c', `chmod 700 /workspace/.devhome && chown ${owner.uid}:${owner.gid} /workspace /workspace/.devhome`],
        Env: [],
        WorkingDir: '/',
        User: '0:0',
        Tty: false,
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
    if (chown.code !== 0) throw new DevkitError(`cannot give agent ${index}'s volumes to its uid: ${oneLine(chown.stderr)}`);
    const seeded = await execCaptured(
      api,
      await api.createExec(id, {
        Cmd: ['sh', '-c', SEED_SCRIPT],
        Env: [
          'HOME=/workspace/.devhome',
          `DEVKIT_GITCONFIG=${initialGitconfig(identity)}`,
          `DEVKIT_BRANCH=${agentBranch(index)}`,
          `DEVKIT_NAMESPACE=${agentNamespace(index).slice('refs/heads/'.length)}`,
          `DEVKIT_EXCLUDES=${DEVHOME_EXCLUDES.join(' ')}`,
        ],
        WorkingDir: '/workspace',
        User: `${owner.uid}:${owner.gid}`,
        Tty: false,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
      }),
      bundle,
    );
    if (seeded.code !== 0)
      throw new DevkitError(
        `cannot seed agent ${index}'s copy in volume ${volumes.copy}: ${oneLine(seeded.stderr) || `exit ${seeded.code}`}`,
      );
  });
  const made = await api.inspectVolume(volumes.copy);
  mkdirSync(path.dirname(marker), { recursive: true, mode: 0o700 });
  if (made !== null) writeFileAtomic(marker, copyId(made));
  return 'seeded';
}
