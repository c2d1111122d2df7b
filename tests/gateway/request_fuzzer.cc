// libFuzzer target for the gateway's request decoding: SQS JSON and Query
// requests built from the input run through SqsService against an in-memory
// broker (ManualClock; long polls are cancelled up front, so none waits).
//
// Input: byte 0 picks the protocol and path, byte 1 the operation, the rest
// is the body (and for Query also the query string, split at the first NUL).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/memory_backend.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "http_message.h"
#include "sqs_service.h"

namespace {

using ferry::gateway_internal::HttpRequest;
using ferry::gateway_internal::HttpResponse;
using ferry::gateway_internal::PreparedCall;
using ferry::gateway_internal::SqsService;

constexpr const char* kOperations[] = {
    "CreateQueue",
    "GetQueueUrl",
    "ListQueues",
    "DeleteQueue",
    "GetQueueAttributes",
    "SetQueueAttributes",
    "PurgeQueue",
    "SendMessage",
    "SendMessageBatch",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "TagQueue",
    "UntagQueue",
    "ListQueueTags",
    "ListDeadLetterSourceQueues",
    "AddPermission",
    "RemovePermission",
    "StartMessageMoveTask",
    "CancelMessageMoveTask",
    "ListMessageMoveTasks",
    "NoSuchOperation",
};

struct Harness {
  Harness() {
    ferry::BrokerOptions options;
    options.clock = &clock;
    broker = *ferry::Broker::Open(options, ferry::NewMemoryBackend());
    cancellation.Cancel();
    service = std::make_unique<SqsService>(broker->sqs(), gateway_options,
                                           &cancellation);
    Provision();
  }
  void Provision() {
    ferry::RequestContext ctx;
    ctx.endpoint = "http://localhost";
    (void)broker->sqs().CreateQueue(ctx, {.queue_name = "q"});
    (void)broker->sqs().CreateQueue(
        ctx, {.queue_name = "f.fifo", .attributes = {{"FifoQueue", "true"}}});
  }

  ferry_testing::ManualClock clock;
  std::unique_ptr<ferry::Broker> broker;
  ferry::GatewayOptions gateway_options;
  ferry::ReceiveCancellation cancellation;
  std::unique_ptr<SqsService> service;
  int runs = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = new Harness();
  if (++h->runs % 5000 == 0) {
    (void)h->broker->Reset();
    h->Provision();
  }
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const char* op = kOperations[data[1] % std::size(kOperations)];
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

  HttpRequest req;
  req.method = (mode & 4) ? "GET" : "POST";
  req.target = (mode & 2) ? "/000000000000/q" : "/";
  req.headers["host"] = "localhost";
  if (mode & 8) {
    req.headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/sqs/"
        "aws4_request, SignedHeaders=host, Signature=00";
  }
  if (mode & 1) {
    req.headers["content-type"] = "application/x-amz-json-1.0";
    req.headers["x-amz-target"] = std::string("AmazonSQS.") + op;
    req.body = std::string(rest);
  } else {
    req.headers["content-type"] = "application/x-www-form-urlencoded";
    size_t nul = rest.find('\0');
    std::string_view query = nul == std::string_view::npos
                                 ? std::string_view()
                                 : rest.substr(0, nul);
    std::string_view body =
        nul == std::string_view::npos ? rest : rest.substr(nul + 1);
    req.target += "?Action=" + std::string(op) + "&" + std::string(query);
    req.body = std::string(body);
  }
  PreparedCall call = h->service->Prepare(std::move(req));
  HttpResponse response = std::move(call.run)();
  if (response.status < 200 || response.status > 599) __builtin_trap();
  return 0;
}
