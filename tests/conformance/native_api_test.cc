// The native level (ferry/queue.h, ferry/broker.h): Queue handles, options
// mapping onto SQS attributes, Peek and Counts, the push consumer driven
// through a ManualExecutor, Broker::Reset, determinism of ids, and the memory
// backend's byte cap.
// Reference: queue.h, broker.h, memory_backend.h; sqs.md for the semantics
// they share with the AWS-shaped level.

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::ferry_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// Collects what a push consumer's handler is given.
class Inbox {
 public:
  ferry::Queue::Handler Handler(bool keep_ack_handles = true) {
    return [this, keep_ack_handles](ferry::ReceivedMessage m,
                                    ferry::AckHandle ack) {
      std::lock_guard<std::mutex> lock(mu_);
      messages_.push_back(std::move(m));
      if (keep_ack_handles) acks_.push_back(std::move(ack));
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_.size();
  }
  ferry::ReceivedMessage message(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_.at(i);
  }
  ferry::AckHandle TakeAck(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(acks_.at(i));
  }

 private:
  std::mutex mu_;
  std::vector<ferry::ReceivedMessage> messages_;
  std::vector<ferry::AckHandle> acks_;
};

class NativeApiTest : public ConformanceTest {
 public:
  // Consumer::Stop() must return promptly even while the consumer's long
  // poll waits on the manual clock. If it does not, the test fails, and the
  // clock is advanced until the poll ends so that the test does not hang.
  void StopPromptly(ferry::Consumer& consumer) {
    std::atomic<bool> done{false};
    std::thread stopper([&] {
      consumer.Stop();
      done.store(true);
    });
    if (!Eventually([&] { return done.load(); }, absl::Seconds(5))) {
      ADD_FAILURE() << "Consumer::Stop() did not return while the consumer's "
                       "long poll was waiting";
      while (!done.load()) {
        clock_.Advance(absl::Seconds(30));
        std::this_thread::yield();
      }
    }
    stopper.join();
  }

  // Stops its consumer (promptly, see StopPromptly) when it goes out of
  // scope, so a failed assertion never leaves a consumer polling.
  class StoppingConsumer {
   public:
    StoppingConsumer(NativeApiTest* test, ferry::Consumer consumer)
        : test_(test), consumer_(std::move(consumer)) {}
    ~StoppingConsumer() { Stop(); }
    void Stop() {
      if (stopped_) return;
      stopped_ = true;
      test_->StopPromptly(consumer_);
    }
    int64_t delivered() const { return consumer_.delivered(); }

   private:
    NativeApiTest* test_;
    ferry::Consumer consumer_;
    bool stopped_ = false;
  };

 protected:
  // Runs the handler calls the consumer schedules, on this thread, until the
  // inbox holds `n` messages in all.
  bool RunHandlers(Inbox& inbox, size_t n) {
    return Eventually([&] {
      executor_.RunAll();
      return inbox.size() >= n;
    });
  }
};

// ---- Handles ----------------------------------------------------------------

TEST_P(NativeApiTest, CreatedQueueHandleDescribesTheQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  EXPECT_EQ(queue.name(), "jobs");
  EXPECT_EQ(queue.arn(), "arn:aws:sqs:us-east-1:123456789012:jobs");
  EXPECT_EQ(queue.url(),
            "https://sqs.us-east-1.amazonaws.com/123456789012/jobs");
  EXPECT_FALSE(queue.fifo());

  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue fifo,
                             broker().CreateQueue("jobs.fifo", {.fifo = true}));
  EXPECT_TRUE(fifo.fifo());
}

