// The AWS-shaped level: maps SQS request shapes onto the engine and the
// engine's results back onto SQS result shapes.
#include "ferry/sqs.h"

#include <algorithm>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "digest.h"
#include "engine.h"
#include "fault_hook.h"
#include "nlohmann/json.hpp"
#include "sqs_errors.h"
#include "sqs_names.h"
#include "status_macros.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry {
namespace {

using internal::Engine;
using internal::InvalidParameter;
using internal::InvalidParameterValue;
using internal::MissingParameter;
using internal::QueueState;
using internal::SqsError;
using Json = nlohmann::json;

constexpr size_t kMaxBatchEntries = 10;
constexpr int64_t kMaxBatchBytes = 1048576;

struct Scope {
  std::string account;
  std::string region;
  std::string endpoint;
};

Scope ScopeOf(Engine& engine, const RequestContext& ctx) {
  return {
      ctx.account.empty() ? std::string(engine.DefaultAccount()) : ctx.account,
      ctx.region.empty() ? std::string(engine.DefaultRegion()) : ctx.region,
      ctx.endpoint.empty() ? engine.options().default_endpoint : ctx.endpoint};
}

std::string UrlOf(const Scope& scope, const QueueState& q) {
  return internal::QueueUrl(scope.endpoint, q.region(), q.account(), q.name());
}

absl::StatusOr<std::shared_ptr<QueueState>> Resolve(Engine& engine,
                                                    const RequestContext& ctx,
                                                    const std::string& url) {
  if (url.empty()) return MissingParameter("QueueUrl");
  std::string account, name;
  if (!internal::ParseQueueUrl(url, &account, &name)) {
    return SqsError(
        "InvalidAddress",
        absl::StrCat("The address ", url, " is not valid for this endpoint."));
  }
  Scope scope = ScopeOf(engine, ctx);
  return engine.FindQueue(account, scope.region, name);
}

bool IsValidBatchId(std::string_view id) {
  if (id.empty() || id.size() > 80) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
           c == '_';
  });
}

// The whole-request rules shared by the three batch operations.
template <typename Entry>
absl::Status CheckBatch(const std::vector<Entry>& entries,
                        std::string_view entry_shape) {
  if (entries.empty()) {
    return SqsError(
        "EmptyBatchRequest",
        absl::StrCat("There should be at least one ",
                     internal::AsAbsl(entry_shape), " in the request."));
  }
  if (entries.size() > kMaxBatchEntries) {
    return SqsError(
        "TooManyEntriesInBatchRequest",
        absl::StrCat("Maximum number of entries per request are 10. "
                     "You have sent ",
                     entries.size(), "."));
  }
  absl::flat_hash_set<std::string> seen;
  for (const Entry& e : entries) {
    if (!IsValidBatchId(e.id)) {
      return SqsError("InvalidBatchEntryId",
                      "A batch entry id can only contain alphanumeric "
                      "characters, hyphens and underscores. It can be at most "
                      "80 letters long.");
    }
    if (!seen.insert(e.id).second) {
      return SqsError("BatchEntryIdsNotDistinct",
                      absl::StrCat("Id ", e.id, " repeated."));
    }
  }
  return absl::OkStatus();
}

BatchResultErrorEntry ErrorEntry(const std::string& id, const absl::Status& s) {
  BatchResultErrorEntry e;
  e.id = id;
  std::optional<AwsErrorInfo> aws = GetAwsError(s);
  if (aws.has_value()) {
    e.code = std::string(aws->query_code);
    e.sender_fault = aws->sender_fault;
  } else {
    e.code = "InternalError";
    e.sender_fault = false;
  }
  e.message = std::string(s.message());
  return e;
}

absl::Status ValidateTags(const TagMap& tags) {
  for (const auto& [key, value] : tags) {
    if (key.empty() || key.size() > 128 || value.size() > 256) {
      return InvalidParameter(absl::StrCat("Tag ", key,
                                           " is invalid: keys are 1 to 128 "
                                           "characters and values 0 to 256."));
    }
    if (absl::StartsWith(key, "aws:")) {
      return InvalidParameter(
          "The request contains a tag key that starts with the reserved "
          "prefix aws:.");
    }
  }
  return absl::OkStatus();
}

