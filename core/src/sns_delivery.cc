// SNS publishing and delivery (sns.md §1.7, §1.10, §3): validation of
// Publish and PublishBatch, FIFO deduplication and sequence numbers, the
// atomic fan-out to subscribed queues (one store Append per publish, through
// Engine::PrepareAppend so SQS's rules apply to each destination), queue
// policies, and function and sink deliveries through the executor with
// retries driven by the clock.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "digest.h"
#include "message_rules.h"
#include "nlohmann/json.hpp"
#include "sns_engine.h"
#include "sns_rules.h"
#include "sqs_names.h"
#include "status_macros.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

constexpr absl::Duration kFifoDedupWindow = absl::Minutes(5);
// Pending http/https deliveries, so that they and their retries survive a
// restart on a persistent store.
constexpr std::string_view kHttpPendingTable = "sns.http-pending";

// The default sink: records every delivery.
class RecordingSink : public DeliverySink {
 public:
  absl::Status Deliver(const SinkDelivery& delivery) override {
    MutexLock lock(&mu_);
    deliveries_.push_back(delivery);
    return absl::OkStatus();
  }
  std::vector<SinkDelivery> Get() const {
    MutexLock lock(&mu_);
    return deliveries_;
  }
  void Clear() {
    MutexLock lock(&mu_);
    deliveries_.clear();
  }

 private:
  mutable Mutex mu_;
  std::vector<SinkDelivery> deliveries_ ABSL_GUARDED_BY(mu_);
};

// The delay before retry number `retry` (1-based); nullopt when the policy
// is exhausted (sns.md §3.4).
std::optional<absl::Duration> ManagedRetryDelay(int retry) {
  if (retry <= 3) return absl::ZeroDuration();
  if (retry <= 5) return absl::Seconds(1);
  if (retry <= 15) {
    return absl::Seconds(std::pow(20.0, (retry - 6) / 9.0));
  }
  if (retry <= 100015) return absl::Seconds(20);
  return std::nullopt;
}

std::optional<absl::Duration> CustomerRetryDelay(int retry) {
  if (retry <= 2) return absl::Seconds(10);
  if (retry <= 12) {
    return absl::Seconds(10.0 * std::pow(60.0, (retry - 3) / 9.0));
  }
  if (retry <= 50) return absl::Seconds(600);
  return std::nullopt;
}

std::string FunctionName(std::string_view arn) {
  std::vector<std::string_view> parts = SplitArn(arn);
  return parts.size() >= 7 ? std::string(parts[6]) : std::string();
}

}  // namespace

// The HTTP/S retry policy of a subscription (sns.md §3.4).
struct HttpRetryPolicy {
  int num_retries = 3;
  int no_delay = 0;
  int min_delay_retries = 0;
  int max_delay_retries = 0;
  double min_delay = 20;
  double max_delay = 20;
  std::string backoff = "linear";

  std::optional<absl::Duration> Delay(int retry) const {
    if (retry > num_retries) return std::nullopt;
    if (retry <= no_delay) return absl::ZeroDuration();
    if (retry <= no_delay + min_delay_retries) return absl::Seconds(min_delay);
    const int backoff_count =
        num_retries - no_delay - min_delay_retries - max_delay_retries;
    const int k = retry - no_delay - min_delay_retries;
    if (k > backoff_count) return absl::Seconds(max_delay);
    double t = backoff_count <= 1 ? 1.0
                                  : static_cast<double>(k - 1) /
                                        static_cast<double>(backoff_count - 1);
    if (backoff == "geometric") t = t * t;
    if (backoff == "exponential") t = (std::pow(2.0, 10 * t) - 1) / 1023.0;
    return absl::Seconds(min_delay + (max_delay - min_delay) * t);
  }
};

HttpRetryPolicy ParseHttpRetryPolicy(const nlohmann::json& j) {
  HttpRetryPolicy p;
  if (!j.is_object()) return p;
  auto num = [&](const char* key, auto* out) {
    if (j.contains(key) && j[key].is_number()) {
      *out = j[key].get<std::remove_pointer_t<decltype(out)>>();
    }
  };
  num("numRetries", &p.num_retries);
  num("numNoDelayRetries", &p.no_delay);
  num("numMinDelayRetries", &p.min_delay_retries);
  num("numMaxDelayRetries", &p.max_delay_retries);
  num("minDelayTarget", &p.min_delay);
  num("maxDelayTarget", &p.max_delay);
  if (j.contains("backoffFunction") && j["backoffFunction"].is_string()) {
    p.backoff = j["backoffFunction"].get<std::string>();
  }
  return p;
}

struct SnsEngine::Retry {
  enum class Kind { kFunction, kSink, kHttp };
  Kind kind = Kind::kFunction;
  std::shared_ptr<TopicState> topic;  // null for direct publishes
  std::string function;
  TopicNotification notification;
  SinkDelivery delivery;
  bool confirmation = false;
  HttpPost post;
  HttpRetryPolicy http_policy;
  // http/https: the key of the delivery's record in kHttpPendingTable.
  std::string pending_key;
  std::string dead_letter_arn;
  std::string dead_letter_body;
  MessageAttributeMap dead_letter_attributes;
  int attempt = 1;
};

SnsEngine::SnsEngine(Engine* engine)
    : engine_(engine),
      sns_(this),
      recorder_(std::make_shared<RecordingSink>()) {}

void SnsEngine::SetDeliverySink(std::shared_ptr<DeliverySink> sink) {
  MutexLock lock(&sink_mu_);
  sink_ = std::move(sink);
}

std::vector<SinkDelivery> SnsEngine::RecordedDeliveries() const {
  return static_cast<RecordingSink*>(recorder_.get())->Get();
}

void SnsEngine::ClearRecordedDeliveries() {
  static_cast<RecordingSink*>(recorder_.get())->Clear();
}

