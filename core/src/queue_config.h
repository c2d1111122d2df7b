// A queue's attributes as core keeps them, their validation and their string
// form. CreateQueue, SetQueueAttributes and the native QueueOptions all go
// through ApplyAttributes, so each attribute rule is written once.
//
// Thread safety: plain values and pure functions.
// Errors: ApplyAttributes returns SQS's errors (InvalidAttributeName,
// InvalidAttributeValue, InvalidParameterValue) with AWS's texts;
// DecodeQueueConfig returns kFailedPrecondition for an unknown format version
// and kDataLoss for a corrupt record.
#ifndef FERRY_CORE_SRC_QUEUE_CONFIG_H_
#define FERRY_CORE_SRC_QUEUE_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ferry::internal {

using StringMap = std::map<std::string, std::string>;

struct QueueConfig {
  bool fifo = false;
  int64_t visibility_timeout = 30;
  int64_t message_retention_period = 345600;
  int64_t delay_seconds = 0;
  int64_t maximum_message_size = 1048576;
  int64_t receive_message_wait_time_seconds = 0;
  // RedrivePolicy; empty target = none.
  std::string dead_letter_target_arn;
  int64_t max_receive_count = 0;
  // RedriveAllowPolicy as given (normalised JSON); empty = allowAll.
  std::string redrive_allow_policy;
  std::string redrive_permission = "allowAll";
  std::vector<std::string> redrive_source_arns;
  bool content_based_deduplication = false;
  std::string deduplication_scope = "queue";
  std::string fifo_throughput_limit = "perQueue";
  std::string policy;
  std::string kms_master_key_id;
  int64_t kms_data_key_reuse_period_seconds = 300;
  bool sqs_managed_sse_enabled = true;
  StringMap tags;
  absl::Time created;
  absl::Time last_modified;
};

// Attribute limits (sqs.md §1.1, §1.3).
inline constexpr int64_t kMaxVisibilityTimeout = 43200;
inline constexpr int64_t kMaxDelaySeconds = 900;
inline constexpr int64_t kMaxWaitTimeSeconds = 20;
inline constexpr int64_t kMaxMessageSizeLimit = 1048576;
inline constexpr absl::Duration kDeduplicationWindow = absl::Minutes(5);

// What ApplyAttributes needs to know of a dead-letter target.
struct DeadLetterTarget {
  bool fifo = false;
  std::string redrive_permission;  // allowAll | denyAll | byQueue
  std::vector<std::string> source_arns;
};
using DeadLetterLookup =
    absl::FunctionRef<std::optional<DeadLetterTarget>(std::string_view arn)>;

// Validates `attributes` and applies them to `config`. `creating` selects the
// CreateQueue rules (FifoQueue may be given); `queue_arn` is the queue's own
// ARN (RedriveAllowPolicy checks). On error `config` is unchanged.
absl::Status ApplyAttributes(const StringMap& attributes, bool creating,
                             std::string_view queue_arn,
                             DeadLetterLookup dead_letters,
                             QueueConfig* config);

// The string value of a stored (not computed) attribute, or nullopt when the
// queue does not have it (e.g. RedrivePolicy unset, FIFO-only names on a
// standard queue).
std::optional<std::string> RenderAttribute(const QueueConfig& config,
                                           std::string_view name);

// Names GetQueueAttributes accepts (every QueueAttributeName but "All").
bool IsKnownAttributeName(std::string_view name);

std::string EncodeQueueConfig(const QueueConfig& config);
absl::StatusOr<QueueConfig> DecodeQueueConfig(std::string_view encoded);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_QUEUE_CONFIG_H_
