#!/bin/sh
# devkit: git, with one line saying why when it fails on what devkit keeps
# read-only in here. The shared repo (the primary clone's .git, where every
# agent's branches land) is read-only inside every container: agents commit in
# their own copy, and devkit brings branches under agentK/ into the shared repo
# (devkit status, devkit sync). Agent 1's copy is the primary clone itself, so
# its git can read but not write here.
/usr/bin/git "$@"
status=$?
if [ "$status" -ne 0 ]; then
  gitdir=$(/usr/bin/git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)
  if [ -n "$gitdir" ] && [ -d "$gitdir" ] && [ ! -w "$gitdir" ]; then
    echo "devkit: hint: $gitdir is the shared repo, read-only inside containers: commit in an agent's own copy (agent 2 and up); devkit brings its agentK/ branches in" >&2
  fi
fi
exit "$status"