TEST_P(NativeApiTest, GetQueueAndListQueuesSeeCreatedQueues) {
  FERRY_ASSERT_OK(broker().CreateQueue("a-1"));
  FERRY_ASSERT_OK(broker().CreateQueue("a-2"));
  FERRY_ASSERT_OK(broker().CreateQueue("b-1"));
  EXPECT_THAT(broker().GetQueue("a-2"),
              IsOkAndHolds(testing::Property(&ferry::Queue::name, "a-2")));
  EXPECT_THAT(broker().GetQueue("zzz"), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(broker().ListQueues("a-"),
              IsOkAndHolds(UnorderedElementsAre("a-1", "a-2")));
  EXPECT_THAT(broker().ListQueues(),
              IsOkAndHolds(UnorderedElementsAre("a-1", "a-2", "b-1")));
}

TEST_P(NativeApiTest, DefaultConstructedHandleIsInvalid) {
  ferry::Queue queue;
  EXPECT_THAT(queue.Send("m"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(queue.Receive(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(queue.Counts(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_P(NativeApiTest, HandleOfDeletedQueueFails) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(broker().DeleteQueue("jobs"));
  EXPECT_THAT(queue.Send("m"), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(queue.Receive(), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(broker().DeleteQueue("jobs"), AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(NativeApiTest, HandleOfDeletedQueueDoesNotReachItsSuccessor) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue old, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(broker().DeleteQueue("jobs"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue fresh, broker().CreateQueue("jobs"));
  EXPECT_THAT(old.Send("stale"), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(fresh.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::visible, 0)));
}

// ---- Messages ---------------------------------------------------------------

TEST_P(NativeApiTest, SendReceiveDelete) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  const absl::Time sent_at = Now();
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendResult sent, queue.Send("hello"));
  EXPECT_FALSE(sent.duplicate);
  EXPECT_EQ(sent.sequence_number, 0);
  AdvanceSeconds(2);

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                             queue.Receive());
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].message_id, sent.message_id);
  EXPECT_EQ(got[0].body, "hello");
  EXPECT_FALSE(got[0].receipt.empty());
  EXPECT_EQ(got[0].receive_count, 1);
  EXPECT_EQ(got[0].sent_time, sent_at);
  EXPECT_EQ(got[0].first_receive_time, Now());

  FERRY_ASSERT_OK(queue.Delete(got[0].receipt));
  AdvanceSeconds(60);
  EXPECT_THAT(queue.Receive(), IsOkAndHolds(IsEmpty()));
}

TEST_P(NativeApiTest, ReceiveHonoursMaxMessagesAndVisibilityTimeout) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  for (int i = 0; i < 5; ++i) FERRY_ASSERT_OK(queue.Send(absl::StrCat("m", i)));
  EXPECT_THAT(queue.Receive(), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(queue.Receive(
                  {.max_messages = 3, .visibility_timeout = absl::Seconds(5)}),
              IsOkAndHolds(SizeIs(3)));
  EXPECT_THAT(queue.Counts(), IsOkAndHolds(testing::AllOf(
                                  Field(&ferry::QueueCounts::visible, 1),
                                  Field(&ferry::QueueCounts::in_flight, 4))));
  AdvanceSeconds(5);
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::visible, 4)));
  EXPECT_THAT(queue.Receive({.max_messages = 11}),
              AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(queue.Receive({.max_messages = 0}),
              AwsErrorIs("InvalidParameterValue"));
}

TEST_P(NativeApiTest, ChangeVisibilityHidesOrReleasesAMessage) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("m"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                             queue.Receive());
  ASSERT_THAT(got, SizeIs(1));
  FERRY_ASSERT_OK(queue.ChangeVisibility(got[0].receipt, absl::ZeroDuration()));
  FERRY_ASSERT_OK_AND_ASSIGN(got, queue.Receive());
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].receive_count, 2);
  FERRY_ASSERT_OK(queue.ChangeVisibility(got[0].receipt, absl::Seconds(60)));
  AdvanceSeconds(59);
  EXPECT_THAT(queue.Receive(), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(1);
  EXPECT_THAT(queue.Receive(), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(queue.Delete("garbage"), AwsErrorIs("ReceiptHandleIsInvalid"));
}

TEST_P(NativeApiTest, SendOptionsCarryDelayAndAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  const ferry::MessageAttributeMap attrs = {{"k", StringAttr("v")},
                                            {"n", NumberAttr("42")}};
  FERRY_ASSERT_OK(
      queue.Send("later", {.delay = absl::Seconds(5), .attributes = attrs}));
  EXPECT_THAT(queue.Receive(), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(5);
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                             queue.Receive());
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].attributes, attrs);
}

TEST_P(NativeApiTest, NativeSendAppliesSqsValidation) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  EXPECT_THAT(queue.Send(""), AwsErrorIs("MissingParameter"));
  EXPECT_THAT(queue.Send("bad\x01"), AwsErrorIs("InvalidMessageContents"));
  EXPECT_THAT(queue.Send(std::string(1048577, 'a')),
              AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(queue.Send("m", {.delay = absl::Seconds(901)}),
              AwsErrorIs("InvalidParameterValue"));
}

