// How the cost of a message grows with work, on the memory backend and on
// the RocksDB backend in buffered mode; the comparison runner
// (bench/compare.py) plots both:
//
//   * BM_*Queues: one thread sends a batch of 10 to each of N queues in
//     turn, then receives (10 at a time) and deletes everything, for N = 1 to
//     10,000. A flat line means an idle queue costs nothing and per-queue
//     state stays cheap to reach.
//   * BM_*Threads: T threads (1 to 16) share one queue, each sending a batch
//     of 10, receiving 10 and deleting them, over and over: throughput as
//     threads are added (on 2 cores, past 2 threads it shows what contention
//     and oversubscription cost).
//
// Usage:
//   scaling_benchmark [--scale=smoke|full] [--dir=PATH] [benchmark flags]
//
//   --dir   where RocksDB databases go (default: $TMPDIR or /tmp).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_support.h"
#include "benchmark/benchmark.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/queue.h"
#ifdef FERRY_SCALING_WITH_ROCKSDB
#include "ferry/rocksdb_backend.h"
#endif

namespace ferry {
namespace {

struct Scale {
  const char* name;
  int64_t messages;  // per iteration, spread over the queues (at least 10 each)
};
constexpr Scale kSmoke{"smoke", 2000};
constexpr Scale kFull{"full", 200000};
Scale g_scale = kFull;
std::string g_dir;

const std::string kBody(100, 'x');

// Runs the send / receive+delete rounds through `broker`'s queues.
void Cycle(benchmark::State& state, Broker& broker) {
  const int64_t queues = state.range(0);
  std::vector<Queue> handles;
  handles.reserve(queues);
  for (int64_t i = 0; i < queues; ++i) {
    absl::StatusOr<Queue> q = broker.CreateQueue(absl::StrCat("q", i));
    if (!q.ok()) {
      state.SkipWithError(q.status().ToString().c_str());
      return;
    }
    handles.push_back(*std::move(q));
  }
  const std::vector<std::string> batch(10, kBody);
  const int64_t rounds = std::max<int64_t>(g_scale.messages / (10 * queues), 1);
  int64_t moved = 0;
  for (auto _ : state) {
    for (int64_t r = 0; r < rounds; ++r) {
      for (Queue& q : handles) {
        if (!q.SendBatch(batch).ok()) {
          state.SkipWithError("send failed");
          return;
        }
      }
      for (Queue& q : handles) {
        absl::StatusOr<std::vector<ReceivedMessage>> got =
            q.Receive({.max_messages = 10, .wait_time = absl::ZeroDuration()});
        if (!got.ok() || got->size() != 10) {
          state.SkipWithError("receive came back short");
          return;
        }
        std::vector<std::string> receipts;
        receipts.reserve(10);
        for (ReceivedMessage& m : *got)
          receipts.push_back(std::move(m.receipt));
        if (!q.DeleteBatch(receipts).ok()) {
          state.SkipWithError("delete failed");
          return;
        }
      }
      moved += 10 * queues;
    }
  }
  state.SetItemsProcessed(moved);
  state.counters["msgs_per_s"] = benchmark::Counter(
      static_cast<double>(moved), benchmark::Counter::kIsRate);
  state.counters["queues"] = static_cast<double>(queues);
}

// T threads cycling batches of 10 through one queue.
void Threads(benchmark::State& state, Broker& broker) {
  const int threads = static_cast<int>(state.range(0));
  absl::StatusOr<Queue> queue = broker.CreateQueue("shared");
  if (!queue.ok()) {
    state.SkipWithError(queue.status().ToString().c_str());
    return;
  }
  const int64_t rounds =
      std::max<int64_t>(g_scale.messages / (10 * threads), 1);
  const std::vector<std::string> batch(10, kBody);
  for (auto _ : state) {
    std::atomic<bool> failed{false};
    double seconds = bench::RunThreads(threads, [&](int) {
      Queue q = *queue;
      std::vector<std::string> receipts;
      for (int64_t r = 0; r < rounds && !failed.load(); ++r) {
        if (!q.SendBatch(batch).ok()) failed = true;
        // Another thread may have taken this thread's messages; take
        // whatever is there until 10 were handled.
        for (int handled = 0; handled < 10 && !failed.load();) {
          absl::StatusOr<std::vector<ReceivedMessage>> got =
              q.Receive({.max_messages = 10 - handled,
                         .wait_time = absl::ZeroDuration()});
          if (!got.ok()) {
            failed = true;
            break;
          }
          receipts.clear();
          for (ReceivedMessage& m : *got) {
            receipts.push_back(std::move(m.receipt));
          }
          if (!receipts.empty() && !q.DeleteBatch(receipts).ok()) {
            failed = true;
          }
          handled += static_cast<int>(receipts.size());
        }
      }
    });
    if (failed.load()) {
      state.SkipWithError("a send, receive or delete failed");
      return;
    }
    bench::ReportMessages(state, rounds * 10 * threads, seconds);
  }
  state.counters["workers"] = threads;
}

enum class Store { kMemory, kRocksDbBuffered };

// Runs `body` with a broker over a fresh store of `kind` (RocksDB in a fresh
// directory under --dir, removed afterwards).
template <typename Body>
void WithBroker(benchmark::State& state, Store kind, Body body) {
  std::unique_ptr<Backend> backend;
  std::string dir;
  if (kind == Store::kMemory) {
    backend = NewMemoryBackend();
  } else {
#ifdef FERRY_SCALING_WITH_ROCKSDB
    static int counter = 0;
    dir = absl::StrCat(g_dir, "/ferry_scaling_bench_", ::getpid(), "_",
                       counter++);
    std::filesystem::remove_all(dir);
    absl::StatusOr<std::unique_ptr<Backend>> opened = OpenRocksDbBackend(
        {.path = dir, .durability = RocksDbDurability::kBuffered});
    if (!opened.ok()) {
      state.SkipWithError(opened.status().ToString().c_str());
      return;
    }
    backend = *std::move(opened);
#endif
  }
  {
    absl::StatusOr<std::unique_ptr<Broker>> broker =
        Broker::Open({}, std::move(backend));
    if (!broker.ok()) {
      state.SkipWithError(broker.status().ToString().c_str());
    } else {
      body(**broker);
    }
  }
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

void BM_MemoryQueues(benchmark::State& state) {
  WithBroker(state, Store::kMemory, [&](Broker& b) { Cycle(state, b); });
}
void BM_MemoryThreads(benchmark::State& state) {
  WithBroker(state, Store::kMemory, [&](Broker& b) { Threads(state, b); });
}
#ifdef FERRY_SCALING_WITH_ROCKSDB
void BM_RocksDbBufferedQueues(benchmark::State& state) {
  WithBroker(state, Store::kRocksDbBuffered,
             [&](Broker& b) { Cycle(state, b); });
}
void BM_RocksDbBufferedThreads(benchmark::State& state) {
  WithBroker(state, Store::kRocksDbBuffered,
             [&](Broker& b) { Threads(state, b); });
}
#endif

void ThreadCounts(benchmark::internal::Benchmark* b) {
  b->ArgName("threads");
  for (int64_t n : {1, 2, 4, 8, 16}) b->Arg(n);
  b->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1);
}

void QueueCounts(benchmark::internal::Benchmark* b) {
  b->ArgName("queues");
  for (int64_t n : {1, 10, 100, 1000, 10000}) b->Arg(n);
  b->Unit(benchmark::kMillisecond)->Iterations(1);
}

BENCHMARK(BM_MemoryQueues)->Apply(QueueCounts);
BENCHMARK(BM_MemoryThreads)->Apply(ThreadCounts);
#ifdef FERRY_SCALING_WITH_ROCKSDB
BENCHMARK(BM_RocksDbBufferedQueues)->Apply(QueueCounts);
BENCHMARK(BM_RocksDbBufferedThreads)->Apply(ThreadCounts);
#endif

bool ParseOwnFlags(int* argc, char** argv) {
  bool full = true;
  bool ok = bench::ParseBenchFlags(argc, argv, &full, {bench::DirFlag(&g_dir)});
  g_scale = full ? kFull : kSmoke;
  return ok;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  if (!ferry::ParseOwnFlags(&argc, argv)) return 2;
  return ferry::bench::RunBenchmarks(argc, argv, ferry::g_scale.name);
}
