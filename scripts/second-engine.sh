#!/usr/bin/env bash
# A second Docker engine on this machine, for tests of remote engines: a
# dockerd in a network namespace of its own, reached only over TCP, with
# everything it keeps under DIR (see ../shared/docs/real-docker-here.md,
# "A second, remote engine for tests"). Needs root.
#   scripts/second-engine.sh start DIR    makes the namespace and veth if missing, starts dockerd,
#                                         waits until it answers, prints its host (tcp://ADDR:2375)
#   scripts/second-engine.sh stop DIR     stops dockerd; keeps DIR/data, the namespace and the veth,
#                                         so start DIR brings the same engine back
#   scripts/second-engine.sh destroy DIR  stops it and removes the namespace, the veth and DIR
#   scripts/second-engine.sh exec DIR CMD...  runs CMD in its namespace (a test's service on the
#                                         engine's own loopback, where the engine finds it)
# Several can run at once: the names come from DIR, and each gets a /30 of
# 10.231.0.0/16 that no route uses. Progress goes to stderr.
set -euo pipefail
log() { echo "second-engine: $*" >&2; }
die() {
  log "$*"
  exit 1
}

usage() {
  echo "usage: $0 start|stop|destroy DIR, or $0 exec DIR CMD..." >&2
  exit 2
}
[ $# = 2 ] || { [ $# -gt 2 ] && [ "$1" = exec ]; } || usage
command=$1
[ "$(id -u)" = 0 ] || die "needs root (ip netns, dockerd)"
dir=$(realpath -m -- "$2")
case "$dir" in /) die "DIR must not be /" ;; esac

# Names from DIR: two engines in two folders never share them (interface names are at most 15 characters).
id=$(printf %s "$dir" | sha256sum | cut -c1-8)
ns=devkit-e2-$id
host_if=dk2h$id
ns_if=dk2n$id
# Its containers' cgroups, apart from the main engine's "docker" ones, so destroy can find what a killed one left.
cgroup=devkit-e2-$id
state=$dir/network.env
pid_file=$dir/dockerd.pid
log_file=$dir/dockerd.log
port=2375
# The main engine keeps 172.17.0.0/12 and 192.168.0.0/16 for its networks; these /30s come from elsewhere.
pool_base=$(((10 << 24) | (231 << 16)))
pool_size=16384 # /30s in a /16

ip_to_int() {
  local a b c d
  IFS=. read -r a b c d <<<"$1"
  echo $(((a << 24) | (b << 16) | (c << 8) | d))
}
int_to_ip() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

# Every IPv4 prefix a route of any table uses, as "start end" integers.
used_ranges() {
  ip -4 -o route show table all | while read -r first second _; do
    local prefix=$first
    case "$first" in
      default) continue ;;
      local | broadcast | unicast | multicast | anycast | blackhole | unreachable | prohibit | throw | nat) prefix=$second ;;
    esac
    [ "$prefix" = default ] && continue
    local address=${prefix%/*} bits=32
    [ "$prefix" != "$address" ] && bits=${prefix#*/}
    local start size
    start=$(ip_to_int "$address")
    size=$((1 << (32 - bits)))
    start=$((start - start % size))
    echo "$start $((start + size - 1))"
  done
}

