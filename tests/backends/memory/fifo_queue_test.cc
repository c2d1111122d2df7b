// The QueueStore contract for FIFO queues on the memory backend: order per
// group, the prefix rule, deduplication, live leases, retroactive delay,
// redrive and moves.

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "ferry/backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store_test_util.h"
#include "tests/testing/status_matchers.h"

namespace ferry_memory_test {
namespace {

using ::ferry_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Duration kNs = absl::Nanoseconds(1);

class FifoQueueTest : public StoreTest {
 protected:
  QueueId q_ =
      Create("arn:aws:sqs:us-east-1:000000000000:q.fifo", /*fifo=*/true);

  std::string ReceiptOf(const QueueStore::LeaseResult& r,
                        std::string_view body) {
    for (const auto& l : r.leases) {
      if (l.message.body == body) return l.receipt;
    }
    ADD_FAILURE() << "no lease of " << body;
    return "";
  }
};

TEST_F(FifoQueueTest, FillsFromOneGroupBeforeTheNext) {
  uint64_t last = 0;
  for (auto [body, group] : std::vector<std::pair<std::string, std::string>>{
           {"g1m1", "g1"}, {"g2m1", "g2"}, {"g1m2", "g1"}, {"g1m3", "g1"}}) {
    QueueStore::AppendOutcome o = SendBody(q_, body, T0(), group);
    EXPECT_GT(o.sequence_number, last);
    last = o.sequence_number;
  }
  QueueStore::LeaseResult r = Receive(q_, T0());
  EXPECT_THAT(Bodies(r), ElementsAre("g1m1", "g1m2", "g1m3", "g2m1"));
  for (const auto& l : r.leases) EXPECT_GT(l.message.sequence_number, 0u);
}

TEST_F(FifoQueueTest, GroupsInOrderOfTheirHead) {
  SendBody(q_, "b1", T0(), "b");
  SendBody(q_, "a1", T0(), "a");
  SendBody(q_, "b2", T0(), "b");
  const std::string r = Receive(q_, T0(), 1).leases.at(0).receipt;  // b1
  EXPECT_EQ(Delete(q_, r, T0(), true), ReceiptStatus::kOk);
  // Now b's head (b2) is later than a's (a1).
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("a1", "b2"));
}

TEST_F(FifoQueueTest, InFlightMessagesBlockTheirGroup) {
  for (const char* b : {"a1", "a2", "a3"}) SendBody(q_, b, T0(), "a");
  SendBody(q_, "b1", T0(), "b");
  QueueStore::LeaseResult first = Receive(q_, T0(), 1);
  ASSERT_THAT(Bodies(first), ElementsAre("a1"));
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("b1"));
  QueueStore::LeaseResult none = Receive(q_, T0());
  EXPECT_THAT(none.leases, IsEmpty());
  EXPECT_EQ(none.next_change, T0() + absl::Seconds(30));
  // Sent after the block: still behind it.
  SendBody(q_, "a4", T0(), "a");
  EXPECT_THAT(Receive(q_, T0()).leases, IsEmpty());
  EXPECT_EQ(Delete(q_, first.leases[0].receipt, T0(), true),
            ReceiptStatus::kOk);
  QueueStore::LeaseResult rest = Receive(q_, T0(), 2);
  EXPECT_THAT(Bodies(rest), ElementsAre("a2", "a3"));
  // A partial delete leaves the group blocked.
  EXPECT_EQ(Delete(q_, ReceiptOf(rest, "a3"), T0(), true), ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, T0()).leases, IsEmpty());
  EXPECT_EQ(Delete(q_, ReceiptOf(rest, "a2"), T0(), true), ReceiptStatus::kOk);
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("a4"));
}

TEST_F(FifoQueueTest, VisibleMessagesBeforeTheFirstInFlightOneAreReturned) {
  for (const char* b : {"a1", "a2", "a3"}) SendBody(q_, b, T0(), "a");
  QueueStore::LeaseResult r = Receive(q_, T0(), 2);
  ASSERT_THAT(Bodies(r), ElementsAre("a1", "a2"));
  EXPECT_EQ(ChangeVisibility(q_, ReceiptOf(r, "a1"), T0(), T0(), true),
            ReceiptStatus::kOk);
  QueueStore::LeaseResult again = Receive(q_, T0());
  ASSERT_THAT(Bodies(again), ElementsAre("a1"));
  EXPECT_EQ(again.leases[0].message.receive_count, 2);
}

