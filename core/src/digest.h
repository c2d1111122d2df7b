// Message digests and base64 as AWS uses them: MD5 of message bodies and of
// SQS message attributes (sqs.md §2.4), SHA-256 (FIFO content-based
// deduplication, SigV4), and base64 for binary values on the wire.
//
// Thread safety: pure functions.
// Errors: Base64Decode reports malformed input by returning false.
#ifndef FERRY_CORE_SRC_DIGEST_H_
#define FERRY_CORE_SRC_DIGEST_H_

#include <string>
#include <string_view>

#include "ferry/message.h"

namespace ferry::internal {

// Lowercase hex digests of `data`.
std::string Md5Hex(std::string_view data);
std::string Sha256Hex(std::string_view data);

// MD5OfMessageAttributes (and MD5OfMessageSystemAttributes), as AWS's SDKs
// recompute it: for each attribute in name order, the length-prefixed name,
// the length-prefixed DataType (including any ".label"), then 0x01 and the
// length-prefixed string value, or 0x02 and the length-prefixed raw binary
// value for Binary types; lengths are 4-byte big-endian. Returns "" for an
// empty map: AWS omits the field when there are no attributes.
std::string Md5OfMessageAttributes(const MessageAttributeMap& attributes);

// Standard base64 (RFC 4648 §4) with '=' padding.
std::string Base64Encode(std::string_view data);
// Strict: only the standard alphabet, a length that is a multiple of 4, and
// at most two '=' at the very end; no whitespace. Unused low bits of the last
// symbol are ignored. On failure returns false and leaves `*out` unspecified.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_DIGEST_H_
