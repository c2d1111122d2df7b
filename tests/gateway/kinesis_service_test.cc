// Kinesis's JSON 1.1 and CBOR protocols as the gateway serves them
// (gateway/src/kinesis_service.h), driven with request bodies as botocore
// (JSON) and the Java SDK (CBOR) write them: the result shapes of botocore's
// model, base64 and byte-string blobs, plain-decimal and tagged-millisecond
// timestamps, errors with __type/message and their HTTP status, type errors,
// the 8 MiB bound, a reshard's ChildShards, SubscribeToShard's event stream,
// routing, faults, recording and metrics. No sockets; time is a
// ManualClock.
#include "kinesis_service.h"

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws_wire.h"
#include "cbor.h"
#include "event_stream.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/sync.h"
#include "ferry/testing/manual_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ferry::gateway_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Json = nlohmann::json;

// A binary value's bytes (comparing the nlohmann container directly is
// ambiguous under clang).
std::vector<uint8_t> Bin(const Json& v) {
  const auto& b = v.get_binary();
  return std::vector<uint8_t>(b.begin(), b.end());
}

// Collects what a ResponseStream writes.
class FakeSink : public BodySink {
 public:
  bool Write(std::string bytes) override {
    MutexLock lock(&mu_);
    if (closed_) return false;
    bytes_ += bytes;
    return true;
  }
  void Close() override {
    MutexLock lock(&mu_);
    closed_ = true;
  }
  bool closed() {
    MutexLock lock(&mu_);
    return closed_;
  }
  // The whole messages written so far, removed from the buffer.
  std::vector<EventStreamMessage> Messages() {
    MutexLock lock(&mu_);
    std::vector<EventStreamMessage> out;
    bool error = false;
    while (std::optional<EventStreamMessage> m =
               DecodeEventStreamMessage(&bytes_, &error)) {
      out.push_back(std::move(*m));
    }
    EXPECT_FALSE(error);
    return out;
  }

 private:
  Mutex mu_;
  std::string bytes_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

class KinesisServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetTime(absl::FromUnixMillis(1785732980986));
    BrokerOptions bo;
    bo.clock = &clock_;
    broker_ = *Broker::Open(bo, NewMemoryBackend());
    service_ = std::make_unique<KinesisService>(
        broker_->kinesis(), options_, &faults_,
        [this](RecordedRequest r) { records_.push_back(std::move(r)); });
  }

  static HttpRequest Request(const std::string& op, std::string body,
                             bool cbor = false) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers["host"] = "localhost:4566";
    r.headers["content-type"] =
        cbor ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1";
    r.headers["x-amz-target"] = "Kinesis_20131202." + op;
    r.headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
    r.body = std::move(body);
    return r;
  }

  HttpResponse Run(HttpRequest request) {
    PreparedCall call = service_->Prepare(std::move(request));
    EXPECT_FALSE(call.may_block);
    return std::move(call.run)();
  }

  HttpResponse Call(const std::string& op, const Json& body) {
    return Run(Request(op, body.dump()));
  }
  HttpResponse CallCbor(const std::string& op,
                        const nlohmann::ordered_json& b) {
    return Run(Request(op, EncodeCbor(b), /*cbor=*/true));
  }

  // Calls (JSON) and expects success; returns the parsed body ({} if empty).
  Json Ok(const std::string& op, const Json& body) {
    HttpResponse r = Call(op, body);
    EXPECT_EQ(r.status, 200) << op << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/x-amz-json-1.1");
    if (r.body.empty()) return Json::object();
    return Json::parse(r.body, nullptr, false);
  }

  // Expects an error; returns its parsed body.
  Json Error(const HttpResponse& r, int status, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.body;
    Json body = Json::parse(r.body, nullptr, false);
    EXPECT_EQ(body.value("__type", ""), type) << r.body;
    bool has_request_id = false;
    for (const auto& [k, v] : r.headers) {
      if (k == "x-amzn-RequestId" && !v.empty()) has_request_id = true;
    }
    EXPECT_TRUE(has_request_id);
    return body;
  }

  std::string Iterator(const std::string& stream, const std::string& shard,
                       const std::string& type = "TRIM_HORIZON") {
    return Ok("GetShardIterator", {{"StreamName", stream},
                                   {"ShardId", shard},
                                   {"ShardIteratorType", type}})
        .value("ShardIterator", "");
  }

  ferry_testing::ManualClock clock_;
  std::unique_ptr<Broker> broker_;
  GatewayOptions options_;
  FaultQueue faults_{1};
  std::vector<RecordedRequest> records_;
  std::unique_ptr<KinesisService> service_;
};

