// What ferry's benchmark programs share besides their flags (bench_flags.h):
// releasing worker threads together and timing them, reporting a message
// rate, and the Google Benchmark part of main.
//
// Thread safety: RunThreads runs `fn` concurrently on its threads; the rest
// is called from the benchmark's own thread.
// Errors: none; RunBenchmarks returns the process exit code.
#ifndef FERRY_BENCH_BENCH_SUPPORT_H_
#define FERRY_BENCH_BENCH_SUPPORT_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench_flags.h"
#include "benchmark/benchmark.h"

namespace ferry::bench {

// Runs fn(thread_index) on `threads` threads released together; returns the
// seconds from the release to the last one finishing (thread start-up is not
// timed).
template <typename Fn>
double RunThreads(int threads, Fn fn) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      fn(t);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// A wall-clock budget for loops bounded by a message count, so that a slow
// disk (fsyncs of milliseconds on a busy VM) bounds a benchmark's duration
// rather than stretching it: a loop stops at its count or when the budget
// is spent, whichever comes first, and reports what it did.
class TimeBudget {
 public:
  explicit TimeBudget(double seconds)
      : end_(std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                 std::chrono::duration<double>(seconds))) {}
  bool Spent() const { return std::chrono::steady_clock::now() >= end_; }

 private:
  std::chrono::steady_clock::time_point end_;
};

// Records one manually timed iteration that moved `messages` in `seconds`:
// the `msgs_per_s` counter the comparison runner reads.
inline void ReportMessages(benchmark::State& state, int64_t messages,
                           double seconds) {
  state.SetIterationTime(seconds);
  state.counters["msgs_per_s"] = static_cast<double>(messages) / seconds;
  state.SetItemsProcessed(messages);
}

// The --max-seconds=S flag: the TimeBudget of each fsync-bound run; sets
// *seconds (0 until the flag is given: the caller's scale decides).
inline OwnFlag MaxSecondsFlag(double* seconds) {
  return {"max-seconds", [seconds](std::string_view value) {
            *seconds = std::atof(std::string(value).c_str());
            if (*seconds > 0) return true;
            std::fprintf(stderr, "--max-seconds must be positive\n");
            return false;
          }};
}

// The --dir=PATH flag of benchmarks that write databases; sets *dir to
// $TMPDIR (or /tmp) until the flag says otherwise.
inline OwnFlag DirFlag(std::string* dir) {
  const char* tmp = std::getenv("TMPDIR");
  *dir = tmp != nullptr ? tmp : "/tmp";
  return {"dir", [dir](std::string_view value) {
            *dir = std::string(value);
            return true;
          }};
}

// Google Benchmark's part of main, once the own flags are parsed: rejects
// unknown flags, records the scale and `context` in the output, runs.
inline int RunBenchmarks(
    int argc, char** argv, std::string_view scale,
    std::initializer_list<std::pair<std::string, std::string>> context = {}) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("ferry_scale", std::string(scale));
  for (const auto& [key, value] : context) {
    benchmark::AddCustomContext(key, value);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace ferry::bench

#endif  // FERRY_BENCH_BENCH_SUPPORT_H_
