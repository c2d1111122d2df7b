// `ferry admin ...`: the /_ferry/ test-support verbs of a running ferry
// server (`ferry serve --admin`); and what every verb shares: the endpoint
// URL, one HTTP call, the options and the json/table output.
#include "remote.h"

#include <cstdint>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/beast/http.hpp"
#include "ferry/http_client.h"
#include "nlohmann/json.hpp"

namespace ferry_tools {
namespace {

namespace http = boost::beast::http;
using Json = nlohmann::json;

constexpr std::string_view kAdminUsage =
    "usage: ferry admin <verb> [--endpoint-url URL]\n"
    "\n"
    "verbs (need `ferry serve --admin` or --manual-clock):\n"
    "  reset                      every queue and message gone (and --config\n"
    "                             queues created again)\n"
    "  clock                      the server's time\n"
    "  clock-advance SECONDS      move the manual clock forward\n"
    "  faults                     list injected faults\n"
    "  fault-add --operation OP --error CODE [--times N] [--probability P]\n"
    "            [--latency-ms MS]\n"
    "  faults-clear\n"
    "  requests                   the recorded requests\n";

}  // namespace

std::optional<Endpoint> ParseEndpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty() || url.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || url.back() == ']') {
    return Endpoint{std::string(url), "80"};
  }
  return Endpoint{std::string(url.substr(0, colon)),
                  std::string(url.substr(colon + 1))};
}

std::optional<Reply> Call(const Endpoint& ep, http::verb method,
                          const std::string& target,
                          const std::map<std::string, std::string>& headers,
                          const std::string& body, std::string* error) {
  // ferry's one HTTP client; answers of any size (recorded requests can be
  // large), and a deadline far beyond a long poll.
  absl::StatusOr<std::unique_ptr<ferry::HttpClient>> client =
      ferry::HttpClient::Create(
          {.max_response_bytes = size_t{1} << 30, .max_idle_per_host = 0});
  if (!client.ok()) {
    *error = std::string(client.status().message());
    return std::nullopt;
  }
  ferry::HttpRequest req{
      .method = std::string(http::to_string(method)),
      .url = absl::StrCat("http://", ep.host, ":", ep.port, target),
      .headers = {{"User-Agent", "ferry-cli"}},
      .body = body,
      .timeout = absl::Minutes(10)};
  for (const auto& [k, v] : headers) req.headers.emplace_back(k, v);
  absl::StatusOr<ferry::HttpResponse> res = (*client)->Send(req);
  if (!res.ok()) {
    *error = std::string(res.status().message());
    return std::nullopt;
  }
  return Reply{res->status, std::move(res->body)};
}

bool ParseArgs(int argc, char** argv, const std::vector<std::string>& flags,
               Args* out, std::string* error) {
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!a.starts_with("--")) {
      out->positional.emplace_back(a);
      continue;
    }
    std::string name(a.substr(2));
    bool is_flag = false;
    for (const std::string& f : flags) is_flag = is_flag || f == name;
    if (is_flag) {
      out->values.emplace(name, "true");
      continue;
    }
    if (i + 1 >= argc) {
      *error = absl::StrCat("--", name, " needs a value");
      return false;
    }
    out->values.emplace(name, argv[++i]);
  }
  return true;
}

void PrintOutput(const Json& j, const Json& rows,
                 const std::vector<std::string>& columns, bool table) {
  if (!table) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::vector<size_t> width;
  for (const std::string& c : columns) width.push_back(c.size());
  auto cell = [](const Json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  for (const Json& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string v = row.contains(columns[i]) ? cell(row[columns[i]]) : "";
      width[i] = std::max(width[i], v.size());
    }
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    std::cout << std::left << std::setw(static_cast<int>(width[i]) + 2)
              << columns[i];
  }
  std::cout << "\n";
  for (const Json& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string v = row.contains(columns[i]) ? cell(row[columns[i]]) : "";
      std::cout << std::left << std::setw(static_cast<int>(width[i]) + 2) << v;
    }
    std::cout << "\n";
  }
}

int UsageError(std::string_view usage, std::string_view error) {
  std::cerr << "ferry: " << error << "\n\n" << usage;
  return 2;
}

