// The QueueStore contract on the memory backend: catalog, standard queues,
// Append's all-or-nothing rule and the memory cap, Move, Reset.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/memory_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store_test_util.h"
#include "tests/testing/status_matchers.h"

namespace ferry_memory_test {
namespace {

using ::ferry_testing::IsOk;
using ::ferry_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

const absl::Duration kNs = absl::Nanoseconds(1);

// ---- Catalog ---------------------------------------------------------------

class CatalogTest : public StoreTest {};

TEST_F(CatalogTest, CreateGetAndDuplicate) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      QueueRecord r,
      store().CreateQueue({.key = "arn:q1", .fifo = true, .config = "c1"}));
  EXPECT_GT(r.id, 0u);
  EXPECT_EQ(r.key, "arn:q1");
  EXPECT_TRUE(r.fifo);
  EXPECT_EQ(r.config, "c1");
  EXPECT_GT(r.config_version, 0u);
  EXPECT_THAT(store().CreateQueue({.key = "arn:q1"}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  FERRY_ASSERT_OK_AND_ASSIGN(QueueRecord g, store().GetQueue("arn:q1"));
  EXPECT_EQ(g.id, r.id);
  EXPECT_EQ(g.config, "c1");
  EXPECT_THAT(store().GetQueue("arn:nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CatalogTest, IdsAreNeverReused) {
  QueueId a = Create("arn:a");
  FERRY_ASSERT_OK(store().DeleteQueue(a));
  QueueId b = Create("arn:a");
  EXPECT_GT(b, a);
  EXPECT_THAT(store().DeleteQueue(a), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CatalogTest, UpdateConfigIsCompareAndSwap) {
  FERRY_ASSERT_OK_AND_ASSIGN(QueueRecord r,
                             store().CreateQueue({.key = "arn:q"}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      uint64_t v2,
      store().UpdateQueueConfig({.queue = r.id,
                                 .expected_version = r.config_version,
                                 .config = "new"}));
  EXPECT_GT(v2, r.config_version);
  EXPECT_THAT(
      store().UpdateQueueConfig(
          {.queue = r.id, .expected_version = r.config_version, .config = "x"}),
      StatusIs(absl::StatusCode::kAborted));
  FERRY_ASSERT_OK_AND_ASSIGN(QueueRecord g, store().GetQueue("arn:q"));
  EXPECT_EQ(g.config, "new");
  EXPECT_EQ(g.config_version, v2);
  FERRY_ASSERT_OK(store().DeleteQueue(r.id));
  EXPECT_THAT(store().UpdateQueueConfig(
                  {.queue = r.id, .expected_version = v2, .config = "x"}),
              StatusIs(absl::StatusCode::kNotFound));
}

std::vector<std::string> Keys(const std::vector<QueueRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.key);
  return out;
}

TEST_F(CatalogTest, ListQueuesByPrefixInKeyOrder) {
  for (const char* k : {"arn:b2", "arn:a1", "arn:b1", "arn:b3", "arn:c1"})
    Create(k);
  FERRY_ASSERT_OK_AND_ASSIGN(auto all, store().ListQueues({}));
  EXPECT_THAT(Keys(all),
              ElementsAre("arn:a1", "arn:b1", "arn:b2", "arn:b3", "arn:c1"));
  FERRY_ASSERT_OK_AND_ASSIGN(auto b,
                             store().ListQueues({.key_prefix = "arn:b"}));
  EXPECT_THAT(Keys(b), ElementsAre("arn:b1", "arn:b2", "arn:b3"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      auto page,
      store().ListQueues(
          {.key_prefix = "arn:b", .start_after = "arn:b1", .limit = 1}));
  EXPECT_THAT(Keys(page), ElementsAre("arn:b2"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      auto before,
      store().ListQueues({.key_prefix = "arn:b", .start_after = "arn:a"}));
  EXPECT_THAT(Keys(before), SizeIs(3));
  FERRY_ASSERT_OK_AND_ASSIGN(
      auto after,
      store().ListQueues({.key_prefix = "arn:b", .start_after = "arn:c"}));
  EXPECT_THAT(after, IsEmpty());
  FERRY_ASSERT_OK(store().DeleteQueue(b[1].id));
  FERRY_ASSERT_OK_AND_ASSIGN(auto b2,
                             store().ListQueues({.key_prefix = "arn:b"}));
  EXPECT_THAT(Keys(b2), ElementsAre("arn:b1", "arn:b3"));
}

TEST_F(CatalogTest, ManyQueues) {
  // Ids cross several chunks of the id table.
  std::vector<QueueId> ids;
  for (int i = 0; i < 9000; ++i)
    ids.push_back(Create("arn:q" + std::to_string(i)));
  for (QueueId id : {ids[0], ids[4095], ids[4096], ids[8999]}) {
    SendBody(id, "m", T0());
    QueueStore::LeaseResult r = Receive(id, T0());
    ASSERT_THAT(r.leases, SizeIs(1));
    EXPECT_EQ(Delete(id, r.leases[0].receipt, T0()), ReceiptStatus::kOk);
  }
  FERRY_ASSERT_OK_AND_ASSIGN(auto all, store().ListQueues({.limit = 100000}));
  EXPECT_THAT(all, SizeIs(9000));
}

TEST_F(CatalogTest, EveryOperationOnAMissingQueueIsNotFound) {
  QueueId q = Create("arn:q");
  FERRY_ASSERT_OK(store().DeleteQueue(q));
  const auto kNotFound = absl::StatusCode::kNotFound;
  QueueStore::AppendEntry e{.queue = q, .message = Msg("x", T0())};
  QueueStore::AppendOutcome o;
  EXPECT_THAT(
      store().Append({.entries = {&e, 1}, .outcomes = {&o, 1}, .now = T0()}),
      StatusIs(kNotFound));
  EXPECT_THAT(store().Lease({.queue = q, .now = T0()}), StatusIs(kNotFound));
  std::string_view r = "AAAAAAAAAAAAAAA";
  ReceiptStatus st;
  EXPECT_THAT(
      store().Ack({.queue = q, .receipts = {&r, 1}, .statuses = {&st, 1}}),
      StatusIs(kNotFound));
  QueueStore::VisibilityChange c{.receipt = r};
  EXPECT_THAT(store().ChangeVisibility(
                  {.queue = q, .changes = {&c, 1}, .statuses = {&st, 1}}),
              StatusIs(kNotFound));
  EXPECT_THAT(store().Count({.queue = q}), StatusIs(kNotFound));
  EXPECT_THAT(store().Purge(q), StatusIs(kNotFound));
  EXPECT_THAT(store().Peek({.queue = q}), StatusIs(kNotFound));
  EXPECT_THAT(store().Move({.source = q,
                            .plan = [](StoredMessage&,
                                       QueueId*) { return absl::OkStatus(); }}),
              StatusIs(kNotFound));
}

// ---- Standard queues -------------------------------------------------------

class StandardQueueTest : public StoreTest {
 protected:
  QueueId q_ = Create("arn:aws:sqs:us-east-1:000000000000:q");
};

TEST_F(StandardQueueTest, SendReceiveDelete) {
  for (const char* b : {"m1", "m2", "m3"}) SendBody(q_, b, T0());
  EXPECT_EQ(Counts(q_, T0()).visible, 3);
  const absl::Time t = T0() + absl::Seconds(1);
  QueueStore::LeaseResult r = Receive(q_, t);
  ASSERT_THAT(Bodies(r), UnorderedElementsAre("m1", "m2", "m3"));
  std::set<std::string> receipts;
  for (const auto& l : r.leases) {
    EXPECT_EQ(l.message.receive_count, 1);
    EXPECT_EQ(l.message.first_receive_time, t);
    EXPECT_EQ(l.message.sender_id, "AIDAEXAMPLESENDER");
    EXPECT_LE(l.receipt.size(), 15u) << "receipts fit the inline string buffer";
    receipts.insert(l.receipt);
  }
  EXPECT_EQ(receipts.size(), 3u);
  EXPECT_EQ(r.next_change, t + absl::Seconds(30));
  QueueStore::QueueCounts c = Counts(q_, t);
  EXPECT_EQ(c.visible, 0);
  EXPECT_EQ(c.in_flight, 3);
  for (const auto& l : r.leases)
    EXPECT_EQ(Delete(q_, l.receipt, t), ReceiptStatus::kOk);
  for (const auto& l : r.leases)
    EXPECT_EQ(Delete(q_, l.receipt, t), ReceiptStatus::kGone);
  c = Counts(q_, t);
  EXPECT_EQ(c.visible + c.in_flight + c.delayed, 0);
  EXPECT_THAT(Receive(q_, t + absl::Hours(1)).leases, IsEmpty());
}

TEST_F(StandardQueueTest, AppendReportsIds) {
  StoredMessage m = Msg("x", T0());
  const Uuid id = m.message_id;
  QueueStore::AppendOutcome o = Send(q_, std::move(m), T0());
  EXPECT_FALSE(o.duplicate);
  EXPECT_EQ(o.message_id, id);
  QueueStore::LeaseResult r = Receive(q_, T0());
  ASSERT_THAT(r.leases, SizeIs(1));
  EXPECT_EQ(r.leases[0].message.message_id, id);
}

TEST_F(StandardQueueTest, MaxMessagesIsHonoured) {
  for (int i = 0; i < 25; ++i) SendBody(q_, absl::StrCat("m", i), T0());
  QueueStore::LeaseResult one = Receive(q_, T0(), 1);
  EXPECT_THAT(one.leases, SizeIs(1));
  EXPECT_EQ(one.next_change, T0()) << "a full result: more may be visible now";
  EXPECT_THAT(Receive(q_, T0(), 10).leases, SizeIs(10));
  EXPECT_THAT(Receive(q_, T0(), 0).leases, IsEmpty());
  EXPECT_THAT(Receive(q_, T0(), 100).leases, SizeIs(14));
}

// Batch receives use a per-thread cached consumer token keyed by the queue
// object: deleted and recreated queues (often at the same address) and more
// queues than the cache holds must still deliver every message exactly once.
TEST_F(StandardQueueTest, BatchReceivesAcrossRecreatedAndManyQueues) {
  for (int round = 0; round < 3; ++round) {
    std::vector<QueueId> queues;
    for (int i = 0; i < 6; ++i) {
      queues.push_back(Create("arn:aws:sqs:us-east-1:000000000000:r" +
                              std::to_string(round) + "-" + std::to_string(i)));
    }
    for (int pass = 0; pass < 2; ++pass) {
      for (QueueId q : queues) {
        for (int k = 0; k < 12; ++k) SendBody(q, absl::StrCat("m", k), T0());
        std::set<std::string> got;
        for (int n = 0; n < 3; ++n) {
          for (const auto& l : Receive(q, T0(), 10).leases) {
            EXPECT_TRUE(got.insert(l.message.body.str()).second);
            EXPECT_EQ(Delete(q, l.receipt, T0()), ReceiptStatus::kOk);
          }
        }
        EXPECT_EQ(got.size(), 12u);
      }
    }
    for (QueueId q : queues) FERRY_ASSERT_OK(store().DeleteQueue(q));
  }
}

TEST_F(StandardQueueTest, LeaseEndsExactlyAtItsDeadline) {
  SendBody(q_, "m", T0());
  const absl::Time until = T0() + absl::Seconds(30);
  ASSERT_THAT(Receive(q_, T0()).leases, SizeIs(1));
  QueueStore::LeaseResult early = Receive(q_, until - kNs);
  EXPECT_THAT(early.leases, IsEmpty());
  EXPECT_EQ(early.next_change, until);
  EXPECT_EQ(Counts(q_, until - kNs).in_flight, 1);
  EXPECT_EQ(Counts(q_, until).visible, 1);
  QueueStore::LeaseResult again = Receive(q_, until);
  ASSERT_THAT(again.leases, SizeIs(1));
  EXPECT_EQ(again.leases[0].message.receive_count, 2);
  EXPECT_EQ(again.leases[0].message.first_receive_time, T0());
}

TEST_F(StandardQueueTest, SubMillisecondDeadlinesAreExact) {
  SendBody(q_, "m", T0());
  absl::Time now = T0();
  for (int i = 0; i < 50; ++i) {
    const absl::Duration vt = absl::Microseconds(1 + 37 * i);
    ASSERT_THAT(Receive(q_, now, 1, vt).leases, SizeIs(1)) << i;
    EXPECT_THAT(Receive(q_, now + vt - kNs, 1).leases, IsEmpty()) << i;
    now += vt;
  }
}

TEST_F(StandardQueueTest, ZeroVisibilityTimeoutMakesItVisibleAtOnce) {
  SendBody(q_, "m", T0());
  QueueStore::LeaseResult first = Receive(q_, T0(), 10, absl::ZeroDuration());
  ASSERT_THAT(first.leases, SizeIs(1)) << "not returned twice in one call";
  QueueStore::LeaseResult second = Receive(q_, T0(), 10, absl::ZeroDuration());
  ASSERT_THAT(second.leases, SizeIs(1));
  EXPECT_EQ(second.leases[0].message.receive_count, 2);
  EXPECT_NE(first.leases[0].receipt, second.leases[0].receipt);
  EXPECT_EQ(Delete(q_, first.leases[0].receipt, T0()), ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, T0()).leases, IsEmpty());
}

TEST_F(StandardQueueTest, AnyReceiptEverIssuedDeletes) {
  SendBody(q_, "m", T0());
  const std::string r1 = Receive(q_, T0()).leases.at(0).receipt;
  const absl::Time t2 = T0() + absl::Seconds(30);
  const std::string r2 = Receive(q_, t2).leases.at(0).receipt;
  EXPECT_NE(r1, r2);
  EXPECT_EQ(Delete(q_, r1, t2), ReceiptStatus::kOk);
  EXPECT_EQ(Delete(q_, r2, t2), ReceiptStatus::kGone);
  EXPECT_EQ(ChangeVisibility(q_, r2, t2, t2), ReceiptStatus::kGone);
  EXPECT_EQ(Counts(q_, t2).in_flight, 0);
}

TEST_F(StandardQueueTest, ExpiredReceiptStillDeletes) {
  SendBody(q_, "m", T0());
  const std::string r1 = Receive(q_, T0()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r1, T0() + absl::Hours(2)), ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, T0() + absl::Hours(3)).leases, IsEmpty());
}

TEST_F(StandardQueueTest, RequireLiveLease) {
  SendBody(q_, "m", T0());
  const std::string r1 = Receive(q_, T0()).leases.at(0).receipt;
  const absl::Time t2 = T0() + absl::Seconds(30);
  EXPECT_EQ(Delete(q_, r1, t2, /*live=*/true), ReceiptStatus::kExpired);
  const std::string r2 = Receive(q_, t2).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r1, t2, /*live=*/true), ReceiptStatus::kExpired)
      << "superseded by a later receive";
  EXPECT_EQ(Delete(q_, r2, t2 + absl::Seconds(29), /*live=*/true),
            ReceiptStatus::kOk);
  EXPECT_EQ(Delete(q_, r2, t2, /*live=*/true), ReceiptStatus::kGone);
}

TEST_F(StandardQueueTest, ReceiptValidation) {
  const QueueId other = Create("arn:other");
  SendBody(q_, "m", T0());
  SendBody(other, "o", T0());
  const std::string mine = Receive(q_, T0()).leases.at(0).receipt;
  const std::string theirs = Receive(other, T0()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, "garbage", T0()), ReceiptStatus::kMalformed);
  EXPECT_EQ(Delete(q_, "", T0()), ReceiptStatus::kMalformed);
  EXPECT_EQ(Delete(q_, std::string(15, 'A'), T0()), ReceiptStatus::kMalformed);
  EXPECT_EQ(Delete(q_, mine + "A", T0()), ReceiptStatus::kMalformed);
  EXPECT_EQ(Delete(q_, mine.substr(1), T0()), ReceiptStatus::kMalformed);
  EXPECT_EQ(Delete(q_, theirs, T0()), ReceiptStatus::kWrongQueue);
  EXPECT_EQ(ChangeVisibility(q_, theirs, T0(), T0()),
            ReceiptStatus::kWrongQueue);
  // Every single-letter edit is caught (the check bits), except by chance.
  int accepted = 0;
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+/=";
  for (size_t i = 0; i < mine.size(); ++i) {
    for (char c : alphabet) {
      if (c == mine[i]) continue;
      std::string edited = mine;
      edited[i] = c;
      const ReceiptStatus st = Delete(q_, edited, T0());
      if (st != ReceiptStatus::kMalformed) ++accepted;
    }
  }
  EXPECT_LE(accepted, 2) << "of ~1000 edited receipts";
  EXPECT_EQ(Counts(q_, T0()).in_flight, 1) << "no edit deleted the message";
  EXPECT_EQ(Delete(q_, mine, T0()), ReceiptStatus::kOk);
  // A receipt of a deleted queue is still "another queue of this store".
  FERRY_ASSERT_OK(store().DeleteQueue(other));
  EXPECT_EQ(Delete(q_, theirs, T0()), ReceiptStatus::kWrongQueue);
}

TEST_F(StandardQueueTest, ReceiptOfAnEarlierOccupantOfTheSlotIsGone) {
  SendBody(q_, "first", T0());
  const std::string r1 = Receive(q_, T0()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r1, T0()), ReceiptStatus::kOk);
  SendBody(q_, "second", T0());  // reuses the freed slot
  const std::string r2 = Receive(q_, T0()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r1, T0()), ReceiptStatus::kGone);
  EXPECT_EQ(Counts(q_, T0()).in_flight, 1);
  EXPECT_EQ(Delete(q_, r2, T0()), ReceiptStatus::kOk);
}

