// The gateway's test-support surface: the /_ferry/ admin endpoints (reset,
// manual clock, faults with probability and latency, recorded requests,
// provisioning) and Gateway::Reset. Time is a ManualClock; no test sleeps
// (injected latency is cut short by Stop, or is long enough that "not yet
// answered" cannot be a timing accident).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/memory_backend.h"
#include "ferry/provision.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "gateway_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http_test_client.h"

namespace ferry {
namespace {

using gateway_testing::Client;
namespace http = gateway_testing::http;
using gateway_testing::Json;
using gateway_testing::Response;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class AdminTest : public gateway_testing::GatewayFixture {
 protected:
  void SetUp() override {
    GatewayOptions o;
    o.admin_endpoints = true;
    o.record_requests = true;
    o.manual_clock = &clock_;
    o.fault_seed = 42;
    StartGateway(o);
  }

  Response Admin(http::verb method, const std::string& path,
                 const std::string& body = "") {
    Client c(port_);
    return c.Send(method, path, {{"Content-Type", "application/json"}}, body);
  }
};

TEST_F(AdminTest, EndpointsAreOffUnlessAskedFor) {
  StartGateway({});
  Response r = Admin(http::verb::post, "/_ferry/reset");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.JsonBody()["error"].get<std::string>(),
              HasSubstr("admin endpoints are off"));
  EXPECT_EQ(Admin(http::verb::get, "/_ferry/health").status, 200);
}

TEST_F(AdminTest, UnknownPathsAndWrongMethods) {
  EXPECT_EQ(Admin(http::verb::get, "/_ferry/nothing").status, 404);
  Response r = Admin(http::verb::get, "/_ferry/reset");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
  EXPECT_EQ(Admin(http::verb::post, "/_ferry/faults", "[1]").status, 400);
}

TEST_F(AdminTest, ResetForgetsQueuesFaultsAndRecordsThenRunsOnReset) {
  GatewayOptions o;
  o.admin_endpoints = true;
  o.record_requests = true;
  o.on_reset = [](Broker& b) {
    return ProvisionFromJson(b, R"({"queues": [{"name": "always"}]})").status();
  };
  StartGateway(o);
  Client c(port_);
  CreateQueueJson(c, "temporary");
  gateway_->InjectFault({.error = "InternalFailure"}, Gateway::kUntilCleared);
  ASSERT_EQ(Admin(http::verb::post, "/_ferry/reset").status, 200);
  EXPECT_EQ(Admin(http::verb::get, "/_ferry/faults").JsonBody()["faults"],
            Json::array());
  EXPECT_TRUE(gateway_->RecordedRequests().empty());
  Response listed = c.Json10("ListQueues", Json::object());
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_THAT(listed.JsonBody()["QueueUrls"], SizeIs(1));
  EXPECT_THAT(listed.JsonBody()["QueueUrls"][0].get<std::string>(),
              HasSubstr("/always"));
  // The same through the C++ API.
  CreateQueueJson(c, "again");
  ASSERT_TRUE(gateway_->Reset().ok());
  EXPECT_THAT(c.Json10("ListQueues", Json::object()).JsonBody()["QueueUrls"],
              SizeIs(1));
}

TEST_F(AdminTest, ClockAdvanceExpiresVisibilityAtOnce) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "clocked");
  c.Json10("SendMessage", {{"QueueUrl", url}, {"MessageBody", "m"}});
  Response got = c.Json10("ReceiveMessage",
                          {{"QueueUrl", url}, {"VisibilityTimeout", 30}});
  ASSERT_THAT(got.JsonBody()["Messages"], SizeIs(1));
  Response before = Admin(http::verb::get, "/_ferry/clock");
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.JsonBody()["manual"], true);
  const int64_t t0 = before.JsonBody()["epoch_ms"];
  EXPECT_EQ(before.JsonBody()["time"], "2026-01-01T00:00:00.000Z");

  Response advanced =
      Admin(http::verb::post, "/_ferry/clock/advance", R"({"seconds": 29})");
  ASSERT_EQ(advanced.status, 200) << advanced.body;
  EXPECT_EQ(advanced.JsonBody()["epoch_ms"], t0 + 29000);
  EXPECT_FALSE(c.Json10("ReceiveMessage", {{"QueueUrl", url}})
                   .JsonBody()
                   .contains("Messages"));
  ASSERT_EQ(Admin(http::verb::post, "/_ferry/clock/advance",
                  R"({"milliseconds": 1000})")
                .status,
            200);
  EXPECT_THAT(
      c.Json10("ReceiveMessage", {{"QueueUrl", url}}).JsonBody()["Messages"],
      SizeIs(1));

  Response set = Admin(http::verb::post, "/_ferry/clock/set",
                       absl::StrCat(R"({"epoch_ms": )", t0 + 3600000, "}"));
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(clock_.Now(), absl::FromUnixMillis(t0 + 3600000));
  EXPECT_EQ(Admin(http::verb::post, "/_ferry/clock/set",
                  absl::StrCat(R"({"epoch_ms": )", t0, "}"))
                .status,
            400);
  EXPECT_EQ(
      Admin(http::verb::post, "/_ferry/clock/advance", R"({"seconds": -1})")
          .status,
      400);
  EXPECT_EQ(
      Admin(http::verb::post, "/_ferry/clock/advance", R"({"minutes": 1})")
          .status,
      400);
}

