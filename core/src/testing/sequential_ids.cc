// ferry_testing::SequentialIdSource.

#include "ferry/testing/sequential_ids.h"

#include <atomic>
#include <cstdint>

namespace ferry_testing {
namespace {

constexpr uint64_t kVersion4 = 0x4000;
constexpr uint64_t kVariant = uint64_t{0x8} << 60;
constexpr uint64_t kCounterMask = (uint64_t{1} << 60) - 1;

}  // namespace

SequentialIdSource::SequentialIdSource(uint64_t first) : next_id_(first) {}

ferry::Uuid SequentialIdSource::NewId() {
  uint64_t n = next_id_.fetch_add(1, std::memory_order_relaxed);
  return ferry::Uuid{kVersion4, kVariant | (n & kCounterMask)};
}

uint64_t SequentialIdSource::NewRandom() {
  // splitmix64 of the counter: fixed, well mixed, never repeating.
  uint64_t z = (next_random_.fetch_add(1, std::memory_order_relaxed) + 1) *
               0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace ferry_testing