TEST_F(StandardQueueTest, DelayedMessage) {
  Send(q_, Msg("d", T0(), "", absl::Seconds(10)), T0());
  SendBody(q_, "now", T0());
  QueueStore::QueueCounts c = Counts(q_, T0());
  EXPECT_EQ(c.visible, 1);
  EXPECT_EQ(c.delayed, 1);
  QueueStore::LeaseResult r = Receive(q_, T0(), 10, absl::Seconds(60));
  EXPECT_THAT(Bodies(r), ElementsAre("now"));
  EXPECT_EQ(r.next_change, T0() + absl::Seconds(10));
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(10) - kNs).leases, IsEmpty());
  EXPECT_THAT(Bodies(Receive(q_, T0() + absl::Seconds(10))), ElementsAre("d"));
}

TEST_F(StandardQueueTest, NextChangeIsInfiniteWhenNothingPends) {
  EXPECT_EQ(Receive(q_, T0()).next_change, absl::InfiniteFuture());
  SendBody(q_, "m", T0());
  const std::string r = Receive(q_, T0()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r, T0()), ReceiptStatus::kOk);
  EXPECT_EQ(Receive(q_, T0() + absl::Hours(1)).next_change,
            absl::InfiniteFuture());
}

TEST_F(StandardQueueTest, RetentionDropsOldMessages) {
  SendBody(q_, "old", T0());
  SendBody(q_, "new", T0() + absl::Seconds(30));
  const absl::Time t = T0() + absl::Seconds(60);
  QueueStore::LeaseResult r =
      Receive(q_, t, 10, absl::Seconds(30), {.retention = absl::Seconds(60)});
  EXPECT_THAT(Bodies(r), ElementsAre("new"));
  EXPECT_EQ(Counts(q_, t, absl::Seconds(60)).in_flight, 1);
  // "new" (enqueued at T0+30s) is in flight until T0+90s.
  EXPECT_EQ(Counts(q_, T0() + absl::Seconds(89), absl::Seconds(50)).in_flight,
            0)
      << "Count drops expired in-flight messages too";
}

