// ferry's HTTP client (ferry/http_client.h) on Boost.Beast and OpenSSL.
//
// Each request runs on the calling thread: its connection owns an
// io_context, and the request's asynchronous steps (resolve, connect, TLS
// handshake, write, read) run on it with ioc.run() until they finish or a
// timer at the request's deadline closes the socket. Idle keep-alive
// connections, with their io_context, wait in a pool keyed by scheme, host
// and port.
#include "ferry/http_client.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "ferry/clock.h"
#include "ferry/sync.h"

namespace ferry {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
        HexValue(s[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()),
                      static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

bool HasHeader(const HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (absl::EqualsIgnoreCase(k, AsAbsl(name))) return true;
  }
  return false;
}

// One connection to a scheme/host/port, with the io_context its operations
// run on.
struct Connection {
  asio::io_context ioc{1};
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool connected = false;

  beast::tcp_stream& tcp() {
    return tls != nullptr ? beast::get_lowest_layer(*tls) : *plain;
  }
};

// The state of one request on one connection.
struct Exchange {
  Exchange(Connection& conn, const HttpUrl& u, size_t max)
      : c(conn), url(u), max_body(max), timer(conn.ioc), resolver(conn.ioc) {
    parser.emplace();
    parser->header_limit(64 * 1024);
    parser->body_limit(max);
  }
  Connection& c;
  const HttpUrl& url;
  const size_t max_body;
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;
  asio::steady_timer timer;
  tcp::resolver resolver;
  bool timed_out = false;
  bool finished = false;
  std::string stage;  // what was running when it failed
  beast::error_code ec;
  std::string tls_detail;  // a certificate verification failure

  void Finish(beast::error_code e) {
    ec = e;
    finished = true;
    timer.cancel();
  }
};

template <class Stream>
void WriteAndRead(Exchange& x, Stream& stream) {
  x.stage = "sending the request";
  http::async_write(stream, x.req, [&x, &stream](beast::error_code ec, size_t) {
    if (ec) return x.Finish(ec);
    x.stage = "reading the answer";
    http::async_read_header(
        stream, x.c.buffer, *x.parser,
        [&x, &stream](beast::error_code ec2, size_t) {
          if (ec2) return x.Finish(ec2);
          // Checked here: Beast 1.74 misses the body limit of a
          // Content-Length when the body arrives with the header.
          if (x.parser->content_length().value_or(0) > x.max_body) {
            return x.Finish(http::error::body_limit);
          }
          http::async_read(
              stream, x.c.buffer, *x.parser,
              [&x](beast::error_code ec3, size_t) { x.Finish(ec3); });
        });
  });
}

void Connect(Exchange& x, bool verify_peer) {
  x.stage = "resolving the host";
  x.resolver.async_resolve(
      x.url.host, std::to_string(x.url.port),
      [&x, verify_peer](beast::error_code ec,
                        tcp::resolver::results_type results) {
        if (ec) return x.Finish(ec);
        x.stage = "connecting";
        x.c.tcp().async_connect(
            results,
            [&x, verify_peer](beast::error_code ec2, const tcp::endpoint&) {
              if (ec2) return x.Finish(ec2);
              if (x.c.tls == nullptr) {
                x.c.connected = true;
                return WriteAndRead(x, *x.c.plain);
              }
              SSL* ssl_handle = x.c.tls->native_handle();
              const bool ip = IsIpLiteral(x.url.host);
              if (!ip) SSL_set_tlsext_host_name(ssl_handle, x.url.host.c_str());
              if (verify_peer) {
                X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
                if (ip) {
                  X509_VERIFY_PARAM_set1_ip_asc(param, x.url.host.c_str());
                } else {
                  X509_VERIFY_PARAM_set1_host(param, x.url.host.c_str(), 0);
                }
                x.c.tls->set_verify_mode(ssl::verify_peer);
              } else {
                x.c.tls->set_verify_mode(ssl::verify_none);
              }
              x.stage = "the TLS handshake";
              x.c.tls->async_handshake(
                  ssl::stream_base::client, [&x](beast::error_code ec3) {
                    if (ec3) {
                      const long v =
                          SSL_get_verify_result(x.c.tls->native_handle());
                      if (v != X509_V_OK) {
                        x.tls_detail = X509_verify_cert_error_string(v);
                      }
                      return x.Finish(ec3);
                    }
                    x.c.connected = true;
                    WriteAndRead(x, *x.c.tls);
                  });
            });
      });
}

bool ConnectionClosedByPeer(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

}  // namespace

std::string HttpUrl::HostHeader() const {
  const bool v6 = host.find(':') != std::string::npos;
  const uint16_t default_port = scheme == "https" ? 443 : 80;
  std::string out = v6 ? absl::StrCat("[", host, "]") : host;
  if (port != default_port) absl::StrAppend(&out, ":", port);
  return out;
}

absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url_view) {
  const absl::string_view url = AsAbsl(url_view);
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL '", url, "': ", why));
  };
  for (char ch : url) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return bad("it contains a space or control character");
    }
  }
  const size_t sep = url.find("://");
  if (sep == absl::string_view::npos)
    return bad("no scheme (http:// or https://)");
  HttpUrl u;
  u.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") {
    return bad(absl::StrCat("unsupported scheme '", u.scheme,
                            "' (http and https only)"));
  }
  absl::string_view rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find('#'));
  const size_t path_start = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, path_start);
  u.target = path_start == absl::string_view::npos
                 ? "/"
                 : std::string(rest.substr(path_start));
  if (u.target[0] == '?') u.target.insert(0, "/");
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    u.userinfo = PercentDecode(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return bad("no host");
  absl::string_view port_part;
  if (authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos)
      return bad("unterminated '[' of an IPv6 address");
    u.host = std::string(authority.substr(1, close - 1));
    beast::error_code ec;
    asio::ip::make_address_v6(u.host, ec);
    if (ec) return bad(absl::StrCat("'", u.host, "' is not an IPv6 address"));
    port_part = authority.substr(close + 1);
    if (!port_part.empty() && port_part[0] != ':') {
      return bad("unexpected text after the IPv6 address");
    }
  } else {
    const size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) port_part = authority.substr(colon);
    if (port_part.find(':', 1) != absl::string_view::npos) {
      return bad("an IPv6 address must be in brackets");
    }
  }
  if (u.host.empty()) return bad("no host");
  u.port = u.scheme == "https" ? 443 : 80;
  if (port_part.size() > 1) {
    const absl::string_view digits = port_part.substr(1);
    uint32_t port = 0;
    if (digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(),
                     [](char ch) { return ch >= '0' && ch <= '9'; }) ||
        !absl::SimpleAtoi(digits, &port) || port == 0 || port > 65535) {
      return bad(absl::StrCat("bad port '", digits, "'"));
    }
    u.port = static_cast<uint16_t>(port);
  }
  return u;
}

