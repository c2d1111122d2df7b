// The one table of AWS errors, keyed by (service, shape), and the status
// payload that carries an AWS error inside an absl::Status.
//
// Sources: sqs.md §1.9, sns.md §1.0 (botocore's SNS model), kinesis.md §1.10
// and kinesalite's HTTP layer, and AWS's list of errors common to all
// services (InternalFailure, ServiceUnavailable, ValidationError, ...).

#include "ferry/errors.h"

#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "string_util.h"

namespace ferry {
namespace {

using internal::AsAbsl;

// The type URL of the payload that names the AWS error of a status. Its value
// is "<service>/<shape>", e.g. "sqs/QueueDoesNotExist".
constexpr std::string_view kPayloadTypeUrl = "ferry.dev/aws-error";

using Code = absl::StatusCode;

struct Row {
  std::string_view shape;
  std::string_view query_code;  // empty: same as the shape
  int http_status;
  Code code;
};

// ---- SQS (sqs.md §1.9). "Type" is Sender for all of them. -----------------
constexpr Row kSqsRows[] = {
    {"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400,
     Code::kNotFound},
    {"QueueNameExists", "QueueAlreadyExists", 400, Code::kAlreadyExists},
    {"QueueDeletedRecently", "AWS.SimpleQueueService.QueueDeletedRecently", 400,
     Code::kFailedPrecondition},
    // "Only one PurgeQueue operation on X is allowed every 60 seconds."
    {"PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress", 403,
     Code::kResourceExhausted},
    {"OverLimit", "", 403, Code::kResourceExhausted},
    {"TooManyEntriesInBatchRequest",
     "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
     Code::kInvalidArgument},
    {"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400,
     Code::kInvalidArgument},
    {"BatchEntryIdsNotDistinct",
     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
     Code::kInvalidArgument},
    {"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400,
     Code::kInvalidArgument},
    {"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", 400,
     Code::kInvalidArgument},
    {"MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400,
     Code::kFailedPrecondition},
    {"UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400,
     Code::kInvalidArgument},
    {"ResourceNotFoundException", "", 404, Code::kNotFound},
    {"ReceiptHandleIsInvalid", "", 400, Code::kInvalidArgument},
    {"InvalidAttributeName", "", 400, Code::kInvalidArgument},
    {"InvalidAttributeValue", "", 400, Code::kInvalidArgument},
    {"InvalidMessageContents", "", 400, Code::kInvalidArgument},
    {"InvalidIdFormat", "", 400, Code::kInvalidArgument},
    {"InvalidParameterValueException", "InvalidParameterValue", 400,
     Code::kInvalidArgument},
    {"MissingRequiredParameterException", "MissingParameter", 400,
     Code::kInvalidArgument},
    {"RequestThrottled", "", 400, Code::kResourceExhausted},
    {"InvalidAddress", "", 400, Code::kInvalidArgument},
    {"InvalidSecurity", "", 400, Code::kPermissionDenied},
    {"KmsAccessDenied", "", 400, Code::kPermissionDenied},
    {"KmsDisabled", "", 400, Code::kFailedPrecondition},
    {"KmsInvalidKeyUsage", "", 400, Code::kInvalidArgument},
    {"KmsInvalidState", "", 400, Code::kFailedPrecondition},
    {"KmsNotFound", "", 400, Code::kNotFound},
    {"KmsOptInRequired", "", 400, Code::kPermissionDenied},
    {"KmsThrottled", "", 400, Code::kResourceExhausted},
};

// ---- SNS (sns.md §1.0; botocore's model: shape, code, status). -------------
constexpr Row kSnsRows[] = {
    {"InvalidParameterException", "InvalidParameter", 400,
     Code::kInvalidArgument},
    {"InvalidParameterValueException", "ParameterValueInvalid", 400,
     Code::kInvalidArgument},
    {"NotFoundException", "NotFound", 404, Code::kNotFound},
    {"ResourceNotFoundException", "ResourceNotFound", 404, Code::kNotFound},
    {"AuthorizationErrorException", "AuthorizationError", 403,
     Code::kPermissionDenied},
    {"InternalErrorException", "InternalError", 500, Code::kInternal},
    {"EndpointDisabledException", "EndpointDisabled", 400,
     Code::kFailedPrecondition},
    {"PlatformApplicationDisabledException", "PlatformApplicationDisabled", 400,
     Code::kFailedPrecondition},
    {"SubscriptionLimitExceededException", "SubscriptionLimitExceeded", 403,
     Code::kResourceExhausted},
    {"TopicLimitExceededException", "TopicLimitExceeded", 403,
     Code::kResourceExhausted},
    {"FilterPolicyLimitExceededException", "FilterPolicyLimitExceeded", 403,
     Code::kResourceExhausted},
    {"ReplayLimitExceededException", "ReplayLimitExceeded", 403,
     Code::kResourceExhausted},
    {"TagLimitExceededException", "TagLimitExceeded", 400,
     Code::kResourceExhausted},
    {"StaleTagException", "StaleTag", 400, Code::kFailedPrecondition},
    {"TagPolicyException", "TagPolicy", 400, Code::kInvalidArgument},
    {"ConcurrentAccessException", "ConcurrentAccess", 400, Code::kAborted},
    {"TooManyEntriesInBatchRequestException", "TooManyEntriesInBatchRequest",
     400, Code::kInvalidArgument},
    {"BatchEntryIdsNotDistinctException", "BatchEntryIdsNotDistinct", 400,
     Code::kInvalidArgument},
    {"BatchRequestTooLongException", "BatchRequestTooLong", 400,
     Code::kInvalidArgument},
    {"EmptyBatchRequestException", "EmptyBatchRequest", 400,
     Code::kInvalidArgument},
    {"InvalidBatchEntryIdException", "InvalidBatchEntryId", 400,
     Code::kInvalidArgument},
    {"ThrottledException", "Throttled", 429, Code::kResourceExhausted},
    {"InvalidSecurityException", "InvalidSecurity", 403,
     Code::kPermissionDenied},
    {"InvalidStateException", "InvalidState", 400, Code::kFailedPrecondition},
    {"OptedOutException", "OptedOut", 400, Code::kFailedPrecondition},
    {"UserErrorException", "UserError", 400, Code::kInvalidArgument},
    {"KMSAccessDeniedException", "KMSAccessDenied", 400,
     Code::kPermissionDenied},
    {"KMSDisabledException", "KMSDisabled", 400, Code::kFailedPrecondition},
    {"KMSInvalidStateException", "KMSInvalidState", 400,
     Code::kFailedPrecondition},
    {"KMSNotFoundException", "KMSNotFound", 400, Code::kNotFound},
    {"KMSOptInRequired", "", 403, Code::kPermissionDenied},
    {"KMSThrottlingException", "KMSThrottling", 400, Code::kResourceExhausted},
};

// ---- Kinesis (kinesis.md §1.10: JSON `__type`, HTTP 400 unless stated). ---
constexpr Row kKinesisRows[] = {
    {"ResourceNotFoundException", "", 400, Code::kNotFound},
    {"ResourceInUseException", "", 400, Code::kAlreadyExists},
    {"InvalidArgumentException", "", 400, Code::kInvalidArgument},
    {"LimitExceededException", "", 400, Code::kResourceExhausted},
    {"ProvisionedThroughputExceededException", "", 400,
     Code::kResourceExhausted},
    {"ExpiredIteratorException", "", 400, Code::kFailedPrecondition},
    {"ExpiredNextTokenException", "", 400, Code::kFailedPrecondition},
    {"SerializationException", "", 400, Code::kInvalidArgument},
    {"InternalFailureException", "", 500, Code::kInternal},
    // HTTP-layer errors, as kinesalite answers them for a JSON request.
    {"UnknownOperationException", "", 400, Code::kUnimplemented},
    {"MissingAuthenticationTokenException", "", 400, Code::kUnauthenticated},
    {"IncompleteSignatureException", "", 400, Code::kUnauthenticated},
    {"InvalidSignatureException", "", 400, Code::kUnauthenticated},
    {"KMSAccessDeniedException", "", 400, Code::kPermissionDenied},
    {"KMSDisabledException", "", 400, Code::kFailedPrecondition},
    {"KMSInvalidStateException", "", 400, Code::kFailedPrecondition},
    {"KMSNotFoundException", "", 400, Code::kNotFound},
    {"KMSOptInRequired", "", 400, Code::kPermissionDenied},
    {"KMSThrottlingException", "", 400, Code::kResourceExhausted},
};

// ---- Common to every service (AWS's list of common errors). A service's own
// row with the same shape wins. -----------------------------------------------
constexpr Row kCommonRows[] = {
    {"InternalFailure", "", 500, Code::kInternal},
    {"ServiceUnavailable", "", 503, Code::kUnavailable},
    {"ValidationError", "", 400, Code::kInvalidArgument},
    {"ValidationException", "", 400, Code::kInvalidArgument},
    {"AccessDenied", "", 403, Code::kPermissionDenied},
    {"AccessDeniedException", "", 400, Code::kPermissionDenied},
    {"ThrottlingException", "", 400, Code::kResourceExhausted},
    {"InvalidAction", "", 400, Code::kUnimplemented},
    {"InvalidClientTokenId", "", 403, Code::kUnauthenticated},
    {"IncompleteSignature", "", 400, Code::kUnauthenticated},
    {"MissingAuthenticationToken", "", 403, Code::kUnauthenticated},
    {"SignatureDoesNotMatch", "", 403, Code::kUnauthenticated},
    {"RequestExpired", "", 400, Code::kUnauthenticated},
    {"NotAuthorized", "", 400, Code::kPermissionDenied},
    {"OptInRequired", "", 403, Code::kPermissionDenied},
};

std::string_view ServiceName(AwsService service) {
  switch (service) {
    case AwsService::kSqs:
      return "sqs";
    case AwsService::kSns:
      return "sns";
    case AwsService::kKinesis:
      return "kinesis";
  }
  return "";
}

std::optional<AwsService> ParseServiceName(std::string_view name) {
  if (name == "sqs") return AwsService::kSqs;
  if (name == "sns") return AwsService::kSns;
  if (name == "kinesis") return AwsService::kKinesis;
  return std::nullopt;
}

struct Entry {
  AwsErrorInfo info;
  Code code;
};

class ErrorTable {
 public:
  ErrorTable() {
    AddAll(AwsService::kSqs, kSqsRows);
    AddAll(AwsService::kSns, kSnsRows);
    AddAll(AwsService::kKinesis, kKinesisRows);
    for (AwsService s :
         {AwsService::kSqs, AwsService::kSns, AwsService::kKinesis}) {
      AddAll(s, kCommonRows);
    }
  }

