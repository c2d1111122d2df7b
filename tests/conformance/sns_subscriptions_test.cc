// SNS subscriptions: Subscribe validation and idempotency, confirmation,
// Unsubscribe, listing and paging, Get/SetSubscriptionAttributes, filter
// policy errors with each operation's prefix, strict-mode quotas.
// Reference: sns.md §1.5, §1.6, §1.8, §1.9, §2.8.

#include <string>
#include <vector>

#include "tests/conformance/sns_fixture.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Key;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

class SnsSubscriptionsTest : public SnsTest {
 protected:
  void SetUp() override {
    SnsTest::SetUp();
    absl::StatusOr<std::string> arn = CreateTopic("t");
    ASSERT_TRUE(arn.ok());
    topic_ = *arn;
  }
  absl::StatusOr<ferry::AttributeMap> SubAttributes(const std::string& arn) {
    auto r = sns().GetSubscriptionAttributes(ctx_, {.subscription_arn = arn});
    if (!r.ok()) return r.status();
    return r->attributes;
  }
  absl::Status SetSub(const std::string& arn, const std::string& name,
                      const std::string& value) {
    return sns().SetSubscriptionAttributes(ctx_, {.subscription_arn = arn,
                                                  .attribute_name = name,
                                                  .attribute_value = value});
  }
  std::string topic_;
};

TEST_P(SnsSubscriptionsTest, SqsSubscriptionIsConfirmedAtOnce) {
  ASSERT_THAT(CreateQueue("q"), IsOk());
  FERRY_ASSERT_OK_AND_ASSIGN(std::string sub,
                             Subscribe(topic_, "sqs", ArnOf("q")));
  EXPECT_THAT(sub, StartsWith(topic_ + ":"));
  EXPECT_EQ(sub.size(), topic_.size() + 1 + 36);
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::AttributeMap a, SubAttributes(sub));
  EXPECT_EQ(a["ConfirmationWasAuthenticated"], "true");
  EXPECT_EQ(a["PendingConfirmation"], "false");
  EXPECT_EQ(a["Endpoint"], ArnOf("q"));
  EXPECT_EQ(a["Owner"], kAccount);
  EXPECT_EQ(a["Protocol"], "sqs");
  EXPECT_EQ(a["RawMessageDelivery"], "false");
  EXPECT_EQ(a["SubscriptionArn"], sub);
  EXPECT_EQ(a["TopicArn"], topic_);
  EXPECT_THAT(a, Contains(Key("SubscriptionPrincipal")));
  EXPECT_THAT(a, Not(Contains(Key("FilterPolicyScope"))));
  EXPECT_EQ((*TopicAttributes(topic_))["SubscriptionsConfirmed"], "1");
}

TEST_P(SnsSubscriptionsTest, SubscribeValidation) {
  EXPECT_THAT(Subscribe(topic_, "smtp", "a@b.c"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Amazon SNS does not support this "
                         "protocol string: smtp"));
  EXPECT_THAT(
      Subscribe(topic_, "sqs", UrlOf("q")),
      AwsErrorIs("InvalidParameter", "Invalid parameter: SQS endpoint ARN"));
  // A well-formed ARN of a queue that does not exist is accepted.
  EXPECT_THAT(Subscribe(topic_, "sqs", ArnOf("not-yet")), IsOk());
  for (std::string bad : {"+15--551234567", "NAA+15551234567", "+15551234567.",
                          "/+15551234567", "invalid-number"}) {
    EXPECT_THAT(Subscribe(topic_, "sms", bad),
                AwsErrorIs("InvalidParameter", "Invalid SMS endpoint: " + bad));
  }
  EXPECT_THAT(Subscribe(topic_, "sms", "+123123123"), IsOk());
  EXPECT_THAT(Subscribe(TopicArnOf("nope"), "sqs", ArnOf("q")),
              AwsErrorIs("NotFound", "Topic does not exist"));
  EXPECT_THAT(Subscribe(topic_, "http", "https://example.com"),
              AwsErrorIs("InvalidParameter"));
  ASSERT_THAT(CreateQueue("f.fifo", {{"FifoQueue", "true"}}), IsOk());
  EXPECT_THAT(Subscribe(topic_, "sqs", ArnOf("f.fifo")),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Invalid parameter: Endpoint "
                         "Reason: FIFO SQS Queues can not be subscribed to "
                         "standard SNS topics"));
  EXPECT_THAT(
      Subscribe(topic_, "sqs", ArnOf("q"),
                {{"RawMessageDelivery", "wrongvalue"}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Attributes Reason: RawMessageDelivery: "
                 "Invalid value [wrongvalue]. Must be true or false."));
  EXPECT_THAT(
      Subscribe(topic_, "sqs", ArnOf("q"), {{"FilterPolicy", "invalid"}}),
      AwsErrorIs("InvalidParameter",
                 StartsWith("Invalid parameter: Attributes Reason: "
                            "FilterPolicy: failed to parse JSON.")));
}