TEST_F(KinesisServiceTest, JsonPutAndGetAcrossShards) {
  EXPECT_EQ(Call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 2}}).body,
            "");
  Json d = Ok("DescribeStream", {{"StreamName", "s"}})["StreamDescription"];
  EXPECT_EQ(d["StreamName"], "s");
  EXPECT_EQ(d["StreamARN"], "arn:aws:kinesis:us-east-1:000000000000:stream/s");
  EXPECT_EQ(d["StreamStatus"], "ACTIVE");
  EXPECT_EQ(d["StreamModeDetails"]["StreamMode"], "PROVISIONED");
  ASSERT_EQ(d["Shards"].size(), 2u);
  EXPECT_EQ(d["Shards"][1]["HashKeyRange"]["StartingHashKey"],
            "170141183460469231731687303715884105728");
  EXPECT_TRUE(
      d["Shards"][0]["SequenceNumberRange"].contains("StartingSequenceNumber"));
  EXPECT_EQ(d["RetentionPeriodHours"], 24);
  EXPECT_EQ(d["EnhancedMonitoring"],
            Json::parse(R"([{"ShardLevelMetrics":[]}])"));
  // The creation time as plain decimal epoch seconds.
  HttpResponse raw = Call("DescribeStreamSummary", {{"StreamName", "s"}});
  EXPECT_THAT(raw.body,
              HasSubstr("\"StreamCreationTimestamp\":1785732980.986"));
  EXPECT_EQ(Json::parse(raw.body)["StreamDescriptionSummary"]["OpenShardCount"],
            2);

  // Explicit hash keys put one record on each shard.
  Json p0 = Ok("PutRecord", {{"StreamName", "s"},
                             {"Data", Base64Encode("zero")},
                             {"PartitionKey", "k"},
                             {"ExplicitHashKey", "0"}});
  EXPECT_EQ(p0["ShardId"], "shardId-000000000000");
  EXPECT_EQ(p0["SequenceNumber"].get<std::string>().size(), 56u);
  EXPECT_EQ(p0["EncryptionType"], "NONE");
  Json batch =
      Ok("PutRecords",
         {{"StreamName", "s"},
          {"Records",
           {{{"Data", Base64Encode("one")},
             {"PartitionKey", "k"},
             {"ExplicitHashKey", "170141183460469231731687303715884105728"}},
            {{"Data", ""}, {"PartitionKey", "k2"}}}}});
  EXPECT_EQ(batch["FailedRecordCount"], 0);
  ASSERT_EQ(batch["Records"].size(), 2u);
  EXPECT_EQ(batch["Records"][0]["ShardId"], "shardId-000000000001");

  clock_.Advance(absl::Seconds(2));
  HttpResponse got = Call(
      "GetRecords", {{"ShardIterator", Iterator("s", "shardId-000000000001")}});
  ASSERT_EQ(got.status, 200) << got.body;
  // ApproximateArrivalTimestamp in plain decimal, never 1.78...E9.
  EXPECT_THAT(got.body,
              HasSubstr("\"ApproximateArrivalTimestamp\":1785732980.986"));
  EXPECT_THAT(got.body, Not(HasSubstr("E9")));
  Json g = Json::parse(got.body);
  ASSERT_EQ(g["Records"].size(), 1u);
  EXPECT_EQ(g["Records"][0]["Data"], Base64Encode("one"));
  EXPECT_EQ(g["Records"][0]["PartitionKey"], "k");
  EXPECT_TRUE(g.contains("NextShardIterator"));
  EXPECT_EQ(g["MillisBehindLatest"], 0);

  Json shards = Ok("ListShards", {{"StreamName", "s"}, {"MaxResults", 1}});
  EXPECT_EQ(shards["Shards"].size(), 1u);
  EXPECT_TRUE(shards.contains("NextToken"));
  Json streams = Ok("ListStreams", Json::object());
  EXPECT_EQ(streams["StreamNames"], Json::parse(R"(["s"])"));
  EXPECT_EQ(streams["HasMoreStreams"], false);
  EXPECT_EQ(streams["StreamSummaries"][0]["StreamStatus"], "ACTIVE");
}