TEST_P(NativeApiTest, SendBatchAndDeleteBatch) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  const std::vector<std::string> bodies = {"a", "b", "c"};
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::SendResult> sent,
                             queue.SendBatch(bodies));
  ASSERT_THAT(sent, SizeIs(3));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                             queue.Receive({.max_messages = 10}));
  EXPECT_THAT(Bodies(got), UnorderedElementsAre("a", "b", "c"));
  std::vector<std::string> receipts;
  for (const ferry::ReceivedMessage& m : got) receipts.push_back(m.receipt);
  FERRY_ASSERT_OK(queue.DeleteBatch(receipts));
  EXPECT_THAT(queue.Counts(), IsOkAndHolds(testing::AllOf(
                                  Field(&ferry::QueueCounts::visible, 0),
                                  Field(&ferry::QueueCounts::in_flight, 0))));
}

TEST_P(NativeApiTest, SendBatchIsAllOrNothing) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  const std::vector<std::string> with_bad = {"a", "bad\x01", "c"};
  EXPECT_THAT(queue.SendBatch(with_bad), testing::Not(IsOk()));
  std::vector<std::string> eleven(11, "x");
  EXPECT_THAT(queue.SendBatch(eleven), testing::Not(IsOk()));
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::visible, 0)));
}

TEST_P(NativeApiTest, PeekShowsMessagesWithoutReceivingThem) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("in-flight"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::vector<ferry::ReceivedMessage> got,
      queue.Receive({.visibility_timeout = absl::Seconds(30)}));
  ASSERT_THAT(got, SizeIs(1));
  const absl::Time in_flight_until = Now() + absl::Seconds(30);
  FERRY_ASSERT_OK(queue.Send("visible"));
  FERRY_ASSERT_OK(queue.Send("delayed", {.delay = absl::Seconds(10)}));

  for (int round = 0; round < 2; ++round) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::PeekedMessage> peeked,
                               queue.Peek());
    ASSERT_THAT(peeked, SizeIs(3));
    for (const ferry::PeekedMessage& p : peeked) {
      SCOPED_TRACE(p.message.body);
      EXPECT_EQ(p.message.receipt, "");
      if (p.message.body == "in-flight") {
        EXPECT_EQ(p.state, ferry::PeekedMessage::State::kInFlight);
        EXPECT_EQ(p.invisible_until, in_flight_until);
        EXPECT_EQ(p.message.receive_count, 1);
      } else if (p.message.body == "visible") {
        EXPECT_EQ(p.state, ferry::PeekedMessage::State::kVisible);
        EXPECT_EQ(p.message.receive_count, 0);
      } else {
        EXPECT_EQ(p.message.body, "delayed");
        EXPECT_EQ(p.state, ferry::PeekedMessage::State::kDelayed);
        EXPECT_EQ(p.invisible_until, Now() + absl::Seconds(10));
      }
    }
  }
  EXPECT_THAT(queue.Counts(), IsOkAndHolds(testing::AllOf(
                                  Field(&ferry::QueueCounts::visible, 1),
                                  Field(&ferry::QueueCounts::in_flight, 1),
                                  Field(&ferry::QueueCounts::delayed, 1))));
  EXPECT_THAT(queue.Peek(1), IsOkAndHolds(SizeIs(1)));
}

TEST_P(NativeApiTest, PurgeEmptiesTheQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("a"));
  FERRY_ASSERT_OK(queue.Send("b"));
  FERRY_ASSERT_OK(queue.Receive());
  FERRY_ASSERT_OK(queue.Purge());
  EXPECT_THAT(queue.Counts(), IsOkAndHolds(testing::AllOf(
                                  Field(&ferry::QueueCounts::visible, 0),
                                  Field(&ferry::QueueCounts::in_flight, 0),
                                  Field(&ferry::QueueCounts::delayed, 0))));
  EXPECT_THAT(queue.Peek(), IsOkAndHolds(IsEmpty()));
}

// ---- Options ----------------------------------------------------------------

