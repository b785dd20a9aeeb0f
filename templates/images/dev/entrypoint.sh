#!/bin/sh
# The container runs as the agent's uid, which devkit's read-only /etc/passwd names.
exec "$@"
