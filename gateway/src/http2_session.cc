#include "http2_session.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>
#include <vector>

namespace ferry::gateway_internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

// Bytes handed to one socket write.
constexpr size_t kWriteChunk = 64 * 1024;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

struct DetectOp {
  beast::tcp_stream& stream;
  beast::flat_buffer& buffer;
  absl::AnyInvocable<void(beast::error_code, bool) &&> handler;
};

void ContinueDetect(std::shared_ptr<DetectOp> op) {
  const auto data = op->buffer.data();
  std::string_view got(static_cast<const char*>(data.data()), data.size());
  const size_t n = std::min(got.size(), kHttp2Preface.size());
  if (got.substr(0, n) != kHttp2Preface.substr(0, n)) {
    return std::move(op->handler)(beast::error_code(), false);
  }
  if (n == kHttp2Preface.size()) {
    return std::move(op->handler)(beast::error_code(), true);
  }
  op->stream.async_read_some(op->buffer.prepare(16 * 1024),
                             [op](beast::error_code ec, size_t bytes) mutable {
                               op->buffer.commit(bytes);
                               if (ec) return std::move(op->handler)(ec, false);
                               ContinueDetect(std::move(op));
                             });
}

}  // namespace

void AsyncDetectHttp2(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    absl::AnyInvocable<void(beast::error_code, bool) &&> handler) {
  // An empty buffer is a prefix of the preface: the first read follows.
  auto op =
      std::make_shared<DetectOp>(DetectOp{stream, buffer, std::move(handler)});
  ContinueDetect(std::move(op));
}

// A streamed body's sink: Write and Close from any thread post to the
// session's strand.
class Http2Session::Sink : public BodySink {
 public:
  Sink(std::weak_ptr<Http2Session> session, int32_t stream_id)
      : session_(std::move(session)), stream_id_(stream_id) {}

  bool Write(std::string bytes) override {
    if (closed_.load()) return false;
    return Post(std::move(bytes), false);
  }
  void Close() override {
    if (closed_.exchange(true)) return;
    Post(std::string(), true);
  }
  // The transport ended the body: later calls are dropped.
  void MarkClosed() { closed_.store(true); }

 private:
  bool Post(std::string bytes, bool end) {
    std::shared_ptr<Http2Session> session = session_.lock();
    if (session == nullptr) return false;
    asio::post(
        session->stream_.get_executor(),
        [session, id = stream_id_, bytes = std::move(bytes), end]() mutable {
          session->StreamData(id, std::move(bytes), end);
        });
    return true;
  }

  const std::weak_ptr<Http2Session> session_;
  const int32_t stream_id_;
  std::atomic<bool> closed_{false};
};

std::shared_ptr<Http2Session> Http2Session::Start(beast::tcp_stream& stream,
                                                  beast::flat_buffer& received,
                                                  Http2Server* server,
                                                  std::shared_ptr<void> owner) {
  auto session =
      std::make_shared<Http2Session>(stream, server, std::move(owner));
  // The session keeps its own idle timer; Beast's would also end a
  // connection whose long polls outlast the timeout.
  stream.expires_never();
  const auto data = received.data();
  std::string initial(static_cast<const char*>(data.data()), data.size());
  received.consume(received.size());
  session->ArmIdleTimer();
  session->Feed(initial);
  session->DoRead();
  return session;
}

Http2Session::Http2Session(beast::tcp_stream& stream, Http2Server* server,
                           std::shared_ptr<void> owner)
    : stream_(stream),
      server_(server),
      owner_(std::move(owner)),
      connection_(this, Http2Connection::Limits{}),
      idle_timer_(stream.get_executor()) {}

Http2Session::~Http2Session() = default;

size_t Http2Session::MaxBodyBytes(const HttpRequest& headers) {
  return server_->MaxBodyBytes(headers);
}

HttpResponse Http2Session::Refused(const HttpRequest& headers, int http_status,
                                   std::string_view code,
                                   std::string_view message) {
  return server_->ServiceFor(headers).RefusedResponse(headers, http_status,
                                                      code, message);
}

void Http2Session::OnRequest(int32_t stream_id, HttpRequest request) {
  ++calls_;
  PreparedCall call = server_->Route(std::move(request));
  if (call.delay > absl::ZeroDuration() && !shutting_down_ &&
      !server_->Stopping()) {
    auto timer = delays_.emplace(delays_.end(), stream_.get_executor());
    timer->expires_after(ToChrono(call.delay));
    timer->async_wait([self = shared_from_this(), timer, stream_id,
                       call = std::move(call)](beast::error_code) mutable {
      // Run at once when cancelled (Shutdown, Close) as well.
      self->delays_.erase(timer);
      self->Run(stream_id, std::move(call));
    });
    return;
  }
  Run(stream_id, std::move(call));
}

