// Pre-provisioning from JSON (ferry/provision.h): queues with attributes,
// tags, FIFO, redrive in dependency order, several accounts and regions;
// topics, subscriptions (filter policies, raw delivery, queues by name or
// ARN) and streams; strict validation with messages that name the place.
#include "ferry/provision.h"

#include <memory>
#include <string>
#include <vector>

#include "ferry/broker.h"
#include "ferry/errors.h"
#include "ferry/kinesis.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

class ProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions options;
    options.clock = &clock_;
    auto broker = Broker::Open(options, NewMemoryBackend());
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  AttributeMap Attributes(const std::string& name,
                          const RequestContext& ctx = {}) {
    auto url = broker_->sqs().GetQueueUrl(ctx, {.queue_name = name});
    EXPECT_TRUE(url.ok()) << url.status();
    if (!url.ok()) return {};
    auto attrs = broker_->sqs().GetQueueAttributes(
        ctx, {.queue_url = url->queue_url, .attribute_names = {"All"}});
    EXPECT_TRUE(attrs.ok()) << attrs.status();
    return attrs.ok() ? attrs->attributes : AttributeMap{};
  }

  // The error message of provisioning `json`, which must fail with
  // kInvalidArgument before creating any queue.
  std::string InvalidMessage(const std::string& json) {
    EXPECT_EQ(ValidateProvisionJson(json).code(),
              absl::StatusCode::kInvalidArgument);
    auto r = ProvisionFromJson(*broker_, json);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    auto listed = broker_->sqs().ListQueues({}, {});
    EXPECT_TRUE(listed.ok() && listed->queue_urls.empty());
    return std::string(r.status().message());
  }

  ferry_testing::ManualClock clock_;
  std::unique_ptr<Broker> broker_;
};

TEST_F(ProvisionTest, CreatesQueuesWithAttributesTagsAndFifo) {
  auto r = ProvisionFromJson(*broker_, R"({
    "queues": [
      {"name": "jobs", "attributes": {"VisibilityTimeout": 60,
                                      "DelaySeconds": "5"},
       "tags": {"team": "payments"}},
      {"name": "orders.fifo",
       "attributes": {"FifoQueue": true, "ContentBasedDeduplication": true}}
    ]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(Field(&ProvisionedQueue::name, "jobs"),
                              Field(&ProvisionedQueue::name, "orders.fifo")));
  EXPECT_THAT((*r)[0].queue_url, HasSubstr("/000000000000/jobs"));
  AttributeMap jobs = Attributes("jobs");
  EXPECT_EQ(jobs["VisibilityTimeout"], "60");
  EXPECT_EQ(jobs["DelaySeconds"], "5");
  auto tags =
      broker_->sqs().ListQueueTags({}, {.queue_url = (*r)[0].queue_url});
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->tags, (TagMap{{"team", "payments"}}));
  AttributeMap fifo = Attributes("orders.fifo");
  EXPECT_EQ(fifo["FifoQueue"], "true");
  EXPECT_EQ(fifo["ContentBasedDeduplication"], "true");
}

TEST_F(ProvisionTest, CreatesDeadLetterQueuesFirstWhateverTheOrder) {
  // a -> b -> c by name, and d -> c by ARN; the file lists them backwards.
  auto r = ProvisionFromJson(*broker_, R"({
    "queues": [
      {"name": "d", "attributes": {"RedrivePolicy": {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:c",
        "maxReceiveCount": 5}}},
      {"name": "a", "attributes": {"RedrivePolicy": {
        "deadLetterTargetArn": "b", "maxReceiveCount": 3}}},
      {"name": "b", "attributes": {"RedrivePolicy":
        "{\"deadLetterTargetArn\":\"c\",\"maxReceiveCount\":2}"}},
      {"name": "c"}
    ]})");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> order;
  for (const ProvisionedQueue& q : *r) order.push_back(q.name);
  EXPECT_THAT(order, ElementsAre("c", "d", "b", "a"));
  EXPECT_THAT(Attributes("a")["RedrivePolicy"],
              HasSubstr("arn:aws:sqs:us-east-1:000000000000:b"));
  EXPECT_THAT(Attributes("b")["RedrivePolicy"],
              HasSubstr("arn:aws:sqs:us-east-1:000000000000:c"));
  auto sources = broker_->sqs().ListDeadLetterSourceQueues(
      {}, {.queue_url = (*r)[0].queue_url});
  ASSERT_TRUE(sources.ok()) << sources.status();
  EXPECT_EQ(sources->queue_urls.size(), 2u);
}