TEST_F(FifoQueueTest, ExpiryUnblocksInOrder) {
  for (const char* b : {"a1", "a2"}) SendBody(q_, b, T0(), "a");
  ASSERT_THAT(Bodies(Receive(q_, T0(), 1)), ElementsAre("a1"));
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(30) - kNs).leases, IsEmpty());
  QueueStore::LeaseResult r = Receive(q_, T0() + absl::Seconds(30));
  ASSERT_THAT(Bodies(r), ElementsAre("a1", "a2"));
  EXPECT_EQ(r.leases[0].message.receive_count, 2);
  EXPECT_EQ(r.leases[0].message.first_receive_time, T0());
  EXPECT_EQ(r.leases[1].message.receive_count, 1);
}

TEST_F(FifoQueueTest, DeletingInTheMiddleOfAGroup) {
  for (const char* b : {"a1", "a2", "a3", "a4"}) SendBody(q_, b, T0(), "a");
  QueueStore::LeaseResult r = Receive(q_, T0(), 3);
  ASSERT_THAT(Bodies(r), ElementsAre("a1", "a2", "a3"));
  EXPECT_EQ(Delete(q_, ReceiptOf(r, "a2"), T0(), true), ReceiptStatus::kOk);
  EXPECT_EQ(Delete(q_, ReceiptOf(r, "a1"), T0(), true), ReceiptStatus::kOk);
  EXPECT_THAT(Receive(q_, T0()).leases, IsEmpty()) << "a3 still in flight";
  const absl::Time t = T0() + absl::Seconds(30);
  EXPECT_THAT(Bodies(Receive(q_, t)), ElementsAre("a3", "a4"));
  FERRY_ASSERT_OK_AND_ASSIGN(auto peeked,
                             store().Peek({.queue = q_, .now = t}));
  ASSERT_THAT(peeked, SizeIs(2));
  EXPECT_EQ(peeked[0].message.body, "a3");
}

TEST_F(FifoQueueTest, Deduplication) {
  const absl::Time expires = T0() + absl::Minutes(5);
  QueueStore::AppendOutcome first =
      Send(q_, Msg("a", T0(), "g"), T0(), "k1", expires);
  EXPECT_FALSE(first.duplicate);
  QueueStore::AppendOutcome dup =
      Send(q_, Msg("b", T0(), "g"), T0(), "k1", expires);
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.message_id, first.message_id);
  EXPECT_EQ(dup.sequence_number, first.sequence_number);
  EXPECT_EQ(Counts(q_, T0()).visible, 1);
  // Survives delete.
  QueueStore::LeaseResult r = Receive(q_, T0());
  EXPECT_EQ(Delete(q_, r.leases.at(0).receipt, T0(), true), ReceiptStatus::kOk);
  EXPECT_TRUE(Send(q_, Msg("c", T0(), "g"), T0(), "k1", expires).duplicate);
  // Expires.
  EXPECT_TRUE(
      Send(q_, Msg("e", expires - kNs, "g"), expires - kNs, "k1", expires)
          .duplicate);
  QueueStore::AppendOutcome fresh = Send(q_, Msg("f", expires, "g"), expires,
                                         "k1", expires + absl::Minutes(5));
  EXPECT_FALSE(fresh.duplicate);
  EXPECT_GT(fresh.sequence_number, first.sequence_number);
  EXPECT_THAT(Bodies(Receive(q_, expires)), ElementsAre("f"));
}

TEST_F(FifoQueueTest, PurgeForgetsDeduplicationKeys) {
  const absl::Time expires = T0() + absl::Minutes(5);
  EXPECT_FALSE(Send(q_, Msg("a", T0(), "g"), T0(), "k1", expires).duplicate);
  EXPECT_TRUE(Send(q_, Msg("b", T0(), "g"), T0(), "k1", expires).duplicate);
  FERRY_ASSERT_OK(store().Purge(q_));
  EXPECT_FALSE(Send(q_, Msg("c", T0(), "g"), T0(), "k1", expires).duplicate);
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("c"));
}

