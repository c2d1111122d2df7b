// -----------------------------------------------------------------------------
// File: ferry/ids.h
// -----------------------------------------------------------------------------
//
// `ferry::IdSource` makes the identifiers ferry hands out: message ids, request
// ids, move-task handles. The default source is random (UUID v4 shaped). Tests
// inject `ferry_testing::SequentialIdSource` so every id, and so every
// receipt handle derived from one, is the same on every run.
//
// Thread safety: implementations must be safe for concurrent use.
// Errors: none.
#ifndef FERRY_IDS_H_
#define FERRY_IDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/export.h"

namespace ferry {

// A 128-bit identifier, printed in the 8-4-4-4-12 form AWS uses for message
// ids. Kept as two words so that the hot path formats it only when asked.
struct Uuid {
  uint64_t hi = 0;
  uint64_t lo = 0;

  // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lowercase hex.
  FERRY_EXPORT std::string ToString() const;
  // Parses the form ToString() prints. Returns false on anything else.
  FERRY_EXPORT static bool Parse(std::string_view text, Uuid* out);

  friend bool operator==(const Uuid&, const Uuid&) = default;
};

class FERRY_EXPORT IdSource {
 public:
  virtual ~IdSource() = default;
  // A fresh, never-repeating id.
  virtual Uuid NewId() = 0;
  // A fresh 64-bit random value (salts, tokens).
  virtual uint64_t NewRandom() = 0;

  // The process-wide random source. Never deleted.
  static IdSource& Random();
};

}  // namespace ferry

#endif  // FERRY_IDS_H_
