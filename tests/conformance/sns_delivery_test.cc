// SNS delivery beyond queues' defaults: queue policies (the supported subset,
// denials counted), in-process functions (executor, retries on the clock,
// dead-letter queue), delivery sinks (email, email-json, sms, application),
// platform applications and endpoints, subscription dead-letter queues.
// Reference: sns.md §1.12, §3.1, §3.4, §3.5; issue 4 "Delivery".

#include <string>
#include <vector>

#include "tests/conformance/sns_fixture.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

class SnsDeliveryTest : public SnsTest {
 protected:
  void SetUp() override {
    SnsTest::SetUp();
    FERRY_ASSERT_OK_AND_ASSIGN(topic_, CreateTopic("t"));
  }
  ferry::TopicStats Stats() {
    absl::StatusOr<ferry::Topic> t = broker().GetTopic("t");
    EXPECT_TRUE(t.ok());
    return *t->Stats();
  }
  std::string QueuePolicy(const std::string& queue, const std::string& effect,
                          const std::string& principal,
                          const std::string& action,
                          const std::string& condition) {
    return absl::StrCat(R"({"Version":"2012-10-17","Statement":[{"Effect":")",
                        effect, R"(","Principal":)", principal,
                        R"(,"Action":")", action, R"(","Resource":")",
                        ArnOf(queue), R"(")", condition, "}]}");
  }
  std::string topic_;
};

TEST_P(SnsDeliveryTest, QueuePolicySubset) {
  struct Case {
    std::string policy;
    bool delivered;
  };
  const std::string cond = absl::StrCat(
      R"(,"Condition":{"ArnEquals":{"aws:SourceArn":")", topic_, R"("}})");
  const std::string like = absl::StrCat(
      R"(,"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:)", kAccount,
      R"(:t"}})");
  const std::string other =
      R"(,"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:1:x"}})";
  std::vector<Case> cases = {
      {"", true},
      {QueuePolicy("q", "Allow", R"({"Service":"sns.amazonaws.com"})",
                   "sqs:SendMessage", cond),
       true},
      {QueuePolicy("q", "Allow", R"("*")", "sqs:*", ""), true},
      {QueuePolicy("q", "Allow", R"({"AWS":"*"})", "*", like), true},
      {QueuePolicy("q", "Allow", R"({"Service":"sns.amazonaws.com"})",
                   "sqs:SendMessage", other),
       false},
      {QueuePolicy("q", "Deny", R"("*")", "sqs:SendMessage", ""), false},
      {QueuePolicy("q", "Allow", R"({"AWS":"arn:aws:iam::1:root"})",
                   "sqs:SendMessage", ""),
       false},
      {QueuePolicy("q", "Allow", R"("*")", "sqs:ReceiveMessage", ""), false},
      // Outside the subset: denies.
      {QueuePolicy(
           "q", "Allow", R"("*")", "sqs:SendMessage",
           R"(,"Condition":{"StringEquals":{"aws:SourceAccount":"1"}})"),
       false},
  };
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      QueueSubscribedTo(topic_, "q", {{"RawMessageDelivery", "true"}}));
  int64_t denied = 0;
  for (const Case& c : cases) {
    ASSERT_THAT(SetAttributes(url, {{"Policy", c.policy}}), IsOk()) << c.policy;
    ASSERT_THAT(Publish(topic_, "m"), IsOk());
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(SizeIs(c.delivered ? 1 : 0)))
        << c.policy;
    if (!c.delivered) ++denied;
    EXPECT_EQ(Stats().denied_by_queue_policy, denied) << c.policy;
  }
}

TEST_P(SnsDeliveryTest, FanOutIsOneAtomicAppend) {
  std::vector<std::string> urls;
  for (int i = 0; i < 5; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(
        std::string url, QueueSubscribedTo(topic_, absl::StrCat("q", i),
                                           {{"RawMessageDelivery", "true"}}));
    urls.push_back(url);
  }
  ASSERT_THAT(Publish(topic_, "fan"), IsOk());
  for (const std::string& url : urls) {
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("fan")));
  }
  EXPECT_EQ(Stats().delivered_to_queues, 5);
  // A queue deleted after subscribing: the others still receive.
  ASSERT_THAT(sqs().DeleteQueue(ctx_, {.queue_url = urls[2]}), IsOk());
  ASSERT_THAT(Publish(topic_, "again"), IsOk());
  EXPECT_THAT(ReceiveBodies(urls[0]), IsOkAndHolds(ElementsAre("again")));
  EXPECT_EQ(Stats().failed, 1);
}

