// The SQS error texts ferry returns, in one place. Each function builds the
// status for one AWS error with AWS's exact wording (sqs.md §1.9 and the
// sections it cites); callers never spell an SQS error text themselves.
//
// Thread safety: pure functions.
// Errors: they are the errors.
#ifndef FERRY_CORE_SRC_SQS_ERRORS_H_
#define FERRY_CORE_SRC_SQS_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ferry/errors.h"

namespace ferry::internal {

inline absl::Status SqsError(std::string_view shape, std::string_view message) {
  return AwsError(AwsService::kSqs, shape, message);
}

inline absl::Status QueueDoesNotExist() {
  return SqsError("QueueDoesNotExist", "The specified queue does not exist.");
}

// "Value <v> for parameter <p> is invalid. Reason: <reason>"
inline absl::Status InvalidParameterValue(std::string_view value,
                                          std::string_view parameter,
                                          std::string_view reason) {
  return SqsError(
      "InvalidParameterValueException",
      absl::StrCat("Value ", absl::string_view(value.data(), value.size()),
                   " for parameter ",
                   absl::string_view(parameter.data(), parameter.size()),
                   " is invalid. Reason: ",
                   absl::string_view(reason.data(), reason.size())));
}

inline absl::Status InvalidParameter(std::string_view message) {
  return SqsError("InvalidParameterValueException", message);
}

inline absl::Status MissingParameter(std::string_view parameter) {
  return SqsError(
      "MissingRequiredParameterException",
      absl::StrCat("The request must contain the parameter ",
                   absl::string_view(parameter.data(), parameter.size()), "."));
}

inline absl::Status UnknownAttribute(std::string_view name) {
  return SqsError(
      "InvalidAttributeName",
      absl::StrCat("Unknown Attribute ",
                   absl::string_view(name.data(), name.size()), "."));
}

inline absl::Status InvalidAttributeValue(std::string_view name) {
  return SqsError(
      "InvalidAttributeValue",
      absl::StrCat("Invalid value for the parameter ",
                   absl::string_view(name.data(), name.size()), "."));
}

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_SQS_ERRORS_H_