// Fills the message-level MD5s of a send result.
template <typename Result>
void FillDigests(const internal::OutgoingMessage& m,
                 const MessageAttributeMap& system_attributes,
                 const internal::SendOutcome& o, bool fifo, Result* r) {
  r->message_id = o.message_id.ToString();
  r->md5_of_message_body = internal::Md5Hex(m.body);
  if (m.attributes != nullptr && !m.attributes->empty()) {
    r->md5_of_message_attributes =
        internal::Md5OfMessageAttributes(*m.attributes);
  }
  if (!system_attributes.empty()) {
    r->md5_of_message_system_attributes =
        internal::Md5OfMessageAttributes(system_attributes);
  }
  if (fifo) r->sequence_number = absl::StrFormat("%020u", o.sequence_number);
}

}  // namespace

void ReceiveCancellation::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  std::map<uint64_t, std::function<void()>> wakers;
  {
    MutexLock lock(&mu_);
    wakers = wakers_;
  }
  for (auto& [id, wake] : wakers) wake();
}

uint64_t ReceiveCancellation::Add(std::function<void()> wake) {
  MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  wakers_.emplace(id, std::move(wake));
  return id;
}

void ReceiveCancellation::Remove(uint64_t id) {
  MutexLock lock(&mu_);
  wakers_.erase(id);
}

absl::StatusOr<CreateQueueResult> Sqs::CreateQueue(
    const Ctx& ctx, const CreateQueueRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  if (req.queue_name.empty()) return MissingParameter("QueueName");
  FERRY_RETURN_IF_ERROR(ValidateTags(req.tags));
  Scope scope = ScopeOf(*engine_, ctx);
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<QueueState> q,
      engine_->CreateQueue(scope.account, scope.region, req.queue_name,
                           req.attributes, req.tags));
  return CreateQueueResult{UrlOf(scope, *q)};
}

absl::StatusOr<GetQueueUrlResult> Sqs::GetQueueUrl(
    const Ctx& ctx, const GetQueueUrlRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  if (req.queue_name.empty()) return MissingParameter("QueueName");
  Scope scope = ScopeOf(*engine_, ctx);
  std::string account = req.queue_owner_aws_account_id.empty()
                            ? scope.account
                            : req.queue_owner_aws_account_id;
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<QueueState> q,
      engine_->FindQueue(account, scope.region, req.queue_name));
  return GetQueueUrlResult{UrlOf(scope, *q)};
}

absl::StatusOr<ListQueuesResult> Sqs::ListQueues(const Ctx& ctx,
                                                 const ListQueuesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  if (req.max_results.has_value() &&
      (*req.max_results < 1 || *req.max_results > 1000)) {
    return InvalidParameterValue(std::to_string(*req.max_results), "MaxResults",
                                 "MaxResults must be an integer between 1 and "
                                 "1000.");
  }
  Scope scope = ScopeOf(*engine_, ctx);
  std::string start_after;
  if (!req.next_token.empty()) {
    if (!internal::Base64Decode(req.next_token, &start_after)) {
      return InvalidParameter("Invalid NextToken value.");
    }
  }
  size_t limit = req.max_results.value_or(1000);
  FERRY_ASSIGN_OR_RETURN(
      std::vector<QueueRecord> records,
      engine_->ListQueueRecords(scope.account, scope.region,
                                req.queue_name_prefix, start_after, limit + 1));
  ListQueuesResult result;
  for (size_t i = 0; i < records.size() && i < limit; ++i) {
    internal::QueueName name;
    internal::ParseQueueArn(records[i].key, &name);
    result.queue_urls.push_back(internal::QueueUrl(scope.endpoint, name.region,
                                                   name.account, name.name));
    if (i + 1 == limit && records.size() > limit &&
        req.max_results.has_value()) {
      result.next_token = internal::Base64Encode(name.name);
    }
  }
  return result;
}

absl::Status Sqs::DeleteQueue(const Ctx& ctx, const DeleteQueueRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  return engine_->DeleteQueue(*q);
}