absl::Status SnsEngine::RegisterFunction(std::string_view name,
                                         TopicFunction fn) {
  if (name.empty()) return absl::InvalidArgumentError("empty function name");
  MutexLock lock(&functions_mu_);
  if (fn) {
    functions_[AsAbsl(name)] = std::move(fn);
  } else {
    functions_.erase(AsAbsl(name));
  }
  return absl::OkStatus();
}

std::string SnsEngine::SigningCertUrl(std::string_view region) const {
  static const std::string* hex =
      new std::string(Md5Hex(SigningCertificatePem()));
  return absl::StrCat("https://sns.", AsAbsl(region),
                      ".amazonaws.com/SimpleNotificationService-", *hex,
                      ".pem");
}

// ---- Retries
// -------------------------------------------------------------------

void SnsEngine::Invoke(std::shared_ptr<Retry> retry) {
  std::weak_ptr<int> alive = alive_;
  engine_->executor().Schedule([this, alive, retry = std::move(retry)]() {
    if (alive.expired()) return;
    absl::Status s;
    if (retry->kind == Retry::Kind::kFunction) {
      TopicFunction fn;
      {
        MutexLock lock(&functions_mu_);
        auto it = functions_.find(retry->function);
        if (it != functions_.end()) fn = it->second;
      }
      if (!fn) {
        s = absl::NotFoundError(
            absl::StrCat("no function registered as ", retry->function));
      } else {
        retry->notification.attempt = retry->attempt;
        s = fn(retry->notification);
      }
    } else if (retry->kind == Retry::Kind::kHttp) {
      std::shared_ptr<HttpTransport> http;
      {
        MutexLock lock(&sink_mu_);
        http = http_;
      }
      absl::StatusOr<int> code =
          http != nullptr ? http->Post(retry->post)
                          : absl::UnavailableError("no HTTP transport");
      if (!code.ok()) {
        s = code.status();
      } else if (*code >= 500 || *code < 200) {
        s = absl::UnavailableError(absl::StrCat("HTTP status ", *code));
      }
    } else {
      std::shared_ptr<DeliverySink> sink;
      {
        MutexLock lock(&sink_mu_);
        sink = sink_;
      }
      if (sink == nullptr) sink = recorder_;
      s = sink->Deliver(retry->delivery);
    }
    TopicState::Counters* counters =
        retry->topic != nullptr ? &retry->topic->counters : nullptr;
    if (s.ok()) {
      if (!retry->pending_key.empty()) {
        (void)Erase(kHttpPendingTable, retry->pending_key);
      }
      if (counters != nullptr) {
        (retry->kind == Retry::Kind::kFunction ? counters->to_functions
                                               : counters->to_sinks)++;
      }
      return;
    }
    if (counters != nullptr) counters->failed++;
    std::optional<absl::Duration> delay =
        retry->kind == Retry::Kind::kFunction
            ? ManagedRetryDelay(retry->attempt)
        : retry->kind == Retry::Kind::kHttp
            ? retry->http_policy.Delay(retry->attempt)
            : CustomerRetryDelay(retry->attempt);
    retry->attempt++;
    if (!delay.has_value()) {
      DeadLetter(*retry);
      if (!retry->pending_key.empty()) {
        (void)Erase(kHttpPendingTable, retry->pending_key);
      }
      return;
    }
    if (!retry->pending_key.empty()) {
      (void)SavePendingHttp(*retry, engine_->clock().Now() + *delay);
    }
    if (*delay == absl::ZeroDuration()) {
      Invoke(retry);
    } else {
      MutexLock lock(&retry_mu_);
      retries_.emplace(engine_->clock().Now() + *delay, retry);
      has_retries_.store(true, std::memory_order_release);
    }
  });
}

void SnsEngine::ScheduleRetry(std::shared_ptr<Retry> retry) {
  Invoke(std::move(retry));
}

absl::Status SnsEngine::RunDueRetries(absl::Time now) {
  std::vector<std::shared_ptr<Retry>> due;
  {
    MutexLock lock(&retry_mu_);
    auto end = retries_.upper_bound(now);
    for (auto it = retries_.begin(); it != end; ++it) due.push_back(it->second);
    retries_.erase(retries_.begin(), end);
    has_retries_.store(!retries_.empty(), std::memory_order_release);
  }
  for (auto& r : due) ScheduleRetry(std::move(r));
  return absl::OkStatus();
}

absl::Status SnsEngine::RunMaintenance() {
  FERRY_RETURN_IF_ERROR(EnsureLoaded());
  return RunDueRetries(engine_->clock().Now());
}

void SnsEngine::DeadLetter(const Retry& retry) {
  if (retry.dead_letter_arn.empty() || retry.confirmation) return;
  absl::StatusOr<std::shared_ptr<QueueState>> q =
      engine_->FindQueueByArn(retry.dead_letter_arn);
  if (!q.ok()) return;
  OutgoingMessage m;
  m.body = retry.dead_letter_body;
  m.attributes = &retry.dead_letter_attributes;
  absl::Status st;
  SendOutcome out;
  absl::Status s = engine_->Send(**q, {&m, 1}, "", {&st, 1}, {&out, 1});
  if (s.ok() && st.ok() && retry.topic != nullptr) {
    retry.topic->counters.dead_lettered++;
  }
}

// ---- Publish
// -------------------------------------------------------------------

