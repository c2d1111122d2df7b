// Concurrency stress of the native API: producers and consumers on one queue
// while a ticker thread moves the manual clock, so visibility timeouts expire
// and messages are redelivered. Fixed message counts, a wall-clock bound per
// test, every thread joined; no sleeps (threads only yield).
//
// Standard queue: every message is received at least once, none is lost, and
// no receive that starts after a Delete of a message returned OK returns that
// message again. FIFO queue: within each group, first deliveries happen in
// send order.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/queue.h"
#include "ferry/testing/manual_clock.h"
#include "ferry/testing/manual_executor.h"
#include "ferry/testing/sequential_ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace ferry_stress {
namespace {

using ::ferry_testing::IsOk;

struct StressBackend {
  std::string name;
  std::function<std::unique_ptr<ferry::Backend>()> make;
};

void PrintTo(const StressBackend& backend, std::ostream* os) {
  *os << backend.name;
}

// The backends fast enough for thousands of transitions per test. RocksDB
// joins here.
std::vector<StressBackend> StressBackends() {
  return {{"Memory", [] { return ferry::NewMemoryBackend(); }}};
}

constexpr int kProducers = 4;
constexpr int kConsumers = 4;
constexpr int kMessagesPerProducer = 2500;
constexpr int kTotal = kProducers * kMessagesPerProducer;
constexpr absl::Duration kVisibility = absl::Seconds(2);
constexpr absl::Duration kTick = absl::Milliseconds(200);
// Wall-clock bound of one run; a healthy run takes well under a second.
constexpr std::chrono::seconds kWallLimit(20);

// Joins every thread it holds when it goes out of scope, after raising
// `stop`, so no failing assertion leaves a thread running.
class ThreadGroup {
 public:
  explicit ThreadGroup(std::atomic<bool>* stop) : stop_(stop) {}
  ~ThreadGroup() { JoinAll(); }
  void Start(std::function<void()> fn) { threads_.emplace_back(std::move(fn)); }
  void JoinAll() {
    stop_->store(true);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool>* stop_;
  std::vector<std::thread> threads_;
};

class BrokerStressTest : public testing::TestWithParam<StressBackend> {
 protected:
  void SetUp() override {
    ferry::BrokerOptions options;
    options.clock = &clock_;
    options.ids = &ids_;
    options.executor = &executor_;
    absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
        ferry::Broker::Open(options, GetParam().make());
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }
  void TearDown() override { broker_.reset(); }

  // Starts the ticker: advances the clock by kTick until `stop`.
  void StartTicker(ThreadGroup& threads, std::atomic<bool>& stop) {
    threads.Start([this, &stop] {
      while (!stop.load()) {
        clock_.Advance(kTick);
        std::this_thread::yield();
      }
    });
  }

  static bool PastDeadline(std::chrono::steady_clock::time_point deadline) {
    return std::chrono::steady_clock::now() >= deadline;
  }

