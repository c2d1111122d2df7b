// The gateway's view of one HTTP exchange, independent of the HTTP stack, so
// that protocol handlers (SQS JSON/Query now; SNS Query and Kinesis JSON/CBOR
// later) can be tested and fuzzed without sockets.
#ifndef FERRY_GATEWAY_HTTP_MESSAGE_H_
#define FERRY_GATEWAY_HTTP_MESSAGE_H_

#include <functional>
#include <map>
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

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Not sent: the error's code for request records ("" on success).
  std::string error_code;
  // Close the connection without sending anything (fault injection).
  bool drop_connection = false;
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

// One wire protocol family (SQS now; SNS, Kinesis later).
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
