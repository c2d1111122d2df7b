#!/usr/bin/env bash
# Runs a command with a private Redis server: an empty, non-persistent
# redis-server on a Unix socket in a fresh directory, passed to the command as
# --redis=unix:PATH. The server is stopped when the command ends. Used by
# ctest's smoke run of peers_benchmark (the comparison runner starts its own
# server on loopback TCP).
#   bench/with_redis.sh COMMAND [ARGS...]
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  echo "with_redis: redis-server is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
dir=$(mktemp -d)
redis-server --port 0 --unixsocket "$dir/redis.sock" --save '' --appendonly no \
  --dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do
  [ -S "$dir/redis.sock" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    cat "$dir/redis.log" >&2
    exit 1
  fi
  sleep 0.05
done
[ -S "$dir/redis.sock" ] || { echo "with_redis: redis-server did not start" >&2; exit 1; }
"$@" "--redis=unix:$dir/redis.sock"
