// -----------------------------------------------------------------------------
// File: ferry/testing/sequential_ids.h
// -----------------------------------------------------------------------------
//
// `ferry_testing::SequentialIdSource` is a deterministic `ferry::IdSource` for
// tests: the n-th id is 00000000-0000-4000-8000-00000000000n (n counting from
// 1, in hex), and NewRandom() returns the same sequence of numbers on every
// run. Message ids, and the receipt handles derived from them, are therefore
// identical from run to run.
//
// Thread safety: safe for concurrent use (atomic counters); with several
// threads the order in which they draw ids is of course not deterministic.
// Errors: none.
#ifndef FERRY_TESTING_SEQUENTIAL_IDS_H_
#define FERRY_TESTING_SEQUENTIAL_IDS_H_

#include <atomic>
#include <cstdint>

#include "ferry/export.h"
#include "ferry/ids.h"

namespace ferry_testing {

class FERRY_EXPORT SequentialIdSource : public ferry::IdSource {
 public:
  // The first id has number `first` (the low 60 bits are used).
  explicit SequentialIdSource(uint64_t first = 1);
  SequentialIdSource(const SequentialIdSource&) = delete;
  SequentialIdSource& operator=(const SequentialIdSource&) = delete;

  // {hi = 0x4000, lo = 0x8000000000000000 | n}: a valid version-4 UUID.
  ferry::Uuid NewId() override;
  // A fixed pseudo-random sequence (splitmix64 of a counter).
  uint64_t NewRandom() override;

 private:
  std::atomic<uint64_t> next_id_;
  std::atomic<uint64_t> next_random_{0};
};

}  // namespace ferry_testing

#endif  // FERRY_TESTING_SEQUENTIAL_IDS_H_