absl::StatusOr<GetQueueAttributesResult> Sqs::GetQueueAttributes(
    const Ctx& ctx, const GetQueueAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  std::set<std::string> names;
  for (const std::string& n : req.attribute_names) {
    if (n != "All" && !internal::IsKnownAttributeName(n)) {
      return internal::UnknownAttribute(n);
    }
    names.insert(n);
  }
  GetQueueAttributesResult result;
  if (names.empty()) return result;
  const bool all = names.count("All") > 0;
  auto wanted = [&](std::string_view n) {
    return all || names.count(std::string(n)) > 0;
  };
  const internal::QueueConfig& config = q->config();
  if (wanted("ApproximateNumberOfMessages") ||
      wanted("ApproximateNumberOfMessagesNotVisible") ||
      wanted("ApproximateNumberOfMessagesDelayed")) {
    FERRY_ASSIGN_OR_RETURN(QueueStore::QueueCounts counts, engine_->Counts(*q));
    if (wanted("ApproximateNumberOfMessages")) {
      result.attributes["ApproximateNumberOfMessages"] =
          std::to_string(counts.visible);
    }
    if (wanted("ApproximateNumberOfMessagesNotVisible")) {
      result.attributes["ApproximateNumberOfMessagesNotVisible"] =
          std::to_string(counts.in_flight);
    }
    if (wanted("ApproximateNumberOfMessagesDelayed")) {
      result.attributes["ApproximateNumberOfMessagesDelayed"] =
          std::to_string(counts.delayed);
    }
  }
  if (wanted("QueueArn")) result.attributes["QueueArn"] = q->arn();
  for (std::string_view n :
       {"VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod",
        "CreatedTimestamp", "LastModifiedTimestamp", "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "FifoQueue",
        "ContentBasedDeduplication", "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds", "DeduplicationScope",
        "FifoThroughputLimit", "RedriveAllowPolicy", "SqsManagedSseEnabled",
        "Policy"}) {
    if (!wanted(n)) continue;
    if (std::optional<std::string> v = internal::RenderAttribute(config, n)) {
      result.attributes[std::string(n)] = *std::move(v);
    }
  }
  return result;
}

absl::Status Sqs::SetQueueAttributes(const Ctx& ctx,
                                     const SetQueueAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  return engine_->SetAttributes(*q, req.attributes);
}

absl::Status Sqs::PurgeQueue(const Ctx& ctx, const PurgeQueueRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  return engine_->Purge(*q);
}

namespace {

// Builds the engine's view of one send. `trace` receives the trace header.
absl::Status ToOutgoing(const RequestContext& ctx, const std::string& body,
                        const std::optional<int>& delay,
                        const MessageAttributeMap& attributes,
                        const MessageAttributeMap& system_attributes,
                        const std::optional<std::string>& dedup,
                        const std::optional<std::string>& group,
                        std::string* trace, internal::OutgoingMessage* out) {
  *trace = ctx.trace_header;
  FERRY_RETURN_IF_ERROR(
      internal::ValidateSystemAttributes(system_attributes, trace));
  out->body = body;
  out->attributes = &attributes;
  if (delay.has_value()) out->delay_seconds = *delay;
  if (dedup.has_value()) out->deduplication_id = *dedup;
  if (group.has_value()) out->message_group_id = *group;
  out->trace_header = *trace;
  return absl::OkStatus();
}

std::string SenderOf(const RequestContext& ctx, const QueueState& q) {
  return ctx.caller.empty() ? q.account() : ctx.caller;
}

}  // namespace

absl::StatusOr<SendMessageResult> Sqs::SendMessage(
    const Ctx& ctx, const SendMessageRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  std::string trace;
  internal::OutgoingMessage m;
  FERRY_RETURN_IF_ERROR(ToOutgoing(
      ctx, req.message_body, req.delay_seconds, req.message_attributes,
      req.message_system_attributes, req.message_deduplication_id,
      req.message_group_id, &trace, &m));
  absl::Status status;
  internal::SendOutcome outcome;
  FERRY_RETURN_IF_ERROR(engine_->Send(*q, {&m, 1}, SenderOf(ctx, *q),
                                      {&status, 1}, {&outcome, 1}));
  FERRY_RETURN_IF_ERROR(status);
  SendMessageResult result;
  FillDigests(m, req.message_system_attributes, outcome, q->fifo(), &result);
  return result;
}

