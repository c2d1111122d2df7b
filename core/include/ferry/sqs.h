// -----------------------------------------------------------------------------
// File: ferry/sqs.h
// -----------------------------------------------------------------------------
//
// `ferry::Sqs` is the AWS-shaped level of ferry's queues: one method per SQS
// operation, taking a request struct and returning a result struct with the
// members of the AWS API (snake_case), string attribute maps
// ("VisibilityTimeout" -> "30"), queue URLs and ARNs, and AWS's exact
// validation, error codes and error texts. The HTTP gateway calls this layer;
// code written against an AWS SDK's shapes ports to it line by line.
// Obtain it from `Broker::sqs()`.
//
// Every call takes a `RequestContext`: the account and region that scope the
// request (the gateway reads them from the SigV4 credential scope), the
// endpoint base used to build queue URLs, the caller (SenderId) and the
// X-Amzn-Trace-Id header.
//
// Thread safety: all methods are safe to call concurrently.
// Errors: statuses carry AWS's error (GetAwsError in ferry/errors.h), e.g.
// QueueDoesNotExist, InvalidParameterValue, MissingParameter. Batch
// operations report per-entry failures in the result and fail the whole call
// only for whole-request errors (EmptyBatchRequest,
// TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct, InvalidBatchEntryId,
// BatchRequestTooLong).
#ifndef FERRY_SQS_H_
#define FERRY_SQS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ferry/export.h"
#include "ferry/message.h"
#include "ferry/sync.h"

namespace ferry {

namespace internal {
class Engine;
}  // namespace internal

// Ends long polls early: once `Cancel()` is called, every ReceiveMessage that
// carries this token in its RequestContext and is waiting (or starts waiting)
// returns kCancelled with no messages. The HTTP gateway uses one per server
// to drain long polls when it stops.
// Thread safety: all methods are safe to call concurrently.
class FERRY_EXPORT ReceiveCancellation {
 public:
  ReceiveCancellation() = default;
  ReceiveCancellation(const ReceiveCancellation&) = delete;
  ReceiveCancellation& operator=(const ReceiveCancellation&) = delete;

  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

 private:
  friend class Sqs;
  // Registers `wake` (called by Cancel) while a receive waits; returns its id.
  uint64_t Add(std::function<void()> wake);
  void Remove(uint64_t id);

