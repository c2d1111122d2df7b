// The /_ferry/ test-support endpoints; see admin.h and ferry/gateway.h.
#include "admin.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "aws_wire.h"
#include "ferry/provision.h"
#include "ferry/testing/manual_clock.h"

namespace ferry::gateway_internal {
namespace {

using Json = nlohmann::json;

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

HttpResponse Error(int status, std::string_view message) {
  return JsonResponse(status, Json{{"error", message}});
}

HttpResponse Ok() { return JsonResponse(200, Json{{"status", "ok"}}); }

Json RecordToJson(const RecordedRequest& r) {
  return Json{{"service", r.service},
              {"protocol", r.protocol},
              {"operation", r.operation},
              {"method", r.method},
              {"target", r.target},
              {"headers", r.headers},
              {"body", r.body},
              {"access_key_id", r.access_key_id},
              {"account", r.account},
              {"region", r.region},
              {"http_status", r.http_status},
              {"error_code", r.error_code}};
}

// The body as a JSON object ({} when empty), or an error response.
std::optional<HttpResponse> ParseBody(const HttpRequest& request, Json* out) {
  if (request.body.empty()) {
    *out = Json::object();
    return std::nullopt;
  }
  *out = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded() || !out->is_object()) {
    return Error(400, "the request body is not a JSON object");
  }
  return std::nullopt;
}

Json ClockJson(Broker& broker, bool manual) {
  absl::Time now = broker.clock().Now();
  return Json{{"manual", manual},
              {"epoch_ms", absl::ToUnixMillis(now)},
              {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now,
                                        absl::UTCTimeZone())}};
}

// The base of queue URLs for this request, from its Host header.
std::string Endpoint(const HttpRequest& request) {
  std::string_view host = request.Header("host");
  return host.empty() ? std::string() : absl::StrCat("http://", AsAbsl(host));
}

}  // namespace

Json FaultToJson(const InjectedFault& f, int times) {
  return Json{{"operation", f.operation},
              {"error", f.error},
              {"http_status", f.http_status},
              {"message", f.message},
              {"drop_connection", f.drop_connection},
              {"probability", f.probability},
              {"latency_ms", absl::ToDoubleMilliseconds(f.latency)},
              {"times", times}};
}

absl::Status FaultFromJson(const Json& j, InjectedFault* fault, int* times) {
  *fault = InjectedFault{};
  *times = 1;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    auto bad = [&](std::string_view expected) {
      return absl::InvalidArgumentError(absl::StrCat("fault.", k, ": expected ",
                                                     AsAbsl(expected), ", got ",
                                                     v.type_name()));
    };
    if (k == "operation" || k == "error" || k == "message") {
      if (!v.is_string()) return bad("a string");
      std::string& field = k == "operation" ? fault->operation
                           : k == "error"   ? fault->error
                                            : fault->message;
      field = v.get<std::string>();
    } else if (k == "http_status") {
      if (!v.is_number_integer() || v.get<int64_t>() < 100 ||
          v.get<int64_t>() > 599) {
        return bad("an HTTP status (100 to 599)");
      }
      fault->http_status = v.get<int>();
    } else if (k == "drop_connection") {
      if (!v.is_boolean()) return bad("a boolean");
      fault->drop_connection = v.get<bool>();
    } else if (k == "probability") {
      if (!v.is_number() || !(v.get<double>() >= 0.0) ||
          v.get<double>() > 1.0) {
        return bad("a number from 0 to 1");
      }
      fault->probability = v.get<double>();
    } else if (k == "latency_ms") {
      if (!v.is_number() || !(v.get<double>() >= 0.0) ||
          !std::isfinite(v.get<double>())) {
        return bad("a number of milliseconds >= 0");
      }
      fault->latency = absl::Milliseconds(v.get<double>());
    } else if (k == "times") {
      if (!v.is_number_integer()) return bad("an integer (-1: until cleared)");
      const int64_t t = v.get<int64_t>();
      *times = t < 0 ? -1 : static_cast<int>(std::min<int64_t>(t, 1 << 30));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "fault.", k,
          ": unknown key (expected one of: operation, error, http_status, "
          "message, drop_connection, probability, latency_ms, times)"));
    }
  }
  return absl::OkStatus();
}

bool AdminService::IsAdminPath(std::string_view path) {
  return absl::StartsWith(AsAbsl(path), "/_ferry/") && path != "/_ferry/health";
}