absl::StatusOr<SendMessageBatchResult> Sqs::SendMessageBatch(
    const Ctx& ctx, const SendMessageBatchRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  FERRY_RETURN_IF_ERROR(
      CheckBatch(req.entries, "SendMessageBatchRequestEntry"));
  int64_t total = 0;
  for (const auto& e : req.entries) {
    total += internal::MessageSize(e.message_body, &e.message_attributes);
  }
  if (total > kMaxBatchBytes) {
    return SqsError("BatchRequestTooLong",
                    absl::StrCat("Batch requests cannot be longer than 1048576 "
                                 "bytes. You have sent ",
                                 total, " bytes."));
  }
  if (q->fifo()) {
    // A FIFO batch missing an id fails as a whole, as AWS does.
    for (const auto& e : req.entries) {
      if (!e.message_group_id.has_value()) {
        return InvalidParameter(
            "The request must contain the parameter MessageGroupId.");
      }
      if (!e.message_deduplication_id.has_value() &&
          !q->config().content_based_deduplication) {
        return InvalidParameter(
            "The queue should either have ContentBasedDeduplication enabled "
            "or MessageDeduplicationId provided explicitly");
      }
    }
  }
  const size_t n = req.entries.size();
  std::vector<internal::OutgoingMessage> messages(n);
  std::vector<std::string> traces(n);
  std::vector<absl::Status> statuses(n);
  std::vector<internal::SendOutcome> outcomes(n);
  std::vector<bool> prevalidated(n, true);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = req.entries[i];
    absl::Status s =
        ToOutgoing(ctx, e.message_body, e.delay_seconds, e.message_attributes,
                   e.message_system_attributes, e.message_deduplication_id,
                   e.message_group_id, &traces[i], &messages[i]);
    messages[i].batch_entry = true;
    if (!s.ok()) {
      statuses[i] = s;
      prevalidated[i] = false;
    }
  }
  // Entries that failed before the engine are sent as empty bodies would
  // be; keep them out of the engine call.
  std::vector<internal::OutgoingMessage> to_send;
  std::vector<size_t> index;
  for (size_t i = 0; i < n; ++i) {
    if (!prevalidated[i]) continue;
    to_send.push_back(messages[i]);
    index.push_back(i);
  }
  std::vector<absl::Status> send_statuses(to_send.size());
  std::vector<internal::SendOutcome> send_outcomes(to_send.size());
  if (!to_send.empty()) {
    FERRY_RETURN_IF_ERROR(engine_->Send(*q, to_send, SenderOf(ctx, *q),
                                        send_statuses, send_outcomes));
  }
  for (size_t k = 0; k < index.size(); ++k) {
    statuses[index[k]] = send_statuses[k];
    outcomes[index[k]] = send_outcomes[k];
  }
  SendMessageBatchResult result;
  for (size_t i = 0; i < n; ++i) {
    const auto& e = req.entries[i];
    if (!statuses[i].ok()) {
      result.failed.push_back(ErrorEntry(e.id, statuses[i]));
      continue;
    }
    SendMessageBatchResultEntry r;
    r.id = e.id;
    FillDigests(messages[i], e.message_system_attributes, outcomes[i],
                q->fifo(), &r);
    result.successful.push_back(std::move(r));
  }
  return result;
}

