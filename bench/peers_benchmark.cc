// What users would pick instead of ferry, measured on the same machine and
// with the same message shape (100-byte bodies), for the comparison runner
// (bench/compare.py) to set beside ferry's own benchmarks:
//
//   * Redis, the reliable-queue pattern: producers LPUSH; a consumer moves a
//     message to a processing list (BLMOVE, or LMOVE when pipelined) and
//     removes it with LREM once processed. With pipelining of 1 (each command
//     waits for its reply) and 16 (16 commands per round trip).
//   * Redis streams: XADD; XREADGROUP of a consumer group; XACK.
//   * SQLite, an SQS-like queue designed as goqite designs it (written here
//     from that design): one table with a visibility-timeout column; receive
//     is one UPDATE ... RETURNING of the oldest visible row; delete by id. WAL
//     mode with synchronous=FULL (durable) and NORMAL. Sends of single
//     messages and of batches of 10 in one transaction, from 1 to 16
//     producers, each with its own connection; and a send→receive→delete
//     cycle of one producer and one consumer.
//
// Usage:
//   peers_benchmark [--scale=smoke|full] [--redis=HOST:PORT|unix:PATH]
//                   [--max-seconds=S] [--dir=PATH] [benchmark flags]
//
//   --redis   a Redis server to use (its data is flushed). Without it the
//             Redis benchmarks report an error instead of a figure; the
//             runner and ctest start a private server and pass it.
//   --max-seconds  wall-clock budget of each run (full: 8, smoke: 2): a
//             producer stops at its message count or at the budget, and the
//             figure is what was done (fsync-bound SQLite FULL runs would
//             otherwise take minutes on a busy disk).
//   --dir     where SQLite databases go (default: $TMPDIR or /tmp).
//
// Each benchmark's time is from releasing its threads to the last one
// finishing, as in the other ferry benchmarks; `msgs_per_s` is the figure.
#include <hiredis/hiredis.h>
#include <sqlite3.h>
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

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench_support.h"
#include "benchmark/benchmark.h"

namespace ferry {
namespace {

struct Scale {
  const char* name;
  int64_t redis_messages;  // per Redis iteration
  int64_t sqlite_durable;  // per SQLite synchronous=FULL send iteration
  int64_t sqlite_normal;   // per SQLite synchronous=NORMAL send iteration
  int64_t sqlite_cycle;    // per SQLite send→receive→delete iteration
  int64_t backlog;         // the most producers may be ahead of consumers
  double max_seconds;      // budget of one run (bench::TimeBudget)
};
constexpr Scale kSmoke{"smoke", 2000, 160, 1600, 400, 1000, 2};
constexpr Scale kFull{"full", 400000, 16000, 160000, 40000, 65536, 8};
Scale g_scale = kFull;
double g_max_seconds_override = 0;
double MaxSeconds() {
  return g_max_seconds_override > 0 ? g_max_seconds_override
                                    : g_scale.max_seconds;
}
std::string g_redis;  // HOST:PORT or unix:PATH; empty: no Redis
std::string g_dir;

const std::string kBody(100, 'x');

using bench::ReportMessages;
using bench::RunThreads;

// Keeps producers at most `limit` messages ahead of consumers, so that the
// figure is a flow, not a fill followed by a drain.
class Backlog {
 public:
  explicit Backlog(int64_t limit) : limit_(limit) {}
  void Produced(int64_t n) {
    produced_.fetch_add(n, std::memory_order_release);
    while (produced_.load(std::memory_order_relaxed) -
               consumed_.load(std::memory_order_acquire) >
           limit_) {
      std::this_thread::yield();
    }
  }
  void Consumed(int64_t n) {
    consumed_.fetch_add(n, std::memory_order_release);
  }

 private:
  const int64_t limit_;
  std::atomic<int64_t> produced_{0};
  std::atomic<int64_t> consumed_{0};
};

// ---- Redis ----------------------------------------------------------------

struct RedisDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using RedisConnection = std::unique_ptr<redisContext, RedisDeleter>;
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// nullptr with *error set when the server cannot be reached.
RedisConnection ConnectRedis(std::string* error) {
  if (g_redis.empty()) {
    *error = "no Redis server given (--redis=HOST:PORT or unix:PATH)";
    return nullptr;
  }
  redisContext* c = nullptr;
  if (g_redis.starts_with("unix:")) {
    c = redisConnectUnix(g_redis.substr(5).c_str());
  } else {
    size_t colon = g_redis.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(g_redis.substr(colon + 1), &port)) {
      *error = "--redis must be HOST:PORT or unix:PATH";
      return nullptr;
    }
    c = redisConnect(g_redis.substr(0, colon).c_str(), port);
  }
  if (c == nullptr || c->err != 0) {
    *error = absl::StrCat("cannot connect to Redis at ", g_redis, ": ",
                          c != nullptr ? c->errstr : "out of memory");
    if (c != nullptr) redisFree(c);
    return nullptr;
  }
  return RedisConnection(c);
}

// Sends the appended commands and reads their `n` replies; aborts the
// benchmark program on a protocol error (the server went away).
std::vector<Reply> ReadReplies(redisContext* c, int n) {
  std::vector<Reply> replies;
  replies.reserve(n);
  for (int i = 0; i < n; ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      std::fprintf(stderr, "redis: %s\n", c->errstr);
      std::abort();
    }
    Reply r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR) {
      std::fprintf(stderr, "redis: %s\n", r->str);
      std::abort();
    }
    replies.push_back(std::move(r));
  }
  return replies;
}