TEST_F(FifoQueueTest, PeekHidesMessagesPastRetention) {
  SendBody(q_, "old", T0(), "g");
  SendBody(q_, "new", T0() + absl::Seconds(30), "g");
  FERRY_ASSERT_OK_AND_ASSIGN(auto peeked,
                             store().Peek({.queue = q_,
                                           .now = T0() + absl::Seconds(60),
                                           .retention = absl::Seconds(60)}));
  ASSERT_THAT(peeked, SizeIs(1));
  EXPECT_EQ(peeked[0].message.body, "new");
}

TEST_F(FifoQueueTest, DuplicatesWithinOneAppend) {
  std::vector<QueueStore::AppendEntry> entries(3);
  const absl::Time expires = T0() + absl::Minutes(5);
  entries[0] = {.queue = q_,
                .message = Msg("a", T0(), "g"),
                .dedup_key = "k",
                .dedup_expires_at = expires};
  entries[1] = {.queue = q_,
                .message = Msg("b", T0(), "g"),
                .dedup_key = "k",
                .dedup_expires_at = expires};
  entries[2] = {.queue = q_,
                .message = Msg("c", T0(), "g"),
                .dedup_key = "j",
                .dedup_expires_at = expires};
  const Uuid first_id = entries[0].message.message_id;
  std::vector<QueueStore::AppendOutcome> outcomes(3);
  FERRY_ASSERT_OK(
      store().Append({.entries = entries, .outcomes = outcomes, .now = T0()}));
  EXPECT_FALSE(outcomes[0].duplicate);
  EXPECT_TRUE(outcomes[1].duplicate);
  EXPECT_EQ(outcomes[1].message_id, first_id);
  EXPECT_FALSE(outcomes[2].duplicate);
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("a", "c"));
}

TEST_F(FifoQueueTest, LiveLeaseRequired) {
  SendBody(q_, "m", T0(), "g");
  const std::string r1 = Receive(q_, T0()).leases.at(0).receipt;
  const absl::Time t = T0() + absl::Seconds(30);
  EXPECT_EQ(Delete(q_, r1, t, true), ReceiptStatus::kExpired);
  EXPECT_EQ(ChangeVisibility(q_, r1, t, t + absl::Seconds(10), true),
            ReceiptStatus::kExpired);
  EXPECT_EQ(Counts(q_, t).visible, 1) << "an expired receipt deletes nothing";
  const std::string r2 = Receive(q_, t).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r1, t, true), ReceiptStatus::kExpired);
  // Extended by ChangeVisibility: still live after the first deadline.
  EXPECT_EQ(ChangeVisibility(q_, r2, t, t + absl::Seconds(100), true),
            ReceiptStatus::kOk);
  EXPECT_EQ(Delete(q_, r2, t + absl::Seconds(50), true), ReceiptStatus::kOk);
  EXPECT_EQ(Delete(q_, r2, t + absl::Seconds(50), true), ReceiptStatus::kGone);
  EXPECT_EQ(ChangeVisibility(q_, r2, t, t, true), ReceiptStatus::kGone);
}

TEST_F(FifoQueueTest, ZeroVisibilityLeaseIsExpiredAtOnce) {
  SendBody(q_, "m", T0(), "g");
  const std::string r =
      Receive(q_, T0(), 1, absl::ZeroDuration()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, r, T0(), true), ReceiptStatus::kExpired);
  QueueStore::LeaseResult again = Receive(q_, T0());
  ASSERT_THAT(again.leases, SizeIs(1));
  EXPECT_EQ(again.leases[0].message.receive_count, 2);
}

TEST_F(FifoQueueTest, ReceiptValidation) {
  const QueueId other = Create("arn:other.fifo", true);
  SendBody(q_, "m", T0(), "g");
  SendBody(other, "o", T0(), "g");
  const std::string mine = Receive(q_, T0()).leases.at(0).receipt;
  const std::string theirs = Receive(other, T0()).leases.at(0).receipt;
  EXPECT_EQ(Delete(q_, "garbage", T0(), true), ReceiptStatus::kMalformed);
  EXPECT_EQ(Delete(q_, theirs, T0(), true), ReceiptStatus::kWrongQueue);
  EXPECT_EQ(Delete(q_, mine, T0(), true), ReceiptStatus::kOk);
}

