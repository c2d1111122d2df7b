// SQS over the wire: the AWS JSON 1.0 protocol (X-Amz-Target:
// AmazonSQS.<Op>) and the Query protocol (Action=<Op>, XML responses), both
// decoded into ferry/sqs.h's request structs and encoded from its results.
#ifndef FERRY_GATEWAY_SQS_SERVICE_H_
#define FERRY_GATEWAY_SQS_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "ferry/gateway.h"
#include "ferry/sqs.h"
#include "ferry/sync.h"
#include "http_message.h"
#include "service_support.h"

namespace ferry::gateway_internal {

class SqsService : public Service {
 public:
  // Receives a record of every answered request when requests are recorded.
  using Recorder = RequestRecorder;

  // REQUIRES: `sqs`, `options` and `cancellation` outlive the service.
  SqsService(Sqs& sqs, const GatewayOptions& options,
             ReceiveCancellation* cancellation, Recorder recorder = nullptr)
      : sqs_(sqs),
        options_(options),
        cancellation_(cancellation),
        recorder_(std::move(recorder)),
        faults_(options.fault_seed) {}

  PreparedCall Prepare(HttpRequest request) override;
  HttpResponse RefusedResponse(const HttpRequest& headers_only, int http_status,
                               std::string_view code,
                               std::string_view message) override;

  // True for requests in the JSON protocol (Content-Type x-amz-json-*).
  static bool IsJson(const HttpRequest& request);

  // The Prometheus text (format 0.0.4) of GET /metrics: per queue, the
  // CloudWatch gauges read from the broker and the CloudWatch counters of
  // the traffic this gateway served, plus request counts per operation.
  std::string MetricsText();

  // `times` < 0: until cleared.
  void InjectFault(const InjectedFault& fault, int times);
  void ClearFaults();
  // The queued faults and their remaining counts (-1: until cleared).
  std::vector<std::pair<InjectedFault, int>> Faults();
  // Forgets the traffic counters of /metrics.
  void ResetCounters();
  // The queue InjectFault fills; other services (SNS) draw from it too.
  FaultQueue& faults() { return faults_; }

 private:
  // Prepare's work; fills `record` (when not null) as it learns the caller
  // and the operation.
  PreparedCall PrepareCall(HttpRequest& request, RecordedRequest* record);

  Sqs& sqs_;
  const GatewayOptions& options_;
  ReceiveCancellation* cancellation_;
  Recorder recorder_;

  // Traffic counters. Queues are keyed by (request region, account, name);
  // the region is "" for the broker's default.
  struct QueueKey {
    std::string region, account, name;
    friend bool operator<(const QueueKey& a, const QueueKey& b) {
      return std::tie(a.region, a.account, a.name) <
             std::tie(b.region, b.account, b.name);
    }
  };
  struct QueueCounters {
    int64_t sent = 0, received = 0, deleted = 0, empty_receives = 0;
  };
  // Records one answered request (and its message counts when it succeeded).
  void Count(const std::string& op, int status, const RequestContext& ctx,
             const std::string& queue_url, const QueueCounters& delta);
  FaultQueue faults_;

  Mutex metrics_mu_;
  std::map<QueueKey, QueueCounters> counters_ ABSL_GUARDED_BY(metrics_mu_);
  // (account, region) pairs requests came from, to list their queues.
  std::set<std::pair<std::string, std::string>> scopes_
      ABSL_GUARDED_BY(metrics_mu_);
  // operation -> HTTP status -> count
  std::map<std::string, std::map<int, int64_t>> requests_
      ABSL_GUARDED_BY(metrics_mu_);
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_SQS_SERVICE_H_