bool FlushRedis(benchmark::State& state) {
  std::string error;
  RedisConnection c = ConnectRedis(&error);
  if (c == nullptr) {
    state.SkipWithError(error.c_str());
    return false;
  }
  redisAppendCommand(c.get(), "FLUSHALL");
  ReadReplies(c.get(), 1);
  return true;
}

// One producer and one consumer, each on its own connection to a flushed
// server: the producer sends `produce` with the body as its argument, total
// times, in pipelines of `pipeline` commands; consume(connection) takes what
// is there, finishes it, and returns how many messages it finished.
template <typename Consume>
void RedisFlow(benchmark::State& state, const char* setup, const char* produce,
               Consume consume) {
  const int pipeline = static_cast<int>(state.range(0));
  const int64_t total = g_scale.redis_messages / pipeline * pipeline;
  for (auto _ : state) {
    if (!FlushRedis(state)) return;
    std::string error;
    RedisConnection producer = ConnectRedis(&error);
    RedisConnection consumer = ConnectRedis(&error);
    if (producer == nullptr || consumer == nullptr) {
      state.SkipWithError(error.c_str());
      return;
    }
    if (setup != nullptr) {
      redisAppendCommand(producer.get(), setup);
      ReadReplies(producer.get(), 1);
    }
    Backlog backlog(g_scale.backlog);
    // The producer stops at `total` or when the budget is spent; the
    // consumer then finishes what it sent.
    std::atomic<int64_t> produced{0};
    std::atomic<bool> producer_done{false};
    int64_t done = 0;
    bench::TimeBudget budget(MaxSeconds());
    double seconds = RunThreads(2, [&](int t) {
      if (t == 0) {
        for (int64_t sent = 0; sent < total && !budget.Spent();
             sent += pipeline) {
          for (int i = 0; i < pipeline; ++i) {
            redisAppendCommand(producer.get(), produce, kBody.data(),
                               kBody.size());
          }
          ReadReplies(producer.get(), pipeline);
          produced.fetch_add(pipeline, std::memory_order_release);
          backlog.Produced(pipeline);
        }
        producer_done.store(true, std::memory_order_release);
        return;
      }
      while (!producer_done.load(std::memory_order_acquire) ||
             done < produced.load(std::memory_order_acquire)) {
        int64_t finished = consume(consumer.get(), pipeline);
        done += finished;
        backlog.Consumed(finished);
      }
    });
    ReportMessages(state, done, seconds);
  }
  state.counters["pipeline"] = pipeline;
}

// The reliable-queue pattern: LPUSH → (B)LMOVE to a processing list → LREM.
void BM_RedisReliableQueue(benchmark::State& state) {
  RedisFlow(state, nullptr, "LPUSH q %b", [](redisContext* c, int pipeline) {
    for (int i = 0; i < pipeline; ++i) {
      // A lone consumer blocks for the next message; a pipelined one asks
      // without blocking and retries.
      redisAppendCommand(c, pipeline == 1 ? "BLMOVE q processing RIGHT LEFT 1"
                                          : "LMOVE q processing RIGHT LEFT");
    }
    int acks = 0;
    for (const Reply& r : ReadReplies(c, pipeline)) {
      if (r->type != REDIS_REPLY_STRING) continue;  // nothing was waiting
      redisAppendCommand(c, "LREM processing 1 %b", r->str, r->len);
      ++acks;
    }
    ReadReplies(c, acks);
    return acks;
  });
}

