// SNS catalogue persistence: topics (attributes, tags, policy),
// subscriptions (attributes, confirmation state), platform applications and
// endpoints live in the backend's key-value store, so a new broker over the
// same store sees them, and they survive a real reopen of the persistent
// fake and RocksDB stores.
// Reference: issue 4 "Persistence".

#include <filesystem>
#include <string>
#include <vector>

#include "tests/conformance/sns_fixture.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::SizeIs;

// Lets several brokers in turn use one backend instance.
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

class SnsPersistenceTest : public SnsTest {
 protected:
  void OpenOver(std::unique_ptr<ferry::Backend> backend) {
    broker_.reset();
    ferry::BrokerOptions options;
    options.clock = &clock_;
    options.ids = &ids_;
    options.executor = &executor_;
    options.default_account = kAccount;
    options.default_region = kRegion;
    auto broker = ferry::Broker::Open(options, std::move(backend));
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  // Builds a catalogue; returns the state Check() expects.
  struct Made {
    std::string topic, fifo, sub, pending_token, app, endpoint;
  };
  Made Populate() {
    Made m;
    m.topic = *CreateTopic("t", {{"DisplayName", "Shown"}}, {{"team", "a"}});
    m.fifo = *CreateTopic("f.fifo", {{"FifoTopic", "true"},
                                     {"ContentBasedDeduplication", "true"}});
    EXPECT_THAT(sns().AddPermission(ctx_, {.topic_arn = m.topic,
                                           .label = "L",
                                           .aws_account_ids = {"1"},
                                           .action_names = {"Publish"}}),
                IsOk());
    EXPECT_THAT(CreateQueue("q"), IsOk());
    m.sub = *Subscribe(
        m.topic, "sqs", ArnOf("q"),
        {{"RawMessageDelivery", "true"}, {"FilterPolicy", R"({"k":["v"]})"}});
    EXPECT_THAT(Subscribe(m.topic, "email", "a@example.com"), IsOk());
    executor_.RunAll();
    m.pending_token = sns().RecordedDeliveries().at(0).token;
    m.app =
        sns()
            .CreatePlatformApplication(
                ctx_, {.name = "app",
                       .platform = "GCM",
                       .attributes =
                           ferry::AttributeMap{{"PlatformCredential", "k"}}})
            ->platform_application_arn;
    m.endpoint =
        sns()
            .CreatePlatformEndpoint(ctx_, {.platform_application_arn = m.app,
                                           .token = "device",
                                           .custom_user_data = "data"})
            ->endpoint_arn;
    return m;
  }

  void Check(const Made& m) {
    auto topics = sns().ListTopics(ctx_, {});
    ASSERT_TRUE(topics.ok());
    EXPECT_THAT(topics->topic_arns, SizeIs(2));
    auto a = TopicAttributes(m.topic);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ((*a)["DisplayName"], "Shown");
    EXPECT_EQ((*a)["SubscriptionsConfirmed"], "1");
    EXPECT_EQ((*a)["SubscriptionsPending"], "1");
    EXPECT_EQ(Json::parse((*a)["Policy"])["Statement"].size(), 2u);
    EXPECT_EQ((*TopicAttributes(m.fifo))["ContentBasedDeduplication"], "true");
    auto tags = sns().ListTagsForResource(ctx_, {.resource_arn = m.topic});
    ASSERT_TRUE(tags.ok());
    ASSERT_THAT(tags->tags, SizeIs(1));
    EXPECT_EQ(tags->tags[0].value, "a");
    auto sa =
        sns().GetSubscriptionAttributes(ctx_, {.subscription_arn = m.sub});
    ASSERT_TRUE(sa.ok()) << sa.status();
    EXPECT_EQ(sa->attributes["FilterPolicy"], R"({"k":["v"]})");
    EXPECT_EQ(sa->attributes["RawMessageDelivery"], "true");
    // The reloaded subscription delivers with its filter.
    ASSERT_THAT(Publish(m.topic, "yes", {{"k", StringAttr("v")}}), IsOk());
    ASSERT_THAT(Publish(m.topic, "no", {{"k", StringAttr("w")}}), IsOk());
    EXPECT_THAT(ReceiveBodies(UrlOf("q")), IsOkAndHolds(ElementsAre("yes")));
    // The pending subscription can still be confirmed with its token.
    EXPECT_THAT(sns().ConfirmSubscription(
                    ctx_, {.topic_arn = m.topic, .token = m.pending_token}),
                IsOk());
    auto ep = sns().GetEndpointAttributes(ctx_, {.endpoint_arn = m.endpoint});
    ASSERT_TRUE(ep.ok()) << ep.status();
    EXPECT_EQ(ep->attributes["CustomUserData"], "data");
    auto apps = sns().ListPlatformApplications(ctx_, {});
    ASSERT_TRUE(apps.ok());
    EXPECT_THAT(apps->platform_applications, SizeIs(1));
  }
};

TEST_P(SnsPersistenceTest, ANewBrokerOverTheSameStoreSeesTheCatalogue) {
  std::shared_ptr<ferry::Backend> inner = GetParam().make();
  OpenOver(std::make_unique<SharedBackend>(inner));
  Made m = Populate();
  OpenOver(std::make_unique<SharedBackend>(inner));
  Check(m);
  broker_.reset();
}

TEST_P(SnsPersistenceTest, ResetForgetsTopics) {
  ASSERT_THAT(CreateTopic("t"), IsOk());
  ASSERT_THAT(broker().Reset(), IsOk());
  auto topics = sns().ListTopics(ctx_, {});
  ASSERT_TRUE(topics.ok());
  EXPECT_THAT(topics->topic_arns, SizeIs(0));
  EXPECT_THAT(TopicAttributes(TopicArnOf("t")),
              ferry_testing::AwsErrorIs("NotFound"));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SnsPersistenceTest,
                         testing::ValuesIn(AllBackends()), BackendName);

// A real reopen of the stores that persist.
std::vector<BackendFactory> ReopenableStores() {
  static const std::string dir =
      absl::StrCat(testing::TempDir(), "/ferry_sns_reopen_", ::getpid());
  std::vector<BackendFactory> out = {
      {"PersistentFake", [] {
         return *ferry_testing::OpenPersistentFakeBackend(
             {.path = dir + "_fake.json"});
       }}};
#if FERRY_TEST_ROCKSDB
  out.push_back({"RocksDb", [] {
                   ferry::RocksDbBackendOptions o;
                   o.path = dir + "_rocksdb";
                   o.write_buffer_bytes = 1 << 20;
                   o.block_cache_bytes = 1 << 20;
                   return *ferry::OpenRocksDbBackend(o);
                 }});
#endif
  return out;
}

class SnsReopenTest : public SnsPersistenceTest {
 protected:
  // Each test opens the store itself (twice).
  void SetUp() override {}
};

TEST_P(SnsReopenTest, CatalogueSurvivesReopen) {
  std::error_code ignored;
  std::filesystem::remove_all(
      absl::StrCat(testing::TempDir(), "/ferry_sns_reopen_", ::getpid(),
                   "_rocksdb"),
      ignored);
  std::filesystem::remove(absl::StrCat(testing::TempDir(), "/ferry_sns_reopen_",
                                       ::getpid(), "_fake.json"),
                          ignored);
  OpenOver(GetParam().make());
  Made m = Populate();
  broker_.reset();
  OpenOver(GetParam().make());
  Check(m);
  broker_.reset();
}

INSTANTIATE_TEST_SUITE_P(Reopen, SnsReopenTest,
                         testing::ValuesIn(ReopenableStores()), BackendName);

}  // namespace
}  // namespace ferry_conformance
