// The AWS wire gateway over HTTP/1.1 on loopback: what a test pays to start
// and stop it, and SQS requests per second beside a raw limit.
//
//   gateway_benchmark [--scale=smoke|full] [benchmark flags]
//   gateway_benchmark --serve_null=PORT
//
// BM_TestKitStartStop: one test's worth of the test-double kit: open an
//   in-memory broker, start a Gateway on port 0, connect, answer one
//   request (ListQueues, JSON protocol), stop the gateway and close the
//   broker. Reports p50/p99/max of that sequence in ms (goal: p50 <= 10 ms).
// BM_SendMessage/<connections>, BM_ReceiveDelete/<connections>: SQS JSON
//   requests over keep-alive connections, one blocking client thread per
//   connection (100-byte bodies; ReceiveMessage of one message followed by
//   its DeleteMessage counts as one pair). req_per_s counts HTTP requests.
// BM_NullHandler/<connections>: the limit of this stack: a minimal Boost.Beast
//   server on the same io_context setup (2 threads) answering every request
//   with "{}", driven by the same client with the same SendMessage request.
//   Ferry's SendMessage as a share of it is ferry's overhead.
// --serve_null=PORT runs only that null handler on 127.0.0.1:PORT (0: a free
//   one, printed) until SIGINT or SIGTERM, so that an external generator
//   (wrk, as bench/compare.py drives `ferry serve`) measures the limit with
//   the same settings in the same run.
//
// The clients share the machine's cores with the server, as a load
// generator on the same machine would.
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench_flags.h"
#include "bench_support.h"
#include "benchmark/benchmark.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "ferry/memory_backend.h"
#include "ferry/sqs.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;

struct Scale {
  int start_stop_runs;
  int64_t requests;  // per benchmark run, over all connections
};
constexpr Scale kFull{200, 40000};
constexpr Scale kSmoke{5, 200};
Scale g_scale = kFull;

// A blocking HTTP/1.1 client on one keep-alive connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    socket_.set_option(tcp::no_delay(true));
    host_ = absl::StrCat("127.0.0.1:", port);
  }

  // Sends an SQS JSON request; returns the status and fills *body.
  int Call(const std::string& op, const std::string& payload,
           std::string* body = nullptr) {
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/x-amz-json-1.0");
    req.set("X-Amz-Target", "AmazonSQS." + op);
    req.body() = payload;
    req.prepare_payload();
    http::write(socket_, req);
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    if (body != nullptr) *body = std::move(res.body());
    return res.result_int();
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string host_;
};

std::unique_ptr<Broker> OpenBroker() {
  return *Broker::Open({}, NewMemoryBackend());
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

void BM_TestKitStartStop(benchmark::State& state) {
  std::vector<double> ms;
  for (auto _ : state) {
    ms.clear();
    double total = 0;
    for (int i = 0; i < g_scale.start_stop_runs; ++i) {
      auto start = std::chrono::steady_clock::now();
      {
        std::unique_ptr<Broker> broker = OpenBroker();
        Gateway gateway(*broker, {.port = 0});
        absl::StatusOr<std::string> url = gateway.Start();
        if (!url.ok()) {
          state.SkipWithError(url.status().ToString().c_str());
          return;
        }
        Client client(gateway.port());
        if (client.Call("ListQueues", "{}") != 200) {
          state.SkipWithError("ListQueues failed");
          return;
        }
        gateway.Stop();
      }
      double s = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - start)
                     .count();
      total += s;
      ms.push_back(s * 1e3);
    }
    state.SetIterationTime(total);
  }
  state.counters["p50_ms"] = Percentile(ms, 0.50);
  state.counters["p99_ms"] = Percentile(ms, 0.99);
  state.counters["max_ms"] = Percentile(ms, 1.0);
  state.counters["runs"] = static_cast<double>(ms.size());
}
BENCHMARK(BM_TestKitStartStop)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

const std::string& Body100() {
  static const std::string* body = new std::string(100, 'x');
  return *body;
}