TEST_P(SnsSubscriptionsTest, SubscribeIsIdempotent) {
  ferry::AttributeMap attrs = {{"RawMessageDelivery", "true"},
                               {"FilterPolicy", R"({"k":["v"]})"}};
  FERRY_ASSERT_OK_AND_ASSIGN(std::string sub,
                             Subscribe(topic_, "sqs", ArnOf("q"), attrs));
  EXPECT_THAT(Subscribe(topic_, "sqs", ArnOf("q")), IsOkAndHolds(sub));
  EXPECT_THAT(Subscribe(topic_, "sqs", ArnOf("q"), attrs), IsOkAndHolds(sub));
  EXPECT_THAT(
      Subscribe(topic_, "sqs", ArnOf("q"), {{"RawMessageDelivery", "true"}}),
      IsOkAndHolds(sub));
  EXPECT_THAT(
      Subscribe(topic_, "sqs", ArnOf("q"), {{"RawMessageDelivery", "false"}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Attributes Reason: Subscription already "
                 "exists with different attributes"));
}

TEST_P(SnsSubscriptionsTest, EmailIsPendingUntilConfirmed) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string pending,
                             Subscribe(topic_, "email", "me@example.com"));
  EXPECT_EQ(pending, "pending confirmation");
  executor_.RunAll();
  std::vector<ferry::SinkDelivery> sent = sns().RecordedDeliveries();
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].type, "SubscriptionConfirmation");
  EXPECT_EQ(sent[0].endpoint, "me@example.com");
  Json body = Json::parse(sent[0].body);
  EXPECT_EQ(body["Type"], "SubscriptionConfirmation");
  EXPECT_EQ(body["Token"], sent[0].token);
  EXPECT_EQ(body["SubscribeURL"],
            absl::StrCat("https://sns.", kRegion,
                         ".amazonaws.com/?Action=ConfirmSubscription&TopicArn=",
                         topic_, "&Token=", sent[0].token));
  EXPECT_EQ((*TopicAttributes(topic_))["SubscriptionsPending"], "1");

  // Nothing is delivered before confirmation.
  sns().ClearRecordedDeliveries();
  ASSERT_THAT(Publish(topic_, "early"), IsOk());
  executor_.RunAll();
  EXPECT_THAT(sns().RecordedDeliveries(), SizeIs(0));

  EXPECT_THAT(sns().ConfirmSubscription(
                  ctx_, {.topic_arn = topic_, .token = "randomtoken"}),
              AwsErrorIs("InvalidParameter", "Invalid token"));
  EXPECT_THAT(sns().ConfirmSubscription(
                  ctx_, {.topic_arn = topic_, .token = std::string(64, 'a')}),
              AwsErrorIs("InvalidParameter", "Invalid parameter: Token"));
  absl::StatusOr<ferry::ConfirmSubscriptionResult> confirmed =
      sns().ConfirmSubscription(ctx_,
                                {.topic_arn = topic_, .token = sent[0].token});
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_THAT(confirmed->subscription_arn, StartsWith(topic_ + ":"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::AttributeMap a,
                             SubAttributes(confirmed->subscription_arn));
  EXPECT_EQ(a["PendingConfirmation"], "false");
  ASSERT_THAT(Publish(topic_, "now"), IsOk());
  executor_.RunAll();
  std::vector<ferry::SinkDelivery> got = sns().RecordedDeliveries();
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].protocol, "email");
  EXPECT_EQ(got[0].body, "now");
}

TEST_P(SnsSubscriptionsTest, ReturnSubscriptionArnGivesTheRealArn) {
  EXPECT_THAT(Subscribe(topic_, "email-json", "me@example.com", {}, true),
              IsOkAndHolds(StartsWith(topic_ + ":")));
}

