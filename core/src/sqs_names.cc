#include "sqs_names.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "string_util.h"

namespace ferry::internal {

std::string QueueArn(std::string_view region, std::string_view account,
                     std::string_view name) {
  return absl::StrCat("arn:aws:sqs:", AsAbsl(region), ":", AsAbsl(account), ":",
                      AsAbsl(name));
}

std::string QueueArnPrefix(std::string_view region, std::string_view account) {
  return absl::StrCat("arn:aws:sqs:", AsAbsl(region), ":", AsAbsl(account),
                      ":");
}

bool ParseQueueArn(std::string_view arn, QueueName* out) {
  std::vector<absl::string_view> parts = absl::StrSplit(AsAbsl(arn), ':');
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sqs" ||
      parts[3].empty() || parts[4].empty() || parts[5].empty()) {
    return false;
  }
  out->region = std::string(parts[3]);
  out->account = std::string(parts[4]);
  out->name = std::string(parts[5]);
  return true;
}

std::string QueueUrl(std::string_view endpoint, std::string_view region,
                     std::string_view account, std::string_view name) {
  if (endpoint.empty()) {
    return absl::StrCat("https://sqs.", AsAbsl(region), ".amazonaws.com/",
                        AsAbsl(account), "/", AsAbsl(name));
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.remove_suffix(1);
  return absl::StrCat(AsAbsl(endpoint), "/", AsAbsl(account), "/",
                      AsAbsl(name));
}

bool ParseQueueUrl(std::string_view url, std::string* account,
                   std::string* name) {
  size_t scheme = url.find("://");
  std::string_view rest =
      scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view path = rest.substr(slash + 1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t last = path.rfind('/');
  if (last == std::string_view::npos) return false;
  std::string_view queue = path.substr(last + 1);
  std::string_view owner = path.substr(0, last);
  size_t owner_start = owner.rfind('/');
  if (owner_start != std::string_view::npos) {
    owner = owner.substr(owner_start + 1);
  }
  if (owner.empty() || queue.empty()) return false;
  *account = std::string(owner);
  *name = std::string(queue);
  return true;
}

bool IsValidQueueName(std::string_view name, bool fifo) {
  if (name.empty() || name.size() > 80) return false;
  std::string_view base = name;
  constexpr std::string_view kSuffix = ".fifo";
  bool has_suffix = name.size() > kSuffix.size() &&
                    name.substr(name.size() - kSuffix.size()) == kSuffix;
  if (fifo != has_suffix) return false;
  if (fifo) base = name.substr(0, name.size() - kSuffix.size());
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace ferry::internal
