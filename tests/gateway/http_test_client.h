// A minimal blocking HTTP/1.1 client for the gateway's tests (one keep-alive
// connection over loopback), and the helpers its tests share.
#ifndef FERRY_TESTS_GATEWAY_HTTP_TEST_CLIENT_H_
#define FERRY_TESTS_GATEWAY_HTTP_TEST_CLIENT_H_

#include <cctype>
#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "nlohmann/json.hpp"

namespace ferry::gateway_testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool keep_alive = false;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  Json JsonBody() const { return Json::parse(body, nullptr, false); }
};

// A minimal blocking HTTP/1.1 client on one keep-alive connection.
class Client {
 public:
  explicit Client(uint16_t port) : port_(port), socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  Response Send(http::verb method, const std::string& target,
                const std::map<std::string, std::string>& headers,
                const std::string& body) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, absl::StrCat("127.0.0.1:", port_));
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket_, req);
    return Read();
  }

  Response Read() {
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    Response r;
    r.status = res.result_int();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      r.headers[name] = std::string(f.value());
    }
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    return r;
  }

  // JSON protocol.
  Response Json10(const std::string& op, const Json& body,
                  const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> h = {
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "AmazonSQS." + op}};
    h.insert(extra.begin(), extra.end());
    return Send(http::verb::post, "/", h, body.dump());
  }

  // Query protocol; `form` is already encoded.
  Response Query(const std::string& form, const std::string& target = "/") {
    return Send(
        http::verb::post, target,
        {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
        form);
  }

  void WriteRaw(const std::string& bytes) {
    beast::error_code ec;  // the server may already have closed
    asio::write(socket_, asio::buffer(bytes), ec);
  }
  // Reads until the server closes; returns what arrived.
  std::string ReadToClose() {
    std::string out;
    beast::error_code ec;
    char buf[4096];
    for (;;) {
      size_t n = socket_.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out;
  }

 private:
  uint16_t port_;
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

}  // namespace ferry::gateway_testing

#endif  // FERRY_TESTS_GATEWAY_HTTP_TEST_CLIENT_H_
