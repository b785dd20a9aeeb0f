#!/bin/sh
# Names the container's user (the host user's uid:gid) so ssh, git and the prompt work.
uid=$(id -u) gid=$(id -g)
getent group "$gid" >/dev/null || echo "devkit:x:$gid:" >> /etc/group
getent passwd "$uid" >/dev/null || echo "devkit:x:$uid:$gid:devkit agent:${HOME:-/workspace}:/bin/bash" >> /etc/passwd
exec "$@"
