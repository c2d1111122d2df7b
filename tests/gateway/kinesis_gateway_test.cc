// Kinesis through a running Gateway over loopback: routing by X-Amz-Target
// and by credential scope (SQS unaffected), the 8 MiB body bound (4 MiB
// stays for SQS), /metrics, and SubscribeToShard's event stream over
// HTTP/1.1 chunked transfer encoding: events pushed as records arrive, the
// body ended by Stop, a client that goes away.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aws_wire.h"
#include "event_stream.h"
#include "gateway_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http_test_client.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

using gateway_internal::Base64Encode;
using gateway_internal::DecodeEventStreamMessage;
using gateway_internal::EventStreamMessage;
using gateway_testing::Client;
using gateway_testing::Response;
using ::testing::HasSubstr;
using Json = nlohmann::json;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

Response Kinesis(Client& c, const std::string& op, const std::string& body) {
  return c.Send(http::verb::post, "/",
                {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "Kinesis_20131202." + op}},
                body);
}
Response Kinesis(Client& c, const std::string& op, const Json& body) {
  return Kinesis(c, op, body.dump());
}

// Reads a chunked event-stream response on its own socket.
class StreamReader {
 public:
  explicit StreamReader(uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  void Send(const std::string& body) {
    std::string req = absl::StrCat(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Target: Kinesis_20131202.SubscribeToShard\r\n"
        "Content-Length: ",
        body.size(), "\r\n\r\n", body);
    asio::write(socket_, asio::buffer(req));
  }

  // Reads until `n` more event-stream messages arrived or the server closed
  // (fewer then).
  std::vector<EventStreamMessage> Messages(size_t n) {
    std::vector<EventStreamMessage> out;
    while (out.size() < n) {
      bool error = false;
      while (std::optional<EventStreamMessage> m =
                 DecodeEventStreamMessage(&body_, &error)) {
        out.push_back(std::move(*m));
      }
      EXPECT_FALSE(error);
      if (out.size() >= n || closed_) break;
      ReadMore();
      Dechunk();
    }
    return out;
  }

  // Reads to the end; true if the body ended with its last chunk.
  bool ReadToEnd() {
    while (!closed_) {
      ReadMore();
      Dechunk();
    }
    return last_chunk_;
  }

  const std::string& head() const { return head_; }
  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void ReadMore() {
    char buf[4096];
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf), ec);
    raw_.append(buf, n);
    if (ec) closed_ = true;
  }

  // Moves whole chunks from raw_ to body_.
  void Dechunk() {
    if (head_.empty()) {
      size_t end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      head_ = raw_.substr(0, end + 4);
      raw_.erase(0, end + 4);
    }
    for (;;) {
      size_t line = raw_.find("\r\n");
      if (line == std::string::npos) return;
      size_t size = 0;
      if (!absl::SimpleHexAtoi(raw_.substr(0, line), &size)) return;
      if (raw_.size() < line + 2 + size + 2) return;
      if (size == 0) last_chunk_ = true;
      body_ += raw_.substr(line + 2, size);
      raw_.erase(0, line + 2 + size + 2);
    }
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  std::string raw_, head_, body_;
  bool closed_ = false;
  bool last_chunk_ = false;
};

