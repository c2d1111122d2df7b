// Long polling: a receive with WaitTimeSeconds returns as soon as a message
// is available, and empty only when the wait ends. Every wait runs on its own
// thread; the test waits with clock_.BlockUntilWaiters(n) before it changes
// anything, and every thread is joined (AsyncCall's destructor advances the
// manual clock until a forgotten call returns).
// Reference: sqs.md §1.6 (Polling); style.md §3.5.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::testing::SizeIs;

using ReceiveCall = AsyncCall<absl::StatusOr<ferry::ReceiveMessageResult>>;

auto HasBodies(std::vector<std::string> bodies) {
  std::vector<testing::Matcher<const ferry::Message&>> matchers;
  for (const std::string& body : bodies) {
    matchers.push_back(Field(&ferry::Message::body, body));
  }
  return IsOkAndHolds(Field(&ferry::ReceiveMessageResult::messages,
                            testing::ElementsAreArray(matchers)));
}

class LongPollTest : public ConformanceTest {
 protected:
  // Starts a ReceiveMessage on its own thread. `wait_seconds` unset: the
  // queue's ReceiveMessageWaitTimeSeconds.
  std::unique_ptr<ReceiveCall> StartReceive(const std::string& url,
                                            std::optional<int> wait_seconds,
                                            int max = 10) {
    ferry::Sqs* sqs = &broker_->sqs();
    ferry::RequestContext ctx = ctx_;
    return std::make_unique<ReceiveCall>(
        &clock_, [sqs, ctx, url, wait_seconds, max] {
          return sqs->ReceiveMessage(ctx, {.queue_url = url,
                                           .max_number_of_messages = max,
                                           .wait_time_seconds = wait_seconds});
        });
  }

  // True if `call` returned without ever waiting on the clock.
  bool ReturnsWithoutWaiting(ReceiveCall& call) {
    if (!Eventually([&] { return call.done() || clock_.NumWaiters() > 0; })) {
      return false;
    }
    return call.done() && clock_.NumWaiters() == 0;
  }
};

TEST_P(LongPollTest, SendWakesWaitingReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const absl::Time start = Now();
  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(Send(url, "m1"));
  EXPECT_THAT(poll->Join(), HasBodies({"m1"}));
  EXPECT_EQ(Now(), start);
}

TEST_P(LongPollTest, LongPollReturnsAtOnceWhenMessagesAreAvailable) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "foobar1"));
  FERRY_ASSERT_OK(Send(url, "foobar2"));
  auto poll = StartReceive(url, 5, /*max=*/3);
  EXPECT_TRUE(ReturnsWithoutWaiting(*poll));
  EXPECT_THAT(
      poll->Join(),
      IsOkAndHolds(Field(&ferry::ReceiveMessageResult::messages, SizeIs(2))));
}

TEST_P(LongPollTest, ChangeVisibilityToZeroWakesWaitingReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "m1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 1));
  ASSERT_THAT(got, SizeIs(1));

  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(ChangeVisibility(url, got[0].receipt_handle, 0));
  EXPECT_THAT(poll->Join(), HasBodies({"m1"}));
}

TEST_P(LongPollTest, AdvancingPastDelayWakesWaitingReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(sqs().SendMessage(
      ctx_, {.queue_url = url, .message_body = "late", .delay_seconds = 10}));
  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(10);
  EXPECT_THAT(poll->Join(), HasBodies({"late"}));
}

TEST_P(LongPollTest, AdvancingPastVisibilityExpiryWakesWaitingReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "m1"));
  FERRY_ASSERT_OK(Receive(url, 1, /*visibility_timeout=*/5));
  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(5);
  EXPECT_THAT(poll->Join(), HasBodies({"m1"}));
}

TEST_P(LongPollTest, AdvancingPastTheWaitReturnsEmpty) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(20);
  EXPECT_THAT(poll->Join(), HasBodies({}));
}

TEST_P(LongPollTest, WaitEndingBeforeTheDelayReturnsEmpty) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(sqs().SendMessage(
      ctx_, {.queue_url = url, .message_body = "late", .delay_seconds = 30}));
  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(20);
  EXPECT_THAT(poll->Join(), HasBodies({}));
  AdvanceSeconds(10);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("late")));
}