TEST_P(NativeApiTest, QueueOptionsBecomeSqsAttributes) {
  FERRY_ASSERT_OK(
      broker().CreateQueue("opts", {.visibility_timeout = absl::Seconds(10),
                                    .retention = absl::Seconds(120),
                                    .delivery_delay = absl::Seconds(5),
                                    .receive_wait_time = absl::Seconds(3),
                                    .maximum_message_size = 2048}));
  EXPECT_THAT(
      GetAttributes(
          UrlOf("opts"),
          {"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
           "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize"}),
      IsOkAndHolds(UnorderedElementsAre(
          Pair("VisibilityTimeout", "10"),
          Pair("MessageRetentionPeriod", "120"), Pair("DelaySeconds", "5"),
          Pair("ReceiveMessageWaitTimeSeconds", "3"),
          Pair("MaximumMessageSize", "2048"))));
}

TEST_P(NativeApiTest, UnsetOptionsTakeSqsDefaults) {
  FERRY_ASSERT_OK(broker().CreateQueue("plain"));
  EXPECT_THAT(
      GetAttributes(
          UrlOf("plain"),
          {"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
           "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize"}),
      IsOkAndHolds(UnorderedElementsAre(
          Pair("VisibilityTimeout", "30"),
          Pair("MessageRetentionPeriod", "345600"), Pair("DelaySeconds", "0"),
          Pair("ReceiveMessageWaitTimeSeconds", "0"),
          Pair("MaximumMessageSize", "1048576"))));
}

TEST_P(NativeApiTest, FifoOptionsBecomeSqsAttributes) {
  FERRY_ASSERT_OK(broker().CreateQueue(
      "jobs.fifo", {.fifo = true, .content_based_deduplication = true}));
  EXPECT_THAT(GetAttributes(UrlOf("jobs.fifo"),
                            {"FifoQueue", "ContentBasedDeduplication"}),
              IsOkAndHolds(UnorderedElementsAre(
                  Pair("FifoQueue", "true"),
                  Pair("ContentBasedDeduplication", "true"))));
  EXPECT_THAT(broker().CreateQueue("jobs", {.fifo = true}),
              AwsErrorIs("InvalidParameterValue"));
}

TEST_P(NativeApiTest, DeadLetterOptionsBecomeARedrivePolicy) {
  FERRY_ASSERT_OK(broker().CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::Queue queue,
      broker().CreateQueue(
          "jobs", {.dead_letter_queue = "dlq", .max_receive_count = 3}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string policy,
                             GetAttribute(UrlOf("jobs"), "RedrivePolicy"));
  nlohmann::json parsed = nlohmann::json::parse(policy, nullptr, false);
  EXPECT_EQ(parsed.value("deadLetterTargetArn", ""), ArnOf("dlq"));
  EXPECT_EQ(parsed["maxReceiveCount"], 3);

  FERRY_ASSERT_OK(queue.Send("poison"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(queue.Receive({.visibility_timeout = absl::ZeroDuration()}),
                IsOkAndHolds(SizeIs(1)));
  }
  EXPECT_THAT(queue.Receive(), IsOkAndHolds(IsEmpty()));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue dlq, broker().GetQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> moved,
                             dlq.Receive());
  ASSERT_THAT(moved, SizeIs(1));
  EXPECT_EQ(moved[0].receive_count, 4);
  EXPECT_EQ(moved[0].dead_letter_source_arn, ArnOf("jobs"));
}

TEST_P(NativeApiTest, OptionsOutOfRangeAreRejected) {
  EXPECT_THAT(
      broker().CreateQueue(
          "bad", {.visibility_timeout = absl::Hours(12) + absl::Seconds(1)}),
      AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(broker().CreateQueue("bad", {.retention = absl::Seconds(59)}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(broker().CreateQueue("bad", {.maximum_message_size = 1023}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(broker().GetQueue("bad"), AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(NativeApiTest, CreateQueueIsIdempotentForMatchingOptions) {
  FERRY_ASSERT_OK(
      broker().CreateQueue("jobs", {.visibility_timeout = absl::Seconds(10)}));
  EXPECT_THAT(
      broker().CreateQueue("jobs", {.visibility_timeout = absl::Seconds(10)}),
      IsOk());
  EXPECT_THAT(broker().CreateQueue("jobs"), IsOk());
  EXPECT_THAT(
      broker().CreateQueue("jobs", {.visibility_timeout = absl::Seconds(11)}),
      AwsErrorIs("QueueAlreadyExists"));
}

// ---- FIFO -------------------------------------------------------------------

TEST_P(NativeApiTest, FifoSendNeedsAGroup) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::Queue queue,
      broker().CreateQueue(
          "jobs.fifo", {.fifo = true, .content_based_deduplication = true}));
  EXPECT_THAT(queue.Send("m"), AwsErrorIs("MissingParameter"));
  EXPECT_THAT(queue.Send("m", {.message_group_id = "g"}), IsOk());
}

TEST_P(NativeApiTest, FifoDuplicateReportsTheOriginal) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue,
                             broker().CreateQueue("jobs.fifo", {.fifo = true}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendResult first,
      queue.Send("m", {.message_group_id = "g", .deduplication_id = "d"}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendResult second,
      queue.Send("m", {.message_group_id = "g", .deduplication_id = "d"}));
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.message_id, first.message_id);
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendResult third,
      queue.Send("m", {.message_group_id = "g", .deduplication_id = "e"}));
  EXPECT_GT(first.sequence_number, 0);
  EXPECT_GT(third.sequence_number, first.sequence_number);
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::visible, 2)));
}

TEST_P(NativeApiTest, FifoReceiveReportsGroupAndSequence) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue,
                             broker().CreateQueue("jobs.fifo", {.fifo = true}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendResult sent,
      queue.Send("m", {.message_group_id = "g", .deduplication_id = "d"}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                             queue.Receive());
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].message_group_id, "g");
  EXPECT_EQ(got[0].deduplication_id, "d");
  EXPECT_EQ(got[0].sequence_number, sent.sequence_number);
}

