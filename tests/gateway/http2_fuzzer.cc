// libFuzzer target: arbitrary bytes after HTTP/2's client preface into the
// gateway's HTTP/2 connection (nghttp2's server session with the gateway's
// callbacks), no socket. Requests are answered at once (echoing the body,
// some with a streamed body), the output is drained between chunks, and a
// GOAWAY comes midway. Must never crash, leak or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http2_connection.h"

namespace {

using ferry::gateway_internal::Http2Connection;
using ferry::gateway_internal::HttpRequest;
using ferry::gateway_internal::HttpResponse;
using ferry::gateway_internal::kHttp2Preface;

class NullStream : public ferry::gateway_internal::ResponseStream {
 public:
  void Start(std::shared_ptr<ferry::gateway_internal::BodySink>) override {}
  void Stop() override {}
};

class EchoHandler : public Http2Connection::Handler {
 public:
  Http2Connection* connection = nullptr;

  size_t MaxBodyBytes(const HttpRequest&) override { return 4096; }
  HttpResponse Refused(const HttpRequest&, int status, std::string_view code,
                       std::string_view) override {
    HttpResponse r;
    r.status = status;
    r.body = std::string(code);
    return r;
  }
  void OnRequest(int32_t stream_id, HttpRequest request) override {
    HttpResponse r;
    r.content_type = "text/plain";
    r.headers.emplace_back("X-Echo-Method", request.method);
    if (request.target == "/stream") {
      r.stream = std::make_shared<NullStream>();
      connection->Respond(stream_id, std::move(r));
      connection->AppendBody(stream_id, request.body, false);
      connection->AppendBody(stream_id, "end", true);
      return;
    }
    r.body = std::move(request.body);
    connection->Respond(stream_id, std::move(r));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  EchoHandler handler;
  Http2Connection::Limits limits;
  limits.max_header_bytes = 1024;
  Http2Connection connection(&handler, limits);
  handler.connection = &connection;
  std::string out;
  connection.Output(&out, 1 << 20);
  bool ok = connection.Receive(kHttp2Preface);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Chunks of varying size, as reads would deliver them.
  size_t chunk = 1 + (size % 97);
  while (ok && !input.empty()) {
    std::string_view part = input.substr(0, chunk);
    input.remove_prefix(part.size());
    ok = connection.Receive(part);
    out.clear();
    connection.Output(&out, 1 << 20);
    if (input.size() < size / 2 && size % 3 == 0) connection.GoAway();
    chunk = chunk * 7 % 251 + 1;
  }
  out.clear();
  connection.Output(&out, 1 << 20);
  (void)connection.WantsRead();
  (void)connection.WantsWrite();
  return 0;
}
