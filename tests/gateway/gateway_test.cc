// The gateway over a real loopback socket: both SQS protocols, each error
// shape, oversize and malformed requests, keep-alive, many connections, long
// polls woken by a send and ended by Stop. Time is a ManualClock; no test
// sleeps.
#include "ferry/gateway.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/testing/manual_clock.h"
#include "gateway_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http_test_client.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;
using gateway_testing::Client;
using gateway_testing::Response;
using gateway_testing::UrlEncode;
using ::testing::HasSubstr;
using ::testing::Not;

class GatewayTest : public gateway_testing::GatewayFixture {
 protected:
  void SetUp() override { StartGateway({}); }
};

TEST_F(GatewayTest, StartReportsEndpointAndServesHealth) {
  EXPECT_EQ(url_, absl::StrCat("http://127.0.0.1:", port_));
  EXPECT_NE(port_, 0);
  Client c(port_);
  Response r = c.Send(http::verb::get, "/health", {}, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.JsonBody()["status"], "ok");
}

TEST_F(GatewayTest, JsonProtocolLifecycleWithExactDigests) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "q1");
  // The URL is built from the Host header.
  EXPECT_EQ(url, absl::StrCat("http://127.0.0.1:", port_, "/000000000000/q1"));

  Response sent = c.Json10(
      "SendMessage",
      {{"QueueUrl", url},
       {"MessageBody", "derp"},
       {"MessageAttributes",
        {{"timestamp",
          {{"DataType", "Number"}, {"StringValue", "1493147359900"}}}}}});
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(sent.Header("content-type"), "application/x-amz-json-1.0");
  EXPECT_FALSE(sent.Header("x-amzn-requestid").empty());
  EXPECT_EQ(sent.JsonBody()["MD5OfMessageBody"],
            "58fd9edd83341c29f1aebba81c31e257");
  EXPECT_EQ(sent.JsonBody()["MD5OfMessageAttributes"],
            "235c5c510d26fb653d073faed50ae77c");

  Response got = c.Json10("ReceiveMessage", {{"QueueUrl", url},
                                             {"MessageAttributeNames", {"All"}},
                                             {"AttributeNames", {"All"}}});
  ASSERT_EQ(got.status, 200) << got.body;
  Json m = got.JsonBody()["Messages"][0];
  EXPECT_EQ(m["Body"], "derp");
  EXPECT_EQ(m["MD5OfBody"], "58fd9edd83341c29f1aebba81c31e257");
  EXPECT_EQ(m["MD5OfMessageAttributes"], "235c5c510d26fb653d073faed50ae77c");
  EXPECT_EQ(m["MessageAttributes"]["timestamp"]["StringValue"],
            "1493147359900");
  EXPECT_EQ(m["Attributes"]["ApproximateReceiveCount"], "1");

  Response deleted =
      c.Json10("DeleteMessage",
               {{"QueueUrl", url}, {"ReceiptHandle", m["ReceiptHandle"]}});
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, "{}");

  // An empty receive has no Messages member.
  Response empty = c.Json10("ReceiveMessage", {{"QueueUrl", url}});
  EXPECT_EQ(empty.body, "{}");
}

