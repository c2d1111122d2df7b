// Throughput and latency of the in-memory standard queue on the native API,
// each figure beside the raw moodycamel::ConcurrentQueue limit it is judged
// against, measured in the same run (DESIGN.md principle 6).
//
// Usage:
//   queue_benchmark [--scale=smoke|full] [--pin=true|false] [benchmark flags]
//
//   --scale=full   (default) the real measurement; see bench/RESULTS.md.
//   --scale=smoke  tiny fixed sizes so that each benchmark takes well under a
//                  second (ctest runs it so).
//   --pin=true     (default) pins worker thread i to allowed CPU i mod ncpu:
//                  producer k and consumer k land on different CPUs when
//                  there are two of them.
//
// The multi-threaded benchmarks run P producer and C consumer threads over a
// fixed number of messages per iteration and time, by hand, the span from
// releasing the threads to the last consumer finishing; thread start-up is
// not timed. A message counts when it is consumed (raw) or deleted (ferry).
// Producers never run more than `backlog` messages ahead of the consumers,
// so memory stays bounded and both sides are measured under the same rule.
//
// After the runs a table gives every ferry figure as a share of its raw
// limit, with the goals of the performance brief.

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
// GCC 12 reports a false -Wstringop-overflow inside moodycamel's
// enqueue_bulk with a producer token (an atomic load it believes writes).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
#include "concurrentqueue.h"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include "bench_flags.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/queue.h"

namespace ferry {
namespace {

using Clock = std::chrono::steady_clock;
using RawQueue = moodycamel::ConcurrentQueue<uint64_t>;

// ---- Scale, pinning ---------------------------------------------------------

struct Scale {
  const char* name;
  // Messages per iteration of a multi-threaded raw benchmark.
  int64_t raw_messages;
  // Messages per iteration of a multi-threaded ferry benchmark.
  int64_t ferry_messages;
  // Depth of the pre-filled queue of the single-thread dequeue/receive
  // benchmarks, and the most a single-thread send benchmark lets pile up.
  int64_t prefill;
  // The most messages producers may be ahead of consumers.
  int64_t backlog;
  // Samples of a handoff-latency benchmark.
  int latency_samples;
};

constexpr Scale kSmoke{"smoke", 1 << 12, 1 << 10, 1 << 10, 1 << 10, 20};
constexpr Scale kFull{"full", 1 << 22, 1 << 19, 1 << 16, 1 << 16, 10000};

Scale g_scale = kFull;
bool g_pin = true;
std::vector<int> g_cpus;  // CPUs this process may run on

// How often (in messages) a worker publishes its progress; the backlog check
// costs a few cache misses per publication.
constexpr int64_t kPublishEvery = 128;
// Pause before each latency sample so that a long-polling consumer is parked.
constexpr auto kParkGap = std::chrono::microseconds(300);
constexpr char kBody[] = "01234567";  // 8-byte message body

void InitCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) g_cpus.push_back(cpu);
    }
  }
}