  // By shape, or failing that by legacy Query code (so "NotFound" finds SNS's
  // NotFoundException and "AWS.SimpleQueueService.NonExistentQueue" finds
  // QueueDoesNotExist).
  const Entry* Find(AwsService service, std::string_view name) const {
    auto it = by_shape_.find(Key(service, name));
    if (it != by_shape_.end()) return &it->second;
    it = by_query_code_.find(Key(service, name));
    if (it != by_query_code_.end()) return &it->second;
    return nullptr;
  }

 private:
  static std::string Key(AwsService service, std::string_view name) {
    return absl::StrCat(AsAbsl(ServiceName(service)), "/", AsAbsl(name));
  }

  template <size_t N>
  void AddAll(AwsService service, const Row (&rows)[N]) {
    for (const Row& row : rows) {
      std::string_view query_code =
          row.query_code.empty() ? row.shape : row.query_code;
      Entry entry{AwsErrorInfo{.service = service,
                               .shape = row.shape,
                               .query_code = query_code,
                               .http_status = row.http_status,
                               .sender_fault = row.http_status < 500},
                  row.code};
      // try_emplace: the first row for a (service, shape) wins, so a
      // service's own rows override the common ones added after them.
      by_shape_.try_emplace(Key(service, row.shape), entry);
      by_query_code_.try_emplace(Key(service, query_code), entry);
    }
  }

