// libFuzzer target for the gateway's SNS request decoding: Query requests
// built from the input go through SnsService::IsSnsRequest and SnsService
// against an in-memory broker holding a topic with a queue subscribed (so
// publishes fan out).
//
// Input: byte 0 picks signing, method and path, byte 1 the operation, the
// rest is the query string and the body, split at the first NUL.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "http_message.h"
#include "service_support.h"
#include "sns_service.h"

namespace {

using ferry::gateway_internal::FaultQueue;
using ferry::gateway_internal::HttpRequest;
using ferry::gateway_internal::HttpResponse;
using ferry::gateway_internal::PreparedCall;
using ferry::gateway_internal::SnsService;

constexpr const char* kOperations[] = {
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "PublishBatch",
    "CreatePlatformApplication",
    "ListPlatformApplications",
    "GetPlatformApplicationAttributes",
    "SetPlatformApplicationAttributes",
    "DeletePlatformApplication",
    "CreatePlatformEndpoint",
    "ListEndpointsByPlatformApplication",
    "GetEndpointAttributes",
    "SetEndpointAttributes",
    "DeleteEndpoint",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "AddPermission",
    "RemovePermission",
    "NoSuchOperation",
};

struct Harness {
  Harness() {
    ferry::BrokerOptions options;
    options.clock = &clock;
    broker = *ferry::Broker::Open(options, ferry::NewMemoryBackend());
    broker->sns().SetMessageSigning(false);
    service =
        std::make_unique<SnsService>(broker->sns(), gateway_options, &faults);
    Provision();
  }
  void Provision() {
    ferry::RequestContext ctx;
    ctx.region = "us-east-1";
    (void)broker->sqs().CreateQueue(ctx, {.queue_name = "q"});
    (void)broker->sns().CreateTopic(ctx, {.name = "t"});
    (void)broker->sns().Subscribe(
        ctx, {.topic_arn = "arn:aws:sns:us-east-1:000000000000:t",
              .protocol = "sqs",
              .endpoint = "arn:aws:sqs:us-east-1:000000000000:q"});
  }

  ferry_testing::ManualClock clock;
  std::unique_ptr<ferry::Broker> broker;
  ferry::GatewayOptions gateway_options;
  FaultQueue faults{1};
  std::unique_ptr<SnsService> service;
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
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  size_t nul = rest.find('\0');
  std::string_view query =
      nul == std::string_view::npos ? std::string_view() : rest.substr(0, nul);
  std::string_view body =
      nul == std::string_view::npos ? rest : rest.substr(nul + 1);

  HttpRequest req;
  req.method = (mode & 4) ? "GET" : "POST";
  req.target = (mode & 2) ? "/SimpleNotificationService-x.pem" : "/";
  req.target += "?Action=" + std::string(op) + "&Version=2010-03-31&" +
                std::string(query);
  req.headers["host"] = "localhost";
  req.headers["content-type"] = "application/x-www-form-urlencoded";
  if (mode & 8) {
    req.headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/"
        "aws4_request, SignedHeaders=host, Signature=00";
  }
  req.body = std::string(body);
  (void)SnsService::IsSnsRequest(req);
  PreparedCall call = h->service->Prepare(std::move(req));
  HttpResponse response = std::move(call.run)();
  if (response.status < 200 || response.status > 599) __builtin_trap();
  return 0;
}