// ---- Push consumer ----------------------------------------------------------

TEST_P(NativeApiTest, ConsumerHandsMessagesToTheExecutor) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("m1"));
  Inbox inbox;
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Consumer started,
                             queue.Consume(inbox.Handler()));
  StoppingConsumer consumer(this, std::move(started));
  ASSERT_TRUE(Eventually([&] { return executor_.Pending() >= 1; }));
  // Nothing runs until the executor runs it.
  EXPECT_EQ(inbox.size(), 0);
  executor_.RunAll();
  ASSERT_EQ(inbox.size(), 1);
  EXPECT_EQ(inbox.message(0).body, "m1");
  EXPECT_EQ(consumer.delivered(), 1);
  FERRY_EXPECT_OK(inbox.TakeAck(0).Ack());
  consumer.Stop();
  EXPECT_THAT(queue.Counts(), IsOkAndHolds(testing::AllOf(
                                  Field(&ferry::QueueCounts::visible, 0),
                                  Field(&ferry::QueueCounts::in_flight, 0))));
}

TEST_P(NativeApiTest, ConsumerReceivesMessagesSentWhileItWaits) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  Inbox inbox;
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Consumer started,
                             queue.Consume(inbox.Handler()));
  StoppingConsumer consumer(this, std::move(started));
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(queue.Send("later"));
  ASSERT_TRUE(RunHandlers(inbox, 1));
  ASSERT_EQ(inbox.size(), 1);
  EXPECT_EQ(inbox.message(0).body, "later");
  FERRY_EXPECT_OK(inbox.TakeAck(0).Ack());
  consumer.Stop();
}

TEST_P(NativeApiTest, NackRedeliversTheMessage) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("retry-me"));
  Inbox inbox;
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Consumer started,
                             queue.Consume(inbox.Handler()));
  StoppingConsumer consumer(this, std::move(started));
  ASSERT_TRUE(RunHandlers(inbox, 1));
  ASSERT_EQ(inbox.size(), 1);
  FERRY_ASSERT_OK(inbox.TakeAck(0).Nack());

  ASSERT_TRUE(RunHandlers(inbox, 2));
  ASSERT_EQ(inbox.size(), 2);
  EXPECT_EQ(inbox.message(1).body, "retry-me");
  EXPECT_EQ(inbox.message(1).receive_count, 2);
  FERRY_EXPECT_OK(inbox.TakeAck(1).Ack());
  consumer.Stop();
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::in_flight, 0)));
}

