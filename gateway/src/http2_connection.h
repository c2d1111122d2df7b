// The HTTP/2 protocol of one server connection (nghttp2's server session),
// without I/O: received bytes go in through Receive(), bytes to send come out
// of Output(), and each stream's request is handed to a Handler as an
// HttpRequest and answered with Respond(). The gateway's Http2Session drives
// it over a socket; the fuzzer drives it with bytes alone.
//
// A stream becomes a request when its headers and body are complete:
// header names are lower case; :method and :path become method and target;
// :authority becomes the host header unless there is one. A body larger than
// Handler::MaxBodyBytes() (known early from content-length, or as the DATA
// arrives) gets the handler's 413 refusal, and headers beyond
// Limits::max_header_bytes its 431 refusal; the stream is then reset
// (NO_ERROR) so that the client stops sending. Protocol errors are nghttp2's:
// RST_STREAM for a stream error, GOAWAY and a false Receive() for a
// connection error.
//
// Thread safety: none; one thread (strand) at a time.
#ifndef FERRY_GATEWAY_HTTP2_CONNECTION_H_
#define FERRY_GATEWAY_HTTP2_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "http_message.h"

struct nghttp2_session;

namespace ferry::gateway_internal {

// The client connection preface of HTTP/2 (RFC 9113 §3.4).
inline constexpr std::string_view kHttp2Preface =
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class Http2Connection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // The largest body accepted for a request with these headers.
    virtual size_t MaxBodyBytes(const HttpRequest& headers) = 0;
    // The response to a request refused before its body was complete.
    virtual HttpResponse Refused(const HttpRequest& headers, int http_status,
                                 std::string_view code,
                                 std::string_view message) = 0;
    // A complete request. The handler answers with Respond(stream_id, ...),
    // now (from inside Receive()) or later; an answer to a stream closed in
    // the meantime is dropped.
    virtual void OnRequest(int32_t stream_id, HttpRequest request) = 0;
    // The stream is closed (answered, reset, or refused); called from inside
    // Receive() or Output().
    virtual void OnStreamClosed(int32_t stream_id) {}
  };

  struct Limits {
    uint32_t max_concurrent_streams = 100;
    // Header names and values of one request (plus 32 bytes per field, as
    // HPACK counts them).
    size_t max_header_bytes = 64 * 1024;
    // Flow-control windows the client may fill before our WINDOW_UPDATEs
    // (sent as the data is received).
    int32_t stream_window_bytes = 1 << 20;
    int32_t connection_window_bytes = 4 << 20;
    // Bytes of a streamed body queued for a client that does not read them;
    // beyond this the stream is reset (CANCEL).
    size_t max_streamed_backlog = 64 << 20;
  };

  // REQUIRES: `handler` outlives the connection. Queues the server's
  // SETTINGS.
  Http2Connection(Handler* handler, const Limits& limits);
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Feeds bytes read from the client, the first starting with
  // kHttp2Preface. False on a connection error: send what Output() still
  // gives (GOAWAY), then close.
  bool Receive(std::string_view data);

  // Appends bytes to send to `out` until it holds at least `max` bytes or
  // nothing is left to send.
  void Output(std::string* out, size_t max);

  // False when the connection is done (GOAWAY sent or received and no
  // stream left open, or a connection error): close it once Output() is
  // empty.
  bool WantsRead() const;
  bool WantsWrite() const;

  // Answers `stream_id` with HEADERS (:status, content-type, content-length,
  // the response's headers in lower case) and its body in DATA frames.
  // False (and ignored) when the stream is closed or already answered.
  // With `response.stream` set, only the head is sent (no content-length):
  // the body follows through AppendBody(); the caller starts the stream.
  bool Respond(int32_t stream_id, HttpResponse response);

  // The next part of a streamed body; `end`: END_STREAM after it. False when
  // the stream is gone or its backlog passed Limits::max_streamed_backlog
  // (the stream is then reset).
  bool AppendBody(int32_t stream_id, std::string bytes, bool end);

  // Graceful shutdown: streams whose request is not complete yet are reset
  // with REFUSED_STREAM (the client may retry them), GOAWAY names the last
  // stream handed to the handler, and newer streams are ignored. Streams
  // being answered finish.
  void GoAway();

  // Streams open (being received or answered).
  size_t open_streams() const { return streams_.size(); }

 private:
  struct Stream;
  friend struct Http2Callbacks;

  Stream* FindStream(int32_t stream_id);
  void Refuse(Stream& stream, int http_status, std::string_view code,
              std::string_view message);
  void EndOfHeaders(Stream& stream);
  void Dispatch(Stream& stream);

  Handler* handler_;
  const Limits limits_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams_;
  int32_t last_dispatched_ = 0;
  bool going_away_ = false;
  int32_t goaway_last_stream_ = 0;
  bool failed_ = false;
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_HTTP2_CONNECTION_H_
