#!/usr/bin/env bash
# The side-by-side comparison: installs what is missing, builds ferry's
# benchmarks in Release (build/bench), starts a private Redis on loopback, runs
# ferry beside the raw limits (moodycamel, RocksDB, a mutex+condvar handoff)
# and the peers (Redis, SQLite), and writes the comparison section of
# bench/RESULTS.md and the plots in bench/plots/.
#   scripts/compare.sh           the full run (about 15 minutes on 2 cores)
#   scripts/compare.sh --quick   smoke sizes, to check the pipeline (~1 min)
# Other options: bench/compare.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
exec python3 bench/compare.py "$@"