TEST_F(GatewayTest, JsonBinaryAttributesRoundTripAsBase64) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "bin");
  // attr1 = Binary "traceparent\x1e00-..." (sqs.md §2.4 vector).
  std::string raw =
      "traceparent\x1e"
      "00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01";
  static const char kB64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < raw.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(raw[i]) << 16;
    if (i + 1 < raw.size()) v |= static_cast<uint8_t>(raw[i + 1]) << 8;
    if (i + 2 < raw.size()) v |= static_cast<uint8_t>(raw[i + 2]);
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += i + 1 < raw.size() ? kB64[(v >> 6) & 63] : '=';
    b64 += i + 2 < raw.size() ? kB64[v & 63] : '=';
  }
  Response sent =
      c.Json10("SendMessage",
               {{"QueueUrl", url},
                {"MessageBody", "b"},
                {"MessageAttributes",
                 {{"attr1", {{"DataType", "Binary"}, {"BinaryValue", b64}}}}}});
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(sent.JsonBody()["MD5OfMessageAttributes"],
            "8cbe4db156db8a94db8b801b7addb984");
  Response got =
      c.Json10("ReceiveMessage",
               {{"QueueUrl", url}, {"MessageAttributeNames", {"All"}}});
  EXPECT_EQ(got.JsonBody()["Messages"][0]["MessageAttributes"]["attr1"]
                          ["BinaryValue"],
            b64);
  // Malformed base64 is the caller's error.
  Response bad =
      c.Json10("SendMessage",
               {{"QueueUrl", url},
                {"MessageBody", "b"},
                {"MessageAttributes",
                 {{"a", {{"DataType", "Binary"}, {"BinaryValue", "!!"}}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Header("x-amzn-query-error"), "InvalidParameterValue;Sender");
}

TEST_F(GatewayTest, QueryProtocolLifecycleAndXml) {
  Client c(port_);
  Response created = c.Query(
      "Action=CreateQueue&Version=2012-11-05&QueueName=qq&"
      "Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40&"
      "Tag.1.Key=team&Tag.1.Value=red");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Header("content-type"), "text/xml");
  std::string url =
      absl::StrCat("http://127.0.0.1:", port_, "/000000000000/qq");
  EXPECT_THAT(created.body,
              HasSubstr("<CreateQueueResponse "
                        "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\">"
                        "<CreateQueueResult><QueueUrl>" +
                        url + "</QueueUrl></CreateQueueResult>"));
  EXPECT_THAT(created.body, HasSubstr("<ResponseMetadata><RequestId>"));

  Response attrs =
      c.Query("Action=GetQueueAttributes&QueueUrl=" + UrlEncode(url) +
              "&AttributeName.1=VisibilityTimeout");
  EXPECT_THAT(attrs.body,
              HasSubstr("<Attribute><Name>VisibilityTimeout</Name><Value>40"
                        "</Value></Attribute>"));
  Response tags = c.Query("Action=ListQueueTags&QueueUrl=" + UrlEncode(url));
  EXPECT_THAT(tags.body,
              HasSubstr("<Tag><Key>team</Key><Value>red</Value></Tag>"));

  // A batch with attributes; the body has a CR and quotes.
  Response batch = c.Query(
      "Action=SendMessageBatch&QueueUrl=" + UrlEncode(url) +
      "&SendMessageBatchRequestEntry.1.Id=a"
      "&SendMessageBatchRequestEntry.1.MessageBody=" +
      UrlEncode("say \"hi\"\r\n<&>") +
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=timestamp"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType="
      "Number"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue="
      "1493147359900"
      "&SendMessageBatchRequestEntry.2.Id=b"
      "&SendMessageBatchRequestEntry.2.MessageBody=derp"
      "&SendMessageBatchRequestEntry.3.Id=c"
      "&SendMessageBatchRequestEntry.3.MessageBody=late"
      "&SendMessageBatchRequestEntry.3.DelaySeconds=1000");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_THAT(batch.body, HasSubstr("<SendMessageBatchResultEntry><Id>a</Id>"));
  EXPECT_THAT(batch.body, HasSubstr("<MD5OfMessageAttributes>"
                                    "235c5c510d26fb653d073faed50ae77c"));
  EXPECT_THAT(
      batch.body,
      HasSubstr("<SendMessageBatchResultEntry><Id>b</Id><MD5OfMessageBody>"
                "58fd9edd83341c29f1aebba81c31e257</MD5OfMessageBody>"));
  EXPECT_THAT(batch.body,
              HasSubstr("<BatchResultErrorEntry><Id>c</Id><SenderFault>true"
                        "</SenderFault><Code>InvalidParameterValue</Code>"));

  Response got = c.Query("Action=ReceiveMessage&QueueUrl=" + UrlEncode(url) +
                         "&MaxNumberOfMessages=10&MessageAttributeName.1=All");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_THAT(got.body,
              HasSubstr("<Body>say &quot;hi&quot;&#xD;\n&lt;&amp;&gt;</Body>"));
  EXPECT_THAT(got.body,
              HasSubstr("<MessageAttribute><Name>timestamp</Name><Value>"
                        "<StringValue>1493147359900</StringValue><DataType>"
                        "Number</DataType></Value></MessageAttribute>"));

  Response deleted = c.Query("Action=DeleteQueue&QueueUrl=" + UrlEncode(url));
  EXPECT_EQ(deleted.status, 200);
  EXPECT_THAT(deleted.body, HasSubstr("<DeleteQueueResponse"));
  EXPECT_THAT(deleted.body, Not(HasSubstr("DeleteQueueResult")));
}

TEST_F(GatewayTest, QueueFromPathOrBareName) {
  Client c(port_);
  CreateQueueJson(c, "pathq");
  // Query POST to the queue's path without QueueUrl (Java SDK v1 style).
  Response sent =
      c.Query("Action=SendMessage&MessageBody=x", "/000000000000/pathq");
  EXPECT_EQ(sent.status, 200) << sent.body;
  // A bare name as QueueUrl.
  Response got = c.Json10("ReceiveMessage", {{"QueueUrl", "pathq"}});
  EXPECT_EQ(got.JsonBody()["Messages"][0]["Body"], "x");
}

TEST_F(GatewayTest, AccountAndRegionFromCredentialScope) {
  Client c(port_);
  std::map<std::string, std::string> auth = {
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/sqs/"
       "aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"}};
  Response r = c.Json10("CreateQueue", {{"QueueName", "scoped"}}, auth);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string url = r.JsonBody()["QueueUrl"];
  EXPECT_THAT(url, HasSubstr("/123456789012/scoped"));
  Response a =
      c.Json10("GetQueueAttributes",
               {{"QueueUrl", url}, {"AttributeNames", {"QueueArn"}}}, auth);
  EXPECT_EQ(a.JsonBody()["Attributes"]["QueueArn"],
            "arn:aws:sqs:eu-west-1:123456789012:scoped");
  // The same queue is not visible from the default region.
  Response other = c.Json10("GetQueueUrl", {{"QueueName", "scoped"}});
  EXPECT_EQ(other.status, 400);
}

TEST_F(GatewayTest, ConfiguredCredentialsRequireValidSignatures) {
  GatewayOptions o;
  o.credentials.push_back(
      {.access_key_id = "AKIDEXAMPLE",
       .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
       .account = "111122223333"});
  StartGateway(o);
  // Signed by botocore's SigV4Auth (Host localhost:4566, 2026-01-01).
  const std::string body = R"({"QueueName":"signed"})";
  std::map<std::string, std::string> headers = {
      {"Host", "localhost:4566"},
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", "AmazonSQS.CreateQueue"},
      {"X-Amz-Date", "20260101T000000Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sqs/"
       "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
       "x-amz-target, Signature="
       "bbe7ca867698c2d46c18dbfef8d9367b4b88669de75a763e02d810b34f69b96d"}};
  Client c(port_);
  Response ok = c.Send(http::verb::post, "/", headers, body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.JsonBody()["QueueUrl"],
            "http://localhost:4566/111122223333/signed");

  Response tampered =
      c.Send(http::verb::post, "/", headers, R"({"QueueName":"signeD"})");
  EXPECT_EQ(tampered.status, 403);
  EXPECT_EQ(tampered.Header("x-amzn-query-error"),
            "SignatureDoesNotMatch;Sender");

  auto other = headers;
  other["Authorization"] =
      "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20260101/us-east-1/sqs/"
      "aws4_request, SignedHeaders=host, Signature=00";
  EXPECT_EQ(
      c.Send(http::verb::post, "/", other, body).Header("x-amzn-query-error"),
      "InvalidClientTokenId;Sender");

  Response unsigned_query = c.Query("Action=ListQueues");
  EXPECT_EQ(unsigned_query.status, 403);
  EXPECT_THAT(unsigned_query.body,
              HasSubstr("<Code>MissingAuthenticationToken</Code>"));
}

TEST_F(GatewayTest, RecordsRequestsWhenAsked) {
  EXPECT_TRUE(gateway_->RecordedRequests().empty());
  GatewayOptions o;
  o.record_requests = true;
  StartGateway(o);
  Client c(port_);
  std::string url = CreateQueueJson(c, "rec");
  c.Query("Action=GetQueueUrl&QueueName=nope");
  c.Json10("SendMessage", {{"QueueUrl", url}, {"MessageBody", "hi"}},
           {{"Authorization",
             "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/"
             "sqs/aws4_request, SignedHeaders=host, Signature=00"}});
  std::vector<RecordedRequest> r = gateway_->RecordedRequests();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].service, "sqs");
  EXPECT_EQ(r[0].protocol, "json");
  EXPECT_EQ(r[0].operation, "CreateQueue");
  EXPECT_EQ(r[0].http_status, 200);
  EXPECT_EQ(r[0].error_code, "");
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].headers.at("x-amz-target"), "AmazonSQS.CreateQueue");
  EXPECT_THAT(r[0].body, HasSubstr("\"QueueName\":\"rec\""));
  EXPECT_EQ(r[1].protocol, "query");
  EXPECT_EQ(r[1].operation, "GetQueueUrl");
  EXPECT_EQ(r[1].http_status, 400);
  EXPECT_EQ(r[1].error_code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(r[2].access_key_id, "123456789012");
  EXPECT_EQ(r[2].account, "123456789012");
  EXPECT_EQ(r[2].region, "eu-west-1");
  gateway_->ClearRecordedRequests();
  EXPECT_TRUE(gateway_->RecordedRequests().empty());
}

