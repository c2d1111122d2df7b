// The HTTP/1.1 server of the gateway: Boost.Beast's parser over Asio, one
// io_context per event-loop thread (GatewayOptions::io_threads); connections
// are dealt to the loops in turn and each is a Session that stays on its
// loop, so its handlers never run concurrently and no strand is needed.
// Calls that do not block run on the loop as soon as a request is parsed,
// and the response is written at once when the socket takes it; calls that
// may block (long-poll ReceiveMessage) run on a BlockingPool and post their
// response back to the session's loop, so the event loop never waits on
// core.
//
// A connection that opens with HTTP/2's client preface is handed to an
// Http2Session (http2_session.h) on the same socket and loop; its streams
// take the same routes (ServerState::Route) as HTTP/1.1 requests.
//
// Shutdown (Stop): stop accepting; close connections that have no request in
// progress; cancel waiting long polls (ReceiveCancellation), which then
// answer with no messages; let the blocking pool finish; then let the event
// loop run until every remaining response is written and its connection
// closed.
//
// Streamed responses (HttpResponse::stream: SubscribeToShard's event
// stream) go out over HTTP/1.1 with chunked transfer encoding, one chunk per
// BodySink::Write, and the connection closes after the last chunk. While a
// body streams, the session reads the socket only to notice the client
// leaving; then, or when the queue of unsent chunks passes 64 MiB, or at
// Stop, the ResponseStream is stopped.
//
// Timeouts: idle or stalled connections are closed after
// GatewayOptions::idle_timeout (to 1.25 times it) by one ticking timer per
// connection (Session::ArmIdleTimer); streamed bodies' writes use Beast's
// tcp_stream timer. These are network timeouts of the HTTP layer; no SQS
// semantics read the real clock here.
#include "ferry/gateway.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "admin.h"
#include "aws_wire.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "ferry/sqs.h"
#include "ferry/sync.h"
#include "http2_session.h"
#include "http_message.h"
#include "kinesis_service.h"
#include "sns_service.h"
#include "sqs_service.h"

namespace ferry {
namespace gateway_internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr uint32_t kMaxHeaderBytes = 64 * 1024;

// Threads for calls that may block, started on demand up to a bound.
class BlockingPool {
 public:
  explicit BlockingPool(int max_threads)
      : max_threads_(max_threads < 1 ? 1 : max_threads) {}
  ~BlockingPool() { Shutdown(); }

  // After Shutdown, runs `fn` on the calling thread: by then the gateway has
  // cancelled long polls, so such a call returns at once.
  void Run(absl::AnyInvocable<void() &&> fn) {
    {
      MutexLock lock(&mu_);
      if (!stopping_) {
        queue_.push_back(std::move(fn));
        // Each idle thread takes one queued call; start a thread for any
        // call beyond those.
        bool started = false;
        if (static_cast<int>(queue_.size()) > idle_ &&
            static_cast<int>(threads_.size()) < max_threads_) {
          try {
            threads_.emplace_back([this] { Loop(); });
            started = true;
          } catch (const std::system_error&) {
            // Out of threads: the call waits for a running one.
          }
        }
        if (!started) cv_.Signal();
        return;
      }
    }
    std::move(fn)();
  }

