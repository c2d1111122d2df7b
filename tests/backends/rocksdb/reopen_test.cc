// What survives closing and reopening a store that persists, on every such
// store (the persistent fake and RocksDB): queues, attributes and tags,
// messages, in-flight state (receipts, deadlines, receive counts), delays,
// deduplication windows, dead-letter moves, move tasks and FIFO order, with
// no state left behind in core.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/rocksdb_backend.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "ferry/testing/manual_executor.h"
#include "ferry/testing/sequential_ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/backends/rocksdb/persistent_stores.h"
#include "tests/testing/persistent_fake_backend.h"
#include "tests/testing/status_matchers.h"

namespace {

using ::ferry_testing::IsOk;
using ::testing::ElementsAre;
using ::testing::SizeIs;

using ::ferry_testing::PersistentStore;

class ReopenTest : public testing::TestWithParam<PersistentStore> {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(
        testing::TempDir(), "/ferry_reopen_", GetParam().name, "_",
        testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
        ::getpid());
    for (char& c : path_) {
      if (c == '/' && &c > path_.data() + testing::TempDir().size()) c = '_';
    }
    std::filesystem::remove_all(path_);
    Open();
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(path_);
  }
  void Open() {
    broker_.reset();
    auto backend = GetParam().open(path_);
    ASSERT_THAT(backend.status(), IsOk());
    auto broker = ferry::Broker::Open(
        {.clock = &clock_, .ids = &ids_, .executor = &executor_},
        *std::move(backend));
    ASSERT_THAT(broker.status(), IsOk());
    broker_ = *std::move(broker);
  }
  ferry::Sqs& sqs() { return broker_->sqs(); }

  std::string MakeQueue(const std::string& name,
                        ferry::AttributeMap attrs = {}) {
    auto q = sqs().CreateQueue(
        ctx_, {.queue_name = name, .attributes = std::move(attrs)});
    EXPECT_THAT(q.status(), IsOk());
    return q.ok() ? q->queue_url : "";
  }
  void SendBody(const std::string& url, const std::string& body,
                const std::string& group = "") {
    ferry::SendMessageRequest r{.queue_url = url, .message_body = body};
    if (!group.empty()) {
      r.message_group_id = group;
      r.message_deduplication_id = body;
    }
    ASSERT_THAT(sqs().SendMessage(ctx_, r).status(), IsOk());
  }
  std::vector<ferry::Message> ReceiveAll(const std::string& url,
                                         int visibility = 30) {
    auto r = sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                         .attribute_names = {"All"},
                                         .max_number_of_messages = 10,
                                         .visibility_timeout = visibility,
                                         .wait_time_seconds = 0});
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? r->messages : std::vector<ferry::Message>{};
  }
  static std::vector<std::string> Bodies(
      const std::vector<ferry::Message>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(m.body);
    return out;
  }

  std::string path_;
  ferry_testing::ManualClock clock_;
  ferry_testing::SequentialIdSource ids_;
  ferry_testing::ManualExecutor executor_;
  std::unique_ptr<ferry::Broker> broker_;
  ferry::RequestContext ctx_;
};

TEST_P(ReopenTest, QueuesAttributesAndTagsSurvive) {
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

TEST_P(ReopenTest, InFlightMessageKeepsItsReceiptAndDeadline) {
  std::string url = MakeQueue("jobs");
  SendBody(url, "m1");
  std::vector<ferry::Message> received = ReceiveAll(url, 30);
  ASSERT_THAT(received, SizeIs(1));
  Open();
  // Still in flight after the reopen...
  EXPECT_THAT(ReceiveAll(url), SizeIs(0));
  // ...and the receipt issued before it still deletes the message.
  EXPECT_THAT(
      sqs().DeleteMessage(ctx_, {.queue_url = url,
                                 .receipt_handle = received[0].receipt_handle}),
      IsOk());
  clock_.Advance(absl::Seconds(31));
  Open();
  EXPECT_THAT(ReceiveAll(url), SizeIs(0));
}

TEST_P(ReopenTest, ExpiredLeaseComesBackWithItsReceiveCount) {
  std::string url = MakeQueue("jobs");
  SendBody(url, "m1");
  ASSERT_THAT(ReceiveAll(url, 10), SizeIs(1));
  Open();
  clock_.Advance(absl::Seconds(11));
  std::vector<ferry::Message> again = ReceiveAll(url, 10);
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].attributes.at("ApproximateReceiveCount"), "2");
}

TEST_P(ReopenTest, ChangedVisibilitySurvives) {
  std::string url = MakeQueue("jobs");
  SendBody(url, "m1");
  std::vector<ferry::Message> got = ReceiveAll(url, 10);
  ASSERT_THAT(got, SizeIs(1));
  ASSERT_THAT(sqs().ChangeMessageVisibility(
                  ctx_, {.queue_url = url,
                         .receipt_handle = got[0].receipt_handle,
                         .visibility_timeout = 100}),
              IsOk());
  Open();
  clock_.Advance(absl::Seconds(50));
  EXPECT_THAT(ReceiveAll(url), SizeIs(0));
  clock_.Advance(absl::Seconds(51));
  EXPECT_THAT(ReceiveAll(url), SizeIs(1));
}

TEST_P(ReopenTest, DelaysSurvive) {
  std::string url = MakeQueue("jobs", {{"DelaySeconds", "60"}});
  SendBody(url, "later");
  Open();
  EXPECT_THAT(ReceiveAll(url), SizeIs(0));
  clock_.Advance(absl::Seconds(61));
  EXPECT_THAT(Bodies(ReceiveAll(url)), ElementsAre("later"));
}