TEST_F(GatewayTest, MetricsInPrometheusTextWithCloudWatchNames) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "metered");
  for (int i = 0; i < 3; ++i) {
    c.Json10("SendMessage", {{"QueueUrl", url}, {"MessageBody", "m"}});
  }
  Response got = c.Json10("ReceiveMessage", {{"QueueUrl", url}});
  c.Json10("DeleteMessage",
           {{"QueueUrl", url},
            {"ReceiptHandle", got.JsonBody()["Messages"][0]["ReceiptHandle"]}});
  c.Json10("ReceiveMessage", {{"QueueUrl", url},
                              {"VisibilityTimeout", 0},
                              {"MaxNumberOfMessages", 10}});
  c.Json10("GetQueueUrl", {{"QueueName", "nope"}});
  // Another account's queue, seen through its requests.
  c.Json10("CreateQueue", {{"QueueName", "elsewhere"}},
           {{"Authorization",
             "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/"
             "sqs/aws4_request, SignedHeaders=host, Signature=00"}});

  Response m = c.Send(http::verb::get, "/metrics", {}, "");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("content-type"),
            "text/plain; version=0.0.4; charset=utf-8");
  const std::string labels =
      R"({account="000000000000",region="us-east-1",queue="metered"})";
  EXPECT_THAT(m.body, HasSubstr("# TYPE sqs_ApproximateNumberOfMessagesVisible "
                                "gauge\n"));
  EXPECT_THAT(m.body, HasSubstr("sqs_ApproximateNumberOfMessagesVisible" +
                                labels + " 2\n"));
  EXPECT_THAT(m.body, HasSubstr("sqs_ApproximateNumberOfMessagesNotVisible" +
                                labels + " 0\n"));
  EXPECT_THAT(m.body,
              HasSubstr("sqs_NumberOfMessagesSent_total" + labels + " 3\n"));
  EXPECT_THAT(m.body, HasSubstr("sqs_NumberOfMessagesReceived_total" + labels +
                                " 3\n"));
  EXPECT_THAT(m.body,
              HasSubstr("sqs_NumberOfMessagesDeleted_total" + labels + " 1\n"));
  EXPECT_THAT(m.body,
              HasSubstr("sqs_NumberOfEmptyReceives_total" + labels + " 0\n"));
  EXPECT_THAT(
      m.body,
      HasSubstr(
          "sqs_ApproximateNumberOfMessagesVisible{account="
          "\"123456789012\",region=\"eu-west-1\",queue=\"elsewhere\"} 0"));
  EXPECT_THAT(m.body,
              HasSubstr("ferry_gateway_requests_total{service=\"sqs\","
                        "operation=\"SendMessage\",status=\"200\"} 3\n"));
  EXPECT_THAT(m.body,
              HasSubstr("ferry_gateway_requests_total{service=\"sqs\","
                        "operation=\"GetQueueUrl\",status=\"400\"} 1\n"));
}