namespace {

struct EntryFields {
  std::string_view message;
  const std::optional<std::string>* subject;
  const std::optional<std::string>* structure;
  const MessageAttributeMap* attributes;
  const std::optional<std::string>* dedup;
  const std::optional<std::string>* group;
};

// The per-message rules of Publish and PublishBatch that do not need the
// topic (sns.md §1.7 items 1, 2, 4, 5 and the MessageStructure parse).
absl::Status ValidateEntryBasics(const EntryFields& f,
                                 std::string_view attribute_path,
                                 std::map<std::string, std::string>* structured,
                                 bool* has_structure) {
  if (f.subject->has_value())
    FERRY_RETURN_IF_ERROR(ValidateSubject(**f.subject));
  if (f.message.empty()) return SnsInvalid("Invalid parameter: Empty message");
  FERRY_RETURN_IF_ERROR(ValidateSnsAttributes(*f.attributes, attribute_path));
  if (SnsMessageSize(f.message, *f.attributes) > kMaxSnsMessageBytes) {
    return SnsInvalid("Invalid parameter: Message too long");
  }
  if (!IsXmlText(f.message)) return SnsInvalid("Invalid parameter: Message");
  *has_structure = f.structure->has_value();
  if (*has_structure) {
    if (**f.structure != "json") {
      return SnsInvalid("Invalid parameter: MessageStructure");
    }
  }
  return absl::OkStatus();
}

// FIFO and group rules (sns.md §1.11), then MessageStructure.
absl::Status ValidateEntryForTopic(const EntryFields& f, bool fifo,
                                   bool content_dedup, bool has_structure,
                                   std::map<std::string, std::string>* out) {
  if (fifo) {
    if (!f.group->has_value() || (*f.group)->empty()) {
      return SnsInvalid(
          "Invalid parameter: The MessageGroupId parameter is required for "
          "FIFO topics");
    }
    if (!IsValidGroupOrDedupId(**f.group)) {
      return SnsInvalid(
          "Invalid parameter: MessageGroupId Reason: MessageGroupId can only "
          "include alphanumeric and punctuation characters. 1 to 128 in "
          "length.");
    }
    if (!f.dedup->has_value() && !content_dedup) {
      return SnsInvalid(
          "Invalid parameter: The topic should either have "
          "ContentBasedDeduplication enabled or MessageDeduplicationId "
          "provided explicitly");
    }
    if (f.dedup->has_value() && !IsValidGroupOrDedupId(**f.dedup)) {
      return SnsInvalid(
          "Invalid parameter: MessageDeduplicationId Reason: "
          "MessageDeduplicationId can only include alphanumeric and "
          "punctuation characters. 1 to 128 in length.");
    }
  } else {
    if (f.dedup->has_value()) {
      return SnsInvalid(
          "Invalid parameter: MessageDeduplicationId Reason: The request "
          "includes MessageDeduplicationId parameter that is not valid for "
          "this topic type");
    }
    if (f.group->has_value() && !IsValidGroupOrDedupId(**f.group)) {
      return SnsInvalid(
          "Invalid parameter: MessageGroupId Reason: MessageGroupId can only "
          "include alphanumeric and punctuation characters. 1 to 128 in "
          "length.");
    }
  }
  if (has_structure) {
    FERRY_RETURN_IF_ERROR(ParseStructuredMessage(f.message, out));
  }
  return absl::OkStatus();
}

bool TopicContentDedup(TopicState& topic, const StringMap& attributes) {
  auto it = attributes.find("ContentBasedDeduplication");
  bool b = false;
  if (it != attributes.end()) ParseBool(it->second, &b);
  return b;
}

}  // namespace

absl::StatusOr<SnsPublishResult> SnsEngine::Publish(const Ctx& ctx,
                                                    const PublishRequest& req) {
  const int targets = !req.topic_arn.empty() + !req.target_arn.empty() +
                      !req.phone_number.empty();
  if (targets == 0) {
    return SnsInvalid(
        "Invalid parameter: TopicArn or TargetArn Reason: no value for "
        "required parameter");
  }
  if (targets > 1) {
    return SnsInvalid(
        "Invalid parameter: TopicArn or TargetArn Reason: Only one of "
        "TopicArn, TargetArn or PhoneNumber may be specified");
  }
  EntryFields f{req.message,
                &req.subject,
                &req.message_structure,
                &req.message_attributes,
                &req.message_deduplication_id,
                &req.message_group_id};
  if (req.subject.has_value())
    FERRY_RETURN_IF_ERROR(ValidateSubject(*req.subject));
  if (req.message.empty())
    return SnsInvalid("Invalid parameter: Empty message");
  if (!req.phone_number.empty() && !IsValidPhoneNumber(req.phone_number)) {
    return SnsInvalid(absl::StrCat(
        "Invalid parameter: PhoneNumber Reason: ", req.phone_number,
        " is not valid to publish to"));
  }
  std::map<std::string, std::string> structured;
  bool has_structure = false;
  FERRY_RETURN_IF_ERROR(
      ValidateEntryBasics(f, "messageAttributes", &structured, &has_structure));

  std::string topic_arn = req.topic_arn;
  std::string_view param = "TopicArn";
  if (!req.target_arn.empty()) {
    std::vector<std::string_view> parts = SplitArn(req.target_arn);
    if (parts.size() >= 6 && absl::StartsWith(AsAbsl(parts[5]), "endpoint/")) {
      if (has_structure) {
        FERRY_RETURN_IF_ERROR(
            ParseStructuredMessage(req.message, &structured, false));
      }
      return PublishToEndpoint(ctx, req, has_structure ? &structured : nullptr);
    }
    topic_arn = req.target_arn;
    param = "TargetArn";
  }
  if (!req.phone_number.empty()) {
    if (has_structure) {
      FERRY_RETURN_IF_ERROR(ParseStructuredMessage(req.message, &structured));
    }
    SnsPublishResult result;
    result.message_id = engine_->ids().NewId().ToString();
    SinkDelivery d;
    d.protocol = "sms";
    d.endpoint = req.phone_number;
    d.type = "Notification";
    d.message_id = result.message_id;
    d.body = has_structure ? (structured.count("sms") ? structured["sms"]
                                                      : structured["default"])
                           : req.message;
    d.attributes = req.message_attributes;
    d.time = engine_->clock().Now();
    DeliverToSink(std::move(d));
    return result;
  }
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(CheckArn(topic_arn, param, ctx.region, &parts));
  absl::StatusOr<std::shared_ptr<TopicState>> topic = FindTopic(topic_arn);
  const bool fifo = absl::EndsWith(topic_arn, ".fifo");
  bool content_dedup = false;
  if (topic.ok()) {
    MutexLock tl(&(*topic)->mu_);
    content_dedup = TopicContentDedup(**topic, (*topic)->attributes_);
  }
  FERRY_RETURN_IF_ERROR(ValidateEntryForTopic(
      f, fifo, content_dedup || !topic.ok(), has_structure, &structured));
  FERRY_RETURN_IF_ERROR(topic.status());
  PublishInput in;
  in.message = req.message;
  in.structured = has_structure ? &structured : nullptr;
  in.has_subject = req.subject.has_value();
  if (in.has_subject) in.subject = *req.subject;
  in.attributes = &req.message_attributes;
  if (req.message_group_id.has_value()) in.group_id = *req.message_group_id;
  if (req.message_deduplication_id.has_value()) {
    in.dedup_id = *req.message_deduplication_id;
  }
  PublishOutput out;
  FERRY_RETURN_IF_ERROR(PublishToTopic(**topic, {&in, 1}, {&out, 1}));
  return SnsPublishResult{std::move(out.message_id),
                          std::move(out.sequence_number)};
}