struct HttpClient::Impl {
  HttpClientOptions options;
  std::optional<ssl::context> tls_context;
  Mutex mu;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle
      ABSL_GUARDED_BY(mu);

  std::unique_ptr<Connection> Take(const std::string& key) {
    MutexLock lock(&mu);
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    std::unique_ptr<Connection> c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }
  void Give(const std::string& key, std::unique_ptr<Connection> c) {
    MutexLock lock(&mu);
    std::vector<std::unique_ptr<Connection>>& list = idle[key];
    if (static_cast<int>(list.size()) < options.max_idle_per_host) {
      list.push_back(std::move(c));
    }
  }

  // One attempt on `conn` (reused or new), bounded by `deadline`.
  absl::StatusOr<HttpResponse> Attempt(Connection& conn, const HttpUrl& url,
                                       const HttpRequest& request,
                                       absl::Time deadline, bool* keep,
                                       bool* closed_before_answer);
};

absl::StatusOr<HttpResponse> HttpClient::Impl::Attempt(
    Connection& conn, const HttpUrl& url, const HttpRequest& request,
    absl::Time deadline, bool* keep, bool* closed_before_answer) {
  *keep = false;
  *closed_before_answer = false;
  Exchange x(conn, url, options.max_response_bytes);
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown HTTP method '", request.method, "'"));
  }
  x.req.method(verb);
  x.req.target(url.target);
  x.req.version(11);
  if (!HasHeader(request, "Host"))
    x.req.set(http::field::host, url.HostHeader());
  if (!url.userinfo.empty() && !HasHeader(request, "Authorization")) {
    x.req.set(http::field::authorization,
              absl::StrCat("Basic ", Base64(url.userinfo)));
  }
  for (const auto& [k, v] : request.headers) x.req.insert(k, v);
  x.req.body() = request.body;
  if (!HasHeader(request, "Content-Length")) x.req.prepare_payload();
  if (verb == http::verb::head) x.parser->skip(true);

  conn.ioc.restart();
  // An I/O deadline of the real clock (the broker's clock, possibly a
  // manual one, drives retries, not sockets).
  x.timer.expires_after(absl::ToChronoNanoseconds(
      std::max(deadline - Clock::Real().Now(), absl::ZeroDuration())));
  x.timer.async_wait([&x](beast::error_code ec) {
    if (ec || x.finished) return;
    x.timed_out = true;
    x.resolver.cancel();
    x.c.tcp().close();
  });
  if (conn.connected) {
    if (conn.tls != nullptr) {
      WriteAndRead(x, *conn.tls);
    } else {
      WriteAndRead(x, *conn.plain);
    }
  } else {
    Connect(x, options.verify_peer);
  }
  conn.ioc.run();

  const std::string where =
      absl::StrCat(request.method, " ", url.scheme, "://", url.HostHeader());
  if (x.timed_out) {
    return absl::UnavailableError(absl::StrCat(
        where, ": no answer within ", absl::FormatDuration(request.timeout),
        " (timed out ", x.stage, ")"));
  }
  HttpResponse out;
  if (x.ec == http::error::body_limit && x.parser->is_header_done()) {
    out.body_truncated = true;
  } else if (x.ec) {
    *closed_before_answer =
        ConnectionClosedByPeer(x.ec) && !x.parser->got_some();
    std::string detail = x.ec.message();
    if (!x.tls_detail.empty()) {
      absl::StrAppend(&detail, " (", x.tls_detail, ")");
    }
    return absl::UnavailableError(
        absl::StrCat(where, ": ", x.stage, " failed: ", detail));
  }
  http::response<http::string_body>& res = x.parser->get();
  out.status = res.result_int();
  for (const auto& f : res) {
    out.headers.emplace_back(std::string(f.name_string()),
                             std::string(f.value()));
  }
  if (!out.body_truncated) out.body = std::move(res.body());
  *keep = !out.body_truncated && res.keep_alive();
  return out;
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(
    HttpClientOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->tls_context.emplace(ssl::context::tls_client);
  ssl::context& ctx = *impl->tls_context;
  beast::error_code ec;
  ctx.set_default_verify_paths(ec);  // no system CAs: only ca_pem is trusted
  if (!options.ca_pem.empty()) {
    ctx.add_certificate_authority(
        asio::buffer(options.ca_pem.data(), options.ca_pem.size()), ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("HttpClientOptions::ca_pem is not a PEM certificate: ",
                       ec.message()));
    }
  }
  impl->options = std::move(options);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl(request.url);
  if (!url.ok()) return url.status();
  const absl::Time deadline =
      Clock::Real().Now() + std::max(request.timeout, absl::ZeroDuration());
  const std::string key =
      absl::StrCat(url->scheme, "://", url->host, ":", url->port);
  // A reused connection the server has closed meanwhile fails before any
  // answer arrives: the request is then sent once more on a new one.
  for (int round = 0;; ++round) {
    std::unique_ptr<Connection> conn = round == 0 ? impl_->Take(key) : nullptr;
    const bool reused = conn != nullptr;
    if (conn == nullptr) {
      conn = std::make_unique<Connection>();
      if (url->scheme == "https") {
        conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(
            conn->ioc, *impl_->tls_context);
      } else {
        conn->plain = std::make_unique<beast::tcp_stream>(conn->ioc);
      }
    }
    bool keep = false;
    bool closed_before_answer = false;
    absl::StatusOr<HttpResponse> r = impl_->Attempt(
        *conn, *url, request, deadline, &keep, &closed_before_answer);
    if (!r.ok() && reused && closed_before_answer) continue;
    if (keep && impl_->options.max_idle_per_host > 0) {
      impl_->Give(key, std::move(conn));
    }
    return r;
  }
}

