#!/usr/bin/env bash
# ferry's CI: installs its dependencies, then runs, in order and stopping at the
# first failure:
#   1. format check (clang-format-14) of every tracked *.h / *.cc
#   2. clock/sleep check: library code never reads a real clock or sleeps
#   3. RelWithDebInfo build with -Werror (build/ci) and every ctest label
#   4. ASan+UBSan (build/asan) and TSan (build/tsan) builds and their tests;
#      the libFuzzer targets built with clang (build/fuzz), each run briefly
#   5. install test: examples/ built as a separate project against the
#      installed package, and a program linked with pkg-config flags
#   6. shared-library build: only ferry symbols are exported
#
# Environment:
#   FERRY_TEST_QUICK=1  skip the sanitizer builds (step 4), for local iteration
#   FERRY_JOBS=<n>      parallel compile jobs (default: Ninja's choice)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=${FERRY_TEST_QUICK:-0}
CURRENT="setup"
RESULTS=()
SECTION_START=$SECONDS

section() {
  CURRENT=$1
  SECTION_START=$SECONDS
  printf '\n==================== %s ====================\n' "$CURRENT"
}
passed() {
  RESULTS+=("$(printf '%-34s ok   (%ds)%s' "$CURRENT" $((SECONDS - SECTION_START)) "${1:+  $1}")")
}
PREFIX=""
on_exit() {
  local rc=$?
  if [ -n "$PREFIX" ]; then rm -rf "$PREFIX"; fi
  printf '\n==================== summary ====================\n'
  local r
  for r in "${RESULTS[@]}"; do echo "$r"; done
  if [ "$rc" -ne 0 ]; then
    printf '%-34s FAILED (exit %d)\n' "$CURRENT" "$rc"
    echo "test.sh: FAILED in section: $CURRENT"
  else
    echo "test.sh: all checks passed in $((SECONDS / 60))m$((SECONDS % 60))s"
  fi
  exit "$rc"
}
trap on_exit EXIT

# Files of the source tree: tracked files when this is a git checkout.
list_files() {
  if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$ROOT" ls-files -- "$@"
  else
    local args=() p
    for p in "$@"; do args+=(-o -path "./$p"); done
    find . -type f \( -false "${args[@]}" \) -not -path './build*' | sed 's|^\./||' | sort
  fi | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done
}

section "dependencies"
./scripts/install-deps.sh
# The JavaScript client tests' npm packages, as pinned in their lock file.
(cd tests/clients/js && npm ci --no-audit --no-fund)
passed

CMAKE_COMMON=(-G Ninja)
if command -v ccache >/dev/null 2>&1; then
  CMAKE_COMMON+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Relative paths in the cache: a fresh clone elsewhere reuses the objects.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
fi
BUILD_JOBS=()
if [ -n "${FERRY_JOBS:-}" ]; then BUILD_JOBS=(-j "$FERRY_JOBS"); fi

