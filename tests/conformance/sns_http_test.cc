// SNS http/https delivery through the HttpTransport interface: the
// SubscriptionConfirmation flow, only confirmed subscriptions receive, AWS's
// headers, raw delivery, the delivery policy's retries on the clock, and the
// subscription dead-letter queue. (The transport is a fake here; the real
// HTTP client belongs to the gateway.)
// Reference: sns.md §3.3, §3.4, §3.5.

#include <string>
#include <utility>
#include <vector>

#include "tests/conformance/sns_fixture.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::IsOk;
using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;

class FakeTransport : public ferry::HttpTransport {
 public:
  absl::StatusOr<int> Post(const ferry::HttpPost& post) override {
    posts.push_back(post);
    if (no_answer) return absl::DeadlineExceededError("timeout");
    return status;
  }
  std::vector<ferry::HttpPost> posts;
  int status = 200;
  bool no_answer = false;
};

std::string Header(const ferry::HttpPost& p, const std::string& name) {
  for (const auto& [k, v] : p.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

class SnsHttpTest : public SnsTest {
 protected:
  void SetUp() override {
    SnsTest::SetUp();
    sns().SetHttpTransport(transport_);
    FERRY_ASSERT_OK_AND_ASSIGN(topic_, CreateTopic("t"));
  }
  // Subscribes `url` and confirms it with the token it was sent.
  std::string SubscribeConfirmed(const std::string& url,
                                 ferry::AttributeMap attributes = {}) {
    auto pending = Subscribe(topic_, "https", url, std::move(attributes));
    EXPECT_TRUE(pending.ok()) << pending.status();
    executor_.RunAll();
    EXPECT_FALSE(transport_->posts.empty());
    Json body = Json::parse(transport_->posts.back().body);
    auto confirmed = sns().ConfirmSubscription(
        ctx_, {.topic_arn = topic_, .token = body["Token"]});
    EXPECT_TRUE(confirmed.ok()) << confirmed.status();
    transport_->posts.clear();
    return confirmed.ok() ? confirmed->subscription_arn : "";
  }
  std::shared_ptr<FakeTransport> transport_ = std::make_shared<FakeTransport>();
  std::string topic_;
};

TEST_P(SnsHttpTest, ConfirmationFlowAndHeaders) {
  auto pending = Subscribe(topic_, "https", "https://example.com/hook");
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(*pending, "pending confirmation");
  executor_.RunAll();
  ASSERT_THAT(transport_->posts, SizeIs(1));
  const ferry::HttpPost& c = transport_->posts[0];
  EXPECT_EQ(c.url, "https://example.com/hook");
  EXPECT_EQ(Header(c, "x-amz-sns-message-type"), "SubscriptionConfirmation");
  EXPECT_EQ(Header(c, "x-amz-sns-topic-arn"), topic_);
  EXPECT_EQ(Header(c, "x-amz-sns-subscription-arn"), "<absent>");
  EXPECT_EQ(Header(c, "User-Agent"),
            "Amazon Simple Notification Service Agent");
  Json body = Json::parse(c.body);
  EXPECT_EQ(body["Type"], "SubscriptionConfirmation");
  EXPECT_EQ(body["Message"],
            absl::StrCat("You have chosen to subscribe to the topic ", topic_,
                         ".\nTo confirm the subscription, visit the "
                         "SubscribeURL included in this message."));
  EXPECT_EQ(Header(c, "x-amz-sns-message-id"), body["MessageId"]);

  // Nothing before confirmation.
  transport_->posts.clear();
  ASSERT_THAT(Publish(topic_, "early"), IsOk());
  executor_.RunAll();
  EXPECT_THAT(transport_->posts, IsEmpty());

  auto confirmed = sns().ConfirmSubscription(
      ctx_, {.topic_arn = topic_, .token = body["Token"]});
  ASSERT_TRUE(confirmed.ok());
  ASSERT_THAT(Publish(topic_, "hello"), IsOk());
  executor_.RunAll();
  ASSERT_THAT(transport_->posts, SizeIs(1));
  const ferry::HttpPost& n = transport_->posts[0];
  EXPECT_EQ(Header(n, "x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(Header(n, "x-amz-sns-subscription-arn"),
            confirmed->subscription_arn);
  EXPECT_EQ(Header(n, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(Json::parse(n.body)["Message"], "hello");
}

TEST_P(SnsHttpTest, RawDeliveryAndContentType) {
  ASSERT_THAT(
      sns().SetTopicAttributes(
          ctx_,
          {.topic_arn = topic_,
           .attribute_name = "DeliveryPolicy",
           .attribute_value =
               R"({"http":{"defaultRequestPolicy":{"headerContentType":"application/json"}}})"}),
      IsOk());
  SubscribeConfirmed("https://example.com/raw",
                     {{"RawMessageDelivery", "true"}});
  ASSERT_THAT(Publish(topic_, R"({"a":1})"), IsOk());
  executor_.RunAll();
  ASSERT_THAT(transport_->posts, SizeIs(1));
  EXPECT_EQ(transport_->posts[0].body, R"({"a":1})");
  EXPECT_EQ(Header(transport_->posts[0], "x-amz-sns-rawdelivery"), "true");
  EXPECT_EQ(Header(transport_->posts[0], "Content-Type"), "application/json");
}

TEST_P(SnsHttpTest, ServerErrorsRetryPerPolicyThenDeadLetter) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  SubscribeConfirmed(
      "https://example.com/down",
      {{"RedrivePolicy",
        absl::StrCat(R"({"deadLetterTargetArn":")", ArnOf("dlq"), R"("})")}});
  transport_->status = 503;
  ASSERT_THAT(Publish(topic_, "lost"), IsOk());
  executor_.RunAll();
  EXPECT_THAT(transport_->posts, SizeIs(1));
  // Default policy: 3 retries, 20 s apart.
  for (int retry = 1; retry <= 3; ++retry) {
    AdvanceSeconds(19);
    ASSERT_THAT(broker().RunMaintenance(), IsOk());
    executor_.RunAll();
    EXPECT_THAT(transport_->posts, SizeIs(retry));
    AdvanceSeconds(1);
    ASSERT_THAT(broker().RunMaintenance(), IsOk());
    executor_.RunAll();
    EXPECT_THAT(transport_->posts, SizeIs(retry + 1));
  }
  std::vector<Json> dead = ReceiveJson(dlq);
  ASSERT_THAT(dead, SizeIs(1));
  EXPECT_EQ(dead[0]["Message"], "lost");
}

TEST_P(SnsHttpTest, ClientErrorsAreNotRetriedAndRecoveriesSucceed) {
  SubscribeConfirmed(
      "https://example.com/flaky",
      {{"DeliveryPolicy",
        R"({"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":5,"maxDelayTarget":5}})"}});
  transport_->status = 404;  // 4xx counts as delivered (sns.md §3.3)
  ASSERT_THAT(Publish(topic_, "m1"), IsOk());
  executor_.RunAll();
  AdvanceSeconds(60);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_THAT(transport_->posts, SizeIs(1));

  transport_->posts.clear();
  transport_->no_answer = true;
  ASSERT_THAT(Publish(topic_, "m2"), IsOk());
  executor_.RunAll();
  transport_->no_answer = false;
  transport_->status = 200;
  AdvanceSeconds(5);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_THAT(transport_->posts, SizeIs(2));
  absl::StatusOr<ferry::Topic> t = broker().GetTopic("t");
  EXPECT_EQ(t->Stats()->failed, 1);
}

TEST_P(SnsHttpTest, UnsubscribeSendsAnUnsubscribeConfirmation) {
  std::string sub = SubscribeConfirmed("https://example.com/bye");
  ASSERT_THAT(sns().Unsubscribe(ctx_, {.subscription_arn = sub}), IsOk());
  executor_.RunAll();
  ASSERT_THAT(transport_->posts, SizeIs(1));
  const ferry::HttpPost& p = transport_->posts[0];
  EXPECT_EQ(Header(p, "x-amz-sns-message-type"), "UnsubscribeConfirmation");
  EXPECT_EQ(Header(p, "x-amz-sns-subscription-arn"), sub);
  Json body = Json::parse(p.body);
  EXPECT_EQ(body["Type"], "UnsubscribeConfirmation");
  EXPECT_EQ(body["Message"],
            absl::StrCat("You have chosen to deactivate subscription ", sub,
                         ".\nTo cancel this operation and restore the "
                         "subscription, visit the SubscribeURL included in "
                         "this message."));
  EXPECT_TRUE(body.contains("Token"));
  EXPECT_TRUE(body.contains("SubscribeURL"));
  EXPECT_FALSE(body.contains("UnsubscribeURL"));
}

// Lets two brokers in turn use one backend instance.
class SharedBackend final : public ferry::Backend {
 public:
  explicit SharedBackend(std::shared_ptr<ferry::Backend> inner)
      : inner_(std::move(inner)) {}
  std::string_view Name() const override { return inner_->Name(); }
  ferry::QueueStore& queues() override { return inner_->queues(); }
  ferry::KeyValueStore& kv() override { return inner_->kv(); }
  ferry::StreamStore& streams() override { return inner_->streams(); }
  absl::Status Reset() override { return inner_->Reset(); }

 private:
  std::shared_ptr<ferry::Backend> inner_;
};

TEST_P(SnsHttpTest, PendingDeliveriesSurviveANewBroker) {
  std::shared_ptr<ferry::Backend> inner = GetParam().make();
  auto open = [&] {
    broker_.reset();
    ferry::BrokerOptions options;
    options.clock = &clock_;
    options.ids = &ids_;
    options.executor = &executor_;
    options.default_account = kAccount;
    options.default_region = kRegion;
    broker_ =
        *ferry::Broker::Open(options, std::make_unique<SharedBackend>(inner));
    sns().SetHttpTransport(transport_);
  };
  open();
  FERRY_ASSERT_OK_AND_ASSIGN(topic_, CreateTopic("t"));
  SubscribeConfirmed("https://example.com/later");
  transport_->status = 500;
  ASSERT_THAT(Publish(topic_, "survivor"), IsOk());
  executor_.RunAll();
  ASSERT_THAT(transport_->posts, SizeIs(1));
  open();
  transport_->status = 200;
  AdvanceSeconds(20);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  ASSERT_THAT(transport_->posts, SizeIs(2));
  EXPECT_EQ(Json::parse(transport_->posts[1].body)["Message"], "survivor");
  // Delivered: nothing is left to retry after another restart.
  open();
  AdvanceSeconds(60);
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  EXPECT_THAT(transport_->posts, SizeIs(2));
  broker_.reset();
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SnsHttpTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