// A stream with a consumer group: XADD → XREADGROUP → XACK.
void BM_RedisStream(benchmark::State& state) {
  RedisFlow(state, "XGROUP CREATE s g $ MKSTREAM", "XADD s * b %b",
            [](redisContext* c, int pipeline) -> int64_t {
              const std::string count = std::to_string(pipeline);
              redisAppendCommand(
                  c, "XREADGROUP GROUP g c COUNT %s BLOCK 1000 STREAMS s >",
                  count.c_str());
              Reply read = std::move(ReadReplies(c, 1)[0]);
              // [[stream, [[id, [field, value]], ...]]]; nil after the block.
              if (read->type != REDIS_REPLY_ARRAY || read->elements == 0)
                return 0;
              redisReply* entries = read->element[0]->element[1];
              std::vector<const char*> argv = {"XACK", "s", "g"};
              std::vector<size_t> lens = {4, 1, 1};
              for (size_t i = 0; i < entries->elements; ++i) {
                argv.push_back(entries->element[i]->element[0]->str);
                lens.push_back(entries->element[i]->element[0]->len);
              }
              redisAppendCommandArgv(c, static_cast<int>(argv.size()),
                                     argv.data(), lens.data());
              ReadReplies(c, 1);
              return static_cast<int64_t>(entries->elements);
            });
}

// ---- SQLite (the goqite design) --------------------------------------------

struct SqliteDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteDeleter>;
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "sqlite %s: %s\n", what, sqlite3_errmsg(db));
    std::abort();
  }
}

void Exec(sqlite3* db, const char* sql) {
  Check(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), db, sql);
}

Stmt Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  Check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr),
        db, sql);
  return Stmt(s);
}

// One connection: WAL, the given synchronous level, a busy timeout so that
// writers queue for the database lock instead of failing.
SqliteDb OpenSqlite(const std::string& path, bool durable) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(
          path.c_str(), &raw,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite open %s failed\n", path.c_str());
    std::abort();
  }
  SqliteDb db(raw);
  sqlite3_busy_timeout(raw, 60000);
  Exec(raw, "PRAGMA journal_mode=WAL");
  Exec(raw, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  return db;
}