  // Runs everything queued, then joins the threads.
  void Shutdown() {
    std::vector<std::thread> threads;
    {
      MutexLock lock(&mu_);
      stopping_ = true;
      cv_.SignalAll();
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

 private:
  void Loop() {
    mu_.Lock();
    for (;;) {
      while (queue_.empty() && !stopping_) {
        ++idle_;
        cv_.Wait();
        --idle_;
      }
      if (queue_.empty()) break;
      absl::AnyInvocable<void()&&> fn = std::move(queue_.front());
      queue_.pop_front();
      mu_.Unlock();
      std::move(fn)();
      mu_.Lock();
    }
    mu_.Unlock();
  }

  const int max_threads_;
  Mutex mu_;
  CondVar cv_{&mu_};
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

class Session;

// What sessions share: options, services, the pool and the session registry.
struct ServerState : public Http2Server {
  ServerState(const GatewayOptions& o, Broker& broker,
              std::function<absl::Status()> reset)
      : options(o),
        sqs_service(broker.sqs(), options, &cancellation, Recorder()),
        // One queue of faults for every service.
        sns_service(broker.sns(), options, &sqs_service.faults(), Recorder()),
        kinesis_service(broker.kinesis(), options, &sqs_service.faults(),
                        Recorder()),
        admin(broker, options, sqs_service,
              {.reset = std::move(reset),
               .records =
                   [this] {
                     MutexLock lock(&records_mu);
                     return std::vector<RecordedRequest>(records.begin(),
                                                         records.end());
                   },
               .clear_records =
                   [this] {
                     MutexLock lock(&records_mu);
                     records.clear();
                   }}),
        pool(o.max_blocking_threads) {
    // The services' faults are the broker's (ferry/faults.h).
    sqs_service.faults().Share(broker.faults(), o.fault_seed);
  }

  // What the services call with each answered request (nullptr unless
  // requests are recorded).
  RequestRecorder Recorder() {
    if (!options.record_requests) return nullptr;
    return [this](RecordedRequest r) {
      MutexLock lock(&records_mu);
      records.push_back(std::move(r));
      const size_t max = options.max_recorded_requests;
      if (max > 0 && records.size() > max) {
        records.erase(records.begin(),
                      records.begin() + (records.size() - max));
      }
    };
  }
  // The service a request is for: Kinesis's or SNS's when it says so
  // (KinesisService::IsKinesisRequest, SnsService::IsSnsRequest), else
  // SQS's.
  Service& ServiceFor(const HttpRequest& request) override {
    if (KinesisService::IsKinesisRequest(request)) return kinesis_service;
    if (SnsService::IsSnsRequest(request)) return sns_service;
    return sqs_service;
  }

  // The call answering a request: /health, /metrics, the admin paths, else
  // its service's.
  PreparedCall Route(HttpRequest request) override;
  // 8 MiB for Kinesis, GatewayOptions::max_sqs_body_bytes for the others.
  size_t MaxBodyBytes(const HttpRequest& headers) override {
    return KinesisService::IsKinesisRequest(headers)
               ? kMaxKinesisBodyBytes
               : options.max_sqs_body_bytes;
  }
  void RunBlocking(absl::AnyInvocable<void() &&> fn) override {
    pool.Run(std::move(fn));
  }
  bool Stopping() const override { return stopping.load(); }
  absl::Duration IdleTimeout() const override { return options.idle_timeout; }

  const GatewayOptions options;
  Mutex records_mu;
  std::deque<RecordedRequest> records ABSL_GUARDED_BY(records_mu);
  ReceiveCancellation cancellation;
  SqsService sqs_service;
  SnsService sns_service;
  KinesisService kinesis_service;
  AdminService admin;
  BlockingPool pool;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};

  Mutex mu;
  std::map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
};

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

HttpResponse HealthResponse() {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = "{\"status\":\"ok\"}";
  return r;
}

PreparedCall ServerState::Route(HttpRequest request) {
  std::string_view path = TargetPath(request.target);
  PreparedCall call;
  if (path == "/health" || path == "/_ferry/health") {
    call.run = [] { return HealthResponse(); };
  } else if (path == "/metrics" && request.method == "GET") {
    call.run = [this] {
      HttpResponse metrics;
      metrics.content_type = "text/plain; version=0.0.4; charset=utf-8";
      metrics.body = sqs_service.MetricsText();
      metrics.body += sns_service.MetricsText();
      metrics.body += kinesis_service.MetricsText();
      return metrics;
    };
  } else if (AdminService::IsAdminPath(path)) {
    call.run = [this, request = std::move(request)] {
      return admin.Handle(request);
    };
  } else {
    return ServiceFor(request).Prepare(std::move(request));
  }
  return call;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerState* server)
      : stream_(std::move(socket)),
        delay_timer_(stream_.get_executor()),
        idle_timer_(stream_.get_executor()),
        server_(server) {
    server_->connections.fetch_add(1);
  }
  ~Session() {
    {
      MutexLock lock(&server_->mu);
      server_->sessions.erase(this);
    }
    server_->connections.fetch_sub(1);
  }

  void Start() {
    {
      MutexLock lock(&server_->mu);
      server_->sessions.emplace(this, weak_from_this());
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      // Responses are small and written whole: no Nagle delay.
      self->stream_.socket().set_option(tcp::no_delay(true), ignored);
      // Responses are first written directly (WriteResponse).
      self->stream_.socket().non_blocking(true, ignored);
      self->waiting_on_client_ = true;
      self->ArmIdleTimer();
      self->Detect();
    });
  }

