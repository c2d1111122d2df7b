#include "receipt.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::memory_internal {
namespace {

using Bits = unsigned __int128;

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

// Letter -> 6-bit value; 64 marks a letter outside the alphabet.
constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = 64;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

constexpr uint64_t kQueueShortLimit = uint64_t{1} << 20;
constexpr uint64_t kSlotShortLimit = uint64_t{1} << 26;
constexpr uint64_t kLongLimit = uint64_t{1} << 40;

bool FitsShort(const ReceiptFields& f) {
  return f.queue < kQueueShortLimit && f.slot < kSlotShortLimit;
}

// A fixed mix of the fields (not a secret: it only catches damaged or made-up
// receipts, and keeps receipts identical from run to run).
uint64_t Check(const ReceiptFields& f, uint64_t format) {
  uint64_t h = f.queue * 0x9e3779b97f4a7c15ULL;
  h ^= (f.slot + 0x632be59bd9b4e019ULL) * 0xc2b2ae3d27d4eb4fULL;
  h ^= (uint64_t{f.stamp} + format) * 0x165667b19e3779f9ULL;
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 29;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 32);
}

}  // namespace

// The short form as two words: `high` holds the first 5 letters (30 bits:
// check:12 | queue bits 19..2), `low` the last 10 (60 bits: queue bits 1..0 |
// slot:26 | stamp:32).
std::string EncodeReceipt(const ReceiptFields& f) {
  char buf[kLongReceiptSize];
  if (FitsShort(f)) {
    const uint64_t high = ((Check(f, 1) & 0xfff) << 18) | (f.queue >> 2);
    const uint64_t low = ((f.queue & 3) << 58) | (f.slot << 32) | f.stamp;
    for (int i = 0; i < 5; ++i) buf[i] = kAlphabet[(high >> (24 - 6 * i)) & 63];
    for (int i = 0; i < 10; ++i) {
      buf[5 + i] = kAlphabet[(low >> (54 - 6 * i)) & 63];
    }
    return std::string(buf, kShortReceiptSize);
  }
  const Bits v = (Bits{Check(f, 2) & 0xffff} << 112) |
                 (Bits{f.queue & (kLongLimit - 1)} << 72) |
                 (Bits{f.slot & (kLongLimit - 1)} << 32) | f.stamp;
  for (size_t i = 0; i < kLongReceiptSize; ++i) {
    buf[i] = kAlphabet[static_cast<unsigned>(v >> (126 - 6 * i)) & 63];
  }
  return std::string(buf, kLongReceiptSize);
}

bool DecodeReceipt(std::string_view text, ReceiptFields* f) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  if (text.size() == kShortReceiptSize) {
    uint64_t high = 0, low = 0;
    unsigned bad = 0;
    for (int i = 0; i < 5; ++i) {
      const uint8_t d = kDecode[p[i]];
      bad |= d;
      high = (high << 6) | d;
    }
    for (int i = 5; i < 15; ++i) {
      const uint8_t d = kDecode[p[i]];
      bad |= d;
      low = (low << 6) | d;
    }
    if (bad & 64) return false;
    f->stamp = static_cast<uint32_t>(low);
    f->slot = (low >> 32) & (kSlotShortLimit - 1);
    f->queue = ((high & 0x3ffff) << 2) | (low >> 58);
    return (high >> 18) == (Check(*f, 1) & 0xfff);
  }
  if (text.size() != kLongReceiptSize) return false;
  Bits v = 0;
  unsigned bad = 0;
  for (size_t i = 0; i < kLongReceiptSize; ++i) {
    const uint8_t d = kDecode[p[i]];
    bad |= d;
    v = (v << 6) | d;
  }
  // The top 4 of the 132 bits fell off the 128-bit accumulator; they must
  // have been zero.
  if ((bad & 64) || kDecode[p[0]] >= 4) return false;
  f->stamp = static_cast<uint32_t>(v);
  f->slot = static_cast<uint64_t>(v >> 32) & (kLongLimit - 1);
  f->queue = static_cast<uint64_t>(v >> 72) & (kLongLimit - 1);
  if (FitsShort(*f)) return false;
  return static_cast<uint64_t>(v >> 112) == (Check(*f, 2) & 0xffff);
}

}  // namespace ferry::memory_internal