TEST_F(KinesisServiceTest, ReshardAndChildShards) {
  Ok("CreateStream", {{"StreamName", "r"}, {"ShardCount", 1}});
  Ok("PutRecord", {{"StreamName", "r"},
                   {"Data", Base64Encode("before")},
                   {"PartitionKey", "a"}});
  std::string it = Iterator("r", "shardId-000000000000");
  Ok("SplitShard",
     {{"StreamName", "r"},
      {"ShardToSplit", "shardId-000000000000"},
      {"NewStartingHashKey", "170141183460469231731687303715884105728"}});
  Json shards = Ok("ListShards", {{"StreamName", "r"}});
  ASSERT_EQ(shards["Shards"].size(), 3u);
  EXPECT_EQ(shards["Shards"][1]["ParentShardId"], "shardId-000000000000");
  EXPECT_TRUE(shards["Shards"][0]["SequenceNumberRange"].contains(
      "EndingSequenceNumber"));
  // The parent is read to its end: no next iterator, its children named.
  Json g = Ok("GetRecords", {{"ShardIterator", it}});
  ASSERT_EQ(g["Records"].size(), 1u);
  for (int i = 0; i < 3 && g.contains("NextShardIterator"); ++i) {
    g = Ok("GetRecords", {{"ShardIterator", g["NextShardIterator"]}});
  }
  EXPECT_FALSE(g.contains("NextShardIterator"));
  ASSERT_EQ(g["ChildShards"].size(), 2u);
  EXPECT_EQ(g["ChildShards"][0]["ParentShards"],
            Json::parse(R"(["shardId-000000000000"])"));
  Ok("MergeShards", {{"StreamName", "r"},
                     {"ShardToMerge", "shardId-000000000001"},
                     {"AdjacentShardToMerge", "shardId-000000000002"}});
  Json u = Ok("UpdateShardCount", {{"StreamName", "r"},
                                   {"TargetShardCount", 2},
                                   {"ScalingType", "UNIFORM_SCALING"}});
  EXPECT_EQ(u["CurrentShardCount"], 1);
  EXPECT_EQ(u["TargetShardCount"], 2);
  EXPECT_EQ(u["StreamName"], "r");
}

TEST_F(KinesisServiceTest, TagsRetentionAndConsumers) {
  Ok("CreateStream",
     {{"StreamName", "t"}, {"ShardCount", 1}, {"Tags", {{"team", "red"}}}});
  Ok("AddTagsToStream", {{"StreamName", "t"}, {"Tags", {{"env", "test"}}}});
  Ok("RemoveTagsFromStream",
     {{"StreamName", "t"}, {"TagKeys", Json::array({"team"})}});
  Json tags = Ok("ListTagsForStream", {{"StreamName", "t"}});
  EXPECT_EQ(tags["Tags"], Json::parse(R"([{"Key":"env","Value":"test"}])"));
  EXPECT_EQ(tags["HasMoreTags"], false);
  Ok("IncreaseStreamRetentionPeriod",
     {{"StreamName", "t"}, {"RetentionPeriodHours", 48}});
  Ok("DecreaseStreamRetentionPeriod",
     {{"StreamName", "t"}, {"RetentionPeriodHours", 24}});
  Json e = Error(Call("DecreaseStreamRetentionPeriod",
                      {{"StreamName", "t"}, {"RetentionPeriodHours", 12}}),
                 400, "InvalidArgumentException");
  EXPECT_THAT(e.value("message", ""), HasSubstr("Minimum allowed retention"));

  const std::string arn = "arn:aws:kinesis:us-east-1:000000000000:stream/t";
  Json c = Ok("RegisterStreamConsumer",
              {{"StreamARN", arn}, {"ConsumerName", "c1"}})["Consumer"];
  EXPECT_EQ(c["ConsumerName"], "c1");
  EXPECT_EQ(c["ConsumerStatus"], "ACTIVE");
  EXPECT_THAT(c["ConsumerARN"].get<std::string>(),
              StartsWith(arn + "/consumer/c1:"));
  Json dc = Ok("DescribeStreamConsumer",
               {{"ConsumerARN", c["ConsumerARN"]}})["ConsumerDescription"];
  EXPECT_EQ(dc["StreamARN"], arn);
  EXPECT_EQ(Ok("ListStreamConsumers", {{"StreamARN", arn}})["Consumers"].size(),
            1u);
  Ok("DeregisterStreamConsumer", {{"ConsumerARN", c["ConsumerARN"]}});
  Error(Call("DescribeStreamConsumer", {{"ConsumerARN", c["ConsumerARN"]}}),
        400, "ResourceNotFoundException");
  Ok("DeleteStream", {{"StreamName", "t"}});
}

