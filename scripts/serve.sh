#!/usr/bin/env bash
# Builds the `ferry` program (Release, build/release) and runs its main job,
# `ferry serve`: SQS over the AWS wire protocols on an in-memory broker, at
# http://127.0.0.1:4566 unless options say otherwise (`ferry serve --help`).
# Arguments are passed to `ferry serve`; Ctrl-C (SIGINT) or SIGTERM stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCHMARKS=OFF -DFERRY_BUILD_EXAMPLES=OFF \
  -DFERRY_BUILD_TOOLS=ON "${launcher[@]}"
cmake --build build/release --target ferry
echo
exec build/release/tools/ferry serve "$@"