# ---------------------------------------------------------------------------
section "1. format (clang-format-14)"
mapfile -t sources < <(list_files '*.h' '*.cc')
if [ ${#sources[@]} -eq 0 ]; then
  echo "no *.h / *.cc files tracked yet"
else
  echo "checking ${#sources[@]} files"
  if ! format_errors=$(clang-format-14 --dry-run -Werror "${sources[@]}" 2>&1); then
    mapfile -t unformatted < <(printf '%s\n' "$format_errors" |
      sed -nE 's/^(.+):[0-9]+:[0-9]+: (error|warning): .*/\1/p' | sort -u)
    if [ ${#unformatted[@]} -eq 0 ]; then
      printf '%s\n' "$format_errors"
      exit 1
    fi
    echo "${#unformatted[@]} file(s) are not clang-formatted (.clang-format):"
    printf '  %s\n' "${unformatted[@]}"
    echo "--- required changes (first 200 lines):"
    for f in "${unformatted[@]}"; do
      clang-format-14 "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - || true
    done | head -200 || true
    echo "--- fix with: clang-format-14 -i ${unformatted[*]}"
    exit 1
  fi
fi
passed "${#sources[@]} files"

# ---------------------------------------------------------------------------
section "2. clock/sleep check"
# Time comes from the broker's ferry::Clock. Only core/src/real_clock.cc may
# read the real clock or wait on it, plus the test double ManualClock, whose
# waits poll simulated time in short real-time slices (its simulated time never
# reads the real clock).
CLOCK_PATTERN='absl::Now\(\)|system_clock::now|steady_clock::now|high_resolution_clock::now|sleep_for|sleep_until|usleep\(|nanosleep|std::time\(|gettimeofday'
CLOCK_ALLOWED=(core/src/real_clock.cc core/src/testing/manual_clock.cc)
mapfile -t lib_sources < <(list_files 'core/*' 'backends/*' 'gateway/*' 'tools/*' |
  grep -E '\.(h|hh|hpp|c|cc|cpp|cxx|inc)$' |
  grep -vxF -f <(printf '%s\n' "${CLOCK_ALLOWED[@]}") || true)
echo "scanning ${#lib_sources[@]} library files (core/ backends/ gateway/ tools/)"
if [ ${#lib_sources[@]} -gt 0 ]; then
  if hits=$(grep -nE "$CLOCK_PATTERN" "${lib_sources[@]}" /dev/null); then
    echo "Library code reads a real clock or sleeps; use the broker's ferry::Clock"
    echo "(only ${CLOCK_ALLOWED[*]} may do this):"
    echo "$hits"
    exit 1
  fi
fi
passed "${#lib_sources[@]} files"

# ---------------------------------------------------------------------------
section "3. build + all tests (RelWithDebInfo, -Werror, build/ci)"
# -g1 (line tables) instead of -g: test failures still get file:line
# backtraces, and the build takes about half the time.
cmake -S . -B build/ci "${CMAKE_COMMON[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  -DFERRY_WERROR=ON -DFERRY_SANITIZE= -DBUILD_SHARED_LIBS=OFF \
  -DFERRY_BUILD_TESTS=ON -DFERRY_BUILD_BENCHMARKS=ON -DFERRY_BUILD_EXAMPLES=ON \
  -DFERRY_BUILD_TOOLS=ON -DFERRY_INSTALL=ON
cmake --build build/ci "${BUILD_JOBS[@]}"
ctest --test-dir build/ci --output-on-failure --no-tests=error -j2 | tee build/ci/ctest.log
ci_summary=$(grep -E 'tests passed' build/ci/ctest.log | tail -1)
passed "$ci_summary"

# ---------------------------------------------------------------------------
if [ "$QUICK" = "1" ]; then
  section "4. sanitizers"
  echo "skipped (FERRY_TEST_QUICK=1)"
  RESULTS+=("$(printf '%-34s SKIPPED (FERRY_TEST_QUICK=1)' "$CURRENT")")
else
  # Debug (assertions on) with line tables only. ASan+UBSan at -O0: UBSan's
  # instrumentation makes -O1 compile about twice as slowly. TSan at -O1, which
  # keeps the stress tests fast enough.
  SAN_COMMON=("${CMAKE_COMMON[@]}" -DCMAKE_BUILD_TYPE=Debug
    -DFERRY_WERROR=OFF -DBUILD_SHARED_LIBS=OFF -DFERRY_BUILD_TESTS=ON
    -DFERRY_BUILD_BENCHMARKS=OFF -DFERRY_BUILD_EXAMPLES=OFF -DFERRY_BUILD_TOOLS=OFF
    -DFERRY_INSTALL=OFF)

  section "4a. ASan+UBSan (build/asan)"
  cmake -S . -B build/asan "${SAN_COMMON[@]}" "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" \
    "-DFERRY_SANITIZE=address;undefined"
  cmake --build build/asan "${BUILD_JOBS[@]}"
  # The crash and power-loss tests with fewer kills and cuts than in step 3:
  # each kill reopens a database, which is slow at -O0 under ASan.
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    FERRY_CRASH_KILLS=25 FERRY_POWER_CUTS=10 \
    ctest --test-dir build/asan -L 'unit|conformance|stress|gateway|crash' \
      --output-on-failure \
      --no-tests=error -j2 | tee build/asan/ctest.log
  passed "$(grep -E 'tests passed' build/asan/ctest.log | tail -1)"

  section "4b. TSan (build/tsan)"
  cmake -S . -B build/tsan "${SAN_COMMON[@]}" "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" \
    -DFERRY_SANITIZE=thread
  # Only the test directories TSan runs. A stress-labelled test elsewhere
  # would show up below as <name>_NOT_BUILT and fail.
  mapfile -t tsan_targets < <(ninja -C build/tsan -t targets all |
    sed -nE 's#^(tests/(conformance|stress|gateway|backends/[^/]+)/all):.*#\1#p')
  if [ ${#tsan_targets[@]} -gt 0 ]; then
    echo "building: ${tsan_targets[*]}"
    cmake --build build/tsan "${BUILD_JOBS[@]}" --target "${tsan_targets[@]}"
  else
    cmake --build build/tsan "${BUILD_JOBS[@]}"
  fi
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan-suppressions.txt"
  # The conformance cases on the PersistentFake backend are left out here:
  # the fake is test code behind one mutex, so TSan learns nothing from them
  # that the memory and RocksDB cases do not show, and they are a third of
  # the conformance time. Steps 3 and 4a run them.
  ctest --test-dir build/tsan -L 'conformance|stress|gateway' -E '/PersistentFake' \
    --output-on-failure --no-tests=error -j2 | tee build/tsan/ctest.log
  tsan_summary="conformance (memory, RocksDB)+stress+gateway: $(grep -E 'tests passed' build/tsan/ctest.log | tail -1)"
  # Unit tests of each backend (tests/backends/<name>) that the labels above
  # did not already run.
  for dir in build/tsan/tests/backends/*/; do
    [ -f "$dir/CTestTestfile.cmake" ] || continue
    name=$(basename "$dir")
    echo "--- unit tests of backend '$name' under TSan"
    ctest --test-dir "$dir" -L unit -LE 'conformance|stress' --output-on-failure \
      --no-tests=ignore -j2 | tee "build/tsan/ctest-backend-$name.log"
    tsan_summary+="; $name unit: $(grep -E 'tests passed' \
      "build/tsan/ctest-backend-$name.log" | tail -1 || true)"
  done
  unset TSAN_OPTIONS
  passed "$tsan_summary"

  section "4c. libFuzzer targets (clang-14, build/fuzz)"
  # The fuzz targets exist only in clang builds; building them also compiles
  # the libraries they link with clang and -Werror.
  cmake -S . -B build/fuzz "${CMAKE_COMMON[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    -DFERRY_WERROR=ON -DFERRY_SANITIZE= -DBUILD_SHARED_LIBS=OFF \
    -DFERRY_BUILD_TESTS=ON -DFERRY_BUILD_BENCHMARKS=OFF -DFERRY_BUILD_EXAMPLES=OFF \
    -DFERRY_BUILD_TOOLS=OFF -DFERRY_INSTALL=OFF
  mapfile -t fuzz_targets < <(ninja -C build/fuzz -t targets all |
    sed -nE 's#^([a-z0-9_]+_fuzzer): .*#\1#p' | grep -v '^cmake_' | sort -u)
  [ ${#fuzz_targets[@]} -gt 0 ] || { echo "no *_fuzzer targets in a clang build"; exit 1; }
  echo "building: ${fuzz_targets[*]}"
  cmake --build build/fuzz "${BUILD_JOBS[@]}" --target "${fuzz_targets[@]}"
  ctest --test-dir build/fuzz -R '_fuzzer$' --output-on-failure --no-tests=error \
    -j2 | tee build/fuzz/ctest.log
  passed "${fuzz_targets[*]}: $(grep -E 'tests passed' build/fuzz/ctest.log | tail -1)"
fi

# ---------------------------------------------------------------------------
section "5. install test (find_package + pkg-config)"
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/ferry-install.XXXXXX")  # removed on exit
cmake --install build/ci --prefix "$PREFIX"

echo "--- examples/ as a separate project against $PREFIX"
rm -rf build/install-test
cmake -S examples -B build/install-test "${CMAKE_COMMON[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$PREFIX"
cmake --build build/install-test "${BUILD_JOBS[@]}"
example_summary="examples: none defined"
if ctest --test-dir build/install-test -N | grep -qE 'Total Tests: [1-9]'; then
  ctest --test-dir build/install-test --output-on-failure -j2 | tee build/install-test/ctest.log
  example_summary="examples: $(grep -E 'tests passed' build/install-test/ctest.log | tail -1)"
fi

echo "--- pkg-config"
pc_file=$(find "$PREFIX" -name ferry.pc -print -quit)
[ -n "$pc_file" ] || { echo "ferry.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc_file")
echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH pkg-config --cflags --libs ferry"
pc_flags=$(pkg-config --cflags --libs ferry)
echo "$pc_flags"
mkdir -p build/install-test/pkgconfig
cat > build/install-test/pkgconfig/pc_test.cc <<'CC'
#include "ferry/clock.h"
#include "ferry/memory_backend.h"

int main() {
  (void)ferry::Clock::Real().Now();
  return ferry::NewMemoryBackend() != nullptr ? 0 : 1;
}
CC
# shellcheck disable=SC2086  # pc_flags is a list of flags
c++ -std=c++20 build/install-test/pkgconfig/pc_test.cc -o build/install-test/pkgconfig/pc_test \
  $pc_flags
build/install-test/pkgconfig/pc_test
unset PKG_CONFIG_PATH
echo "a program compiled with \`pkg-config --cflags --libs ferry\` links and runs"
passed "$example_summary; pkg-config ok"

# ---------------------------------------------------------------------------
section "6. shared libraries export only ferry symbols (build/shared)"
cmake -S . -B build/shared "${CMAKE_COMMON[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=ON -DFERRY_WERROR=ON -DFERRY_SANITIZE= \
  -DFERRY_BUILD_TESTS=OFF -DFERRY_BUILD_BENCHMARKS=OFF -DFERRY_BUILD_EXAMPLES=OFF \
  -DFERRY_BUILD_TOOLS=OFF
# Every ferry library of this build (rocksdb and gateway when enabled).
mapfile -t shared_libs < <(ninja -C build/shared -t targets all |
  sed -nE 's#^(ferry_(core|memory|rocksdb|gateway)): .*#\1#p' | sort -u)
echo "building: ${shared_libs[*]}"
cmake --build build/shared "${BUILD_JOBS[@]}" --target "${shared_libs[@]}"
# Allowed (mangled): entities in namespace ferry or ferry_testing, including
# their vtables (_ZTV), typeinfo (_ZTI, _ZTS), VTTs, construction vtables,
# guard variables, TLS wrappers, thunks and function-local statics.
ALLOWED='^_Z(T[VISTC]|GV|TH|TW|Thn?[0-9]+_|Tvn?[0-9]+_n?[0-9]+_)?Z?N[rVKRO]*(5ferry|13ferry_testing)'
bad=0
mapfile -t so_files < <(find build/shared -name 'libferry_*.so' | sort)
[ ${#so_files[@]} -eq ${#shared_libs[@]} ] || {
  echo "expected ${#shared_libs[@]} shared libraries, found: ${so_files[*]}"
  exit 1
}
for lib in "${so_files[@]}"; do
  exported=$(nm -D --defined-only "$lib" | awk '{print $NF}')
  count=$(printf '%s\n' "$exported" | grep -c . || true)
  offenders=$(printf '%s\n' "$exported" | grep -v '^$' | grep -vE "$ALLOWED" || true)
  if [ -n "$offenders" ]; then
    echo "$lib exports symbols outside namespaces ferry / ferry_testing:"
    printf '%s\n' "$offenders" | c++filt | sed 's/^/  /'
    bad=1
  else
    echo "$lib: $count exported symbols, all in ferry / ferry_testing"
  fi
done
[ "$bad" -eq 0 ]
passed