bool EndpointOption(const Args& args, std::string_view usage, Endpoint* ep,
                    int* status) {
  std::string url = args.Get("endpoint-url", "http://127.0.0.1:4566");
  std::optional<Endpoint> parsed = ParseEndpoint(url);
  if (!parsed) {
    *status = UsageError(usage, absl::StrCat("--endpoint-url must be "
                                             "http://HOST[:PORT], not '",
                                             url, "'"));
    return false;
  }
  *ep = *parsed;
  return true;
}

bool OutputOption(const Args& args, std::string_view usage, bool* table,
                  int* status) {
  std::string output = args.Get("output", "json");
  if (output != "json" && output != "table") {
    *status = UsageError(usage, "--output must be json or table");
    return false;
  }
  *table = output == "table";
  return true;
}

int RunAdmin(int argc, char** argv) {
  if (argc < 1 || std::string_view(argv[0]) == "--help") {
    std::cout << kAdminUsage;
    return argc < 1 ? 2 : 0;
  }
  const std::string verb = argv[0];
  Args args;
  std::string error;
  if (!ParseArgs(argc - 1, argv + 1, {}, &args, &error)) {
    return UsageError(kAdminUsage, error);
  }
  Endpoint ep;
  bool table = false;  // the answers are JSON documents
  int status = 0;
  if (!OutputOption(args, kAdminUsage, &table, &status) ||
      !EndpointOption(args, kAdminUsage, &ep, &status)) {
    return status;
  }
  http::verb method = http::verb::get;
  std::string path;
  Json body;
  if (verb == "reset") {
    method = http::verb::post;
    path = "/_ferry/reset";
  } else if (verb == "clock") {
    path = "/_ferry/clock";
  } else if (verb == "clock-advance") {
    double seconds = 0;
    if (args.positional.size() != 1 ||
        !absl::SimpleAtod(args.positional[0], &seconds) || seconds < 0) {
      return UsageError(kAdminUsage, "clock-advance needs SECONDS (>= 0)");
    }
    method = http::verb::post;
    path = "/_ferry/clock/advance";
    body = {{"seconds", seconds}};
  } else if (verb == "faults") {
    path = "/_ferry/faults";
  } else if (verb == "faults-clear") {
    method = http::verb::delete_;
    path = "/_ferry/faults";
  } else if (verb == "fault-add") {
    method = http::verb::post;
    path = "/_ferry/faults";
    body = Json::object();
    for (const char* k : {"operation", "error"}) {
      if (args.Has(k)) body[k] = args.Get(k);
    }
    int times = 1;
    double probability = 1, latency = 0;
    if (!absl::SimpleAtoi(args.Get("times", "1"), &times) ||
        !absl::SimpleAtod(args.Get("probability", "1"), &probability) ||
        !absl::SimpleAtod(args.Get("latency-ms", "0"), &latency)) {
      return UsageError(kAdminUsage,
                        "--times, --probability and --latency-ms take numbers");
    }
    body["times"] = times;
    body["probability"] = probability;
    body["latency_ms"] = latency;
  } else if (verb == "requests") {
    path = "/_ferry/requests";
  } else {
    return UsageError(kAdminUsage, absl::StrCat("unknown verb '", verb, "'"));
  }
  if (verb != "clock-advance" && !args.positional.empty()) {
    return UsageError(kAdminUsage, absl::StrCat("unexpected argument '",
                                                args.positional[0], "'"));
  }
  std::optional<Reply> r =
      Call(ep, method, path, {{"Content-Type", "application/json"}},
           body.is_null() ? "" : body.dump(), &error);
  if (!r) {
    std::cerr << "ferry: cannot reach " << ep.host << ":" << ep.port << ": "
              << error << "\n";
    return 1;
  }
  Json out = Json::parse(r->body, nullptr, false);
  if (r->status != 200) {
    std::cerr << "ferry admin " << verb << ": HTTP " << r->status << ": "
              << (out.is_object() ? out.value("error", r->body) : r->body)
              << "\n";
    return 1;
  }
  std::cout << (out.is_discarded() ? r->body : out.dump(2)) << "\n";
  return 0;
}

}  // namespace ferry_tools
