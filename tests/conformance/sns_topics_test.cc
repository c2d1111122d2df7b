// SNS topics: CreateTopic name rules and idempotency, attributes, DeleteTopic,
// ListTopics paging, tags, Add/RemovePermission, and the native Topic level.
// Reference: sns.md §1.0-§1.4, §1.13, §1.14.

#include <string>
#include <vector>

#include "tests/conformance/sns_fixture.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

class SnsTopicsTest : public SnsTest {};

TEST_P(SnsTopicsTest, CreateReturnsArnAndIsIdempotent) {
  EXPECT_THAT(CreateTopic("orders"), IsOkAndHolds(TopicArnOf("orders")));
  EXPECT_THAT(CreateTopic("orders"), IsOkAndHolds(TopicArnOf("orders")));
  EXPECT_THAT(CreateTopic("t", {{"DisplayName", "x"}}), IsOk());
  EXPECT_THAT(CreateTopic("t", {{"DisplayName", "x"}}),
              IsOkAndHolds(TopicArnOf("t")));
  EXPECT_THAT(CreateTopic("t"), IsOkAndHolds(TopicArnOf("t")));
  EXPECT_THAT(CreateTopic("t", {{"DisplayName", "y"}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Attributes Reason: Topic already "
                         "exists with different attributes"));
  EXPECT_THAT(CreateTopic("t", {{"DisplayName", "x"}, {"Policy", "{}"}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Attributes Reason: Topic already "
                         "exists with different attributes"));
  EXPECT_THAT(CreateTopic("t", {}, {{"k", "v"}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Tags Reason: Topic already exists "
                         "with different tags"));
  EXPECT_THAT(CreateTopic("t", {{"FifoTopic", "true"}}),
              AwsErrorIs("InvalidParameter", "Invalid parameter: Topic Name"));
}

TEST_P(SnsTopicsTest, NameRules) {
  for (std::string bad :
       {std::string(""), std::string(257, 'a'), std::string("a:b"),
        std::string("a;b"), std::string("a!b"), std::string("a@b"),
        std::string("a|b"), std::string("a^b"), std::string("a%b"),
        std::string("a b"), std::string("test.fifo")}) {
    EXPECT_THAT(CreateTopic(bad),
                AwsErrorIs("InvalidParameter", "Invalid parameter: Topic Name"))
        << bad;
  }
  EXPECT_THAT(CreateTopic(std::string(256, 'a')), IsOk());
  EXPECT_THAT(CreateTopic("plain", {{"FifoTopic", "true"}}),
              AwsErrorIs("InvalidParameter", "Invalid parameter: Topic Name"));
  EXPECT_THAT(CreateTopic("ok_name-1.fifo", {{"FifoTopic", "true"}}),
              IsOkAndHolds(TopicArnOf("ok_name-1.fifo")));
}

TEST_P(SnsTopicsTest, DefaultAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string arn,
                             CreateTopic("t", {{"FifoTopic", "false"}}));
  absl::StatusOr<ferry::AttributeMap> a = TopicAttributes(arn);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)["DisplayName"], "");
  EXPECT_EQ((*a)["Owner"], kAccount);
  EXPECT_EQ((*a)["TopicArn"], arn);
  EXPECT_EQ((*a)["SubscriptionsConfirmed"], "0");
  EXPECT_EQ((*a)["SubscriptionsPending"], "0");
  EXPECT_EQ((*a)["SubscriptionsDeleted"], "0");
  EXPECT_THAT(*a, Not(Contains(Key("FifoTopic"))));
  EXPECT_THAT(*a, Not(Contains(Key("SignatureVersion"))));
  EXPECT_EQ(
      (*a)["EffectiveDeliveryPolicy"],
      R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}})");
  EXPECT_EQ(
      (*a)["Policy"],
      absl::StrCat(
          R"({"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":")",
          arn, R"(","Condition":{"StringEquals":{"AWS:SourceOwner":")",
          kAccount, R"("}}}]})"));

  FERRY_ASSERT_OK_AND_ASSIGN(std::string fifo,
                             CreateTopic("f.fifo", {{"FifoTopic", "true"}}));
  a = TopicAttributes(fifo);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["FifoTopic"], "true");
  EXPECT_EQ((*a)["ContentBasedDeduplication"], "false");
}