TEST_F(StandardQueueTest, CountAppliesRetention) {
  SendBody(q_, "a", T0());
  SendBody(q_, "b", T0() + absl::Seconds(10));
  Send(q_, Msg("c", T0(), "", absl::Seconds(100)), T0());
  EXPECT_EQ(Counts(q_, T0() + absl::Seconds(5), absl::Seconds(60)).visible, 2);
  QueueStore::QueueCounts c =
      Counts(q_, T0() + absl::Seconds(60), absl::Seconds(60));
  EXPECT_EQ(c.visible, 1);
  EXPECT_EQ(c.delayed, 0);
  EXPECT_EQ(Counts(q_, T0() + absl::Seconds(70), absl::Seconds(60)).visible, 0);
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(200)).leases, IsEmpty());
}

TEST_F(StandardQueueTest, TimeJumpsFarAhead) {
  for (int i = 0; i < 100; ++i) {
    Send(q_, Msg(absl::StrCat("m", i), T0(), "", absl::Seconds(i * 997)), T0());
  }
  EXPECT_EQ(Counts(q_, T0()).delayed, 99);
  const absl::Time later = T0() + absl::Hours(24 * 60);
  EXPECT_EQ(Counts(q_, later).visible, 100);
  QueueStore::LeaseResult r = Receive(q_, later, 1000, absl::Hours(12));
  EXPECT_THAT(r.leases, SizeIs(100));
  EXPECT_EQ(r.next_change, later + absl::Hours(12));
  EXPECT_THAT(Receive(q_, later + absl::Hours(12) - kNs, 100).leases,
              IsEmpty());
  EXPECT_THAT(Receive(q_, later + absl::Hours(12), 100).leases, SizeIs(100));
}

