#!/usr/bin/env bash
# The container registry the tests of `registry:` push to and pull from:
# Debian's docker-registry (distribution 2.8), unpacked from its package
# without installing it (no service, no user, nothing started), as
# docker-engine.sh does for Compose v2. The tests start and stop it
# themselves (test/support/registry.ts).
#   scripts/test-registry.sh install   puts docker-registry in /usr/local/bin unless it is on the PATH
# Progress goes to stderr.
set -euo pipefail
log() { echo "test-registry: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_registry() {
  if command -v docker-registry >/dev/null 2>&1; then return; fi
  log "installing docker-registry (Debian's package, unpacked)"
  local work
  work=$(mktemp -d)
  # apt-get download as root writes as _apt unless the folder is theirs: it is a scratch folder of ours.
  (cd "$work" && as_root apt-get -o APT::Sandbox::User=root download docker-registry >/dev/null 2>&1) || {
    as_root apt-get update -qq
    (cd "$work" && as_root apt-get -o APT::Sandbox::User=root download docker-registry >/dev/null)
  }
  dpkg -x "$work"/docker-registry_*.deb "$work/x"
  as_root install -m 0755 "$work/x/usr/bin/docker-registry" /usr/local/bin/docker-registry
  rm -rf "$work"
  docker-registry --version >/dev/null
}

case "${1:-}" in
  install) install_registry ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
