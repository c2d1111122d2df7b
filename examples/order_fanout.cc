// Fan-out of order events: one SNS topic, two queues with different filter
// policies, and an in-process function that audits every event.
//
//   * "billing" receives only paid orders, as the raw JSON body;
//   * "shipping" receives paid orders over 100 (a body-scope numeric filter),
//     in SNS's JSON envelope;
//   * the "audit" function sees every event.
//
// Run: ./order_fanout   (prints what each consumer got; exits 0 on success)

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/topic.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

ferry::MessageAttributeValue String(std::string v) {
  return {.data_type = "String", .string_value = std::move(v)};
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

  // Paid orders 1 and 3 to billing, order 1 to shipping, all three audited
  // (the default executor runs functions inline).
  const bool ok = bills->size() == 2 && ships->size() == 1 && audited == 3;
  std::printf("%s\n", ok ? "ok" : "unexpected counts");
  return ok ? 0 : 1;
}
