// AWS Signature Version 4 verification of the Authorization header form
// (the form every SDK uses for SQS, SNS and Kinesis).
#ifndef FERRY_GATEWAY_SIGV4_H_
#define FERRY_GATEWAY_SIGV4_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "http_message.h"

namespace ferry::gateway_internal {

// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=...,
// SignedHeaders=..., Signature=...`.
struct SigV4Authorization {
  std::string access_key_id;
  std::string scope;  // DATE/REGION/SERVICE/aws4_request
  std::string date;
  std::string region;
  std::string service;
  std::string signed_headers;  // "content-type;host;x-amz-date"
  std::string signature;       // lower-case hex
};

// Returns false when the header is absent or not a well-formed SigV4 header.
bool ParseSigV4Authorization(std::string_view header, SigV4Authorization* out);

// The signature `secret_access_key` gives `request` under `auth`'s scope and
// signed headers (lower-case hex). The request time is the X-Amz-Date header
// (or Date); it is not compared with any clock.
std::string ComputeSigV4Signature(const HttpRequest& request,
                                  const SigV4Authorization& auth,
                                  std::string_view secret_access_key);

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_SIGV4_H_
