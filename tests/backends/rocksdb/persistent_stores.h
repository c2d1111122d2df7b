// The stores whose contents survive a reopen, for the reopen tests that run
// over each of them (TEST_P): the persistent fake and RocksDB on disk.
//
// Thread safety: plain values. Errors: `open` returns the store's error.
#ifndef FERRY_TESTS_BACKENDS_ROCKSDB_PERSISTENT_STORES_H_
#define FERRY_TESTS_BACKENDS_ROCKSDB_PERSISTENT_STORES_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ferry/backend.h"
#include "ferry/rocksdb_backend.h"
#include "tests/testing/persistent_fake_backend.h"

namespace ferry_testing {

struct PersistentStore {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<ferry::Backend>>(
      const std::string& path)>
      open;
};

inline void PrintTo(const PersistentStore& s, std::ostream* os) {
  *os << s.name;
}

inline std::vector<PersistentStore> PersistentStores() {
  return {
      {"PersistentFake",
       [](const std::string& path) {
         return OpenPersistentFakeBackend({.path = path});
       }},
      {"RocksDb",
       [](const std::string& path) {
         ferry::RocksDbBackendOptions o;
         o.path = path;
         o.write_buffer_bytes = 1 << 20;
         return ferry::OpenRocksDbBackend(o);
       }},
  };
}

}  // namespace ferry_testing

#endif  // FERRY_TESTS_BACKENDS_ROCKSDB_PERSISTENT_STORES_H_