  std::atomic<bool> cancelled_{false};
  Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, std::function<void()>> wakers_ ABSL_GUARDED_BY(mu_);
};

struct RequestContext {
  // Empty: the broker's defaults.
  std::string account{};
  std::string region{};
  // Base of the queue URLs returned, e.g. "http://localhost:4566". Empty: the
  // broker's default endpoint.
  std::string endpoint{};
  // The SenderId recorded on sent messages. Empty: the account id.
  std::string caller{};
  // The X-Amzn-Trace-Id header; recorded as AWSTraceHeader on sends.
  std::string trace_header{};
  // nullptr: long polls end only when a message arrives or the wait ends.
  ReceiveCancellation* cancellation = nullptr;
  // Set by a caller that has consulted Broker::faults() for this call
  // already (the gateway does, at the start of each request): the operation
  // then skips the injected faults (ferry/faults.h).
  bool faults_consulted = false;
};

using AttributeMap = std::map<std::string, std::string>;
using TagMap = std::map<std::string, std::string>;

struct CreateQueueRequest {
  std::string queue_name{};
  AttributeMap attributes{};
  TagMap tags{};
};
struct CreateQueueResult {
  std::string queue_url{};
};

struct GetQueueUrlRequest {
  std::string queue_name{};
  // Another account's queue (must be the same broker).
  std::string queue_owner_aws_account_id{};
};
struct GetQueueUrlResult {
  std::string queue_url{};
};

struct ListQueuesRequest {
  std::string queue_name_prefix{};
  std::optional<int> max_results{};
  std::string next_token{};
};
struct ListQueuesResult {
  std::vector<std::string> queue_urls{};
  std::string next_token{};  // empty when there are no more
};

struct DeleteQueueRequest {
  std::string queue_url{};
};

struct GetQueueAttributesRequest {
  std::string queue_url{};
  std::vector<std::string> attribute_names{};  // "All" or names
};
struct GetQueueAttributesResult {
  AttributeMap attributes{};
};

struct SetQueueAttributesRequest {
  std::string queue_url{};
  AttributeMap attributes{};
};

struct PurgeQueueRequest {
  std::string queue_url{};
};

struct SendMessageRequest {
  std::string queue_url{};
  std::string message_body{};
  std::optional<int> delay_seconds{};
  MessageAttributeMap message_attributes{};
  // Only "AWSTraceHeader" (type String).
  MessageAttributeMap message_system_attributes{};
  std::optional<std::string> message_deduplication_id{};
  std::optional<std::string> message_group_id{};
};
struct SendMessageResult {
  std::string message_id{};
  std::string md5_of_message_body{};
  std::string md5_of_message_attributes{};         // empty if none sent
  std::string md5_of_message_system_attributes{};  // empty if none sent
  std::string sequence_number{};                   // FIFO only
};

struct SendMessageBatchRequestEntry {
  std::string id{};
  std::string message_body{};
  std::optional<int> delay_seconds{};
  MessageAttributeMap message_attributes{};
  MessageAttributeMap message_system_attributes{};
  std::optional<std::string> message_deduplication_id{};
  std::optional<std::string> message_group_id{};
};
struct SendMessageBatchRequest {
  std::string queue_url{};
  std::vector<SendMessageBatchRequestEntry> entries{};
};
struct SendMessageBatchResultEntry {
  std::string id{};
  std::string message_id{};
  std::string md5_of_message_body{};
  std::string md5_of_message_attributes{};
  std::string md5_of_message_system_attributes{};
  std::string sequence_number{};
};
struct BatchResultErrorEntry {
  std::string id{};
  bool sender_fault = true;
  std::string code{};  // the legacy Query code, e.g. "InvalidParameterValue"
  std::string message{};
};
struct SendMessageBatchResult {
  std::vector<SendMessageBatchResultEntry> successful{};
  std::vector<BatchResultErrorEntry> failed{};
};

struct ReceiveMessageRequest {
  std::string queue_url{};
  // Deprecated AWS name of message_system_attribute_names; both are honoured.
  std::vector<std::string> attribute_names{};
  std::vector<std::string> message_system_attribute_names{};
  std::vector<std::string> message_attribute_names{};
  std::optional<int> max_number_of_messages{};
  std::optional<int> visibility_timeout{};
  std::optional<int> wait_time_seconds{};
  std::optional<std::string> receive_request_attempt_id{};
};
struct Message {
  std::string message_id{};
  std::string receipt_handle{};
  std::string md5_of_body{};
  std::string body{};
  AttributeMap attributes{};                // system attributes requested
  std::string md5_of_message_attributes{};  // over the returned attributes
  MessageAttributeMap message_attributes{};
};
struct ReceiveMessageResult {
  std::vector<Message> messages{};
};

struct DeleteMessageRequest {
  std::string queue_url{};
  std::string receipt_handle{};
};

struct DeleteMessageBatchRequestEntry {
  std::string id{};
  std::string receipt_handle{};
};
struct DeleteMessageBatchRequest {
  std::string queue_url{};
  std::vector<DeleteMessageBatchRequestEntry> entries{};
};
struct DeleteMessageBatchResultEntry {
  std::string id{};
};
struct DeleteMessageBatchResult {
  std::vector<DeleteMessageBatchResultEntry> successful{};
  std::vector<BatchResultErrorEntry> failed{};
};

struct ChangeMessageVisibilityRequest {
  std::string queue_url{};
  std::string receipt_handle{};
  std::optional<int> visibility_timeout{};
};

struct ChangeMessageVisibilityBatchRequestEntry {
  std::string id{};
  std::string receipt_handle{};
  std::optional<int> visibility_timeout{};
};
struct ChangeMessageVisibilityBatchRequest {
  std::string queue_url{};
  std::vector<ChangeMessageVisibilityBatchRequestEntry> entries{};
};
struct ChangeMessageVisibilityBatchResultEntry {
  std::string id{};
};
struct ChangeMessageVisibilityBatchResult {
  std::vector<ChangeMessageVisibilityBatchResultEntry> successful{};
  std::vector<BatchResultErrorEntry> failed{};
};

struct TagQueueRequest {
  std::string queue_url{};
  TagMap tags{};
};
struct UntagQueueRequest {
  std::string queue_url{};
  std::vector<std::string> tag_keys{};
};
struct ListQueueTagsRequest {
  std::string queue_url{};
};
struct ListQueueTagsResult {
  TagMap tags{};
};

struct ListDeadLetterSourceQueuesRequest {
  std::string queue_url{};
  std::optional<int> max_results{};
  std::string next_token{};
};
struct ListDeadLetterSourceQueuesResult {
  std::vector<std::string> queue_urls{};
  std::string next_token{};
};

struct AddPermissionRequest {
  std::string queue_url{};
  std::string label{};
  std::vector<std::string> aws_account_ids{};
  std::vector<std::string> actions{};
};
struct RemovePermissionRequest {
  std::string queue_url{};
  std::string label{};
};

struct StartMessageMoveTaskRequest {
  std::string source_arn{};
  std::string destination_arn{};  // empty: back to each message's source
  std::optional<int> max_number_of_messages_per_second{};
};
struct StartMessageMoveTaskResult {
  std::string task_handle{};
};
struct CancelMessageMoveTaskRequest {
  std::string task_handle{};
};
struct CancelMessageMoveTaskResult {
  int64_t approximate_number_of_messages_moved = 0;
};
struct ListMessageMoveTasksRequest {
  std::string source_arn{};
  std::optional<int> max_results{};
};
struct ListMessageMoveTasksResultEntry {
  std::string task_handle{};  // RUNNING tasks only
  std::string status{};       // RUNNING|COMPLETED|CANCELLING|CANCELLED|FAILED
  std::string source_arn{};
  std::string destination_arn{};
  std::optional<int> max_number_of_messages_per_second{};
  int64_t approximate_number_of_messages_moved = 0;
  int64_t approximate_number_of_messages_to_move = 0;
  std::string failure_reason{};
  int64_t started_timestamp = 0;  // epoch milliseconds
};
struct ListMessageMoveTasksResult {
  std::vector<ListMessageMoveTasksResultEntry> results{};
};

class FERRY_EXPORT Sqs {
 public:
  Sqs(const Sqs&) = delete;
  Sqs& operator=(const Sqs&) = delete;