TEST_F(ProvisionTest, AccountsAndRegionsPerDocumentAndPerQueue) {
  auto r = ProvisionFromJson(*broker_, R"({
    "account": "111122223333", "region": "eu-west-1",
    "queues": [
      {"name": "here"},
      {"name": "there", "account": "444455556666", "region": "ap-south-1"}
    ]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Attributes("here", {.account = "111122223333",
                                .region = "eu-west-1"})["QueueArn"],
            "arn:aws:sqs:eu-west-1:111122223333:here");
  EXPECT_EQ(Attributes("there", {.account = "444455556666",
                                 .region = "ap-south-1"})["QueueArn"],
            "arn:aws:sqs:ap-south-1:444455556666:there");
}

TEST_F(ProvisionTest, ApplyingTheSameDocumentAgainIsNotAnError) {
  const std::string doc =
      R"({"queues": [{"name": "q", "attributes": {"VisibilityTimeout": 7}}]})";
  ASSERT_TRUE(ProvisionFromJson(*broker_, doc).ok());
  auto again = ProvisionFromJson(*broker_, doc);
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST_F(ProvisionTest, ADeadLetterQueueOutsideTheDocumentMustExist) {
  const std::string doc = R"({"queues": [{"name": "q", "attributes": {
      "RedrivePolicy": {"deadLetterTargetArn": "outside",
                        "maxReceiveCount": 1}}}]})";
  auto missing = ProvisionFromJson(*broker_, doc);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("queues[0] (q): dead-letter queue 'outside'"));
  ASSERT_TRUE(broker_->sqs().CreateQueue({}, {.queue_name = "outside"}).ok());
  EXPECT_TRUE(ProvisionFromJson(*broker_, doc).ok());
}

TEST_F(ProvisionTest, CreateQueueErrorsKeepTheirAwsError) {
  auto r = ProvisionFromJson(*broker_, R"({"queues": [{"name": "ok"},
                               {"name": "bad", "attributes": {
                                 "VisibilityTimeout": 999999}}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("queues[1] (bad): "));
  auto aws = GetAwsError(r.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->shape, "InvalidAttributeValue");
}