TEST_F(FifoQueueTest, RetroactiveDelay) {
  SendBody(q_, "m", T0(), "g");
  const std::optional<absl::Duration> delay = absl::Seconds(10);
  QueueStore::LeaseResult early =
      Receive(q_, T0() + absl::Seconds(5), 10, absl::Seconds(30),
              {.retroactive_delay = delay});
  EXPECT_THAT(early.leases, IsEmpty());
  EXPECT_EQ(early.next_change, T0() + absl::Seconds(10));
  QueueStore::QueueCounts c =
      Counts(q_, T0() + absl::Seconds(5), absl::InfiniteDuration(), delay);
  EXPECT_EQ(c.delayed, 1);
  EXPECT_EQ(c.visible, 0);
  FERRY_ASSERT_OK_AND_ASSIGN(auto peeked,
                             store().Peek({.queue = q_,
                                           .now = T0() + absl::Seconds(5),
                                           .retroactive_delay = delay}));
  ASSERT_THAT(peeked, SizeIs(1));
  EXPECT_EQ(peeked[0].state, QueueStore::MessageState::kDelayed);
  EXPECT_EQ(peeked[0].invisible_until, T0() + absl::Seconds(10));
  // Without the retroactive rule the message's own visible_at counts.
  EXPECT_THAT(
      Receive(q_, T0() + absl::Seconds(5), 10, absl::ZeroDuration()).leases,
      SizeIs(1));
  // Once received, the delay no longer applies.
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(5), 10, absl::Seconds(30),
                      {.retroactive_delay = delay})
                  .leases,
              SizeIs(1));
}

TEST_F(FifoQueueTest, QueueDelayOnSend) {
  Send(q_, Msg("m", T0(), "g", absl::Seconds(5)), T0());
  EXPECT_EQ(Counts(q_, T0()).delayed, 1);
  QueueStore::LeaseResult r = Receive(q_, T0());
  EXPECT_THAT(r.leases, IsEmpty());
  EXPECT_EQ(r.next_change, T0() + absl::Seconds(5));
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(5)).leases, SizeIs(1));
}

TEST_F(FifoQueueTest, RedriveToFifoDeadLetterQueue) {
  const QueueId dlq = Create("arn:dlq.fifo", true);
  SendBody(q_, "a1", T0(), "a");
  SendBody(q_, "a2", T0(), "a");
  QueueStore::LeaseParams redrive{.max_receive_count = 1,
                                  .dead_letter_queue = dlq,
                                  .dead_letter_is_fifo = true,
                                  .source_key = "arn:source.fifo"};
  ASSERT_THAT(Bodies(Receive(q_, T0(), 1, absl::Seconds(30), redrive)),
              ElementsAre("a1"));
  const absl::Time t = T0() + absl::Seconds(30);
  QueueStore::LeaseResult r = Receive(q_, t, 1, absl::Seconds(30), redrive);
  EXPECT_EQ(r.moved_to_dead_letter, 1);
  EXPECT_THAT(Bodies(r), ElementsAre("a2"))
      << "the group unblocks after the move";
  QueueStore::LeaseResult d = Receive(dlq, t);
  ASSERT_THAT(d.leases, SizeIs(1));
  const StoredMessage& m = d.leases[0].message;
  EXPECT_EQ(m.body, "a1");
  EXPECT_EQ(m.receive_count, 2);
  EXPECT_EQ(m.deduplication_id, m.message_id.ToString());
  EXPECT_EQ(m.enqueue_time, t) << "FIFO DLQs reset the enqueue time";
  EXPECT_EQ(m.sent_time, T0());
  EXPECT_EQ(m.dead_letter_source_arn, "arn:source.fifo");
  EXPECT_EQ(m.message_group_id, "a");
  EXPECT_EQ(m.sequence_number, 1u) << "a new sequence number in the DLQ";
}

