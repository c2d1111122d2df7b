// SNS fan-out throughput on the native API (issue 4 "Benchmarks"): publishes
// per second to a topic with 1,000 filtered subscriptions of which ~1% match
// each message (10 deliveries per publish), raw delivery to queues of the
// same in-memory broker, beside the raw limit measured in the same run: the
// same 10 deliveries done as direct Queue::Send calls (DESIGN.md principle 6).
//
// Usage:
//   sns_benchmark [--scale=smoke|full] [benchmark flags]
//
//   --scale=full   (default) 1,000 subscriptions, 1,000 queues.
//   --scale=smoke  100 subscriptions (ctest runs it so).
//
// Policy mix: subscription i has {"bucket":["b<i mod 100>"]} in
// MessageAttributes scope (exact strings), so a publish with bucket b<j>
// matches the 10 subscriptions i = j, j+100, ... (1%). Each subscription has
// its own queue; messages carry one String attribute and a 64-byte body.
//
// Benchmarks:
//   BM_Publish_NoSubscribers   the cost of Publish itself
//   BM_FanOut_Publish          publish only; queues are purged every 4,096
//                              publishes with timing paused
//   BM_FanOut_PublishAndDrain  publish, and every 64 publishes each touched
//                              queue is received (10 at a time) and deleted,
//                              timed
//   BM_Raw_DirectSends         the raw limit: 10 Queue::Send per iteration to
//                              the queues a publish would reach (purged as in
//                              BM_FanOut_Publish)
// items_per_second is publishes (or the equivalent 10 sends) per second.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_flags.h"
#include "benchmark/benchmark.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/topic.h"

namespace ferry {
namespace {

int g_subscriptions = 1000;
constexpr int kBuckets = 100;
constexpr int kPurgeEvery = 4096;
constexpr int kDrainEvery = 64;

struct Fixture {
  std::unique_ptr<Broker> broker;
  Topic topic;
  std::vector<Queue> queues;                    // queues[i] is subscription i's
  std::vector<MessageAttributeMap> attributes;  // per bucket
  std::string body = std::string(64, 'x');

  explicit Fixture(int subscriptions) {
    broker = *Broker::Open({}, NewMemoryBackend());
    topic = *broker->CreateTopic("events");
    for (int i = 0; i < subscriptions; ++i) {
      Queue q = *broker->CreateQueue(absl::StrCat("q", i));
      std::string policy =
          absl::StrCat(R"({"bucket":["b)", i % kBuckets, R"("]})");
      absl::StatusOr<std::string> sub = topic.Subscribe(
          q, {.raw_message_delivery = true, .filter_policy = policy});
      if (!sub.ok()) {
        std::fprintf(stderr, "subscribe: %s\n",
                     sub.status().ToString().c_str());
        std::abort();
      }
      queues.push_back(q);
    }
    for (int b = 0; b < kBuckets; ++b) {
      attributes.push_back(
          {{"bucket",
            {.data_type = "String", .string_value = absl::StrCat("b", b)}}});
    }
  }
  void PurgeAll() {
    for (Queue& q : queues) (void)q.Purge();
  }
};

void BM_Publish_NoSubscribers(benchmark::State& state) {
  auto broker = *Broker::Open({}, NewMemoryBackend());
  Topic topic = *broker->CreateTopic("empty");
  std::string body(64, 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(topic.Publish(body));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FanOut_Publish(benchmark::State& state) {
  Fixture f(g_subscriptions);
  int64_t n = 0;
  for (auto _ : state) {
    const MessageAttributeMap& a = f.attributes[n % kBuckets];
    absl::StatusOr<PublishResult> r =
        f.topic.Publish(f.body, {.attributes = a});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    if (++n % kPurgeEvery == 0) {
      state.PauseTiming();
      f.PurgeAll();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  TopicStats s = *f.topic.Stats();
  state.counters["deliveries_per_publish"] =
      static_cast<double>(s.delivered_to_queues) /
      static_cast<double>(std::max<int64_t>(s.published, 1));
}

void BM_FanOut_PublishAndDrain(benchmark::State& state) {
  Fixture f(g_subscriptions);
  int64_t n = 0;
  std::vector<std::string> receipts;
  for (auto _ : state) {
    const MessageAttributeMap& a = f.attributes[n % kBuckets];
    absl::StatusOr<PublishResult> r =
        f.topic.Publish(f.body, {.attributes = a});
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    if (++n % kDrainEvery == 0) {
      // The last 64 publishes touched buckets n-64 .. n-1: every queue of
      // those buckets.
      for (int64_t b = n - kDrainEvery; b < n; ++b) {
        for (int i = static_cast<int>(b % kBuckets); i < g_subscriptions;
             i += kBuckets) {
          Queue& q = f.queues[i];
          for (;;) {
            absl::StatusOr<std::vector<ReceivedMessage>> got = q.Receive(
                {.max_messages = 10, .wait_time = absl::ZeroDuration()});
            if (!got.ok() || got->empty()) break;
            receipts.clear();
            for (ReceivedMessage& m : *got) {
              receipts.push_back(std::move(m.receipt));
            }
            (void)q.DeleteBatch(receipts);
          }
        }
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Raw_DirectSends(benchmark::State& state) {
  Fixture f(g_subscriptions);
  int64_t n = 0;
  const int per_publish = g_subscriptions / kBuckets;
  for (auto _ : state) {
    const int bucket = static_cast<int>(n % kBuckets);
    for (int k = 0; k < per_publish; ++k) {
      absl::StatusOr<SendResult> r = f.queues[bucket + k * kBuckets].Send(
          f.body, {.attributes = f.attributes[bucket]});
      if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    }
    if (++n % kPurgeEvery == 0) {
      state.PauseTiming();
      f.PurgeAll();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Publish_NoSubscribers);
BENCHMARK(BM_FanOut_Publish);
BENCHMARK(BM_FanOut_PublishAndDrain);
BENCHMARK(BM_Raw_DirectSends);

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  bool full = true;
  if (!ferry::bench::ParseBenchFlags(&argc, argv, &full)) return 2;
  ferry::g_subscriptions = full ? 1000 : 100;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("ferry_scale", full ? "full" : "smoke");
  benchmark::AddCustomContext("subscriptions",
                              std::to_string(ferry::g_subscriptions));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