TEST_F(ProvisionTest, RejectsMalformedDocumentsNamingThePlace) {
  EXPECT_THAT(InvalidMessage("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(InvalidMessage("[]"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(InvalidMessage(R"({"queue": []})"),
              HasSubstr("queue: unknown key"));
  EXPECT_THAT(InvalidMessage(R"({"queues": {}})"),
              HasSubstr("queues: expected an array"));
  EXPECT_THAT(InvalidMessage(R"({"queues": [{"attributes": {}}]})"),
              HasSubstr("queues[0].name: required"));
  EXPECT_THAT(InvalidMessage(R"({"queues": [{"name": "a", "atributes": {}}]})"),
              HasSubstr("queues[0].atributes: unknown key"));
  EXPECT_THAT(InvalidMessage(
                  R"({"queues": [{"name": "a", "attributes": {"X": [1]}}]})"),
              HasSubstr("queues[0].attributes.X: expected a string, number or "
                        "boolean, got array"));
  EXPECT_THAT(
      InvalidMessage(R"({"queues": [{"name": "a", "tags": {"t": 1}}]})"),
      HasSubstr("queues[0].tags.t: expected a string, got number"));
  EXPECT_THAT(
      InvalidMessage(R"({"queues": [{"name": "a"}, {"name": "a"}]})"),
      HasSubstr("queues[1]: the queue 'a' is also defined at queues[0]"));
  EXPECT_THAT(InvalidMessage(R"({"queues": [{"name": "a", "attributes": {
                 "RedrivePolicy": "not json"}}]})"),
              HasSubstr("queues[0].attributes.RedrivePolicy: expected a JSON "
                        "object"));
  EXPECT_THAT(InvalidMessage(R"({"topics": {}})"),
              HasSubstr("topics: expected an array, got object"));
  EXPECT_THAT(InvalidMessage(R"({"topics": [{"name": "t", "colour": 1}]})"),
              HasSubstr("topics[0].colour: unknown key"));
  EXPECT_THAT(InvalidMessage(R"({"topics": [{"name": "t"}, {"name": "t"}]})"),
              HasSubstr("topics[1]: the topic 't' is also defined at "
                        "topics[0]"));
  EXPECT_THAT(InvalidMessage(R"({"subscriptions": [{"topic": "t",
                 "protocol": "sqs"}]})"),
              HasSubstr("subscriptions[0].endpoint: required"));
  EXPECT_THAT(InvalidMessage(R"({"subscriptions": [{"topic": "t",
                 "protocol": "sqs", "endpoint": "q",
                 "attributes": {"FilterPolicy": [1]}}]})"),
              HasSubstr("subscriptions[0].attributes.FilterPolicy: expected "
                        "an object or a string, got array"));
  EXPECT_THAT(InvalidMessage(R"({"subscriptions": [{"topic": "t",
                 "protocol": "sqs", "endpoint": "q",
                 "attributes": {"RawMessageDelivery": {}}}]})"),
              HasSubstr("subscriptions[0].attributes.RawMessageDelivery: "
                        "expected a string, number or boolean"));
  EXPECT_THAT(InvalidMessage(R"({"streams": [{"name": "s",
                 "shard_count": 0}]})"),
              HasSubstr("streams[0].shard_count: expected an integer from 1 "
                        "to 100000, got 0"));
  EXPECT_THAT(InvalidMessage(R"({"streams": [{"name": "s",
                 "retention_hours": "48"}]})"),
              HasSubstr("streams[0].retention_hours: expected an integer"));
  EXPECT_THAT(InvalidMessage(R"({"streams": [{"name": "s",
                 "on_demand": true, "shard_count": 2}]})"),
              HasSubstr("streams[0].shard_count: an on-demand stream takes "
                        "no shard_count"));
  EXPECT_THAT(InvalidMessage(R"({"streams": [{"name": "s",
                 "on_demand": "yes"}]})"),
              HasSubstr("streams[0].on_demand: expected a boolean"));
  EXPECT_THAT(InvalidMessage(R"({"streams": [{"shard_count": 1}]})"),
              HasSubstr("streams[0].name: required"));
  EXPECT_THAT(InvalidMessage(R"({"streams": [{"name": "s"}, {"name": "s"}]})"),
              HasSubstr("streams[1]: the stream 's' is also defined at "
                        "streams[0]"));
}

TEST_F(ProvisionTest, CreatesTopicsSubscriptionsAndStreamsAfterQueues) {
  const std::string doc = R"({
    "streams": [
      {"name": "clicks", "shard_count": 3, "retention_hours": 48},
      {"name": "audit", "on_demand": true, "tags": {"team": "sec"}}
    ],
    "subscriptions": [
      {"topic": "events", "protocol": "sqs", "endpoint": "orders",
       "attributes": {"RawMessageDelivery": true,
                      "FilterPolicy": {"kind": ["order"]}}},
      {"topic": "arn:aws:sns:us-east-1:000000000000:events",
       "protocol": "sqs",
       "endpoint": "arn:aws:sqs:us-east-1:000000000000:everything"}
    ],
    "topics": [{"name": "events", "attributes": {"DisplayName": "Events"},
                "tags": {"team": "payments"}}],
    "queues": [{"name": "orders"}, {"name": "everything"}]
  })";
  absl::StatusOr<ProvisionResult> r = Provision(*broker_, doc);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->topics.size(), 1u);
  EXPECT_EQ(r->topics[0].topic_arn,
            "arn:aws:sns:us-east-1:000000000000:events");
  ASSERT_EQ(r->subscriptions.size(), 2u);
  EXPECT_EQ(r->subscriptions[0].endpoint,
            "arn:aws:sqs:us-east-1:000000000000:orders");
  ASSERT_EQ(r->streams.size(), 2u);
  EXPECT_EQ(r->streams[0].shard_count, 3);
  EXPECT_FALSE(r->streams[0].existed);

  // The filter policy and raw delivery hold.
  Sns& sns = broker_->sns();
  const std::string topic = r->topics[0].topic_arn;
  ASSERT_TRUE(
      sns.Publish({}, {.topic_arn = topic,
                       .message = "an order",
                       .message_attributes = {{"kind",
                                               {.data_type = "String",
                                                .string_value = "order"}}}})
          .ok());
  ASSERT_TRUE(
      sns.Publish({}, {.topic_arn = topic,
                       .message = "a refund",
                       .message_attributes = {{"kind",
                                               {.data_type = "String",
                                                .string_value = "refund"}}}})
          .ok());
  auto receive = [&](const std::string& queue) {
    auto url = broker_->sqs().GetQueueUrl({}, {.queue_name = queue});
    EXPECT_TRUE(url.ok());
    auto got = broker_->sqs().ReceiveMessage(
        {}, {.queue_url = url->queue_url, .max_number_of_messages = 10});
    EXPECT_TRUE(got.ok());
    std::vector<std::string> bodies;
    for (const Message& m : got->messages) bodies.push_back(m.body);
    return bodies;
  };
  EXPECT_THAT(receive("orders"), ElementsAre("an order"));
  std::vector<std::string> all = receive("everything");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_THAT(all[0], HasSubstr("\"Type\":\"Notification\""));

  auto attrs = sns.GetTopicAttributes({}, {.topic_arn = topic});
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->attributes["DisplayName"], "Events");

  auto clicks =
      broker_->kinesis().DescribeStreamSummary({}, {.stream_name = "clicks"});
  ASSERT_TRUE(clicks.ok()) << clicks.status();
  EXPECT_EQ(clicks->stream_description_summary.retention_period_hours, 48);
  auto audit =
      broker_->kinesis().DescribeStreamSummary({}, {.stream_name = "audit"});
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_EQ(audit->stream_description_summary.stream_mode, "ON_DEMAND");

  // Applying it again changes nothing.
  absl::StatusOr<ProvisionResult> again = Provision(*broker_, doc);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->subscriptions[0].subscription_arn,
            r->subscriptions[0].subscription_arn);
  EXPECT_TRUE(again->streams[0].existed);
  auto subs = sns.ListSubscriptionsByTopic({}, {.topic_arn = topic});
  ASSERT_TRUE(subs.ok());
  EXPECT_EQ(subs->subscriptions.size(), 2u);
}

