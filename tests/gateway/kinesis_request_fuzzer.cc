// libFuzzer target for the gateway's Kinesis request decoding: requests
// built from the input go through KinesisService::IsKinesisRequest and
// KinesisService (JSON 1.1 or CBOR) against an in-memory broker holding a
// two-shard stream with records and a registered consumer; SubscribeToShard
// answers are streamed into a sink and stopped. The input is also fed to the
// CBOR and event-stream decoders directly.
//
// Input: byte 0 picks the encoding, signing and target form, byte 1 the
// operation, the rest is the body.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cbor.h"
#include "event_stream.h"
#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/kinesis.h"
#include "ferry/memory_backend.h"
#include "ferry/testing/manual_clock.h"
#include "http_message.h"
#include "kinesis_service.h"
#include "service_support.h"

namespace {

using ferry::gateway_internal::BodySink;
using ferry::gateway_internal::FaultQueue;
using ferry::gateway_internal::HttpRequest;
using ferry::gateway_internal::HttpResponse;
using ferry::gateway_internal::KinesisService;
using ferry::gateway_internal::PreparedCall;

constexpr const char* kOperations[] = {
    "AddTagsToStream",
    "CreateStream",
    "DecreaseStreamRetentionPeriod",
    "DeleteStream",
    "DeregisterStreamConsumer",
    "DescribeStream",
    "DescribeStreamConsumer",
    "DescribeStreamSummary",
    "GetRecords",
    "GetShardIterator",
    "IncreaseStreamRetentionPeriod",
    "ListShards",
    "ListStreamConsumers",
    "ListStreams",
    "ListTagsForStream",
    "MergeShards",
    "PutRecord",
    "PutRecords",
    "RegisterStreamConsumer",
    "RemoveTagsFromStream",
    "SplitShard",
    "SubscribeToShard",
    "UpdateShardCount",
    "NoSuchOperation",
};

class NullSink : public BodySink {
 public:
  bool Write(std::string bytes) override {
    written += bytes.size();
    return true;
  }
  void Close() override {}
  size_t written = 0;
};

struct Harness {
  Harness() {
    ferry::BrokerOptions options;
    options.clock = &clock;
    broker = *ferry::Broker::Open(options, ferry::NewMemoryBackend());
    service = std::make_unique<KinesisService>(broker->kinesis(),
                                               gateway_options, &faults);
    Provision();
  }
  void Provision() {
    ferry::RequestContext ctx;
    ctx.region = "us-east-1";
    ferry::Kinesis& k = broker->kinesis();
    (void)k.CreateStream(ctx, {.stream_name = "s", .shard_count = 2});
    for (int i = 0; i < 4; ++i) {
      (void)k.PutRecord(ctx, {.stream_name = "s",
                              .data = "record",
                              .partition_key = std::to_string(i)});
    }
    (void)k.RegisterStreamConsumer(
        ctx, {.stream_arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s",
              .consumer_name = "c"});
  }

  ferry_testing::ManualClock clock;
  std::unique_ptr<ferry::Broker> broker;
  ferry::GatewayOptions gateway_options;
  FaultQueue faults{1};
  std::unique_ptr<KinesisService> service;
  int runs = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = new Harness();
  if (++h->runs % 2000 == 0) {
    (void)h->broker->Reset();
    h->Provision();
  }
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const char* op = kOperations[data[1] % std::size(kOperations)];
  std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);

  (void)ferry::gateway_internal::DecodeCbor(body);
  std::string frames(body);
  bool error = false;
  while (ferry::gateway_internal::DecodeEventStreamMessage(&frames, &error)) {
  }

  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers["host"] = "localhost";
  req.headers["content-type"] =
      (mode & 1) ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1";
  if (!(mode & 2))
    req.headers["x-amz-target"] = "Kinesis_20131202." + std::string(op);
  if (mode & 4) {
    req.headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/"
        "aws4_request, SignedHeaders=host, Signature=00";
  }
  req.body = std::string(body);
  (void)KinesisService::IsKinesisRequest(req);
  PreparedCall call = h->service->Prepare(std::move(req));
  HttpResponse response = std::move(call.run)();
  if (response.status < 200 || response.status > 599) __builtin_trap();
  if (response.stream != nullptr) {
    auto sink = std::make_shared<NullSink>();
    response.stream->Start(sink);
    response.stream->Stop();
  }
  if (mode & 8) h->clock.Advance(absl::Seconds(1));
  return 0;
}