TEST_F(AdminTest, ClockEndpointsNeedAManualClock) {
  GatewayOptions o;
  o.admin_endpoints = true;
  StartGateway(o);
  EXPECT_EQ(Admin(http::verb::get, "/_ferry/clock").JsonBody()["manual"],
            false);
  Response r =
      Admin(http::verb::post, "/_ferry/clock/advance", R"({"seconds": 1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.JsonBody()["error"].get<std::string>(),
              HasSubstr("manual clock"));
}

TEST_F(AdminTest, FaultsInjectedOverHttpAreListedUsedAndCleared) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "faulty");
  Response added = Admin(http::verb::post, "/_ferry/faults",
                         R"({"operation": "SendMessage",
                             "error": "RequestThrottled", "times": 2})");
  ASSERT_EQ(added.status, 200) << added.body;
  Json listed = Admin(http::verb::get, "/_ferry/faults").JsonBody()["faults"];
  ASSERT_THAT(listed, SizeIs(1));
  EXPECT_EQ(listed[0]["times"], 2);
  EXPECT_EQ(listed[0]["probability"], 1.0);
  Json send = {{"QueueUrl", url}, {"MessageBody", "m"}};
  EXPECT_EQ(c.Json10("SendMessage", send).Header("x-amzn-query-error"),
            "RequestThrottled;Sender");
  EXPECT_EQ(
      Admin(http::verb::get, "/_ferry/faults").JsonBody()["faults"][0]["times"],
      1);
  EXPECT_EQ(c.Json10("SendMessage", send).status, 400);
  EXPECT_EQ(c.Json10("SendMessage", send).status, 200);

  ASSERT_EQ(Admin(http::verb::post, "/_ferry/faults",
                  R"({"error": "ServiceUnavailable", "times": -1})")
                .status,
            200);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.Json10("ListQueues", Json::object()).status, 503);
  }
  EXPECT_EQ(Admin(http::verb::delete_, "/_ferry/faults").status, 200);
  EXPECT_EQ(c.Json10("ListQueues", Json::object()).status, 200);

  Response bad = Admin(http::verb::post, "/_ferry/faults",
                       R"({"error": "X", "probabilty": 0.5})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.JsonBody()["error"].get<std::string>(),
              HasSubstr("fault.probabilty: unknown key"));
  bad = Admin(http::verb::post, "/_ferry/faults", R"({"probability": 2})");
  EXPECT_THAT(bad.JsonBody()["error"].get<std::string>(),
              HasSubstr("fault.probability: expected a number from 0 to 1"));
}

TEST_F(AdminTest, AFaultWithAProbabilityHitsAboutThatShare) {
  Client c(port_);
  gateway_->InjectFault(
      {.operation = "ListQueues", .error = "InternalFailure", .probability = 0},
      Gateway::kUntilCleared);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(c.Json10("ListQueues", Json::object()).status, 200);
  }
  gateway_->ClearFaults();
  gateway_->InjectFault({.operation = "ListQueues",
                         .error = "InternalFailure",
                         .probability = 0.3},
                        Gateway::kUntilCleared);
  int failed = 0;
  for (int i = 0; i < 400; ++i) {
    failed += c.Json10("ListQueues", Json::object()).status == 500;
  }
  // Seeded (fault_seed 42), so the count is the same every run; the bounds
  // are those of any fair draw with p = 0.3 (about 6 standard deviations).
  EXPECT_GT(failed, 65);
  EXPECT_LT(failed, 175);
}

TEST_F(AdminTest, LatencyHoldsNoThreadAndStopAnswersAtOnce) {
  GatewayOptions o;
  o.io_threads = 1;  // one event-loop thread: a blocked one would show
  o.admin_endpoints = true;
  StartGateway(o);
  Client c(port_);
  std::string url = CreateQueueJson(c, "slow");
  gateway_->InjectFault(
      {.operation = "SendMessage", .latency = absl::Hours(1)});
  std::atomic<int> slow_status{0};
  std::thread slow([&] {
    Client s(port_);
    slow_status =
        s.Json10("SendMessage", {{"QueueUrl", url}, {"MessageBody", "late"}})
            .status;
  });
  // Until the gateway has taken the fault, the request may not even have
  // arrived, and Stop would then refuse its connection instead of cutting
  // its wait short.
  while (!broker_->faults().empty()) std::this_thread::yield();
  // While that request waits out its hour, others are served.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(c.Json10("GetQueueUrl", {{"QueueName", "slow"}}).status, 200);
  }
  EXPECT_EQ(slow_status.load(), 0);
  // Stop cuts the wait short; the request is then served normally.
  gateway_->Stop();
  slow.join();
  EXPECT_EQ(slow_status.load(), 200);
  auto counts = broker_->sqs().GetQueueAttributes(
      {},
      {.queue_url = url, .attribute_names = {"ApproximateNumberOfMessages"}});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->attributes["ApproximateNumberOfMessages"], "1");
}