TEST_F(GatewayTest, InjectedFaultsAreReturnedInOrderThenServingResumes) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "faulty");
  gateway_->InjectFault(
      {.operation = "SendMessage", .error = "RequestThrottled"}, 2);
  gateway_->InjectFault({.error = "ServiceUnavailable"});
  Json send = {{"QueueUrl", url}, {"MessageBody", "m"}};
  for (int i = 0; i < 2; ++i) {
    Response r = c.Json10("SendMessage", send);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.Header("x-amzn-query-error"), "RequestThrottled;Sender");
  }
  // The next fault applies to any operation; the Query shape too.
  Response q = c.Query("Action=ListQueues");
  EXPECT_EQ(q.status, 503);
  EXPECT_THAT(q.body, HasSubstr("<Type>Receiver</Type><Code>"
                                "ServiceUnavailable</Code>"));
  EXPECT_EQ(c.Json10("SendMessage", send).status, 200);

  gateway_->InjectFault(
      {.operation = "ReceiveMessage", .drop_connection = true});
  Client d(port_);
  d.WriteRaw(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0"
      "\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\nContent-Length: 2\r\n"
      "\r\n{}");
  EXPECT_EQ(d.ReadToClose(), "");
  // Nothing was received: the message is still there.
  Response got = c.Json10("ReceiveMessage", {{"QueueUrl", url}});
  EXPECT_EQ(got.JsonBody()["Messages"][0]["Body"], "m");

  gateway_->InjectFault({.error = "InternalFailure"}, 5);
  gateway_->ClearFaults();
  EXPECT_EQ(c.Json10("ListQueues", Json::object()).status, 200);
}