absl::StatusOr<PublishOutput> SnsEngine::PublishNative(
    TopicState& topic, std::string_view message,
    const PublishOptions& options) {
  std::optional<std::string> subject, group, dedup, structure;
  if (!options.subject.empty()) subject = options.subject;
  if (!options.message_group_id.empty()) group = options.message_group_id;
  if (!options.deduplication_id.empty()) dedup = options.deduplication_id;
  EntryFields f{message, &subject, &structure, &options.attributes,
                &dedup,  &group};
  std::map<std::string, std::string> structured;
  bool has_structure = false;
  FERRY_RETURN_IF_ERROR(
      ValidateEntryBasics(f, "messageAttributes", &structured, &has_structure));
  bool content_dedup = false;
  if (topic.fifo()) {
    MutexLock tl(&topic.mu_);
    content_dedup = TopicContentDedup(topic, topic.attributes_);
  }
  FERRY_RETURN_IF_ERROR(ValidateEntryForTopic(f, topic.fifo(), content_dedup,
                                              false, &structured));
  PublishInput in;
  in.message = message;
  in.has_subject = subject.has_value();
  if (in.has_subject) in.subject = *subject;
  in.attributes = &options.attributes;
  in.group_id = options.message_group_id;
  in.dedup_id = options.deduplication_id;
  PublishOutput out;
  FERRY_RETURN_IF_ERROR(PublishToTopic(topic, {&in, 1}, {&out, 1}));
  return out;
}

absl::StatusOr<PublishBatchResult> SnsEngine::PublishBatch(
    const Ctx& ctx, const PublishBatchRequest& req) {
  if (req.topic_arn.empty()) return SnsMissing("topicArn");
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(
      CheckArn(req.topic_arn, "TopicArn", ctx.region, &parts));
  if (req.entries.empty()) {
    return SnsError("EmptyBatchRequest",
                    "The batch request doesn't contain any entries.");
  }
  if (req.entries.size() > 10) {
    return SnsError("TooManyEntriesInBatchRequest",
                    "The batch request contains more entries than "
                    "permissible.");
  }
  std::set<std::string> ids;
  for (const PublishBatchRequestEntry& e : req.entries) {
    if (e.id.size() > 80) {
      return SnsError("InvalidBatchEntryId",
                      absl::StrCat("The Id of a batch entry in the batch "
                                   "request is too long: ",
                                   e.id));
    }
    bool valid =
        !e.id.empty() && std::all_of(e.id.begin(), e.id.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                 c == '-' || c == '_';
        });
    if (!valid) {
      return SnsError("InvalidBatchEntryId",
                      absl::StrCat("The Id of a batch entry in the batch "
                                   "request contains an impermissible "
                                   "character: ",
                                   e.id));
    }
    if (!ids.insert(e.id).second) {
      return SnsError("BatchEntryIdsNotDistinct",
                      "Two or more batch entries in the request have the same "
                      "Id.");
    }
  }
  int64_t total = 0;
  for (size_t i = 0; i < req.entries.size(); ++i) {
    const PublishBatchRequestEntry& e = req.entries[i];
    FERRY_RETURN_IF_ERROR(ValidateSnsAttributes(
        e.message_attributes, absl::StrCat("publishBatchRequestEntries.", i + 1,
                                           ".member.messageAttributes")));
    total += SnsMessageSize(e.message, e.message_attributes);
  }
  if (total > kMaxSnsMessageBytes) {
    return SnsError(
        "BatchRequestTooLong",
        "The length of all the messages put together is more than the limit.");
  }
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> topic,
                         FindTopic(req.topic_arn));
  bool content_dedup = false;
  {
    MutexLock tl(&topic->mu_);
    content_dedup = TopicContentDedup(*topic, topic->attributes_);
  }
  const size_t n = req.entries.size();
  std::vector<std::map<std::string, std::string>> structured(n);
  std::vector<PublishInput> inputs;
  std::vector<size_t> index;
  PublishBatchResult result;
  for (size_t i = 0; i < n; ++i) {
    const PublishBatchRequestEntry& e = req.entries[i];
    EntryFields f{e.message,
                  &e.subject,
                  &e.message_structure,
                  &e.message_attributes,
                  &e.message_deduplication_id,
                  &e.message_group_id};
    bool has_structure = false;
    absl::Status s = ValidateEntryBasics(f, "", &structured[i], &has_structure);
    if (s.ok()) {
      s = ValidateEntryForTopic(f, topic->fifo(), content_dedup, has_structure,
                                &structured[i]);
    }
    if (!s.ok()) {
      BatchResultErrorEntry err;
      err.id = e.id;
      std::optional<AwsErrorInfo> aws = GetAwsError(s);
      err.code = aws ? std::string(aws->query_code) : "InternalError";
      err.sender_fault = aws ? aws->sender_fault : false;
      err.message = std::string(s.message());
      result.failed.push_back(std::move(err));
      continue;
    }
    PublishInput& in = inputs.emplace_back();
    in.message = e.message;
    in.structured = has_structure ? &structured[i] : nullptr;
    in.has_subject = e.subject.has_value();
    if (in.has_subject) in.subject = *e.subject;
    in.attributes = &e.message_attributes;
    if (e.message_group_id.has_value()) in.group_id = *e.message_group_id;
    if (e.message_deduplication_id.has_value()) {
      in.dedup_id = *e.message_deduplication_id;
    }
    index.push_back(i);
  }
  std::vector<PublishOutput> outputs(inputs.size());
  if (!inputs.empty()) {
    FERRY_RETURN_IF_ERROR(PublishToTopic(*topic, inputs, outputs));
  }
  for (size_t k = 0; k < inputs.size(); ++k) {
    result.successful.push_back({req.entries[index[k]].id,
                                 std::move(outputs[k].message_id),
                                 std::move(outputs[k].sequence_number)});
  }
  return result;
}