TEST_P(SnsTopicsTest, SetAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string arn, CreateTopic("t"));
  EXPECT_THAT(sns().SetTopicAttributes(ctx_, {.topic_arn = arn,
                                              .attribute_name = "DisplayName",
                                              .attribute_value = "Shown"}),
              IsOk());
  EXPECT_THAT(
      sns().SetTopicAttributes(ctx_, {.topic_arn = arn,
                                      .attribute_name = "FifoTopic",
                                      .attribute_value = "true"}),
      AwsErrorIs("InvalidParameter", "Invalid parameter: AttributeName"));
  EXPECT_THAT(
      sns().SetTopicAttributes(
          ctx_,
          {.topic_arn = arn,
           .attribute_name = "DeliveryPolicy",
           .attribute_value =
               R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":1,"maxDelayTarget":5}}})"}),
      IsOk());
  absl::StatusOr<ferry::AttributeMap> a = TopicAttributes(arn);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["DisplayName"], "Shown");
  EXPECT_EQ(
      (*a)["DeliveryPolicy"],
      R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":5,"minDelayTarget":1,"maxDelayTarget":5}}})");
  EXPECT_EQ(
      (*a)["EffectiveDeliveryPolicy"],
      R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":5,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}})");
  // "" deletes it.
  EXPECT_THAT(
      sns().SetTopicAttributes(ctx_, {.topic_arn = arn,
                                      .attribute_name = "DeliveryPolicy",
                                      .attribute_value = ""}),
      IsOk());
  a = TopicAttributes(arn);
  EXPECT_THAT(*a, Not(Contains(Key("DeliveryPolicy"))));
  EXPECT_THAT(
      sns().SetTopicAttributes(ctx_, {.topic_arn = arn,
                                      .attribute_name = "SignatureVersion",
                                      .attribute_value = "2"}),
      IsOk());
  EXPECT_EQ((*TopicAttributes(arn))["SignatureVersion"], "2");
}

TEST_P(SnsTopicsTest, ArnErrors) {
  EXPECT_THAT(TopicAttributes("randomstring"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: TopicArn Reason: An ARN must have "
                         "at least 6 elements, not 1"));
  EXPECT_THAT(TopicAttributes("arn:aws:sns:us-east-1:random"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: TopicArn Reason: An ARN must have "
                         "at least 6 elements, not 5"));
  EXPECT_THAT(TopicAttributes(TopicArnOf("missing")),
              AwsErrorIs("NotFound", "Topic does not exist"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string arn, CreateTopic("t"));
  std::string other = absl::StrCat("arn:aws:sns:eu-west-1:", kAccount, ":t");
  EXPECT_THAT(TopicAttributes(other),
              AwsErrorIs("InvalidParameter", "Invalid parameter: TopicArn"));
  EXPECT_THAT(Publish(other, "m"),
              AwsErrorIs("InvalidParameter", "Invalid parameter: TopicArn"));
}

TEST_P(SnsTopicsTest, DeleteIsIdempotentAndRemovesTags) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string arn,
                             CreateTopic("t", {}, {{"a", "b"}}));
  EXPECT_THAT(sns().DeleteTopic(ctx_, {.topic_arn = arn}), IsOk());
  EXPECT_THAT(sns().DeleteTopic(ctx_, {.topic_arn = arn}), IsOk());
  EXPECT_THAT(TopicAttributes(arn), AwsErrorIs("NotFound"));
  EXPECT_THAT(sns().ListTagsForResource(ctx_, {.resource_arn = arn}),
              AwsErrorIs("ResourceNotFound", "Resource does not exist"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string again, CreateTopic("t"));
  absl::StatusOr<ferry::ListTagsForResourceResult> tags =
      sns().ListTagsForResource(ctx_, {.resource_arn = again});
  ASSERT_TRUE(tags.ok());
  EXPECT_THAT(tags->tags, SizeIs(0));
}

TEST_P(SnsTopicsTest, ListTopicsPagesByHundred) {
  for (int i = 0; i < 120; ++i) {
    ASSERT_THAT(CreateTopic(absl::StrCat("topic-", i)), IsOk());
  }
  ferry::RequestContext other = ctx_;
  other.region = "eu-west-1";
  ASSERT_THAT(sns().CreateTopic(other, {.name = "elsewhere"}), IsOk());
  absl::StatusOr<ferry::ListTopicsResult> page1 = sns().ListTopics(ctx_, {});
  ASSERT_TRUE(page1.ok());
  EXPECT_THAT(page1->topic_arns, SizeIs(100));
  ASSERT_FALSE(page1->next_token.empty());
  absl::StatusOr<ferry::ListTopicsResult> page2 =
      sns().ListTopics(ctx_, {.next_token = page1->next_token});
  ASSERT_TRUE(page2.ok());
  EXPECT_THAT(page2->topic_arns, SizeIs(20));
  EXPECT_TRUE(page2->next_token.empty());
  EXPECT_THAT(page2->topic_arns,
              Not(Contains(absl::StrCat("arn:aws:sns:eu-west-1:", kAccount,
                                        ":elsewhere"))));
}