// Pins the calling thread to the `slot`-th allowed CPU (modulo their count).
void PinThread(int slot) {
  if (!g_pin || g_cpus.size() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(g_cpus[static_cast<size_t>(slot) % g_cpus.size()], &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// CPU time of the calling thread (ns).
int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// Waiting for another thread: spins for a while (~20-40 us), then yields.
// Yielding at once would, on a machine shared with other work, hand the CPU
// to another process for a whole time slice (milliseconds).
class Backoff {
 public:
  void Wait() {
    if (spins_ < kSpins) {
      ++spins_;
      for (int i = 0; i < 16; ++i) __builtin_ia32_pause();
    } else {
      std::this_thread::yield();
    }
  }
  void Reset() { spins_ = 0; }

 private:
  static constexpr int kSpins = 64;
  int spins_ = 0;
};

// ---- The producer/consumer harness ------------------------------------------

struct alignas(64) PaddedCounter {
  std::atomic<int64_t> value{0};
};

// Shared state of one iteration of a P-producer / C-consumer run.
class Flow {
 public:
  Flow(int producers, int consumers, int64_t backlog)
      : produced_(producers),
        consumed_(consumers),
        finished_(consumers),
        backlog_(std::max(backlog, 2 * kPublishEvery * (consumers + 1))) {}

  // Every worker calls Start after its untimed set-up; it returns when all
  // workers are ready and the clock runs.
  void Start() {
    ready_.fetch_add(1, std::memory_order_acq_rel);
    Backoff backoff;
    while (!go_.load(std::memory_order_acquire) && !aborted()) backoff.Wait();
  }

  // Producer `p` has produced `done` and wants to produce `n` more: publishes
  // its progress and waits until the backlog leaves room. False on abort.
  bool WaitForRoom(int p, int64_t done, int64_t n) {
    produced_[p].value.store(done, std::memory_order_release);
    if (aborted()) return false;
    Backoff backoff;
    while (Backlog() + n > backlog_) {
      if (aborted()) return false;
      backoff.Wait();
    }
    return true;
  }
  void Produced(int p, int64_t done) {
    produced_[p].value.store(done, std::memory_order_release);
  }
  void Consumed(int c, int64_t done) {
    consumed_[c].value.store(done, std::memory_order_release);
  }
  void Finished(int c) {
    finished_[c].value.store(NowNanos(), std::memory_order_release);
  }

  void Fail(std::string message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (error_.empty()) error_ = std::move(message);
    abort_.store(true, std::memory_order_release);
  }
  bool aborted() const { return abort_.load(std::memory_order_acquire); }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  // Waits until `workers` workers have called Start, then releases them.
  // Returns the release time (ns).
  int64_t Release(int workers) {
    Backoff backoff;
    while (ready_.load(std::memory_order_acquire) < workers && !aborted()) {
      backoff.Wait();
    }
    const int64_t start = NowNanos();
    go_.store(true, std::memory_order_release);
    return start;
  }
  // The latest consumer finish time (ns), at least `start`.
  int64_t LastFinish(int64_t start) const {
    int64_t end = start;
    for (const PaddedCounter& f : finished_) {
      end = std::max(end, f.value.load(std::memory_order_acquire));
    }
    return end;
  }

 private:
  int64_t Backlog() const {
    int64_t backlog = 0;
    for (const PaddedCounter& c : produced_) {
      backlog += c.value.load(std::memory_order_acquire);
    }
    for (const PaddedCounter& c : consumed_) {
      backlog -= c.value.load(std::memory_order_acquire);
    }
    return backlog;
  }

  std::vector<PaddedCounter> produced_;
  std::vector<PaddedCounter> consumed_;
  std::vector<PaddedCounter> finished_;
  const int64_t backlog_;
  alignas(64) std::atomic<int> ready_{0};
  std::atomic<bool> go_{false};
  std::atomic<bool> abort_{false};
  std::mutex mu_;
  std::string error_;
};

// The worker threads of a P/C benchmark. The same threads run every round
// (the warm-up and each timed iteration), as an application's long-lived
// threads would, so per-thread state in ferry (a producer's shard) and in
// moodycamel stays warm.
class Crew {
 public:
  // `work(flow, index, count)`: one round of a producer or consumer.
  using Work = std::function<void(Flow&, int, int64_t)>;

  Crew(int producers, int consumers, Work producer, Work consumer)
      : producers_(producers),
        consumers_(consumers),
        producer_(std::move(producer)),
        consumer_(std::move(consumer)) {
    for (int i = 0; i < producers + consumers; ++i) {
      threads_.emplace_back([this, i] { Loop(i); });
    }
  }
  Crew(const Crew&) = delete;
  Crew& operator=(const Crew&) = delete;
  ~Crew() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    start_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // CPU time the workers spent in rounds so far (ns), waiting included.
  int64_t cpu_nanos() {
    std::lock_guard<std::mutex> lock(mu_);
    return cpu_nanos_;
  }

  // Moves `n` messages (a multiple of both thread counts). Returns the
  // seconds from the release of the workers to the last consumer's finish,
  // or a negative value with `*error` set.
  double Round(int64_t n, std::string* error) {
    Flow flow(producers_, consumers_, g_scale.backlog);
    {
      std::lock_guard<std::mutex> lock(mu_);
      flow_ = &flow;
      per_producer_ = n / producers_;
      per_consumer_ = n / consumers_;
      done_ = 0;
      ++round_;
    }
    start_cv_.notify_all();
    const int64_t start = flow.Release(producers_ + consumers_);
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [&] { return done_ == producers_ + consumers_; });
      flow_ = nullptr;
    }
    if (flow.aborted()) {
      *error = flow.error();
      return -1;
    }
    return static_cast<double>(flow.LastFinish(start) - start) * 1e-9;
  }

 private:
  void Loop(int i) {
    const bool producer = i < producers_;
    const int index = producer ? i : i - producers_;
    // Producer k and consumer k on different CPUs when there are two.
    PinThread(producer ? index : index + 1);
    uint64_t seen = 0;
    for (;;) {
      Flow* flow;
      int64_t n;
      {
        std::unique_lock<std::mutex> lock(mu_);
        start_cv_.wait(lock, [&] { return stop_ || round_ != seen; });
        if (stop_) return;
        seen = round_;
        flow = flow_;
        n = producer ? per_producer_ : per_consumer_;
      }
      const int64_t cpu = ThreadCpuNanos();
      (producer ? producer_ : consumer_)(*flow, index, n);
      const int64_t used = ThreadCpuNanos() - cpu;
      std::lock_guard<std::mutex> lock(mu_);
      cpu_nanos_ += used;
      if (++done_ == producers_ + consumers_) done_cv_.notify_one();
    }
  }

  const int producers_;
  const int consumers_;
  const Work producer_;
  const Work consumer_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  bool stop_ = false;
  uint64_t round_ = 0;
  Flow* flow_ = nullptr;
  int64_t per_producer_ = 0;
  int64_t per_consumer_ = 0;
  int done_ = 0;
  int64_t cpu_nanos_ = 0;
};

// Producer side of a run: produces `count` messages in calls of `batch`
// through `emit(n)` (which returns false on failure), respecting the
// backlog.
template <typename Emit>
void Produce(Flow& flow, int index, int64_t count, int64_t batch, Emit emit) {
  int64_t done = 0;
  while (done < count) {
    const int64_t chunk =
        std::min(count - done, (kPublishEvery + batch - 1) / batch * batch);
    if (!flow.WaitForRoom(index, done, chunk)) return;
    for (int64_t k = 0; k < chunk; k += batch) {
      if (!emit(std::min(batch, chunk - k))) return;
    }
    done += chunk;
  }
  flow.Produced(index, done);
}

// Consumer side of a run: consumes `count` messages through `take(max)`,
// which returns how many it consumed (0 when none was available, < 0 on
// failure).
template <typename Take>
void Consume(Flow& flow, int index, int64_t count, int64_t batch, Take take) {
  int64_t done = 0;
  int64_t published = 0;
  Backoff backoff;
  while (done < count) {
    const int64_t got = take(std::min(batch, count - done));
    if (got < 0) return;
    if (got == 0) {
      if (flow.aborted()) return;
      backoff.Wait();
      continue;
    }
    backoff.Reset();
    done += got;
    if (done - published >= kPublishEvery) {
      flow.Consumed(index, done);
      published = done;
      if (flow.aborted()) return;
    }
  }
  flow.Consumed(index, done);
  flow.Finished(index);
}

// Runs the benchmark loop of a P/C benchmark: each iteration moves about
// `messages` messages (rounded to whole batches per thread).
void RunFlowBenchmark(
    benchmark::State& state, int64_t messages, int64_t batch,
    const std::function<void(Flow&, int, int64_t)>& producer,
    const std::function<void(Flow&, int, int64_t)>& consumer) {
  const int p = static_cast<int>(state.range(0));
  const int c = static_cast<int>(state.range(1));
  const int64_t unit = batch * p * c;
  const int64_t total = std::max<int64_t>(1, messages / unit) * unit;
  Crew crew(p, c, producer, consumer);
  // Moves `n` messages; the seconds taken, or negative after SkipWithError.
  auto run = [&](int64_t n) {
    std::string error;
    const double seconds = crew.Round(n, &error);
    if (seconds < 0) state.SkipWithError(error.c_str());
    return seconds;
  };
  // Untimed warm-up: the first fill allocates (and page-faults) the queue's
  // memory, which moodycamel and ferry alike keep and reuse afterwards.
  const int64_t warm = std::min(total, 2 * g_scale.backlog / unit * unit);
  if (warm > 0 && run(warm) < 0) return;
  const int64_t warm_cpu = crew.cpu_nanos();
  int64_t items = 0;
  for (auto _ : state) {
    const double seconds = run(total);
    if (seconds < 0) break;
    state.SetIterationTime(seconds);
    items += total;
  }
  state.SetItemsProcessed(items);
  state.counters["backlog"] = static_cast<double>(g_scale.backlog);
  // CPU the workers burnt per message (waits and yields included): a figure
  // that a busy machine disturbs less than the rate.
  if (items > 0) {
    state.counters["cpu_ns_per_msg"] =
        static_cast<double>(crew.cpu_nanos() - warm_cpu) /
        static_cast<double>(items);
  }
}

// ---- Raw limits: moodycamel::ConcurrentQueue<uint64_t> ----------------------

// Single-item enqueue + dequeue with producer and consumer tokens.
void BM_RawEnqueueDequeue(benchmark::State& state) {
  RawQueue queue;
  RunFlowBenchmark(
      state, g_scale.raw_messages, 1,
      [&](Flow& flow, int i, int64_t count) {
        moodycamel::ProducerToken token(queue);
        uint64_t next = 0;
        flow.Start();
        Produce(flow, i, count, 1, [&](int64_t) {
          queue.enqueue(token, next++);
          return true;
        });
      },
      [&](Flow& flow, int i, int64_t count) {
        moodycamel::ConsumerToken token(queue);
        uint64_t item;
        flow.Start();
        Consume(flow, i, count, 1, [&](int64_t) -> int64_t {
          return queue.try_dequeue(token, item) ? 1 : 0;
        });
        benchmark::DoNotOptimize(item);
      });
}

// Bulk enqueue + dequeue of 10 with tokens.
void BM_RawBulkEnqueueDequeue(benchmark::State& state) {
  RawQueue queue;
  RunFlowBenchmark(
      state, g_scale.raw_messages, 10,
      [&](Flow& flow, int i, int64_t count) {
        moodycamel::ProducerToken token(queue);
        uint64_t items[10];
        uint64_t next = 0;
        flow.Start();
        Produce(flow, i, count, 10, [&](int64_t n) {
          for (int64_t k = 0; k < n; ++k) items[k] = next++;
          queue.enqueue_bulk(token, items, static_cast<size_t>(n));
          return true;
        });
      },
      [&](Flow& flow, int i, int64_t count) {
        moodycamel::ConsumerToken token(queue);
        uint64_t items[10];
        flow.Start();
        Consume(flow, i, count, 10, [&](int64_t max) -> int64_t {
          return static_cast<int64_t>(
              queue.try_dequeue_bulk(token, items, static_cast<size_t>(max)));
        });
        benchmark::DoNotOptimize(items);
      });
}

// Single thread: enqueue with a token (drained, untimed, every `prefill`).
void BM_RawEnqueue(benchmark::State& state) {
  RawQueue queue;
  moodycamel::ProducerToken token(queue);
  moodycamel::ConsumerToken consumer(queue);
  auto drain = [&] {
    uint64_t item;
    while (queue.try_dequeue(consumer, item)) {
    }
  };
  uint64_t next = 0;
  // Untimed warm-up: one fill allocates the blocks reused afterwards.
  for (int64_t i = 0; i < g_scale.prefill; ++i) queue.enqueue(token, next++);
  drain();
  int64_t pending = 0;
  for (auto _ : state) {
    queue.enqueue(token, next++);
    if (++pending == g_scale.prefill) {
      state.PauseTiming();
      drain();
      pending = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Single thread: dequeue with a token from a pre-filled queue (refilled,
// untimed, when empty).
void BM_RawDequeue(benchmark::State& state) {
  RawQueue queue;
  moodycamel::ProducerToken producer(queue);
  moodycamel::ConsumerToken token(queue);
  auto fill = [&] {
    for (int64_t i = 0; i < g_scale.prefill; ++i) {
      queue.enqueue(producer, static_cast<uint64_t>(i));
    }
  };
  fill();
  int64_t left = g_scale.prefill;
  uint64_t item = 0;
  for (auto _ : state) {
    if (!queue.try_dequeue(token, item)) {
      state.SkipWithError("raw queue unexpectedly empty");
      break;
    }
    benchmark::DoNotOptimize(item);
    if (--left == 0) {
      state.PauseTiming();
      fill();
      left = g_scale.prefill;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- ferry: native API, memory backend, standard queue, real clock ----------

struct FerryQueue {
  std::unique_ptr<Broker> broker;
  Queue queue;
};

absl::StatusOr<FerryQueue> OpenQueue(std::string_view name) {
  absl::StatusOr<std::unique_ptr<Broker>> broker =
      Broker::Open({}, NewMemoryBackend());
  if (!broker.ok()) return broker.status();
  absl::StatusOr<Queue> queue = (*broker)->CreateQueue(name);
  if (!queue.ok()) return queue.status();
  return FerryQueue{*std::move(broker), *std::move(queue)};
}

// Fills `queue` with `count` messages through SendBatch.
absl::Status Fill(Queue& queue, int64_t count) {
  const std::vector<std::string> bodies(10, kBody);
  for (int64_t done = 0; done < count; done += 10) {
    const size_t n = static_cast<size_t>(std::min<int64_t>(10, count - done));
    absl::StatusOr<std::vector<SendResult>> sent =
        queue.SendBatch(std::span(bodies.data(), n));
    if (!sent.ok()) return sent.status();
  }
  return absl::OkStatus();
}

// Receive options of the benchmarks: at most `max` messages, waiting `wait`.
ReceiveOptions Poll(int max, absl::Duration wait) {
  ReceiveOptions options;
  options.max_messages = max;
  options.wait_time = wait;
  return options;
}

const ReceiveOptions kShortPoll1 = Poll(1, absl::ZeroDuration());

// (a) Send -> Receive(max 1, short poll) -> Delete of single messages.
void BM_SendReceiveDelete(benchmark::State& state) {
  absl::StatusOr<FerryQueue> fq = OpenQueue("bench-cycle");
  if (!fq.ok()) {
    state.SkipWithError(fq.status().ToString().c_str());
    return;
  }
  Queue& queue = fq->queue;
  RunFlowBenchmark(
      state, g_scale.ferry_messages, 1,
      [&](Flow& flow, int i, int64_t count) {
        flow.Start();
        Produce(flow, i, count, 1, [&](int64_t) {
          absl::StatusOr<SendResult> sent = queue.Send(kBody);
          if (!sent.ok()) flow.Fail(sent.status().ToString());
          return sent.ok();
        });
      },
      [&](Flow& flow, int i, int64_t count) {
        flow.Start();
        Consume(flow, i, count, 1, [&](int64_t) -> int64_t {
          absl::StatusOr<std::vector<ReceivedMessage>> got =
              queue.Receive(kShortPoll1);
          if (!got.ok()) {
            flow.Fail(got.status().ToString());
            return -1;
          }
          for (const ReceivedMessage& m : *got) {
            absl::Status deleted = queue.Delete(m.receipt);
            if (!deleted.ok()) {
              flow.Fail(deleted.ToString());
              return -1;
            }
          }
          return static_cast<int64_t>(got->size());
        });
      });
}

// (b) SendBatch(10) -> Receive(max 10, short poll) -> DeleteBatch.
void BM_SendReceiveDeleteBatch(benchmark::State& state) {
  absl::StatusOr<FerryQueue> fq = OpenQueue("bench-cycle-batch");
  if (!fq.ok()) {
    state.SkipWithError(fq.status().ToString().c_str());
    return;
  }
  Queue& queue = fq->queue;
  const std::vector<std::string> bodies(10, kBody);
  RunFlowBenchmark(
      state, g_scale.ferry_messages, 10,
      [&](Flow& flow, int i, int64_t count) {
        flow.Start();
        Produce(flow, i, count, 10, [&](int64_t n) {
          absl::StatusOr<std::vector<SendResult>> sent =
              queue.SendBatch(std::span(bodies.data(), static_cast<size_t>(n)));
          if (!sent.ok()) flow.Fail(sent.status().ToString());
          return sent.ok();
        });
      },
      [&](Flow& flow, int i, int64_t count) {
        std::vector<std::string> receipts;
        receipts.reserve(10);
        flow.Start();
        Consume(flow, i, count, 10, [&](int64_t max) -> int64_t {
          absl::StatusOr<std::vector<ReceivedMessage>> got =
              queue.Receive(Poll(static_cast<int>(max), absl::ZeroDuration()));
          if (!got.ok()) {
            flow.Fail(got.status().ToString());
            return -1;
          }
          if (got->empty()) return 0;
          receipts.clear();
          for (ReceivedMessage& m : *got) {
            receipts.push_back(std::move(m.receipt));
          }
          absl::Status deleted = queue.DeleteBatch(receipts);
          if (!deleted.ok()) {
            flow.Fail(deleted.ToString());
            return -1;
          }
          return static_cast<int64_t>(receipts.size());
        });
      });
}

// (c) Single thread: Send only (purged, untimed, every `prefill` messages).
void BM_Send(benchmark::State& state) {
  absl::StatusOr<FerryQueue> fq = OpenQueue("bench-send");
  if (!fq.ok()) {
    state.SkipWithError(fq.status().ToString().c_str());
    return;
  }
  Queue& queue = fq->queue;
  // Untimed warm-up: one fill grows the queue's slots, reused afterwards.
  absl::Status warm = Fill(queue, g_scale.prefill);
  if (warm.ok()) warm = queue.Purge();
  if (!warm.ok()) {
    state.SkipWithError(warm.ToString().c_str());
    return;
  }
  int64_t pending = 0;
  for (auto _ : state) {
    absl::StatusOr<SendResult> sent = queue.Send(kBody);
    if (!sent.ok()) {
      state.SkipWithError(sent.status().ToString().c_str());
      break;
    }
    if (++pending == g_scale.prefill) {
      state.PauseTiming();
      absl::Status purged = queue.Purge();
      pending = 0;
      state.ResumeTiming();
      if (!purged.ok()) {
        state.SkipWithError(purged.ToString().c_str());
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// (c) Single thread: Receive(max 1) + Delete from a pre-filled queue
// (refilled, untimed, when empty).
void BM_ReceiveDelete(benchmark::State& state) {
  absl::StatusOr<FerryQueue> fq = OpenQueue("bench-receive");
  if (!fq.ok()) {
    state.SkipWithError(fq.status().ToString().c_str());
    return;
  }
  Queue& queue = fq->queue;
  if (absl::Status s = Fill(queue, g_scale.prefill); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  int64_t left = g_scale.prefill;
  for (auto _ : state) {
    absl::StatusOr<std::vector<ReceivedMessage>> got =
        queue.Receive(kShortPoll1);
    if (!got.ok() || got->size() != 1) {
      state.SkipWithError(got.ok() ? "pre-filled queue returned no message"
                                   : got.status().ToString().c_str());
      break;
    }
    if (absl::Status s = queue.Delete(got->front().receipt); !s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    if (--left == 0) {
      state.PauseTiming();
      absl::Status filled = Fill(queue, g_scale.prefill);
      left = g_scale.prefill;
      state.ResumeTiming();
      if (!filled.ok()) {
        state.SkipWithError(filled.ToString().c_str());
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["prefill"] = static_cast<double>(g_scale.prefill);
}

// ---- Handoff latency --------------------------------------------------------

// Reports percentiles of `nanos` as counters in microseconds.
void ReportLatency(benchmark::State& state, std::vector<int64_t> nanos) {
  if (nanos.empty()) return;
  std::sort(nanos.begin(), nanos.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(nanos.size()));
    return static_cast<double>(nanos[std::min(i, nanos.size() - 1)]) * 1e-3;
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["p999_us"] = at(0.999);
  state.counters["max_us"] = static_cast<double>(nanos.back()) * 1e-3;
  state.counters["samples"] = static_cast<double>(nanos.size());
}

// One-way handoff latency: a consumer thread repeatedly arms (`wait`, which
// returns the timestamp the producer stamped), a producer thread waits until
// it is armed, pauses kParkGap, stamps the time and hands one message over
// (`hand`). Measures stamp -> the consumer holding the message.
struct Handoff {
  std::function<bool()> hand;           // producer: hand over one message
  std::function<bool(int64_t*)> await;  // consumer: take one, false on error
};

std::vector<int64_t> MeasureHandoff(benchmark::State& state, Handoff& h,
                                    std::atomic<int64_t>& stamp,
                                    std::string* error) {
  const int n = g_scale.latency_samples;
  std::vector<int64_t> nanos(static_cast<size_t>(n));
  std::atomic<int> armed{0};
  std::atomic<int> taken{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  auto fail = [&](std::string message) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (error->empty()) *error = std::move(message);
    failed.store(true);
  };
  std::thread consumer([&] {
    PinThread(1);
    for (int i = 0; i < n && !failed.load(); ++i) {
      armed.store(i + 1, std::memory_order_release);
      int64_t received_at = 0;
      if (!h.await(&received_at)) {
        fail("consumer: receive failed or returned nothing");
        return;
      }
      nanos[static_cast<size_t>(i)] =
          received_at - stamp.load(std::memory_order_acquire);
      taken.store(i + 1, std::memory_order_release);
    }
  });
  std::thread producer([&] {
    PinThread(0);
    for (int i = 0; i < n && !failed.load(); ++i) {
      Backoff backoff;
      while (armed.load(std::memory_order_acquire) != i + 1) {
        if (failed.load()) return;
        backoff.Wait();
      }
      std::this_thread::sleep_for(kParkGap);
      stamp.store(NowNanos(), std::memory_order_release);
      if (!h.hand()) {
        fail("producer: send failed");
        return;
      }
      backoff.Reset();
      while (taken.load(std::memory_order_acquire) != i + 1) {
        if (failed.load()) return;
        backoff.Wait();
      }
    }
  });
  producer.join();
  consumer.join();
  if (failed.load()) return {};
  return nanos;
}

// Runs one handoff measurement as a single iteration.
void RunHandoffBenchmark(benchmark::State& state, Handoff& h,
                         std::atomic<int64_t>& stamp) {
  std::vector<int64_t> nanos;
  std::string error;
  for (auto _ : state) {
    nanos = MeasureHandoff(state, h, stamp, &error);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
  }
  ReportLatency(state, std::move(nanos));
}

// A consumer parked in Receive(wait_time 20 s); the producer Sends one
// message. Latency: before Send -> Receive returned.
void BM_LongPollHandoffLatency(benchmark::State& state) {
  absl::StatusOr<FerryQueue> fq = OpenQueue("bench-long-poll");
  if (!fq.ok()) {
    state.SkipWithError(fq.status().ToString().c_str());
    return;
  }
  Queue& queue = fq->queue;
  std::atomic<int64_t> stamp{0};
  Handoff h;
  h.hand = [&] { return queue.Send(kBody).ok(); };
  h.await = [&](int64_t* at) {
    absl::StatusOr<std::vector<ReceivedMessage>> got =
        queue.Receive(Poll(1, absl::Seconds(20)));
    *at = NowNanos();
    if (!got.ok() || got->size() != 1) return false;
    return queue.Delete(got->front().receipt).ok();
  };
  RunHandoffBenchmark(state, h, stamp);
}

// A consumer spinning on short-poll Receive(wait_time 0) on its own CPU.
void BM_ShortPollSpinHandoffLatency(benchmark::State& state) {
  absl::StatusOr<FerryQueue> fq = OpenQueue("bench-short-poll");
  if (!fq.ok()) {
    state.SkipWithError(fq.status().ToString().c_str());
    return;
  }
  Queue& queue = fq->queue;
  std::atomic<int64_t> stamp{0};
  Handoff h;
  h.hand = [&] { return queue.Send(kBody).ok(); };
  h.await = [&](int64_t* at) {
    for (;;) {
      absl::StatusOr<std::vector<ReceivedMessage>> got =
          queue.Receive(kShortPoll1);
      if (!got.ok()) return false;
      if (got->empty()) continue;
      *at = NowNanos();
      return queue.Delete(got->front().receipt).ok();
    }
  };
  RunHandoffBenchmark(state, h, stamp);
}

// Raw limit of a parked handoff: std::mutex + std::condition_variable.
void BM_RawCondVarHandoffLatency(benchmark::State& state) {
  std::mutex mu;
  std::condition_variable cv;
  bool full = false;
  std::atomic<int64_t> stamp{0};
  Handoff h;
  h.hand = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      full = true;
    }
    cv.notify_one();
    return true;
  };
  h.await = [&](int64_t* at) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return full; });
    *at = NowNanos();
    full = false;
    return true;
  };
  RunHandoffBenchmark(state, h, stamp);
}

// Raw limit of a spinning handoff: moodycamel try_dequeue in a loop.
void BM_RawSpinHandoffLatency(benchmark::State& state) {
  RawQueue queue;
  std::atomic<int64_t> stamp{0};
  Handoff h;
  h.hand = [&] { return queue.enqueue(1); };
  h.await = [&](int64_t* at) {
    uint64_t item;
    while (!queue.try_dequeue(item)) {
    }
    *at = NowNanos();
    return true;
  };
  RunHandoffBenchmark(state, h, stamp);
}

void FlowArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"producers", "consumers"})
      ->Args({1, 1})
      ->Args({2, 2})
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_RawEnqueueDequeue)->Apply(FlowArgs);
BENCHMARK(BM_RawBulkEnqueueDequeue)->Apply(FlowArgs);
BENCHMARK(BM_RawEnqueue);
BENCHMARK(BM_RawDequeue);
BENCHMARK(BM_SendReceiveDelete)->Apply(FlowArgs);
BENCHMARK(BM_SendReceiveDeleteBatch)->Apply(FlowArgs);
BENCHMARK(BM_Send);
BENCHMARK(BM_ReceiveDelete);
BENCHMARK(BM_RawSpinHandoffLatency)->Iterations(1)->UseRealTime();
BENCHMARK(BM_ShortPollSpinHandoffLatency)->Iterations(1)->UseRealTime();
BENCHMARK(BM_RawCondVarHandoffLatency)->Iterations(1)->UseRealTime();
BENCHMARK(BM_LongPollHandoffLatency)->Iterations(1)->UseRealTime();

// ---- Ratio table ------------------------------------------------------------

// Forwards to the display reporter and keeps, for every counter of every
// benchmark instance ("BM_Name/arg:1/arg:2"), its mean and its largest value
// over the repetitions, for the ratio table.
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit CollectingReporter(benchmark::BenchmarkReporter* display)
      : display_(display) {}

  bool ReportContext(const Context& context) override {
    return display_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      std::string key = run.run_name.function_name;
      if (!run.run_name.args.empty()) key += "/" + run.run_name.args;
      for (const auto& [name, counter] : run.counters) {
        Stat& stat = results_[key][name];
        stat.sum += counter.value;
        stat.max =
            stat.count == 0 ? counter.value : std::max(stat.max, counter.value);
        ++stat.count;
      }
    }
  }
  void Finalize() override { display_->Finalize(); }

  // The mean of `counter` of `key`; NaN if it did not run.
  double Mean(const std::string& key, const std::string& counter) const {
    const Stat* s = Find(key, counter);
    return s == nullptr ? std::nan("") : s->sum / s->count;
  }
  // The largest value of `counter` of `key`; NaN if it did not run.
  double Max(const std::string& key, const std::string& counter) const {
    const Stat* s = Find(key, counter);
    return s == nullptr ? std::nan("") : s->max;
  }

 private:
  struct Stat {
    double sum = 0;
    double max = 0;
    int count = 0;
  };
  const Stat* Find(const std::string& key, const std::string& counter) const {
    auto it = results_.find(key);
    if (it == results_.end()) return nullptr;
    auto c = it->second.find(counter);
    if (c == it->second.end() || c->second.count == 0) return nullptr;
    return &c->second;
  }

  benchmark::BenchmarkReporter* display_;
  std::map<std::string, std::map<std::string, Stat>> results_;
};

void PrintRatios(const CollectingReporter& r) {
  struct Row {
    const char* what;
    const char* ferry;
    const char* raw;
    const char* raw_what;
    double goal;  // 0: informational
  };
  const Row rows[] = {
      {"ferry cycle 1P1C", "BM_SendReceiveDelete/producers:1/consumers:1",
       "BM_RawEnqueueDequeue/producers:1/consumers:1",
       "raw moodycamel 1P1C tokens", 0.25},
      {"ferry cycle 2P2C", "BM_SendReceiveDelete/producers:2/consumers:2",
       "BM_RawEnqueueDequeue/producers:2/consumers:2",
       "raw moodycamel 2P2C tokens", 0.25},
      {"ferry batch-10 cycle 1P1C",
       "BM_SendReceiveDeleteBatch/producers:1/consumers:1",
       "BM_RawBulkEnqueueDequeue/producers:1/consumers:1",
       "raw moodycamel bulk-10 1P1C tokens", 0.25},
      {"ferry batch-10 cycle 2P2C",
       "BM_SendReceiveDeleteBatch/producers:2/consumers:2",
       "BM_RawBulkEnqueueDequeue/producers:2/consumers:2",
       "raw moodycamel bulk-10 2P2C tokens", 0.25},
      {"ferry Send, 1 thread", "BM_Send", "BM_RawEnqueue",
       "raw moodycamel enqueue, 1 thread", 0},
      {"ferry Receive+Delete, 1 thread", "BM_ReceiveDelete", "BM_RawDequeue",
       "raw moodycamel dequeue, 1 thread", 0},
  };
  std::printf(
      "\nferry vs raw limits (same run, --scale=%s; means over repetitions):\n",
      g_scale.name);
  for (const Row& row : rows) {
    const double f = r.Mean(row.ferry, "items_per_second");
    const double raw = r.Mean(row.raw, "items_per_second");
    if (std::isnan(f) || std::isnan(raw) || raw <= 0) {
      std::printf("  %-31s: not run\n", row.what);
      continue;
    }
    const double share = f / raw;
    std::printf("  %-31s: %7.3f M msg/s = %5.1f%% of %s (%.2f M msg/s)",
                row.what, f * 1e-6, share * 100, row.raw_what, raw * 1e-6);
    if (row.goal > 0) {
      std::printf("  goal >= %.0f%%: %s", row.goal * 100,
                  share >= row.goal ? "met" : "NOT MET");
    }
    std::printf("\n");
  }
  const std::pair<const char*, const char*> latencies[] = {
      {"raw moodycamel spin handoff", "BM_RawSpinHandoffLatency"},
      {"ferry short-poll spin handoff", "BM_ShortPollSpinHandoffLatency"},
      {"raw condvar (parked) handoff", "BM_RawCondVarHandoffLatency"},
      {"ferry long-poll (parked) handoff", "BM_LongPollHandoffLatency"},
  };
  std::printf(
      "\nhandoff latency, send -> consumer holds it (us; percentiles: mean "
      "over repetitions, max: largest):\n");
  for (const auto& [what, key] : latencies) {
    const double p50 = r.Mean(key, "p50_us");
    if (std::isnan(p50)) {
      std::printf("  %-33s: not run\n", what);
      continue;
    }
    std::printf("  %-33s: p50 %8.2f  p99 %8.2f  p99.9 %8.2f  max %9.2f\n", what,
                p50, r.Mean(key, "p99_us"), r.Mean(key, "p999_us"),
                r.Max(key, "max_us"));
  }
  std::fflush(stdout);
}

// Parses and removes --scale= and --pin= from argv. False on a bad value.
bool ParseOwnFlags(int* argc, char** argv) {
  bool full = true;
  bool ok = bench::ParseBenchFlags(
      argc, argv, &full, {{"pin", [](std::string_view v) {
                             if (v != "true" && v != "false") {
                               std::fprintf(stderr,
                                            "--pin must be true or false\n");
                               return false;
                             }
                             g_pin = v == "true";
                             return true;
                           }}});
  g_scale = full ? kFull : kSmoke;
  return ok;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  if (!ferry::ParseOwnFlags(&argc, argv)) return 2;
  ferry::InitCpus();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("ferry_scale", ferry::g_scale.name);
  benchmark::AddCustomContext("ferry_pin", ferry::g_pin ? "true" : "false");
  std::unique_ptr<benchmark::BenchmarkReporter> display(
      benchmark::CreateDefaultDisplayReporter());
  ferry::CollectingReporter reporter(display.get());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  ferry::PrintRatios(reporter);
  benchmark::Shutdown();
  return 0;
}