TEST_P(NativeApiTest, NackWithDelayRedeliversAfterTheDelay) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("later"));
  Inbox inbox;
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Consumer started,
                             queue.Consume(inbox.Handler()));
  StoppingConsumer consumer(this, std::move(started));
  ASSERT_TRUE(RunHandlers(inbox, 1));
  FERRY_ASSERT_OK(inbox.TakeAck(0).Nack(absl::Seconds(10)));
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::in_flight, 1)));
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(10);
  ASSERT_TRUE(RunHandlers(inbox, 2));
  EXPECT_EQ(inbox.message(1).body, "later");
  FERRY_EXPECT_OK(inbox.TakeAck(1).Ack());
  consumer.Stop();
}

TEST_P(NativeApiTest, DroppedAckHandleRedeliversAfterTheVisibilityTimeout) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("dropped"));
  Inbox inbox;
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::Consumer started,
      queue.Consume(inbox.Handler(/*keep_ack_handles=*/false),
                    {.visibility_timeout = absl::Seconds(10)}));
  StoppingConsumer consumer(this, std::move(started));
  ASSERT_TRUE(RunHandlers(inbox, 1));
  ASSERT_EQ(inbox.size(), 1);
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::in_flight, 1)));

  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(10);
  ASSERT_TRUE(RunHandlers(inbox, 2));
  ASSERT_EQ(inbox.size(), 2);
  EXPECT_EQ(inbox.message(1).body, "dropped");
  EXPECT_EQ(inbox.message(1).receive_count, 2);
  consumer.Stop();
}

TEST_P(NativeApiTest, StoppingAWaitingConsumerReturnsPromptly) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  Inbox inbox;
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Consumer started,
                             queue.Consume(inbox.Handler()));
  StoppingConsumer consumer(this, std::move(started));
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  const absl::Time start = Now();
  consumer.Stop();
  EXPECT_EQ(consumer.delivered(), 0);
  EXPECT_EQ(Now(), start);
  // A stopped consumer takes nothing more.
  FERRY_ASSERT_OK(queue.Send("after-stop"));
  EXPECT_EQ(executor_.Pending(), 0);
  EXPECT_THAT(queue.Counts(),
              IsOkAndHolds(Field(&ferry::QueueCounts::visible, 1)));
}

TEST_P(NativeApiTest, ConsumeRejectsBadOptions) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  Inbox inbox;
  EXPECT_THAT(queue.Consume(inbox.Handler(), {.max_messages = 11}),
              AwsErrorIs("InvalidParameterValue"));
}

// ---- Reset and determinism --------------------------------------------------