absl::StatusOr<ReceiveMessageResult> Sqs::ReceiveMessage(
    const Ctx& ctx, const ReceiveMessageRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  internal::ReceiveParams p;
  if (req.max_number_of_messages.has_value()) {
    int v = *req.max_number_of_messages;
    if (v < 1 || v > 10) {
      return InvalidParameterValue(std::to_string(v), "MaxNumberOfMessages",
                                   "Must be between 1 and 10, if provided.");
    }
    p.max_messages = v;
  }
  if (req.wait_time_seconds.has_value()) {
    int v = *req.wait_time_seconds;
    if (v < 0 || v > 20) {
      return InvalidParameterValue(std::to_string(v), "WaitTimeSeconds",
                                   "Must be >= 0 and <= 20, if provided.");
    }
    p.wait_time = absl::Seconds(v);
  }
  if (req.visibility_timeout.has_value()) {
    int v = *req.visibility_timeout;
    if (v < 0 || v > internal::kMaxVisibilityTimeout) {
      return InvalidParameterValue(std::to_string(v), "VisibilityTimeout",
                                   "Must be >= 0 and <= 43200, if provided.");
    }
    p.visibility_timeout = v;
  }
  if (req.receive_request_attempt_id.has_value()) {
    const std::string& id = *req.receive_request_attempt_id;
    bool ok = !id.empty() && id.size() <= 128 &&
              std::all_of(id.begin(), id.end(),
                          [](char c) { return c >= 0x21 && c <= 0x7e; });
    if (!ok) {
      return InvalidParameterValue(
          id, "ReceiveRequestAttemptId",
          "ReceiveRequestAttemptId can only include alphanumeric and "
          "punctuation characters. 1 to 128 in length.");
    }
    p.receive_request_attempt_id = id;
  }
  std::vector<std::string> system_names = req.message_system_attribute_names;
  system_names.insert(system_names.end(), req.attribute_names.begin(),
                      req.attribute_names.end());
  for (const std::string& n : system_names) {
    if (!internal::IsKnownSystemAttributeName(n)) {
      return internal::UnknownAttribute(n);
    }
  }
  // A cancellation wakes this queue's waiters, which then see the flag.
  uint64_t waker = 0;
  if (ctx.cancellation != nullptr) {
    p.cancelled = &ctx.cancellation->cancelled_;
    std::weak_ptr<QueueState> weak = q;
    waker = ctx.cancellation->Add([weak] {
      if (std::shared_ptr<QueueState> s = weak.lock()) s->Notify();
    });
  }
  absl::StatusOr<std::vector<QueueStore::LeasedMessage>> received =
      engine_->Receive(*q, p);
  if (ctx.cancellation != nullptr) ctx.cancellation->Remove(waker);
  FERRY_ASSIGN_OR_RETURN(std::vector<QueueStore::LeasedMessage> leases,
                         std::move(received));
  ReceiveMessageResult result;
  for (QueueStore::LeasedMessage& lease : leases) {
    Message m;
    m.message_id = lease.message.message_id.ToString();
    m.receipt_handle = std::move(lease.receipt);
    m.md5_of_body = internal::Md5Hex(lease.message.body);
    m.attributes =
        internal::SystemAttributes(lease.message, q->fifo(), system_names);
    for (auto& [name, value] : lease.message.attributes) {
      if (internal::AttributeNameSelected(req.message_attribute_names, name)) {
        m.message_attributes.emplace(name, value);
      }
    }
    if (!m.message_attributes.empty()) {
      m.md5_of_message_attributes =
          internal::Md5OfMessageAttributes(m.message_attributes);
    }
    m.body.assign(lease.message.body.data(), lease.message.body.size());
    result.messages.push_back(std::move(m));
  }
  return result;
}

absl::Status Sqs::DeleteMessage(const Ctx& ctx,
                                const DeleteMessageRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  if (req.receipt_handle.empty()) return MissingParameter("ReceiptHandle");
  std::string_view receipt = req.receipt_handle;
  absl::Status status;
  engine_->Delete(*q, {&receipt, 1}, {&status, 1});
  return status;
}

absl::StatusOr<DeleteMessageBatchResult> Sqs::DeleteMessageBatch(
    const Ctx& ctx, const DeleteMessageBatchRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  FERRY_RETURN_IF_ERROR(
      CheckBatch(req.entries, "DeleteMessageBatchRequestEntry"));
  std::vector<std::string_view> receipts;
  for (const auto& e : req.entries) receipts.push_back(e.receipt_handle);
  std::vector<absl::Status> statuses(receipts.size());
  engine_->Delete(*q, receipts, statuses);
  DeleteMessageBatchResult result;
  for (size_t i = 0; i < receipts.size(); ++i) {
    if (statuses[i].ok()) {
      result.successful.push_back({req.entries[i].id});
    } else {
      result.failed.push_back(ErrorEntry(req.entries[i].id, statuses[i]));
    }
  }
  return result;
}

absl::Status Sqs::ChangeMessageVisibility(
    const Ctx& ctx, const ChangeMessageVisibilityRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  if (req.receipt_handle.empty()) return MissingParameter("ReceiptHandle");
  if (!req.visibility_timeout.has_value()) {
    return MissingParameter("VisibilityTimeout");
  }
  std::string_view receipt = req.receipt_handle;
  int64_t timeout = *req.visibility_timeout;
  absl::Status status;
  engine_->ChangeVisibility(*q, {&receipt, 1}, {&timeout, 1}, {&status, 1});
  return status;
}