// Runs `per_connection` on `connections` client threads; returns seconds.
template <typename Fn>
double Drive(uint16_t port, int connections, Fn per_connection) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < connections; ++c) {
    clients.push_back(std::make_unique<Client>(port));
  }
  return bench::RunThreads(connections,
                           [&](int t) { per_connection(*clients[t]); });
}

std::string SendPayload(const std::string& url) {
  return Json{{"QueueUrl", url}, {"MessageBody", Body100()}}.dump();
}

void BM_SendMessage(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  std::unique_ptr<Broker> broker = OpenBroker();
  Gateway gateway(*broker, {.port = 0});
  if (!gateway.Start().ok()) return state.SkipWithError("start failed");
  Client setup(gateway.port());
  std::string created;
  setup.Call("CreateQueue", R"({"QueueName":"bench"})", &created);
  const std::string payload =
      SendPayload(Json::parse(created)["QueueUrl"].get<std::string>());
  const int64_t per = g_scale.requests / connections;
  std::atomic<int64_t> failed{0};
  for (auto _ : state) {
    double s = Drive(gateway.port(), connections, [&](Client& c) {
      for (int64_t i = 0; i < per; ++i) {
        if (c.Call("SendMessage", payload) != 200) failed.fetch_add(1);
      }
    });
    state.SetIterationTime(s);
    state.counters["req_per_s"] = static_cast<double>(per * connections) / s;
  }
  if (failed.load() > 0) state.SkipWithError("a SendMessage failed");
  gateway.Stop();
}
BENCHMARK(BM_SendMessage)
    ->Arg(1)
    ->Arg(8)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

void BM_ReceiveDelete(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  std::unique_ptr<Broker> broker = OpenBroker();
  Gateway gateway(*broker, {.port = 0});
  if (!gateway.Start().ok()) return state.SkipWithError("start failed");
  const int64_t per = g_scale.requests / 2 / connections;
  const int64_t total = per * connections;
  auto created = broker->sqs().CreateQueue({}, {.queue_name = "bench"});
  if (!created.ok()) return state.SkipWithError("CreateQueue failed");
  // Through the library, not timed: the backlog the clients drain.
  for (int64_t i = 0; i < total; i += 10) {
    SendMessageBatchRequest batch{.queue_url = created->queue_url};
    for (int j = 0; j < 10; ++j) {
      batch.entries.push_back(
          {.id = absl::StrCat("m", j), .message_body = Body100()});
    }
    if (!broker->sqs().SendMessageBatch({}, batch).ok()) {
      return state.SkipWithError("prefill failed");
    }
  }
  const std::string url =
      absl::StrCat("http://127.0.0.1:", gateway.port(), "/000000000000/bench");
  const std::string receive = Json{{"QueueUrl", url}}.dump();
  std::atomic<int64_t> failed{0};
  for (auto _ : state) {
    double s = Drive(gateway.port(), connections, [&](Client& c) {
      std::string body;
      for (int64_t i = 0; i < per; ++i) {
        if (c.Call("ReceiveMessage", receive, &body) != 200) {
          failed.fetch_add(1);
          continue;
        }
        Json got = Json::parse(body, nullptr, false);
        if (got.is_discarded() || !got.contains("Messages")) {
          failed.fetch_add(1);
          continue;
        }
        Json del = {{"QueueUrl", url},
                    {"ReceiptHandle", got["Messages"][0]["ReceiptHandle"]}};
        if (c.Call("DeleteMessage", del.dump()) != 200) failed.fetch_add(1);
      }
    });
    state.SetIterationTime(s);
    state.counters["pairs_per_s"] = static_cast<double>(total) / s;
    state.counters["req_per_s"] = static_cast<double>(2 * total) / s;
  }
  if (failed.load() > 0) state.SkipWithError("a receive or delete failed");
  gateway.Stop();
}
BENCHMARK(BM_ReceiveDelete)
    ->Arg(1)
    ->Arg(8)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// The raw limit: Beast on the gateway's event-loop setup (2 threads, one
