#!/usr/bin/env bash
# The main job, end to end: sets devkit up, makes a sample repo (or clones the
# one given with --repo PATH), gives three agents their own worktrees and HOMEs,
# lets two of them work, shows the state, removes an agent without losing its
# work, and cleans up. Pass --keep to keep the dev root for a look around.
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

base=$(mktemp -d "${TMPDIR:-/tmp}/devkit-demo-XXXXXX")
[ "$keep" = 1 ] || trap 'rm -rf "$base"' EXIT
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

step "three agents: agent 1 is the primary clone, agents 2 and 3 get worktrees"
devkit worktrees init 3

step "agent 2 commits on its branch; agent 3 leaves an untracked file"
echo "fix from agent 2" > "$base/dev/agent2/sample/FIX.md"
git -C "$base/dev/agent2/sample" add FIX.md && git -C "$base/dev/agent2/sample" commit -qm "agent 2's fix"
echo "notes" > "$base/dev/agent3/sample/NOTES.md"
devkit worktrees list

step "what agent 2 sees about itself (for a status line)"
(cd "$base/dev/agent2/sample" && devkit worktrees session)

step "removing agent 3 is refused: it holds work found nowhere else"
if devkit worktrees remove 3; then echo "demo: expected a refusal" >&2; exit 1; fi

step "with --force its work is saved to a ref first"
devkit worktrees remove 3 --force
git -C "$base/dev/sample" for-each-ref refs/devkit/backup

step "nothing orphaned"
devkit worktrees prune
step "done"
[ "$keep" = 1 ] && echo "kept $base" >&2 || true