absl::StatusOr<ChangeMessageVisibilityBatchResult>
Sqs::ChangeMessageVisibilityBatch(
    const Ctx& ctx, const ChangeMessageVisibilityBatchRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  FERRY_RETURN_IF_ERROR(
      CheckBatch(req.entries, "ChangeMessageVisibilityBatchRequestEntry"));
  std::vector<std::string_view> receipts;
  std::vector<int64_t> timeouts;
  std::vector<absl::Status> statuses(req.entries.size());
  for (const auto& e : req.entries) {
    receipts.push_back(e.receipt_handle);
    timeouts.push_back(e.visibility_timeout.value_or(0));
  }
  engine_->ChangeVisibility(*q, receipts, timeouts, statuses);
  ChangeMessageVisibilityBatchResult result;
  for (size_t i = 0; i < receipts.size(); ++i) {
    if (statuses[i].ok()) {
      result.successful.push_back({req.entries[i].id});
    } else {
      result.failed.push_back(ErrorEntry(req.entries[i].id, statuses[i]));
    }
  }
  return result;
}

absl::Status Sqs::TagQueue(const Ctx& ctx, const TagQueueRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  FERRY_RETURN_IF_ERROR(ValidateTags(req.tags));
  return engine_->UpdateConfig(*q, [&](internal::QueueConfig& c) {
    for (const auto& [k, v] : req.tags) c.tags[k] = v;
    return absl::OkStatus();
  });
}

absl::Status Sqs::UntagQueue(const Ctx& ctx, const UntagQueueRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  return engine_->UpdateConfig(*q, [&](internal::QueueConfig& c) {
    for (const std::string& k : req.tag_keys) c.tags.erase(k);
    return absl::OkStatus();
  });
}

absl::StatusOr<ListQueueTagsResult> Sqs::ListQueueTags(
    const Ctx& ctx, const ListQueueTagsRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  return ListQueueTagsResult{q->config().tags};
}

absl::StatusOr<ListDeadLetterSourceQueuesResult>
Sqs::ListDeadLetterSourceQueues(const Ctx& ctx,
                                const ListDeadLetterSourceQueuesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  if (req.max_results.has_value() &&
      (*req.max_results < 1 || *req.max_results > 1000)) {
    return InvalidParameterValue(std::to_string(*req.max_results), "MaxResults",
                                 "MaxResults must be an integer between 1 and "
                                 "1000.");
  }
  std::string start_after;
  if (!req.next_token.empty() &&
      !internal::Base64Decode(req.next_token, &start_after)) {
    return InvalidParameter("Invalid NextToken value.");
  }
  Scope scope = ScopeOf(*engine_, ctx);
  FERRY_ASSIGN_OR_RETURN(std::vector<QueueRecord> records,
                         engine_->ListQueueRecords(q->account(), q->region(),
                                                   "", start_after, 1000000));
  size_t limit = req.max_results.value_or(1000);
  ListDeadLetterSourceQueuesResult result;
  for (const QueueRecord& r : records) {
    absl::StatusOr<internal::QueueConfig> c =
        internal::DecodeQueueConfig(r.config);
    if (!c.ok() || c->dead_letter_target_arn != q->arn()) continue;
    internal::QueueName name;
    internal::ParseQueueArn(r.key, &name);
    if (result.queue_urls.size() == limit) {
      if (req.max_results.has_value()) {
        result.next_token = internal::Base64Encode(
            internal::ParseQueueUrl(result.queue_urls.back(), &name.account,
                                    &name.name)
                ? name.name
                : "");
      }
      break;
    }
    result.queue_urls.push_back(internal::QueueUrl(scope.endpoint, name.region,
                                                   name.account, name.name));
  }
  return result;
}

namespace {

const std::set<std::string>& PermissionActions() {
  static const auto* actions =
      new std::set<std::string>{"*",
                                "SendMessage",
                                "ReceiveMessage",
                                "DeleteMessage",
                                "ChangeMessageVisibility",
                                "GetQueueAttributes",
                                "GetQueueUrl",
                                "PurgeQueue",
                                "ListDeadLetterSourceQueues",
                                "ListQueueTags"};
  return *actions;
}

}  // namespace

