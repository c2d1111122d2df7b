// Character, number and time-format rules shared by the AWS-shaped layer and
// the wire codecs: UTF-8 validity, the XML character set SQS allows in
// message bodies (sqs.md §1.5), strict integer and boolean parsing of
// attribute values, and epoch timestamps as AWS prints them.
//
// Thread safety: pure functions.
// Errors: the parsers return false on malformed input and leave `*out`
// unchanged.
#ifndef FERRY_CORE_SRC_TEXT_RULES_H_
#define FERRY_CORE_SRC_TEXT_RULES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace ferry::internal {

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view text);

// Valid UTF-8 whose every code point is one XML 1.0 allows:
// #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
// On the send hot path: ASCII is checked eight bytes at a time.
bool IsXmlText(std::string_view text);

// Strict decimal: an optional '-', then one or more digits; no '+', no
// spaces, no overflow.
bool ParseInt64(std::string_view text, int64_t* out);

// "true" or "false" in any case.
bool ParseBool(std::string_view text, bool* out);

// Whole seconds / milliseconds since the Unix epoch, rounded down, in decimal
// (e.g. SQS's SentTimestamp "1767225600000").
std::string FormatEpochSeconds(absl::Time t);
std::string FormatEpochMillis(absl::Time t);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_TEXT_RULES_H_
