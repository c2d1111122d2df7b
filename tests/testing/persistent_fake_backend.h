// -----------------------------------------------------------------------------
// File: tests/testing/persistent_fake_backend.h
// -----------------------------------------------------------------------------
//
// `ferry_testing::OpenPersistentFakeBackend` is a deliberately simple store:
// one mutex, ordered maps, linear scans. It exists for two reasons. It checks
// the store interface against a store that persists: after every acknowledged
// transition its whole state is written to a file (as a durable store would
// write it), and reopening the file restores queues, messages, leases,
// receipts and deduplication keys. And it is a second, independent
// implementation of the store contract, so the conformance suite running on
// both it and the memory backend shows that no semantic rule lives in a
// backend.
//
// Thread safety: all methods are safe for concurrent use (one mutex).
// Errors: kNotFound / kAlreadyExists / kAborted as backend.h states;
// kDataLoss when the file cannot be parsed; kUnavailable when it cannot be
// written (nothing is acknowledged then).
#ifndef FERRY_TESTS_TESTING_PERSISTENT_FAKE_BACKEND_H_
#define FERRY_TESTS_TESTING_PERSISTENT_FAKE_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ferry/backend.h"

namespace ferry_testing {

struct PersistentFakeOptions {
  // The file holding the state; created if missing. Empty: never written.
  std::string path;
};

absl::StatusOr<std::unique_ptr<ferry::Backend>> OpenPersistentFakeBackend(
    const PersistentFakeOptions& options);

}  // namespace ferry_testing

#endif  // FERRY_TESTS_TESTING_PERSISTENT_FAKE_BACKEND_H_