void Http2Session::Run(int32_t stream_id, PreparedCall call) {
  if (!call.may_block) return Answer(stream_id, std::move(call.run)());
  server_->RunBlocking([self = shared_from_this(), stream_id,
                        run = std::move(call.run)]() mutable {
    HttpResponse response = std::move(run)();
    asio::post(self->stream_.get_executor(),
               [self, stream_id, response = std::move(response)]() mutable {
                 self->Answer(stream_id, std::move(response));
               });
  });
}

void Http2Session::Answer(int32_t stream_id, HttpResponse response) {
  --calls_;
  if (closed_) return;
  if (response.drop_connection) return Close();
  std::shared_ptr<ResponseStream> body = response.stream;
  const bool sent = connection_.Respond(stream_id, std::move(response));
  if (body != nullptr) {
    if (!sent || shutting_down_) {
      body->Stop();
    } else {
      auto sink = std::make_shared<Sink>(weak_from_this(), stream_id);
      streamed_[stream_id] = {body, sink};
      body->Start(sink);
    }
  }
  // Inside Feed, nghttp2 is running its callbacks: Feed flushes afterwards.
  if (!receiving_) Flush();
}

void Http2Session::OnStreamClosed(int32_t stream_id) {
  auto it = streamed_.find(stream_id);
  if (it == streamed_.end()) return;
  Streamed s = std::move(it->second);
  streamed_.erase(it);
  s.sink->MarkClosed();
  s.stream->Stop();
}

void Http2Session::StreamData(int32_t stream_id, std::string bytes, bool end) {
  if (closed_ || streamed_.count(stream_id) == 0) return;
  // False: the stream is gone or was reset for its backlog; its closing
  // stops the ResponseStream.
  connection_.AppendBody(stream_id, std::move(bytes), end);
  Flush();
}

void Http2Session::StopStreams(bool end_bodies) {
  std::map<int32_t, Streamed> streams;
  streams.swap(streamed_);
  for (auto& [id, s] : streams) {
    s.sink->MarkClosed();
    if (end_bodies) connection_.AppendBody(id, std::string(), true);
    s.stream->Stop();
  }
}

void Http2Session::Feed(std::string_view data) {
  receiving_ = true;
  connection_.Receive(data);
  receiving_ = false;
  // A connection error leaves a GOAWAY to send; Flush closes after it.
  Flush();
}

void Http2Session::DoRead() {
  if (reading_ || closed_ || !connection_.WantsRead()) return;
  reading_ = true;
  stream_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->reading_ = false;
        if (ec) return self->Close();
        self->active_ = true;
        self->Feed(std::string_view(self->read_buffer_.data(), n));
        self->DoRead();
      });
}

void Http2Session::Flush() {
  if (writing_ || closed_) return;
  write_buffer_.clear();
  connection_.Output(&write_buffer_, kWriteChunk);
  if (write_buffer_.empty()) {
    if (!connection_.WantsRead() && !connection_.WantsWrite()) Close();
    return;
  }
  writing_ = true;
  asio::async_write(stream_, asio::buffer(write_buffer_),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) return self->Close();
                      self->active_ = true;
                      self->Flush();
                      self->DoRead();
                    });
}

void Http2Session::Shutdown() {
  if (closed_) return;
  shutting_down_ = true;
  connection_.GoAway();
  StopStreams(/*end_bodies=*/true);
  // Calls waiting out injected latency go ahead now.
  for (asio::steady_timer& t : delays_) t.cancel();
  Flush();
}

void Http2Session::ArmIdleTimer() {
  idle_timer_.expires_after(ToChrono(server_->IdleTimeout()));
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec == asio::error::operation_aborted || self->closed_) return;
    if (self->active_) {
      self->active_ = false;
      return self->ArmIdleTimer();
    }
    // Nothing read or written for a whole period.
    if (self->writing_ || self->idle_goaway_sent_) return self->Close();
    // Waiting for services (long polls, event streams) is not idleness.
    if (self->calls_ > 0 || !self->streamed_.empty()) {
      return self->ArmIdleTimer();
    }
    self->idle_goaway_sent_ = true;
    self->connection_.GoAway();
    self->Flush();
    self->ArmIdleTimer();
  });
}

void Http2Session::Close() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.cancel();
  for (asio::steady_timer& t : delays_) t.cancel();
  StopStreams(/*end_bodies=*/false);
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace ferry::gateway_internal