TEST_F(KinesisServiceTest, ErrorsAndTypeErrors) {
  Json e = Error(Call("DescribeStream", {{"StreamName", "nope"}}), 400,
                 "ResourceNotFoundException");
  EXPECT_EQ(e["message"], "Stream nope under account 000000000000 not found.");
  // Core's validation text passes through.
  e = Error(Call("CreateStream", {{"StreamName", ""}, {"ShardCount", 1}}), 400,
            "ValidationException");
  EXPECT_THAT(e.value("message", ""),
              StartsWith("1 validation error detected: Value '' at "
                         "'streamName' failed to satisfy constraint"));
  // Type errors: SerializationException with "Message".
  e = Error(Call("CreateStream", {{"StreamName", "x"}, {"ShardCount", "a"}}),
            400, "SerializationException");
  EXPECT_EQ(e["Message"],
            "class java.lang.String can not be converted to an Integer");
  e = Error(
      Call("PutRecord",
           {{"StreamName", "x"}, {"Data", "abcde"}, {"PartitionKey", "k"}}),
      400, "SerializationException");
  EXPECT_THAT(e.value("Message", ""),
              HasSubstr("Base64 encoded length is expected a multiple of 4 "
                        "bytes but found: 5"));
  Error(Call("ListStreams", {{"Limit", {{"a", 1}}}}), 400,
        "SerializationException");
  Error(Run(Request("ListStreams", "{not json")), 400,
        "SerializationException");
  Error(Run(Request("ListStreams", "[1]")), 400, "SerializationException");
  Error(Run(Request("NoSuchOperation", "{}")), 400,
        "UnknownOperationException");
  // An injected InternalFailure is 500.
  faults_.Inject({.operation = "ListStreams", .error = "InternalFailure"}, 1);
  Error(Call("ListStreams", Json::object()), 500, "InternalFailure");
  EXPECT_EQ(Call("ListStreams", Json::object()).status, 200);
}

TEST_F(KinesisServiceTest, RequestsOverEightMebibytesAreRefused) {
  std::string big(kMaxKinesisBodyBytes + 1, ' ');
  Json e =
      Error(Run(Request("ListStreams", big)), 413, "RequestEntityTooLarge");
  // A request just under the bound is decoded (and refused by core for
  // its record size, not by the bound).
  Ok("CreateStream", {{"StreamName", "big"}, {"ShardCount", 1}});
  std::string data(1 << 20, 'x');
  Json body = {{"StreamName", "big"},
               {"Data", Base64Encode(data + "y")},
               {"PartitionKey", "k"}};
  HttpResponse r = Call("PutRecord", body);
  Error(r, 400, "ValidationException");
}