TEST_F(StandardQueueTest, RedriveToStandardDeadLetterQueue) {
  const std::string source_key = "arn:aws:sqs:us-east-1:000000000000:q";
  const QueueId dlq = Create("arn:dlq");
  SendBody(q_, "poison", T0());
  QueueStore::LeaseParams redrive{.max_receive_count = 2,
                                  .dead_letter_queue = dlq,
                                  .source_key = source_key};
  absl::Time t = T0();
  for (int i = 1; i <= 2; ++i) {
    QueueStore::LeaseResult r = Receive(q_, t, 10, absl::Seconds(30), redrive);
    ASSERT_THAT(r.leases, SizeIs(1));
    EXPECT_EQ(r.leases[0].message.receive_count, i);
    t += absl::Seconds(30);
  }
  QueueStore::LeaseResult moved =
      Receive(q_, t, 10, absl::Seconds(30), redrive);
  EXPECT_THAT(moved.leases, IsEmpty());
  EXPECT_EQ(moved.moved_to_dead_letter, 1);
  QueueStore::QueueCounts c = Counts(q_, t);
  EXPECT_EQ(c.visible + c.in_flight + c.delayed, 0);
  EXPECT_EQ(Counts(dlq, t).visible, 1);
  QueueStore::LeaseResult d = Receive(dlq, t);
  ASSERT_THAT(d.leases, SizeIs(1));
  const StoredMessage& m = d.leases[0].message;
  EXPECT_EQ(m.body, "poison");
  EXPECT_EQ(m.receive_count, 3) << "the moving attempt is not counted";
  EXPECT_EQ(m.dead_letter_source_arn, source_key);
  EXPECT_EQ(m.enqueue_time, T0()) << "standard DLQs keep the enqueue time";
  EXPECT_TRUE(m.deduplication_id.empty());
}

