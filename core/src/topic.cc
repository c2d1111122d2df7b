// The native topic handle and the broker's topic methods: thin façades over
// the SNS engine, sharing the AWS-shaped level's validation.
#include "ferry/topic.h"

#include "absl/strings/str_cat.h"
#include "ferry/broker.h"
#include "ferry/sns.h"
#include "sns_engine.h"
#include "sns_rules.h"
#include "status_macros.h"

namespace ferry {
namespace {

const std::string& Empty() {
  static const std::string* empty = new std::string;
  return *empty;
}

absl::Status Invalid() {
  return absl::FailedPreconditionError("invalid Topic handle");
}

AttributeMap ToAttributes(const SubscribeOptions& o) {
  AttributeMap a;
  if (o.raw_message_delivery) a["RawMessageDelivery"] = "true";
  if (!o.filter_policy.empty()) {
    a["FilterPolicy"] = o.filter_policy;
    if (o.filter_policy_on_body) a["FilterPolicyScope"] = "MessageBody";
  }
  return a;
}

}  // namespace

const std::string& Topic::name() const {
  return state_ ? state_->name() : Empty();
}
const std::string& Topic::arn() const {
  return state_ ? state_->arn() : Empty();
}
bool Topic::fifo() const { return state_ && state_->fifo(); }

absl::StatusOr<PublishResult> Topic::Publish(std::string_view message,
                                             const PublishOptions& options) {
  if (!state_) return Invalid();
  FERRY_ASSIGN_OR_RETURN(
      internal::PublishOutput out,
      state_->engine()->PublishNative(*state_, message, options));
  PublishResult r;
  Uuid::Parse(out.message_id, &r.message_id);
  r.sequence_number = std::move(out.sequence_number);
  return r;
}

absl::StatusOr<std::string> Topic::Subscribe(const Queue& queue,
                                             const SubscribeOptions& options) {
  if (!state_) return Invalid();
  if (queue.arn().empty()) {
    return absl::FailedPreconditionError("invalid Queue handle");
  }
  RequestContext ctx;
  ctx.account = state_->account();
  ctx.region = state_->region();
  FERRY_ASSIGN_OR_RETURN(
      SubscribeResult r,
      state_->engine()->Subscribe(ctx, {.topic_arn = state_->arn(),
                                        .protocol = "sqs",
                                        .endpoint = queue.arn(),
                                        .attributes = ToAttributes(options),
                                        .return_subscription_arn = true}));
  return r.subscription_arn;
}

absl::StatusOr<std::string> Topic::SubscribeFunction(
    std::string_view function_name, const SubscribeOptions& options) {
  if (!state_) return Invalid();
  RequestContext ctx;
  ctx.account = state_->account();
  ctx.region = state_->region();
  FERRY_ASSIGN_OR_RETURN(
      SubscribeResult r,
      state_->engine()->Subscribe(
          ctx,
          {.topic_arn = state_->arn(),
           .protocol = "lambda",
           .endpoint = absl::StrCat(
               "arn:aws:lambda:", state_->region(), ":", state_->account(),
               ":function:",
               absl::string_view(function_name.data(), function_name.size())),
           .attributes = ToAttributes(options),
           .return_subscription_arn = true}));
  return r.subscription_arn;
}

absl::Status Topic::Unsubscribe(std::string_view subscription_arn) {
  if (!state_) return Invalid();
  RequestContext ctx;
  ctx.account = state_->account();
  ctx.region = state_->region();
  return state_->engine()->Unsubscribe(ctx, subscription_arn);
}

absl::StatusOr<TopicStats> Topic::Stats() const {
  if (!state_) return Invalid();
  const auto& c = state_->counters;
  TopicStats s;
  s.published = c.published.load();
  s.delivered_to_queues = c.to_queues.load();
  s.delivered_to_functions = c.to_functions.load();
  s.delivered_to_sinks = c.to_sinks.load();
  s.denied_by_queue_policy = c.denied.load();
  s.failed = c.failed.load();
  s.dead_lettered = c.dead_lettered.load();
  return s;
}

// ---- Broker's topic methods
// ------------------------------------------------------

absl::StatusOr<Topic> Broker::CreateTopic(std::string_view name,
                                          const TopicOptions& options) {
  CreateTopicRequest req;
  req.name = std::string(name);
  if (options.fifo) req.attributes["FifoTopic"] = "true";
  if (options.content_based_deduplication) {
    req.attributes["ContentBasedDeduplication"] = "true";
  }
  if (!options.display_name.empty()) {
    req.attributes["DisplayName"] = options.display_name;
  }
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<internal::TopicState> t,
                         sns_->CreateTopic(sns_->DefaultContext(), req));
  return Topic(std::move(t));
}

absl::StatusOr<Topic> Broker::GetTopic(std::string_view name) {
  RequestContext ctx = sns_->DefaultContext();
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<internal::TopicState> t,
      sns_->FindTopic(internal::SnsTopicArn(ctx.region, ctx.account, name)));
  return Topic(std::move(t));
}

absl::Status Broker::DeleteTopic(std::string_view name) {
  RequestContext ctx = sns_->DefaultContext();
  return sns_->DeleteTopic(
      ctx, internal::SnsTopicArn(ctx.region, ctx.account, name));
}

absl::StatusOr<std::vector<std::string>> Broker::ListTopics() {
  RequestContext ctx = sns_->DefaultContext();
  std::vector<std::string> names;
  ListTopicsRequest req;
  do {
    FERRY_ASSIGN_OR_RETURN(ListTopicsResult r, sns_->ListTopics(ctx, req));
    for (const std::string& arn : r.topic_arns) {
      names.push_back(arn.substr(arn.rfind(':') + 1));
    }
    req.next_token = r.next_token;
  } while (!req.next_token.empty());
  return names;
}

absl::Status Broker::RegisterFunction(std::string_view name,
                                      TopicFunction function) {
  return sns_->RegisterFunction(name, std::move(function));
}

Sns& Broker::sns() { return sns_->sns(); }

}  // namespace ferry
