// Concurrency stress of the memory backend's store: producers and consumers
// on one queue, short leases driven by a shared fake clock that a thread
// advances. Bounded in iterations and real time; the success criterion is
// deterministic: every message is deleted exactly once, none is lost, and
// nothing is received after a delete of it returned kOk.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/memory_backend.h"
#include "gtest/gtest.h"

namespace ferry_memory_test {
namespace {

using ferry::QueueId;
using ferry::QueueStore;
using ferry::ReceiptStatus;
using ferry::StoredMessage;

#if defined(__SANITIZE_THREAD__)
constexpr int kScale = 4;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int kScale = 4;
#else
constexpr int kScale = 1;
#endif
#else
constexpr int kScale = 1;
#endif

constexpr auto kRealTimeLimit = std::chrono::seconds(90);

struct Shared {
  std::unique_ptr<ferry::Backend> backend = ferry::NewMemoryBackend();
  QueueStore& store() { return backend->queues(); }
  // The fake clock, in nanoseconds.
  std::atomic<int64_t> now{
      absl::ToUnixNanos(absl::FromUnixSeconds(1767225600))};
  // A global order of events: lease starts and delete returns.
  std::atomic<uint64_t> events{0};
  std::atomic<int64_t> deleted{0};
  std::atomic<int64_t> violations{0};
  std::atomic<bool> stop{false};

  absl::Time Now() const { return absl::FromUnixNanos(now.load()); }
  void Violation(const std::string& what) {
    if (violations.fetch_add(1) < 10) ADD_FAILURE() << what;
  }
};

int64_t IdOf(const StoredMessage& m) {
  int64_t id = -1;
  const std::string body = m.body.str();
  if (!absl::SimpleAtoi(body.substr(body.find(':') + 1), &id)) return -1;
  return id;
}

void AdvanceClock(Shared& s) {
  while (!s.stop.load()) {
    s.now.fetch_add(100'000);  // 0.1 ms per step
    std::this_thread::yield();
  }
}

TEST(MemoryStressTest, StandardQueueDeliversEverythingAndNothingAfterDelete) {
  constexpr int kProducers = 3;
  constexpr int kConsumers = 3;
  constexpr int kPerProducer = 20000 / kScale;
  constexpr int kTotal = kProducers * kPerProducer;
  Shared s;
  absl::StatusOr<ferry::QueueRecord> rec =
      s.store().CreateQueue({.key = "arn:stress"});
  ASSERT_TRUE(rec.ok());
  const QueueId q = rec->id;
  // deleted_at[id]: the event number after a delete of it returned kOk.
  std::vector<std::atomic<uint64_t>> deleted_at(kTotal);

  std::vector<std::thread> threads;
  threads.emplace_back([&] { AdvanceClock(s); });
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937 rng(p);
      int next = 0;
      while (next < kPerProducer) {
        const int n = std::min<int>(1 + rng() % 10, kPerProducer - next);
        std::vector<QueueStore::AppendEntry> entries(n);
        const absl::Time now = s.Now();
        for (int i = 0; i < n; ++i) {
          StoredMessage& m = entries[i].message;
          m.message_id = ferry::Uuid{static_cast<uint64_t>(p),
                                     static_cast<uint64_t>(next)};
          m.body = absl::StrCat("m:", p * kPerProducer + next++);
          m.sent_time = m.enqueue_time = now;
          // A few delayed ones.
          m.visible_at =
              rng() % 16 == 0 ? now + absl::Milliseconds(rng() % 5) : now;
          entries[i].queue = q;
        }
        std::vector<QueueStore::AppendOutcome> outcomes(n);
        absl::Status st = s.store().Append(
            {.entries = entries, .outcomes = outcomes, .now = now});
        if (!st.ok()) s.Violation("append: " + st.ToString());
      }
    });
  }
  const auto real_deadline = std::chrono::steady_clock::now() + kRealTimeLimit;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(100 + c);
      // (id, receipt) to delete at the end of this round / of the next one.
      std::vector<std::pair<int64_t, std::string>> now_batch, next_round;
      while (s.deleted.load() < kTotal &&
             std::chrono::steady_clock::now() < real_deadline) {
        now_batch.swap(next_round);
        next_round.clear();
        const uint64_t start = s.events.fetch_add(1) + 1;
        const absl::Time now = s.Now();
        absl::StatusOr<QueueStore::LeaseResult> r = s.store().Lease(
            {.queue = q,
             .now = now,
             .max_messages = static_cast<int>(1 + rng() % 10),
             .invisible_until = now + absl::Microseconds(rng() % 2000)});
        if (!r.ok()) {
          s.Violation("lease: " + r.status().ToString());
          continue;
        }
        for (const auto& l : r->leases) {
          const int64_t id = IdOf(l.message);
          if (id < 0 || id >= kTotal) {
            s.Violation("bad body " + l.message.body.str());
            continue;
          }
          const uint64_t d = deleted_at[id].load();
          if (d != 0 && d < start) {
            s.Violation("message " + std::to_string(id) +
                        " received after its delete");
          }
          if (l.message.receive_count < 1)
            s.Violation("receive count not kept");
          switch (rng() % 10) {
            case 0:  // forget it: the lease runs out
              break;
            case 1: {  // make it visible again at once
              ReceiptStatus st;
              QueueStore::VisibilityChange change{.receipt = l.receipt,
                                                  .invisible_until = now};
              absl::Status cs =
                  s.store().ChangeVisibility({.queue = q,
                                              .changes = {&change, 1},
                                              .statuses = {&st, 1},
                                              .now = s.Now()});
              if (!cs.ok() ||
                  (st != ReceiptStatus::kOk && st != ReceiptStatus::kGone)) {
                s.Violation("change visibility");
              }
              break;
            }
            case 2:  // delete next round, with a receipt that may be stale
              next_round.emplace_back(id, l.receipt);
              break;
            default:
              now_batch.emplace_back(id, l.receipt);
          }
        }
        if (now_batch.empty()) continue;
        std::vector<std::string_view> receipts;
        for (const auto& [id, receipt] : now_batch) receipts.push_back(receipt);
        std::vector<ReceiptStatus> statuses(receipts.size());
        absl::Status st = s.store().Ack({.queue = q,
                                         .receipts = receipts,
                                         .statuses = statuses,
                                         .now = s.Now()});
        if (!st.ok()) s.Violation("ack: " + st.ToString());
        for (size_t i = 0; i < statuses.size(); ++i) {
          const int64_t id = now_batch[i].first;
          if (statuses[i] == ReceiptStatus::kOk) {
            uint64_t expected = 0;
            if (!deleted_at[id].compare_exchange_strong(
                    expected, s.events.fetch_add(1) + 1)) {
              s.Violation("message " + std::to_string(id) + " deleted twice");
            }
            s.deleted.fetch_add(1);
          } else if (statuses[i] != ReceiptStatus::kGone) {
            s.Violation("ack status " +
                        std::to_string(static_cast<int>(statuses[i])));
          }
        }
        now_batch.clear();
      }
    });
  }
  for (size_t i = 1; i < threads.size(); ++i) threads[i].join();
  s.stop.store(true);
  threads[0].join();

  EXPECT_EQ(s.violations.load(), 0);
  EXPECT_EQ(s.deleted.load(), kTotal)
      << "lost messages (or the time limit hit)";
  for (int64_t id = 0; id < kTotal; ++id) {
    if (deleted_at[id].load() == 0) {
      ADD_FAILURE() << "message " << id << " never deleted";
      break;
    }
  }
  const absl::Time later = s.Now() + absl::Hours(1);
  absl::StatusOr<QueueStore::QueueCounts> counts =
      s.store().Count({.queue = q, .now = later});
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->visible + counts->in_flight + counts->delayed, 0);
  absl::StatusOr<QueueStore::LeaseResult> rest =
      s.store().Lease({.queue = q,
                       .now = later,
                       .max_messages = 10,
                       .invisible_until = later + absl::Seconds(1)});
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->leases.empty());
}

