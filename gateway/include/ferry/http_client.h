// -----------------------------------------------------------------------------
// File: ferry/http_client.h
// -----------------------------------------------------------------------------
//
// ferry's one HTTP client: synchronous HTTP/1.1 requests over http and https
// (OpenSSL) with a deadline, on Boost.Beast. SNS delivers http/https
// subscriptions through it (`MakeHttpTransport` implements
// `ferry::HttpTransport` of ferry/sns.h), and the `ferry` program's remote
// verbs can use it too.
//
//  - URLs: http://host[:port][/path][?query] and https://...; host names,
//    IPv4 and bracketed IPv6 literals ("http://[::1]:8080/hook"); a
//    user:password@ part becomes an `Authorization: Basic` header, as SNS
//    does for endpoints that carry credentials. The fragment is dropped.
//  - Deadline: one timeout bounds the whole exchange (name resolution,
//    connect, TLS handshake, writing the request and reading the answer).
//  - https: the server's certificate chain is verified against the system's
//    CAs (plus `HttpClientOptions::ca_pem`) and its name against the URL's
//    host (or IP address); SNI is sent for host names. `verify_peer = false`
//    accepts any certificate (tests against self-signed servers only).
//  - Answers: the status, headers and body; a body above
//    `max_response_bytes` is not kept (`body_truncated`) and its connection
//    is closed.
//  - Keep-alive: idle connections are kept per scheme, host and port (up to
//    `max_idle_per_host`) and reused; a request that finds its reused
//    connection closed by the server is sent once more on a new one.
//
// Thread safety: an HttpClient (and the transport) may be used from any
// number of threads at once; each request runs on the calling thread.
// Errors: a malformed URL is InvalidArgument. No answer (name not resolved,
// connection refused or reset, TLS handshake or certificate failure, the
// deadline passing, a malformed answer) is Unavailable, with a message that
// names the URL's host and port and what failed. An HTTP error status is
// not an error of the client: it is returned in HttpResponse::status.
//
// Example:
//   ferry::HttpClient client;
//   absl::StatusOr<ferry::HttpResponse> r = client.Send(
//       {.method = "POST", .url = "https://example.com/hook", .body = "hi",
//        .timeout = absl::Seconds(5)});
//   if (r.ok() && r->status / 100 == 2) { ... }
//
//   // SNS http/https subscriptions of a broker POST for real:
//   broker->sns().SetHttpTransport(ferry::MakeHttpTransport());
#ifndef FERRY_HTTP_CLIENT_H_
#define FERRY_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/executor.h"
#include "ferry/export.h"
#include "ferry/sns.h"

namespace ferry {

// The parts of an http or https URL.
struct HttpUrl {
  std::string scheme{};    // "http" or "https" (lower case)
  std::string host{};      // without brackets for IPv6 literals
  uint16_t port = 0;       // the scheme's default when the URL names none
  std::string target{};    // path and query: "/a/b?x=1"; "/" at least
  std::string userinfo{};  // "user:password" (percent-decoded), or empty
  // "host:port" as the Host header carries it (brackets for IPv6, port
  // omitted when it is the scheme's default).
  std::string HostHeader() const;
};

// Parses `url`; InvalidArgument says what is wrong.
FERRY_EXPORT absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";
  std::string url{};
  // Sent as given, in order. Host, Content-Length (and Authorization from
  // the URL's user info) are added unless present.
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  // Bounds the whole exchange (see the file comment).
  absl::Duration timeout = absl::Seconds(15);
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  // The body was larger than HttpClientOptions::max_response_bytes: `body`
  // is empty.
  bool body_truncated = false;
};

struct HttpClientOptions {
  // https: verify the certificate chain and host name (see the file
  // comment). false accepts any certificate; for tests only.
  bool verify_peer = true;
  // PEM certificates trusted in addition to the system's CAs (e.g. a test
  // server's self-signed certificate).
  std::string ca_pem{};
  // Larger answer bodies are not kept (HttpResponse::body_truncated).
  size_t max_response_bytes = 1 << 20;
  // Idle keep-alive connections kept per scheme, host and port; 0 closes
  // every connection after its request.
  int max_idle_per_host = 4;
};

class FERRY_EXPORT HttpClient {
 public:
  // Fails only when the TLS context cannot be set up (e.g. `ca_pem` is not
  // PEM): InvalidArgument.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(
      HttpClientOptions options = {});
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends `request` and waits for the answer, at most `request.timeout`.
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// An `HttpTransport` (ferry/sns.h) that POSTs SNS's http/https deliveries
// with an HttpClient: the answer's status, or the client's error when there
// is none. InvalidArgument for a bad `ca_pem`.
FERRY_EXPORT absl::StatusOr<std::shared_ptr<HttpTransport>> MakeHttpTransport(
    HttpClientOptions options = {});

// An Executor (ferry/executor.h) running scheduled functions on `threads`
// threads, for a broker whose http/https deliveries should not block the
// thread that published (with the default inline executor, Publish and
// Subscribe wait for the endpoint's answer). Call Shutdown() before the
// broker is destroyed, so that no delivery still runs against it.
// Thread safety: every method may be called from any thread.
class FERRY_EXPORT ThreadPoolExecutor final : public Executor {
 public:
  explicit ThreadPoolExecutor(int threads);
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  // Shutdown().
  ~ThreadPoolExecutor() override;
  void Schedule(absl::AnyInvocable<void() &&> fn) override;
  // Drops the functions not yet started (on the RocksDB backend a reopened
  // broker sends pending http deliveries again), waits for the running ones
  // and joins the threads. Later Schedule calls run the function on the
  // caller's thread. Idempotent.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry

#endif  // FERRY_HTTP_CLIENT_H_
