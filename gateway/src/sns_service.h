// SNS over the wire: the AWS Query protocol (form-encoded Action=<Op>,
// Version=2010-03-31; XML responses in the namespace
// http://sns.amazonaws.com/doc/2010-03-31/), decoded into ferry/sns.h's
// request structs and encoded from its results. Member and element names
// follow botocore's SNS service model (service-2.json): maps are not
// flattened (`Attributes.entry.N.key`/`.value`, `MessageAttributes.entry.N.
// Name`/`.Value.DataType`), lists are `.member.N`.
#ifndef FERRY_GATEWAY_SNS_SERVICE_H_
#define FERRY_GATEWAY_SNS_SERVICE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "ferry/gateway.h"
#include "ferry/sns.h"
#include "ferry/sync.h"
#include "http_message.h"
#include "service_support.h"

namespace ferry::gateway_internal {

class SnsService : public Service {
 public:
  // REQUIRES: `sns`, `options` and `faults` (when not null) outlive the
  // service.
  SnsService(Sns& sns, const GatewayOptions& options, FaultQueue* faults,
             RequestRecorder recorder = nullptr)
      : sns_(sns),
        options_(options),
        faults_(faults),
        recorder_(std::move(recorder)) {}

  PreparedCall Prepare(HttpRequest request) override;
  HttpResponse RefusedResponse(const HttpRequest& headers_only, int http_status,
                               std::string_view code,
                               std::string_view message) override;

  // True for requests meant for SNS: signed with credential scope service
  // "sns"; or unsigned, not JSON, and with Version=2010-03-31 or an Action
  // only SNS has (in the query string or a form-encoded body). Also
  // GET /SimpleNotificationService-*.pem, the path of the envelopes'
  // SigningCertURL: it is answered with Sns::SigningCertificatePem().
  static bool IsSnsRequest(const HttpRequest& request);

  // Lines for GET /metrics (Prometheus text), appended after the SQS
  // service's: ferry_gateway_requests_total{service="sns",...} samples
  // (the family's HELP/TYPE lines are the SQS service's), then the counter
  // sns_NumberOfMessagesPublished_total per topic (CloudWatch's
  // NumberOfMessagesPublished) for messages published through this gateway.
  std::string MetricsText();
  // Forgets the counters of MetricsText.
  void ResetCounters();

 private:
  PreparedCall PrepareCall(HttpRequest& request, RecordedRequest* record);
  void Count(const std::string& op, int status, const std::string& topic_arn,
             int64_t published);

  Sns& sns_;
  const GatewayOptions& options_;
  FaultQueue* faults_;
  RequestRecorder recorder_;

  Mutex metrics_mu_;
  // operation -> HTTP status -> count
  std::map<std::string, std::map<int, int64_t>> requests_
      ABSL_GUARDED_BY(metrics_mu_);
  // topic ARN -> messages published
  std::map<std::string, int64_t> published_ ABSL_GUARDED_BY(metrics_mu_);
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_SNS_SERVICE_H_
