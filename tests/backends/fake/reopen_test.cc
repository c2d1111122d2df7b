// What survives closing and reopening a store that persists: the store
// interface must carry everything a durable backend needs (queues,
// attributes, messages, leases and receipts, deduplication keys, move
// tasks), with no state left behind in core.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "ferry/testing/sequential_ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/persistent_fake_backend.h"
#include "tests/testing/status_matchers.h"

namespace {

using ::ferry_testing::IsOk;
using ::testing::SizeIs;

class ReopenTest : public testing::Test {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(
        testing::TempDir(), "/ferry_reopen_",
        testing::UnitTest::GetInstance()->current_test_info()->name(), ".json");
    std::remove(path_.c_str());
    Open();
  }
  void TearDown() override {
    broker_.reset();
    std::remove(path_.c_str());
  }
  void Open() {
    broker_.reset();
    auto backend = ferry_testing::OpenPersistentFakeBackend({.path = path_});
    ASSERT_THAT(backend.status(), IsOk());
    auto broker = ferry::Broker::Open({.clock = &clock_, .ids = &ids_},
                                      *std::move(backend));
    ASSERT_THAT(broker.status(), IsOk());
    broker_ = *std::move(broker);
  }
  ferry::Sqs& sqs() { return broker_->sqs(); }

  std::string path_;
  ferry_testing::ManualClock clock_;
  ferry_testing::SequentialIdSource ids_;
  std::unique_ptr<ferry::Broker> broker_;
  ferry::RequestContext ctx_;
};

TEST_F(ReopenTest, QueuesAttributesAndTagsSurvive) {
  auto created =
      sqs().CreateQueue(ctx_, {.queue_name = "jobs",
                               .attributes = {{"VisibilityTimeout", "45"}},
                               .tags = {{"team", "edge"}}});
  ASSERT_THAT(created.status(), IsOk());
  Open();
  auto attrs = sqs().GetQueueAttributes(
      ctx_, {.queue_url = created->queue_url, .attribute_names = {"All"}});
  ASSERT_THAT(attrs.status(), IsOk());
  EXPECT_EQ(attrs->attributes.at("VisibilityTimeout"), "45");
  auto tags = sqs().ListQueueTags(ctx_, {.queue_url = created->queue_url});
  ASSERT_THAT(tags.status(), IsOk());
  EXPECT_EQ(tags->tags.at("team"), "edge");
}

TEST_F(ReopenTest, InFlightMessageKeepsItsReceiptAndDeadline) {
  auto q = sqs().CreateQueue(ctx_, {.queue_name = "jobs"});
  ASSERT_THAT(q.status(), IsOk());
  ASSERT_THAT(
      sqs()
          .SendMessage(ctx_, {.queue_url = q->queue_url, .message_body = "m1"})
          .status(),
      IsOk());
  auto received = sqs().ReceiveMessage(
      ctx_, {.queue_url = q->queue_url, .visibility_timeout = 30});
  ASSERT_THAT(received.status(), IsOk());
  ASSERT_THAT(received->messages, SizeIs(1));
  Open();
  // Still in flight after the reopen...
  auto again = sqs().ReceiveMessage(ctx_, {.queue_url = q->queue_url});
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_THAT(again->messages, SizeIs(0));
  // ...and the receipt issued before it still deletes the message.
  EXPECT_THAT(
      sqs().DeleteMessage(
          ctx_, {.queue_url = q->queue_url,
                 .receipt_handle = received->messages[0].receipt_handle}),
      IsOk());
  clock_.Advance(absl::Seconds(31));
  auto after = sqs().ReceiveMessage(ctx_, {.queue_url = q->queue_url});
  ASSERT_THAT(after.status(), IsOk());
  EXPECT_THAT(after->messages, SizeIs(0));
}

TEST_F(ReopenTest, ReceiveCountsAndDeduplicationWindowSurvive) {
  auto q = sqs().CreateQueue(
      ctx_, {.queue_name = "jobs.fifo",
             .attributes = {{"FifoQueue", "true"},
                            {"ContentBasedDeduplication", "true"}}});
  ASSERT_THAT(q.status(), IsOk());
  ASSERT_THAT(sqs()
                  .SendMessage(ctx_, {.queue_url = q->queue_url,
                                      .message_body = "once",
                                      .message_group_id = "g"})
                  .status(),
              IsOk());
  auto first = sqs().ReceiveMessage(
      ctx_, {.queue_url = q->queue_url, .visibility_timeout = 0});
  ASSERT_THAT(first.status(), IsOk());
  Open();
  // The same body inside the 5-minute window is a duplicate after reopen.
  ASSERT_THAT(sqs()
                  .SendMessage(ctx_, {.queue_url = q->queue_url,
                                      .message_body = "once",
                                      .message_group_id = "g"})
                  .status(),
              IsOk());
  auto second = sqs().ReceiveMessage(
      ctx_, {.queue_url = q->queue_url,
             .attribute_names = {"ApproximateReceiveCount"},
             .max_number_of_messages = 10});
  ASSERT_THAT(second.status(), IsOk());
  ASSERT_THAT(second->messages, SizeIs(1));
  EXPECT_EQ(second->messages[0].attributes.at("ApproximateReceiveCount"), "2");
}

}  // namespace
