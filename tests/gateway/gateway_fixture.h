// A test fixture that runs a Gateway on port 0 over an in-memory broker with
// a manual clock, restartable with other options within a test.
//
// Thread safety: gtest fixture; the test's thread only.
// Errors: a failed start is a fatal test failure.
#ifndef FERRY_TESTS_GATEWAY_GATEWAY_FIXTURE_H_
#define FERRY_TESTS_GATEWAY_GATEWAY_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/memory_backend.h"
#include "ferry/testing/manual_clock.h"
#include "gtest/gtest.h"
#include "http_test_client.h"

namespace ferry::gateway_testing {

class GatewayFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    if (gateway_) gateway_->Stop();
  }

  // Stops a running gateway, then starts a new broker and gateway.
  void StartGateway(GatewayOptions options) {
    if (gateway_) gateway_->Stop();
    gateway_.reset();
    broker_.reset();
    BrokerOptions bo;
    bo.clock = &clock_;
    broker_ = *Broker::Open(bo, NewMemoryBackend());
    gateway_ = std::make_unique<Gateway>(*broker_, std::move(options));
    absl::StatusOr<std::string> url = gateway_->Start();
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
    port_ = gateway_->port();
  }

  // CreateQueue over the JSON protocol; returns the queue URL.
  std::string CreateQueueJson(Client& c, const std::string& name) {
    Response r = c.Json10("CreateQueue", {{"QueueName", name}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody().value("QueueUrl", "");
  }

  ferry_testing::ManualClock clock_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Gateway> gateway_;
  std::string url_;
  uint16_t port_ = 0;
};

}  // namespace ferry::gateway_testing

#endif  // FERRY_TESTS_GATEWAY_GATEWAY_FIXTURE_H_