  using Ctx = RequestContext;
  absl::StatusOr<CreateQueueResult> CreateQueue(const Ctx&,
                                                const CreateQueueRequest&);
  absl::StatusOr<GetQueueUrlResult> GetQueueUrl(const Ctx&,
                                                const GetQueueUrlRequest&);
  absl::StatusOr<ListQueuesResult> ListQueues(const Ctx&,
                                              const ListQueuesRequest&);
  absl::Status DeleteQueue(const Ctx&, const DeleteQueueRequest&);
  absl::StatusOr<GetQueueAttributesResult> GetQueueAttributes(
      const Ctx&, const GetQueueAttributesRequest&);
  absl::Status SetQueueAttributes(const Ctx&, const SetQueueAttributesRequest&);
  absl::Status PurgeQueue(const Ctx&, const PurgeQueueRequest&);
  absl::StatusOr<SendMessageResult> SendMessage(const Ctx&,
                                                const SendMessageRequest&);
  absl::StatusOr<SendMessageBatchResult> SendMessageBatch(
      const Ctx&, const SendMessageBatchRequest&);
  absl::StatusOr<ReceiveMessageResult> ReceiveMessage(
      const Ctx&, const ReceiveMessageRequest&);
  absl::Status DeleteMessage(const Ctx&, const DeleteMessageRequest&);
  absl::StatusOr<DeleteMessageBatchResult> DeleteMessageBatch(
      const Ctx&, const DeleteMessageBatchRequest&);
  absl::Status ChangeMessageVisibility(const Ctx&,
                                       const ChangeMessageVisibilityRequest&);
  absl::StatusOr<ChangeMessageVisibilityBatchResult>
  ChangeMessageVisibilityBatch(const Ctx&,
                               const ChangeMessageVisibilityBatchRequest&);
  absl::Status TagQueue(const Ctx&, const TagQueueRequest&);
  absl::Status UntagQueue(const Ctx&, const UntagQueueRequest&);
  absl::StatusOr<ListQueueTagsResult> ListQueueTags(
      const Ctx&, const ListQueueTagsRequest&);
  absl::StatusOr<ListDeadLetterSourceQueuesResult> ListDeadLetterSourceQueues(
      const Ctx&, const ListDeadLetterSourceQueuesRequest&);
  absl::Status AddPermission(const Ctx&, const AddPermissionRequest&);
  absl::Status RemovePermission(const Ctx&, const RemovePermissionRequest&);
  absl::StatusOr<StartMessageMoveTaskResult> StartMessageMoveTask(
      const Ctx&, const StartMessageMoveTaskRequest&);
  absl::StatusOr<CancelMessageMoveTaskResult> CancelMessageMoveTask(
      const Ctx&, const CancelMessageMoveTaskRequest&);
  absl::StatusOr<ListMessageMoveTasksResult> ListMessageMoveTasks(
      const Ctx&, const ListMessageMoveTasksRequest&);

 private:
  friend class internal::Engine;
  explicit Sqs(internal::Engine* engine) : engine_(engine) {}
  internal::Engine* engine_;
};

}  // namespace ferry

#endif  // FERRY_SQS_H_
