// Uuid formatting and the process-wide random IdSource.

#include "ferry/ids.h"

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace ferry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes `nibbles` lowercase hex digits of the low bits of `v` into `out`.
void PutHex(uint64_t v, int nibbles, char* out) {
  for (int i = nibbles - 1; i >= 0; --i) {
    out[i] = kHexDigits[v & 0xf];
    v >>= 4;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// xoshiro256** with one state per thread: no lock and no shared cache line on
// the hot path. Each thread's state is seeded once from std::random_device,
// mixed with a process-wide counter so two threads never share a seed even if
// the device is weak.
class Xoshiro256 {
 public:
  Xoshiro256() {
    static std::atomic<uint64_t> thread_counter{0};
    uint64_t seed = thread_counter.fetch_add(1, std::memory_order_relaxed) *
                    0xd1b54a32d192ed03ULL;
    try {
      std::random_device device;
      seed ^= (static_cast<uint64_t>(device()) << 32) ^ device();
    } catch (...) {
      // No entropy device: fall back to the address of this thread's state.
      seed ^= reinterpret_cast<uintptr_t>(this);
    }
    for (uint64_t& word : s_) word = SplitMix64(seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  uint64_t s_[4];
};

Xoshiro256& ThreadRng() {
  thread_local Xoshiro256 rng;
  return rng;
}

class RandomIdSource final : public IdSource {
 public:
  Uuid NewId() override {
    Xoshiro256& rng = ThreadRng();
    Uuid id{rng.Next(), rng.Next()};
    id.hi = (id.hi & ~uint64_t{0xf000}) | uint64_t{0x4000};  // version 4
    id.lo =
        (id.lo & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // RFC 4122
    return id;
  }
  uint64_t NewRandom() override { return ThreadRng().Next(); }
};

}  // namespace

std::string Uuid::ToString() const {
  // xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
  std::string out(36, '-');
  PutHex(hi >> 32, 8, &out[0]);
  PutHex(hi >> 16, 4, &out[9]);
  PutHex(hi, 4, &out[14]);
  PutHex(lo >> 48, 4, &out[19]);
  PutHex(lo, 12, &out[24]);
  return out;
}

bool Uuid::Parse(std::string_view text, Uuid* out) {
  if (text.size() != 36) return false;
  uint64_t words[2] = {0, 0};
  int digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      continue;
    }
    int v = HexValue(text[i]);
    if (v < 0) return false;
    uint64_t& word = words[digits / 16];
    word = (word << 4) | static_cast<uint64_t>(v);
    ++digits;
  }
  out->hi = words[0];
  out->lo = words[1];
  return true;
}

IdSource& IdSource::Random() {
  static RandomIdSource* const source = new RandomIdSource();
  return *source;
}

}  // namespace ferry
