// -----------------------------------------------------------------------------
// File: ferry/gateway.h
// -----------------------------------------------------------------------------
//
// `ferry::Gateway` serves a Broker over the AWS wire protocols, so that AWS
// SDKs and the AWS CLI can use ferry with only their endpoint URL changed.
// It speaks HTTP/1.1 (keep-alive, many concurrent connections) and, for SQS,
// both the AWS JSON 1.0 protocol (X-Amz-Target: AmazonSQS.<Op>) and the
// Query protocol (form-encoded Action=<Op>, XML responses). It holds no
// semantics of its own: every request becomes a call of `Broker::sqs()`.
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
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/export.h"

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
  std::string service{};    // "sqs"
  std::string protocol{};   // "json" or "query"
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
// an AWS error, or a connection closed without an answer.
struct InjectedFault {
  // The operation it applies to, e.g. "SendMessage"; empty: any.
  std::string operation{};
  // The error's shape or code in SQS's error table (e.g. "RequestThrottled",
  // "ServiceUnavailable", "InternalFailure", "QueueDoesNotExist"); its HTTP
  // status and Query code come from the table. An unknown name is sent with
  // `http_status` and itself as code.
  std::string error{};
  int http_status = 500;
  std::string message = "Injected by the ferry gateway.";
  // Close the connection without a response instead.
  bool drop_connection = false;
};

struct GatewayOptions {
  // Interface to bind. The default serves only this machine.
  std::string host = "127.0.0.1";
  // 0: an ephemeral port, reported by Start() and port().
  uint16_t port = 0;
  // Largest request body accepted for SQS; larger requests get HTTP 413.
  size_t max_sqs_body_bytes = 4 << 20;
  // Connections beyond this are closed as soon as they are accepted.
  int max_connections = 1024;
  // Threads running the HTTP event loop (non-blocking operations run there).
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
  // record grows until ClearRecordedRequests()).
  bool record_requests = false;
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

  // Queues `fault` for the next `times` requests it applies to; faults are
  // used in the order they were injected. Works before and after Start().
  void InjectFault(const InjectedFault& fault, int times = 1);
  void ClearFaults();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry

#endif  // FERRY_GATEWAY_H_