TEST_F(StandardQueueTest, RedriveWithMaxReceiveCountOne) {
  const QueueId dlq = Create("arn:dlq");
  SendBody(q_, "m", T0());
  QueueStore::LeaseParams redrive{.max_receive_count = 1,
                                  .dead_letter_queue = dlq};
  EXPECT_THAT(Receive(q_, T0(), 10, absl::ZeroDuration(), redrive).leases,
              SizeIs(1));
  QueueStore::LeaseResult r =
      Receive(q_, T0(), 10, absl::ZeroDuration(), redrive);
  EXPECT_THAT(r.leases, IsEmpty());
  EXPECT_EQ(r.moved_to_dead_letter, 1);
  EXPECT_EQ(Receive(dlq, T0()).leases.at(0).message.receive_count, 2);
}

TEST_F(StandardQueueTest, RedriveToMissingQueueLeasesNormally) {
  SendBody(q_, "m", T0());
  QueueStore::LeaseParams redrive{.max_receive_count = 1,
                                  .dead_letter_queue = 999};
  EXPECT_THAT(Receive(q_, T0(), 10, absl::ZeroDuration(), redrive).leases,
              SizeIs(1));
  EXPECT_THAT(Receive(q_, T0(), 10, absl::ZeroDuration(), redrive).leases,
              SizeIs(1));
}

TEST_F(StandardQueueTest, MaxInFlight) {
  for (int i = 0; i < 5; ++i) SendBody(q_, absl::StrCat("m", i), T0());
  QueueStore::LeaseParams cap{.max_in_flight = 3};
  EXPECT_THAT(Receive(q_, T0(), 2, absl::Seconds(30), cap).leases, SizeIs(2));
  EXPECT_THAT(Receive(q_, T0(), 10, absl::Seconds(30), cap).leases, SizeIs(1))
      << "partial success up to the cap";
  cap.queue = q_;
  cap.now = T0();
  cap.max_messages = 1;
  cap.invisible_until = T0() + absl::Seconds(30);
  EXPECT_THAT(store().Lease(cap),
              StatusIs(absl::StatusCode::kResourceExhausted));
  cap.now = T0() + absl::Seconds(30);  // the leases ended
  EXPECT_THAT(store().Lease(cap), IsOk());
}

TEST_F(StandardQueueTest, ChangeVisibility) {
  SendBody(q_, "m", T0());
  const std::string r = Receive(q_, T0()).leases.at(0).receipt;
  // Extend.
  EXPECT_EQ(ChangeVisibility(q_, r, T0(), T0() + absl::Seconds(100)),
            ReceiptStatus::kOk);
  QueueStore::LeaseResult waiting = Receive(q_, T0() + absl::Seconds(50));
  EXPECT_THAT(waiting.leases, IsEmpty());
  EXPECT_EQ(waiting.next_change, T0() + absl::Seconds(100));
  // Shorten to now: visible at once.
  const absl::Time t = T0() + absl::Seconds(60);
  EXPECT_EQ(ChangeVisibility(q_, r, t, t), ReceiptStatus::kOk);
  EXPECT_EQ(Counts(q_, t).visible, 1);
  // An expired lease can be made invisible again with its old receipt.
  EXPECT_EQ(ChangeVisibility(q_, r, t, t + absl::Seconds(10)),
            ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, t).leases, IsEmpty());
  EXPECT_EQ(Counts(q_, t).in_flight, 1);
  // Beyond the limit since the last receive.
  EXPECT_EQ(ChangeVisibility(q_, r, t, T0() + absl::Hours(12) + kNs, false,
                             absl::Hours(12)),
            ReceiptStatus::kBeyondLimit);
  EXPECT_EQ(ChangeVisibility(q_, r, t, T0() + absl::Hours(12), false,
                             absl::Hours(12)),
            ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, T0() + absl::Hours(12) - kNs).leases, IsEmpty());
  QueueStore::LeaseResult again = Receive(q_, T0() + absl::Hours(12));
  ASSERT_THAT(again.leases, SizeIs(1));
  EXPECT_EQ(again.leases[0].message.receive_count, 2);
  EXPECT_EQ(Delete(q_, r, T0() + absl::Hours(12)), ReceiptStatus::kOk);
  EXPECT_EQ(ChangeVisibility(q_, r, t, t), ReceiptStatus::kGone);
}

