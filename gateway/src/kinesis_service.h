// Kinesis over the wire: X-Amz-Target: Kinesis_20131202.<Op> with a body in
// AWS JSON 1.1 (application/x-amz-json-1.1, also plain application/json) or
// in CBOR (application/x-amz-cbor-1.1, the Java SDKs' default), answered in
// the request's encoding. Requests are decoded into ferry/kinesis.h's request
// structs and results encoded from its result structs; member names follow
// botocore's kinesis service model (service-2.json, 2013-12-02).
//
// Encodings: blobs (Data) are base64 strings in JSON and byte strings in
// CBOR; timestamps are epoch seconds in JSON, written as plain decimals with
// millisecond precision (1785732980.986, never 1.785732980986E9, which breaks
// the Java SDK), and tag 1 around integer epoch milliseconds in CBOR (what
// the Java SDKs write and read; see cbor.h).
//
// Errors: {"__type":"<Shape>","message":"..."} (SerializationException:
// "Message", as AWS's Coral front end sends it) in the request's encoding,
// with the shape's HTTP status (400; InternalFailure 500) and an
// x-amzn-RequestId header. Core's validation errors pass through unchanged.
//
// SubscribeToShard answers application/vnd.amazon.eventstream: an
// `initial-response` event, then a `SubscribeToShardEvent` for each push of
// the core subscription, and an exception event (e.g.
// ResourceNotFoundException) if it fails; the body ends when the
// subscription does (5 minutes of the broker's clock, the shard's end, a
// newer subscription) or the client goes away. See http_message.h's
// ResponseStream.
#ifndef FERRY_GATEWAY_KINESIS_SERVICE_H_
#define FERRY_GATEWAY_KINESIS_SERVICE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "ferry/gateway.h"
#include "ferry/kinesis.h"
#include "ferry/sync.h"
#include "http_message.h"
#include "service_support.h"

namespace ferry::gateway_internal {

// AWS's bound of a Kinesis request (PutRecords of 5 MiB of data grows by a
// third in base64); larger requests get HTTP 413.
inline constexpr size_t kMaxKinesisBodyBytes = 8 << 20;

class KinesisService : public Service {
 public:
  // REQUIRES: `kinesis`, `options` and `faults` (when not null) outlive the
  // service and every stream it answered.
  KinesisService(Kinesis& kinesis, const GatewayOptions& options,
                 FaultQueue* faults, RequestRecorder recorder = nullptr)
      : kinesis_(kinesis),
        options_(options),
        faults_(faults),
        recorder_(std::move(recorder)) {}

  PreparedCall Prepare(HttpRequest request) override;
  HttpResponse RefusedResponse(const HttpRequest& headers_only, int http_status,
                               std::string_view code,
                               std::string_view message) override;

  // True for requests meant for Kinesis: X-Amz-Target Kinesis_20131202.*,
  // or a SigV4 credential scope naming the service "kinesis". Looks at the
  // headers only.
  static bool IsKinesisRequest(const HttpRequest& request);

  // Lines for GET /metrics (Prometheus text): ferry_gateway_requests_total
  // {service="kinesis",...} samples, then per stream (labels account,
  // region, stream; "" is the broker's default) the counters of this
  // gateway's traffic with CloudWatch's names: kinesis_IncomingRecords_total,
  // kinesis_IncomingBytes_total, kinesis_GetRecords_Records_total,
  // kinesis_GetRecords_Bytes_total,
  // kinesis_WriteProvisionedThroughputExceeded_total,
  // kinesis_ReadProvisionedThroughputExceeded_total, and the gauge
  // kinesis_GetRecords_IteratorAgeMilliseconds (the last GetRecords'
  // MillisBehindLatest). GetRecords is counted under its stream when the
  // request names StreamARN, else under stream "".
  std::string MetricsText();
  void ResetCounters();

  // What one answered request adds to the counters.
  struct Traffic {
    std::string stream;
    int64_t incoming_records = 0, incoming_bytes = 0;
    int64_t get_records = 0, get_bytes = 0;
    int64_t write_throttled = 0, read_throttled = 0;
    int64_t iterator_age_ms = -1;  // -1: not a GetRecords
  };

 private:
  PreparedCall PrepareCall(HttpRequest& request, RecordedRequest* record);
  void Count(const std::string& op, int status, const RequestContext& ctx,
             const Traffic& t);

  Kinesis& kinesis_;
  const GatewayOptions& options_;
  FaultQueue* faults_;
  RequestRecorder recorder_;

  struct StreamKey {
    std::string account, region, stream;
    friend bool operator<(const StreamKey& a, const StreamKey& b) {
      return std::tie(a.account, a.region, a.stream) <
             std::tie(b.account, b.region, b.stream);
    }
  };
  struct StreamCounters {
    int64_t incoming_records = 0, incoming_bytes = 0;
    int64_t get_records = 0, get_bytes = 0;
    int64_t write_throttled = 0, read_throttled = 0;
    int64_t iterator_age_ms = -1;
  };
  Mutex metrics_mu_;
  std::map<std::string, std::map<int, int64_t>> requests_
      ABSL_GUARDED_BY(metrics_mu_);
  std::map<StreamKey, StreamCounters> streams_ ABSL_GUARDED_BY(metrics_mu_);
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_KINESIS_SERVICE_H_
