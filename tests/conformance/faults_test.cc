// Fault injection for native callers of the AWS-shaped layers
// (ferry/faults.h): queued AWS errors per operation, probabilities drawn from
// a seeded generator, latency waited on the broker's (manual) clock.
#include "ferry/faults.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ferry/kinesis.h"
#include "ferry/sns.h"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::StatusIs;
using ::testing::HasSubstr;

class FaultsTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    absl::StatusOr<ferry::CreateQueueResult> q =
        sqs().CreateQueue(ctx_, {.queue_name = "jobs"});
    ASSERT_TRUE(q.ok()) << q.status();
    url_ = q->queue_url;
  }

  absl::Status Send() {
    return sqs()
        .SendMessage(ctx_, {.queue_url = url_, .message_body = "m"})
        .status();
  }

  std::string url_;
};

TEST_P(FaultsTest, QueuedErrorsAreReturnedInOrderThenCallsSucceed) {
  broker().faults().Inject(
      {.operation = "SendMessage", .error = "RequestThrottled"}, 2);
  broker().faults().Inject(
      {.operation = "SendMessage", .error = "InternalFailure"}, 1);
  // Other operations are not hit.
  EXPECT_THAT(sqs().ReceiveMessage(ctx_, {.queue_url = url_}), IsOk());

  absl::Status throttled = Send();
  EXPECT_THAT(throttled, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(throttled, AwsErrorIs("RequestThrottled"));
  EXPECT_THAT(Send(), AwsErrorIs("RequestThrottled"));
  absl::Status internal = Send();
  EXPECT_THAT(internal, AwsErrorIs("InternalFailure"));
  EXPECT_EQ(ferry::GetAwsError(internal)->http_status, 500);
  EXPECT_THAT(internal.message(), HasSubstr("Injected by ferry."));
  EXPECT_THAT(Send(), IsOk());
  EXPECT_TRUE(broker().faults().Rules().empty());
  EXPECT_TRUE(broker().faults().empty());
}

TEST_P(FaultsTest, EveryLayerConsultsTheSameListInItsOwnErrorTable) {
  // No operation named: every operation of every service.
  broker().faults().Inject({.error = "ServiceUnavailable", .message = "down"},
                           ferry::FaultInjector::kUntilCleared);
  absl::Status sqs_error = Send();
  EXPECT_THAT(sqs_error, AwsErrorIs("ServiceUnavailable"));
  EXPECT_THAT(sqs_error, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(sqs_error.message(), "down");
  EXPECT_THAT(broker().sns().ListTopics(ctx_, {}).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(broker().kinesis().ListStreams(ctx_, {}).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_EQ(broker().faults().Rules().size(), 1u);
  EXPECT_EQ(broker().faults().Rules()[0].second, -1);
  broker().faults().Clear();
  EXPECT_THAT(Send(), IsOk());

  // SNS's throttling error and Kinesis's.
  broker().faults().Inject({.operation = "Publish", .error = "Throttled"});
  absl::StatusOr<ferry::CreateTopicResult> topic =
      broker().sns().CreateTopic(ctx_, {.name = "events"});
  ASSERT_TRUE(topic.ok()) << topic.status();
  absl::Status throttled =
      broker()
          .sns()
          .Publish(ctx_, {.topic_arn = topic->topic_arn, .message = "x"})
          .status();
  EXPECT_THAT(throttled, AwsErrorIs("ThrottledException"));
  EXPECT_EQ(ferry::GetAwsError(throttled)->http_status, 429);

  ASSERT_THAT(broker().kinesis().CreateStream(
                  ctx_, {.stream_name = "s", .shard_count = 1}),
              IsOk());
  broker().faults().Inject({.operation = "PutRecords",
                            .error = "ProvisionedThroughputExceededException"});
  EXPECT_THAT(
      broker()
          .kinesis()
          .PutRecords(ctx_, {.stream_name = "s",
                             .records = {{.data = "d", .partition_key = "k"}}})
          .status(),
      AwsErrorIs("ProvisionedThroughputExceededException"));
  EXPECT_THAT(
      broker()
          .kinesis()
          .PutRecord(ctx_,
                     {.stream_name = "s", .data = "d", .partition_key = "k"})
          .status(),
      IsOk());
}

TEST_P(FaultsTest, AnErrorOutsideTheTableTakesItsCodeFromTheHttpStatus) {
  broker().faults().Inject(
      {.operation = "SendMessage", .error = "Custom", .http_status = 503});
  broker().faults().Inject(
      {.operation = "SendMessage", .error = "Custom", .http_status = 429});
  broker().faults().Inject(
      {.operation = "SendMessage", .drop_connection = true});
  absl::Status unavailable = Send();
  EXPECT_THAT(unavailable, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(ferry::GetAwsError(unavailable).has_value());
  EXPECT_THAT(unavailable.message(), HasSubstr("Custom"));
  EXPECT_THAT(Send(), StatusIs(absl::StatusCode::kResourceExhausted));
  absl::Status dropped = Send();
  EXPECT_THAT(dropped, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(dropped.message(), HasSubstr("connection dropped"));
  EXPECT_THAT(Send(), IsOk());
}

// The hits of a probability depend only on the seed and the calls.
std::vector<bool> Hits(uint64_t seed) {
  ferry::FaultInjector injector(seed);
  injector.Inject({.operation = "SendMessage", .probability = 0.5},
                  ferry::FaultInjector::kUntilCleared);
  std::vector<bool> hits;
  for (int i = 0; i < 64; ++i) {
    hits.push_back(injector.Take("SendMessage").has_value());
  }
  return hits;
}

TEST_P(FaultsTest, ProbabilityDrawsAreRepeatableForASeed) {
  EXPECT_EQ(Hits(7), Hits(7));
  EXPECT_EQ(Hits(0), Hits(0));  // 0: the fixed default seed
  EXPECT_NE(Hits(7), Hits(8));
  std::vector<bool> hits = Hits(7);
  int n = 0;
  for (bool h : hits) n += h ? 1 : 0;
  EXPECT_GT(n, 10);
  EXPECT_LT(n, 54);

  // A call the draw missed does not use up the rule.
  ferry::FaultInjector never(1);
  never.Inject({.error = "InternalFailure", .probability = 0.0}, 1);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(never.Take("X").has_value());
  EXPECT_EQ(never.Rules().size(), 1u);
}

TEST_P(FaultsTest, LatencyWaitsForTheBrokersClock) {
  broker().faults().Inject(
      {.operation = "SendMessage", .latency = absl::Seconds(5)});
  AsyncCall<absl::Status> call(&clock_, [this] { return Send(); });
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  clock_.Advance(absl::Seconds(4));
  EXPECT_FALSE(call.done());
  clock_.Advance(absl::Seconds(1));
  // Latency only: the call then runs normally.
  EXPECT_THAT(call.Join(), IsOk());
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult r,
                             sqs().ReceiveMessage(ctx_, {.queue_url = url_}));
  EXPECT_EQ(r.messages.size(), 1u);

  // Latency, then the error (a slow failure).
  broker().faults().Inject({.operation = "SendMessage",
                            .error = "InternalFailure",
                            .latency = absl::Seconds(1)});
  AsyncCall<absl::Status> slow(&clock_, [this] { return Send(); });
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(slow.Join(), AwsErrorIs("InternalFailure"));
}

TEST_P(FaultsTest, ConsultedCallsAndTheNativeLevelAreNotHit) {
  broker().faults().Inject({.error = "InternalFailure"},
                           ferry::FaultInjector::kUntilCleared);
  ferry::RequestContext consulted = ctx_;
  consulted.faults_consulted = true;
  EXPECT_THAT(
      sqs().SendMessage(consulted, {.queue_url = url_, .message_body = "m"}),
      IsOk());
  // The native level (queue and stream handles) does not go through the
  // AWS-shaped layers' hook.
  EXPECT_THAT(broker().CreateQueue("native"), IsOk());
  EXPECT_THAT(broker().CreateStream("native-stream"), IsOk());
  EXPECT_THAT(Send(), AwsErrorIs("InternalFailure"));
}

TEST_P(FaultsTest, AnInjectorGivenInTheOptionsIsTheBrokers) {
  ferry::FaultInjector mine(3);
  ferry::BrokerOptions options;
  options.clock = &clock_;
  options.faults = &mine;
  FERRY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ferry::Broker> b,
                             ferry::Broker::Open(options, GetParam().make()));
  EXPECT_EQ(&b->faults(), &mine);
  mine.Inject({.operation = "ListQueues", .error = "RequestThrottled"});
  EXPECT_THAT(b->sqs().ListQueues({}, {}), AwsErrorIs("RequestThrottled"));
  EXPECT_THAT(b->sqs().ListQueues({}, {}), IsOk());
}

INSTANTIATE_TEST_SUITE_P(AllBackends, FaultsTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