TEST_F(StandardQueueTest, ChangeVisibilityOfAVisibleMessageHidesItOnce) {
  SendBody(q_, "m", T0());
  const std::string r =
      Receive(q_, T0(), 1, absl::ZeroDuration()).leases.at(0).receipt;
  // Visible again (its handle is in the ready list); hide it, then let the
  // hiding end: it must come back exactly once.
  EXPECT_EQ(ChangeVisibility(q_, r, T0(), T0() + absl::Seconds(5)),
            ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, T0()).leases, IsEmpty());
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(5)).leases, SizeIs(1));
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(5)).leases, IsEmpty());
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(35)).leases, SizeIs(1));
}

TEST_F(StandardQueueTest, PurgeDeletesEverything) {
  SendBody(q_, "a", T0());
  SendBody(q_, "b", T0());
  Send(q_, Msg("c", T0(), "", absl::Seconds(10)), T0());
  const std::string r = Receive(q_, T0(), 1).leases.at(0).receipt;
  FERRY_ASSERT_OK(store().Purge(q_));
  QueueStore::QueueCounts c = Counts(q_, T0());
  EXPECT_EQ(c.visible + c.in_flight + c.delayed, 0);
  EXPECT_EQ(Delete(q_, r, T0()), ReceiptStatus::kGone);
  EXPECT_THAT(Receive(q_, T0() + absl::Hours(1)).leases, IsEmpty());
  SendBody(q_, "after", T0());
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("after"));
}

TEST_F(StandardQueueTest, PeekShowsStatesInOrder) {
  SendBody(q_, "a", T0());
  SendBody(q_, "b", T0());
  Send(q_, Msg("c", T0(), "", absl::Seconds(10)), T0());
  SendBody(q_, "d", T0());
  const absl::Time t = T0() + absl::Seconds(1);
  ASSERT_THAT(Bodies(Receive(q_, t, 1)), ElementsAre("a"));
  FERRY_ASSERT_OK_AND_ASSIGN(auto peeked,
                             store().Peek({.queue = q_, .now = t}));
  ASSERT_THAT(peeked, SizeIs(4));
  std::vector<std::string> bodies;
  for (const auto& p : peeked) bodies.push_back(p.message.body.str());
  EXPECT_THAT(bodies, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(peeked[0].state, QueueStore::MessageState::kInFlight);
  EXPECT_EQ(peeked[0].invisible_until, t + absl::Seconds(30));
  EXPECT_EQ(peeked[1].state, QueueStore::MessageState::kVisible);
  EXPECT_EQ(peeked[2].state, QueueStore::MessageState::kDelayed);
  EXPECT_EQ(peeked[2].invisible_until, T0() + absl::Seconds(10));
  FERRY_ASSERT_OK_AND_ASSIGN(auto two,
                             store().Peek({.queue = q_, .now = t, .limit = 2}));
  ASSERT_THAT(two, SizeIs(2));
  EXPECT_EQ(two[1].message.body, "b");
  EXPECT_EQ(Counts(q_, t).in_flight, 1) << "peeking receives nothing";
}

TEST_F(StandardQueueTest, AppendIsAllOrNothingAcrossQueues) {
  const QueueId other = Create("arn:other");
  std::vector<QueueStore::AppendEntry> entries(3);
  entries[0] = {.queue = q_, .message = Msg("a", T0())};
  entries[1] = {.queue = other, .message = Msg("b", T0())};
  entries[2] = {.queue = 4242, .message = Msg("c", T0())};
  std::vector<QueueStore::AppendOutcome> outcomes(3);
  EXPECT_THAT(
      store().Append({.entries = entries, .outcomes = outcomes, .now = T0()}),
      StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Counts(q_, T0()).visible, 0);
  EXPECT_EQ(Counts(other, T0()).visible, 0);
  entries[2].queue = q_;
  FERRY_ASSERT_OK(
      store().Append({.entries = entries, .outcomes = outcomes, .now = T0()}));
  EXPECT_EQ(Counts(q_, T0()).visible, 2);
  EXPECT_EQ(Counts(other, T0()).visible, 1);
  EXPECT_EQ(outcomes[1].message_id, entries[1].message.message_id);
}

TEST_F(StandardQueueTest, PeekHidesMessagesPastRetention) {
  SendBody(q_, "old", T0());
  SendBody(q_, "new", T0() + absl::Seconds(30));
  FERRY_ASSERT_OK_AND_ASSIGN(auto peeked,
                             store().Peek({.queue = q_,
                                           .now = T0() + absl::Seconds(60),
                                           .retention = absl::Seconds(60)}));
  ASSERT_THAT(peeked, SizeIs(1));
  EXPECT_EQ(peeked[0].message.body, "new");
}

TEST_F(StandardQueueTest, DedupKeysOnAStandardQueue) {
  QueueStore::AppendOutcome first =
      Send(q_, Msg("a", T0()), T0(), "k", T0() + absl::Minutes(5));
  QueueStore::AppendOutcome dup =
      Send(q_, Msg("b", T0()), T0(), "k", T0() + absl::Minutes(5));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.message_id, first.message_id);
  EXPECT_EQ(Counts(q_, T0()).visible, 1);
  FERRY_ASSERT_OK(store().Purge(q_));
  EXPECT_FALSE(
      Send(q_, Msg("c", T0()), T0(), "k", T0() + absl::Minutes(5)).duplicate);
}

