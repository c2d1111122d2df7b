// Kinesis streams through the native API (ferry/stream.h), per backend, beside
// the raw limits in the same run:
//   * memory PutRecords (batches of 500) beside a raw append into a vector log
//   * 10-KiB records in MB/s beside memcpy
//   * RocksDB (buffered) PutRecords beside raw RocksDB batched writes
//   * GetRecords (reads of 10,000) on both backends
// Every iteration writes into a fresh stream that is deleted afterwards, so
// memory stays bounded however long the run.
//
//   kinesis_benchmark [--scale=smoke|full] [benchmark flags]
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/rocksdb_backend.h"
#include "ferry/stream.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace {

struct Scale {
  const char* name;
  int64_t records;        // per iteration, 100-byte records
  int64_t big_records;    // per iteration, 10-KiB records
  int64_t rocks_records;  // per iteration, RocksDB
};
constexpr Scale kFull{"full", 2000000, 20000, 500000};
constexpr Scale kSmoke{"smoke", 5000, 100, 2000};
Scale g_scale = kFull;

constexpr int kBatch = 500;

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back(absl::StrCat("user-", i));
  return keys;
}

std::string FreshDir(const std::string& tag) {
  static int counter = 0;
  std::string dir = absl::StrCat("/tmp/ferry_kinesis_bench_", ::getpid(), "_",
                                 tag, "_", counter++);
  std::filesystem::remove_all(dir);
  return dir;
}

std::unique_ptr<ferry::Broker> OpenBroker(std::unique_ptr<ferry::Backend> b) {
  auto broker = ferry::Broker::Open({}, std::move(b));
  if (!broker.ok()) {
    std::fprintf(stderr, "%s\n", broker.status().ToString().c_str());
    std::abort();
  }
  return *std::move(broker);
}

void Report(benchmark::State& state, int64_t records, int64_t bytes) {
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
}

// Puts `total` records of `size` bytes in batches of 500 into a fresh stream
// per iteration.
void PutLoop(benchmark::State& state, ferry::Broker& broker, int64_t total,
             size_t size) {
  const std::vector<std::string> keys = Keys();
  const std::string data(size, 'x');
  std::vector<ferry::StreamRecordInput> batch(kBatch);
  int64_t done = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto stream = broker.CreateStream("bench", {.shard_count = 4});
    if (!stream.ok()) {
      state.SkipWithError(stream.status().ToString().c_str());
      return;
    }
    state.ResumeTiming();
    size_t k = 0;
    for (int64_t i = 0; i < total; i += kBatch) {
      for (int j = 0; j < kBatch; ++j) {
        batch[j].partition_key = keys[k++ % keys.size()];
        batch[j].data = data;
      }
      absl::Status s = stream->Put(batch);
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
    }
    done += total;
    state.PauseTiming();
    if (!broker.DeleteStream("bench").ok()) std::abort();
    state.ResumeTiming();
  }
  Report(state, done, done * static_cast<int64_t>(size));
}

void GetLoop(benchmark::State& state, ferry::Broker& broker, int64_t total) {
  const std::vector<std::string> keys = Keys();
  const std::string data(100, 'x');
  std::vector<ferry::StreamRecordInput> batch(kBatch);
  int64_t done = 0, bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto stream = broker.CreateStream("bench", {.shard_count = 1});
    if (!stream.ok()) std::abort();
    for (int64_t i = 0; i < total; i += kBatch) {
      for (int j = 0; j < kBatch; ++j) {
        batch[j].partition_key = keys[j % keys.size()];
        batch[j].data = data;
      }
      if (!stream->Put(batch).ok()) std::abort();
    }
    state.ResumeTiming();
    uint64_t from = 0;
    while (true) {
      auto r = stream->Read(0, from, 10000);
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return;
      }
      if (r->records.empty()) break;
      for (const auto& rec : r->records) {
        bytes +=
            static_cast<int64_t>(rec.data.size() + rec.partition_key.size());
      }
      done += static_cast<int64_t>(r->records.size());
      from = r->next_sequence;
    }
    state.PauseTiming();
    if (!broker.DeleteStream("bench").ok()) std::abort();
    state.ResumeTiming();
  }
  Report(state, done, bytes);
}

// ---- memory
// ------------------------------------------------------------------

void BM_MemoryPutRecords100B(benchmark::State& state) {
  auto broker = OpenBroker(ferry::NewMemoryBackend());
  PutLoop(state, *broker, g_scale.records, 100);
}

// The raw limits: the same records (key + 100 bytes) appended into one vector
// log (an index of offsets beside the bytes), no hashing, no routing, no
// locking. "Growing": fresh vectors per iteration that grow by doubling (each
// growth copies and faults in new pages), as a naive log would. "Reserved":
// vectors reserved once before the run and reused, so the loop only copies
// into memory already mapped -- the upper bound for any in-memory append.
// The raw limit's work: each record's partition key and data copied to the
// end of one byte log, with its offset in an index.
void AppendToVectorLog(const std::vector<std::string>& keys,
                       const std::string& data, std::vector<char>& log,
                       std::vector<uint64_t>& index) {
  size_t k = 0;
  for (int64_t i = 0; i < g_scale.records; ++i) {
    const std::string& key = keys[k++ % keys.size()];
    index.push_back(log.size());
    log.insert(log.end(), key.begin(), key.end());
    log.insert(log.end(), data.begin(), data.end());
  }
}