namespace {

class HttpClientTransport final : public HttpTransport {
 public:
  explicit HttpClientTransport(std::unique_ptr<HttpClient> client)
      : client_(std::move(client)) {}
  absl::StatusOr<int> Post(const HttpPost& post) override {
    absl::StatusOr<HttpResponse> r = client_->Send({.method = "POST",
                                                    .url = post.url,
                                                    .headers = post.headers,
                                                    .body = post.body,
                                                    .timeout = post.timeout});
    if (!r.ok()) return r.status();
    return r->status;
  }

 private:
  std::unique_ptr<HttpClient> client_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<HttpTransport>> MakeHttpTransport(
    HttpClientOptions options) {
  absl::StatusOr<std::unique_ptr<HttpClient>> client =
      HttpClient::Create(std::move(options));
  if (!client.ok()) return client.status();
  return std::make_shared<HttpClientTransport>(*std::move(client));
}

// ---- ThreadPoolExecutor -----------------------------------------------------

struct ThreadPoolExecutor::Impl {
  Mutex mu;
  CondVar cv{&mu};
  std::deque<absl::AnyInvocable<void() &&>> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::vector<std::thread> threads ABSL_GUARDED_BY(mu);

  void Loop() {
    mu.Lock();
    for (;;) {
      while (queue.empty() && !stopping) cv.Wait();
      if (queue.empty()) break;
      absl::AnyInvocable<void()&&> fn = std::move(queue.front());
      queue.pop_front();
      mu.Unlock();
      std::move(fn)();
      mu.Lock();
    }
    mu.Unlock();
  }
};

ThreadPoolExecutor::ThreadPoolExecutor(int threads)
    : impl_(std::make_unique<Impl>()) {
  MutexLock lock(&impl_->mu);
  for (int i = 0; i < std::max(threads, 1); ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->Loop(); });
  }
}

ThreadPoolExecutor::~ThreadPoolExecutor() { Shutdown(); }

void ThreadPoolExecutor::Shutdown() {
  std::deque<absl::AnyInvocable<void() &&>> dropped;
  std::vector<std::thread> threads;
  {
    MutexLock lock(&impl_->mu);
    impl_->stopping = true;
    dropped.swap(impl_->queue);
    threads.swap(impl_->threads);
    impl_->cv.SignalAll();
  }
  for (std::thread& t : threads) t.join();
}

void ThreadPoolExecutor::Schedule(absl::AnyInvocable<void() &&> fn) {
  {
    MutexLock lock(&impl_->mu);
    if (!impl_->stopping) {
      impl_->queue.push_back(std::move(fn));
      impl_->cv.Signal();
      return;
    }
  }
  std::move(fn)();  // while stopping: on the caller's thread
}

}  // namespace ferry
