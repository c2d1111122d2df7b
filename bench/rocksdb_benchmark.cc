// Throughput of the RocksDB backend at the store level (QueueStore), each
// figure beside raw RocksDB doing the same amount of I/O in the same run:
//
//   * durable sends (sync mode: one fsync covers every caller that was
//     waiting when it began) with 1, 4 and 16 producers, single messages and
//     batches of 10, beside raw RocksDB writing the same WriteBatch sizes
//     with WriteOptions.sync = true from the same number of threads;
//   * buffered sends beside raw RocksDB writes with the WAL but no fsync;
//   * receive (lease 10) + delete cycles on a deep standard queue;
//   * BM_BacklogMemoryAndPurge: process RSS (VmRSS, VmHWM) with a backlog of
//     `backlog` messages waiting (goal: < 300 MiB), then the disk usage after
//     a purge (which compacts the purged range) against the empty database
//     (goal: <= baseline + 64 MiB);
//   * BM_HeadReceiveAfterHistory: p50 latency of receives at the head of a
//     queue through which `history` messages were sent and deleted, against
//     a fresh queue in the same database (goal: <= 1.5x).
//   Both fill in buffered mode with batches of 10 (sync mode would take
//   hours to write 10 million messages on this class of disk).
//
// Usage:
//   rocksdb_benchmark [--scale=smoke|full] [--dir=PATH] [benchmark flags]
//
//   --scale=full   (default) the real measurement; see bench/RESULTS.md.
//   --scale=smoke  tiny sizes (ctest runs it so).
//   --backlog=N    overrides the message count of the last two benchmarks
//                  (full: 10,000,000; smoke: 20,000).
//   --max-seconds=S  wall-clock budget of each send or receive+delete run
//                  (full: 8, smoke: 2): a run stops at its message count or
//                  at the budget and reports what it did, so fsync-bound
//                  runs take seconds even when fsyncs take milliseconds.
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
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench_support.h"
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
  int64_t backlog;            // messages waiting / sent and deleted
  int64_t probes;             // timed receives at the head
  double max_seconds;         // budget of one send or receive+delete run
};
constexpr Scale kSmoke{"smoke", 160, 1600, 1000, 20000, 2000, 2};
constexpr Scale kFull{"full", 16000, 320000, 200000, 10000000, 10000, 8};
Scale g_scale = kFull;
double g_max_seconds_override = 0;
double MaxSeconds() {
  return g_max_seconds_override > 0 ? g_max_seconds_override
                                    : g_scale.max_seconds;
}
std::string g_dir;
int64_t g_backlog_override = 0;
int64_t Backlog() {
  return g_backlog_override > 0 ? g_backlog_override : g_scale.backlog;
}

const std::string kBody(100, 'x');

