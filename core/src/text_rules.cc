// Character, number and time-format rules.

#include "text_rules.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace ferry::internal {
namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// True if each of the 8 bytes of `w` is in 0x20..0x7F.
inline bool AllPrintableAscii(uint64_t w) {
  // A byte is >= 0x80 if its high bit is set. A byte b < 0x80 is < 0x20 iff
  // b - 0x20 borrows, which sets the high bit of (b - 0x20) & ~b; a borrow
  // only propagates out of a byte that is itself < 0x20, so any set bit below
  // proves such a byte exists, and none exists otherwise.
  return ((w | ((w - 0x20 * kOnes) & ~w)) & kHighBits) == 0;
}

// Decodes one multi-byte UTF-8 sequence starting at p[i] (a byte >= 0x80).
// On success stores the code point and advances `i`; on malformed input
// returns false.
inline bool DecodeMultiByte(const unsigned char* p, size_t n, size_t& i,
                            uint32_t& cp) {
  const unsigned char b0 = p[i];
  size_t len;
  uint32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return false;  // continuation byte, 0xC0/0xC1 overlong lead, or > 0xF4
  }
  if (n - i < len) return false;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = p[i + k];
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  i += len;
  return true;
}

// The shared loop. kXml additionally restricts the code points.
template <bool kXml>
bool CheckText(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Fast path: eight ASCII bytes at a time.
    while (n - i >= 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (kXml ? !AllPrintableAscii(w) : (w & kHighBits) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (kXml && c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) {
        return false;
      }
      ++i;
      continue;
    }
    uint32_t cp;
    if (!DecodeMultiByte(p, n, i, cp)) return false;
    if (kXml && (cp == 0xFFFE || cp == 0xFFFF)) return false;
  }
  return true;
}

}  // namespace

bool IsValidUtf8(std::string_view text) { return CheckText<false>(text); }

bool IsXmlText(std::string_view text) { return CheckText<true>(text); }

bool ParseInt64(std::string_view text, int64_t* out) {
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) i = 1;
  if (i == text.size()) return false;
  // Accumulate as a negative number: its range includes INT64_MIN.
  int64_t value = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const int digit = c - '0';
    if (value < (INT64_MIN + digit) / 10) return false;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == INT64_MIN) return false;
    value = -value;
  }
  *out = value;
  return true;
}

bool ParseBool(std::string_view text, bool* out) {
  auto equals_ignoring_case = [](std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != lower[i]) return false;
    }
    return true;
  };
  if (equals_ignoring_case(text, "true")) {
    *out = true;
    return true;
  }
  if (equals_ignoring_case(text, "false")) {
    *out = false;
    return true;
  }
  return false;
}

std::string FormatEpochSeconds(absl::Time t) {
  return absl::StrCat(absl::ToUnixSeconds(t));
}

std::string FormatEpochMillis(absl::Time t) {
  return absl::StrCat(absl::ToUnixMillis(t));
}

}  // namespace ferry::internal
