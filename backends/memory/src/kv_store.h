// The memory backend's KeyValueStore: one mutex, an ordered map per table.
#ifndef FERRY_BACKENDS_MEMORY_SRC_KV_STORE_H_
#define FERRY_BACKENDS_MEMORY_SRC_KV_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "ferry/backend.h"
#include "ferry/sync.h"

namespace ferry::memory_internal {

class MemoryKeyValueStore final : public KeyValueStore {
 public:
  absl::StatusOr<std::optional<Entry>> Get(std::string_view table,
                                           std::string_view key) override;
  absl::StatusOr<uint64_t> CompareAndSwap(std::string_view table,
                                          std::string_view key,
                                          uint64_t expected_version,
                                          std::string_view value) override;
  absl::StatusOr<bool> Delete(std::string_view table, std::string_view key,
                              uint64_t expected_version) override;
  absl::StatusOr<std::vector<std::pair<std::string, Entry>>> Scan(
      std::string_view table, std::string_view prefix,
      std::string_view start_after, size_t limit) override;

  void Clear();

 private:
  using Table = absl::btree_map<std::string, Entry>;

  Mutex mu_;
  absl::flat_hash_map<std::string, Table> tables_ ABSL_GUARDED_BY(mu_);
  // Versions come from one counter, so a key deleted and written again
  // never repeats a version a caller may still hold.
  uint64_t last_version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_KV_STORE_H_