TEST_P(SnsTopicsTest, Tags) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string arn, CreateTopic("t"));
  EXPECT_THAT(sns().TagResource(ctx_, {.resource_arn = arn,
                                       .tags = {{"k1", "v1"}, {"k2", "v2"}}}),
              IsOk());
  EXPECT_THAT(
      sns().TagResource(ctx_, {.resource_arn = arn, .tags = {{"k1", "new"}}}),
      IsOk());
  EXPECT_THAT(
      sns().TagResource(
          ctx_, {.resource_arn = arn, .tags = {{"d", "1"}, {"d", "2"}}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Duplicated keys are not allowed."));
  EXPECT_THAT(
      sns().UntagResource(ctx_, {.resource_arn = arn, .tag_keys = {"k2"}}),
      IsOk());
  absl::StatusOr<ferry::ListTagsForResourceResult> tags =
      sns().ListTagsForResource(ctx_, {.resource_arn = arn});
  ASSERT_TRUE(tags.ok());
  ASSERT_THAT(tags->tags, SizeIs(1));
  EXPECT_EQ(tags->tags[0].key, "k1");
  EXPECT_EQ(tags->tags[0].value, "new");
  std::vector<ferry::SnsTag> many;
  for (int i = 0; i < 50; ++i) many.push_back({absl::StrCat("t", i), "v"});
  EXPECT_THAT(sns().TagResource(ctx_, {.resource_arn = arn, .tags = many}),
              AwsErrorIs("TagLimitExceeded"));
  EXPECT_THAT(sns().TagResource(ctx_, {.resource_arn = TopicArnOf("nope"),
                                       .tags = {{"a", "b"}}}),
              AwsErrorIs("ResourceNotFound", "Resource does not exist"));
}

TEST_P(SnsTopicsTest, AddAndRemovePermission) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string arn, CreateTopic("t"));
  EXPECT_THAT(sns().AddPermission(ctx_, {.topic_arn = arn,
                                         .label = "L1",
                                         .aws_account_ids = {"111111111111"},
                                         .action_names = {"Publish"}}),
              IsOk());
  EXPECT_THAT(sns().AddPermission(ctx_, {.topic_arn = arn,
                                         .label = "L1",
                                         .aws_account_ids = {"111111111111"},
                                         .action_names = {"Publish"}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Statement already exists"));
  EXPECT_THAT(sns().AddPermission(ctx_, {.topic_arn = arn,
                                         .label = "L2",
                                         .aws_account_ids = {"111111111111"},
                                         .action_names = {"SendMessage"}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Policy statement action out of "
                         "service scope!"));
  EXPECT_THAT(sns().AddPermission(ctx_, {.topic_arn = TopicArnOf("nope"),
                                         .label = "L",
                                         .aws_account_ids = {"1"},
                                         .action_names = {"Publish"}}),
              AwsErrorIs("NotFound", "Topic does not exist"));
  Json policy = Json::parse((*TopicAttributes(arn))["Policy"]);
  ASSERT_EQ(policy["Statement"].size(), 2u);
  EXPECT_EQ(
      policy["Statement"][1],
      Json::parse(absl::StrCat(
          R"({"Sid":"L1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"SNS:Publish","Resource":")",
          arn, R"("})")));
  EXPECT_THAT(sns().RemovePermission(ctx_, {.topic_arn = arn, .label = "L1"}),
              IsOk());
  policy = Json::parse((*TopicAttributes(arn))["Policy"]);
  EXPECT_EQ(policy["Statement"].size(), 1u);
}

TEST_P(SnsTopicsTest, NativeTopicHandle) {
  absl::StatusOr<ferry::Topic> topic = broker().CreateTopic("native");
  ASSERT_TRUE(topic.ok()) << topic.status();
  EXPECT_EQ(topic->arn(), TopicArnOf("native"));
  EXPECT_FALSE(topic->fifo());
  EXPECT_THAT(broker().GetTopic("native"), IsOk());
  EXPECT_THAT(broker().GetTopic("absent"), AwsErrorIs("NotFound"));
  EXPECT_THAT(broker().ListTopics(), IsOkAndHolds(ElementsAre("native")));
  absl::StatusOr<ferry::Queue> q = broker().CreateQueue("q");
  ASSERT_TRUE(q.ok());
  ASSERT_THAT(topic->Subscribe(*q, {.raw_message_delivery = true}), IsOk());
  EXPECT_THAT(topic->Publish("hello"), IsOk());
  absl::StatusOr<std::vector<ferry::ReceivedMessage>> got = q->Receive();
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(Bodies(*got), ElementsAre("hello"));
  absl::StatusOr<ferry::TopicStats> stats = topic->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->published, 1);
  EXPECT_EQ(stats->delivered_to_queues, 1);
  EXPECT_THAT(broker().DeleteTopic("native"), IsOk());
  EXPECT_THAT(topic->Publish("gone"), AwsErrorIs("NotFound"));
  EXPECT_THAT(broker().DeleteTopic("native"), IsOk());
}

TEST_P(SnsTopicsTest, StrictModeTopicLimitIsOff) {
  // Quotas apply in strict mode only; the default broker takes many FIFO
  // topics.
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(
        CreateTopic(absl::StrCat("f", i, ".fifo"), {{"FifoTopic", "true"}}),
        IsOk());
  }
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SnsTopicsTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