TEST_F(GatewayTest, ErrorShapesPerProtocol) {
  Client c(port_);
  Response json = c.Json10("GetQueueUrl", {{"QueueName", "nope"}});
  EXPECT_EQ(json.status, 400);
  EXPECT_EQ(json.Header("x-amzn-query-error"),
            "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(json.JsonBody()["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
  EXPECT_EQ(json.JsonBody()["message"], "The specified queue does not exist.");

  Response query = c.Query("Action=GetQueueUrl&QueueName=nope");
  EXPECT_EQ(query.status, 400);
  EXPECT_THAT(query.body,
              HasSubstr("<ErrorResponse xmlns=\"http://queue.amazonaws.com/"
                        "doc/2012-11-05/\"><Error><Type>Sender</Type><Code>"
                        "AWS.SimpleQueueService.NonExistentQueue</Code>"
                        "<Message>The specified queue does not exist for this "
                        "wsdl version.</Message><Detail/></Error><RequestId>"));

  Response unknown = c.Json10("Frobnicate", Json::object());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.JsonBody()["__type"],
            "com.amazon.coral.service#InvalidAction");
  Response unknown_query = c.Query("Action=Frobnicate");
  EXPECT_THAT(unknown_query.body, HasSubstr("<Code>InvalidAction</Code>"));
  Response no_action = c.Query("Version=2012-11-05");
  EXPECT_THAT(no_action.body, HasSubstr("<Code>MissingParameter</Code>"));

  std::string deep = "Action=ListQueues&a";
  for (int i = 0; i < 100000; ++i) deep += ".a";
  Response too_deep = c.Query(deep + "=1");
  EXPECT_THAT(too_deep.body, HasSubstr("<Code>InvalidParameterValue</Code>"));
  Response deep_json =
      c.Send(http::verb::post, "/",
             {{"Content-Type", "application/x-amz-json-1.0"},
              {"X-Amz-Target", "AmazonSQS.ListQueues"}},
             std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(deep_json.status, 400);

  Response bad_json = c.Send(http::verb::post, "/",
                             {{"Content-Type", "application/x-amz-json-1.0"},
                              {"X-Amz-Target", "AmazonSQS.ListQueues"}},
                             "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.Header("x-amzn-query-error"),
            "InvalidParameterValue;Sender");
  Response wrong_type = c.Json10("ListQueues", {{"MaxResults", Json::array()}});
  EXPECT_EQ(wrong_type.status, 400);
  Response out_of_range = c.Json10(
      "ReceiveMessage",
      {{"QueueUrl", CreateQueueJson(c, "r")}, {"MaxNumberOfMessages", 11}});
  EXPECT_EQ(out_of_range.JsonBody()["message"],
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: "
            "Must be between 1 and 10, if provided.");
  // The connection survived every error.
  EXPECT_EQ(c.Send(http::verb::get, "/health", {}, "").status, 200);
}

TEST_F(GatewayTest, OversizeBodyGets413) {
  GatewayOptions o;
  o.max_sqs_body_bytes = 1024;
  StartGateway(o);
  Client c(port_);
  Response r =
      c.Json10("SendMessage",
               {{"QueueUrl", "x"}, {"MessageBody", std::string(4096, 'a')}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Header("x-amzn-query-error"), "RequestEntityTooLarge;Sender");
  EXPECT_FALSE(r.keep_alive);
  Client c2(port_);
  Response q =
      c2.Query("Action=SendMessage&MessageBody=" + std::string(4096, 'a'));
  EXPECT_EQ(q.status, 413);
  EXPECT_THAT(q.body, HasSubstr("<Code>RequestEntityTooLarge</Code>"));
  // Smaller requests still work.
  Client c3(port_);
  EXPECT_EQ(c3.Json10("ListQueues", Json::object()).status, 200);
}

TEST_F(GatewayTest, MalformedHttpIsRefusedAndServerSurvives) {
  {
    Client c(port_);
    c.WriteRaw("THIS IS NOT HTTP\r\n\r\n");
    std::string reply = c.ReadToClose();
    EXPECT_THAT(reply, HasSubstr("400"));
  }
  {
    Client c(port_);
    c.WriteRaw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    // Half a body, then the client goes away: nothing to answer.
  }
  {
    Client c(port_);
    c.WriteRaw(std::string("\x00\xff\x13garbage", 10));
    c.ReadToClose();
  }
  Client ok(port_);
  EXPECT_EQ(ok.Send(http::verb::get, "/health", {}, "").status, 200);
}

TEST_F(GatewayTest, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(port_);
  std::string url = CreateQueueJson(c, "ka");
  for (int i = 0; i < 50; ++i) {
    Response r = c.Json10(
        "SendMessage", {{"QueueUrl", url}, {"MessageBody", std::to_string(i)}});
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  Response a = c.Json10(
      "GetQueueAttributes",
      {{"QueueUrl", url}, {"AttributeNames", {"ApproximateNumberOfMessages"}}});
  EXPECT_EQ(a.JsonBody()["Attributes"]["ApproximateNumberOfMessages"], "50");
}

TEST_F(GatewayTest, ManyConcurrentConnections) {
  std::string url;
  {
    Client c(port_);
    url = CreateQueueJson(c, "many");
  }
  constexpr int kClients = 64;
  constexpr int kEach = 10;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(port_));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kClients; i += 8) {
        for (int j = 0; j < kEach; ++j) {
          Response r = clients[i]->Json10(
              "SendMessage", {{"QueueUrl", url}, {"MessageBody", "m"}});
          if (r.status == 200) ok.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kClients * kEach);
}

TEST_F(GatewayTest, ConnectionsBeyondTheLimitAreClosed) {
  GatewayOptions o;
  o.max_connections = 2;
  StartGateway(o);
  Client a(port_), b(port_);
  EXPECT_EQ(a.Send(http::verb::get, "/health", {}, "").status, 200);
  EXPECT_EQ(b.Send(http::verb::get, "/health", {}, "").status, 200);
  Client c(port_);
  c.WriteRaw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.ReadToClose(), "");
}

// The idle timeout is an I/O deadline on the real clock (the one place the
// gateway reads it). These tests wait for the server's close, not for time:
// a short timeout makes it come soon, and the ctest timeout bounds a server
// that never closes.
TEST_F(GatewayTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  GatewayOptions o;
  o.idle_timeout = absl::Milliseconds(200);
  StartGateway(o);
  Client c(port_);
  EXPECT_EQ(c.Send(http::verb::get, "/health", {}, "").status, 200);
  EXPECT_EQ(c.ReadToClose(), "");
}

TEST_F(GatewayTest, StalledRequestIsClosedAfterIdleTimeout) {
  GatewayOptions o;
  o.idle_timeout = absl::Milliseconds(200);
  StartGateway(o);
  Client stalled(port_);
  // Headers promise a body that never comes.
  stalled.WriteRaw(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n"
      "Content-Length: 100\r\n\r\n{");
  EXPECT_EQ(stalled.ReadToClose(), "");
  // The server goes on serving others.
  Client other(port_);
  EXPECT_EQ(other.Send(http::verb::get, "/health", {}, "").status, 200);
}

TEST_F(GatewayTest, LongPollIsWokenBySend) {
  Client setup(port_);
  std::string url = CreateQueueJson(setup, "lp");
  Response got;
  std::thread poller([&] {
    Client c(port_);
    got = c.Json10("ReceiveMessage",
                   {{"QueueUrl", url}, {"WaitTimeSeconds", 20}});
  });
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  // The event loop is free while the poll waits.
  Response sent =
      setup.Json10("SendMessage", {{"QueueUrl", url}, {"MessageBody", "wake"}});
  EXPECT_EQ(sent.status, 200);
  poller.join();
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.JsonBody()["Messages"][0]["Body"], "wake");
}