# A /30 of the pool that overlaps no route, starting from one derived from DIR; prints its first address.
free_subnet() {
  local ranges first index start end overlaps lo hi
  ranges=$(used_ranges)
  first=$((16#$id % pool_size))
  for ((n = 0; n < pool_size; n++)); do
    index=$(((first + n) % pool_size))
    start=$((pool_base + index * 4))
    end=$((start + 3))
    overlaps=0
    while read -r lo hi; do
      [ -n "$lo" ] || continue
      if ((lo <= end && hi >= start)); then
        overlaps=1
        break
      fi
    done <<<"$ranges"
    if [ "$overlaps" = 0 ]; then
      echo "$start"
      return
    fi
  done
  die "no free /30 left in 10.231.0.0/16"
}

has_namespace() { [ -e "/run/netns/$ns" ]; }
has_link() { ip link show "$host_if" >/dev/null 2>&1; }

# The namespace and the veth pair, with the addresses DIR already has, or a new free /30 (under a lock, so
# two starts at once do not take the same one).
make_network() {
  mkdir -p "$dir"
  exec 9>/run/lock/devkit-second-engine.lock
  flock 9
  if [ -f "$state" ] && has_namespace && has_link; then
    exec 9>&-
    return
  fi
  if [ ! -f "$state" ]; then
    local start
    start=$(free_subnet)
    printf 'host_addr=%s\nns_addr=%s\n' "$(int_to_ip $((start + 1)))" "$(int_to_ip $((start + 2)))" >"$state"
  fi
  # shellcheck source=/dev/null
  . "$state"
  has_link && ip link del "$host_if"
  has_namespace || ip netns add "$ns"
  ip link add "$host_if" type veth peer name "$ns_if"
  ip link set "$ns_if" netns "$ns"
  ip addr add "$host_addr/30" dev "$host_if"
  ip link set "$host_if" up
  ip -n "$ns" addr add "$ns_addr/30" dev "$ns_if"
  ip -n "$ns" link set "$ns_if" up
  ip -n "$ns" link set lo up
  exec 9>&-
}

running_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid=$(cat "$pid_file")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

answers() { docker -H "tcp://$ns_addr:$port" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
  make_network
  # shellcheck source=/dev/null
  . "$state"
  local pid
  if pid=$(running_pid); then
    wait_for_answer "$pid"
    return
  fi
  mkdir -p "$dir/data" "$dir/exec"
  # Its own daemon.json (not /etc/docker's) and its own key: the engine ID in GET /info comes from that key,
  # which would otherwise be /etc/docker/key.json, the main engine's.
  printf '{ "deprecated-key-path": "%s/key.json" }\n' "$dir" >"$dir/daemon.json"
  log "starting dockerd in namespace $ns on tcp://$ns_addr:$port (log: $log_file)"
  # nsenter, not ip netns exec: that one remounts /sys, and dockerd then finds no devices cgroup. Only a TCP
  # socket (no unix one a test could reach by accident); containerd's sockets live under DIR/exec.
  # --tls=false: without it, dockerd 20.10 sleeps 15 s to warn about a plain TCP socket.
  nsenter "--net=/run/netns/$ns" setsid dockerd \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --pidfile "$pid_file" \
    --cgroup-parent "$cgroup" \
    --host "tcp://$ns_addr:$port" \
    --tls=false \
    </dev/null >>"$log_file" 2>&1 &
  wait_for_answer $!
}

# Waits until dockerd (pid) answers and prints its host; fails with the end of its log.
wait_for_answer() {
  local launched=$1
  for _ in $(seq 1 180); do
    if answers; then
      echo "tcp://$ns_addr:$port"
      return
    fi
    if ! kill -0 "$launched" 2>/dev/null; then
      log "dockerd exited before answering; $log_file ends with:"
      tail -20 "$log_file" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  log "dockerd did not answer on tcp://$ns_addr:$port within 90 s; $log_file ends with:"
  tail -20 "$log_file" >&2 || true
  kill "$launched" 2>/dev/null || true
  exit 1
}

# Waits until a process has ended: up to `tries` checks, `interval` seconds apart. Fails when it still runs.
wait_gone() {
  local pid=$1 tries=$2 interval=$3
  for _ in $(seq 1 "$tries"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep "$interval"
  done
  return 1
}

# Sends TERM to a process, waits up to `seconds` for it to end, then KILL.
end_process() {
  local pid=$1 seconds=$2
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_gone "$pid" $((seconds * 2)) 0.5 && return 0
  log "pid $pid did not end within $seconds s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 20 0.25 || true
}

stop() {
  local pid
  if pid=$(running_pid); then
    log "stopping dockerd (pid $pid)"
    end_process "$pid" 30
  fi
  rm -f "$pid_file"
  # The containerd dockerd started outlives it when dockerd was killed.
  local containerd_pid=$dir/exec/containerd/containerd.pid
  if [ -f "$containerd_pid" ]; then
    pid=$(cat "$containerd_pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then end_process "$pid" 10; fi
  fi
}

# A process and everything it started, children first.
kill_tree() {
  local child
  for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
  # Gone before its cgroup and mounts are removed.
  wait_gone "$1" 50 0.1 || true
}

destroy() {
  stop
  # Container shims (and their containers) left by a dockerd that was killed: found by this engine's own
  # containerd socket, which no other process names.
  local shim
  for shim in $(pgrep -f -- "$dir/exec/containerd/containerd.sock" || true); do kill_tree "$shim"; done
  local target
  findmnt -rn -o TARGET | awk -v under="$dir/" 'index($0, under) == 1' | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target"
  done
  local group
  for group in /sys/fs/cgroup/*/"$cgroup"; do
    [ -d "$group" ] && find "$group" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  if has_link; then ip link del "$host_if"; fi
  if has_namespace; then ip netns del "$ns"; fi
  rm -rf -- "$dir"
  log "destroyed the engine of $dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  destroy) destroy ;;
  exec)
    has_namespace || die "no namespace $ns: start DIR first"
    shift 2
    exec nsenter "--net=/run/netns/$ns" -- "$@"
    ;;
  *) usage ;;
esac
