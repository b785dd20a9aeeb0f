#!/usr/bin/env bash
# Sets up everything the tests need (dependencies, a Docker Engine with
# Compose v2, tmux, zsh, a registry binary) and runs every test, then prints one closing line
# "N passed, N failed, N skipped". A dockerd this script starts, it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

# tmux for tmux-shells, zsh for its completion test.
missing=$(for tool in tmux zsh; do command -v "$tool" >/dev/null 2>&1 || echo "$tool"; done)
if [ -n "$missing" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  trap './scripts/docker-engine.sh stop' EXIT
fi
./scripts/docker-engine.sh start
# The container registry the tests of devkit.yml's registry: run (Debian's docker-registry, unpacked).
./scripts/test-registry.sh install

report=$(mktemp)
before=$(mktemp)
status=0
npm run --silent typecheck
npm run --silent lint
# What is in the temp folder and the engine now: the tests must leave nothing more (scripts/leftovers.mjs).
node scripts/leftovers.mjs snapshot "$before"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
node scripts/leftovers.mjs check "$before" || status=1
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  if (skipped > 0) console.log(`WARNING: ${skipped} test(s) skipped`);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || echo "0 passed, 1 failed"
rm -f "$report" "$before"
exit "$status"