TEST_F(GatewayTest, ManyLongPollsWaitTogetherWhileOtherRequestsAreServed) {
  Client setup(port_);
  std::string url = CreateQueueJson(setup, "many-polls");
  constexpr int kPollers = 16;
  std::vector<Response> got(kPollers);
  std::vector<std::thread> pollers;
  for (int i = 0; i < kPollers; ++i) {
    pollers.emplace_back([&, i] {
      Client c(port_);
      got[i] = c.Json10("ReceiveMessage",
                        {{"QueueUrl", url}, {"WaitTimeSeconds", 20}});
    });
  }
  ASSERT_TRUE(clock_.BlockUntilWaiters(kPollers));
  EXPECT_EQ(setup.Send(http::verb::get, "/health", {}, "").status, 200);
  for (int i = 0; i < kPollers; ++i) {
    ASSERT_EQ(setup
                  .Json10("SendMessage", {{"QueueUrl", url},
                                          {"MessageBody", std::to_string(i)}})
                  .status,
              200);
  }
  for (auto& t : pollers) t.join();
  std::set<std::string> bodies;
  for (const Response& r : got) {
    ASSERT_EQ(r.status, 200) << r.body;
    bodies.insert(r.JsonBody()["Messages"][0]["Body"].get<std::string>());
  }
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kPollers));
}