// goqite's table: a message, the queue it is in, the time it becomes visible
// again (timeout) and how often it was received.
constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS goqite ("
    " id TEXT PRIMARY KEY,"
    " created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')),"
    " updated TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')),"
    " queue TEXT NOT NULL,"
    " body BLOB NOT NULL,"
    " timeout TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')),"
    " received INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE INDEX IF NOT EXISTS goqite_queue_created_idx"
    " ON goqite (queue, created);";

std::string FreshSqlitePath(const char* what) {
  static std::atomic<int> counter{0};
  std::string path = absl::StrCat(g_dir, "/ferry_peers_", ::getpid(), "_", what,
                                  "_", counter.fetch_add(1), ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  return path;
}

void RemoveSqlite(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
}

// Inserts `batch` messages in one transaction, with random-looking ids as
// goqite makes them.
class SqliteProducer {
 public:
  SqliteProducer(const std::string& path, bool durable, int thread)
      : db_(OpenSqlite(path, durable)),
        insert_(Prepare(db_.get(),
                        "INSERT INTO goqite (id, queue, body) VALUES (?, "
                        "'q', ?)")),
        begin_(Prepare(db_.get(), "BEGIN IMMEDIATE")),
        commit_(Prepare(db_.get(), "COMMIT")),
        prefix_(absl::StrCat("m_", thread, "_")) {}

  void Send(int batch) {
    if (batch > 1) Step(begin_.get());
    for (int i = 0; i < batch; ++i) {
      std::string id = absl::StrCat(prefix_, next_++);
      sqlite3_bind_text(insert_.get(), 1, id.data(),
                        static_cast<int>(id.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(insert_.get(), 2, kBody.data(),
                        static_cast<int>(kBody.size()), SQLITE_STATIC);
      Step(insert_.get());
    }
    if (batch > 1) Step(commit_.get());
  }

 private:
  void Step(sqlite3_stmt* s) {
    Check(sqlite3_step(s), db_.get(), sqlite3_sql(s));
    sqlite3_reset(s);
  }

  SqliteDb db_;
  Stmt insert_, begin_, commit_;
  std::string prefix_;
  int64_t next_ = 0;
};

void SqliteSends(benchmark::State& state, bool durable, int64_t total) {
  const int producers = static_cast<int>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const int64_t per_thread = std::max<int64_t>(total / producers / batch, 1);
  for (auto _ : state) {
    std::string path = FreshSqlitePath("send");
    {
      SqliteDb setup = OpenSqlite(path, durable);
      Exec(setup.get(), kSchema);
    }
    std::vector<std::unique_ptr<SqliteProducer>> clients;
    for (int t = 0; t < producers; ++t) {
      clients.push_back(std::make_unique<SqliteProducer>(path, durable, t));
    }
    std::atomic<int64_t> sent{0};
    bench::TimeBudget budget(MaxSeconds());
    double seconds = RunThreads(producers, [&](int t) {
      int64_t i = 0;
      for (; i < per_thread && !budget.Spent(); ++i) clients[t]->Send(batch);
      sent.fetch_add(i * batch);
    });
    clients.clear();
    RemoveSqlite(path);
    ReportMessages(state, sent.load(), seconds);
  }
}

void BM_SqliteQueueSendFull(benchmark::State& state) {
  SqliteSends(state, true, g_scale.sqlite_durable);
}
void BM_SqliteQueueSendNormal(benchmark::State& state) {
  SqliteSends(state, false, g_scale.sqlite_normal);
}

// One producer and one consumer: send; receive (goqite's single UPDATE ...
// RETURNING with a 30 s visibility timeout); delete.
void SqliteCycle(benchmark::State& state, bool durable) {
  const int64_t total = g_scale.sqlite_cycle;
  for (auto _ : state) {
    std::string path = FreshSqlitePath("cycle");
    {
      SqliteDb setup = OpenSqlite(path, durable);
      Exec(setup.get(), kSchema);
    }
    SqliteProducer producer(path, durable, 0);
    SqliteDb consumer = OpenSqlite(path, durable);
    Stmt receive = Prepare(
        consumer.get(),
        "UPDATE goqite SET"
        " timeout = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+30 seconds'),"
        " received = received + 1,"
        " updated = strftime('%Y-%m-%dT%H:%M:%fZ')"
        " WHERE id = (SELECT id FROM goqite WHERE queue = 'q' AND"
        " strftime('%Y-%m-%dT%H:%M:%fZ') >= timeout AND received < 3"
        " ORDER BY created LIMIT 1)"
        " RETURNING id, body, received");
    Stmt remove = Prepare(consumer.get(),
                          "DELETE FROM goqite WHERE queue = 'q' AND id = ?");
    Backlog backlog(g_scale.backlog);
    // The producer stops at `total` or when the budget is spent; the
    // consumer then takes what it sent.
    std::atomic<int64_t> produced{0};
    std::atomic<bool> producer_done{false};
    int64_t consumed = 0;
    bench::TimeBudget budget(MaxSeconds());
    double seconds = RunThreads(2, [&](int t) {
      if (t == 0) {
        for (int64_t i = 0; i < total && !budget.Spent(); ++i) {
          producer.Send(1);
          produced.fetch_add(1, std::memory_order_release);
          backlog.Produced(1);
        }
        producer_done.store(true, std::memory_order_release);
        return;
      }
      while (!producer_done.load(std::memory_order_acquire) ||
             consumed < produced.load(std::memory_order_acquire)) {
        int rc = sqlite3_step(receive.get());
        Check(rc, consumer.get(), "receive");
        if (rc != SQLITE_ROW) {
          sqlite3_reset(receive.get());
          std::this_thread::yield();  // nothing visible yet
          continue;
        }
        std::string id(reinterpret_cast<const char*>(
                           sqlite3_column_text(receive.get(), 0)),
                       sqlite3_column_bytes(receive.get(), 0));
        // Finish the UPDATE (RETURNING rows are produced before it commits).
        while (sqlite3_step(receive.get()) == SQLITE_ROW) {
        }
        sqlite3_reset(receive.get());
        sqlite3_bind_text(remove.get(), 1, id.data(),
                          static_cast<int>(id.size()), SQLITE_TRANSIENT);
        Check(sqlite3_step(remove.get()), consumer.get(), "delete");
        sqlite3_reset(remove.get());
        ++consumed;
        backlog.Consumed(1);
      }
    });
    RemoveSqlite(path);
    ReportMessages(state, consumed, seconds);
  }
}

void BM_SqliteQueueCycleFull(benchmark::State& state) {
  SqliteCycle(state, true);
}
void BM_SqliteQueueCycleNormal(benchmark::State& state) {
  SqliteCycle(state, false);
}

void SendArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"producers", "batch"});
  for (int producers : {1, 4, 16}) {
    for (int batch : {1, 10}) b->Args({producers, batch});
  }
  b->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_RedisReliableQueue)
    ->ArgName("pipeline")
    ->Arg(1)
    ->Arg(16)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RedisStream)
    ->ArgName("pipeline")
    ->Arg(1)
    ->Arg(16)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteQueueSendFull)->Apply(SendArgs);
BENCHMARK(BM_SqliteQueueSendNormal)->Apply(SendArgs);
BENCHMARK(BM_SqliteQueueCycleFull)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteQueueCycleNormal)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

bool ParseOwnFlags(int* argc, char** argv) {
  bool full = true;
  bool ok =
      bench::ParseBenchFlags(argc, argv, &full,
                             {{"redis",
                               [](std::string_view v) {
                                 g_redis = std::string(v);
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
  return ferry::bench::RunBenchmarks(
      argc, argv, ferry::g_scale.name,
      {{"sqlite_version", sqlite3_libversion()}});
}