TEST_P(ReopenTest, FifoOrderAndInFlightGroupsSurvive) {
  std::string url = MakeQueue(
      "jobs.fifo", {{"FifoQueue", "true"}, {"VisibilityTimeout", "30"}});
  for (int i = 0; i < 5; ++i) SendBody(url, absl::StrCat("a", i), "a");
  for (int i = 0; i < 3; ++i) SendBody(url, absl::StrCat("b", i), "b");
  auto first = sqs().ReceiveMessage(
      ctx_, {.queue_url = url, .max_number_of_messages = 2});
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_THAT(Bodies(first->messages), ElementsAre("a0", "a1"));
  Open();
  // Group a is blocked by its in-flight messages; b is next.
  EXPECT_THAT(Bodies(ReceiveAll(url)), ElementsAre("b0", "b1", "b2"));
  clock_.Advance(absl::Seconds(31));
  Open();
  // Every lease has ended: group a first (its first message is older).
  EXPECT_THAT(Bodies(ReceiveAll(url)),
              ElementsAre("a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2"));
}

TEST_P(ReopenTest, ReceiveCountsAndDeduplicationWindowSurvive) {
  std::string url =
      MakeQueue("jobs.fifo",
                {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  ASSERT_THAT(sqs()
                  .SendMessage(ctx_, {.queue_url = url,
                                      .message_body = "once",
                                      .message_group_id = "g"})
                  .status(),
              IsOk());
  ASSERT_THAT(ReceiveAll(url, 0), SizeIs(1));
  Open();
  // The same body inside the 5-minute window is a duplicate after reopen.
  ASSERT_THAT(sqs()
                  .SendMessage(ctx_, {.queue_url = url,
                                      .message_body = "once",
                                      .message_group_id = "g"})
                  .status(),
              IsOk());
  std::vector<ferry::Message> second = ReceiveAll(url);
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].attributes.at("ApproximateReceiveCount"), "2");
}

TEST_P(ReopenTest, DeadLetterMovesSurvive) {
  std::string dlq = MakeQueue("dlq");
  auto arn = sqs().GetQueueAttributes(
      ctx_, {.queue_url = dlq, .attribute_names = {"QueueArn"}});
  ASSERT_THAT(arn.status(), IsOk());
  std::string src = MakeQueue(
      "src",
      {{"RedrivePolicy", absl::StrCat("{\"deadLetterTargetArn\":\"",
                                      arn->attributes.at("QueueArn"),
                                      "\",\"maxReceiveCount\":\"1\"}")}});
  SendBody(src, "poison");
  ASSERT_THAT(ReceiveAll(src, 5), SizeIs(1));
  clock_.Advance(absl::Seconds(6));
  EXPECT_THAT(ReceiveAll(src), SizeIs(0));  // moved to the DLQ
  Open();
  EXPECT_THAT(ReceiveAll(src), SizeIs(0));
  std::vector<ferry::Message> dead = ReceiveAll(dlq);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_EQ(dead[0].body, "poison");
}

TEST_P(ReopenTest, MoveTasksSurvive) {
  std::string dlq = MakeQueue("dlq");
  std::string dest = MakeQueue("dest");
  auto arn = [&](const std::string& url) {
    auto a = sqs().GetQueueAttributes(
        ctx_, {.queue_url = url, .attribute_names = {"QueueArn"}});
    return a.ok() ? a->attributes.at("QueueArn") : std::string();
  };
  MakeQueue("src", {{"RedrivePolicy",
                     absl::StrCat("{\"deadLetterTargetArn\":\"", arn(dlq),
                                  "\",\"maxReceiveCount\":\"1\"}")}});
  SendBody(dlq, "m");
  ASSERT_THAT(sqs()
                  .StartMessageMoveTask(ctx_, {.source_arn = arn(dlq),
                                               .destination_arn = arn(dest)})
                  .status(),
              IsOk());
  Open();
  auto tasks = sqs().ListMessageMoveTasks(ctx_, {.source_arn = arn(dlq)});
  ASSERT_THAT(tasks.status(), IsOk());
  ASSERT_THAT(tasks->results, SizeIs(1));
  EXPECT_EQ(tasks->results[0].destination_arn, arn(dest));
}

TEST_P(ReopenTest, DeletedQueuesStayDeletedAndMessagesStayDeleted) {
  std::string a = MakeQueue("a");
  std::string b = MakeQueue("b");
  SendBody(b, "x");
  SendBody(b, "y");
  std::vector<ferry::Message> got = ReceiveAll(b);
  ASSERT_THAT(got, SizeIs(2));
  ASSERT_THAT(
      sqs().DeleteMessage(
          ctx_, {.queue_url = b, .receipt_handle = got[0].receipt_handle}),
      IsOk());
  ASSERT_THAT(sqs().DeleteQueue(ctx_, {.queue_url = a}), IsOk());
  Open();
  auto list = sqs().ListQueues(ctx_, {});
  ASSERT_THAT(list.status(), IsOk());
  EXPECT_THAT(list->queue_urls, ElementsAre(b));
  clock_.Advance(absl::Seconds(31));
  EXPECT_THAT(Bodies(ReceiveAll(b)), ElementsAre(got[1].body));
}

INSTANTIATE_TEST_SUITE_P(
    Stores, ReopenTest, testing::ValuesIn(::ferry_testing::PersistentStores()),
    [](const testing::TestParamInfo<PersistentStore>& info) {
      return info.param.name;
    });

}  // namespace