TEST_F(AdminTest, ALatencyFaultWithAnErrorAnswersTheErrorAfterTheWait) {
  Client c(port_);
  gateway_->InjectFault(
      {.error = "RequestThrottled", .latency = absl::Milliseconds(1)});
  Response r = c.Json10("ListQueues", Json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("x-amzn-query-error"), "RequestThrottled;Sender");
  EXPECT_EQ(c.Json10("ListQueues", Json::object()).status, 200);
}

TEST_F(AdminTest, RecordedRequestsAsJsonAndBounded) {
  GatewayOptions o;
  o.admin_endpoints = true;
  o.record_requests = true;
  o.max_recorded_requests = 3;
  StartGateway(o);
  Client c(port_);
  for (int i = 0; i < 5; ++i) CreateQueueJson(c, absl::StrCat("q", i));
  Response r = Admin(http::verb::get, "/_ferry/requests");
  ASSERT_EQ(r.status, 200);
  Json requests = r.JsonBody()["requests"];
  ASSERT_THAT(requests, SizeIs(3));
  EXPECT_EQ(requests[0]["operation"], "CreateQueue");
  EXPECT_THAT(requests[0]["body"].get<std::string>(), HasSubstr("\"q2\""));
  EXPECT_EQ(requests[2]["http_status"], 200);
  EXPECT_EQ(requests[2]["headers"]["x-amz-target"], "AmazonSQS.CreateQueue");
  EXPECT_EQ(Admin(http::verb::delete_, "/_ferry/requests").status, 200);
  EXPECT_EQ(Admin(http::verb::get, "/_ferry/requests").JsonBody()["requests"],
            Json::array());
}

TEST_F(AdminTest, ProvisionCreatesQueuesWithUrlsOfThisServer) {
  Response r = Admin(http::verb::post, "/_ferry/provision",
                     R"({"queues": [{"name": "jobs", "attributes": {
                          "RedrivePolicy": {"deadLetterTargetArn": "dlq",
                                            "maxReceiveCount": 2}}},
                        {"name": "dlq"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  Json queues = r.JsonBody()["queues"];
  ASSERT_THAT(queues, SizeIs(2));
  EXPECT_EQ(queues[0]["name"], "dlq");
  EXPECT_EQ(queues[1]["queue_url"],
            absl::StrCat("http://127.0.0.1:", port_, "/000000000000/jobs"));
  Response bad =
      Admin(http::verb::post, "/_ferry/provision", R"({"queues": [{}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.JsonBody()["error"].get<std::string>(),
              HasSubstr("queues[0].name: required"));

  // Topics, subscriptions and streams too.
  r = Admin(http::verb::post, "/_ferry/provision",
            R"({"topics": [{"name": "events"}],
                "subscriptions": [{"topic": "events", "protocol": "sqs",
                                   "endpoint": "jobs"}],
                "streams": [{"name": "clicks", "shard_count": 2}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.JsonBody()["topics"][0]["topic_arn"],
            "arn:aws:sns:us-east-1:000000000000:events");
  EXPECT_EQ(r.JsonBody()["subscriptions"][0]["endpoint"],
            "arn:aws:sqs:us-east-1:000000000000:jobs");
  EXPECT_EQ(r.JsonBody()["streams"][0]["shard_count"], 2);
}

TEST_F(AdminTest, TheGatewaysFaultsAreTheBrokers) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "shared");
  Json send = {{"QueueUrl", url}, {"MessageBody", "m"}};
  // Injected on the broker, hit over the wire, once.
  broker_->faults().Inject(
      {.operation = "SendMessage", .error = "RequestThrottled"}, 1);
  EXPECT_EQ(c.Json10("SendMessage", send).Header("x-amzn-query-error"),
            "RequestThrottled;Sender");
  EXPECT_EQ(c.Json10("SendMessage", send).status, 200);
  // Injected over HTTP, hit by a native call.
  ASSERT_EQ(Admin(http::verb::post, "/_ferry/faults",
                  R"({"operation": "ListQueues", "error": "InternalFailure"})")
                .status,
            200);
  ASSERT_EQ(broker_->faults().Rules().size(), 1u);
  absl::Status native = broker_->sqs().ListQueues({}, {}).status();
  EXPECT_EQ(native.code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(broker_->faults().empty());
  // A latency-only fault taken by the gateway is not applied again by the
  // operation (which would block on the manual clock).
  gateway_->InjectFault(
      {.operation = "SendMessage", .latency = absl::Milliseconds(1)},
      Gateway::kUntilCleared);
  EXPECT_EQ(c.Json10("SendMessage", send).status, 200);
}

}  // namespace
}  // namespace ferry