TEST_F(KinesisServiceTest, CborRequestsAndResponses) {
  nlohmann::ordered_json create;
  create["StreamName"] = "c";
  create["ShardCount"] = 1;
  HttpResponse r = CallCbor("CreateStream", create);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-amz-cbor-1.1");

  nlohmann::ordered_json put;
  put["StreamName"] = "c";
  put["Data"] = nlohmann::ordered_json::binary({0, 0xFF, 'z'});
  put["PartitionKey"] = "k";
  r = CallCbor("PutRecord", put);
  ASSERT_EQ(r.status, 200);
  std::optional<Json> p = DecodeCbor(r.body);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ((*p)["ShardId"], "shardId-000000000000");

  // AT_TIMESTAMP as the Java SDK sends it: tag 1 around epoch milliseconds.
  std::string request = EncodeCbor({{"StreamName", "c"},
                                    {"ShardId", "shardId-000000000000"},
                                    {"ShardIteratorType", "AT_TIMESTAMP"},
                                    {"Timestamp", 1785732980.986}});
  r = Run(Request("GetShardIterator", request, true));
  ASSERT_EQ(r.status, 200) << r.body;
  std::optional<Json> it = DecodeCbor(r.body);
  ASSERT_TRUE(it.has_value());

  nlohmann::ordered_json get;
  get["ShardIterator"] = (*it)["ShardIterator"];
  r = CallCbor("GetRecords", get);
  ASSERT_EQ(r.status, 200);
  std::optional<Json> g = DecodeCbor(r.body);
  ASSERT_TRUE(g.has_value());
  ASSERT_EQ((*g)["Records"].size(), 1u);
  EXPECT_EQ(Bin((*g)["Records"][0]["Data"]),
            std::vector<uint8_t>({0, 0xFF, 'z'}));
  // The arrival time as tag 1 + integer milliseconds.
  EXPECT_NE(
      r.body.find(std::string("\xC1\x1B\x00\x00\x01\x9F\xC5\xFA\xE0\xFA", 10)),
      std::string::npos);

  // Errors in CBOR.
  r = CallCbor("DescribeStream", {{"StreamName", "missing"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/x-amz-cbor-1.1");
  std::optional<Json> e = DecodeCbor(r.body);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)["__type"], "ResourceNotFoundException");
  r = Run(Request("ListStreams", "\xFF\xFF", true));
  e = DecodeCbor(r.body);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)["__type"], "SerializationException");
}

