// `ferry sqs ...` and `ferry admin ...`: verbs against a running ferry
// server (or any SQS endpoint for the sqs verbs), shaped like the AWS CLI.
// Requests use SQS's JSON protocol, unsigned; the admin verbs use the
// /_ferry/ endpoints (`ferry serve --admin`).
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

constexpr std::string_view kSqsUsage =
    "usage: ferry sqs <verb> [options] [--endpoint-url URL] "
    "[--output json|table]\n"
    "\n"
    "verbs (queues by name, in the server's default account):\n"
    "  list-queues [--prefix P]\n"
    "  create-queue --queue-name N [--attribute NAME=VALUE]...\n"
    "  delete-queue --queue-name N\n"
    "  purge-queue --queue-name N\n"
    "  send-message --queue-name N --message-body B\n"
    "  receive-message --queue-name N [--max-number-of-messages K]\n"
    "                  [--wait-time-seconds S] [--delete]\n"
    "  stats        message counts of every queue\n"
    "\n"
    "--endpoint-url defaults to http://127.0.0.1:4566 (`ferry serve`).\n";

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

namespace {

class Remote {
 public:
  Remote(Endpoint ep, bool table) : ep_(std::move(ep)), table_(table) {}

  // An SQS JSON call; prints the error and returns nullopt on failure.
  std::optional<Json> Sqs(const std::string& op, const Json& in) {
    std::string error;
    std::optional<Reply> r =
        Call(ep_, http::verb::post, "/",
             {{"Content-Type", "application/x-amz-json-1.0"},
              {"X-Amz-Target", "AmazonSQS." + op}},
             in.dump(), &error);
    if (!r) {
      std::cerr << "ferry: cannot reach " << ep_.host << ":" << ep_.port << ": "
                << error << "\n";
      return std::nullopt;
    }
    Json out = Json::parse(r->body, nullptr, false);
    if (r->status != 200) {
      std::string type = out.is_object() ? out.value("__type", "") : "";
      size_t hash = type.find('#');
      if (hash != std::string::npos) type = type.substr(hash + 1);
      std::cerr << "ferry: " << op << " failed: HTTP " << r->status << " "
                << type << ": "
                << (out.is_object() ? out.value("message", r->body) : r->body)
                << "\n";
      return std::nullopt;
    }
    return out.is_discarded() ? Json::object() : out;
  }

  std::optional<std::string> QueueUrl(const std::string& name) {
    std::optional<Json> r = Sqs("GetQueueUrl", {{"QueueName", name}});
    if (!r) return std::nullopt;
    return r->value("QueueUrl", "");
  }

  // Prints `j` as JSON, or as a table of `columns` of each row of `rows`.
  void Print(const Json& j, const Json& rows,
             const std::vector<std::string>& columns) {
    PrintOutput(j, rows, columns, table_);
  }

  const Endpoint& endpoint() const { return ep_; }