// io_context each, connections dealt to them in turn, TCP_NODELAY), every
// request answered with "{}".
class NullServer {
 public:
  explicit NullServer(uint16_t port = 0) : acceptor_(loops_[0]) {
    tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (auto& loop : loops_) threads_.emplace_back([&loop] { loop.run(); });
  }
  ~NullServer() {
    for (auto& loop : loops_) loop.stop();
    for (auto& t : threads_) t.join();
  }
  uint16_t port() const { return port_; }

 private:
  class Session : public std::enable_shared_from_this<Session> {
   public:
    explicit Session(tcp::socket s) : stream_(std::move(s)) {
      beast::error_code ignored;
      stream_.socket().set_option(tcp::no_delay(true), ignored);
    }
    void Read() {
      req_ = {};
      http::async_read(
          stream_, buffer_, req_,
          [self = shared_from_this()](beast::error_code ec, size_t) {
            if (!ec) self->Write();
          });
    }

   private:
    void Write() {
      res_ = {};
      res_.version(11);
      res_.result(http::status::ok);
      res_.set(http::field::content_type, "application/x-amz-json-1.0");
      res_.body() = "{}";
      res_.keep_alive(req_.keep_alive());
      res_.prepare_payload();
      http::async_write(
          stream_, res_,
          [self = shared_from_this()](beast::error_code ec, size_t) {
            if (!ec) self->Read();
          });
    }
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
  };

  void Accept() {
    asio::io_context& loop = loops_[next_++ % loops_.size()];
    acceptor_.async_accept(loop.get_executor(),
                           [this](beast::error_code ec, tcp::socket s) {
                             if (ec) return;
                             std::make_shared<Session>(std::move(s))->Read();
                             Accept();
                           });
  }

  std::array<asio::io_context, 2> loops_{asio::io_context(1),
                                         asio::io_context(1)};
  size_t next_ = 0;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

void BM_NullHandler(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  NullServer server;
  const std::string payload =
      SendPayload("http://127.0.0.1/000000000000/bench");
  const int64_t per = g_scale.requests / connections;
  std::atomic<int64_t> failed{0};
  for (auto _ : state) {
    double s = Drive(server.port(), connections, [&](Client& c) {
      for (int64_t i = 0; i < per; ++i) {
        if (c.Call("SendMessage", payload) != 200) failed.fetch_add(1);
      }
    });
    state.SetIterationTime(s);
    state.counters["req_per_s"] = static_cast<double>(per * connections) / s;
  }
  if (failed.load() > 0) state.SkipWithError("a request failed");
}
BENCHMARK(BM_NullHandler)
    ->Arg(1)
    ->Arg(8)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// --serve_null=PORT: the null handler alone on 127.0.0.1:PORT until SIGINT
// or SIGTERM, for an external load generator (wrk) to measure it beside
// `ferry serve` with the same settings.
int ServeNull(int port) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // Blocked before the server's threads start, so they inherit the mask.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  NullServer server(static_cast<uint16_t>(port));
  std::printf("null handler on 127.0.0.1:%d\n", server.port());
  std::fflush(stdout);
  int got = 0;
  sigwait(&signals, &got);
  return 0;
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  bool full = true;
  int serve_null = -1;
  if (!ferry::bench::ParseBenchFlags(
          &argc, argv, &full,
          {{"serve_null", [&](std::string_view v) {
              if (!absl::SimpleAtoi(absl::string_view(v.data(), v.size()),
                                    &serve_null) ||
                  serve_null < 0 || serve_null > 65535) {
                std::fprintf(stderr, "--serve_null takes a port\n");
                return false;
              }
              return true;
            }}})) {
    return 2;
  }
  if (serve_null >= 0) return ferry::ServeNull(serve_null);
  ferry::g_scale = full ? ferry::kFull : ferry::kSmoke;
  return ferry::bench::RunBenchmarks(argc, argv, full ? "full" : "smoke");
}