void BM_RawVectorLogAppend100B(benchmark::State& state) {
  const std::vector<std::string> keys = Keys();
  const std::string data(100, 'x');
  int64_t done = 0;
  for (auto _ : state) {
    std::vector<char> log;
    std::vector<uint64_t> index;
    AppendToVectorLog(keys, data, log, index);
    benchmark::DoNotOptimize(log.data());
    done += g_scale.records;
  }
  Report(state, done, done * 100);
}

void BM_RawVectorLogAppendReserved100B(benchmark::State& state) {
  const std::vector<std::string> keys = Keys();
  const std::string data(100, 'x');
  std::vector<char> log;
  std::vector<uint64_t> index;
  log.reserve(static_cast<size_t>(g_scale.records) * (data.size() + 16));
  index.reserve(static_cast<size_t>(g_scale.records));
  int64_t done = 0;
  for (auto _ : state) {
    log.clear();
    index.clear();
    AppendToVectorLog(keys, data, log, index);
    benchmark::DoNotOptimize(log.data());
    done += g_scale.records;
  }
  Report(state, done, done * 100);
}

void BM_MemoryPutRecords10KiB(benchmark::State& state) {
  auto broker = OpenBroker(ferry::NewMemoryBackend());
  PutLoop(state, *broker, g_scale.big_records, 10 << 10);
}

void BM_Memcpy10KiB(benchmark::State& state) {
  const std::string data(10 << 10, 'x');
  std::vector<char> dst(static_cast<size_t>(g_scale.big_records) * data.size());
  int64_t done = 0;
  for (auto _ : state) {
    char* p = dst.data();
    for (int64_t i = 0; i < g_scale.big_records; ++i) {
      std::memcpy(p, data.data(), data.size());
      p += data.size();
    }
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
    done += g_scale.big_records;
  }
  Report(state, done, done * (10 << 10));
}

void BM_MemoryGetRecords100B(benchmark::State& state) {
  auto broker = OpenBroker(ferry::NewMemoryBackend());
  GetLoop(state, *broker, g_scale.records);
}

// ---- RocksDB
// -----------------------------------------------------------------

std::unique_ptr<ferry::Broker> OpenRocks(std::string* dir) {
  *dir = FreshDir("ferry");
  ferry::RocksDbBackendOptions o;
  o.path = *dir;
  o.durability = ferry::RocksDbDurability::kBuffered;
  auto b = ferry::OpenRocksDbBackend(o);
  if (!b.ok()) std::abort();
  return OpenBroker(*std::move(b));
}

void BM_RocksDbBufferedPutRecords100B(benchmark::State& state) {
  std::string dir;
  auto broker = OpenRocks(&dir);
  PutLoop(state, *broker, g_scale.rocks_records, 100);
  broker.reset();
  std::filesystem::remove_all(dir);
}

// The raw limit: the same number of 100-byte values (plus a 21-byte key) in
// WriteBatches of 500, WAL on, no fsync.
void BM_RawRocksDbBatchedWrites100B(benchmark::State& state) {
  const std::string dir = FreshDir("raw");
  rocksdb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = 16 << 20;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(o, dir, &raw).ok()) std::abort();
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value(100 + 20, 'x');
  uint64_t key = 0;
  int64_t done = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < g_scale.rocks_records; i += kBatch) {
      rocksdb::WriteBatch b;
      for (int j = 0; j < kBatch; ++j) {
        char k[21] = {};
        uint64_t v = key++;
        for (int x = 20; x >= 13; --x, v >>= 8) k[x] = static_cast<char>(v);
        b.Put(rocksdb::Slice(k, 21), value);
      }
      if (!db->Write(rocksdb::WriteOptions(), &b).ok()) std::abort();
    }
    done += g_scale.rocks_records;
  }
  db.reset();
  std::filesystem::remove_all(dir);
  Report(state, done, done * 100);
}

void BM_RocksDbGetRecords100B(benchmark::State& state) {
  std::string dir;
  auto broker = OpenRocks(&dir);
  GetLoop(state, *broker, g_scale.rocks_records);
  broker.reset();
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_MemoryPutRecords100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RawVectorLogAppend100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RawVectorLogAppendReserved100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_MemoryPutRecords10KiB)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Memcpy10KiB)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MemoryGetRecords100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RocksDbBufferedPutRecords100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RawRocksDbBatchedWrites100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_RocksDbGetRecords100B)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--scale=smoke") == 0) {
      g_scale = kSmoke;
    } else if (std::strcmp(argv[i], "--scale=full") == 0) {
      g_scale = kFull;
    } else if (std::strncmp(argv[i], "--scale=", 8) == 0) {
      std::fprintf(stderr, "--scale must be smoke or full\n");
      return 2;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
