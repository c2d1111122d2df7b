// Receipt handles of the memory backend.
//
// A receipt names a lease: the queue, the slot of the message and the low 32
// bits of the slot's stamp that the lease set. It is printed in a 64-letter
// alphabet (A-Z a-z 0-9 . _), packed with a check value so that garbage and
// edited receipts are recognised:
//
//   short (15 letters, fits std::string's inline buffer, the usual case):
//     check:12 | queue:20 | slot:26 | stamp:32            = 90 bits
//   long (22 letters, for queue ids >= 2^20 or slots >= 2^26):
//     zero:4 | check:16 | queue:40 | slot:40 | stamp:32   = 132 bits
//
// Each value has exactly one encoding: a long receipt whose fields fit the
// short form is rejected.
//
// Thread safety: pure functions.
#ifndef FERRY_BACKENDS_MEMORY_SRC_RECEIPT_H_
#define FERRY_BACKENDS_MEMORY_SRC_RECEIPT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::memory_internal {

struct ReceiptFields {
  uint64_t queue = 0;  // < 2^40
  uint64_t slot = 0;   // < 2^40
  uint32_t stamp = 0;
};

inline constexpr size_t kShortReceiptSize = 15;
inline constexpr size_t kLongReceiptSize = 22;

// The receipt of `f` (15 letters, so no heap allocation, unless the fields
// need the long form).
std::string EncodeReceipt(const ReceiptFields& f);

// Returns false unless `text` is exactly what EncodeReceipt printed.
bool DecodeReceipt(std::string_view text, ReceiptFields* f);

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_RECEIPT_H_