int SnsEngine::EvaluateQueuePolicy(const Subscription& sub, QueueState& queue) {
  const QueueConfig* config = &queue.config();
  {
    MutexLock lock(&sub.cache_mu);
    if (sub.policy_config == config) return sub.policy_decision;
  }
  int decision = static_cast<int>(internal::EvaluateQueuePolicy(
      config->policy, queue.arn(), sub.topic_arn));
  MutexLock lock(&sub.cache_mu);
  sub.policy_config = config;
  sub.policy_decision = decision;
  return decision;
}

absl::Status SnsEngine::PublishToTopic(TopicState& topic,
                                       std::span<const PublishInput> inputs,
                                       std::span<PublishOutput> outputs) {
  if (topic.deleted()) return TopicNotFound();
  const absl::Time now = engine_->clock().Now();
  if (has_retries_.load(std::memory_order_acquire)) {
    FERRY_RETURN_IF_ERROR(RunDueRetries(now));
  }
  std::shared_ptr<const TopicSnapshot> snap = topic.snapshot();
  const bool sign = signing_.load(std::memory_order_relaxed) && !topic.fifo();
  std::string signature_version;
  std::string content_dedup_flag;
  std::string fifo_scope;
  if (sign || topic.fifo()) {
    MutexLock tl(&topic.mu_);
    auto it = topic.attributes_.find("SignatureVersion");
    signature_version = it != topic.attributes_.end() ? it->second : "1";
    auto sc = topic.attributes_.find("FifoThroughputScope");
    if (sc != topic.attributes_.end()) fifo_scope = sc->second;
  }
  std::string timestamp;  // formatted when an envelope needs it

  // Queue deliveries of every input, appended together.
  absl::InlinedVector<QueueStore::AppendEntry, 16> entries;
  absl::InlinedVector<std::shared_ptr<QueueState>, 16> entry_queues;
  std::vector<std::shared_ptr<Retry>> later;
  std::vector<uint64_t> matched_keys;
  std::vector<const Subscription*> matched;
  // Failed deliveries that go to a dead-letter queue.
  std::vector<std::shared_ptr<Retry>> dead;

  for (size_t i = 0; i < inputs.size(); ++i) {
    const PublishInput& in = inputs[i];
    PublishOutput& out = outputs[i];
    out.message_id = engine_->ids().NewId().ToString();
    std::string dedup_id;
    if (topic.fifo()) {
      dedup_id = in.dedup_id.empty() ? Sha256Hex(in.message)
                                     : std::string(in.dedup_id);
      std::string key = fifo_scope == "MessageGroup"
                            ? absl::StrCat(AsAbsl(in.group_id), "\n", dedup_id)
                            : dedup_id;
      MutexLock fl(&topic.fifo_mu_);
      if (topic.dedup_.size() > 1024) {
        for (auto it = topic.dedup_.begin(); it != topic.dedup_.end();) {
          if (it->second.expires <= now) {
            topic.dedup_.erase(it++);
          } else {
            ++it;
          }
        }
      }
      auto it = topic.dedup_.find(key);
      if (it != topic.dedup_.end() && it->second.expires > now) {
        out.message_id = it->second.message_id;
        out.sequence_number = it->second.sequence_number;
        continue;  // accepted, not delivered again
      }
      uint64_t seq = std::max<uint64_t>(
          topic.last_sequence_ + 1,
          static_cast<uint64_t>(absl::ToUnixMicros(now)) << 12);
      topic.last_sequence_ = seq;
      out.sequence_number = absl::StrFormat("%020u", seq);
      topic.dedup_[key] = {now + kFifoDedupWindow, out.message_id,
                           out.sequence_number};
    }
    topic.counters.published.fetch_add(1, std::memory_order_relaxed);

    matched.clear();
    for (const SubscriptionPtr& s : snap->unfiltered)
      matched.push_back(s.get());
    if (!snap->filtered.empty()) {
      FilterMessage fm(*in.attributes, in.message);
      matched_keys.clear();
      snap->index.Match(fm, &matched_keys);
      for (uint64_t k : matched_keys) {
        auto it = snap->filtered.find(k);
        if (it != snap->filtered.end()) matched.push_back(it->second.get());
      }
    }
    if (matched.empty()) continue;

    // The signature depends only on the message text: one per text.
    std::string last_text_signed;
    std::string last_signature;
    // The raw SQS delivery of this message, built at its first use.
    struct RawDelivery {
      bool built = false;
      std::string_view text;
      SharedString body;
      SharedAttributes attributes;
      absl::StatusOr<int64_t> content;
    } raw;
    for (const Subscription* sub : matched) {
      std::string_view text = in.message;
      if (in.structured != nullptr) {
        auto it = in.structured->find(sub->protocol);
        text = it != in.structured->end() ? it->second
                                          : in.structured->at("default");
      }
      auto envelope = [&](bool lambda) {
        EnvelopeFields f;
        f.type = "Notification";
        f.message_id = out.message_id;
        f.sequence_number = out.sequence_number;
        f.topic_arn = topic.arn();
        f.has_subject = in.has_subject;
        f.subject = in.subject;
        f.message = text;
        if (timestamp.empty()) timestamp = SnsTimestamp(now);
        f.timestamp = timestamp;
        std::string unsubscribe = absl::StrCat(
            "https://sns.", topic.region(),
            ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=", sub->arn);
        f.unsubscribe_url = unsubscribe;
        f.attributes = in.attributes;
        f.lambda_casing = lambda;
        std::string cert_url;
        if (sign) {
          if (last_signature.empty() || last_text_signed != text) {
            last_signature = SignText(CanonicalString(f), signature_version);
            last_text_signed = std::string(text);
          }
          cert_url = SigningCertUrl(topic.region());
          f.signature_version = signature_version;
          f.signature = last_signature;
          f.signing_cert_url = cert_url;
        }
        return BuildEnvelope(f);
      };

      if (sub->protocol == "sqs") {
        std::shared_ptr<QueueState> queue;
        const QueueConfig* cached_config;
        int cached_decision;
        {
          MutexLock lock(&sub->cache_mu);
          queue = sub->queue;
          cached_config = sub->policy_config;
          cached_decision = sub->policy_decision;
        }
        if (queue == nullptr || queue->deleted()) {
          absl::StatusOr<std::shared_ptr<QueueState>> q =
              engine_->FindQueueByArn(sub->endpoint);
          if (q.ok()) {
            queue = *q;
            MutexLock lock(&sub->cache_mu);
            sub->queue = queue;
          } else {
            queue = nullptr;
          }
        }
        // Raw deliveries share one body, one attribute map and one content
        // check per published message; an envelope is per subscription.
        std::string envelope_body;
        if (!sub->raw) envelope_body = envelope(false);
        auto to_dead_letter = [&] {
          if (sub->dead_letter_arn.empty()) return;
          auto r = std::make_shared<Retry>();
          r->topic = topic.shared_from_this();
          r->dead_letter_arn = sub->dead_letter_arn;
          r->dead_letter_body = sub->raw ? std::string(text) : envelope_body;
          if (sub->raw) r->dead_letter_attributes = *in.attributes;
          dead.push_back(std::move(r));
        };
        if (queue == nullptr) {
          topic.counters.failed++;
          to_dead_letter();
          continue;
        }
        const int decision = cached_config == &queue->config()
                                 ? cached_decision
                                 : EvaluateQueuePolicy(*sub, *queue);
        if (decision != static_cast<int>(PolicyDecision::kAllow)) {
          topic.counters.denied++;
          to_dead_letter();
          continue;
        }
        OutgoingMessage m;
        if (sub->raw) {
          if (!raw.built || raw.text.data() != text.data() ||
              raw.text.size() != text.size()) {
            raw.text = text;
            raw.body = text;
            raw.attributes = *in.attributes;
            OutgoingMessage check;
            check.body = text;
            if (!in.attributes->empty()) check.attributes = in.attributes;
            raw.content = ValidateContent(check);
            raw.built = true;
          }
          if (!raw.content.ok()) {
            topic.counters.failed++;
            to_dead_letter();
            continue;
          }
          m.body = text;
          m.shared_body = &raw.body;
          if (!in.attributes->empty()) {
            m.attributes = in.attributes;
            m.shared_attributes = &raw.attributes;
          }
          m.content_size = *raw.content;
        } else {
          m.body = envelope_body;
        }
        if (queue->fifo()) {
          if (topic.fifo()) {
            m.message_group_id = in.group_id;
            m.deduplication_id = dedup_id;
          }
        } else if (!topic.fifo() && !in.group_id.empty()) {
          m.message_group_id = in.group_id;
        }
        QueueStore::AppendEntry& e = entries.emplace_back();
        absl::Status s =
            engine_->PrepareAppend(*queue, m, topic.account(), now, &e);
        if (!s.ok()) {
          entries.pop_back();
          topic.counters.failed++;
          to_dead_letter();
          continue;
        }
        entry_queues.push_back(std::move(queue));
        continue;
      }

      auto r = std::make_shared<Retry>();
      r->topic = topic.shared_from_this();
      r->dead_letter_arn = sub->dead_letter_arn;
      if (sub->protocol == "lambda") {
        r->kind = Retry::Kind::kFunction;
        r->function = FunctionName(sub->endpoint);
        TopicNotification& n = r->notification;
        n.type = "Notification";
        n.message_id = out.message_id;
        n.topic_arn = topic.arn();
        n.subscription_arn = sub->arn;
        n.subject = std::string(in.subject);
        n.message = std::string(text);
        n.timestamp = now;
        for (const auto& [name, v] : *in.attributes) {
          MessageAttributeValue value = v;
          if (!absl::StartsWith(v.data_type, "Binary")) {
            value.data_type = "String";
          }
          n.attributes[name] = std::move(value);
        }
        n.message_group_id = std::string(in.group_id);
        n.sequence_number = out.sequence_number;
        if (!r->dead_letter_arn.empty()) r->dead_letter_body = envelope(true);
        later.push_back(std::move(r));
        continue;
      }
      // email, email-json, sms, application, firehose, http(s): the sink.
      if (sub->protocol == "application") {
        std::string platform;
        absl::StatusOr<bool> enabled =
            EndpointEnabled(sub->endpoint, &platform);
        if (!enabled.ok() || !*enabled) {
          topic.counters.failed++;
          continue;
        }
        if (in.structured != nullptr) {
          auto it = in.structured->find(platform);
          if (it != in.structured->end()) text = it->second;
        }
      }
      if (sub->protocol == "http" || sub->protocol == "https") {
        std::shared_ptr<Retry> h = MakeHttpRetry(
            topic, *sub, "Notification", out.message_id,
            sub->raw ? std::string(text) : envelope(false), sub->raw);
        if (h != nullptr) {
          h->topic = r->topic;
          later.push_back(std::move(h));
          continue;
        }
      }
      r->kind = Retry::Kind::kSink;
      SinkDelivery& d = r->delivery;
      d.protocol = sub->protocol;
      d.endpoint = sub->endpoint;
      d.subscription_arn = sub->arn;
      d.topic_arn = topic.arn();
      d.type = "Notification";
      d.message_id = out.message_id;
      d.subject = std::string(in.subject);
      const bool plain = sub->protocol == "email" || sub->protocol == "sms" ||
                         sub->protocol == "application" || sub->raw;
      d.body = plain ? std::string(text) : envelope(false);
      if (sub->raw || sub->protocol == "application") {
        d.attributes = *in.attributes;
      }
      d.time = now;
      if (!r->dead_letter_arn.empty()) r->dead_letter_body = d.body;
      later.push_back(std::move(r));
    }
  }

  // One atomic append across every destination queue.
  if (!entries.empty()) {
    std::vector<QueueStore::AppendOutcome> outcomes(entries.size());
    absl::Status s = engine_->backend().queues().Append(
        {.entries = {entries.data(), entries.size()},
         .outcomes = {outcomes.data(), outcomes.size()},
         .now = now});
    if (absl::IsNotFound(s)) {
      // A queue was deleted meanwhile: drop its entries and append the rest.
      size_t kept = 0;
      for (size_t k = 0; k < entries.size(); ++k) {
        absl::StatusOr<QueueRecord> rec =
            engine_->backend().queues().GetQueue(entry_queues[k]->arn());
        if (!rec.ok() || rec->id != entry_queues[k]->id()) {
          entry_queues[k]->MarkDeleted();
          topic.counters.failed++;
          continue;
        }
        if (kept != k) {
          entries[kept] = std::move(entries[k]);
          entry_queues[kept] = entry_queues[k];
        }
        ++kept;
      }
      entries.resize(kept);
      entry_queues.resize(kept);
      outcomes.resize(kept);
      s = kept == 0 ? absl::OkStatus()
                    : engine_->backend().queues().Append(
                          {.entries = {entries.data(), kept},
                           .outcomes = {outcomes.data(), kept},
                           .now = now});
    }
    FERRY_RETURN_IF_ERROR(s);
    topic.counters.to_queues.fetch_add(static_cast<int64_t>(entries.size()),
                                       std::memory_order_relaxed);
    // One fence for every destination (see QueueState::Notify).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    QueueState* last = nullptr;
    for (const auto& q : entry_queues) {
      if (q.get() != last) q->NotifyAfterFence();
      last = q.get();
    }
  }
  for (auto& r : dead) DeadLetter(*r);
  for (auto& r : later) Invoke(std::move(r));
  return absl::OkStatus();
}

void SnsEngine::DeliverToSink(SinkDelivery delivery) {
  auto r = std::make_shared<Retry>();
  r->kind = Retry::Kind::kSink;
  r->delivery = std::move(delivery);
  Invoke(std::move(r));
}

std::string SnsEngine::ConfirmationEnvelope(const TopicState& topic,
                                            const Subscription& sub,
                                            std::string_view type,
                                            std::string_view message_id,
                                            std::string_view message,
                                            absl::Time now) const {
  const std::string url = absl::StrCat(
      "https://sns.", topic.region(),
      ".amazonaws.com/?Action=ConfirmSubscription&TopicArn=", topic.arn(),
      "&Token=", sub.token);
  const std::string timestamp = SnsTimestamp(now);
  EnvelopeFields f;
  f.type = type;
  f.message_id = message_id;
  f.token = sub.token;
  f.topic_arn = topic.arn();
  f.message = message;
  f.subscribe_url = url;
  f.timestamp = timestamp;
  std::string signature, cert_url;
  if (signing_.load()) {
    signature = SignText(CanonicalString(f), "1");
    cert_url = SigningCertUrl(topic.region());
    f.signature_version = "1";
    f.signature = signature;
    f.signing_cert_url = cert_url;
  }
  return BuildEnvelope(f);
}

void SnsEngine::SendConfirmation(const TopicState& topic,
                                 const Subscription& sub) {
  const absl::Time now = engine_->clock().Now();
  const std::string message_id = engine_->ids().NewId().ToString();
  const std::string body = ConfirmationEnvelope(
      topic, sub, "SubscriptionConfirmation", message_id,
      absl::StrCat("You have chosen to subscribe to the topic ", topic.arn(),
                   ".\nTo confirm the subscription, visit the SubscribeURL "
                   "included in this message."),
      now);
  if (sub.protocol == "http" || sub.protocol == "https") {
    std::shared_ptr<Retry> h = MakeHttpRetry(
        topic, sub, "SubscriptionConfirmation", message_id, body, false);
    if (h != nullptr) {
      h->confirmation = true;
      Invoke(std::move(h));
      return;
    }
  }
  auto r = std::make_shared<Retry>();
  r->kind = Retry::Kind::kSink;
  r->confirmation = true;
  SinkDelivery& d = r->delivery;
  d.protocol = sub.protocol;
  d.endpoint = sub.endpoint;
  d.subscription_arn = sub.arn;
  d.topic_arn = topic.arn();
  d.type = "SubscriptionConfirmation";
  d.message_id = message_id;
  d.body = body;
  d.token = sub.token;
  d.time = now;
  Invoke(std::move(r));
}

void SnsEngine::SendUnsubscribeConfirmation(const TopicState& topic,
                                            const Subscription& sub) {
  const absl::Time now = engine_->clock().Now();
  const std::string message_id = engine_->ids().NewId().ToString();
  std::shared_ptr<Retry> h = MakeHttpRetry(
      topic, sub, "UnsubscribeConfirmation", message_id,
      ConfirmationEnvelope(
          topic, sub, "UnsubscribeConfirmation", message_id,
          absl::StrCat("You have chosen to deactivate subscription ", sub.arn,
                       ".\nTo cancel this operation and restore the "
                       "subscription, visit the SubscribeURL included in "
                       "this message."),
          now),
      false);
  if (h == nullptr) return;
  h->confirmation = true;
  Invoke(std::move(h));
}

std::shared_ptr<SnsEngine::Retry> SnsEngine::MakeHttpRetry(
    const TopicState& topic, const Subscription& sub, std::string_view type,
    std::string_view message_id, std::string body, bool raw) {
  {
    MutexLock lock(&sink_mu_);
    if (http_ == nullptr) return nullptr;
  }
  // The delivery policy: the subscription's unless the topic disables
  // overrides, else the topic's, else AWS's default.
  std::string topic_policy;
  {
    MutexLock tl(&topic.mu_);
    auto it = topic.attributes_.find("DeliveryPolicy");
    if (it != topic.attributes_.end()) topic_policy = it->second;
  }
  nlohmann::json effective =
      nlohmann::json::parse(EffectiveDeliveryPolicy(topic_policy))["http"];
  nlohmann::json retry_policy = effective["defaultHealthyRetryPolicy"];
  std::string content_type =
      effective["defaultRequestPolicy"].value("headerContentType", "");
  auto own = sub.attributes.find("DeliveryPolicy");
  if (own != sub.attributes.end() &&
      !effective.value("disableSubscriptionOverrides", false)) {
    nlohmann::json j = nlohmann::json::parse(own->second, nullptr, false);
    if (j.is_object()) {
      if (j.contains("healthyRetryPolicy")) {
        for (auto it = j["healthyRetryPolicy"].begin();
             it != j["healthyRetryPolicy"].end(); ++it) {
          retry_policy[it.key()] = it.value();
        }
      }
      if (j.contains("requestPolicy") && j["requestPolicy"].is_object()) {
        content_type =
            j["requestPolicy"].value("headerContentType", content_type);
      }
    }
  }
  auto r = std::make_shared<Retry>();
  r->kind = Retry::Kind::kHttp;
  r->http_policy = ParseHttpRetryPolicy(retry_policy);
  r->dead_letter_arn = sub.dead_letter_arn;
  r->dead_letter_body = body;
  HttpPost& p = r->post;
  p.url = sub.endpoint;
  p.headers = {
      {"Content-Type", content_type},
      {"User-Agent", "Amazon Simple Notification Service Agent"},
      {"Accept-Encoding", "gzip,deflate"},
      {"x-amz-sns-message-type", std::string(type)},
      {"x-amz-sns-message-id", std::string(message_id)},
      {"x-amz-sns-topic-arn", topic.arn()},
  };
  if (type != "SubscriptionConfirmation") {
    p.headers.push_back({"x-amz-sns-subscription-arn", sub.arn});
  }
  if (raw) p.headers.push_back({"x-amz-sns-rawdelivery", "true"});
  p.body = std::move(body);
  r->pending_key = absl::StrCat(AsAbsl(message_id), " ", sub.arn);
  (void)SavePendingHttp(*r, engine_->clock().Now());
  return r;
}

absl::Status SnsEngine::SavePendingHttp(const Retry& r, absl::Time due) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : r.post.headers) headers.push_back({k, v});
  const HttpRetryPolicy& p = r.http_policy;
  nlohmann::json j = {{"topic", r.topic != nullptr ? r.topic->arn() : ""},
                      {"url", r.post.url},
                      {"headers", headers},
                      {"body", r.post.body},
                      {"attempt", r.attempt},
                      {"due", absl::ToUnixNanos(due)},
                      {"confirmation", r.confirmation},
                      {"dlq", r.dead_letter_arn},
                      {"dlq_body", r.dead_letter_body},
                      {"policy",
                       {{"numRetries", p.num_retries},
                        {"numNoDelayRetries", p.no_delay},
                        {"numMinDelayRetries", p.min_delay_retries},
                        {"numMaxDelayRetries", p.max_delay_retries},
                        {"minDelayTarget", p.min_delay},
                        {"maxDelayTarget", p.max_delay},
                        {"backoffFunction", p.backoff}}}};
  return Put(kHttpPendingTable, r.pending_key,
             j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

absl::Status SnsEngine::LoadPendingHttp() {
  std::string after;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(auto page, engine_->backend().kv().Scan(
                                          kHttpPendingTable, "", after, 1000));
    for (auto& [key, entry] : page) {
      nlohmann::json j = nlohmann::json::parse(entry.value, nullptr, false);
      if (!j.is_object()) continue;
      auto r = std::make_shared<Retry>();
      r->kind = Retry::Kind::kHttp;
      r->pending_key = key;
      auto topic = topics_.find(j.value("topic", ""));
      if (topic != topics_.end()) r->topic = topic->second;
      r->post.url = j.value("url", "");
      for (const auto& h : j.value("headers", nlohmann::json::array())) {
        if (h.is_array() && h.size() == 2) {
          r->post.headers.push_back(
              {h[0].get<std::string>(), h[1].get<std::string>()});
        }
      }
      r->post.body = j.value("body", "");
      r->attempt = j.value("attempt", 1);
      r->confirmation = j.value("confirmation", false);
      r->dead_letter_arn = j.value("dlq", "");
      r->dead_letter_body = j.value("dlq_body", "");
      r->http_policy =
          ParseHttpRetryPolicy(j.value("policy", nlohmann::json()));
      MutexLock lock(&retry_mu_);
      retries_.emplace(absl::FromUnixNanos(j.value("due", int64_t{0})),
                       std::move(r));
      has_retries_.store(true, std::memory_order_release);
    }
    if (page.size() < 1000) break;
    after = page.back().first;
  }
  return absl::OkStatus();
}

}  // namespace ferry::internal