  // On the session's loop: closes the connection unless a request is in
  // progress (that one closes after its response).
  void CloseIfIdle() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (auto http2 = self->http2_.lock()) return http2->Shutdown();
      // A request waiting out injected latency goes ahead now.
      self->delay_timer_.cancel();
      // A streamed body ends now, with its last chunk.
      if (self->body_stream_ != nullptr) return self->EndStream(true);
      if (!self->busy_) self->Close();
    });
  }

 private:
  // Idle and stalled connections: one timer per connection ticks every
  // quarter of the idle timeout; each completed read or write resets the
  // count, and the fifth tick in a row while the session waits on the
  // client (for request bytes, or for it to take response bytes) closes the
  // connection, so after between 1 and 1.25 idle timeouts without progress.
  // Waiting for a call (a long poll, injected latency) or for the next part
  // of a streamed body is not idleness. (Beast's per-operation timeouts
  // would arm and cancel a timer for every read and write.)
  static constexpr int kIdleTicks = 4;
  void ArmIdleTimer() {
    idle_timer_.expires_after(std::max(
        ToChrono(server_->options.idle_timeout / kIdleTicks),
        std::chrono::steady_clock::duration(std::chrono::milliseconds(1))));
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_ || self->idle_off_) return;
      if (!self->waiting_on_client_) {
        self->idle_ticks_ = 0;
      } else if (++self->idle_ticks_ > kIdleTicks) {
        return self->Close();
      }
      self->ArmIdleTimer();
    });
  }

  // HTTP/2's preface first hands the connection to an Http2Session; other
  // bytes stay in buffer_ for the HTTP/1.1 parser.
  void Detect() {
    AsyncDetectHttp2(
        stream_, buffer_,
        [self = shared_from_this()](beast::error_code ec, bool http2) {
          self->idle_ticks_ = 0;
          if (ec || (http2 && self->server_->stopping.load())) {
            return self->Close();
          }
          if (!http2) return self->DoRead();
          // The HTTP/2 session keeps its own idle timer.
          self->waiting_on_client_ = false;
          self->idle_off_ = true;
          self->idle_timer_.cancel();
          self->http2_ = Http2Session::Start(self->stream_, self->buffer_,
                                             self->server_, self);
        });
  }

  void DoRead() {
    if (server_->stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // The largest bound of any service until the headers say which one.
    body_limit_ =
        std::max(server_->options.max_sqs_body_bytes, kMaxKinesisBodyBytes);
    parser_->body_limit(body_limit_);
    header_done_ = false;
    waiting_on_client_ = true;
    Parse();
  }

  // Feeds the parser what buffer_ holds, going on to the request's headers
  // (OnHeader) and the whole request (OnRead) as they complete; reads more
  // from the socket when the parser needs it. (One socket read usually
  // holds a whole request: it is parsed here without further round trips
  // through the event loop.)
  void Parse() {
    while (buffer_.size() > 0) {
      beast::error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) break;
      if (ec) return OnReadError(ec);
      if (parser_->is_header_done() && !header_done_) {
        header_done_ = true;
        if (!OnHeader()) return;
      }
      if (parser_->is_done()) return OnRead();
      if (used == 0) break;
    }
    if (parser_->is_header_done() && !header_done_) {
      header_done_ = true;
      if (!OnHeader()) return;
    }
    if (parser_->is_done()) return OnRead();
    ReadMore();
  }

  void ReadMore() {
    beast::error_code ec;
    auto buffers = beast::detail::dynamic_buffer_prepare(
        buffer_, beast::read_size(buffer_, 65536), ec,
        http::error::buffer_overflow);
    if (ec) return OnReadError(ec);
    stream_.async_read_some(
        *buffers, [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->idle_ticks_ = 0;
          self->buffer_.commit(n);
          if (ec == asio::error::eof && n == 0) return self->OnEof();
          if (ec) return self->OnReadError(ec);
          self->Parse();
        });
  }

  // The client closed its side: a request it had started ends here (as
  // Beast's reads do it).
  void OnEof() {
    if (!parser_->got_some()) return OnReadError(http::error::end_of_stream);
    beast::error_code ec;
    parser_->put_eof(ec);
    if (ec) return OnReadError(ec);
    if (parser_->is_header_done() && !header_done_) {
      header_done_ = true;
      if (!OnHeader()) return;
    }
    if (parser_->is_done()) return OnRead();
    OnReadError(http::error::partial_message);
  }

  // The request's headers are in. Returns true if the body is read next
  // (false: the request was refused, or the body waits for a 100 Continue).
  bool OnHeader() {
    request_ = ToRequest();
    // The request's service bounds its body: a declared length at once, a
    // chunked body as it arrives.
    body_limit_ = server_->MaxBodyBytes(request_);
    parser_->body_limit(body_limit_);
    if (parser_->content_length().value_or(0) > body_limit_) {
      OnReadError(http::error::body_limit);
      return false;
    }
    auto expect = parser_->get()[http::field::expect];
    if (absl::EqualsIgnoreCase(AsAbsl(expect), "100-continue")) {
      asio::async_write(
          stream_, asio::buffer(kContinue.data(), kContinue.size()),
          [self = shared_from_this()](beast::error_code ec, size_t) {
            self->idle_ticks_ = 0;
            if (ec) return self->Close();
            self->Parse();
          });
      return false;
    }
    return true;
  }

  // The request's method, target and headers (lower-case names).
  HttpRequest ToRequest() {
    http::request<http::string_body>& req = parser_->get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      absl::AsciiStrToLower(&name);
      r.headers.insert_or_assign(std::move(name), std::string(field.value()));
    }
    return r;
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || !parser_->got_some()) {
      return Close();
    }
    busy_ = true;
    HttpRequest headers = ToRequest();
    Service& service = server_->ServiceFor(headers);
    if (ec == http::error::body_limit) {
      return Respond(
          service.RefusedResponse(
              headers, 413, "RequestEntityTooLarge",
              absl::StrCat("The request body is larger than the limit of ",
                           body_limit_, " bytes.")),
          /*keep_alive=*/false, /*linger=*/true);
    }
    if (ec == http::error::header_limit) {
      return Respond(
          service.RefusedResponse(headers, 431, "RequestHeaderFieldsTooLarge",
                                  "The request headers are too large."),
          false, true);
    }
    if (ec.category() ==
        http::make_error_code(http::error::bad_target).category()) {
      return Respond(service.RefusedResponse(
                         headers, 400, "MalformedHTTPRequest",
                         absl::StrCat("The HTTP request is malformed: ",
                                      ec.message(), ".")),
                     false, true);
    }
    Close();
  }

  void OnRead() {
    busy_ = true;
    waiting_on_client_ = false;
    http::request<http::string_body>& req = parser_->get();
    const bool keep_alive = req.keep_alive();
    request_.body = std::move(req.body());
    PreparedCall call = server_->Route(std::move(request_));
    if (call.delay > absl::ZeroDuration() && !server_->stopping.load()) {
      delay_timer_.expires_after(ToChrono(call.delay));
      delay_timer_.async_wait([self = shared_from_this(),
                               call = std::move(call),
                               keep_alive](beast::error_code) mutable {
        // Run at once when cancelled (Stop) as well.
        self->Run(std::move(call), keep_alive);
      });
      return;
    }
    Run(std::move(call), keep_alive);
  }

  void Run(PreparedCall call, bool keep_alive) {
    if (!call.may_block) return Respond(std::move(call.run)(), keep_alive);
    server_->pool.Run([self = shared_from_this(), run = std::move(call.run),
                       keep_alive]() mutable {
      HttpResponse response = std::move(run)();
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), keep_alive]() mutable {
                   self->Respond(std::move(response), keep_alive);
                 });
    });
  }

  // `linger`: the request was refused before its body was read; after the
  // response, the rest of the request is read and dropped before closing,
  // so that the client sees the response rather than a reset.
  void Respond(HttpResponse r, bool keep_alive, bool linger = false) {
    if (r.drop_connection) {
      busy_ = false;
      return Close();
    }
    if (r.stream != nullptr) return StartStream(std::move(r));
    const bool close = !keep_alive || server_->stopping.load();
    // The head as Beast's serializer writes it: status line, Server,
    // Content-Type, the response's headers, Connection when it differs from
    // the version's default, Content-Length.
    const bool http10 = parser_->get().version() == 10;
    std::string& head = head_;
    head.clear();
    const unsigned status = static_cast<unsigned>(r.status);
    absl::StrAppend(&head, http10 ? "HTTP/1.0 " : "HTTP/1.1 ", status, " ",
                    AsAbsl(http::obsolete_reason(http::int_to_status(status))),
                    "\r\nServer: ferry\r\n");
    if (!r.content_type.empty()) {
      absl::StrAppend(&head, "Content-Type: ", r.content_type, "\r\n");
    }
    for (auto& [name, value] : r.headers) {
      absl::StrAppend(&head, name, ": ", value, "\r\n");
    }
    if (http10 && !close) head.append("Connection: keep-alive\r\n");
    if (!http10 && close) head.append("Connection: close\r\n");
    // No body, and no length, for 1xx, 204 and 304.
    if (!(status / 100 == 1 || status == 204 || status == 304)) {
      absl::StrAppend(&head, "Content-Length: ", r.body.size(), "\r\n");
    } else {
      r.body.clear();
    }
    head.append("\r\n");
    body_ = std::move(r.body);
    waiting_on_client_ = true;
    // Most responses fit the socket's buffer: written here at once, without
    // a round trip through the event loop.
    std::array<asio::const_buffer, 2> buffers{asio::buffer(head_),
                                              asio::buffer(body_)};
    beast::error_code ec;
    size_t written = stream_.socket().write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      ec = {};
      written = 0;
    }
    const size_t total = head_.size() + body_.size();
    if (ec || written == total) {
      return OnWritten(ec, close, linger);
    }
    // The rest when the socket takes it.
    std::array<asio::const_buffer, 2> rest = buffers;
    size_t skip = written;
    for (asio::const_buffer& b : rest) {
      const size_t n = std::min(skip, b.size());
      b += n;
      skip -= n;
    }
    asio::async_write(stream_, rest,
                      [self = shared_from_this(), close, linger](
                          beast::error_code ec, size_t) {
                        self->idle_ticks_ = 0;
                        self->OnWritten(ec, close, linger);
                      });
  }

  void OnWritten(beast::error_code ec, bool close, bool linger) {
    busy_ = false;
    idle_ticks_ = 0;
    if (body_.capacity() > (64 << 10)) std::string().swap(body_);
    if (!ec && linger) return Linger(0);
    if (ec || close) return Close();
    DoRead();
  }

  // ---- Streamed bodies (on the loop unless said otherwise) ----

  // The BodySink of a streamed body: hands each part to the session's
  // loop. Any thread.
  class ChunkSink : public BodySink {
   public:
    explicit ChunkSink(std::weak_ptr<Session> session)
        : session_(std::move(session)) {}
    bool Write(std::string bytes) override {
      MutexLock lock(&mu_);
      std::shared_ptr<Session> s = session_.lock();
      if (closed_ || s == nullptr) return false;
      asio::post(s->stream_.get_executor(),
                 [s, bytes = std::move(bytes)]() mutable {
                   s->QueueChunk(std::move(bytes));
                 });
      return true;
    }
    void Close() override {
      MutexLock lock(&mu_);
      std::shared_ptr<Session> s = session_.lock();
      if (closed_ || s == nullptr) return;
      closed_ = true;
      asio::post(s->stream_.get_executor(), [s] { s->EndStream(false); });
    }
    // The session is done with the body: later calls are dropped.
    void Detach() {
      MutexLock lock(&mu_);
      closed_ = true;
    }

   private:
    Mutex mu_;
    const std::weak_ptr<Session> session_;
    bool closed_ ABSL_GUARDED_BY(mu_) = false;
  };

  void StartStream(HttpResponse r) {
    body_stream_ = std::move(r.stream);
    // A streamed body's writes keep Beast's per-operation timeouts (1 s
    // once the server stops); the idle ticks leave it alone.
    waiting_on_client_ = false;
    auto head = std::make_shared<http::response<http::empty_body>>();
    head->version(11);
    head->result(static_cast<unsigned>(r.status));
    head->set(http::field::server, "ferry");
    if (!r.content_type.empty()) {
      head->set(http::field::content_type, r.content_type);
    }
    for (auto& [name, value] : r.headers) head->set(name, value);
    head->keep_alive(false);
    head->chunked(true);
    auto sr =
        std::make_shared<http::response_serializer<http::empty_body>>(*head);
    stream_.expires_after(ToChrono(server_->options.idle_timeout));
    writing_ = true;
    http::async_write_header(
        stream_, *sr,
        [self = shared_from_this(), head, sr](beast::error_code ec, size_t) {
          self->writing_ = false;
          if (ec || self->body_stream_ == nullptr) return self->AbortStream();
          self->stream_.expires_never();
          // Unless Stop already ended it (the last chunk is queued).
          if (!self->ending_) {
            self->sink_ = std::make_shared<ChunkSink>(self->weak_from_this());
            self->body_stream_->Start(self->sink_);
            self->WatchClient();
          }
          self->WriteNext();
        });
  }

  // Reads (and drops) whatever the client sends while the body streams; an
  // error or end of input means it went away.
  void WatchClient() {
    stream_.socket().async_read_some(
        asio::buffer(drain_buffer_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (self->body_stream_ == nullptr) return;
          if (ec) return self->AbortStream();
          self->WatchClient();
        });
  }

  void QueueChunk(std::string bytes) {
    constexpr size_t kMaxQueuedBytes = 64 << 20;
    if (body_stream_ == nullptr || ending_ || bytes.empty()) return;
    if (queued_bytes_ + bytes.size() > kMaxQueuedBytes) return EndStream(true);
    std::string chunk = absl::StrCat(absl::Hex(bytes.size()), "\r\n");
    chunk += bytes;
    chunk += "\r\n";
    queued_bytes_ += chunk.size();
    chunks_.push_back(std::move(chunk));
    WriteNext();
  }

  // The last chunk, then the connection closes. `stop`: the transport ends
  // the body (client too slow, Stop), so the stream is stopped first.
  void EndStream(bool stop) {
    if (body_stream_ == nullptr || ending_) return;
    ending_ = true;
    if (stop) {
      body_stream_->Stop();
      if (sink_ != nullptr) sink_->Detach();
    }
    chunks_.push_back("0\r\n\r\n");
    WriteNext();
  }

  void WriteNext() {
    if (writing_ || chunks_.empty()) return;
    writing_ = true;
    auto chunk = std::make_shared<std::string>(std::move(chunks_.front()));
    chunks_.pop_front();
    queued_bytes_ -= std::min(queued_bytes_, chunk->size());
    // A client that stops reading is dropped after the idle timeout (1 s
    // once the server stops).
    stream_.expires_after(server_->stopping.load()
                              ? std::chrono::seconds(1)
                              : ToChrono(server_->options.idle_timeout));
    asio::async_write(
        stream_, asio::buffer(*chunk),
        [self = shared_from_this(), chunk](beast::error_code ec, size_t) {
          self->writing_ = false;
          if (ec) return self->AbortStream();
          self->stream_.expires_never();
          if (self->ending_ && self->chunks_.empty()) {
            return self->AbortStream();
          }
          self->WriteNext();
        });
  }

  // Ends a streamed body where it is and closes the connection.
  void AbortStream() {
    if (body_stream_ != nullptr) {
      std::shared_ptr<ResponseStream> s = std::move(body_stream_);
      body_stream_ = nullptr;
      s->Stop();
    }
    if (sink_ != nullptr) sink_->Detach();
    chunks_.clear();
    busy_ = false;
    Close();
  }

  void Linger(size_t drained) {
    constexpr size_t kMaxDrain = 64 << 20;
    if (drained == 0) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    // A session that was mid-response when Stop looked at it ends here: a
    // drain would wait for the client and keep Stop from joining.
    if (drained > kMaxDrain || server_->stopping.load()) return Close();
    stream_.async_read_some(
        asio::buffer(drain_buffer_),
        [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
          if (ec) return self->Close();
          self->Linger(drained + n);
        });
  }

  void Close() {
    closed_ = true;
    idle_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  asio::steady_timer delay_timer_;  // injected latency
  asio::steady_timer idle_timer_;   // see ArmIdleTimer
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerState* server_;
  // The rest is used on the loop only.
  bool busy_ = false;
  bool closed_ = false;
  // Idle ticks count (ArmIdleTimer).
  bool waiting_on_client_ = false;
  bool idle_off_ = false;  // the connection went to HTTP/2
  int idle_ticks_ = 0;
  // The request being read: its headers once parsed (OnHeader), then its
  // body.
  bool header_done_ = false;
  HttpRequest request_;
  // The response being written (Respond).
  std::string head_;
  std::string body_;
  std::array<char, 16384> drain_buffer_;
  std::weak_ptr<Http2Session> http2_;  // set when the connection is HTTP/2
  size_t body_limit_ = 0;              // of the request being read
  // A streamed response body (on the loop only).
  std::shared_ptr<ResponseStream> body_stream_;
  std::shared_ptr<ChunkSink> sink_;
  std::deque<std::string> chunks_;  // framed, not yet written
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool ending_ = false;  // the last chunk is queued
};

}  // namespace
}  // namespace gateway_internal