TEST_P(NativeApiTest, ResetForgetsEveryQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().CreateQueue("jobs"));
  FERRY_ASSERT_OK(queue.Send("m"));
  FERRY_ASSERT_OK(CreateQueue("aws-shaped"));
  FERRY_ASSERT_OK(broker().Reset());
  EXPECT_THAT(broker().ListQueues(), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(broker().GetQueue("jobs"), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(queue.Send("m"), AwsErrorIs("QueueDoesNotExist"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue again, broker().CreateQueue("jobs"));
  EXPECT_THAT(again.Receive(), IsOkAndHolds(IsEmpty()));
}

// Runs a fixed scenario on a fresh broker and returns every id and receipt
// it saw.
std::vector<std::string> RunScenario(const BackendFactory& backend) {
  ferry_testing::ManualClock clock;
  ferry_testing::SequentialIdSource ids;
  ferry_testing::ManualExecutor executor;
  ferry::BrokerOptions options;
  options.clock = &clock;
  options.ids = &ids;
  options.executor = &executor;
  std::unique_ptr<ferry::Broker> broker =
      *ferry::Broker::Open(options, backend.make());
  std::vector<std::string> seen;
  ferry::Queue queue = *broker->CreateQueue("jobs");
  for (int i = 0; i < 3; ++i) {
    seen.push_back(queue.Send(absl::StrCat("m", i))->message_id.ToString());
  }
  for (int round = 0; round < 2; ++round) {
    const std::vector<ferry::ReceivedMessage> got = *queue.Receive(
        {.max_messages = 2, .visibility_timeout = absl::Seconds(5)});
    for (const ferry::ReceivedMessage& m : got) {
      seen.push_back(m.message_id.ToString());
      seen.push_back(m.receipt);
    }
    clock.Advance(absl::Seconds(5));
  }
  ferry::SendMessageResult aws = *broker->sqs().SendMessage(
      {}, {.queue_url = queue.url(), .message_body = "aws"});
  seen.push_back(aws.message_id);
  return seen;
}

TEST_P(NativeApiTest, SequentialIdsGiveTheSameIdsAndReceiptsOnEveryRun) {
  const std::vector<std::string> first = RunScenario(GetParam());
  const std::vector<std::string> second = RunScenario(GetParam());
  EXPECT_EQ(first, second);
  ASSERT_THAT(first, SizeIs(testing::Ge(3u)));
  std::vector<std::string> message_ids(first.begin(), first.begin() + 3);
  std::sort(message_ids.begin(), message_ids.end());
  EXPECT_EQ(std::unique(message_ids.begin(), message_ids.end()),
            message_ids.end());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, NativeApiTest,
                         testing::ValuesIn(AllBackends()), BackendName);

// ---- The memory backend's byte cap (memory only) ----------------------------

class MemoryCapTest : public testing::Test {
 protected:
  void Open(size_t max_bytes) {
    ferry::BrokerOptions options;
    options.clock = &clock_;
    options.ids = &ids_;
    options.executor = &executor_;
    absl::StatusOr<std::unique_ptr<ferry::Broker>> broker = ferry::Broker::Open(
        options, ferry::NewMemoryBackend({.max_bytes = max_bytes}));
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  // Sends 1 KiB messages until one fails; returns the bodies accepted.
  std::vector<std::string> FillUp(ferry::Queue& queue, absl::Status* failure) {
    std::vector<std::string> accepted;
    for (int i = 0; i < 10000; ++i) {
      std::string body = absl::StrCat("message-", i, ":");
      body.resize(1024, 'x');
      absl::StatusOr<ferry::SendResult> sent = queue.Send(body);
      if (!sent.ok()) {
        *failure = sent.status();
        return accepted;
      }
      accepted.push_back(body);
    }
    *failure = absl::OkStatus();
    return accepted;
  }

  ferry_testing::ManualClock clock_;
  ferry_testing::SequentialIdSource ids_;
  ferry_testing::ManualExecutor executor_;
  std::unique_ptr<ferry::Broker> broker_;
};

TEST_F(MemoryCapTest, SendsPastTheCapFailAndEarlierMessagesAreIntact) {
  ASSERT_NO_FATAL_FAILURE(Open(64 * 1024));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker_->CreateQueue("jobs"));
  absl::Status failure;
  const std::vector<std::string> accepted = FillUp(queue, &failure);
  EXPECT_THAT(failure, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_GE(accepted.size(), 8);   // some room for per-message overhead
  EXPECT_LE(accepted.size(), 64);  // but the cap holds
  // Later sends keep failing; nothing partial was stored.
  EXPECT_THAT(queue.Send(std::string(1024, 'y')),
              StatusIs(absl::StatusCode::kResourceExhausted));

  std::vector<std::string> received;
  for (;;) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                               queue.Receive({.max_messages = 10}));
    if (got.empty()) break;
    for (const ferry::ReceivedMessage& m : got) received.push_back(m.body);
  }
  EXPECT_THAT(received, testing::UnorderedElementsAreArray(accepted));
}

TEST_F(MemoryCapTest, DeletedMessagesMakeRoomAgain) {
  ASSERT_NO_FATAL_FAILURE(Open(64 * 1024));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker_->CreateQueue("jobs"));
  absl::Status failure;
  const std::vector<std::string> accepted = FillUp(queue, &failure);
  ASSERT_THAT(failure, StatusIs(absl::StatusCode::kResourceExhausted));
  for (;;) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::ReceivedMessage> got,
                               queue.Receive({.max_messages = 10}));
    if (got.empty()) break;
    for (const ferry::ReceivedMessage& m : got) {
      FERRY_ASSERT_OK(queue.Delete(m.receipt));
    }
  }
  EXPECT_THAT(queue.Send(std::string(1024, 'z')), IsOk());
}

TEST_F(MemoryCapTest, UnboundedByDefault) {
  ASSERT_NO_FATAL_FAILURE(Open(0));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker_->CreateQueue("jobs"));
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(queue.Send(std::string(1024, 'a')), IsOk()) << i;
  }
}

}  // namespace
}  // namespace ferry_conformance