TEST_P(SnsDeliveryTest, FunctionsRunOnTheExecutorWithRetries) {
  std::vector<ferry::TopicNotification> calls;
  int failures_left = 5;
  ASSERT_THAT(
      broker().RegisterFunction("handler",
                                [&](const ferry::TopicNotification& n) {
                                  calls.push_back(n);
                                  if (failures_left > 0) {
                                    --failures_left;
                                    return absl::UnavailableError("busy");
                                  }
                                  return absl::OkStatus();
                                }),
      IsOk());
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string sub, Subscribe(topic_, "lambda",
                                 absl::StrCat("arn:aws:lambda:", kRegion, ":",
                                              kAccount, ":function:handler")));
  EXPECT_THAT(sub, StartsWith(topic_));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SnsPublishResult r,
      Publish(topic_, "event", {{"n", NumberAttr("5")}}));
  EXPECT_THAT(calls, IsEmpty());  // nothing runs before the executor does
  executor_.RunAll();
  // The first attempt and three immediate retries.
  ASSERT_THAT(calls, SizeIs(4));
  EXPECT_EQ(calls[0].message, "event");
  EXPECT_EQ(calls[0].message_id, r.message_id);
  EXPECT_EQ(calls[0].topic_arn, topic_);
  EXPECT_EQ(calls[0].subscription_arn, sub);
  EXPECT_EQ(calls[0].attributes.at("n").data_type, "String");
  EXPECT_EQ(calls[3].attempt, 4);
  // The next retries wait on the clock.
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_THAT(calls, SizeIs(4));
  AdvanceSeconds(1);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_THAT(calls, SizeIs(5));
  AdvanceSeconds(1);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  ASSERT_THAT(calls, SizeIs(6));
  EXPECT_EQ(Stats().delivered_to_functions, 1);
  EXPECT_EQ(Stats().failed, 5);

  // The native level subscribes a function by name.
  absl::StatusOr<ferry::Topic> t = broker().GetTopic("t");
  ASSERT_THAT(t->SubscribeFunction("handler"), IsOk());
}

TEST_P(SnsDeliveryTest, FunctionFailuresReachTheDeadLetterQueue) {
  ASSERT_THAT(CreateQueue("dlq"), IsOk());
  ASSERT_THAT(broker().RegisterFunction("broken",
                                        [](const ferry::TopicNotification&) {
                                          return absl::InternalError("always");
                                        }),
              IsOk());
  ASSERT_THAT(
      Subscribe(topic_, "lambda",
                absl::StrCat("arn:aws:lambda:", kRegion, ":", kAccount,
                             ":function:broken"),
                {{"RedrivePolicy", absl::StrCat(R"({"deadLetterTargetArn":")",
                                                ArnOf("dlq"), R"("})")}}),
      IsOk());
  ASSERT_THAT(Publish(topic_, "lost"), IsOk());
  executor_.RunAll();
  // Drive the clock through every retry (a bounded loop).
  for (int i = 0; i < 40 && Stats().dead_lettered == 0; ++i) {
    AdvanceSeconds(20);
    ASSERT_THAT(broker().RunMaintenance(), IsOk());
    executor_.RunAll();
  }
  // AWS retries an AWS-managed endpoint for 23 days; after 40 steps of 20 s
  // it is still retrying.
  EXPECT_EQ(Stats().dead_lettered, 0);
  EXPECT_GT(Stats().failed, 20);
}

TEST_P(SnsDeliveryTest, SqsDeliveryFailureGoesToTheDeadLetterQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  ASSERT_THAT(
      Subscribe(topic_, "sqs", ArnOf("never-created"),
                {{"RedrivePolicy", absl::StrCat(R"({"deadLetterTargetArn":")",
                                                ArnOf("dlq"), R"("})")}}),
      IsOk());
  ASSERT_THAT(Publish(topic_, "undeliverable"), IsOk());
  std::vector<Json> bodies = ReceiveJson(dlq);
  ASSERT_THAT(bodies, SizeIs(1));
  EXPECT_EQ(bodies[0]["Message"], "undeliverable");
  EXPECT_EQ(Stats().dead_lettered, 1);
}

TEST_P(SnsDeliveryTest, SinksReceiveEmailSmsAndJson) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string sms,
                             Subscribe(topic_, "sms", "+15551234567"));
  executor_.RunAll();
  ASSERT_THAT(Subscribe(topic_, "email-json", "j@example.com"), IsOk());
  executor_.RunAll();
  std::vector<ferry::SinkDelivery> confirmations = sns().RecordedDeliveries();
  ASSERT_THAT(confirmations, SizeIs(1));
  ASSERT_THAT(sns().ConfirmSubscription(
                  ctx_, {.topic_arn = topic_, .token = confirmations[0].token}),
              IsOk());
  sns().ClearRecordedDeliveries();
  ASSERT_THAT(
      sns().Publish(ctx_, {.topic_arn = topic_,
                           .message = R"({"default":"d","sms":"short"})",
                           .subject = "S",
                           .message_structure = "json"}),
      IsOk());
  executor_.RunAll();
  std::vector<ferry::SinkDelivery> got = sns().RecordedDeliveries();
  ASSERT_THAT(got, SizeIs(2));
  std::map<std::string, ferry::SinkDelivery> by;
  for (const auto& d : got) by[d.protocol] = d;
  EXPECT_EQ(by["sms"].body, "short");
  EXPECT_EQ(by["sms"].subscription_arn, sms);
  Json env = Json::parse(by["email-json"].body);
  EXPECT_EQ(env["Message"], "d");
  EXPECT_EQ(env["Subject"], "S");
  EXPECT_EQ(Stats().delivered_to_sinks, 2);

  // A direct publish to a phone number.
  sns().ClearRecordedDeliveries();
  ASSERT_THAT(
      sns().Publish(ctx_, {.phone_number = "+15550000000", .message = "txt"}),
      IsOk());
  executor_.RunAll();
  got = sns().RecordedDeliveries();
  ASSERT_THAT(got, SizeIs(1));
  EXPECT_EQ(got[0].endpoint, "+15550000000");
  EXPECT_EQ(got[0].body, "txt");
}