TEST_P(SnsSubscriptionsTest, UnsubscribeRules) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string sub,
                             Subscribe(topic_, "sqs", ArnOf("q")));
  EXPECT_THAT(sns().Unsubscribe(ctx_, {.subscription_arn = sub}), IsOk());
  EXPECT_THAT(sns().Unsubscribe(ctx_, {.subscription_arn = sub}), IsOk());
  EXPECT_THAT(SubAttributes(sub),
              AwsErrorIs("NotFound", "Subscription does not exist"));
  EXPECT_THAT(sns().Unsubscribe(ctx_, {.subscription_arn = "randomstring"}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: SubscriptionArn Reason: An ARN "
                         "must have at least 6 elements, not 1"));
  EXPECT_THAT(
      sns().Unsubscribe(
          ctx_,
          {.subscription_arn = "arn:aws:sns:us-east-1:111111111111:random"}),
      AwsErrorIs("InvalidParameter", "Invalid parameter: SubscriptionId"));
  EXPECT_THAT(sns().Unsubscribe(ctx_, {.subscription_arn = ""}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: SubscriptionArn Reason: no value "
                         "for required parameter"));
  EXPECT_EQ((*TopicAttributes(topic_))["SubscriptionsDeleted"], "1");
}

TEST_P(SnsSubscriptionsTest, ListSubscriptionsPages) {
  for (int i = 0; i < 101; ++i) {
    ASSERT_THAT(Subscribe(topic_, "sqs", ArnOf(absl::StrCat("q", i))), IsOk());
  }
  auto page1 = sns().ListSubscriptionsByTopic(ctx_, {.topic_arn = topic_});
  ASSERT_TRUE(page1.ok());
  EXPECT_THAT(page1->subscriptions, SizeIs(100));
  ASSERT_FALSE(page1->next_token.empty());
  auto page2 = sns().ListSubscriptionsByTopic(
      ctx_, {.topic_arn = topic_, .next_token = page1->next_token});
  ASSERT_TRUE(page2.ok());
  EXPECT_THAT(page2->subscriptions, SizeIs(1));
  EXPECT_TRUE(page2->next_token.empty());
  const ferry::SubscriptionSummary& s = page2->subscriptions[0];
  EXPECT_EQ(s.protocol, "sqs");
  EXPECT_EQ(s.topic_arn, topic_);
  EXPECT_EQ(s.owner, kAccount);
  auto all = sns().ListSubscriptions(ctx_, {});
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(all->subscriptions, SizeIs(100));
  EXPECT_THAT(
      sns().ListSubscriptionsByTopic(ctx_, {.topic_arn = TopicArnOf("x")}),
      AwsErrorIs("NotFound"));
}

