#!/usr/bin/env bash
# Makes a Docker Engine with Compose v2 available on Debian, as
# ../shared/docs/real-docker-here.md describes: installs what is missing
# (never reinstalls), and starts dockerd when no daemon answers.
#   scripts/docker-engine.sh start   install if needed, start if needed
#   scripts/docker-engine.sh stop    stop the daemon only if this script started it
# Progress goes to stderr.
set -euo pipefail
state_dir=${DEVKIT_DOCKER_STATE:-/var/tmp/devkit-docker}
pid_file=$state_dir/dockerd.pid
log() { echo "docker-engine: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The first URIs: value of the machine's Debian sources (never a hard-coded host).
debian_mirror() {
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$uri" ] || { log "cannot find a Debian mirror in /etc/apt"; exit 1; }
  echo "$uri"
}

install_engine() {
  if command -v dockerd >/dev/null 2>&1; then return; fi
  log "installing Docker Engine (Debian's docker.io)"
  apt_install docker.io
}

# Compose v2 from Debian 13's docker-compose package, unpacked without touching the machine's apt setup.
install_compose_v2() {
  if docker compose version >/dev/null 2>&1; then return; fi
  log "installing Compose v2 (docker-compose from Debian trixie)"
  local work; work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$(debian_mirror)" > "$work/trixie.sources"
  local opts=(-o "Dir::Etc::SourceList=$work/trixie.sources" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  as_root apt-get "${opts[@]}" update -qq
  (cd "$work" && as_root apt-get "${opts[@]}" download docker-compose >/dev/null)
  dpkg -x "$work"/docker-compose_*.deb "$work/x"
  as_root mkdir -p /usr/libexec/docker/cli-plugins
  as_root install -m 0755 "$work/x/usr/libexec/docker/cli-plugins/docker-compose" /usr/libexec/docker/cli-plugins/docker-compose
  rm -rf "$work"
  docker compose version >/dev/null
}

start_daemon() {
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd (log: $state_dir/dockerd.log)"
  as_root mkdir -p "$state_dir"
  as_root sh -c "nohup dockerd >'$state_dir/dockerd.log' 2>&1 & echo \$! > '$pid_file'"
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then return; fi
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; its log ends with:"
  tail -20 "$state_dir/dockerd.log" >&2 || true
  exit 1
}

stop_daemon() {
  [ -f "$pid_file" ] || return 0
  local pid; pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping the dockerd this script started (pid $pid)"
    as_root kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  as_root rm -f "$pid_file"
}

case "${1:-start}" in
  start)
    install_engine
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    start_daemon
    install_compose_v2
    log "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short | sed 's/^/compose /')"
    ;;
  stop) stop_daemon ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