  absl::flat_hash_map<std::string, Entry> by_shape_;
  absl::flat_hash_map<std::string, Entry> by_query_code_;
};

const ErrorTable& Table() {
  static const ErrorTable* const table = new ErrorTable();
  return *table;
}

}  // namespace

std::optional<AwsErrorInfo> FindAwsError(AwsService service,
                                         std::string_view shape) {
  const Entry* entry = Table().Find(service, shape);
  if (entry == nullptr) return std::nullopt;
  return entry->info;
}

absl::Status AwsError(AwsService service, std::string_view shape,
                      std::string_view message) {
  const Entry* entry = Table().Find(service, shape);
  if (entry == nullptr) {
    // A programming error (the REQUIRES of the header): report it as the
    // service's InternalFailure rather than inventing an AWS error.
    entry = Table().Find(service, "InternalFailure");
    absl::Status status(entry->code,
                        absl::StrCat("unknown AWS error shape '", AsAbsl(shape),
                                     "': ", AsAbsl(message)));
    status.SetPayload(AsAbsl(kPayloadTypeUrl),
                      absl::Cord(absl::StrCat(AsAbsl(ServiceName(service)),
                                              "/InternalFailure")));
    return status;
  }
  absl::Status status(entry->code, AsAbsl(message));
  status.SetPayload(AsAbsl(kPayloadTypeUrl),
                    absl::Cord(absl::StrCat(AsAbsl(ServiceName(service)), "/",
                                            AsAbsl(entry->info.shape))));
  return status;
}

std::optional<AwsErrorInfo> GetAwsError(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  absl::optional<absl::Cord> payload =
      status.GetPayload(AsAbsl(kPayloadTypeUrl));
  if (!payload.has_value()) return std::nullopt;
  std::string value(*payload);
  std::string_view text = value;
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::optional<AwsService> service = ParseServiceName(text.substr(0, slash));
  if (!service.has_value()) return std::nullopt;
  return FindAwsError(*service, text.substr(slash + 1));
}

}  // namespace ferry
