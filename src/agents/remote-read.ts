import type { EngineApi, ExecSpec } from '../docker/engine-api.js';
import { DevkitError, oneLine } from '../errors.js';
import { ExecOutputTooLarge, execCapturedBytes } from '../docker/exec-capture.js';
import type { Fleet } from '../fleet/fleet.js';
import { agentName, agentNamespace } from '../fleet/layout.js';
import { agentOwner } from '../fleet/owner.js';
import { envNumber } from '../poll.js';
import { withAgentVolumes } from '../stack/volume-helper.js';

/**
 * Reading a remote agent's copy from its engine: its branches, a snapshot
 * commit of its uncommitted work, and git bundles of what the host lacks.
 * git runs as the agent (its own repository, in its own container or in a
 * helper with no network): everything it prints is the agent's word, checked
 * by the caller (ref names, ids, and every object by fsck on the way in).
 */
export interface RemoteCopyRead {
  /** refs/heads/agentK/... to commit, as the copy has them. */
  branches: Map<string, string>;
  /** Its other refs (branches outside agentK/, tags, the stash): named, never brought in. */
  outside: string[];
  /**
   * The commit of its worktree on top of HEAD, .devhome left out: its tracked
   * and untracked files, or (`whole`) every file, ignored ones and nested
   * repositories too.
   */
  snapshot: string;
  /** The objects of `branches` the host lacks, as a bundle; null when there are none. */
  branchBundle: Buffer | null;
  /** The snapshot's own objects (on top of the branches), as a bundle; null when there are none. */
  snapshotBundle: Buffer | null;
}

/**
 * The files of a snapshot for `devkit sync` (status, diff, merge ask often):
 * every tracked and untracked file but ignored ones and the HOME, named by
 * path, on top of a copy of the agent's index. update-index asks no
 * .gitignore (an agent's could un-ignore .devhome).
 */
const WORKTREE_FILES = `[ ! -f .git/index ] || cp .git/index "$GIT_INDEX_FILE"
git -c core.fsmonitor=false ls-files -z --cached --others --exclude-standard -- ':(top)' ':(exclude,top).devhome' |
  git update-index -z --add --remove --stdin
`;

/**
 * The files of a snapshot before the copy is deleted (bash): everything on
 * disk as a local copy's backup has it. No index is trusted (it starts
 * empty, so its flags hide nothing), no exclude file is read (ignored files
 * are work: .env, build output), and each nested repository goes in whole as
 * a tar under .devkit-backup/nested/, its history included (a gitlink would
 * name a commit the host never gets). A tar that fails fails the read
 * (pipefail), so removal refuses rather than keep half a repository.
 */
const EVERY_FILE = `set -o pipefail
git -c core.fsmonitor=false ls-files -z --others -- ':(top)' ':(exclude,top).devhome' > "$tmp/all"
: > "$tmp/files"; : > "$tmp/nested"
while IFS= read -r -d '' path; do
  case $path in */) printf '%s\\0' "\${path%/}" >> "$tmp/nested" ;; *) printf '%s\\0' "$path" >> "$tmp/files" ;; esac
done < "$tmp/all"
git update-index -z --add --stdin < "$tmp/files"
while IFS= read -r -d '' repo; do
  blob=$(tar -C /workspace --one-file-system -cf - -- "$repo" | git hash-object -w --stdin)
  printf '100644 %s\\t.devkit-backup/nested/%s.tar\\0' "$blob" "$repo" | git update-index -z --index-info
done < "$tmp/nested"
`;

/**
 * $1: the script that fills $GIT_INDEX_FILE with the snapshot's files; the
 * rest ($@): commits the host has (its tips of the agent's branches, the
 * last snapshot). The snapshot goes into an index of its own, so the agent's
 * index is untouched; dates and names are fixed, so the same work makes the
 * same commit and is not sent twice. git is told where the repository is:
 * a .git file or core.worktree of the agent's cannot point it elsewhere.
 */
