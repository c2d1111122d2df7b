// The SQS rules for one message: what may be sent (body characters, size,
// attributes, FIFO ids, delays) and what a receive returns (the requested
// system attributes, the filtered message attributes). Both API levels use
// these functions, so each rule is written once.
//
// Thread safety: pure functions.
// Errors: SQS errors with AWS's texts (InvalidMessageContents,
// InvalidParameterValue, MissingParameter).
#ifndef FERRY_CORE_SRC_MESSAGE_RULES_H_
#define FERRY_CORE_SRC_MESSAGE_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ferry/message.h"
#include "queue_config.h"

namespace ferry::internal {

// One message to send, as both API levels describe it.
struct OutgoingMessage {
  std::string_view body;
  const MessageAttributeMap* attributes = nullptr;
  // nullopt: the queue's delay.
  std::optional<int64_t> delay_seconds;
  std::optional<std::string_view> message_group_id;
  std::optional<std::string_view> deduplication_id;
  std::string_view trace_header;
  // An entry of SendMessageBatch: AWS words the size error differently there.
  bool batch_entry = false;
  // The caller already ran ValidateOutgoing on it (Queue::SendBatch checks
  // every entry before storing any): Engine::Send does not repeat it.
  bool validated = false;
  // >= 0: the caller already checked the queue-independent content rules
  // (body characters, attributes; ValidateContent) and this is the message's
  // MessageSize. ValidateOutgoing then checks only the queue's own rules. An
  // SNS fan-out checks its message once for every destination queue.
  int64_t content_size = -1;
  // When set, the store entry shares these instead of copying `body` and
  // `attributes` (which must hold the same values): the deliveries of one
  // SNS fan-out share one body and one attribute map.
  const SharedString* shared_body = nullptr;
  const SharedAttributes* shared_attributes = nullptr;
};

// The rules of ValidateOutgoing that do not depend on the queue: a non-empty
// body of valid characters and valid attributes. On success, the message's
// MessageSize.
absl::StatusOr<int64_t> ValidateContent(const OutgoingMessage& message);

// Validates `message` against the queue's configuration.
absl::Status ValidateOutgoing(const QueueConfig& config,
                              const OutgoingMessage& message);

// The validated message's system attributes: only AWSTraceHeader (String).
// Returns the trace header through `trace_header` (unchanged if absent).
absl::Status ValidateSystemAttributes(const MessageAttributeMap& attributes,
                                      std::string* trace_header);

// Bytes counted against MaximumMessageSize: body plus every attribute's name,
// type and value.
int64_t MessageSize(std::string_view body,
                    const MessageAttributeMap* attributes);

// The deduplication id of a FIFO message: the given one, or the SHA-256 of the
// body under content-based deduplication.
std::string DeduplicationId(const QueueConfig& config,
                            const OutgoingMessage& message);
// The key the store deduplicates on (scoped by group when
// DeduplicationScope is messageGroup).
std::string DeduplicationKey(const QueueConfig& config,
                             std::string_view group_id,
                             std::string_view deduplication_id);

// Whether `name` is selected by a MessageAttributeNames list ("All", ".*",
// "prefix.*" or exact names).
bool AttributeNameSelected(const std::vector<std::string>& selectors,
                           std::string_view name);

// The system attributes of a received message, for the names requested
// ("All" or names). Unknown names are ignored.
std::map<std::string, std::string> SystemAttributes(
    const StoredMessage& message, bool fifo,
    const std::vector<std::string>& names);

// Names ReceiveMessage accepts in AttributeNames/MessageSystemAttributeNames.
bool IsKnownSystemAttributeName(std::string_view name);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_MESSAGE_RULES_H_
