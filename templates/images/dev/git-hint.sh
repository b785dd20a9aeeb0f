#!/bin/sh
# devkit: git, with one line saying why when it fails on what devkit keeps
# read-only in here. The shared repo (the primary clone's .git, where every
# agent's branches land) is read-only inside every container: agents commit in
# their own copy, and devkit brings branches under agentK/ into the shared repo
# (devkit status, devkit sync). Agent 1's copy is the primary clone itself, so
# its git can read but not write here.
/usr/bin/git "$@"
status=$?
[ "$status" -eq 0 ] && exit 0
# Find the repository that git used: apply its -C and --git-dir options (those before the command) the same way.
while [ $# -gt 0 ]; do
  case "$1" in
    -C) [ $# -ge 2 ] && cd "$2" 2>/dev/null || exit "$status"; shift 2 ;;
    --git-dir=*) GIT_DIR=${1#--git-dir=}; export GIT_DIR; shift ;;
    --git-dir) [ $# -ge 2 ] || exit "$status"; GIT_DIR=$2; export GIT_DIR; shift 2 ;;
    -c | --namespace | --work-tree | --exec-path | --super-prefix | --config-env) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
gitdir=$(/usr/bin/git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
if [ -n "$gitdir" ] && [ -d "$gitdir" ] && [ ! -w "$gitdir" ]; then
  echo "devkit: hint: $gitdir is the shared repo, read-only inside containers: commit in an agent's own copy (agent 2 and up); devkit brings its agentK/ branches in" >&2
fi
exit "$status"
