// Helpers for the memory backend's store tests: build messages and call the
// QueueStore SPI with few words.
#ifndef FERRY_TESTS_BACKENDS_MEMORY_STORE_TEST_UTIL_H_
#define FERRY_TESTS_BACKENDS_MEMORY_STORE_TEST_UTIL_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/memory_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace ferry_memory_test {

using ferry::QueueId;
using ferry::QueueRecord;
using ferry::QueueStore;
using ferry::ReceiptStatus;
using ferry::StoredMessage;
using ferry::Uuid;

inline absl::Time T0() { return absl::FromUnixSeconds(1767225600); }

class StoreTest : public ::testing::Test {
 protected:
  explicit StoreTest(ferry::MemoryBackendOptions options = {})
      : backend_(ferry::NewMemoryBackend(options)) {}

  QueueStore& store() { return backend_->queues(); }

  QueueId Create(std::string_view key, bool fifo = false) {
    absl::StatusOr<QueueRecord> r =
        store().CreateQueue({.key = key, .fifo = fifo, .config = "cfg"});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->id : 0;
  }

  StoredMessage Msg(std::string body, absl::Time now, std::string group = "",
                    absl::Duration delay = absl::ZeroDuration()) {
    StoredMessage m;
    m.message_id = Uuid{0x1234, ++next_id_};
    m.body = std::move(body);
    m.message_group_id = std::move(group);
    m.sender_id = "AIDAEXAMPLESENDER";
    m.sent_time = m.enqueue_time = now;
    m.visible_at = now + delay;
    return m;
  }

  QueueStore::AppendOutcome Send(
      QueueId q, StoredMessage m, absl::Time now, std::string dedup_key = "",
      absl::Time dedup_expires = absl::InfinitePast()) {
    QueueStore::AppendEntry e{.queue = q,
                              .message = std::move(m),
                              .dedup_key = std::move(dedup_key),
                              .dedup_expires_at = dedup_expires};
    QueueStore::AppendOutcome o;
    absl::Status s =
        store().Append({.entries = {&e, 1}, .outcomes = {&o, 1}, .now = now});
    EXPECT_TRUE(s.ok()) << s;
    return o;
  }

  QueueStore::AppendOutcome SendBody(QueueId q, std::string body,
                                     absl::Time now, std::string group = "") {
    return Send(q, Msg(std::move(body), now, std::move(group)), now);
  }

  QueueStore::LeaseResult Receive(QueueId q, absl::Time now, int max = 10,
                                  absl::Duration visibility = absl::Seconds(30),
                                  QueueStore::LeaseParams extra = {}) {
    extra.queue = q;
    extra.now = now;
    extra.max_messages = max;
    extra.invisible_until = now + visibility;
    absl::StatusOr<QueueStore::LeaseResult> r = store().Lease(extra);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : QueueStore::LeaseResult{};
  }

  ReceiptStatus Delete(QueueId q, std::string_view receipt, absl::Time now,
                       bool live = false) {
    ReceiptStatus st = ReceiptStatus::kOk;
    absl::Status s = store().Ack({.queue = q,
                                  .receipts = {&receipt, 1},
                                  .statuses = {&st, 1},
                                  .now = now,
                                  .require_live_lease = live});
    EXPECT_TRUE(s.ok()) << s;
    return st;
  }

  ReceiptStatus ChangeVisibility(
      QueueId q, std::string_view receipt, absl::Time now, absl::Time until,
      bool live = false,
      absl::Duration max_since_receive = absl::InfiniteDuration()) {
    ReceiptStatus st = ReceiptStatus::kOk;
    QueueStore::VisibilityChange c{.receipt = receipt,
                                   .invisible_until = until};
    absl::Status s =
        store().ChangeVisibility({.queue = q,
                                  .changes = {&c, 1},
                                  .statuses = {&st, 1},
                                  .now = now,
                                  .max_since_receive = max_since_receive,
                                  .require_live_lease = live});
    EXPECT_TRUE(s.ok()) << s;
    return st;
  }

  QueueStore::QueueCounts Counts(
      QueueId q, absl::Time now,
      absl::Duration retention = absl::InfiniteDuration(),
      std::optional<absl::Duration> retroactive = std::nullopt) {
    absl::StatusOr<QueueStore::QueueCounts> c =
        store().Count({.queue = q,
                       .now = now,
                       .retention = retention,
                       .retroactive_delay = retroactive});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : QueueStore::QueueCounts{};
  }

  static std::vector<std::string> Bodies(const QueueStore::LeaseResult& r) {
    std::vector<std::string> out;
    for (const auto& l : r.leases) out.push_back(l.message.body.str());
    return out;
  }

  std::unique_ptr<ferry::Backend> backend_;
  uint64_t next_id_ = 0;
};

}  // namespace ferry_memory_test

#endif  // FERRY_TESTS_BACKENDS_MEMORY_STORE_TEST_UTIL_H_
