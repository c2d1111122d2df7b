// `ferry admin <verb>` against a running server, and the pieces every verb
// shares: endpoint URLs, one HTTP call, options, output (remote.cc).
#ifndef FERRY_TOOLS_REMOTE_H_
#define FERRY_TOOLS_REMOTE_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boost/beast/http/verb.hpp"
#include "nlohmann/json.hpp"

namespace ferry_tools {

// The host and port of an endpoint URL.
struct Endpoint {
  std::string host;
  std::string port;
};
// "http://HOST[:PORT]" (no path); nullopt for anything else.
std::optional<Endpoint> ParseEndpoint(std::string_view url);

struct Reply {
  int status = 0;
  std::string body;
};
// One HTTP/1.1 request; nullopt with `*error` set when the server cannot be
// reached.
std::optional<Reply> Call(const Endpoint& ep, boost::beast::http::verb method,
                          const std::string& target,
                          const std::map<std::string, std::string>& headers,
                          const std::string& body, std::string* error);

// Options as --name value pairs (and --flag), in order.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> values;
  bool Has(const std::string& k) const { return values.count(k) > 0; }
  std::string Get(const std::string& k, std::string def = "") const {
    auto it = values.find(k);
    return it == values.end() ? def : it->second;
  }
};
// Parses argv; `flags` take no value. False with `*error` on a missing value.
bool ParseArgs(int argc, char** argv, const std::vector<std::string>& flags,
               Args* out, std::string* error);

// Prints "ferry: `error`" and `usage` to stderr; returns 2 (a usage error).
int UsageError(std::string_view usage, std::string_view error);

// --endpoint-url (default http://127.0.0.1:4566) and --output json|table
// (default json); false with `*status` set (after printing why) when the
// value is not one.
bool EndpointOption(const Args& args, std::string_view usage, Endpoint* ep,
                    int* status);
bool OutputOption(const Args& args, std::string_view usage, bool* table,
                  int* status);

// Prints `j` as JSON, or (table) the `columns` of each row of `rows`.
void PrintOutput(const nlohmann::json& j, const nlohmann::json& rows,
                 const std::vector<std::string>& columns, bool table);

// `args` are the arguments after "admin". Returns the exit status: 0 on
// success, 1 when the request fails (the error is printed), 2 for a usage
// error.
int RunAdmin(int argc, char** argv);

}  // namespace ferry_tools

#endif  // FERRY_TOOLS_REMOTE_H_
