// The gateway's view of one HTTP exchange, independent of the HTTP stack, so
// that protocol handlers (SQS JSON/Query, SNS Query, Kinesis JSON/CBOR) can be
// tested and fuzzed without sockets, and served over HTTP/1.1 and HTTP/2.
#ifndef FERRY_GATEWAY_HTTP_MESSAGE_H_
#define FERRY_GATEWAY_HTTP_MESSAGE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace ferry::gateway_internal {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query string, as received
  // Lower-case names. A repeated header keeps its last value.
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;

  // The header's value, or "" when absent. `name` is lower case.
  std::string_view Header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : it->second;
  }
};

// The transport's end of a streamed response body (see ResponseStream).
// Implemented by each HTTP server (HTTP/1.1: chunked transfer encoding;
// HTTP/2: DATA frames of the request's stream).
//
// Thread safety: Write and Close may be called from any thread, concurrently
// with each other; they never block (the transport queues the bytes and
// sends them from its own event loop, in the order of the calls).
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Queues `bytes` as the next part of the body. Returns false (and drops the
  // bytes) once the body is closed or the connection is gone.
  virtual bool Write(std::string bytes) = 0;
  // Ends the body after what was written (HTTP/1.1: the last chunk;
  // HTTP/2: END_STREAM). Idempotent; later Writes are dropped.
  virtual void Close() = 0;
};

// A response body produced over time: an AWS event stream
// (application/vnd.amazon.eventstream, SubscribeToShard). The transport sends
// the HttpResponse's status and headers at once, then calls Start with its
// sink, and the stream writes body parts to the sink as they come and closes
// it when done. The transport calls Stop when the client went away (the
// connection closed or the HTTP/2 stream was reset) or the server stops; it
// then ends the body itself (Close of its own sink is idempotent).
//
// Thread safety: Start and Stop are called once each, in that order (Stop
// may come without Start if the head could not be sent), from the
// transport's threads. After Stop returns the stream makes no further call
// to the sink.
//
// Flow control: a transport may bound what it queues for a slow client; past
// its bound it ends the body and calls Stop (HTTP/1.1: 64 MiB).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual void Start(std::shared_ptr<BodySink> sink) = 0;
  virtual void Stop() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Not sent: the error's code for request records ("" on success).
  std::string error_code;
  // Close the connection without sending anything (fault injection).
  bool drop_connection = false;
  // Set: the body is streamed from it and `body` is ignored (see
  // ResponseStream). The connection is not reused afterwards on HTTP/1.1.
  std::shared_ptr<ResponseStream> stream;
};

// A decoded request, ready to run. `run` performs the operation and encodes
// its result or error. Calls that may block (long polls) set `may_block`, and
// the server runs them off its event loop.
struct PreparedCall {
  bool may_block = false;
  // Injected latency: the server waits this long (on a timer) before
  // running the call.
  absl::Duration delay = absl::ZeroDuration();
  absl::AnyInvocable<HttpResponse() &&> run;
};

// One wire protocol family (SQS, SNS, Kinesis).
class Service {
 public:
  virtual ~Service() = default;
  // Decodes `request`. Never fails: a request it cannot decode yields a call
  // that returns the protocol's error response.
  virtual PreparedCall Prepare(HttpRequest request) = 0;
  // The error response for a request the HTTP layer refused before its body
  // was read (e.g. too large), in the protocol its headers announce.
  virtual HttpResponse RefusedResponse(const HttpRequest& headers_only,
                                       int http_status, std::string_view code,
                                       std::string_view message) = 0;
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_HTTP_MESSAGE_H_
