// -----------------------------------------------------------------------------
// File: ferry/gateway.h
// -----------------------------------------------------------------------------
//
// `ferry::Gateway` serves a Broker over the AWS wire protocols, so that AWS
// SDKs and the AWS CLI can use ferry with only their endpoint URL changed.
// It speaks HTTP/1.1 (keep-alive, many concurrent connections) and, for SQS,
// both the AWS JSON 1.0 protocol (X-Amz-Target: AmazonSQS.<Op>) and the
// Query protocol (form-encoded Action=<Op>, XML responses), and SNS in its
// Query protocol (Version=2010-03-31, XML in the namespace
// http://sns.amazonaws.com/doc/2010-03-31/). A request is SNS's when its
// SigV4 credential scope names the service "sns", or, unsigned, when it
// carries Version=2010-03-31 or an Action only SNS has; GET
// /SimpleNotificationService-*.pem (the path of the envelopes'
// SigningCertURL) returns the signing certificate. Kinesis is served in AWS
// JSON 1.1 and CBOR (X-Amz-Target: Kinesis_20131202.<Op>, or a credential
// scope naming "kinesis"; the answer in the request's encoding), with
// SubscribeToShard answered as an AWS event stream
// (application/vnd.amazon.eventstream; chunked over HTTP/1.1) and requests
// bounded at 8 MiB. It holds no semantics of its own: every request becomes
// a call of `Broker::sqs()`, `Broker::sns()` or `Broker::kinesis()`.
//
// Requests are signed by the SDKs with SigV4. With no configured
// credentials (the default) every signature, and unsigned requests, are
// accepted; with credentials, a request must be signed (Authorization header)
// with one of them, else it gets HTTP 403 (MissingAuthenticationToken,
// InvalidClientTokenId or SignatureDoesNotMatch). The request time is not
// checked. The region is read from the credential scope
// (Credential=AKID/date/REGION/sqs/aws4_request) and the account from the
// access key: a configured credential names its account, a 12-digit access
// key id is taken as the account id, anything else is the broker's default.
// Queue URLs in responses are built from the request's Host header.
//
// Also served: GET /health (200, {"status":"ok"}) and GET /metrics
// (Prometheus text: per queue the CloudWatch gauges
// sqs_ApproximateNumberOfMessages{Visible,NotVisible,Delayed} and counters of
// this gateway's traffic sqs_NumberOfMessages{Sent,Received,Deleted}_total and
// sqs_NumberOfEmptyReceives_total, labelled account/region/queue; and
// ferry_gateway_requests_total by operation and HTTP status).
//
// Test support, off by default (GatewayOptions::admin_endpoints): JSON
// endpoints under /_ferry/ for test suites in any language.
//   POST   /_ferry/reset          Reset(): every queue and message gone,
//                                 faults and recorded requests cleared, then
//                                 GatewayOptions::on_reset (e.g. provision
//                                 again)
//   GET    /_ferry/clock          {"manual":bool,"epoch_ms":N,"time":"..."}
//   POST   /_ferry/clock/advance  {"seconds":S} or {"milliseconds":N}: moves
//                                 the manual clock forward (400 unless
//                                 GatewayOptions::manual_clock is set)
//   POST   /_ferry/clock/set      {"epoch_ms":N}: moves it to N (never back)
//   GET    /_ferry/faults         the queued faults
//   POST   /_ferry/faults         one fault: {"operation","error",
//                                 "http_status","message","drop_connection",
//                                 "probability","latency_ms","times"}
//                                 (InjectedFault's fields; times -1: until
//                                 cleared)
//   DELETE /_ferry/faults         ClearFaults()
//   GET    /_ferry/requests       the recorded requests, oldest first
//   DELETE /_ferry/requests       ClearRecordedRequests()
//   POST   /_ferry/provision      a ferry/provision.h document: creates its
//                                 queues
// Errors are {"error":"..."} with HTTP 400 (bad request), 404 (unknown path)
// or 405 (wrong method). With admin endpoints off, every /_ferry/ path but
// /_ferry/health is 404.
//
// Thread safety: Start() and Stop() must not race each other; endpoint() and
// port() may be called from any thread once Start() returned.
// Errors: Start() fails with the bind/listen error. Malformed requests get
// AWS-style errors of the request's protocol; the server never crashes.
//
// Example:
//   auto broker = ferry::Broker::Open({}, ferry::NewMemoryBackend());
//   ferry::Gateway gateway(**broker, {.port = 0});
//   absl::StatusOr<std::string> url = gateway.Start();  // http://127.0.0.1:N
//   ... point an SDK at *url ...
//   gateway.Stop();
#ifndef FERRY_GATEWAY_H_
#define FERRY_GATEWAY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/export.h"
#include "ferry/faults.h"

namespace ferry_testing {
class ManualClock;
}  // namespace ferry_testing