TEST_F(StandardQueueTest, MoveFollowsThePlan) {
  const QueueId dest = Create("arn:dest");
  for (const char* b : {"a", "b", "c"}) SendBody(q_, b, T0());
  Send(q_, Msg("later", T0(), "", absl::Seconds(10)), T0());
  int calls = 0;
  FERRY_ASSERT_OK_AND_ASSIGN(
      int64_t moved, store().Move({.source = q_,
                                   .now = T0(),
                                   .max_messages = 2,
                                   .plan = [&](StoredMessage& m, QueueId* d) {
                                     ++calls;
                                     m.body = m.body.str() + "!";
                                     *d = dest;
                                     return absl::OkStatus();
                                   }}));
  EXPECT_EQ(moved, 2);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Counts(dest, T0()).visible, 2);
  EXPECT_EQ(Counts(q_, T0()).visible, 1);
  for (const std::string& b : Bodies(Receive(dest, T0())))
    EXPECT_EQ(b.back(), '!');
  // A failing plan leaves the message in place and ends the move.
  EXPECT_THAT(store().Move({.source = q_,
                            .now = T0(),
                            .max_messages = 10,
                            .plan =
                                [&](StoredMessage&, QueueId*) {
                                  return absl::FailedPreconditionError("no");
                                }}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(Counts(q_, T0()).visible, 1);
  // A destination that does not exist is an error too.
  EXPECT_THAT(store().Move({.source = q_,
                            .now = T0(),
                            .max_messages = 10,
                            .plan =
                                [&](StoredMessage&, QueueId* d) {
                                  *d = 9999;
                                  return absl::OkStatus();
                                }}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Bodies(Receive(q_, T0())),
              ElementsAre(::testing::AnyOf("a", "b", "c")));
}

TEST_F(StandardQueueTest, DeleteQueueWhileMessagesAreInFlight) {
  SendBody(q_, "m", T0());
  const std::string r = Receive(q_, T0()).leases.at(0).receipt;
  FERRY_ASSERT_OK(store().DeleteQueue(q_));
  ReceiptStatus st;
  std::string_view rv = r;
  EXPECT_THAT(
      store().Ack({.queue = q_, .receipts = {&rv, 1}, .statuses = {&st, 1}}),
      StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StandardQueueTest, ResetRemovesEverything) {
  SendBody(q_, "m", T0());
  FERRY_ASSERT_OK(backend_->kv().CompareAndSwap("t", "k", 0, "v").status());
  FERRY_ASSERT_OK(backend_->Reset());
  EXPECT_THAT(store().GetQueue("arn:aws:sqs:us-east-1:000000000000:q"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store().Lease({.queue = q_, .now = T0()}),
              StatusIs(absl::StatusCode::kNotFound));
  FERRY_ASSERT_OK_AND_ASSIGN(auto list, store().ListQueues({}));
  EXPECT_THAT(list, IsEmpty());
  FERRY_ASSERT_OK_AND_ASSIGN(auto kv, backend_->kv().Get("t", "k"));
  EXPECT_FALSE(kv.has_value());
  EXPECT_GT(Create("arn:aws:sqs:us-east-1:000000000000:q"), q_);
}

TEST_F(StandardQueueTest, ManyMessagesAcrossBatches) {
  constexpr int kN = 5000;
  std::vector<QueueStore::AppendEntry> entries(kN);
  for (int i = 0; i < kN; ++i) {
    entries[i] = {.queue = q_, .message = Msg(std::to_string(i), T0())};
  }
  std::vector<QueueStore::AppendOutcome> outcomes(kN);
  FERRY_ASSERT_OK(
      store().Append({.entries = entries, .outcomes = outcomes, .now = T0()}));
  std::set<std::string> seen;
  for (;;) {
    QueueStore::LeaseResult r = Receive(q_, T0(), 64);
    if (r.leases.empty()) break;
    for (const auto& l : r.leases) {
      EXPECT_TRUE(seen.insert(l.message.body.str()).second);
      EXPECT_EQ(Delete(q_, l.receipt, T0()), ReceiptStatus::kOk);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kN));
}

// ---- Memory cap ------------------------------------------------------------

class MemoryCapTest : public StoreTest {
 protected:
  MemoryCapTest() : StoreTest({.max_bytes = 16 * 1024}) {}
  QueueId q_ = Create("arn:q");
};

TEST_F(MemoryCapTest, AppendBeyondTheCapStoresNothing) {
  const std::string body(1000, 'x');
  int accepted = 0;
  for (int i = 0; i < 100; ++i) {
    QueueStore::AppendEntry e{.queue = q_, .message = Msg(body, T0())};
    QueueStore::AppendOutcome o;
    absl::Status s =
        store().Append({.entries = {&e, 1}, .outcomes = {&o, 1}, .now = T0()});
    if (!s.ok()) {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kResourceExhausted,
                              HasSubstr("memory cap of 16384 bytes reached")));
      break;
    }
    ++accepted;
  }
  EXPECT_GT(accepted, 5);
  EXPECT_LT(accepted, 16);
  EXPECT_EQ(Counts(q_, T0()).visible, accepted);
  // A batch that does not fit is refused whole, even if a prefix would fit.
  const std::string small(10, 'y');
  std::vector<QueueStore::AppendEntry> batch(1);
  batch[0] = {.queue = q_, .message = Msg(small, T0())};
  for (int i = 0; i < 20; ++i)
    batch.push_back({.queue = q_, .message = Msg(body, T0())});
  std::vector<QueueStore::AppendOutcome> outcomes(batch.size());
  EXPECT_THAT(
      store().Append({.entries = batch, .outcomes = outcomes, .now = T0()}),
      StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(Counts(q_, T0()).visible, accepted);
  // Deleting frees room.
  QueueStore::LeaseResult r = Receive(q_, T0(), 3);
  for (const auto& l : r.leases)
    EXPECT_EQ(Delete(q_, l.receipt, T0()), ReceiptStatus::kOk);
  for (int i = 0; i < 3; ++i) SendBody(q_, body, T0());
}

TEST_F(MemoryCapTest, PurgeAndDeleteQueueReleaseTheirBytes) {
  const std::string body(1000, 'x');
  auto fill = [&](QueueId q) {
    int n = 0;
    for (;; ++n) {
      QueueStore::AppendEntry e{.queue = q, .message = Msg(body, T0())};
      QueueStore::AppendOutcome o;
      if (!store()
               .Append({.entries = {&e, 1}, .outcomes = {&o, 1}, .now = T0()})
               .ok())
        break;
    }
    return n;
  };
  const int n = fill(q_);
  EXPECT_GT(n, 0);
  FERRY_ASSERT_OK(store().Purge(q_));
  EXPECT_EQ(fill(q_), n);
  FERRY_ASSERT_OK(store().DeleteQueue(q_));
  EXPECT_EQ(fill(Create("arn:q2")), n);
}

TEST_F(MemoryCapTest, DuplicatesAreNotCharged) {
  const QueueId f = Create("arn:f.fifo", /*fifo=*/true);
  const std::string body(1000, 'x');
  int stored = 0;
  for (int i = 0; i < 100; ++i) {
    QueueStore::AppendEntry e{.queue = f,
                              .message = Msg(body, T0(), "g"),
                              .dedup_key = "same",
                              .dedup_expires_at = T0() + absl::Minutes(5)};
    QueueStore::AppendOutcome o;
    FERRY_ASSERT_OK(
        store().Append({.entries = {&e, 1}, .outcomes = {&o, 1}, .now = T0()}));
    if (!o.duplicate) ++stored;
  }
  EXPECT_EQ(stored, 1);
}

// ---- Key-value store -------------------------------------------------------

class KeyValueTest : public StoreTest {
 protected:
  ferry::KeyValueStore& kv() { return backend_->kv(); }
};

TEST_F(KeyValueTest, CompareAndSwap) {
  FERRY_ASSERT_OK_AND_ASSIGN(auto missing, kv().Get("t", "k"));
  EXPECT_FALSE(missing.has_value());
  FERRY_ASSERT_OK_AND_ASSIGN(uint64_t v1,
                             kv().CompareAndSwap("t", "k", 0, "a"));
  EXPECT_GT(v1, 0u);
  EXPECT_THAT(kv().CompareAndSwap("t", "k", 0, "b"),
              StatusIs(absl::StatusCode::kAborted));
  FERRY_ASSERT_OK_AND_ASSIGN(uint64_t v2,
                             kv().CompareAndSwap("t", "k", v1, "b"));
  EXPECT_NE(v2, v1);
  EXPECT_THAT(kv().CompareAndSwap("t", "k", v1, "c"),
              StatusIs(absl::StatusCode::kAborted));
  FERRY_ASSERT_OK_AND_ASSIGN(auto got, kv().Get("t", "k"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "b");
  EXPECT_EQ(got->version, v2);
  FERRY_ASSERT_OK_AND_ASSIGN(auto other_table, kv().Get("u", "k"));
  EXPECT_FALSE(other_table.has_value());
}

TEST_F(KeyValueTest, Delete) {
  FERRY_ASSERT_OK_AND_ASSIGN(uint64_t v1,
                             kv().CompareAndSwap("t", "k", 0, "a"));
  EXPECT_THAT(kv().Delete("t", "k", v1 + 1),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(kv().Delete("t", "k", v1), ferry_testing::IsOkAndHolds(true));
  EXPECT_THAT(kv().Delete("t", "k", 0), ferry_testing::IsOkAndHolds(false));
  EXPECT_THAT(kv().Delete("t", "k", v1), StatusIs(absl::StatusCode::kAborted));
  FERRY_ASSERT_OK_AND_ASSIGN(uint64_t v2,
                             kv().CompareAndSwap("t", "k", 0, "again"));
  EXPECT_NE(v2, v1) << "a recreated key never repeats a version";
  EXPECT_THAT(kv().Delete("t", "k", 0), ferry_testing::IsOkAndHolds(true));
}

TEST_F(KeyValueTest, ScanByPrefixInKeyOrder) {
  for (const char* k : {"b/2", "a/1", "b/1", "b/3", "c/1"}) {
    FERRY_ASSERT_OK(kv().CompareAndSwap("t", k, 0, k).status());
  }
  FERRY_ASSERT_OK(kv().CompareAndSwap("other", "b/9", 0, "x").status());
  auto keys = [](const auto& rows) {
    std::vector<std::string> out;
    for (const auto& [k, e] : rows) {
      EXPECT_EQ(e.value, k);
      out.push_back(k);
    }
    return out;
  };
  FERRY_ASSERT_OK_AND_ASSIGN(auto b, kv().Scan("t", "b/", "", 100));
  EXPECT_THAT(keys(b), ElementsAre("b/1", "b/2", "b/3"));
  FERRY_ASSERT_OK_AND_ASSIGN(auto page, kv().Scan("t", "b/", "b/1", 1));
  EXPECT_THAT(keys(page), ElementsAre("b/2"));
  FERRY_ASSERT_OK_AND_ASSIGN(auto all, kv().Scan("t", "", "", 100));
  EXPECT_THAT(all, SizeIs(5));
  FERRY_ASSERT_OK_AND_ASSIGN(auto none, kv().Scan("missing", "", "", 100));
  EXPECT_THAT(none, IsEmpty());
}

}  // namespace
}  // namespace ferry_memory_test
