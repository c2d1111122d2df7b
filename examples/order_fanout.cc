// Fan-out of order events: one SNS topic, two queues with different filter
// policies, an in-process function that audits every event and one HTTP
// endpoint.
//
//   * "billing" receives only paid orders, as the raw JSON body;
//   * "shipping" receives paid orders over 100 (a body-scope numeric filter),
//     in SNS's JSON envelope;
//   * the "audit" function sees every event;
//   * a warehouse webhook (a small HTTP server on 127.0.0.1 in this program)
//     confirms its subscription from the SubscriptionConfirmation POST's
//     Token, then receives the paid orders as Notification POSTs, sent by
//     ferry's HTTP client.
//
// Run: ./order_fanout   (prints what each consumer got; exits 0 on success)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "ferry/broker.h"
#include "ferry/http_client.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/topic.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

ferry::MessageAttributeValue String(std::string v) {
  return {.data_type = "String", .string_value = std::move(v)};
}

// The warehouse's webhook: an HTTP/1.1 server on 127.0.0.1 that answers
// every POST with 200 and keeps what it got. One connection at a time,
// closed after each answer: enough for an example.
class Webhook {
 public:
  struct Post {
    std::string message_type;  // the x-amz-sns-message-type header
    std::string body;
  };

  Webhook() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listener_ < 0 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) !=
            0) {
      std::perror("webhook");
      std::exit(1);
    }
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
           "/warehouse";
    thread_ = std::thread([this] { Serve(); });
  }
  ~Webhook() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
  }

  const std::string& url() const { return url_; }

  // The POSTs received so far, once there are at least `n`.
  std::vector<Post> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return posts_.size() >= n; });
    return posts_;
  }

 private:
  void Serve() {
    for (;;) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;  // shut down
      std::string in;
      char buf[4096];
      size_t header_end = std::string::npos;
      size_t want = 0;
      for (;;) {
        ssize_t got = ::read(fd, buf, sizeof(buf));
        if (got <= 0) break;
        in.append(buf, static_cast<size_t>(got));
        if (header_end == std::string::npos) {
          header_end = in.find("\r\n\r\n");
          if (header_end == std::string::npos) continue;
          want = header_end + 4 + std::stoul(Header(in, "content-length", "0"));
        }
        if (in.size() >= want) break;
      }
      if (header_end != std::string::npos && in.size() >= want) {
        const char kOk[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)!::write(fd, kOk, sizeof(kOk) - 1);
        std::lock_guard lock(mu_);
        posts_.push_back({Header(in, "x-amz-sns-message-type", ""),
                          in.substr(header_end + 4)});
        cv_.notify_all();
      }
      ::close(fd);
    }
  }

  // A header's value from the head of a request (names compared without
  // case).
  static std::string Header(const std::string& request, std::string_view name,
                            std::string fallback) {
    size_t line = request.find("\r\n");
    while (line != std::string::npos && line + 2 < request.size()) {
      size_t start = line + 2;
      size_t end = request.find("\r\n", start);
      if (end == std::string::npos || end == start) break;
      std::string_view h(request.data() + start, end - start);
      size_t colon = h.find(':');
      if (colon == name.size() &&
          std::equal(name.begin(), name.end(), h.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        std::string_view v = h.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        return std::string(v);
      }
      line = end;
    }
    return fallback;
  }

  int listener_ = -1;
  std::string url_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Post> posts_;
};

// The value of a string field of a flat JSON object ("" if absent); SNS's
// tokens and ids need no unescaping.
std::string JsonField(const std::string& json, const std::string& field) {
  const std::string key = "\"" + field + "\":\"";
  size_t at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return json.substr(at, json.find('"', at) - at);
}

}  // namespace