const READ_SCRIPT = `set -euf
cd /workspace
[ -d .git ] || { echo "/workspace has no .git" >&2; exit 3; }
export GIT_DIR=/workspace/.git GIT_WORK_TREE=/workspace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GIT_INDEX_FILE="$tmp/index"
fill=$1; shift
eval "$fill"
tree=$(git write-tree)
parent=$(git rev-parse -q --verify 'HEAD^{commit}' || true)
export GIT_AUTHOR_NAME=devkit GIT_AUTHOR_EMAIL=devkit@localhost GIT_COMMITTER_NAME=devkit GIT_COMMITTER_EMAIL=devkit@localhost
export GIT_AUTHOR_DATE='@0 +0000' GIT_COMMITTER_DATE='@0 +0000'
snap=$(git commit-tree \${parent:+-p "$parent"} -m "devkit sync: $DEVKIT_AGENT's uncommitted work" "$tree")
git update-ref refs/devkit/sync "$snap"
unset GIT_INDEX_FILE
not=""
for id in "$@"; do if git cat-file -e "$id^{commit}" 2>/dev/null; then not="$not ^$id"; fi; done
: > "$tmp/b1"; : > "$tmp/b2"
if [ -n "$(git rev-list -n 1 --branches="$DEVKIT_NAMESPACE*" $not)" ]; then
  git bundle create --quiet "$tmp/b1" --branches="$DEVKIT_NAMESPACE*" $not
fi
if [ -n "$(git rev-list -n 1 refs/devkit/sync --not --branches="$DEVKIT_NAMESPACE*" $not)" ]; then
  git bundle create --quiet "$tmp/b2" refs/devkit/sync --not --branches="$DEVKIT_NAMESPACE*" $not
fi
git for-each-ref --format='%(objectname) %(refname)' refs/ | { grep -v ' refs/devkit/sync$' || true; }
echo "snapshot $snap"
echo "bundles $(wc -c < "$tmp/b1") $(wc -c < "$tmp/b2")"
cat "$tmp/b1" "$tmp/b2"
`;

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** How much a sync takes from an agent's engine at most (DEVKIT_SYNC_MAX_BYTES): 1 GiB, held in memory while it is checked. */
const DEFAULT_SYNC_MAX_BYTES = 1 << 30;
/** A branch name git would take, under the agent's namespace (checked again by git on the way in). */
const SAFE_REF = /^refs\/heads\/[A-Za-z0-9._/-]+$/;