// FIFO: producers own their groups, so each group's send order is known.
// Consumers check the prefix rule on every response: a message is returned
// only if every earlier message of its group was deleted before the receive
// began, or precedes it in the same response.
TEST(MemoryStressTest, FifoGroupsStayInOrder) {
  constexpr int kProducers = 2;
  constexpr int kConsumers = 3;
  constexpr int kGroupsPerProducer = 8;
  constexpr int kPerGroup = 1500 / kScale;
  constexpr int kGroups = kProducers * kGroupsPerProducer;
  constexpr int kTotal = kGroups * kPerGroup;
  Shared s;
  absl::StatusOr<ferry::QueueRecord> rec =
      s.store().CreateQueue({.key = "arn:stress.fifo", .fifo = true});
  ASSERT_TRUE(rec.ok());
  const QueueId q = rec->id;
  // Message id = group * kPerGroup + index in group.
  // Deletes of the message under way (any consumer's).
  std::vector<std::atomic<int>> deleting(kTotal);
  // The event number after a delete of the message returned kOk.
  std::vector<std::atomic<uint64_t>> deleted_at(kTotal);

  std::vector<std::thread> threads;
  threads.emplace_back([&] { AdvanceClock(s); });
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937 rng(p);
      std::vector<int> sent(kGroupsPerProducer, 0);
      for (int done = 0; done < kGroupsPerProducer * kPerGroup;) {
        const int g = static_cast<int>(rng() % kGroupsPerProducer);
        if (sent[g] == kPerGroup) continue;
        const int group = p * kGroupsPerProducer + g;
        const int64_t id = int64_t{group} * kPerGroup + sent[g]++;
        ++done;
        QueueStore::AppendEntry e;
        e.queue = q;
        const absl::Time now = s.Now();
        e.message.message_id = ferry::Uuid{1, static_cast<uint64_t>(id)};
        e.message.body = absl::StrCat("m:", id);
        e.message.message_group_id = absl::StrCat("g", group);
        e.message.sent_time = e.message.enqueue_time = e.message.visible_at =
            now;
        e.dedup_key = std::to_string(id);
        e.dedup_expires_at = now + absl::Minutes(5);
        QueueStore::AppendOutcome o;
        absl::Status st = s.store().Append(
            {.entries = {&e, 1}, .outcomes = {&o, 1}, .now = now});
        if (!st.ok() || o.duplicate) s.Violation("append");
      }
    });
  }
  const auto real_deadline = std::chrono::steady_clock::now() + kRealTimeLimit;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(200 + c);
      while (s.deleted.load() < kTotal &&
             std::chrono::steady_clock::now() < real_deadline) {
        const uint64_t start = s.events.fetch_add(1) + 1;
        const absl::Time now = s.Now();
        absl::StatusOr<QueueStore::LeaseResult> r = s.store().Lease(
            {.queue = q,
             .now = now,
             .max_messages = static_cast<int>(1 + rng() % 10),
             .invisible_until = now + absl::Microseconds(rng() % 3000)});
        if (!r.ok()) {
          s.Violation("lease: " + r.status().ToString());
          continue;
        }
        for (size_t k = 0; k < r->leases.size(); ++k) {
          const int64_t id = IdOf(r->leases[k].message);
          if (id < 0 || id >= kTotal) {
            s.Violation("bad body");
            continue;
          }
          const uint64_t d = deleted_at[id].load();
          if (d != 0 && d < start) s.Violation("received after delete");
          const int64_t first_of_group = id - id % kPerGroup;
          for (int64_t j = id - 1; j >= first_of_group; --j) {
            // Deleted, or being deleted: then so were those before it.
            if (deleted_at[j].load() != 0 || deleting[j].load() > 0) break;
            bool in_response = false;
            for (size_t x = 0; x < k; ++x) {
              if (IdOf(r->leases[x].message) == j) in_response = true;
            }
            if (!in_response) {
              s.Violation("message " + std::to_string(id) + " returned while " +
                          std::to_string(j) + " is pending");
              break;
            }
          }
        }
        // Delete most of them, in order; forget the rest of a group once
        // one is forgotten (the lease runs out and they come back).
        std::vector<std::string_view> receipts;
        std::vector<int64_t> ids;
        for (const auto& l : r->leases) {
          if (rng() % 8 == 0) break;
          const int64_t id = IdOf(l.message);
          receipts.push_back(l.receipt);
          ids.push_back(id);
          deleting[id].fetch_add(1);
        }
        if (receipts.empty()) continue;
        std::vector<ReceiptStatus> statuses(receipts.size());
        absl::Status st = s.store().Ack({.queue = q,
                                         .receipts = receipts,
                                         .statuses = statuses,
                                         .now = s.Now(),
                                         .require_live_lease = true});
        if (!st.ok()) s.Violation("ack");
        for (size_t i = 0; i < statuses.size(); ++i) {
          if (statuses[i] == ReceiptStatus::kOk) {
            uint64_t expected = 0;
            if (!deleted_at[ids[i]].compare_exchange_strong(
                    expected, s.events.fetch_add(1) + 1)) {
              s.Violation("deleted twice");
            }
            s.deleted.fetch_add(1);
          } else if (statuses[i] != ReceiptStatus::kExpired &&
                     statuses[i] !=
                         ReceiptStatus::kGone) {  // gone: another
                                                  // consumer deleted it
            s.Violation("ack status " +
                        std::to_string(static_cast<int>(statuses[i])));
          }
          deleting[ids[i]].fetch_sub(1);
        }
      }
    });
  }
  for (size_t i = 1; i < threads.size(); ++i) threads[i].join();
  s.stop.store(true);
  threads[0].join();

  EXPECT_EQ(s.violations.load(), 0);
  EXPECT_EQ(s.deleted.load(), kTotal)
      << "lost messages (or the time limit hit)";
  absl::StatusOr<QueueStore::QueueCounts> counts =
      s.store().Count({.queue = q, .now = s.Now() + absl::Hours(1)});
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->visible + counts->in_flight + counts->delayed, 0);
}