using gateway_internal::ServerState;
using gateway_internal::Session;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Gateway::Impl {
 public:
  Impl(Broker& broker, GatewayOptions options)
      : broker_(broker), options_(std::move(options)) {}
  ~Impl() { Stop(); }

  absl::StatusOr<std::string> Start() {
    if (started_) return absl::FailedPreconditionError("already started");
    started_ = true;
    state_ = std::make_unique<ServerState>(options_, broker_,
                                           [this] { return Reset(); });
    for (auto& [fault, times] : pending_faults_) {
      state_->sqs_service.InjectFault(fault, times);
    }
    pending_faults_.clear();
    const int threads = options_.io_threads < 1 ? 1 : options_.io_threads;
    // One event loop per thread: a connection stays on one thread, which
    // runs its handlers without strands or hand-offs between threads.
    for (int i = 0; i < threads; ++i) {
      iocs_.push_back(std::make_unique<asio::io_context>(1));
    }
    boost::system::error_code ec;
    tcp::resolver resolver(*iocs_[0]);
    auto results =
        resolver.resolve(options_.host, std::to_string(options_.port),
                         tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot resolve host '", options_.host, "': ", ec.message()));
    }
    tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.emplace(iocs_[0]->get_executor());
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.host, ":", options_.port,
                       ": ", ec.message()));
    }
    tcp::endpoint bound = acceptor_->local_endpoint(ec);
    port_ = bound.port();
    std::string host = bound.address().to_string();
    if (bound.address().is_v6()) host = absl::StrCat("[", host, "]");
    // Keep the name the user gave (e.g. localhost) unless it was a wildcard.
    if (!options_.host.empty() && options_.host != "0.0.0.0" &&
        options_.host != "::" && bound.address().is_v4()) {
      host = options_.host;
    }
    endpoint_ = absl::StrCat("http://", host, ":", port_);
    for (auto& ioc : iocs_) work_.push_back(asio::make_work_guard(*ioc));
    Accept();
    for (auto& ioc : iocs_) {
      threads_.emplace_back([ioc = ioc.get()] { ioc->run(); });
    }
    running_ = true;
    return endpoint_;
  }

  void Stop() {
    if (!running_) return;
    running_ = false;
    state_->stopping.store(true);
    asio::post(acceptor_->get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_->close(ignored);
    });
    std::vector<std::shared_ptr<Session>> sessions;
    {
      MutexLock lock(&state_->mu);
      for (auto& [raw, weak] : state_->sessions) {
        if (auto s = weak.lock()) sessions.push_back(std::move(s));
      }
    }
    for (auto& s : sessions) s->CloseIfIdle();
    sessions.clear();
    state_->cancellation.Cancel();
    state_->pool.Shutdown();
    work_.clear();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  std::string endpoint() const { return endpoint_; }
  uint16_t port() const { return port_; }

  std::vector<RecordedRequest> RecordedRequests() const {
    if (state_ == nullptr) return {};
    MutexLock lock(&state_->records_mu);
    return {state_->records.begin(), state_->records.end()};
  }

  absl::Status Reset() {
    ClearFaults();
    ClearRecordedRequests();
    if (state_ != nullptr) {
      state_->sqs_service.ResetCounters();
      state_->sns_service.ResetCounters();
      state_->kinesis_service.ResetCounters();
    }
    if (absl::Status s = broker_.Reset(); !s.ok()) return s;
    if (options_.on_reset) return options_.on_reset(broker_);
    return absl::OkStatus();
  }
  void ClearRecordedRequests() {
    if (state_ == nullptr) return;
    MutexLock lock(&state_->records_mu);
    state_->records.clear();
  }

  void InjectFault(const InjectedFault& fault, int times) {
    if (state_ == nullptr) {
      pending_faults_.emplace_back(fault, times);
      return;
    }
    state_->sqs_service.InjectFault(fault, times);
  }
  void ClearFaults() {
    // pending_faults_ is only used before Start(); after it, Reset() may
    // call this from an event-loop thread.
    if (state_ == nullptr) {
      pending_faults_.clear();
    } else {
      state_->sqs_service.ClearFaults();
    }
  }

 private:
  void Accept() {
    // Connections go to the event loops in turn.
    asio::io_context& ioc = *iocs_[next_loop_++ % iocs_.size()];
    acceptor_->async_accept(
        ioc.get_executor(),
        [this](boost::system::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_->is_open()) {
              return;
            }
            return Accept();
          }
          if (state_->stopping.load() ||
              state_->connections.load() >= options_.max_connections) {
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            std::make_shared<Session>(std::move(socket), state_.get())->Start();
          }
          Accept();
        });
  }

  Broker& broker_;
  const GatewayOptions options_;
  bool started_ = false;
  bool running_ = false;
  std::unique_ptr<ServerState> state_;
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  size_t next_loop_ = 0;                   // on the first loop
  std::optional<tcp::acceptor> acceptor_;  // on the first loop
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  std::string endpoint_;
  uint16_t port_ = 0;
  std::vector<std::pair<InjectedFault, int>> pending_faults_;
};

Gateway::Gateway(Broker& broker, GatewayOptions options)
    : impl_(std::make_unique<Impl>(broker, std::move(options))) {}
Gateway::~Gateway() = default;

absl::StatusOr<std::string> Gateway::Start() { return impl_->Start(); }
void Gateway::Stop() { impl_->Stop(); }
std::string Gateway::endpoint() const { return impl_->endpoint(); }
uint16_t Gateway::port() const { return impl_->port(); }
std::vector<RecordedRequest> Gateway::RecordedRequests() const {
  return impl_->RecordedRequests();
}
void Gateway::ClearRecordedRequests() { impl_->ClearRecordedRequests(); }
void Gateway::InjectFault(const InjectedFault& fault, int times) {
  impl_->InjectFault(fault, times);
}
void Gateway::ClearFaults() { impl_->ClearFaults(); }
absl::Status Gateway::Reset() { return impl_->Reset(); }

}  // namespace ferry
