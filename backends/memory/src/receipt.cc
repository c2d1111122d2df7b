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

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

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

void EncodeReceipt(const ReceiptFields& f, std::string* out) {
  char buf[kLongReceiptSize];
  if (FitsShort(f)) {
    const Bits v = (Bits{Check(f, 1) & 0xfff} << 78) | (Bits{f.queue} << 58) |
                   (Bits{f.slot} << 32) | f.stamp;
    for (size_t i = 0; i < kShortReceiptSize; ++i) {
      buf[i] = kAlphabet[static_cast<unsigned>(v >> (84 - 6 * i)) & 63];
    }
    out->assign(buf, kShortReceiptSize);
    return;
  }
  const Bits v = (Bits{Check(f, 2) & 0xffff} << 112) |
                 (Bits{f.queue & (kLongLimit - 1)} << 72) |
                 (Bits{f.slot & (kLongLimit - 1)} << 32) | f.stamp;
  for (size_t i = 0; i < kLongReceiptSize; ++i) {
    buf[i] = kAlphabet[static_cast<unsigned>(v >> (126 - 6 * i)) & 63];
  }
  out->assign(buf, kLongReceiptSize);
}

bool DecodeReceipt(std::string_view text, ReceiptFields* f) {
  if (text.size() != kShortReceiptSize && text.size() != kLongReceiptSize) {
    return false;
  }
  Bits v = 0;
  for (char c : text) {
    const int8_t d = kDecode[static_cast<unsigned char>(c)];
    if (d < 0) return false;
    v = (v << 6) | static_cast<unsigned>(d);
  }
  if (text.size() == kShortReceiptSize) {
    f->stamp = static_cast<uint32_t>(v);
    f->slot = static_cast<uint64_t>(v >> 32) & (kSlotShortLimit - 1);
    f->queue = static_cast<uint64_t>(v >> 58) & (kQueueShortLimit - 1);
    return static_cast<uint64_t>(v >> 78) == (Check(*f, 1) & 0xfff);
  }
  // The top 4 of the 132 bits fell off the 128-bit accumulator; they must
  // have been zero.
  if (kDecode[static_cast<unsigned char>(text[0])] >= 4) return false;
  f->stamp = static_cast<uint32_t>(v);
  f->slot = static_cast<uint64_t>(v >> 32) & (kLongLimit - 1);
  f->queue = static_cast<uint64_t>(v >> 72) & (kLongLimit - 1);
  if (FitsShort(*f)) return false;
  return static_cast<uint64_t>(v >> 112) == (Check(*f, 2) & 0xffff);
}

}  // namespace ferry::memory_internal