// How many messages of `body_size` bytes fit a fresh queue of `store`.
int FillCount(QueueStore& store, size_t body_size) {
  static int counter = 0;
  absl::StatusOr<ferry::QueueRecord> rec =
      store.CreateQueue({.key = "arn:fill" + std::to_string(counter++)});
  if (!rec.ok()) return -1;
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  int n = 0;
  for (;; ++n) {
    QueueStore::AppendEntry e;
    e.queue = rec->id;
    e.message.body = std::string(body_size, 'x');
    e.message.enqueue_time = e.message.visible_at = now;
    QueueStore::AppendOutcome o;
    if (!store.Append({.entries = {&e, 1}, .outcomes = {&o, 1}, .now = now})
             .ok()) {
      break;
    }
  }
  (void)store.DeleteQueue(rec->id);
  return n;
}

// Queues deleted and recreated under producers and consumers: calls on a
// deleted queue fail with kNotFound (or find it empty), nothing crashes, and
// the memory cap's accounting ends where it started.
TEST(MemoryStressTest, DeleteQueuesUnderLoad) {
  constexpr size_t kCap = 4 << 20;
  std::unique_ptr<ferry::Backend> backend =
      ferry::NewMemoryBackend({.max_bytes = kCap});
  QueueStore& store = backend->queues();
  const int room = FillCount(store, 1000);
  ASSERT_GT(room, 100);

  std::atomic<QueueId> standard{0}, fifo{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> now_ns{
      absl::ToUnixNanos(absl::FromUnixSeconds(1767225600))};
  auto recreate = [&](int round) {
    for (bool is_fifo : {false, true}) {
      std::atomic<QueueId>& slot = is_fifo ? fifo : standard;
      const QueueId old = slot.load();
      absl::StatusOr<ferry::QueueRecord> rec = store.CreateQueue(
          {.key = "arn:q" + std::to_string(round) + (is_fifo ? ".fifo" : ""),
           .fifo = is_fifo});
      ASSERT_TRUE(rec.ok());
      slot.store(rec->id);
      if (old != 0) {
        ASSERT_TRUE(store.DeleteQueue(old).ok());
      }
    }
  };
  recreate(0);
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(w);
      while (!stop.load()) {
        const QueueId q = rng() % 2 == 0 ? standard.load() : fifo.load();
        const absl::Time now = absl::FromUnixNanos(now_ns.fetch_add(50'000));
        std::vector<QueueStore::AppendEntry> entries(1 + rng() % 4);
        for (auto& e : entries) {
          e.queue = q;
          e.message.body = std::string(1 + rng() % 2000, 'b');
          e.message.message_group_id = absl::StrCat("g", rng() % 3);
          e.message.enqueue_time = now;
          e.message.visible_at = now + absl::Microseconds(rng() % 200);
          e.dedup_key = std::to_string(rng());
          e.dedup_expires_at = now + absl::Minutes(5);
        }
        std::vector<QueueStore::AppendOutcome> outcomes(entries.size());
        absl::Status st = store.Append(
            {.entries = entries, .outcomes = outcomes, .now = now});
        if (!st.ok() && !absl::IsNotFound(st) &&
            !absl::IsResourceExhausted(st)) {
          ADD_FAILURE() << st;
        }
        absl::StatusOr<QueueStore::LeaseResult> r = store.Lease(
            {.queue = q,
             .now = now,
             .max_messages = 5,
             .invisible_until = now + absl::Microseconds(rng() % 500),
             .retention = absl::Milliseconds(50)});
        if (!r.ok()) {
          if (!absl::IsNotFound(r.status())) ADD_FAILURE() << r.status();
          continue;
        }
        std::vector<std::string_view> receipts;
        for (const auto& l : r->leases) {
          if (rng() % 4 != 0) receipts.push_back(l.receipt);
        }
        std::vector<ReceiptStatus> statuses(receipts.size());
        (void)store.Ack({.queue = q,
                         .receipts = receipts,
                         .statuses = statuses,
                         .now = now,
                         .require_live_lease = q == fifo.load()});
        if (rng() % 50 == 0) {
          (void)store.Count({.queue = q, .now = now});
        }
        if (rng() % 200 == 0) (void)store.Purge(q);
      }
    });
  }
  for (int round = 1; round <= 40 / kScale; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    recreate(round);
  }
  stop.store(true);
  for (auto& t : workers) t.join();
  ASSERT_TRUE(store.DeleteQueue(standard.load()).ok());
  ASSERT_TRUE(store.DeleteQueue(fifo.load()).ok());
  EXPECT_EQ(FillCount(store, 1000), room)
      << "bytes charged to deleted queues were not all refunded";
}

}  // namespace
}  // namespace ferry_memory_test