int main() {
  auto broker = ferry::Broker::Open({}, ferry::NewMemoryBackend());
  if (!broker.ok()) return Fail(broker.status());
  auto orders = (*broker)->CreateTopic("orders");
  auto billing = (*broker)->CreateQueue("billing");
  auto shipping = (*broker)->CreateQueue("shipping");
  if (!orders.ok() || !billing.ok() || !shipping.ok()) {
    return Fail(absl::InternalError("setup failed"));
  }

  auto billed =
      orders->Subscribe(*billing, {.raw_message_delivery = true,
                                   .filter_policy = R"({"status":["paid"]})"});
  if (!billed.ok()) return Fail(billed.status());
  auto shipped = orders->Subscribe(
      *shipping, {.filter_policy =
                      R"({"status":["paid"],"total":[{"numeric":[">",100]}]})",
                  .filter_policy_on_body = true});
  if (!shipped.ok()) return Fail(shipped.status());

  int audited = 0;
  absl::Status reg = (*broker)->RegisterFunction(
      "audit", [&](const ferry::TopicNotification& n) {
        ++audited;
        std::printf("audit: %s\n", n.message.c_str());
        return absl::OkStatus();
      });
  if (!reg.ok()) return Fail(reg);
  if (auto s = orders->SubscribeFunction("audit"); !s.ok()) {
    return Fail(s.status());
  }

  // The webhook: http deliveries go through ferry's HTTP client. The
  // default executor runs them inline, so Subscribe returns once the
  // webhook has answered the confirmation POST.
  auto transport = ferry::MakeHttpTransport();
  if (!transport.ok()) return Fail(transport.status());
  (*broker)->sns().SetHttpTransport(*transport);
  Webhook webhook;
  ferry::Sns& sns = (*broker)->sns();
  auto pending = sns.Subscribe(
      {}, {.topic_arn = orders->arn(),
           .protocol = "http",
           .endpoint = webhook.url(),
           .attributes = {{"FilterPolicy", R"({"status":["paid"]})"}}});
  if (!pending.ok()) return Fail(pending.status());
  std::vector<Webhook::Post> confirmation = webhook.WaitFor(1);
  std::printf("webhook: %s (SubscribeURL %s)\n",
              confirmation[0].message_type.c_str(),
              JsonField(confirmation[0].body, "SubscribeURL").c_str());
  auto confirmed = sns.ConfirmSubscription(
      {}, {.topic_arn = orders->arn(),
           .token = JsonField(confirmation[0].body, "Token")});
  if (!confirmed.ok()) return Fail(confirmed.status());

  struct Event {
    std::string body;
    std::string status;
  };
  std::vector<Event> events = {
      {R"({"order":1,"status":"paid","total":250})", "paid"},
      {R"({"order":2,"status":"created","total":90})", "created"},
      {R"({"order":3,"status":"paid","total":40})", "paid"},
  };
  for (const Event& e : events) {
    // Attribute-scope filters read the attributes; body-scope ones the body.
    auto r =
        orders->Publish(e.body, {.attributes = {{"status", String(e.status)}}});
    if (!r.ok()) return Fail(r.status());
  }

  auto bills = billing->Receive({.max_messages = 10});
  auto ships = shipping->Receive({.max_messages = 10});
  if (!bills.ok() || !ships.ok()) return Fail(absl::InternalError("receive"));
  for (const auto& m : *bills) std::printf("billing: %s\n", m.body.c_str());
  for (const auto& m : *ships)
    std::printf("shipping (envelope): %s\n", m.body.c_str());
  // The confirmation and the two paid orders.
  std::vector<Webhook::Post> posts = webhook.WaitFor(3);
  for (size_t i = 1; i < posts.size(); ++i) {
    std::printf("webhook: %s, MessageId %s\n", posts[i].message_type.c_str(),
                JsonField(posts[i].body, "MessageId").c_str());
  }

  // Paid orders 1 and 3 to billing and the webhook, order 1 to shipping,
  // all three audited (the default executor runs functions inline).
  const bool ok = bills->size() == 2 && ships->size() == 1 && audited == 3 &&
                  posts.size() == 3 &&
                  posts[1].message_type == "Notification" &&
                  posts[2].message_type == "Notification";
  std::printf("%s\n", ok ? "ok" : "unexpected counts");
  return ok ? 0 : 1;
}