class KinesisGatewayTest : public gateway_testing::GatewayFixture {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.record_requests = true;
    StartGateway(options);
  }

  // A one-shard stream and a consumer of it; returns the consumer's ARN.
  std::string StreamWithConsumer(Client& c) {
    EXPECT_EQ(
        Kinesis(c, "CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}})
            .status,
        200);
    Response r = Kinesis(
        c, "RegisterStreamConsumer",
        {{"StreamARN", "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
         {"ConsumerName", "c"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.JsonBody()["Consumer"].value("ConsumerARN", "");
  }
  void Put(Client& c, const std::string& data) {
    Response r = Kinesis(c, "PutRecord",
                         {{"StreamName", "s"},
                          {"Data", Base64Encode(data)},
                          {"PartitionKey", "k"}});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  static std::string Subscribe(const std::string& consumer) {
    return Json{{"ConsumerARN", consumer},
                {"ShardId", "shardId-000000000000"},
                {"StartingPosition", {{"Type", "TRIM_HORIZON"}}}}
        .dump();
  }
};

TEST_F(KinesisGatewayTest, RoutesJsonAndScopedRequests) {
  Client c(port_);
  Response r =
      Kinesis(c, "CreateStream", {{"StreamName", "s"}, {"ShardCount", 2}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/x-amz-json-1.1");
  EXPECT_FALSE(r.Header("x-amzn-requestid").empty());
  Put(c, "hello");
  r = Kinesis(c, "ListStreams", Json::object());
  EXPECT_EQ(r.JsonBody()["StreamNames"], Json::parse(R"(["s"])"));
  // An unknown operation of the Kinesis target is Kinesis's error.
  r = Kinesis(c, "Nope", Json::object());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.JsonBody().value("__type", ""), "UnknownOperationException");
  // SQS next to it is unaffected.
  EXPECT_FALSE(CreateQueueJson(c, "q").empty());
  std::vector<RecordedRequest> records = gateway_->RecordedRequests();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[0].service, "kinesis");
  EXPECT_EQ(records[0].operation, "CreateStream");
  EXPECT_EQ(records.back().service, "sqs");

  r = c.Send(http::verb::get, "/metrics", {}, "");
  EXPECT_THAT(r.body, HasSubstr("kinesis_IncomingRecords_total{account=\"\","
                                "region=\"\",stream=\"s\"} 1"));
  EXPECT_THAT(r.body, HasSubstr("kinesis_IncomingBytes_total{account=\"\","
                                "region=\"\",stream=\"s\"} 5"));
}

TEST_F(KinesisGatewayTest, EightMebibytesForKinesisFourForSqs) {
  Client c(port_);
  ASSERT_EQ(Kinesis(c, "CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}})
                .status,
            200);
  // 6 MiB of JSON (whitespace after the object): over SQS's bound, within
  // Kinesis's.
  std::string body =
      Json{{"StreamName", "s"}}.dump() + std::string(6 << 20, ' ');
  Response r = Kinesis(c, "DescribeStreamSummary", body);
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 200);
  Client c2(port_);
  r = Kinesis(c2, "DescribeStreamSummary",
              Json{{"StreamName", "s"}}.dump() + std::string(9 << 20, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.JsonBody().value("__type", ""), "RequestEntityTooLarge");
  EXPECT_THAT(r.JsonBody().value("message", ""), HasSubstr("8388608 bytes"));
  Client c3(port_);
  r = c3.Json10("ListQueues", Json::object());
  EXPECT_EQ(r.status, 200);
  r = c3.Send(http::verb::post, "/",
              {{"Content-Type", "application/x-amz-json-1.0"},
               {"X-Amz-Target", "AmazonSQS.ListQueues"}},
              "{}" + std::string(5 << 20, ' '));
  EXPECT_EQ(r.status, 413);
}

TEST_F(KinesisGatewayTest, SubscribeToShardStreamsUntilStop) {
  Client c(port_);
  const std::string consumer = StreamWithConsumer(c);
  Put(c, "one");
  StreamReader reader(port_);
  reader.Send(Subscribe(consumer));
  std::vector<EventStreamMessage> m = reader.Messages(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_THAT(reader.head(), HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(reader.head(),
              HasSubstr("Content-Type: application/vnd.amazon.eventstream"));
  EXPECT_THAT(reader.head(), HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_EQ(m[0].Header(":event-type"), "initial-response");
  EXPECT_EQ(m[1].Header(":event-type"), "SubscribeToShardEvent");
  EXPECT_EQ(Json::parse(m[1].payload)["Records"][0]["Data"],
            Base64Encode("one"));

  Put(c, "two");
  m = reader.Messages(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(Json::parse(m[0].payload)["Records"][0]["Data"],
            Base64Encode("two"));

  // Stop ends the body with its last chunk and closes the connection.
  gateway_->Stop();
  EXPECT_TRUE(reader.ReadToEnd());
}

TEST_F(KinesisGatewayTest, SubscriptionEndsAfterFiveMinutesOfTheBrokersClock) {
  Client c(port_);
  const std::string consumer = StreamWithConsumer(c);
  StreamReader reader(port_);
  reader.Send(Subscribe(consumer));
  ASSERT_EQ(reader.Messages(2).size(), 2u);
  clock_.Advance(absl::Minutes(5));
  Put(c, "late");
  EXPECT_TRUE(reader.ReadToEnd());
}

TEST_F(KinesisGatewayTest, ClientLeavingCancelsTheSubscription) {
  Client c(port_);
  const std::string consumer = StreamWithConsumer(c);
  {
    StreamReader reader(port_);
    reader.Send(Subscribe(consumer));
    ASSERT_EQ(reader.Messages(2).size(), 2u);
    reader.Close();
  }
  // Puts after the client left are harmless; 5 s later a new subscription
  // takes over.
  for (int i = 0; i < 20; ++i) Put(c, "x");
  clock_.Advance(absl::Seconds(6));
  StreamReader again(port_);
  again.Send(Subscribe(consumer));
  std::vector<EventStreamMessage> m = again.Messages(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(Json::parse(m[1].payload)["Records"].size(), 20u);
}

TEST_F(KinesisGatewayTest, SubscribeErrorsAreOrdinaryResponses) {
  Client c(port_);
  StreamWithConsumer(c);
  Response r =
      Kinesis(c, "SubscribeToShard",
              {{"ConsumerARN",
                "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/x:1"},
               {"ShardId", "shardId-000000000000"},
               {"StartingPosition", {{"Type", "LATEST"}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.JsonBody().value("__type", ""), "ResourceNotFoundException");
  EXPECT_TRUE(r.keep_alive);
}

}  // namespace
}  // namespace ferry