namespace ferry {

// An access key the gateway knows, and the account its requests act in.
struct GatewayCredential {
  std::string access_key_id{};
  std::string secret_access_key{};
  // Empty: the broker's default account.
  std::string account{};
};

// One request the gateway answered, as `Gateway::RecordedRequests()` returns
// it (when GatewayOptions::record_requests is set).
struct RecordedRequest {
  std::string service{};    // "sqs", "sns" or "kinesis"
  std::string protocol{};   // "json", "query" or "cbor"
  std::string operation{};  // e.g. "SendMessage"; empty if none was named
  std::string method{};
  std::string target{};  // path and query string
  // Lower-case names.
  std::map<std::string, std::string> headers{};
  std::string body{};
  // The caller, as the gateway understood it (empty: broker defaults).
  std::string access_key_id{};
  std::string account{};
  std::string region{};
  // The answer: HTTP status, and for errors the error's code (the Query
  // code, e.g. "AWS.SimpleQueueService.NonExistentQueue").
  int http_status = 0;
  std::string error_code{};
};

// A failure the gateway returns instead of serving a request (test support):
// an AWS error, or a connection closed without an answer, each possibly
// after a delay (on a timer: no thread is held); or only a delay before the
// request is served normally. It is core's FaultRule (ferry/faults.h), and
// the gateway's faults are its broker's (Broker::faults()): a fault injected
// here also hits native calls, and one injected on the broker also hits
// requests over the wire. Over the wire, an `error` not in the service's
// table is sent as its own code with `http_status`; `drop_connection`
// closes the connection. An empty `message` is sent as "Injected by the
// ferry gateway.". Requests longer than the client's timeout look like
// timeouts to it.
using InjectedFault = FaultRule;

struct GatewayOptions {
  // Interface to bind. The default serves only this machine.
  std::string host = "127.0.0.1";
  // 0: an ephemeral port, reported by Start() and port().
  uint16_t port = 0;
  // Largest request body accepted for SQS and SNS; larger requests get HTTP
  // 413. (Kinesis requests are bounded at AWS's 8 MiB.)
  size_t max_sqs_body_bytes = 4 << 20;
  // Connections beyond this are closed as soon as they are accepted.
  int max_connections = 1024;
  // Threads running the HTTP event loops, one loop each (non-blocking
  // operations run there); connections are dealt to the loops in turn.
  int io_threads = 2;
  // Upper bound of the threads that run calls which may block (long-poll
  // ReceiveMessage). Threads are started on demand; calls beyond the bound
  // wait for a free thread.
  int max_blocking_threads = 256;
  // A connection idle (or stalled mid-request or mid-response) this long is
  // closed.
  absl::Duration idle_timeout = absl::Seconds(120);
  // When non-empty, only requests signed with one of these are served; see
  // the file comment.
  std::vector<GatewayCredential> credentials{};
  // Keep every answered request for RecordedRequests() (test support; the
  // record grows until ClearRecordedRequests(), or up to
  // max_recorded_requests, when the oldest are dropped; 0: no bound).
  bool record_requests = false;
  size_t max_recorded_requests = 0;
  // Serve the test-support endpoints under /_ferry/ (see the file comment).
  bool admin_endpoints = false;
  // The broker's clock when it is a manual one; /_ferry/clock/advance and
  // /_ferry/clock/set move it. REQUIRES: outlives the gateway.
  ferry_testing::ManualClock* manual_clock = nullptr;
  // Runs at the end of Reset() (and POST /_ferry/reset), e.g. to provision
  // queues again; its error is Reset()'s.
  std::function<absl::Status(Broker&)> on_reset{};
  // Seeds the draws of faults' probabilities (reseeding the broker's
  // FaultInjector); 0: keep the broker's seed.
  uint64_t fault_seed = 0;
};

class FERRY_EXPORT Gateway {
 public:
  // REQUIRES: `broker` outlives the gateway.
  explicit Gateway(Broker& broker, GatewayOptions options = {});
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
  // Stops the gateway if it is running.
  ~Gateway();

  // Binds, listens and starts serving. Returns the endpoint URL, e.g.
  // "http://127.0.0.1:4566". May be called once.
  absl::StatusOr<std::string> Start();

  // Stops accepting, closes idle connections, ends waiting long polls with
  // empty results, lets every request in progress finish and its response be
  // written, then closes the remaining connections and joins every thread.
  // Idempotent.
  void Stop();

  // The endpoint URL and port after Start(); empty and 0 before.
  std::string endpoint() const;
  uint16_t port() const;

  // The requests answered so far, oldest first (empty unless
  // GatewayOptions::record_requests). A request is recorded before its
  // response is sent, so a client that got a response finds it here.
  std::vector<RecordedRequest> RecordedRequests() const;
  void ClearRecordedRequests();

  // Queues `fault` for the next `times` requests it hits (times < 0: every
  // request until ClearFaults(); 0: none). Faults are considered in the order
  // they were injected, and the first that hits a request is used. Works
  // before and after Start().
  static constexpr int kUntilCleared = -1;
  void InjectFault(const InjectedFault& fault, int times = 1);
  void ClearFaults();

  // Test support: Broker::Reset() (every queue and message gone), the
  // faults, recorded requests and traffic counters cleared, then
  // GatewayOptions::on_reset. Requests in progress may see either state.
  absl::Status Reset();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry

#endif  // FERRY_GATEWAY_H_
