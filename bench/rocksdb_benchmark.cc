// Throughput of the RocksDB backend at the store level (QueueStore), each
// figure beside raw RocksDB doing the same amount of I/O in the same run:
//
//   * durable sends (sync mode: one fsync covers every caller that was
//     waiting when it began) with 1, 4 and 16 producers, single messages and
//     batches of 10, beside raw RocksDB writing the same WriteBatch sizes
//     with WriteOptions.sync = true from the same number of threads;
//   * buffered sends beside raw RocksDB writes with the WAL but no fsync;
//   * receive (lease 10) + delete cycles on a deep standard queue.
//
// Usage:
//   rocksdb_benchmark [--scale=smoke|full] [--dir=PATH] [benchmark flags]
//
//   --scale=full   (default) the real measurement; see bench/RESULTS.md.
//   --scale=smoke  tiny sizes (ctest runs it so).
//   --dir=PATH     where the databases go (default: $TMPDIR or /tmp); the
//                  figures depend on that disk's fsync latency.
//
// Messages are 100-byte bodies. A benchmark's time is the span from releasing
// its threads to the last one finishing (thread start-up is not timed).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "ferry/backend.h"
#include "ferry/rocksdb_backend.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace ferry {
namespace {

struct Scale {
  const char* name;
  int64_t sync_messages;      // per durable run, all producers together
  int64_t buffered_messages;  // per buffered run
  int64_t depth;              // receive+delete: messages waiting
};
constexpr Scale kSmoke{"smoke", 160, 1600, 1000};
constexpr Scale kFull{"full", 16000, 320000, 200000};
Scale g_scale = kFull;
std::string g_dir;

const std::string kBody(100, 'x');

std::string FreshDir(const std::string& what) {
  static int counter = 0;
  std::string dir = absl::StrCat(g_dir, "/ferry_rocksdb_bench_", ::getpid(),
                                 "_", what, "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

// Runs fn(thread_index) on `threads` threads released together; returns the
// seconds from release to the last one finishing.
template <typename Fn>
double RunThreads(int threads, Fn fn) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
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

void Report(benchmark::State& state, int64_t messages, double seconds) {
  state.SetIterationTime(seconds);
  state.counters["msgs_per_s"] = static_cast<double>(messages) / seconds;
  state.SetItemsProcessed(messages);
}

// ---- raw RocksDB
// -------------------------------------------------------------

void RawWrites(benchmark::State& state, bool sync, int64_t total) {
  const int producers = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const int64_t per_thread = std::max<int64_t>(total / producers / batch, 1);
  for (auto _ : state) {
    std::string dir = FreshDir("raw");
    rocksdb::Options o;
    o.create_if_missing = true;
    o.write_buffer_size = 16 << 20;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, dir, &raw).ok()) {
      state.SkipWithError("cannot open rocksdb");
      return;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    double seconds = RunThreads(producers, [&](int t) {
      uint64_t key = static_cast<uint64_t>(t) << 40;
      for (int64_t i = 0; i < per_thread; ++i) {
        rocksdb::WriteBatch b;
        for (int j = 0; j < batch; ++j) {
          char k[8];
          uint64_t v = key++;
          for (int x = 7; x >= 0; --x, v >>= 8) k[x] = static_cast<char>(v);
          b.Put(rocksdb::Slice(k, 8), kBody);
        }
        if (!db->Write(wo, &b).ok()) std::abort();
      }
    });
    db.reset();
    std::filesystem::remove_all(dir);
    Report(state, per_thread * producers * batch, seconds);
  }
}

void BM_RawFsyncedWriteBatch(benchmark::State& state) {
  RawWrites(state, true, g_scale.sync_messages);
}
void BM_RawWalWriteNoSync(benchmark::State& state) {
  RawWrites(state, false, g_scale.buffered_messages);
}

// ---- ferry
// -------------------------------------------------------------------

std::unique_ptr<Backend> OpenBackend(RocksDbDurability durability,
                                     std::string* dir) {
  *dir = FreshDir("ferry");
  RocksDbBackendOptions o;
  o.path = *dir;
  o.durability = durability;
  auto b = OpenRocksDbBackend(o);
  if (!b.ok()) {
    std::fprintf(stderr, "%s\n", b.status().ToString().c_str());
    std::abort();
  }
  return *std::move(b);
}

void Sends(benchmark::State& state, RocksDbDurability durability,
           int64_t total) {
  const int producers = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const int64_t per_thread = std::max<int64_t>(total / producers / batch, 1);
  for (auto _ : state) {
    std::string dir;
    std::unique_ptr<Backend> backend = OpenBackend(durability, &dir);
    auto q = backend->queues().CreateQueue({.key = "bench"});
    if (!q.ok()) std::abort();
    const absl::Time now = absl::FromUnixSeconds(1700000000);
    double seconds = RunThreads(producers, [&](int) {
      std::vector<QueueStore::AppendEntry> entries(batch);
      std::vector<QueueStore::AppendOutcome> outcomes(batch);
      for (int64_t i = 0; i < per_thread; ++i) {
        for (auto& e : entries) {
          e.queue = q->id;
          e.message.body = kBody;
          e.message.sent_time = e.message.enqueue_time = now;
          e.message.visible_at = now;
        }
        if (!backend->queues()
                 .Append({.entries = entries, .outcomes = outcomes, .now = now})
                 .ok()) {
          std::abort();
        }
      }
    });
    backend.reset();
    std::filesystem::remove_all(dir);
    Report(state, per_thread * producers * batch, seconds);
  }
}

void BM_DurableSend(benchmark::State& state) {
  Sends(state, RocksDbDurability::kSync, g_scale.sync_messages);
}
void BM_BufferedSend(benchmark::State& state) {
  Sends(state, RocksDbDurability::kBuffered, g_scale.buffered_messages);
}

// Receive (lease up to 10) + delete until a queue of `depth` is drained.
void ReceiveDelete(benchmark::State& state, RocksDbDurability durability) {
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir;
    std::unique_ptr<Backend> backend = OpenBackend(durability, &dir);
    QueueStore& qs = backend->queues();
    auto q = qs.CreateQueue({.key = "deep"});
    if (!q.ok()) std::abort();
    const absl::Time now = absl::FromUnixSeconds(1700000000);
    {
      std::vector<QueueStore::AppendEntry> entries(100);
      std::vector<QueueStore::AppendOutcome> outcomes(100);
      for (int64_t n = 0; n < g_scale.depth; n += 100) {
        for (auto& e : entries) {
          e.queue = q->id;
          e.message.body = kBody;
          e.message.sent_time = e.message.enqueue_time = now;
          e.message.visible_at = now;
        }
        if (!qs.Append({.entries = entries, .outcomes = outcomes, .now = now})
                 .ok()) {
          std::abort();
        }
      }
    }
    state.ResumeTiming();
    int64_t done = 0;
    double seconds = RunThreads(1, [&](int) {
      QueueStore::LeaseParams p;
      p.queue = q->id;
      p.now = now + absl::Seconds(1);
      p.invisible_until = p.now + absl::Seconds(30);
      p.max_messages = 10;
      std::vector<std::string_view> receipts;
      std::vector<ReceiptStatus> statuses;
      for (;;) {
        auto leased = qs.Lease(p);
        if (!leased.ok()) std::abort();
        if (leased->leases.empty()) break;
        receipts.clear();
        for (const auto& l : leased->leases) receipts.push_back(l.receipt);
        statuses.assign(receipts.size(), ReceiptStatus::kOk);
        if (!qs.Ack({.queue = q->id,
                     .receipts = receipts,
                     .statuses = statuses,
                     .now = p.now})
                 .ok()) {
          std::abort();
        }
        done += static_cast<int64_t>(receipts.size());
      }
    });
    state.PauseTiming();
    backend.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
    Report(state, done, seconds);
    state.counters["depth"] = static_cast<double>(g_scale.depth);
  }
}

void BM_ReceiveDeleteDeepQueueSync(benchmark::State& state) {
  ReceiveDelete(state, RocksDbDurability::kSync);
}
void BM_ReceiveDeleteDeepQueueBuffered(benchmark::State& state) {
  ReceiveDelete(state, RocksDbDurability::kBuffered);
}

void ProducerArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"producers", "batch"});
  for (int producers : {1, 4, 16}) {
    for (int batch : {1, 10}) b->Args({producers, batch});
  }
  b->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_RawFsyncedWriteBatch)->Apply(ProducerArgs);
BENCHMARK(BM_DurableSend)->Apply(ProducerArgs);
BENCHMARK(BM_RawWalWriteNoSync)->Apply(ProducerArgs);
BENCHMARK(BM_BufferedSend)->Apply(ProducerArgs);
BENCHMARK(BM_ReceiveDeleteDeepQueueSync)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReceiveDeleteDeepQueueBuffered)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

bool ParseOwnFlags(int* argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  g_dir = tmp != nullptr ? tmp : "/tmp";
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--scale=")) {
      std::string_view v = arg.substr(8);
      if (v == "smoke") {
        g_scale = kSmoke;
      } else if (v == "full") {
        g_scale = kFull;
      } else {
        std::fprintf(stderr, "--scale must be smoke or full\n");
        return false;
      }
    } else if (arg.starts_with("--dir=")) {
      g_dir = std::string(arg.substr(6));
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return true;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  if (!ferry::ParseOwnFlags(&argc, argv)) return 2;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("ferry_scale", ferry::g_scale.name);
  benchmark::AddCustomContext("ferry_dir", ferry::g_dir);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
