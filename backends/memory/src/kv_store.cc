#include "kv_store.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ferry::memory_internal {
namespace {

absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

absl::Status VersionMismatch(std::string_view table, std::string_view key,
                             uint64_t expected, uint64_t actual) {
  return absl::AbortedError(absl::StrCat("version of ", AsAbsl(table), "/",
                                         AsAbsl(key), " is ", actual,
                                         ", expected ", expected));
}

}  // namespace

absl::StatusOr<std::optional<KeyValueStore::Entry>> MemoryKeyValueStore::Get(
    std::string_view table, std::string_view key) {
  MutexLock lock(&mu_);
  auto t = tables_.find(AsAbsl(table));
  if (t == tables_.end()) return std::optional<Entry>();
  auto it = t->second.find(AsAbsl(key));
  if (it == t->second.end()) return std::optional<Entry>();
  return std::optional<Entry>(it->second);
}

absl::StatusOr<uint64_t> MemoryKeyValueStore::CompareAndSwap(
    std::string_view table, std::string_view key, uint64_t expected_version,
    std::string_view value) {
  MutexLock lock(&mu_);
  Table& t = tables_[AsAbsl(table)];
  auto it = t.find(AsAbsl(key));
  const uint64_t actual = it == t.end() ? 0 : it->second.version;
  if (actual != expected_version) {
    return VersionMismatch(table, key, expected_version, actual);
  }
  if (it == t.end()) it = t.emplace(std::string(key), Entry()).first;
  it->second.value.assign(value.data(), value.size());
  it->second.version = ++last_version_;
  return it->second.version;
}

absl::StatusOr<bool> MemoryKeyValueStore::Delete(std::string_view table,
                                                 std::string_view key,
                                                 uint64_t expected_version) {
  MutexLock lock(&mu_);
  auto t = tables_.find(AsAbsl(table));
  const bool present =
      t != tables_.end() && t->second.find(AsAbsl(key)) != t->second.end();
  if (!present) {
    if (expected_version != 0) {
      return VersionMismatch(table, key, expected_version, 0);
    }
    return false;
  }
  auto it = t->second.find(AsAbsl(key));
  if (expected_version != 0 && it->second.version != expected_version) {
    return VersionMismatch(table, key, expected_version, it->second.version);
  }
  t->second.erase(it);
  if (t->second.empty()) tables_.erase(t);
  return true;
}

absl::StatusOr<std::vector<std::pair<std::string, KeyValueStore::Entry>>>
MemoryKeyValueStore::Scan(std::string_view table, std::string_view prefix,
                          std::string_view start_after, size_t limit) {
  std::vector<std::pair<std::string, Entry>> out;
  MutexLock lock(&mu_);
  auto t = tables_.find(AsAbsl(table));
  if (t == tables_.end()) return out;
  const std::string_view from = std::max(prefix, start_after);
  for (auto it = t->second.lower_bound(AsAbsl(from));
       it != t->second.end() && out.size() < limit; ++it) {
    if (!absl::StartsWith(it->first, AsAbsl(prefix))) break;
    if (!start_after.empty() && it->first == start_after) continue;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

void MemoryKeyValueStore::Clear() {
  MutexLock lock(&mu_);
  tables_.clear();
}

}  // namespace ferry::memory_internal
