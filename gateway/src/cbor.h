// The subset of CBOR (RFC 8949) the AWS SDKs use for Kinesis
// (application/x-amz-cbor-1.1), translated to and from nlohmann JSON values:
// maps, arrays, text strings, byte strings (JSON binary values), integers,
// floats (half, single and double on decode), booleans, null and undefined
// (as null), definite and indefinite lengths on decode, and tag 1 (epoch
// time).
//
// Timestamps: the Java SDKs write a timestamp as tag 1 around an integer
// count of epoch *milliseconds* (not RFC 8949's seconds;
// aws-sdk-java-v2#4661). The decoder therefore reads tag 1 on an integer as
// milliseconds and tag 1 on a float as seconds, and returns both as a float
// of epoch seconds, the form timestamps have in AWS JSON. Other tags are
// skipped (their content is kept). The encoder writes every float as tag 1
// around integer epoch milliseconds, which is what the SDKs read back: a
// Kinesis response has no floats but its timestamps.
#ifndef FERRY_GATEWAY_CBOR_H_
#define FERRY_GATEWAY_CBOR_H_

#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace ferry::gateway_internal {

// Decodes one CBOR data item that spans all of `bytes`. Returns nullopt for
// malformed or truncated input, trailing bytes, nesting deeper than 64, or
// map keys that are not text strings.
std::optional<nlohmann::json> DecodeCbor(std::string_view bytes);

// Encodes `value`: objects as maps (definite length, keys as text strings),
// binary values as byte strings, floats as tag 1 + integer epoch
// milliseconds (see the file comment).
std::string EncodeCbor(const nlohmann::ordered_json& value);

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_CBOR_H_