TEST_F(GatewayTest, LongPollEndsAtItsWaitTime) {
  Client setup(port_);
  std::string url = CreateQueueJson(setup, "lpt");
  Response got;
  std::thread poller([&] {
    Client c(port_);
    got = c.Query("Action=ReceiveMessage&WaitTimeSeconds=20&QueueUrl=" +
                  UrlEncode(url));
  });
  ASSERT_TRUE(clock_.BlockUntilWaiters(1));
  clock_.Advance(absl::Seconds(20));
  poller.join();
  EXPECT_EQ(got.status, 200);
  EXPECT_THAT(got.body,
              HasSubstr("<ReceiveMessageResult></ReceiveMessageResult>"));
}

TEST_F(GatewayTest, StopEndsWaitingLongPollsWithEmptyResults) {
  Client setup(port_);
  std::string url = CreateQueueJson(setup, "stop");
  std::vector<Response> got(3);
  std::vector<std::thread> pollers;
  for (int i = 0; i < 3; ++i) {
    pollers.emplace_back([&, i] {
      Client c(port_);
      got[i] = c.Json10("ReceiveMessage",
                        {{"QueueUrl", url}, {"WaitTimeSeconds", 20}});
    });
  }
  ASSERT_TRUE(clock_.BlockUntilWaiters(3));
  gateway_->Stop();
  for (auto& t : pollers) t.join();
  for (const Response& r : got) {
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{}");
    EXPECT_FALSE(r.keep_alive);
  }
}

}  // namespace
}  // namespace ferry
