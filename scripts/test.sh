#!/usr/bin/env bash
# Sets up everything the tests need and runs every test, then prints one
# closing line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npm run --silent typecheck
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  if (skipped > 0) console.log(`WARNING: ${skipped} test(s) skipped`);
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || echo "0 passed, 1 failed"
exit "$status"