HttpResponse AdminService::Handle(const HttpRequest& request) {
  const std::string_view path = TargetPath(request.target);
  const std::string& method = request.method;
  if (!options_.admin_endpoints) {
    return Error(404,
                 "the /_ferry/ admin endpoints are off (GatewayOptions::"
                 "admin_endpoints; `ferry serve --admin`)");
  }
  auto wrong_method = [&](std::string_view allowed) {
    HttpResponse r =
        Error(405, absl::StrCat(method, " is not allowed on ", AsAbsl(path),
                                " (allowed: ", AsAbsl(allowed), ")"));
    r.headers.emplace_back("Allow", std::string(allowed));
    return r;
  };
  Json body;
  if (path == "/_ferry/reset") {
    if (method != "POST") return wrong_method("POST");
    absl::Status s = hooks_.reset();
    if (!s.ok()) return Error(500, absl::StrCat("reset: ", s.ToString()));
    return Ok();
  }
  if (path == "/_ferry/clock") {
    if (method != "GET") return wrong_method("GET");
    return JsonResponse(200, ClockJson(broker_, options_.manual_clock));
  }
  if (path == "/_ferry/clock/advance" || path == "/_ferry/clock/set") {
    if (method != "POST") return wrong_method("POST");
    if (options_.manual_clock == nullptr) {
      return Error(400,
                   "the broker does not run on a manual clock (`ferry serve "
                   "--manual-clock`, GatewayOptions::manual_clock)");
    }
    if (auto e = ParseBody(request, &body)) return *std::move(e);
    if (path == "/_ferry/clock/advance") {
      absl::Duration d;
      if (body.size() == 1 && body.contains("seconds") &&
          body["seconds"].is_number() && body["seconds"].get<double>() >= 0) {
        d = absl::Seconds(body["seconds"].get<double>());
      } else if (body.size() == 1 && body.contains("milliseconds") &&
                 body["milliseconds"].is_number() &&
                 body["milliseconds"].get<double>() >= 0) {
        d = absl::Milliseconds(body["milliseconds"].get<double>());
      } else {
        return Error(400,
                     "expected {\"seconds\": S} or {\"milliseconds\": N} with "
                     "a number >= 0");
      }
      options_.manual_clock->Advance(d);
    } else {
      if (body.size() != 1 || !body.contains("epoch_ms") ||
          !body["epoch_ms"].is_number_integer()) {
        return Error(400, "expected {\"epoch_ms\": N} with an integer");
      }
      absl::Time t = absl::FromUnixMillis(body["epoch_ms"].get<int64_t>());
      if (t < broker_.clock().Now()) {
        return Error(400, "the clock never moves back");
      }
      options_.manual_clock->SetTime(t);
    }
    return JsonResponse(200, ClockJson(broker_, true));
  }
  if (path == "/_ferry/faults") {
    if (method == "GET") {
      Json list = Json::array();
      for (const auto& [fault, times] : sqs_.Faults()) {
        list.push_back(FaultToJson(fault, times));
      }
      return JsonResponse(200, Json{{"faults", list}});
    }
    if (method == "DELETE") {
      sqs_.ClearFaults();
      return Ok();
    }
    if (method != "POST") return wrong_method("GET, POST, DELETE");
    if (auto e = ParseBody(request, &body)) return *std::move(e);
    InjectedFault fault;
    int times = 1;
    if (absl::Status s = FaultFromJson(body, &fault, &times); !s.ok()) {
      return Error(400, std::string(s.message()));
    }
    sqs_.InjectFault(fault, times);
    return JsonResponse(200, FaultToJson(fault, times));
  }
  if (path == "/_ferry/requests") {
    if (method == "DELETE") {
      hooks_.clear_records();
      return Ok();
    }
    if (method != "GET") return wrong_method("GET, DELETE");
    if (!options_.record_requests) {
      return Error(400,
                   "requests are not recorded (GatewayOptions::"
                   "record_requests; `ferry serve --admin` records them)");
    }
    Json list = Json::array();
    for (const RecordedRequest& r : hooks_.records()) {
      list.push_back(RecordToJson(r));
    }
    return JsonResponse(200, Json{{"requests", list}});
  }
  if (path == "/_ferry/provision") {
    if (method != "POST") return wrong_method("POST");
    absl::StatusOr<ProvisionResult> created =
        Provision(broker_, request.body, Endpoint(request));
    if (!created.ok()) {
      return Error(absl::IsInvalidArgument(created.status()) ? 400 : 500,
                   std::string(created.status().message()));
    }
    Json queues = Json::array(), topics = Json::array(),
         subscriptions = Json::array(), streams = Json::array();
    for (const ProvisionedQueue& q : created->queues) {
      queues.push_back(Json{{"name", q.name},
                            {"account", q.account},
                            {"region", q.region},
                            {"queue_url", q.queue_url}});
    }
    for (const ProvisionedTopic& t : created->topics) {
      topics.push_back(Json{{"name", t.name}, {"topic_arn", t.topic_arn}});
    }
    for (const ProvisionedSubscription& s : created->subscriptions) {
      subscriptions.push_back(Json{{"topic_arn", s.topic_arn},
                                   {"protocol", s.protocol},
                                   {"endpoint", s.endpoint},
                                   {"subscription_arn", s.subscription_arn}});
    }
    for (const ProvisionedStream& s : created->streams) {
      streams.push_back(Json{{"name", s.name},
                             {"stream_arn", s.stream_arn},
                             {"shard_count", s.shard_count},
                             {"existed", s.existed}});
    }
    return JsonResponse(200, Json{{"queues", queues},
                                  {"topics", topics},
                                  {"subscriptions", subscriptions},
                                  {"streams", streams}});
  }
  return Error(404, absl::StrCat("no admin endpoint ", AsAbsl(path)));
}

}  // namespace ferry::gateway_internal
