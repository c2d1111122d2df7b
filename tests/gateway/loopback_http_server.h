// A small HTTP/1.1 server on 127.0.0.1 (port 0) for tests of ferry's HTTP
// client and SNS's http/https delivery: it records every request and answers
// with a scripted status, or holds the request unanswered, or closes the
// connection without an answer. With a certificate and key it speaks TLS.
// Also: a self-signed certificate for 127.0.0.1 and localhost (OpenSSL).
//
// Thread safety: the server runs on its own thread; every method may be
// called from any thread. A request is recorded before its answer is
// written, so a client that got an answer finds its request recorded.
// Errors: a failed start is a fatal test failure (port() stays 0).
#ifndef FERRY_TESTS_GATEWAY_LOOPBACK_HTTP_SERVER_H_
#define FERRY_TESTS_GATEWAY_LOOPBACK_HTTP_SERVER_H_

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gtest/gtest.h"

namespace ferry::gateway_testing {

struct KeyAndCertificate {
  std::string key_pem;
  std::string cert_pem;
};

// A self-signed certificate (EC P-256, usable as its own CA) for
// CN=localhost with the subject alternative names `san`.
inline KeyAndCertificate SelfSignedCertificate(
    const char* san = "DNS:localhost,IP:127.0.0.1") {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* alt_names =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
  X509_add_ext(cert, alt_names, -1);
  X509_EXTENSION_free(alt_names);
  X509_EXTENSION* bc =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "CA:TRUE");
  X509_add_ext(cert, bc, -1);
  X509_EXTENSION_free(bc);
  X509_sign(cert, key, EVP_sha256());
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string s(data, static_cast<size_t>(len));
    BIO_free(bio);
    return s;
  };
  KeyAndCertificate out;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = to_string(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  out.cert_pem = to_string(b);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

struct RecordedPost {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "<absent>" : it->second;
  }
};

class LoopbackHttpServer {
 public:
  enum class Mode { kAnswer, kHold, kClose };

  // `tls`: serve https with this key and certificate.
  explicit LoopbackHttpServer(std::optional<KeyAndCertificate> tls = {})
      : acceptor_(ioc_), tls_context_(boost::asio::ssl::context::tls_server) {
    namespace asio = boost::asio;
    if (tls.has_value()) {
      tls_ = true;
      tls_context_.use_certificate_chain(
          asio::buffer(tls->cert_pem.data(), tls->cert_pem.size()));
      tls_context_.use_private_key(
          asio::buffer(tls->key_pem.data(), tls->key_pem.size()),
          asio::ssl::context::pem);
    }
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~LoopbackHttpServer() { Stop(); }

  // Closes the listening socket and every connection; later connects are
  // refused.
  void Stop() {
    if (!thread_.joinable()) return;
    boost::asio::post(ioc_, [this] {
      boost::beast::error_code ec;
      acceptor_.close(ec);
      for (auto& close : closers_) close();
      ioc_.stop();
    });
    thread_.join();
  }

  uint16_t port() const { return port_; }
  std::string Url(const std::string& path) const {
    return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", port_, path);
  }

  void set_status(int status) { status_ = status; }
  void set_mode(Mode mode) { mode_ = mode; }
  void set_body(std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(body);
  }
  // Answers with `Connection: close` and closes after each answer.
  void set_close_after_answer(bool close) { close_after_ = close; }

  std::vector<RecordedPost> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void ClearRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.clear();
  }
  int connections() const { return connections_.load(); }

 private:
  template <class Stream>
  struct Session : std::enable_shared_from_this<Session<Stream>> {
    template <class... Args>
    explicit Session(LoopbackHttpServer* s, Args&&... args)
        : server(s), stream(std::forward<Args>(args)...) {}
    LoopbackHttpServer* server;
    Stream stream;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::response<boost::beast::http::string_body> res;

    void Read() {
      req = {};
      boost::beast::http::async_read(stream, buffer, req,
                                     [self = this->shared_from_this()](
                                         boost::beast::error_code ec, size_t) {
                                       if (!ec) self->OnRequest();
                                     });
    }
    void OnRequest() {
      namespace http = boost::beast::http;
      RecordedPost r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(c));
        r.headers[name] = std::string(f.value());
      }
      r.body = req.body();
      std::string body;
      {
        std::lock_guard<std::mutex> lock(server->mu_);
        server->requests_.push_back(std::move(r));
        body = server->body_;
      }
      const Mode mode = server->mode_.load();
      if (mode == Mode::kHold) {
        // Kept until the server stops; never answered.
        server->held_.push_back(this->shared_from_this());
        return;
      }
      if (mode == Mode::kClose) {
        boost::beast::get_lowest_layer(stream).close();
        return;
      }
      const bool close = server->close_after_.load();
      res = {};
      res.version(11);
      res.result(static_cast<unsigned>(server->status_.load()));
      res.set(http::field::content_type, "text/plain");
      res.keep_alive(!close && req.keep_alive());
      res.body() = body;
      res.prepare_payload();
      http::async_write(
          stream, res,
          [self = this->shared_from_this(), close](boost::beast::error_code ec,
                                                   size_t) {
            if (ec) return;
            if (close) {
              boost::beast::get_lowest_layer(self->stream).close();
              return;
            }
            self->Read();
          });
    }
  };

  // Stop closes the session's connection if it still exists.
  template <class S>
  void Track(const std::shared_ptr<S>& s) {
    closers_.push_back([w = std::weak_ptr<S>(s)] {
      if (auto live = w.lock()) {
        boost::beast::error_code ec;
        boost::beast::get_lowest_layer(live->stream).socket().close(ec);
      }
    });
  }

  void Accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec,
                                  boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      connections_++;
      if (tls_) {
        using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
        auto s = std::make_shared<Session<TlsStream>>(this, std::move(socket),
                                                      tls_context_);
        Track(s);
        s->stream.async_handshake(boost::asio::ssl::stream_base::server,
                                  [s](boost::beast::error_code hec) {
                                    if (!hec) s->Read();
                                  });
      } else {
        auto s = std::make_shared<Session<boost::beast::tcp_stream>>(
            this, std::move(socket));
        Track(s);
        s->Read();
      }
      Accept();
    });
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ssl::context tls_context_;
  bool tls_ = false;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> status_{200};
  std::atomic<Mode> mode_{Mode::kAnswer};
  std::atomic<bool> close_after_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<RecordedPost> requests_;
  std::string body_ = "ok";
  // Sessions holding an unanswered request, and how to close every session
  // (server thread only).
  std::vector<std::shared_ptr<void>> held_;
  std::vector<std::function<void()>> closers_;
};

}  // namespace ferry::gateway_testing

#endif  // FERRY_TESTS_GATEWAY_LOOPBACK_HTTP_SERVER_H_