 private:
  Endpoint ep_;
  bool table_;
};

int UsageError(std::string_view usage, std::string_view error) {
  std::cerr << "ferry: " << error << "\n\n" << usage;
  return 2;
}

std::string NameOf(const std::string& url) {
  size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

int RunSqsVerb(Remote& remote, const std::string& verb, const Args& args) {
  auto need = [&](const char* k) -> std::optional<std::string> {
    if (!args.Has(k)) return std::nullopt;
    return args.Get(k);
  };
  if (verb == "list-queues") {
    Json in = Json::object();
    if (args.Has("prefix")) in["QueueNamePrefix"] = args.Get("prefix");
    std::optional<Json> r = remote.Sqs("ListQueues", in);
    if (!r) return 1;
    Json rows = Json::array();
    for (const Json& u : r->value("QueueUrls", Json::array())) {
      rows.push_back({{"Name", NameOf(u)}, {"QueueUrl", u}});
    }
    remote.Print(*r, rows, {"Name", "QueueUrl"});
    return 0;
  }
  if (verb == "stats") {
    std::optional<Json> r = remote.Sqs("ListQueues", Json::object());
    if (!r) return 1;
    Json rows = Json::array();
    for (const Json& u : r->value("QueueUrls", Json::array())) {
      std::optional<Json> a = remote.Sqs(
          "GetQueueAttributes", {{"QueueUrl", u},
                                 {"AttributeNames",
                                  {"ApproximateNumberOfMessages",
                                   "ApproximateNumberOfMessagesNotVisible",
                                   "ApproximateNumberOfMessagesDelayed"}}});
      if (!a) return 1;
      Json row = {{"Name", NameOf(u)}};
      const std::map<std::string, std::string> columns = {
          {"ApproximateNumberOfMessages", "Visible"},
          {"ApproximateNumberOfMessagesNotVisible", "NotVisible"},
          {"ApproximateNumberOfMessagesDelayed", "Delayed"}};
      for (auto& [k, v] : (*a)["Attributes"].items()) {
        auto column = columns.find(k);
        if (column == columns.end() || !v.is_string()) continue;
        int64_t n = 0;
        row[column->second] =
            absl::SimpleAtoi(v.get<std::string>(), &n) ? Json(n) : v;
      }
      rows.push_back(row);
    }
    remote.Print(Json{{"Queues", rows}}, rows,
                 {"Name", "Visible", "NotVisible", "Delayed"});
    return 0;
  }
  std::optional<std::string> name = need("queue-name");
  if (!name) return UsageError(kSqsUsage, "--queue-name is required");
  if (verb == "create-queue") {
    Json attrs = Json::object();
    for (auto [it, end] = args.values.equal_range("attribute"); it != end;
         ++it) {
      size_t eq = it->second.find('=');
      if (eq == std::string::npos) {
        return UsageError(kSqsUsage, "--attribute needs NAME=VALUE");
      }
      attrs[it->second.substr(0, eq)] = it->second.substr(eq + 1);
    }
    Json in = {{"QueueName", *name}};
    if (!attrs.empty()) in["Attributes"] = attrs;
    std::optional<Json> r = remote.Sqs("CreateQueue", in);
    if (!r) return 1;
    remote.Print(*r, Json::array({*r}), {"QueueUrl"});
    return 0;
  }
  std::optional<std::string> url = remote.QueueUrl(*name);
  if (!url) return 1;
  if (verb == "delete-queue" || verb == "purge-queue") {
    std::optional<Json> r =
        remote.Sqs(verb == "delete-queue" ? "DeleteQueue" : "PurgeQueue",
                   {{"QueueUrl", *url}});
    if (!r) return 1;
    remote.Print(Json{{"QueueUrl", *url}}, Json::array({{{"QueueUrl", *url}}}),
                 {"QueueUrl"});
    return 0;
  }
  if (verb == "send-message") {
    std::optional<std::string> body = need("message-body");
    if (!body) return UsageError(kSqsUsage, "--message-body is required");
    std::optional<Json> r =
        remote.Sqs("SendMessage", {{"QueueUrl", *url}, {"MessageBody", *body}});
    if (!r) return 1;
    remote.Print(*r, Json::array({*r}), {"MessageId", "MD5OfMessageBody"});
    return 0;
  }
  if (verb == "receive-message") {
    int max = 1, wait = 0;
    if (!absl::SimpleAtoi(args.Get("max-number-of-messages", "1"), &max) ||
        !absl::SimpleAtoi(args.Get("wait-time-seconds", "0"), &wait)) {
      return UsageError(kSqsUsage,
                        "--max-number-of-messages and --wait-time-seconds "
                        "take whole numbers");
    }
    std::optional<Json> r =
        remote.Sqs("ReceiveMessage", {{"QueueUrl", *url},
                                      {"MaxNumberOfMessages", max},
                                      {"WaitTimeSeconds", wait},
                                      {"AttributeNames", {"All"}},
                                      {"MessageAttributeNames", {"All"}}});
    if (!r) return 1;
    Json messages = r->value("Messages", Json::array());
    if (args.Has("delete")) {
      for (const Json& m : messages) {
        if (!remote.Sqs(
                "DeleteMessage",
                {{"QueueUrl", *url}, {"ReceiptHandle", m["ReceiptHandle"]}})) {
          return 1;
        }
      }
    }
    remote.Print(*r, messages, {"MessageId", "Body"});
    return 0;
  }
  return UsageError(kSqsUsage, absl::StrCat("unknown verb '", verb, "'"));
}

// The endpoint and output flags shared by both commands.
bool CommonOptions(const Args& args, std::string_view usage, Endpoint* ep,
                   bool* table, int* status) {
  std::string url = args.Get("endpoint-url", "http://127.0.0.1:4566");
  std::optional<Endpoint> parsed = ParseEndpoint(url);
  if (!parsed) {
    *status = UsageError(usage, absl::StrCat("--endpoint-url must be "
                                             "http://HOST[:PORT], not '",
                                             url, "'"));
    return false;
  }
  *ep = *parsed;
  std::string output = args.Get("output", "json");
  if (output != "json" && output != "table") {
    *status = UsageError(usage, "--output must be json or table");
    return false;
  }
  *table = output == "table";
  return true;
}

}  // namespace

int RunSqs(int argc, char** argv) {
  if (argc < 1 || std::string_view(argv[0]) == "--help") {
    std::cout << kSqsUsage;
    return argc < 1 ? 2 : 0;
  }
  Args args;
  std::string error;
  if (!ParseArgs(argc - 1, argv + 1, {"delete"}, &args, &error)) {
    return UsageError(kSqsUsage, error);
  }
  if (!args.positional.empty()) {
    return UsageError(kSqsUsage, absl::StrCat("unexpected argument '",
                                              args.positional[0], "'"));
  }
  Endpoint ep;
  bool table = false;
  int status = 0;
  if (!CommonOptions(args, kSqsUsage, &ep, &table, &status)) return status;
  Remote remote(ep, table);
  return RunSqsVerb(remote, argv[0], args);
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
  bool table = false;
  int status = 0;
  if (!CommonOptions(args, kAdminUsage, &ep, &table, &status)) return status;
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