TEST_F(KinesisServiceTest, SubscribeToShardStreamsEvents) {
  Ok("CreateStream", {{"StreamName", "e"}, {"ShardCount", 1}});
  const std::string arn = "arn:aws:kinesis:us-east-1:000000000000:stream/e";
  std::string consumer = Ok(
      "RegisterStreamConsumer",
      {{"StreamARN", arn}, {"ConsumerName", "c"}})["Consumer"]["ConsumerARN"];
  Ok("PutRecord", {{"StreamName", "e"},
                   {"Data", Base64Encode("first")},
                   {"PartitionKey", "k"}});
  HttpResponse r = Call("SubscribeToShard",
                        {{"ConsumerARN", consumer},
                         {"ShardId", "shardId-000000000000"},
                         {"StartingPosition", {{"Type", "TRIM_HORIZON"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/vnd.amazon.eventstream");
  ASSERT_NE(r.stream, nullptr);
  auto sink = std::make_shared<FakeSink>();
  r.stream->Start(sink);
  std::vector<EventStreamMessage> m = sink->Messages();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].Header(":event-type"), "initial-response");
  EXPECT_EQ(m[0].payload, "{}");
  EXPECT_EQ(m[1].Header(":message-type"), "event");
  EXPECT_EQ(m[1].Header(":event-type"), "SubscribeToShardEvent");
  Json ev = Json::parse(m[1].payload);
  ASSERT_EQ(ev["Records"].size(), 1u);
  EXPECT_EQ(ev["Records"][0]["Data"], Base64Encode("first"));
  EXPECT_TRUE(ev.contains("ContinuationSequenceNumber"));
  EXPECT_EQ(ev["MillisBehindLatest"], 0);

  // A later put is pushed.
  Ok("PutRecord", {{"StreamName", "e"},
                   {"Data", Base64Encode("second")},
                   {"PartitionKey", "k"}});
  m = sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(Json::parse(m[0].payload)["Records"][0]["Data"],
            Base64Encode("second"));

  // A second subscription within 5 s is refused as a plain error.
  Error(Call("SubscribeToShard", {{"ConsumerARN", consumer},
                                  {"ShardId", "shardId-000000000000"},
                                  {"StartingPosition", {{"Type", "LATEST"}}}}),
        400, "ResourceInUseException");

  // After 5 minutes of the broker's clock the next push ends the body.
  clock_.Advance(absl::Minutes(5));
  Ok("PutRecord", {{"StreamName", "e"},
                   {"Data", Base64Encode("third")},
                   {"PartitionKey", "k"}});
  sink->Messages();
  EXPECT_TRUE(sink->closed());
  r.stream->Stop();
}

TEST_F(KinesisServiceTest, SubscribeToShardStopCancelsAndErrorsAreEvents) {
  Ok("CreateStream", {{"StreamName", "x"}, {"ShardCount", 1}});
  const std::string arn = "arn:aws:kinesis:us-east-1:000000000000:stream/x";
  std::string consumer = Ok(
      "RegisterStreamConsumer",
      {{"StreamARN", arn}, {"ConsumerName", "c"}})["Consumer"]["ConsumerARN"];
  Error(Call("SubscribeToShard", {{"ConsumerARN", arn + "/consumer/nobody:1"},
                                  {"ShardId", "shardId-000000000000"},
                                  {"StartingPosition", {{"Type", "LATEST"}}}}),
        400, "ResourceNotFoundException");
  HttpResponse r =
      Call("SubscribeToShard", {{"ConsumerARN", consumer},
                                {"ShardId", "shardId-000000000000"},
                                {"StartingPosition", {{"Type", "LATEST"}}}});
  ASSERT_NE(r.stream, nullptr);
  auto sink = std::make_shared<FakeSink>();
  r.stream->Start(sink);
  EXPECT_EQ(sink->Messages().size(), 2u);
  // The stream goes away: an exception event, then the end.
  Ok("DeleteStream", {{"StreamName", "x"}, {"EnforceConsumerDeletion", true}});
  Ok("CreateStream", {{"StreamName", "x"}, {"ShardCount", 1}});
  Ok("PutRecord", {{"StreamName", "x"},
                   {"Data", Base64Encode("new")},
                   {"PartitionKey", "k"}});
  std::vector<EventStreamMessage> m = sink->Messages();
  if (!m.empty()) {
    EXPECT_EQ(m.back().Header(":message-type"), "exception");
    EXPECT_EQ(m.back().Header(":exception-type"), "ResourceNotFoundException");
    EXPECT_TRUE(sink->closed());
  }
  r.stream->Stop();

  // Stop before anything else: no further writes.
  Ok("RegisterStreamConsumer", {{"StreamARN", arn}, {"ConsumerName", "d"}});
}

TEST_F(KinesisServiceTest, RoutingRecordingAndMetrics) {
  HttpRequest r;
  r.headers["x-amz-target"] = "Kinesis_20131202.ListStreams";
  EXPECT_TRUE(KinesisService::IsKinesisRequest(r));
  r.headers.clear();
  r.headers["authorization"] =
      "AWS4-HMAC-SHA256 Credential=a/20260101/eu-west-1/kinesis/aws4_request, "
      "SignedHeaders=host, Signature=00";
  EXPECT_TRUE(KinesisService::IsKinesisRequest(r));
  r.headers["authorization"] =
      "AWS4-HMAC-SHA256 Credential=a/20260101/eu-west-1/sqs/aws4_request, "
      "SignedHeaders=host, Signature=00";
  EXPECT_FALSE(KinesisService::IsKinesisRequest(r));
  r.headers["x-amz-target"] = "AmazonSQS.ListQueues";
  EXPECT_FALSE(KinesisService::IsKinesisRequest(r));

  Ok("CreateStream", {{"StreamName", "m"}, {"ShardCount", 1}});
  Ok("PutRecord", {{"StreamName", "m"},
                   {"Data", Base64Encode("12345")},
                   {"PartitionKey", "k"}});
  ASSERT_FALSE(records_.empty());
  EXPECT_EQ(records_.back().service, "kinesis");
  EXPECT_EQ(records_.back().protocol, "json");
  EXPECT_EQ(records_.back().operation, "PutRecord");
  EXPECT_EQ(records_.back().region, "us-east-1");
  EXPECT_EQ(records_.back().http_status, 200);
  std::string metrics = service_->MetricsText();
  EXPECT_THAT(metrics,
              HasSubstr("ferry_gateway_requests_total{service=\"kinesis\","
                        "operation=\"PutRecord\",status=\"200\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("kinesis_IncomingRecords_total{account=\"\","
                                 "region=\"us-east-1\",stream=\"m\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("kinesis_IncomingBytes_total{account=\"\","
                                 "region=\"us-east-1\",stream=\"m\"} 5"));
  EXPECT_THAT(metrics, HasSubstr("# TYPE kinesis_GetRecords_"
                                 "IteratorAgeMilliseconds gauge"));
  service_->ResetCounters();
  EXPECT_THAT(service_->MetricsText(), Not(HasSubstr("stream=\"m\"")));
}

}  // namespace
}  // namespace ferry::gateway_internal