class CountingSink : public ferry::DeliverySink {
 public:
  absl::Status Deliver(const ferry::SinkDelivery& d) override {
    ++count;
    return fail ? absl::UnavailableError("down") : absl::OkStatus();
  }
  int count = 0;
  bool fail = true;
};

TEST_P(SnsDeliveryTest, CustomSinkFailuresRetryOnTheCustomerPolicy) {
  auto sink = std::make_shared<CountingSink>();
  sns().SetDeliverySink(sink);
  ASSERT_THAT(Subscribe(topic_, "sms", "+15551234567"), IsOk());
  ASSERT_THAT(Publish(topic_, "m"), IsOk());
  executor_.RunAll();
  EXPECT_EQ(sink->count, 1);  // no immediate retries for SMS
  AdvanceSeconds(10);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_EQ(sink->count, 2);
  sink->fail = false;
  AdvanceSeconds(10);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_EQ(sink->count, 3);
  EXPECT_EQ(Stats().delivered_to_sinks, 1);
  sns().SetDeliverySink(nullptr);
}

TEST_P(SnsDeliveryTest, PlatformApplicationsAndEndpoints) {
  EXPECT_THAT(sns().CreatePlatformApplication(
                  ctx_, {.name = "", .platform = "GCM", .attributes = {{}}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter:  Reason: cannot be empty"));
  EXPECT_THAT(
      sns().CreatePlatformApplication(
          ctx_, {.name = "@name", .platform = "GCM", .attributes = {{}}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: @name Reason: must contain only "
                 "characters 'a'-'z', 'A'-'Z', '0'-'9', '_', '-', and "
                 "'.'"));
  EXPECT_THAT(sns().CreatePlatformApplication(
                  ctx_, {.name = "app", .platform = "AAA", .attributes = {{}}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Platform Reason: AAA is not "
                         "supported"));
  EXPECT_THAT(
      sns().CreatePlatformApplication(ctx_, {.name = "app", .platform = "GCM"}),
      AwsErrorIs("ValidationError"));
  EXPECT_THAT(
      sns().CreatePlatformApplication(
          ctx_,
          {.name = "app",
           .platform = "APNS",
           .attributes = ferry::AttributeMap{{"PlatformPrincipal", "p"}}}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Attributes Reason: PlatformPrincipal "
                 "attribute provided without PlatformCredential"));
  auto app = sns().CreatePlatformApplication(
      ctx_, {.name = "app.v1",
             .platform = "GCM",
             .attributes = ferry::AttributeMap{{"PlatformCredential", "key"}}});
  ASSERT_TRUE(app.ok()) << app.status();
  EXPECT_EQ(
      app->platform_application_arn,
      absl::StrCat("arn:aws:sns:", kRegion, ":", kAccount, ":app/GCM/app.v1"));
  const std::string app_arn = app->platform_application_arn;
  auto attrs = sns().GetPlatformApplicationAttributes(
      ctx_, {.platform_application_arn = app_arn});
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->attributes["Enabled"], "true");
  EXPECT_EQ(attrs->attributes.count("PlatformCredential"), 0u);

  auto ep = sns().CreatePlatformEndpoint(
      ctx_, {.platform_application_arn = app_arn, .token = "device-1"});
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_THAT(ep->endpoint_arn,
              StartsWith(absl::StrCat("arn:aws:sns:", kRegion, ":", kAccount,
                                      ":endpoint/GCM/app.v1/")));
  EXPECT_THAT(
      sns().CreatePlatformEndpoint(
          ctx_, {.platform_application_arn = app_arn, .token = "device-1"}),
      IsOkAndHolds(
          testing::Field(&ferry::CreatePlatformEndpointResult::endpoint_arn,
                         ep->endpoint_arn)));
  EXPECT_THAT(
      sns().CreatePlatformEndpoint(ctx_,
                                   {.platform_application_arn = app_arn,
                                    .token = "device-1",
                                    .attributes = {{"Enabled", "false"}}}),
      AwsErrorIs("InvalidParameter",
                 absl::StrCat("Invalid parameter: Token Reason: Endpoint ",
                              ep->endpoint_arn,
                              " already exists with the same Token, but "
                              "different attributes.")));
  EXPECT_THAT(sns().CreatePlatformEndpoint(
                  ctx_, {.platform_application_arn = app_arn,
                         .token = "device-2",
                         .attributes = {{"PlatformPrincipal", "x"}}}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Attributes Reason: Invalid "
                         "attribute name: PlatformPrincipal"));
  EXPECT_THAT(sns().CreatePlatformEndpoint(
                  ctx_, {.platform_application_arn = app_arn,
                         .token = "device-2",
                         .custom_user_data = std::string(2049, 'x')}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: Attributes Reason: Invalid value "
                         "for attribute: CustomUserData: must be at most 2048 "
                         "bytes long in UTF-8 encoding"));
  auto ep_attrs =
      sns().GetEndpointAttributes(ctx_, {.endpoint_arn = ep->endpoint_arn});
  ASSERT_TRUE(ep_attrs.ok());
  EXPECT_EQ(ep_attrs->attributes["Enabled"], "true");
  EXPECT_EQ(ep_attrs->attributes["Token"], "device-1");

  // Direct publish and a subscription both reach the sink.
  ASSERT_THAT(Subscribe(topic_, "application", ep->endpoint_arn), IsOk());
  ASSERT_THAT(sns().Publish(ctx_, {.target_arn = ep->endpoint_arn,
                                   .message = R"({"GCM":"{\"data\":1}"})",
                                   .message_structure = "json"}),
              IsOk());
  ASSERT_THAT(Publish(topic_, "via topic"), IsOk());
  executor_.RunAll();
  std::vector<ferry::SinkDelivery> got = sns().RecordedDeliveries();
  ASSERT_THAT(got, SizeIs(2));
  EXPECT_EQ(got[0].protocol, "application");
  EXPECT_EQ(got[0].body, R"({"data":1})");
  EXPECT_EQ(got[1].body, "via topic");

  // A disabled endpoint does not receive.
  ASSERT_THAT(
      sns().SetEndpointAttributes(ctx_, {.endpoint_arn = ep->endpoint_arn,
                                         .attributes = {{"Enabled", "false"}}}),
      IsOk());
  EXPECT_THAT(
      sns().Publish(ctx_, {.target_arn = ep->endpoint_arn, .message = "m"}),
      AwsErrorIs("EndpointDisabled", "Endpoint is disabled"));
  sns().ClearRecordedDeliveries();
  ASSERT_THAT(Publish(topic_, "not for disabled"), IsOk());
  executor_.RunAll();
  EXPECT_THAT(sns().RecordedDeliveries(), IsEmpty());

  auto list = sns().ListEndpointsByPlatformApplication(
      ctx_, {.platform_application_arn = app_arn});
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(list->endpoints, SizeIs(1));
  auto apps = sns().ListPlatformApplications(ctx_, {});
  ASSERT_TRUE(apps.ok());
  EXPECT_THAT(apps->platform_applications, SizeIs(1));

  EXPECT_THAT(
      sns().GetEndpointAttributes(
          ctx_, {.endpoint_arn = absl::StrCat("arn:aws:sns:", kRegion, ":",
                                              kAccount, ":endpoint/GCM")}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: EndpointArn Reason: Wrong number "
                 "of slashes in relative portion of the ARN."));
  EXPECT_THAT(sns().DeleteEndpoint(ctx_, {.endpoint_arn = ep->endpoint_arn}),
              IsOk());
  EXPECT_THAT(sns().DeleteEndpoint(ctx_, {.endpoint_arn = ep->endpoint_arn}),
              IsOk());
  EXPECT_THAT(
      sns().GetEndpointAttributes(ctx_, {.endpoint_arn = ep->endpoint_arn}),
      AwsErrorIs("NotFound", "Endpoint does not exist"));
  EXPECT_THAT(
      sns().Publish(ctx_, {.target_arn = ep->endpoint_arn, .message = "m"}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: TargetArn Reason: No endpoint "
                 "found for the target arn specified"));
  EXPECT_THAT(sns().DeletePlatformApplication(
                  ctx_, {.platform_application_arn = app_arn}),
              IsOk());
  EXPECT_THAT(sns().ListEndpointsByPlatformApplication(
                  ctx_, {.platform_application_arn = app_arn}),
              AwsErrorIs("NotFound", "PlatformApplication does not exist"));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SnsDeliveryTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