/** Parses what READ_SCRIPT printed; anything out of shape is refused, naming the agent. */
export function parseRemoteRead(index: number, out: Buffer): RemoteCopyRead {
  const bad = (why: string): DevkitError =>
    new DevkitError(`agent ${index}'s copy answered out of shape (${why}): devkit brought nothing in`);
  const branches = new Map<string, string>();
  const outside: string[] = [];
  let snapshot: string | null = null;
  let at = 0;
  for (;;) {
    const end = out.indexOf(0x0a, at);
    if (end < 0 || end - at > 4096) throw bad('a line too long or cut short');
    const line = out.subarray(at, end).toString('utf8');
    at = end + 1;
    const [word = '', second = '', third] = line.split(' ');
    if (word === 'snapshot') {
      if (!OBJECT_ID.test(second)) throw bad('no snapshot commit');
      snapshot = second;
    } else if (word === 'bundles') {
      const [branchBytes, snapshotBytes] = [Number(second), Number(third)];
      const sizesOk = [branchBytes, snapshotBytes].every((n) => Number.isSafeInteger(n) && n >= 0);
      if (snapshot === null || !sizesOk || at + branchBytes + snapshotBytes !== out.length) throw bad('bundle sizes that do not add up');
      const first = out.subarray(at, at + branchBytes);
      const rest = out.subarray(at + branchBytes);
      return { branches, outside, snapshot, branchBundle: first.length > 0 ? first : null, snapshotBundle: rest.length > 0 ? rest : null };
    } else if (!OBJECT_ID.test(word) || !second.startsWith('refs/')) {
      throw bad(`a ref line ${JSON.stringify(line.slice(0, 200))}`);
    } else if (second.startsWith(agentNamespace(index))) {
      if (!SAFE_REF.test(second) || second.includes('..')) throw bad(`a branch named ${JSON.stringify(second.slice(0, 200))}`);
      branches.set(second, word);
    } else {
      outside.push(second.replace(/^refs\/heads\//, ''));
    }
    if (branches.size + outside.length > 10_000) throw bad('more than 10000 refs');
  }
}

/** A running dev container of agent K on `api`'s engine, or null. */
async function runningDev(fleet: Fleet, api: EngineApi, index: number): Promise<string | null> {
  const found = await api.listContainers([
    `devkit.root=${fleet.config.root}`,
    `devkit.agent=${agentName(index)}`,
    'com.docker.compose.service=dev',
  ]);
  return found.find((c) => c.State === 'running')?.Id ?? null;
}

/**
 * Reads agent K's copy on `api`'s engine: in its running dev container, else
 * in a helper container with its volumes (`image` runs it). `known`: commits
 * the host has, so the bundles hold only what is new. `whole`: the snapshot
 * holds every file (EVERY_FILE), read in a helper.
 */
export async function readRemoteCopy(
  fleet: Fleet,
  api: EngineApi,
  request: { index: number; known: readonly string[]; image: string; whole?: boolean },
): Promise<RemoteCopyRead> {
  const { index } = request;
  const whole = request.whole === true;
  const owner = agentOwner();
  const known = request.known.filter((id) => OBJECT_ID.test(id));
  const spec: ExecSpec = {
    Cmd: whole
      ? ['bash', '-c', READ_SCRIPT, 'devkit-sync', EVERY_FILE, ...known]
      : ['sh', '-c', READ_SCRIPT, 'devkit-sync', WORKTREE_FILES, ...known],
    Env: [
      'HOME=/workspace/.devhome',
      `DEVKIT_AGENT=${agentName(index)}`,
      `DEVKIT_NAMESPACE=${agentNamespace(index).slice('refs/heads/'.length)}`,
    ],
    WorkingDir: '/workspace',
    User: `${owner.uid}:${owner.gid}`,
    Tty: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
  };
  const read = async (containerId: string): Promise<RemoteCopyRead> => {
    const limit = envNumber(fleet.env, 'DEVKIT_SYNC_MAX_BYTES', DEFAULT_SYNC_MAX_BYTES);
    const result = await execCapturedBytes(api, await api.createExec(containerId, spec), '', { maxStdoutBytes: limit }).catch(
      (error: unknown) => {
        if (!(error instanceof ExecOutputTooLarge)) throw error;
        throw new DevkitError(
          `agent ${index}'s copy on its engine sent more than ${limit} bytes to sync: nothing was taken ` +
            (whole
              ? '(ignored files such as build output count before a removal: delete what need not be kept in its container, ' +
                'or set DEVKIT_SYNC_MAX_BYTES higher)'
              : '(set DEVKIT_SYNC_MAX_BYTES higher if its new commits are that large)'),
        );
      },
    );
    if (result.code !== 0)
      throw new DevkitError(`cannot read agent ${index}'s copy on its engine: ${oneLine(result.stderr) || `exit ${result.code}`}`);
    return parseRemoteRead(index, result.stdout);
  };
  // A whole read runs in a helper, whose image (devkit's) has bash and tar; removal has stopped the dev container anyway.
  const dev = whole ? null : await runningDev(fleet, api, index);
  if (dev !== null) return read(dev);
  return withAgentVolumes(api, { config: fleet.config, index, image: request.image }, read);
}
