#!/usr/bin/env bash
# The main job, end to end: sets devkit up (and a Docker engine where none
# runs), makes a sample repo (or clones the one given with --repo PATH), gives
# agents copies and HOMEs of their own, brings agents 2 and 3 up in their own
# containers, shows each working on its own branch inside its container and
# that work reaching the shared repo, removes an agent without losing its
# work, and tears everything down. devkit's state for the demo stays in the
# demo's folder.
# --keep keeps the dev root (and the containers) for a look around.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
repo_src="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) repo_src=${2:?--repo needs a path}; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "demo: unknown argument $1 (use --repo PATH, --keep)" >&2; exit 2 ;;
  esac
done
"$here/scripts/setup.sh"
devkit() { "$here/bin/devkit" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

started_docker=0
docker info >/dev/null 2>&1 || started_docker=1
"$here/scripts/docker-engine.sh" start

base=$(mktemp -d "${TMPDIR:-/tmp}/devkit-demo-XXXXXX")
cleanup() {
  if [ "$keep" = 1 ]; then echo "kept $base (workspace: $base/workspace)" >&2; return; fi
  if [ -f "$base/workspace/devkit.yml" ]; then
    (cd "$base/workspace" && for p in agent2 agent3; do devkit -p "$p" down >/dev/null 2>&1 || true; done)
  fi
  cd "$here" && rm -rf "$base" # leave the folder first: what runs next needs a working directory
  [ "$started_docker" = 0 ] || "$here/scripts/docker-engine.sh" stop
}
trap cleanup EXIT
export DEVKIT_STATE_DIR="$base/state" # outside the dev root, as it must be; the default is ~/.local/state/devkit
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-devkit demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@localhost}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

step "a dev root at $base/dev with a primary clone"
if [ -n "$repo_src" ]; then
  git clone -q "$repo_src" "$base/dev/sample"
else
  mkdir -p "$base/dev/sample/src"
  git -C "$base/dev/sample" init -q -b main
  for i in $(seq 1 50); do echo "object Sample$i" > "$base/dev/sample/src/Sample$i.scala"; done
  git -C "$base/dev/sample" add -A && git -C "$base/dev/sample" commit -qm "sample project"
fi
mkdir "$base/workspace" && cd "$base/workspace"
devkit init --root "$base/dev" --repo sample

step "three agents: agent 1 is the primary clone, agents 2 and 3 get copies of their own (sharing its objects) and HOMEs"
devkit worktrees init 3

step "the stack's images (the first time bootstraps a Debian base: about a minute)"
devkit image build

step "agents 2 and 3 up, each in its own container (started side by side)"
devkit -p agent2 up & devkit -p agent3 up & wait
devkit ps

step "each agent works on its own branch, inside its own container"
for k in 2 3; do
  devkit -p "agent$k" exec-cd "$k" . sh -c "echo \"agent $k was here\" > AGENT$k.md && git add AGENT$k.md && git -c user.name='agent $k' -c user.email=agent$k@localhost commit -qm 'work of agent $k' && echo \"\$DEVKIT_AGENT in \$(pwd) on \$(git rev-parse --abbrev-ref HEAD), HOME=\$HOME: \$(git log -1 --format=%s)\""
done
step "devkit sync brings each agent's branch into the shared repo (status and list do too), checking every object"
devkit sync
git -C "$base/dev/sample" log --format='%D: %s' -1 agent2/main
git -C "$base/dev/sample" log --format='%D: %s' -1 agent3/main
devkit status

step "agent 3 leaves an untracked file; removing it is refused, then done with a backup"
devkit -p agent3 exec-cd 3 . sh -c 'echo notes > NOTES.md'
devkit -p agent3 down
if devkit worktrees remove 3; then echo "demo: expected a refusal" >&2; exit 1; fi
devkit worktrees remove 3 --force
devkit worktrees list

step "done"