TEST_P(LongPollTest, QueueReceiveWaitTimeMakesReceiveWait) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("q", {{"ReceiveMessageWaitTimeSeconds", "10"}}));
  auto poll = StartReceive(url, std::nullopt);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(Send(url, "foobared"));
  EXPECT_THAT(poll->Join(), HasBodies({"foobared"}));
}

TEST_P(LongPollTest, QueueReceiveWaitTimeEndsTheWait) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("q", {{"ReceiveMessageWaitTimeSeconds", "10"}}));
  auto poll = StartReceive(url, std::nullopt);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(10);
  EXPECT_THAT(poll->Join(), HasBodies({}));
}

TEST_P(LongPollTest, ExplicitZeroWaitOverridesQueueReceiveWaitTime) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("q", {{"ReceiveMessageWaitTimeSeconds", "20"}}));
  auto poll = StartReceive(url, 0);
  EXPECT_TRUE(ReturnsWithoutWaiting(*poll));
  EXPECT_THAT(poll->Join(), HasBodies({}));
}

TEST_P(LongPollTest, SendToAnotherQueueDoesNotSatisfyTheWait) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string a, CreateQueue("a"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string b, CreateQueue("b"));
  auto poll = StartReceive(a, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(Send(b, "for-b"));
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(20);
  EXPECT_THAT(poll->Join(), HasBodies({}));
  EXPECT_THAT(ReceiveBodies(b), IsOkAndHolds(ElementsAre("for-b")));
}

TEST_P(LongPollTest, OneMessageGoesToExactlyOneOfTwoWaiters) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  auto first = StartReceive(url, 20);
  auto second = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(2));
  FERRY_ASSERT_OK(Send(url, "only"));
  ASSERT_TRUE(Eventually([&] { return first->done() || second->done(); }));
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  AdvanceSeconds(20);

  size_t received = 0;
  for (ReceiveCall* call : {first.get(), second.get()}) {
    absl::StatusOr<ferry::ReceiveMessageResult>& result = call->Join();
    ASSERT_THAT(result, IsOk());
    received += result->messages.size();
  }
  EXPECT_EQ(received, 1);
}

TEST_P(LongPollTest, DeletingTheBlockingFifoMessageWakesWaitingReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_ASSERT_OK(SendFifo(url, "g-m1", "g"));
  FERRY_ASSERT_OK(SendFifo(url, "g-m2", "g"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 1));
  ASSERT_THAT(got, SizeIs(1));

  auto poll = StartReceive(url, 20);
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  EXPECT_THAT(poll->Join(), HasBodies({"g-m2"}));
}

TEST_P(LongPollTest, NativeReceiveWaitsForNativeSend) {
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue,
                             broker().CreateQueue("native"));
  AsyncCall<absl::StatusOr<std::vector<ferry::ReceivedMessage>>> poll(
      &clock_, [queue]() mutable {
        return queue.Receive(
            {.max_messages = 10, .wait_time = absl::Seconds(20)});
      });
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  FERRY_ASSERT_OK(queue.Send("hello"));
  absl::StatusOr<std::vector<ferry::ReceivedMessage>>& result = poll.Join();
  ASSERT_THAT(result, IsOk());
  EXPECT_THAT(Bodies(*result), ElementsAre("hello"));
}

TEST_P(LongPollTest, DestroyingTheBrokerCancelsWaitingReceives) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string a, CreateQueue("a"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string b, CreateQueue("b"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue native, broker().GetQueue("b"));
  auto poll_a = StartReceive(a, 20);
  auto poll_b = StartReceive(b, 20);
  AsyncCall<absl::StatusOr<std::vector<ferry::ReceivedMessage>>> poll_native(
      &clock_, [native]() mutable {
        return native.Receive({.wait_time = absl::Seconds(20)});
      });
  ASSERT_TRUE(clock_.BlockUntilWaiters(3));
  const absl::Time start = Now();

  broker_.reset();

  EXPECT_THAT(poll_a->Join(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(poll_b->Join(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_THAT(poll_native.Join(), StatusIs(absl::StatusCode::kCancelled));
  // They returned because of the shutdown, not because time ran out.
  EXPECT_EQ(Now(), start);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, LongPollTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