absl::Status Sqs::AddPermission(const Ctx& ctx,
                                const AddPermissionRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  if (req.label.empty()) return MissingParameter("Label");
  if (req.aws_account_ids.empty()) return MissingParameter("AWSAccountIds");
  if (req.actions.empty()) return MissingParameter("Actions");
  if (!IsValidBatchId(req.label)) {
    return InvalidParameterValue(
        req.label, "Label",
        "Can only include alphanumeric characters, hyphens, or underscores. 1 "
        "to 80 in length");
  }
  for (const std::string& a : req.actions) {
    if (PermissionActions().count(a) == 0) {
      return InvalidParameterValue(a, "ActionName",
                                   "Please refer to the appropriate WSDL for a "
                                   "list of valid actions.");
    }
  }
  return engine_->UpdateConfig(
      *q, [&](internal::QueueConfig& c) -> absl::Status {
        Json policy;
        if (!c.policy.empty()) {
          policy = Json::parse(c.policy, nullptr, false);
          if (policy.is_discarded() || !policy.is_object())
            policy = Json::object();
        }
        if (!policy.contains("Version")) policy["Version"] = "2008-10-17";
        if (!policy.contains("Id")) {
          policy["Id"] = absl::StrCat(q->arn(), "/SQSDefaultPolicy");
        }
        if (!policy.contains("Statement") || !policy["Statement"].is_array()) {
          policy["Statement"] = Json::array();
        }
        for (const Json& st : policy["Statement"]) {
          if (st.contains("Sid") && st["Sid"] == req.label) {
            return InvalidParameterValue(req.label, "Label", "Already exists.");
          }
        }
        if (policy["Statement"].size() >= 20) {
          return SqsError(
              "OverLimit",
              "The queue policy cannot have more than 20 statements.");
        }
        Json principals = Json::array();
        for (const std::string& a : req.aws_account_ids) {
          principals.push_back(absl::StrCat("arn:aws:iam::", a, ":root"));
        }
        Json actions = Json::array();
        for (const std::string& a : req.actions) {
          actions.push_back(absl::StrCat("SQS:", a));
        }
        Json statement = {
            {"Sid", req.label},
            {"Effect", "Allow"},
            {"Principal",
             {{"AWS", principals.size() == 1 ? principals[0] : principals}}},
            {"Action", actions.size() == 1 ? actions[0] : actions},
            {"Resource", q->arn()}};
        policy["Statement"].push_back(std::move(statement));
        c.policy = policy.dump();
        return absl::OkStatus();
      });
}

absl::Status Sqs::RemovePermission(const Ctx& ctx,
                                   const RemovePermissionRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<QueueState> q,
                         Resolve(*engine_, ctx, req.queue_url));
  if (req.label.empty()) return MissingParameter("Label");
  return engine_->UpdateConfig(
      *q, [&](internal::QueueConfig& c) -> absl::Status {
        Json policy = c.policy.empty() ? Json::object()
                                       : Json::parse(c.policy, nullptr, false);
        bool found = false;
        if (!policy.is_discarded() && policy.is_object() &&
            policy.contains("Statement") && policy["Statement"].is_array()) {
          Json kept = Json::array();
          for (const Json& st : policy["Statement"]) {
            if (st.contains("Sid") && st["Sid"] == req.label) {
              found = true;
            } else {
              kept.push_back(st);
            }
          }
          policy["Statement"] = kept;
        }
        if (!found) {
          return InvalidParameterValue(req.label, "Label", "can't find label.");
        }
        c.policy = policy["Statement"].empty() ? "" : policy.dump();
        return absl::OkStatus();
      });
}

absl::StatusOr<StartMessageMoveTaskResult> Sqs::StartMessageMoveTask(
    const Ctx& ctx, const StartMessageMoveTaskRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(
      std::string handle,
      engine_->StartMoveTask(ctx, req.source_arn, req.destination_arn,
                             req.max_number_of_messages_per_second));
  return StartMessageMoveTaskResult{std::move(handle)};
}

absl::StatusOr<CancelMessageMoveTaskResult> Sqs::CancelMessageMoveTask(
    const Ctx& ctx, const CancelMessageMoveTaskRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(int64_t moved,
                         engine_->CancelMoveTask(req.task_handle));
  return CancelMessageMoveTaskResult{moved};
}

absl::StatusOr<ListMessageMoveTasksResult> Sqs::ListMessageMoveTasks(
    const Ctx& ctx, const ListMessageMoveTasksRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(), AwsService::kSqs,
                        ctx);
  FERRY_ASSIGN_OR_RETURN(
      std::vector<ListMessageMoveTasksResultEntry> results,
      engine_->ListMoveTasks(req.source_arn, req.max_results.value_or(1)));
  return ListMessageMoveTasksResult{std::move(results)};
}

}  // namespace ferry