TEST_F(FifoQueueTest, RetentionDropsHeadsAndUnblocks) {
  SendBody(q_, "old", T0(), "g");
  SendBody(q_, "new", T0() + absl::Seconds(30), "g");
  const absl::Time t = T0() + absl::Seconds(60);
  EXPECT_THAT(Bodies(Receive(q_, t, 10, absl::Seconds(30),
                             {.retention = absl::Seconds(60)})),
              ElementsAre("new"));
  EXPECT_EQ(Counts(q_, t, absl::Seconds(60)).in_flight, 1);
}

TEST_F(FifoQueueTest, CountsAndPeek) {
  SendBody(q_, "a1", T0(), "a");
  SendBody(q_, "a2", T0(), "a");
  Send(q_, Msg("b1", T0(), "b", absl::Seconds(10)), T0());
  ASSERT_THAT(Bodies(Receive(q_, T0(), 1)), ElementsAre("a1"));
  QueueStore::QueueCounts c = Counts(q_, T0());
  EXPECT_EQ(c.visible, 1);
  EXPECT_EQ(c.in_flight, 1);
  EXPECT_EQ(c.delayed, 1);
  FERRY_ASSERT_OK_AND_ASSIGN(auto peeked,
                             store().Peek({.queue = q_, .now = T0()}));
  ASSERT_THAT(peeked, SizeIs(3));
  EXPECT_EQ(peeked[0].message.body, "a1");
  EXPECT_EQ(peeked[0].state, QueueStore::MessageState::kInFlight);
  EXPECT_EQ(peeked[1].message.body, "a2");
  EXPECT_EQ(peeked[1].state, QueueStore::MessageState::kVisible);
  EXPECT_EQ(peeked[2].state, QueueStore::MessageState::kDelayed);
}

TEST_F(FifoQueueTest, MaxInFlight) {
  for (const char* g : {"a", "b", "c", "d"}) SendBody(q_, g, T0(), g);
  EXPECT_THAT(
      Receive(q_, T0(), 10, absl::Seconds(30), {.max_in_flight = 3}).leases,
      SizeIs(3));
  EXPECT_THAT(store().Lease({.queue = q_,
                             .now = T0(),
                             .invisible_until = T0() + absl::Seconds(30),
                             .max_in_flight = 3}),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(Receive(q_, T0() + absl::Seconds(30), 10, absl::Seconds(30),
                      {.max_in_flight = 3})
                  .leases,
              SizeIs(3));
}

TEST_F(FifoQueueTest, MoveKeepsGroupOrder) {
  const QueueId dest = Create("arn:dest.fifo", true);
  for (const char* b : {"a1", "a2"}) SendBody(q_, b, T0(), "a");
  SendBody(q_, "b1", T0(), "b");
  SendBody(q_, "a3", T0(), "a");
  const std::string r =
      Receive(q_, T0(), 1).leases.at(0).receipt;  // a1 in flight
  std::vector<std::string> planned;
  FERRY_ASSERT_OK_AND_ASSIGN(
      int64_t moved, store().Move({.source = q_,
                                   .now = T0(),
                                   .max_messages = 10,
                                   .plan = [&](StoredMessage& m, QueueId* d) {
                                     planned.push_back(m.body.str());
                                     *d = dest;
                                     return absl::OkStatus();
                                   }}));
  EXPECT_EQ(moved, 1);
  EXPECT_THAT(planned, ElementsAre("b1")) << "group a is blocked by a1";
  EXPECT_EQ(Delete(q_, r, T0(), true), ReceiptStatus::kOk);
  planned.clear();
  FERRY_ASSERT_OK_AND_ASSIGN(
      moved, store().Move({.source = q_,
                           .now = T0(),
                           .max_messages = 10,
                           .plan = [&](StoredMessage& m, QueueId* d) {
                             planned.push_back(m.body.str());
                             if (m.body == "a3")
                               return absl::InternalError("stop");
                             *d = dest;
                             return absl::OkStatus();
                           }}));
  EXPECT_EQ(moved, 1);
  EXPECT_THAT(planned, ElementsAre("a2", "a3"));
  EXPECT_THAT(Bodies(Receive(q_, T0())), ElementsAre("a3"));
  EXPECT_THAT(Bodies(Receive(dest, T0())), ElementsAre("b1", "a2"));
}

}  // namespace
}  // namespace ferry_memory_test
