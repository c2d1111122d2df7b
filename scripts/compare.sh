#!/usr/bin/env bash
# The side-by-side comparison: installs what is missing, builds ferry's
# benchmarks in Release (build/bench), starts a private Redis on loopback, runs
# ferry beside the raw limits (moodycamel, RocksDB, a mutex+condvar handoff)
# and the peers (Redis, SQLite; over HTTP, fauxqs and kinesalite beside
# ferry's gateway), and writes the comparison section of
# bench/RESULTS.md and the plots in bench/plots/.
#   scripts/compare.sh                the full run, RocksDB backlog rows up to
#                                     10M messages included (13.0 min on 2 cores)
#   scripts/compare.sh --skip-ten-million  backlog rows up to 1M (~5 min less)
#   scripts/compare.sh --quick        smoke sizes, to check the pipeline (<1 min)
# Other options: bench/compare.py --help.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# The HTTP peers (fauxqs, kinesalite), the Node.js 20 that fauxqs needs and
# the load client, as pinned in bench/http/package-lock.json.
(cd bench/http && npm ci --no-audit --no-fund)
exec python3 bench/compare.py "$@"
