#!/usr/bin/env bash
# Installs devkit's dependencies and builds it: afterwards bin/devkit works.
# Safe to run again; it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 is missing: $2" >&2; exit 1; }; }
need node "install Node.js 20 or later"
need npm "install npm (it comes with Node.js)"
need git "apt-get install -y git"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "setup: Node.js $(node --version) is too old: devkit needs 20 or later" >&2; exit 1; }

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.devkit-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
npm run --silent build
echo "setup: devkit is built; run $(pwd)/bin/devkit --help" >&2