std::string FreshDir(const std::string& what) {
  static int counter = 0;
  std::string dir = absl::StrCat(g_dir, "/ferry_rocksdb_bench_", ::getpid(),
                                 "_", what, "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

using bench::ReportMessages;
using bench::RunThreads;

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
    std::atomic<int64_t> written{0};
    bench::TimeBudget budget(MaxSeconds());
    double seconds = RunThreads(producers, [&](int t) {
      uint64_t key = static_cast<uint64_t>(t) << 40;
      int64_t i = 0;
      for (; i < per_thread && !budget.Spent(); ++i) {
        rocksdb::WriteBatch b;
        for (int j = 0; j < batch; ++j) {
          char k[8];
          uint64_t v = key++;
          for (int x = 7; x >= 0; --x, v >>= 8) k[x] = static_cast<char>(v);
          b.Put(rocksdb::Slice(k, 8), kBody);
        }
        if (!db->Write(wo, &b).ok()) std::abort();
      }
      written.fetch_add(i * batch);
    });
    db.reset();
    std::filesystem::remove_all(dir);
    ReportMessages(state, written.load(), seconds);
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
    std::atomic<int64_t> sent{0};
    bench::TimeBudget budget(MaxSeconds());
    double seconds = RunThreads(producers, [&](int) {
      std::vector<QueueStore::AppendEntry> entries(batch);
      std::vector<QueueStore::AppendOutcome> outcomes(batch);
      int64_t i = 0;
      for (; i < per_thread && !budget.Spent(); ++i) {
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
      sent.fetch_add(i * batch);
    });
    backend.reset();
    std::filesystem::remove_all(dir);
    ReportMessages(state, sent.load(), seconds);
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
    bench::TimeBudget budget(MaxSeconds());
    double seconds = RunThreads(1, [&](int) {
      QueueStore::LeaseParams p;
      p.queue = q->id;
      p.now = now + absl::Seconds(1);
      p.invisible_until = p.now + absl::Seconds(30);
      p.max_messages = 10;
      std::vector<std::string_view> receipts;
      std::vector<ReceiptStatus> statuses;
      while (!budget.Spent()) {
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
    ReportMessages(state, done, seconds);
    state.counters["depth"] = static_cast<double>(g_scale.depth);
  }
}

void BM_ReceiveDeleteDeepQueueSync(benchmark::State& state) {
  ReceiveDelete(state, RocksDbDurability::kSync);
}
void BM_ReceiveDeleteDeepQueueBuffered(benchmark::State& state) {
  ReceiveDelete(state, RocksDbDurability::kBuffered);
}

// ---- memory, head latency and space
// ------------------------------------------

constexpr double kMiB = 1024.0 * 1024.0;

// A /proc/self/status field in bytes ("VmRSS", "VmHWM"); -1 if unreadable.
double ProcStatusBytes(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line.size() > field.size() &&
        line[field.size()] == ':') {
      return std::atof(line.c_str() + field.size() + 1) * 1024.0;  // kB
    }
  }
  return -1;
}

// Sum of the sizes of the regular files under `dir`.
double DirBytes(const std::string& dir) {
  double total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code fe;
    if (it->is_regular_file(fe)) {
      auto size = it->file_size(fe);
      if (!fe) total += static_cast<double>(size);
    }
  }
  return total;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

// Sends `count` messages to `queue` in batches of 10 (SendMessageBatch).
void Fill(QueueStore& qs, QueueId queue, int64_t count) {
  std::vector<QueueStore::AppendEntry> entries(10);
  std::vector<QueueStore::AppendOutcome> outcomes(10);
  for (int64_t n = 0; n < count; n += 10) {
    const size_t k = static_cast<size_t>(std::min<int64_t>(10, count - n));
    for (size_t i = 0; i < k; ++i) {
      auto& e = entries[i];
      e = {};
      e.queue = queue;
      e.message.body = kBody;
      e.message.sent_time = e.message.enqueue_time = kNow;
      e.message.visible_at = kNow;
    }
    if (!qs.Append({.entries = std::span(entries.data(), k),
                    .outcomes = std::span(outcomes.data(), k),
                    .now = kNow})
             .ok()) {
      std::abort();
    }
  }
}

// Receives (lease up to `max`) and deletes until the queue is empty or
// `limit` messages are done; returns how many. `latencies`, if set, gets the
// duration of every receive (the Lease call alone) in microseconds.
int64_t Drain(QueueStore& qs, QueueId queue, int max, int64_t limit,
              std::vector<double>* latencies) {
  QueueStore::LeaseParams p;
  p.queue = queue;
  p.now = kNow + absl::Seconds(1);
  p.invisible_until = p.now + absl::Seconds(30);
  p.max_messages = max;
  std::vector<std::string_view> receipts;
  std::vector<ReceiptStatus> statuses;
  int64_t done = 0;
  while (done < limit) {
    auto start = std::chrono::steady_clock::now();
    auto leased = qs.Lease(p);
    auto end = std::chrono::steady_clock::now();
    if (!leased.ok()) std::abort();
    if (leased->leases.empty()) break;
    if (latencies != nullptr) {
      latencies->push_back(
          std::chrono::duration<double, std::micro>(end - start).count());
    }
    receipts.clear();
    for (const auto& l : leased->leases) receipts.push_back(l.receipt);
    statuses.assign(receipts.size(), ReceiptStatus::kOk);
    if (!qs.Ack({.queue = queue,
                 .receipts = receipts,
                 .statuses = statuses,
                 .now = p.now})
             .ok()) {
      std::abort();
    }
    done += static_cast<int64_t>(receipts.size());
  }
  return done;
}

// Sends `probes` messages and times their receives one by one: the head
// receive latencies (microseconds) of `queue` at its current history.
std::vector<double> ProbeHead(QueueStore& qs, QueueId queue, int64_t probes) {
  Fill(qs, queue, probes);
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(probes));
  if (Drain(qs, queue, 1, probes, &latencies) != probes) std::abort();
  return latencies;
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  return v[i];
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

// Goal 1 (memory bounded by work in flight) and goal 3 (purges reclaim
// space) on one database: fill a standard queue with Backlog() messages,
// read the process RSS, purge (the backend compacts the purged range), and
// compare the directory's size with the empty database's.
void BM_BacklogMemoryAndPurge(benchmark::State& state) {
  const int64_t n = Backlog();
  for (auto _ : state) {
    std::string dir;
    RocksDbBackendOptions defaults;
    std::unique_ptr<Backend> backend =
        OpenBackend(RocksDbDurability::kBuffered, &dir);
    QueueStore& qs = backend->queues();
    auto q = qs.CreateQueue({.key = "backlog"});
    if (!q.ok()) std::abort();
    const double baseline_disk = DirBytes(dir);
    const double rss_before = ProcStatusBytes("VmRSS");

    auto start = std::chrono::steady_clock::now();
    Fill(qs, q->id, n);
    const double fill_s = Seconds(start);
    const double rss = ProcStatusBytes("VmRSS");
    const double hwm = ProcStatusBytes("VmHWM");
    const double full_disk = DirBytes(dir);
    // The backlog is really there: receive and delete 1,000 at the head.
    const int64_t head = Drain(qs, q->id, 10, 1000, nullptr);
    const double rss_after_receives = ProcStatusBytes("VmRSS");

    start = std::chrono::steady_clock::now();
    if (!qs.Purge(q->id).ok()) std::abort();
    const double purge_s = Seconds(start);
    const double purged_disk = DirBytes(dir);
    const double hwm_end = ProcStatusBytes("VmHWM");
    backend.reset();
    std::filesystem::remove_all(dir);

    state.SetIterationTime(fill_s);
    state.counters["messages"] = static_cast<double>(n);
    state.counters["fill_msgs_per_s"] = static_cast<double>(n) / fill_s;
    state.counters["rss_MiB"] = rss / kMiB;
    state.counters["hwm_MiB"] = hwm / kMiB;
    state.counters["disk_empty_MiB"] = baseline_disk / kMiB;
    state.counters["disk_full_MiB"] = full_disk / kMiB;
    state.counters["disk_purged_MiB"] = purged_disk / kMiB;
    state.counters["purge_s"] = purge_s;
    std::fprintf(
        stderr,
        "\n[backlog memory] %lld messages of %zu bytes waiting in a standard "
        "queue (filled in buffered mode, batches of 10, %.0f msgs/s):\n"
        "  VmRSS %.1f MiB (before filling %.1f MiB; after receiving+deleting "
        "%lld at the head %.1f MiB), VmHWM %.1f MiB (%.1f MiB at the end)\n"
        "  goal: RSS < 300 MiB -> %s\n"
        "  RocksDB options: write_buffer_size %zu MiB x "
        "max_write_buffer_number "
        "2, LRU block cache %zu MiB, bloom filter 10 bits/key, "
        "max_background_jobs 2, max_total_wal_size %zu MiB, compaction "
        "style level (defaults), CompactOnDeletionCollector(1000, 300)\n",
        static_cast<long long>(n), kBody.size(),
        static_cast<double>(n) / fill_s, rss / kMiB, rss_before / kMiB,
        static_cast<long long>(head), rss_after_receives / kMiB, hwm / kMiB,
        hwm_end / kMiB, std::max(rss, hwm) < 300 * kMiB ? "met" : "NOT met",
        defaults.write_buffer_bytes >> 20, defaults.block_cache_bytes >> 20,
        (4 * defaults.write_buffer_bytes) >> 20);
    std::fprintf(
        stderr,
        "[purge space] disk (sum of file sizes): empty database %.1f MiB, "
        "with the backlog %.1f MiB, after Purge (which compacts the purged "
        "range; took %.2f s) %.1f MiB\n"
        "  goal: <= empty + 64 MiB = %.1f MiB -> %s\n",
        baseline_disk / kMiB, full_disk / kMiB, purge_s, purged_disk / kMiB,
        baseline_disk / kMiB + 64,
        purged_disk <= baseline_disk + 64 * kMiB ? "met" : "NOT met");
  }
}

// Goal 2 (reads at the head do not degrade as history grows): p50 of
// single-message receives at the head of a fresh queue, then at the head of
// a queue through which Backlog() messages were sent (batches of 10) and
// received+deleted (lease 10), in the same database.
void BM_HeadReceiveAfterHistory(benchmark::State& state) {
  const int64_t n = Backlog();
  const int64_t probes = g_scale.probes;
  for (auto _ : state) {
    std::string dir;
    std::unique_ptr<Backend> backend =
        OpenBackend(RocksDbDurability::kBuffered, &dir);
    QueueStore& qs = backend->queues();
    auto fresh = qs.CreateQueue({.key = "fresh"});
    auto old = qs.CreateQueue({.key = "history"});
    if (!fresh.ok() || !old.ok()) std::abort();
    std::vector<double> fresh_lat = ProbeHead(qs, fresh->id, probes);

    auto start = std::chrono::steady_clock::now();
    constexpr int64_t kChunk = 100000;
    for (int64_t done = 0; done < n;) {
      const int64_t k = std::min(kChunk, n - done);
      Fill(qs, old->id, k);
      if (Drain(qs, old->id, 10, k, nullptr) != k) std::abort();
      done += k;
    }
    const double churn_s = Seconds(start);
    std::vector<double> old_lat = ProbeHead(qs, old->id, probes);
    backend.reset();
    std::filesystem::remove_all(dir);

    const double p50_fresh = Percentile(fresh_lat, 0.5);
    const double p50_old = Percentile(old_lat, 0.5);
    const double ratio = p50_old / p50_fresh;
    state.SetIterationTime(churn_s);
    state.counters["history"] = static_cast<double>(n);
    state.counters["p50_fresh_us"] = p50_fresh;
    state.counters["p50_history_us"] = p50_old;
    state.counters["p99_fresh_us"] = Percentile(fresh_lat, 0.99);
    state.counters["p99_history_us"] = Percentile(old_lat, 0.99);
    state.counters["ratio"] = ratio;
    std::fprintf(
        stderr,
        "\n[head receive] %lld receives (1 message each, buffered mode) at "
        "the head: fresh queue p50 %.1f us (p99 %.1f us); after %lld messages "
        "sent and deleted (%.0f s, %.0f msgs/s) p50 %.1f us (p99 %.1f us)\n"
        "  ratio %.2fx; goal: <= 1.5x -> %s\n",
        static_cast<long long>(probes), p50_fresh, Percentile(fresh_lat, 0.99),
        static_cast<long long>(n), churn_s, static_cast<double>(n) / churn_s,
        p50_old, Percentile(old_lat, 0.99), ratio,
        ratio <= 1.5 ? "met" : "NOT met");
  }
}

// ---- the comparison runner's backlog scaling --------------------------------

// BM_BacklogScaling/backlog:L, one run per level L = 1,000, 10,000, ... up
// to Backlog(), in that order, all on ONE database (buffered mode) that
// grows from level to level instead of being rebuilt for each:
//
//   * the "backlog" queue is topped up from the previous level to L with
//     Append of 10 (SendMessageBatch): the rate of that increment is the
//     send rate with the previous level waiting; then RSS and disk;
//   * a bounded sample at its head with L waiting: `probes` receives of one
//     message (Lease of 1, timed alone, then deleted), then up to 10,000
//     messages in receive(10)+delete cycles (timed together); after each
//     sample as many messages are sent again (untimed) so L stay waiting;
//   * the "history" queue gets sent+deleted messages (Append of 10, Lease of
//     10 + Ack) from the previous level's count to L, then the p50 of
//     `probes` single receives at its head against a queue created fresh in
//     the same database at the same moment;
//   * at the last level the backlog queue is purged (the backend compacts
//     the purged range) and the directory compared with the empty database.
struct Growth {
  std::string dir;
  std::unique_ptr<Backend> backend;
  QueueId backlog = 0;
  QueueId history = 0;
  int64_t waiting = 0;  // messages in `backlog`
  int64_t churned = 0;  // messages sent and deleted through `history`
  double baseline_disk = 0;
  int fresh_queues = 0;
};
Growth* g_growth = nullptr;

std::vector<int64_t> BacklogLevels() {
  std::vector<int64_t> levels;
  for (int64_t l = 1000; l < Backlog(); l *= 10) levels.push_back(l);
  levels.push_back(Backlog());
  return levels;
}

void BM_BacklogScaling(benchmark::State& state) {
  const int64_t level = state.range(0);
  const int64_t probes = std::min<int64_t>(g_scale.probes, level);
  const int64_t cycles = std::min<int64_t>(10000, level);
  for (auto _ : state) {
    if (g_growth == nullptr || g_growth->waiting > level) {
      delete g_growth;
      g_growth = new Growth;
      g_growth->backend =
          OpenBackend(RocksDbDurability::kBuffered, &g_growth->dir);
      QueueStore& qs = g_growth->backend->queues();
      auto b = qs.CreateQueue({.key = "backlog"});
      auto h = qs.CreateQueue({.key = "history"});
      if (!b.ok() || !h.ok()) std::abort();
      g_growth->backlog = b->id;
      g_growth->history = h->id;
      g_growth->baseline_disk = DirBytes(g_growth->dir);
    }
    Growth& g = *g_growth;
    QueueStore& qs = g.backend->queues();

    // The backlog: grow it to `level`, then sample at its head.
    const int64_t added = level - g.waiting;
    auto start = std::chrono::steady_clock::now();
    Fill(qs, g.backlog, added);
    const double fill_s = Seconds(start);
    g.waiting = level;
    const double rss = ProcStatusBytes("VmRSS");
    const double hwm = ProcStatusBytes("VmHWM");
    const double disk = DirBytes(g.dir);
    std::vector<double> head_lat;
    head_lat.reserve(static_cast<size_t>(probes));
    if (Drain(qs, g.backlog, 1, probes, &head_lat) != probes) std::abort();
    Fill(qs, g.backlog, probes);
    start = std::chrono::steady_clock::now();
    if (Drain(qs, g.backlog, 10, cycles, nullptr) != cycles) std::abort();
    const double cycle_s = Seconds(start);
    Fill(qs, g.backlog, cycles);

    // The history: sent and deleted up to `level`, then the head against a
    // fresh queue.
    start = std::chrono::steady_clock::now();
    constexpr int64_t kChunk = 100000;
    const int64_t churn = level - g.churned;
    for (int64_t done = 0; done < churn;) {
      const int64_t k = std::min(kChunk, churn - done);
      Fill(qs, g.history, k);
      if (Drain(qs, g.history, 10, k, nullptr) != k) std::abort();
      done += k;
    }
    const double churn_s = Seconds(start);
    g.churned = level;
    auto fresh =
        qs.CreateQueue({.key = absl::StrCat("fresh", g.fresh_queues++)});
    if (!fresh.ok()) std::abort();
    std::vector<double> fresh_lat = ProbeHead(qs, fresh->id, probes);
    std::vector<double> history_lat = ProbeHead(qs, g.history, probes);
    if (!qs.DeleteQueue(fresh->id).ok()) std::abort();

    state.SetIterationTime(fill_s + cycle_s + churn_s);
    state.counters["waiting"] = static_cast<double>(level);
    state.counters["added"] = static_cast<double>(added);
    state.counters["fill_msgs_per_s"] = static_cast<double>(added) / fill_s;
    state.counters["rss_MiB"] = rss / kMiB;
    state.counters["hwm_MiB"] = hwm / kMiB;
    state.counters["disk_empty_MiB"] = g.baseline_disk / kMiB;
    state.counters["disk_MiB"] = disk / kMiB;
    state.counters["head_p50_us"] = Percentile(head_lat, 0.5);
    state.counters["head_p99_us"] = Percentile(head_lat, 0.99);
    state.counters["probes"] = static_cast<double>(probes);
    state.counters["cycles"] = static_cast<double>(cycles);
    state.counters["cycle_msgs_per_s"] = static_cast<double>(cycles) / cycle_s;
    state.counters["history"] = static_cast<double>(level);
    state.counters["churn_msgs_per_s"] = static_cast<double>(churn) / churn_s;
    state.counters["p50_fresh_us"] = Percentile(fresh_lat, 0.5);
    state.counters["p99_fresh_us"] = Percentile(fresh_lat, 0.99);
    state.counters["p50_history_us"] = Percentile(history_lat, 0.5);
    state.counters["p99_history_us"] = Percentile(history_lat, 0.99);
    state.counters["ratio"] =
        Percentile(history_lat, 0.5) / Percentile(fresh_lat, 0.5);
    std::fprintf(
        stderr,
        "\n[backlog %lld] +%lld sent at %.0f msgs/s; VmRSS %.1f MiB (VmHWM "
        "%.1f), disk %.1f MiB; head receive p50 %.1f us (p99 %.1f), "
        "receive(10)+delete %.0f msgs/s\n"
        "[history %lld] churn %.0f msgs/s; head p50 %.1f us vs fresh %.1f us "
        "(%.2fx)\n",
        static_cast<long long>(level), static_cast<long long>(added),
        static_cast<double>(added) / fill_s, rss / kMiB, hwm / kMiB,
        disk / kMiB, Percentile(head_lat, 0.5), Percentile(head_lat, 0.99),
        static_cast<double>(cycles) / cycle_s, static_cast<long long>(level),
        static_cast<double>(churn) / churn_s, Percentile(history_lat, 0.5),
        Percentile(fresh_lat, 0.5),
        Percentile(history_lat, 0.5) / Percentile(fresh_lat, 0.5));

    if (level >= Backlog()) {
      start = std::chrono::steady_clock::now();
      if (!qs.Purge(g.backlog).ok()) std::abort();
      const double purge_s = Seconds(start);
      const double purged = DirBytes(g.dir);
      state.counters["purge_s"] = purge_s;
      state.counters["disk_purged_MiB"] = purged / kMiB;
      std::fprintf(stderr,
                   "[purge] %lld messages: %.2f s; disk %.1f MiB -> %.1f MiB "
                   "(empty database %.1f MiB)\n",
                   static_cast<long long>(level), purge_s, disk / kMiB,
                   purged / kMiB, g.baseline_disk / kMiB);
      const std::string dir = g.dir;
      delete g_growth;
      g_growth = nullptr;
      std::filesystem::remove_all(dir);
    }
  }
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
BENCHMARK(BM_BacklogMemoryAndPurge)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HeadReceiveAfterHistory)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

bool ParseOwnFlags(int* argc, char** argv) {
  bool full = true;
  bool ok = bench::ParseBenchFlags(
      argc, argv, &full,
      {{"backlog",
        [](std::string_view v) {
          g_backlog_override = std::atoll(std::string(v).c_str());
          if (g_backlog_override <= 0) {
            std::fprintf(stderr, "--backlog must be positive\n");
            return false;
          }
          return true;
        }},
       bench::MaxSecondsFlag(&g_max_seconds_override),
       bench::DirFlag(&g_dir)});
  g_scale = full ? kFull : kSmoke;
  return ok;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  if (!ferry::ParseOwnFlags(&argc, argv)) return 2;
  // Registered after the flags: the levels depend on --backlog.
  auto* growth = benchmark::RegisterBenchmark("BM_BacklogScaling",
                                              ferry::BM_BacklogScaling)
                     ->ArgName("backlog")
                     ->UseManualTime()
                     ->Iterations(1)
                     ->Unit(benchmark::kMillisecond);
  for (int64_t level : ferry::BacklogLevels()) growth->Arg(level);
  const int rc = ferry::bench::RunBenchmarks(argc, argv, ferry::g_scale.name,
                                             {{"ferry_dir", ferry::g_dir}});
  if (ferry::g_growth != nullptr) {  // a filter stopped before the last level
    const std::string dir = ferry::g_growth->dir;
    delete ferry::g_growth;
    std::filesystem::remove_all(dir);
  }
  return rc;
}