  ferry_testing::ManualClock clock_;
  ferry_testing::SequentialIdSource ids_;
  ferry_testing::ManualExecutor executor_;
  std::unique_ptr<ferry::Broker> broker_;
};

TEST_P(BrokerStressTest, StandardQueueLosesNothingAndNeverRedeliversDeleted) {
  absl::StatusOr<ferry::Queue> created = broker_->CreateQueue("stress");
  ASSERT_TRUE(created.ok()) << created.status();
  ferry::Queue queue = *created;

  // A global order of events: a receive that starts after a delete returned
  // has a larger stamp than that delete.
  std::atomic<uint64_t> stamp{1};
  std::mutex mu;
  std::map<std::string, int> deliveries;       // body -> times received
  std::map<std::string, uint64_t> deleted_at;  // body -> first delete stamp
  std::vector<std::string> violations;
  std::atomic<int> deleted_unique{0};
  std::atomic<int> send_failures{0};
  std::atomic<int> receive_failures{0};
  std::atomic<int> delete_failures{0};

  std::atomic<bool> stop{false};
  const auto deadline = std::chrono::steady_clock::now() + kWallLimit;
  {
    ThreadGroup threads(&stop);
    StartTicker(threads, stop);
    for (int p = 0; p < kProducers; ++p) {
      threads.Start([&, p] {
        for (int i = 0; i < kMessagesPerProducer && !stop.load(); ++i) {
          if (!queue.Send(absl::StrCat("p", p, "-", i)).ok()) ++send_failures;
        }
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      threads.Start([&] {
        while (deleted_unique.load() < kTotal && !stop.load() &&
               !PastDeadline(deadline)) {
          const uint64_t started = stamp.fetch_add(1);
          absl::StatusOr<std::vector<ferry::ReceivedMessage>> got =
              queue.Receive({.max_messages = 10,
                             .visibility_timeout = kVisibility,
                             .wait_time = absl::ZeroDuration()});
          if (!got.ok()) {
            ++receive_failures;
            continue;
          }
          for (const ferry::ReceivedMessage& m : *got) {
            bool skip_delete = false;
            {
              std::lock_guard<std::mutex> lock(mu);
              auto it = deleted_at.find(m.body);
              if (it != deleted_at.end() && it->second < started) {
                violations.push_back(m.body);
              }
              // Leave every tenth message undeleted on its first delivery,
              // so the ticker's clock makes it come back.
              skip_delete = deliveries[m.body]++ == 0 &&
                            std::hash<std::string>()(m.body) % 10 == 0;
            }
            if (skip_delete) continue;
            if (!queue.Delete(m.receipt).ok()) {
              ++delete_failures;
              continue;
            }
            const uint64_t deleted = stamp.fetch_add(1);
            std::lock_guard<std::mutex> lock(mu);
            if (deleted_at.emplace(m.body, deleted).second) ++deleted_unique;
          }
          std::this_thread::yield();
        }
      });
    }
    // Wait for the consumers to finish (or the deadline), then stop all.
    while (deleted_unique.load() < kTotal && !PastDeadline(deadline)) {
      std::this_thread::yield();
    }
    threads.JoinAll();
  }

  EXPECT_EQ(send_failures.load(), 0);
  EXPECT_EQ(receive_failures.load(), 0);
  EXPECT_EQ(delete_failures.load(), 0);
  EXPECT_EQ(deleted_unique.load(), kTotal) << "messages lost or stuck";
  EXPECT_THAT(violations, testing::IsEmpty())
      << "received after their delete returned OK";
  std::set<std::string> expected;
  for (int p = 0; p < kProducers; ++p) {
    for (int i = 0; i < kMessagesPerProducer; ++i) {
      expected.insert(absl::StrCat("p", p, "-", i));
    }
  }
  std::set<std::string> received;
  for (const auto& [body, count] : deliveries) received.insert(body);
  EXPECT_EQ(received, expected);

  // Final drain: nothing is left, visible or not.
  clock_.Advance(absl::Minutes(1));
  EXPECT_THAT(queue.Receive({.max_messages = 10}),
              ferry_testing::IsOkAndHolds(testing::IsEmpty()));
  absl::StatusOr<ferry::QueueCounts> counts = queue.Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->visible, 0);
  EXPECT_EQ(counts->in_flight, 0);
  EXPECT_EQ(counts->delayed, 0);
}

TEST_P(BrokerStressTest, FifoGroupsAreFirstDeliveredInSendOrder) {
  absl::StatusOr<ferry::Queue> created =
      broker_->CreateQueue("stress.fifo", {.fifo = true});
  ASSERT_TRUE(created.ok()) << created.status();
  ferry::Queue queue = *created;
  constexpr int kGroupsPerProducer = 4;

  std::mutex mu;
  uint64_t next_stamp = 1;                      // guarded by mu
  std::map<std::string, uint64_t> first_stamp;  // body -> first delivery
  std::set<std::string> deleted;                // bodies deleted
  std::atomic<int> deleted_unique{0};
  std::atomic<int> send_failures{0};
  std::atomic<int> receive_failures{0};
  std::atomic<int> unexpected_delete_failures{0};

  std::atomic<bool> stop{false};
  const auto deadline = std::chrono::steady_clock::now() + kWallLimit;
  {
    ThreadGroup threads(&stop);
    StartTicker(threads, stop);
    for (int p = 0; p < kProducers; ++p) {
      threads.Start([&, p] {
        for (int i = 0; i < kMessagesPerProducer && !stop.load(); ++i) {
          // Body "p<p>g<k>-<i>": group "p<p>g<k>", index i within producer p.
          const std::string group =
              absl::StrCat("p", p, "g", i % kGroupsPerProducer);
          const std::string body = absl::StrCat(group, "-", i);
          if (!queue
                   .Send(body,
                         {.message_group_id = group, .deduplication_id = body})
                   .ok()) {
            ++send_failures;
          }
        }
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      threads.Start([&] {
        while (deleted_unique.load() < kTotal && !stop.load() &&
               !PastDeadline(deadline)) {
          absl::StatusOr<std::vector<ferry::ReceivedMessage>> got =
              queue.Receive({.max_messages = 10,
                             .visibility_timeout = kVisibility,
                             .wait_time = absl::ZeroDuration()});
          if (!got.ok()) {
            ++receive_failures;
            continue;
          }
          std::vector<bool> skip(got->size(), false);
          {
            // Stamp the batch in its order before anything is deleted.
            std::lock_guard<std::mutex> lock(mu);
            for (size_t i = 0; i < got->size(); ++i) {
              const std::string& body = (*got)[i].body;
              const bool first = first_stamp.emplace(body, next_stamp).second;
              ++next_stamp;
              skip[i] = first && std::hash<std::string>()(body) % 10 == 0;
            }
          }
          for (size_t i = 0; i < got->size(); ++i) {
            // An undeleted message blocks the rest of its group, so stop
            // deleting this batch at the first skipped one.
            if (skip[i]) break;
            absl::Status status = queue.Delete((*got)[i].receipt);
            if (!status.ok()) {
              // Only a lease that expired under the ticker may fail.
              if (status.code() != absl::StatusCode::kInvalidArgument) {
                ++unexpected_delete_failures;
              }
              break;
            }
            std::lock_guard<std::mutex> lock(mu);
            if (deleted.insert((*got)[i].body).second) ++deleted_unique;
          }
          std::this_thread::yield();
        }
      });
    }
    while (deleted_unique.load() < kTotal && !PastDeadline(deadline)) {
      std::this_thread::yield();
    }
    threads.JoinAll();
  }

  EXPECT_EQ(send_failures.load(), 0);
  EXPECT_EQ(receive_failures.load(), 0);
  EXPECT_EQ(unexpected_delete_failures.load(), 0);
  EXPECT_EQ(deleted_unique.load(), kTotal) << "messages lost or stuck";
  ASSERT_EQ(first_stamp.size(), static_cast<size_t>(kTotal));

  // Per group, the first deliveries are in send (index) order.
  std::map<std::string, std::vector<std::pair<uint64_t, int>>> by_group;
  for (const auto& [body, stamp] : first_stamp) {
    const size_t dash = body.find('-');
    by_group[body.substr(0, dash)].emplace_back(
        stamp, std::stoi(body.substr(dash + 1)));
  }
  EXPECT_EQ(by_group.size(),
            static_cast<size_t>(kProducers * kGroupsPerProducer));
  for (auto& [group, deliveries] : by_group) {
    std::sort(deliveries.begin(), deliveries.end());
    for (size_t i = 1; i < deliveries.size(); ++i) {
      EXPECT_LT(deliveries[i - 1].second, deliveries[i].second)
          << "group " << group << " first delivered message "
          << deliveries[i].second << " after " << deliveries[i - 1].second;
    }
  }

  clock_.Advance(absl::Minutes(1));
  absl::StatusOr<ferry::QueueCounts> counts = queue.Counts();
  ASSERT_THAT(counts, IsOk());
  EXPECT_EQ(counts->visible, 0);
  EXPECT_EQ(counts->in_flight, 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, BrokerStressTest,
                         testing::ValuesIn(StressBackends()),
                         [](const testing::TestParamInfo<StressBackend>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ferry_stress
