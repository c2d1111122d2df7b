// SNS through a running Gateway over loopback: routing by credential scope,
// Version and action (SQS unaffected), fan-out to a queue read through the
// SQS JSON protocol, the signing certificate, faults and recording shared
// with SQS, /metrics, and an oversized SNS request refused in SNS's XML.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/testing/manual_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http_test_client.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

using gateway_testing::Client;
using gateway_testing::Response;
using gateway_testing::UrlEncode;
using ::testing::HasSubstr;
using Json = nlohmann::json;
namespace http = boost::beast::http;

constexpr char kSnsNs[] = "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"";

std::string Between(const std::string& s, const std::string& tag) {
  size_t a = s.find("<" + tag + ">");
  size_t b = s.find("</" + tag + ">");
  if (a == std::string::npos || b == std::string::npos) return "";
  a += tag.size() + 2;
  return s.substr(a, b - a);
}

class SnsGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions bo;
    bo.clock = &clock_;
    broker_ = *Broker::Open(bo, NewMemoryBackend());
    GatewayOptions options;
    options.record_requests = true;
    options.max_sqs_body_bytes = 64 << 10;
    gateway_ = std::make_unique<Gateway>(*broker_, options);
    ASSERT_TRUE(gateway_->Start().ok());
    client_ = std::make_unique<Client>(gateway_->port());
  }
  void TearDown() override { gateway_->Stop(); }

  // A request signed (in form only) for `service` in `region`.
  Response Signed(const std::string& service, const std::string& form,
                  const std::string& region = "us-east-1") {
    return client_->Send(
        http::verb::post, "/",
        {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
         {"Authorization",
          absl::StrCat("AWS4-HMAC-SHA256 Credential=test/20260101/", region,
                       "/", service,
                       "/aws4_request, SignedHeaders=host, Signature=00")}},
        form);
  }

  ferry_testing::ManualClock clock_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<Client> client_;
};

TEST_F(SnsGatewayTest, RoutedByScopeVersionOrAction) {
  Response r = Signed("sns", "Action=CreateTopic&Name=a", "eu-west-1");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(kSnsNs));
  EXPECT_EQ(Between(r.body, "TopicArn"),
            "arn:aws:sns:eu-west-1:000000000000:a");
  EXPECT_FALSE(r.headers["x-amzn-requestid"].empty());

  r = client_->Query("Action=ListTopics&Version=2010-03-31");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<ListTopicsResponse"));
  r = client_->Query("Action=CreateTopic&Name=b");
  EXPECT_THAT(r.body, HasSubstr("<CreateTopicResponse"));
  // SQS's Query and JSON protocols are unaffected.
  r = client_->Query("Action=CreateQueue&QueueName=q&Version=2012-11-05");
  EXPECT_THAT(r.body, HasSubstr("<CreateQueueResponse"));
  r = Signed("sqs", "Action=ListQueues");
  EXPECT_THAT(r.body, HasSubstr("<ListQueuesResponse"));
  r = client_->Json10("ListQueues", Json::object());
  EXPECT_EQ(r.status, 200) << r.body;

  r = Signed("sns",
             "Action=GetTopicAttributes&TopicArn=arn:aws:sns:us-east-"
             "1:000000000000:none");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr(absl::StrCat("<ErrorResponse ", kSnsNs,
                                             "><Error><Type>Sender</Type>"
                                             "<Code>NotFound</Code>")));
}

TEST_F(SnsGatewayTest, FanOutToAQueueReadOverSqsJson) {
  Response r = client_->Json10("CreateQueue", {{"QueueName", "inbox"}});
  const std::string url = Json::parse(r.body)["QueueUrl"];
  const std::string topic =
      Between(Signed("sns", "Action=CreateTopic&Name=t").body, "TopicArn");
  r = Signed("sns",
             absl::StrCat("Action=Subscribe&TopicArn=", UrlEncode(topic),
                          "&Protocol=sqs&Endpoint=",
                          UrlEncode("arn:aws:sqs:us-east-1:000000000000:inbox"),
                          "&Attributes.entry.1.key=RawMessageDelivery"
                          "&Attributes.entry.1.value=true"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = Signed("sns",
             absl::StrCat("Action=Publish&TopicArn=", UrlEncode(topic),
                          "&Message=", UrlEncode("hi <there> & you"),
                          "&MessageAttributes.entry.1.Name=k"
                          "&MessageAttributes.entry.1.Value.DataType=String"
                          "&MessageAttributes.entry.1.Value.StringValue=v"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = client_->Json10("ReceiveMessage",
                      {{"QueueUrl", url}, {"MessageAttributeNames", {"All"}}});
  Json got = Json::parse(r.body);
  ASSERT_EQ(got["Messages"].size(), 1u) << r.body;
  EXPECT_EQ(got["Messages"][0]["Body"], "hi <there> & you");
  EXPECT_EQ(got["Messages"][0]["MessageAttributes"]["k"]["StringValue"], "v");

  r = client_->Send(http::verb::get, "/SimpleNotificationService-abc.pem", {},
                    "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Sns::SigningCertificatePem());

  std::string metrics = client_->Send(http::verb::get, "/metrics", {}, "").body;
  EXPECT_THAT(metrics, HasSubstr("ferry_gateway_requests_total{service=\"sns\","
                                 "operation=\"Publish\",status=\"200\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("sns_NumberOfMessagesPublished_total{account="
                                 "\"000000000000\",region=\"us-east-1\","
                                 "topic=\"t\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("ferry_gateway_requests_total{service=\"sqs\","
                                 "operation=\"ReceiveMessage\""));
}

TEST_F(SnsGatewayTest, FaultsAndRecordingCoverSns) {
  gateway_->InjectFault({.operation = "Publish", .error = "Throttled"}, 1);
  gateway_->InjectFault({.error = "ServiceUnavailable"}, 1);
  Response r = Signed("sns", "Action=ListTopics");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("<Type>Receiver</Type>"));
  r = Signed("sns",
             "Action=Publish&TopicArn=arn:aws:sns:us-east-1:"
             "000000000000:x&Message=m");
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(r.body, HasSubstr("<Code>Throttled</Code>"));
  EXPECT_THAT(r.body, HasSubstr(kSnsNs));

  std::vector<RecordedRequest> records = gateway_->RecordedRequests();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].service, "sns");
  EXPECT_EQ(records[0].protocol, "query");
  EXPECT_EQ(records[0].operation, "ListTopics");
  EXPECT_EQ(records[0].http_status, 503);
  EXPECT_EQ(records[1].operation, "Publish");
  EXPECT_EQ(records[1].error_code, "Throttled");
  EXPECT_EQ(records[1].region, "us-east-1");
}

TEST_F(SnsGatewayTest, OversizedSnsRequestRefusedInSnsXml) {
  Response r = Signed("sns", absl::StrCat("Action=Publish&Message=",
                                          std::string(70 << 10, 'x')));
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr(kSnsNs));
  EXPECT_THAT(r.body, HasSubstr("<Code>RequestEntityTooLarge</Code>"));
}

}  // namespace
}  // namespace ferry
