// -----------------------------------------------------------------------------
// File: ferry/errors.h
// -----------------------------------------------------------------------------
//
// Every error ferry returns is an `absl::Status` with a canonical code and,
// where AWS defines one, the AWS error it stands for. `GetAwsError()` reads
// that AWS error back: its error shape (the JSON `__type` short name), its
// legacy Query code and its HTTP status, from the one table that maps them.
// The same shape can differ between services (ResourceNotFoundException is 404
// in SQS and 400 in Kinesis), so the table is keyed by (service, shape).
//
// Thread safety: all functions are pure and thread-safe.
// Errors: none; lookups of statuses without an AWS error return nullopt.
//
// Example:
//   absl::Status s = sqs.DeleteQueue(ctx, {.queue_url = url});
//   if (auto aws = ferry::GetAwsError(s); aws && aws->shape ==
//   "QueueDoesNotExist") ...
#ifndef FERRY_ERRORS_H_
#define FERRY_ERRORS_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "ferry/export.h"

namespace ferry {

enum class AwsService { kSqs, kSns, kKinesis };

// What AWS puts on the wire for one error.
struct AwsErrorInfo {
  AwsService service{};
  // The modelled shape; the JSON protocols send it as `__type`.
  std::string_view shape{};
  // The code of the legacy Query protocol (`<Code>`, and the first field of
  // SQS's `x-amzn-query-error` header).
  std::string_view query_code{};
  int http_status{};
  // True for `Sender` errors (the caller's fault), false for `Receiver`.
  bool sender_fault{};
};

// Returns the AWS error `status` carries, or nullopt for OK and for errors
// that have no AWS counterpart (the gateway reports those as InternalFailure).
FERRY_EXPORT std::optional<AwsErrorInfo> GetAwsError(
    const absl::Status& status);

// Looks up the table directly. Returns nullopt for an unknown (service, shape).
FERRY_EXPORT std::optional<AwsErrorInfo> FindAwsError(AwsService service,
                                                      std::string_view shape);

// Builds a status for the AWS error (service, shape) with `message` as the
// text AWS returns. The canonical code follows from the HTTP status and the
// shape (404 -> kNotFound, throttling -> kResourceExhausted, ...).
// REQUIRES: (service, shape) is in the table.
FERRY_EXPORT absl::Status AwsError(AwsService service, std::string_view shape,
                                   std::string_view message);

}  // namespace ferry

#endif  // FERRY_ERRORS_H_
