// HTTP/2 cleartext with prior knowledge on the gateway's port: a connection
// whose first bytes are HTTP/2's client preface is served by an Http2Session
// (nghttp2 through Http2Connection) over the same socket; any other
// connection stays with the HTTP/1.1 server.
//
// Each stream's request takes the same path as an HTTP/1.1 request
// (Http2Server::Route: /health, /metrics, admin paths, the services'
// Prepare), with injected latency on a timer and calls that may block on the
// server's blocking pool. Many streams run at once on one connection; their
// responses go out as each is ready. A response with drop_connection closes
// the whole connection, as on HTTP/1.1.
//
// A streamed body (HttpResponse::stream, e.g. SubscribeToShard's event
// stream) goes out as DATA frames of its stream as the ResponseStream writes
// to its sink, until it closes the sink (END_STREAM); the ResponseStream is
// stopped when the client resets the stream, the connection closes, more
// than 64 MiB wait for a client that does not read (the stream is reset), or
// the server stops (the body then ends after what was written).
//
// Shutdown (the gateway's Stop): GOAWAY; streams still being received are
// refused (REFUSED_STREAM), delayed calls run at once, streamed bodies end,
// and the connection closes once every request handed to a service is
// answered and written.
// Idle: with no read or write for the server's idle timeout and no call in
// progress, the connection is closed with GOAWAY; a write stalled that long
// closes it too.
//
// Thread safety: every member function but Start() runs on the stream's
// strand (the executor of `stream`); Start() is called there too.
#ifndef FERRY_GATEWAY_HTTP2_SESSION_H_
#define FERRY_GATEWAY_HTTP2_SESSION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "http2_connection.h"
#include "http_message.h"

namespace ferry::gateway_internal {

// What an HTTP/2 connection needs from the server it belongs to.
class Http2Server {
 public:
  virtual ~Http2Server() = default;
  // The service a request is for (refusals are in its protocol).
  virtual Service& ServiceFor(const HttpRequest& headers) = 0;
  // The largest body accepted for a request with these headers.
  virtual size_t MaxBodyBytes(const HttpRequest& headers) = 0;
  // The call answering a complete request, as for HTTP/1.1.
  virtual PreparedCall Route(HttpRequest request) = 0;
  // Runs `fn` off the event loop (it may block).
  virtual void RunBlocking(absl::AnyInvocable<void() &&> fn) = 0;
  virtual bool Stopping() const = 0;
  virtual absl::Duration IdleTimeout() const = 0;
};

// Reads the first bytes of a new connection into `buffer` until they are
// HTTP/2's client preface or cannot become it, then calls
// `handler(error, is_http2)` on the stream's executor. The bytes stay in
// `buffer`, for Beast's HTTP/1.1 parser or for an Http2Session. The caller
// sets the stream's timeout.
void AsyncDetectHttp2(
    boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
    absl::AnyInvocable<void(boost::beast::error_code, bool) &&> handler);

class Http2Session : public std::enable_shared_from_this<Http2Session>,
                     private Http2Connection::Handler {
 public:
  // Starts serving HTTP/2 on `stream`, whose bytes read so far (from the
  // preface on) are in `received` (consumed). `owner` keeps `stream` alive
  // until the session ends; `server` must outlive every session. Call on the
  // stream's strand. The session keeps itself alive while the connection
  // is open.
  static std::shared_ptr<Http2Session> Start(
      boost::beast::tcp_stream& stream, boost::beast::flat_buffer& received,
      Http2Server* server, std::shared_ptr<void> owner);

  // On the strand: graceful shutdown (see the file comment).
  void Shutdown();

  Http2Session(boost::beast::tcp_stream& stream, Http2Server* server,
               std::shared_ptr<void> owner);
  ~Http2Session() override;

 private:
  // Http2Connection::Handler
  size_t MaxBodyBytes(const HttpRequest& headers) override;
  HttpResponse Refused(const HttpRequest& headers, int http_status,
                       std::string_view code,
                       std::string_view message) override;
  void OnRequest(int32_t stream_id, HttpRequest request) override;
  void OnStreamClosed(int32_t stream_id) override;

  class Sink;
  struct Streamed {
    std::shared_ptr<ResponseStream> stream;
    std::shared_ptr<Sink> sink;
  };
  // From a Sink, on the strand.
  void StreamData(int32_t stream_id, std::string bytes, bool end);
  // Stops every streamed body (the connection closes or the server stops).
  void StopStreams(bool end_bodies);

  void Run(int32_t stream_id, PreparedCall call);
  void Answer(int32_t stream_id, HttpResponse response);
  void Feed(std::string_view data);
  void DoRead();
  void Flush();
  void ArmIdleTimer();
  void Close();

  boost::beast::tcp_stream& stream_;
  Http2Server* server_;
  std::shared_ptr<void> owner_;
  Http2Connection connection_;
  boost::asio::steady_timer idle_timer_;
  // Timers of calls waiting out injected latency.
  std::list<boost::asio::steady_timer> delays_;
  std::array<char, 64 * 1024> read_buffer_;
  std::string write_buffer_;
  bool reading_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool shutting_down_ = false;
  bool receiving_ = false;  // inside connection_.Receive()
  bool idle_goaway_sent_ = false;
  // A read or write completed since the idle timer was last armed.
  bool active_ = false;
  // Calls handed to a service and not answered yet.
  int calls_ = 0;
  // Streamed response bodies in progress, by stream.
  std::map<int32_t, Streamed> streamed_;
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_HTTP2_SESSION_H_
