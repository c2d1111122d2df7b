// Pre-provisioning from JSON (ferry/provision.h): queues with attributes,
// tags, FIFO, redrive in dependency order, several accounts and regions, and
// strict validation with messages that name the place.
#include "ferry/provision.h"

#include <memory>
#include <string>
#include <vector>

#include "ferry/broker.h"
#include "ferry/errors.h"
#include "ferry/memory_backend.h"
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
  EXPECT_THAT(InvalidMessage(R"({"topics": []})"),
              HasSubstr("topics: this build of ferry provisions only SQS"));
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
