#!/usr/bin/env bash
# Installs everything ferry needs to build, test and run its demo on Debian 12.
# Idempotent: when every package is already installed it does nothing (and does
# not touch the network). Runs as root, or through sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  clang-14 clang-format-14 libclang-rt-14-dev
  libabsl-dev libconcurrentqueue-dev librocksdb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libssl-dev ca-certificates
  libboost-dev libnghttp2-dev
  python3-boto3 awscli
  redis-server libhiredis-dev libsqlite3-dev gnuplot-nox wrk
)
# Node.js and npm for the JavaScript client tests (tests/clients/js). A
# Node.js that bundles its own npm (another distribution's nodejs package,
# which conflicts with Debian's npm) is kept as it is.
PACKAGES+=(nodejs)
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(npm)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=(env)
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo env)
else
  echo "install-deps: not root and sudo is not available; install as root: ${missing[*]}" >&2
  exit 1
fi

"${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${PACKAGES[@]}"
