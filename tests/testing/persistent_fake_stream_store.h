// The persistent fake backend's StreamStore (persistent_fake_backend.h): one
// mutex, ordered maps, linear scans, and its whole state written to a file
// after every acknowledged change (as a durable store would), so reopening
// the file restores streams, shards and records. A second, independent
// implementation of ferry/stream_store.h beside the memory and RocksDB ones.
//
// Thread safety: all methods are safe for concurrent use (one mutex).
// Errors: as ferry/stream_store.h; kDataLoss when the file cannot be parsed,
// kUnavailable when it cannot be written (nothing is acknowledged then).
#ifndef FERRY_TESTS_TESTING_PERSISTENT_FAKE_STREAM_STORE_H_
#define FERRY_TESTS_TESTING_PERSISTENT_FAKE_STREAM_STORE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ferry/stream_store.h"

namespace ferry_testing {

class PersistentFakeStreamStore : public ferry::StreamStore {
 public:
  // Loads `path` (empty: never written); kDataLoss if it cannot be parsed.
  static absl::StatusOr<std::unique_ptr<PersistentFakeStreamStore>> Open(
      std::string path);
  // Drops every stream.
  virtual absl::Status Reset() = 0;
};

}  // namespace ferry_testing

#endif  // FERRY_TESTS_TESTING_PERSISTENT_FAKE_STREAM_STORE_H_