TEST_P(SnsSubscriptionsTest, SetSubscriptionAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string sub,
                             Subscribe(topic_, "sqs", ArnOf("q")));
  EXPECT_THAT(
      SetSub(sub, "Protocol", "x"),
      AwsErrorIs("InvalidParameter", "Invalid parameter: AttributeName"));
  EXPECT_THAT(SetSub(sub, "RawMessageDelivery", "test-ValUe"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: RawMessageDelivery: Invalid value "
                         "[test-ValUe]. Must be true or false."));
  EXPECT_THAT(SetSub(sub, "RawMessageDelivery", ""),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: RawMessageDelivery: Invalid value "
                         "[]. Must be true or false."));
  EXPECT_THAT(SetSub(sub, "RawMessageDelivery", "True"), IsOk());
  EXPECT_EQ((*SubAttributes(sub))["RawMessageDelivery"], "true");
  EXPECT_THAT(SetSub(sub, "RedrivePolicy", R"({"deadLetterTargetArn":"x"})"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: RedrivePolicy: "
                         "deadLetterTargetArn is an invalid arn"));
  EXPECT_THAT(
      SetSub(sub, "RedrivePolicy",
             absl::StrCat(R"({"deadLetterTargetArn":")", ArnOf("dlq"),
                          R"(","maxReceiveCount":3})")),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: RedrivePolicy: invalid JSON. Attribute "
                 "maxReceiveCount is unknown."));
  EXPECT_THAT(SetSub(sub, "RedrivePolicy", "{invalid"),
              AwsErrorIs("InvalidParameter",
                         StartsWith("Invalid parameter: RedrivePolicy: failed "
                                    "to parse JSON.")));
  EXPECT_THAT(SetSub(sub, "FilterPolicyScope", "RandomValue"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: FilterPolicyScope: Invalid value "
                         "[RandomValue]. Please use either MessageBody or "
                         "MessageAttributes"));
  EXPECT_THAT(SetSub(sub, "FilterPolicy", "invalid"),
              AwsErrorIs("InvalidParameter",
                         StartsWith("Invalid parameter: FilterPolicy: failed "
                                    "to parse JSON.")));
  EXPECT_THAT(SetSub(sub, "FilterPolicy",
                     R"({"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]})"),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: FilterPolicy: Filter policy can "
                         "not have more than 5 keys"));
  // The scope shows only once a policy is set.
  EXPECT_THAT(SetSub(sub, "FilterPolicyScope", "MessageBody"), IsOk());
  EXPECT_THAT(*SubAttributes(sub), Not(Contains(Key("FilterPolicyScope"))));
  EXPECT_THAT(SetSub(sub, "FilterPolicy", R"({"k":["v"]})"), IsOk());
  EXPECT_EQ((*SubAttributes(sub))["FilterPolicyScope"], "MessageBody");
  EXPECT_EQ((*SubAttributes(sub))["FilterPolicy"], R"({"k":["v"]})");
  EXPECT_THAT(SetSub(sub, "FilterPolicy", ""), IsOk());
  EXPECT_THAT(*SubAttributes(sub), Not(Contains(Key("FilterPolicy"))));
  EXPECT_THAT(SetSub(topic_ + ":00000000-0000-0000-0000-000000000000",
                     "RawMessageDelivery", "true"),
              AwsErrorIs("NotFound", "Subscription does not exist"));
}

TEST_P(SnsSubscriptionsTest, RawDeliveryNeedsASupportingProtocol) {
  EXPECT_THAT(
      Subscribe(topic_, "email", "a@b.c", {{"RawMessageDelivery", "true"}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Attributes Reason: Delivery protocol "
                 "[email] does not support raw message delivery."));
}

TEST_P(SnsSubscriptionsTest, FilterPolicyQuotaOnlyInStrictMode) {
  for (int i = 0; i < 201; ++i) {
    ASSERT_THAT(Subscribe(topic_, "sqs", ArnOf(absl::StrCat("q", i)),
                          {{"FilterPolicy", R"({"k":["v"]})"}}),
                IsOk());
  }
  OpenBroker({.enabled = true});
  FERRY_ASSERT_OK_AND_ASSIGN(std::string t, CreateTopic("strict"));
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(Subscribe(t, "sqs", ArnOf(absl::StrCat("q", i)),
                          {{"FilterPolicy", R"({"k":["v"]})"}}),
                IsOk());
  }
  EXPECT_THAT(Subscribe(t, "sqs", ArnOf("one-more"),
                        {{"FilterPolicy", R"({"k":["v"]})"}}),
              AwsErrorIs("FilterPolicyLimitExceeded"));
  // Without a policy the subscription is not counted.
  EXPECT_THAT(Subscribe(t, "sqs", ArnOf("one-more")), IsOk());
}

TEST_P(SnsSubscriptionsTest, FifoTopicsTakeOnlyQueues) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string fifo,
                             CreateTopic("f.fifo", {{"FifoTopic", "true"}}));
  EXPECT_THAT(Subscribe(fifo, "email", "a@b.c"),
              AwsErrorIs("InvalidParameter"));
  EXPECT_THAT(Subscribe(fifo, "sqs", ArnOf("q.fifo")), IsOk());
  EXPECT_THAT(Subscribe(fifo, "sqs", ArnOf("standard")), IsOk());
  EXPECT_THAT(
      Subscribe(fifo, "sqs", ArnOf("q2.fifo"),
                {{"RedrivePolicy", absl::StrCat(R"({"deadLetterTargetArn":")",
                                                ArnOf("dlq"), R"("})")}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Attributes Reason: RedrivePolicy: must "
                 "use a FIFO queue as DLQ for a FIFO Subscription to a FIFO "
                 "Topic."));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SnsSubscriptionsTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
