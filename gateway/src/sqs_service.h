// SQS over the wire: the AWS JSON 1.0 protocol (X-Amz-Target:
// AmazonSQS.<Op>) and the Query protocol (Action=<Op>, XML responses), both
// decoded into ferry/sqs.h's request structs and encoded from its results.
#ifndef FERRY_GATEWAY_SQS_SERVICE_H_
#define FERRY_GATEWAY_SQS_SERVICE_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "ferry/gateway.h"
#include "ferry/sqs.h"
#include "http_message.h"

namespace ferry::gateway_internal {

class SqsService : public Service {
 public:
  // Receives a record of every answered request when requests are recorded.
  using Recorder = std::function<void(RecordedRequest)>;

  // REQUIRES: `sqs`, `options` and `cancellation` outlive the service.
  SqsService(Sqs& sqs, const GatewayOptions& options,
             ReceiveCancellation* cancellation, Recorder recorder = nullptr)
      : sqs_(sqs),
        options_(options),
        cancellation_(cancellation),
        recorder_(std::move(recorder)) {}

  PreparedCall Prepare(HttpRequest request) override;
  HttpResponse RefusedResponse(const HttpRequest& headers_only, int http_status,
                               std::string_view code,
                               std::string_view message) override;

  // True for requests in the JSON protocol (Content-Type x-amz-json-*).
  static bool IsJson(const HttpRequest& request);

 private:
  // Prepare's work; fills `record` (when not null) as it learns the caller
  // and the operation.
  PreparedCall PrepareCall(HttpRequest& request, RecordedRequest* record);

  Sqs& sqs_;
  const GatewayOptions& options_;
  ReceiveCancellation* cancellation_;
  Recorder recorder_;
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_SQS_SERVICE_H_