TEST_F(ProvisionTest, SubscriptionsNeedTheirTopicAndQueue) {
  auto no_topic = Provision(*broker_, R"({"subscriptions": [
      {"topic": "nope", "protocol": "sqs", "endpoint": "q"}]})");
  EXPECT_EQ(no_topic.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_topic.status().message(),
              HasSubstr("subscriptions[0].topic: no topic 'nope'"));
  auto no_queue = Provision(*broker_, R"({"topics": [{"name": "t"}],
      "subscriptions": [{"topic": "t", "protocol": "sqs",
                         "endpoint": "missing"}]})");
  EXPECT_THAT(no_queue.status().message(),
              HasSubstr("subscriptions[0].endpoint: queue 'missing'"));
  auto aws = GetAwsError(no_queue.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->shape, "QueueDoesNotExist");
  // A topic that exists already is found by name.
  auto existing = Provision(*broker_, R"({"queues": [{"name": "q"}],
      "subscriptions": [{"topic": "t", "protocol": "sqs", "endpoint": "q"}]})");
  EXPECT_TRUE(existing.ok()) << existing.status();
}

TEST_F(ProvisionTest, InjectedFaultsDoNotApply) {
  broker_->faults().Inject({.error = "InternalFailure"},
                           FaultInjector::kUntilCleared);
  auto r = Provision(*broker_, R"({"queues": [{"name": "q"}],
      "topics": [{"name": "t"}], "streams": [{"name": "s"}],
      "subscriptions": [{"topic": "t", "protocol": "sqs", "endpoint": "q"}]})");
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(ProvisionTest, RejectsRedriveCycles) {
  EXPECT_THAT(InvalidMessage(R"({"queues": [
      {"name": "x", "attributes": {"RedrivePolicy": {
        "deadLetterTargetArn": "y", "maxReceiveCount": 1}}},
      {"name": "y", "attributes": {"RedrivePolicy": {
        "deadLetterTargetArn": "x", "maxReceiveCount": 1}}}]})"),
              HasSubstr("redrive cycle: x -> y -> x"));
  EXPECT_THAT(InvalidMessage(R"({"queues": [
      {"name": "self", "attributes": {"RedrivePolicy": {
        "deadLetterTargetArn": "self", "maxReceiveCount": 1}}}]})"),
              HasSubstr("own dead-letter queue"));
}

}  // namespace
}  // namespace ferry
