// The SNS catalogue: topics, subscriptions, tags and permissions, with AWS's
// validation (sns.md §1). Records live in the backend's KeyValueStore (one
// table per kind, keyed by ARN) and are cached in memory; delivery is in
// sns_delivery.cc, platform applications in sns_platform.cc.
#include "sns_engine.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "digest.h"
#include "nlohmann/json.hpp"
#include "sns_rules.h"
#include "sqs_names.h"
#include "status_macros.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::string_view kTopicsTable = "sns.topics";
constexpr std::string_view kSubscriptionsTable = "sns.subscriptions";
constexpr size_t kPageSize = 100;
constexpr int kMaxTags = 50;
constexpr size_t kStrictFilterPolicies = 200;

const std::set<std::string, std::less<>>& TopicAttributeNames() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "DeliveryPolicy",
      "DisplayName",
      "Policy",
      "TracingConfig",
      "KmsMasterKeyId",
      "SignatureVersion",
      "ContentBasedDeduplication",
      "FifoThroughputScope",
      "ArchivePolicy",
      "DataProtectionPolicy",
      "HTTPSuccessFeedbackRoleArn",
      "HTTPSuccessFeedbackSampleRate",
      "HTTPFailureFeedbackRoleArn",
      "FirehoseSuccessFeedbackRoleArn",
      "FirehoseSuccessFeedbackSampleRate",
      "FirehoseFailureFeedbackRoleArn",
      "LambdaSuccessFeedbackRoleArn",
      "LambdaSuccessFeedbackSampleRate",
      "LambdaFailureFeedbackRoleArn",
      "ApplicationSuccessFeedbackRoleArn",
      "ApplicationSuccessFeedbackSampleRate",
      "ApplicationFailureFeedbackRoleArn",
      "SQSSuccessFeedbackRoleArn",
      "SQSSuccessFeedbackSampleRate",
      "SQSFailureFeedbackRoleArn"};
  return *names;
}

const std::set<std::string, std::less<>>& SubscriptionAttributeNames() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "DeliveryPolicy",     "FilterPolicy",  "FilterPolicyScope",
      "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn",
      "ReplayPolicy"};
  return *names;
}

const std::set<std::string, std::less<>>& Protocols() {
  static const auto* names = new std::set<std::string, std::less<>>{
      "http", "https",       "email",  "email-json", "sms",
      "sqs",  "application", "lambda", "firehose"};
  return *names;
}

std::string DefaultPolicy(std::string_view topic_arn,
                          std::string_view account) {
  OJson statement = {
      {"Sid", "__default_statement_ID"},
      {"Effect", "Allow"},
      {"Principal", {{"AWS", "*"}}},
      {"Action",
       {"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
        "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
        "SNS:ListSubscriptionsByTopic", "SNS:Publish"}},
      {"Resource", std::string(topic_arn)},
      {"Condition",
       {{"StringEquals", {{"AWS:SourceOwner", std::string(account)}}}}}};
  OJson policy = {{"Version", "2008-10-17"},
                  {"Id", "__default_policy_ID"},
                  {"Statement", OJson::array({statement})}};
  return policy.dump();
}

// Checks one topic attribute value; returns the error or OK.
absl::Status CheckTopicAttribute(const std::string& name,
                                 const std::string& value, bool fifo) {
  if (name == "SignatureVersion" && value != "1" && value != "2") {
    return SnsInvalid("Invalid parameter: SignatureVersion");
  }
  if (name == "TracingConfig" && value != "PassThrough" && value != "Active") {
    return SnsInvalid("Invalid parameter: TracingConfig");
  }
  if ((name == "ContentBasedDeduplication" || name == "FifoThroughputScope" ||
       name == "ArchivePolicy") &&
      !fifo) {
    return SnsInvalid(absl::StrCat("Invalid parameter: ", name));
  }
  if (name == "ContentBasedDeduplication") {
    bool b;
    if (!ParseBool(value, &b)) {
      return SnsInvalid("Invalid parameter: ContentBasedDeduplication");
    }
  }
  if (name == "FifoThroughputScope" && value != "Topic" &&
      value != "MessageGroup") {
    return SnsInvalid("Invalid parameter: FifoThroughputScope");
  }
  if ((name == "DeliveryPolicy" || name == "Policy" ||
       name == "DataProtectionPolicy") &&
      !value.empty()) {
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return SnsInvalid(absl::StrCat("Invalid parameter: ", name,
                                     " Reason: failed to parse JSON."));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTags(const std::vector<SnsTag>& tags) {
  std::set<std::string> seen;
  for (const SnsTag& t : tags) {
    if (!seen.insert(t.key).second) {
      return SnsInvalid("Invalid parameter: Duplicated keys are not allowed.");
    }
    if (t.key.empty() || t.key.size() > 128) {
      return SnsInvalid("Invalid parameter: Tags Reason: Tag key length");
    }
    if (t.value.size() > 256) {
      return SnsInvalid("Invalid parameter: Tags Reason: Tag value length");
    }
  }
  return absl::OkStatus();
}

std::string EncodeToken(std::string_view key) { return Base64Encode(key); }

bool DecodeToken(std::string_view token, std::string* key) {
  return token.empty() || Base64Decode(token, key);
}

}  // namespace

// ---- TopicState
// --------------------------------------------------------------

TopicState::TopicState(SnsEngine* engine, std::string account,
                       std::string region, std::string name, bool fifo)
    : engine_(engine),
      account_(std::move(account)),
      region_(std::move(region)),
      name_(std::move(name)),
      arn_(SnsTopicArn(region_, account_, name_)),
      fifo_(fifo) {
  MutexLock lock(&mu_);
  snapshot_ = std::make_shared<TopicSnapshot>();
}

// ---- SnsEngine
// ---------------------------------------------------------------

SnsEngine::~SnsEngine() = default;

RequestContext SnsEngine::DefaultContext() const {
  RequestContext ctx;
  ctx.account = std::string(engine_->DefaultAccount());
  ctx.region = std::string(engine_->DefaultRegion());
  return ctx;
}

absl::Status SnsEngine::Put(std::string_view table, std::string_view key,
                            std::string_view value) {
  KeyValueStore& kv = engine_->backend().kv();
  for (int attempt = 0; attempt < 16; ++attempt) {
    FERRY_ASSIGN_OR_RETURN(auto old, kv.Get(table, key));
    absl::StatusOr<uint64_t> v =
        kv.CompareAndSwap(table, key, old ? old->version : 0, value);
    if (v.ok()) return absl::OkStatus();
    if (!absl::IsAborted(v.status())) return v.status();
  }
  return absl::AbortedError("SNS record changed concurrently; retry");
}

absl::Status SnsEngine::Erase(std::string_view table, std::string_view key) {
  return engine_->backend().kv().Delete(table, key, 0).status();
}

absl::Status SnsEngine::SaveTopic(TopicState& topic) {
  Json j = {{"v", 1},
            {"account", topic.account()},
            {"region", topic.region()},
            {"name", topic.name()},
            {"fifo", topic.fifo()},
            {"attrs", topic.attributes_},
            {"tags", topic.tags_}};
  return Put(kTopicsTable, topic.arn(), j.dump());
}

absl::Status SnsEngine::SaveSubscription(const Subscription& sub) {
  Json j = {{"v", 1},
            {"topic", sub.topic_arn},
            {"protocol", sub.protocol},
            {"endpoint", sub.endpoint},
            {"owner", sub.owner},
            {"principal", sub.principal},
            {"attrs", sub.attributes},
            {"pending", sub.pending},
            {"auth", sub.authenticated},
            {"token", sub.token}};
  return Put(kSubscriptionsTable, sub.arn, j.dump());
}

absl::StatusOr<SubscriptionPtr> SnsEngine::BuildSubscription(
    const Subscription& base, const StringMap& attributes) {
  auto sub = std::make_shared<Subscription>();
  sub->arn = base.arn;
  sub->topic_arn = base.topic_arn;
  sub->protocol = base.protocol;
  sub->endpoint = base.endpoint;
  sub->owner = base.owner;
  sub->principal = base.principal;
  sub->pending = base.pending;
  sub->authenticated = base.authenticated;
  sub->token = base.token;
  sub->attributes = attributes;
  sub->key = next_key_.fetch_add(1);
  if (auto it = attributes.find("RawMessageDelivery"); it != attributes.end()) {
    ParseBool(it->second, &sub->raw);
  }
  if (auto it = attributes.find("FilterPolicy");
      it != attributes.end() && !it->second.empty()) {
    FilterPolicyScope scope = FilterPolicyScope::kMessageAttributes;
    if (auto s = attributes.find("FilterPolicyScope");
        s != attributes.end() && s->second == "MessageBody") {
      scope = FilterPolicyScope::kMessageBody;
    }
    FERRY_ASSIGN_OR_RETURN(FilterPolicy policy,
                           FilterPolicy::Compile(it->second, scope));
    sub->filter = std::make_shared<const FilterPolicy>(std::move(policy));
  }
  if (auto it = attributes.find("RedrivePolicy");
      it != attributes.end() && !it->second.empty()) {
    Json j = Json::parse(it->second, nullptr, false);
    if (j.is_object() && j.contains("deadLetterTargetArn") &&
        j["deadLetterTargetArn"].is_string()) {
      sub->dead_letter_arn = j["deadLetterTargetArn"].get<std::string>();
    }
  }
  return sub;
}

void SnsEngine::UpdateSnapshot(TopicState& topic,
                               const SubscriptionPtr& removed,
                               const SubscriptionPtr& added) {
  // A copy of the current snapshot with one change: cheaper than a rebuild,
  // which adds every policy to a new index.
  auto snap = std::make_shared<TopicSnapshot>(*topic.snapshot_);
  if (removed != nullptr) {
    if (removed->filter != nullptr) {
      snap->index.Remove(removed->key);
      snap->filtered.erase(removed->key);
    } else {
      auto& u = snap->unfiltered;
      u.erase(std::remove(u.begin(), u.end(), removed), u.end());
    }
  }
  if (added != nullptr && !added->pending) {
    if (added->filter != nullptr) {
      snap->index.Add(added->key, added->filter);
      snap->filtered[added->key] = added;
    } else {
      snap->unfiltered.push_back(added);
    }
  }
  topic.snapshot_ = std::move(snap);
}

void SnsEngine::PublishSnapshot(TopicState& topic) {
  auto snap = std::make_shared<TopicSnapshot>();
  for (const auto& [arn, sub] : topic.subscriptions_) {
    if (sub->pending) continue;
    if (sub->filter != nullptr) {
      snap->index.Add(sub->key, sub->filter);
      snap->filtered[sub->key] = sub;
    } else {
      snap->unfiltered.push_back(sub);
    }
  }
  topic.snapshot_ = std::move(snap);
}

absl::Status SnsEngine::EnsureLoaded() {
  MutexLock lock(&mu_);
  if (loaded_) return absl::OkStatus();
  return LoadLocked();
}

absl::Status SnsEngine::LoadLocked() {
  KeyValueStore& kv = engine_->backend().kv();
  topics_.clear();
  std::string after;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(auto page, kv.Scan(kTopicsTable, "", after, 1000));
    for (auto& [key, entry] : page) {
      Json j = Json::parse(entry.value, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return absl::DataLossError(absl::StrCat("bad SNS topic record ", key));
      }
      auto topic = std::make_shared<TopicState>(
          this, j.value("account", ""), j.value("region", ""),
          j.value("name", ""), j.value("fifo", false));
      MutexLock tl(&topic->mu_);
      topic->attributes_ = j.value("attrs", StringMap{});
      topic->tags_ = j.value("tags", std::map<std::string, std::string>{});
      topics_[topic->arn()] = topic;
    }
    if (page.size() < 1000) break;
    after = page.back().first;
  }
  after.clear();
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(auto page,
                           kv.Scan(kSubscriptionsTable, "", after, 1000));
    for (auto& [key, entry] : page) {
      Json j = Json::parse(entry.value, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return absl::DataLossError(
            absl::StrCat("bad SNS subscription record ", key));
      }
      auto it = topics_.find(j.value("topic", ""));
      if (it == topics_.end()) continue;
      Subscription base;
      base.arn = key;
      base.topic_arn = it->first;
      base.protocol = j.value("protocol", "");
      base.endpoint = j.value("endpoint", "");
      base.owner = j.value("owner", "");
      base.principal = j.value("principal", "");
      base.pending = j.value("pending", false);
      base.authenticated = j.value("auth", true);
      base.token = j.value("token", "");
      absl::StatusOr<SubscriptionPtr> sub =
          BuildSubscription(base, j.value("attrs", StringMap{}));
      if (!sub.ok()) {
        engine_->Log(LogSeverity::kWarning,
                     absl::StrCat("SNS subscription ", key,
                                  " not loaded: ", sub.status().ToString()));
        continue;
      }
      MutexLock tl(&it->second->mu_);
      it->second->subscriptions_[key] = *std::move(sub);
    }
    if (page.size() < 1000) break;
    after = page.back().first;
  }
  for (auto& [arn, topic] : topics_) {
    MutexLock tl(&topic->mu_);
    PublishSnapshot(*topic);
  }
  FERRY_RETURN_IF_ERROR(LoadPendingHttp());
  loaded_ = true;
  return absl::OkStatus();
}

void SnsEngine::ForgetCache() {
  MutexLock lock(&mu_);
  for (auto& [arn, topic] : topics_) {
    topic->deleted_.store(true, std::memory_order_release);
  }
  topics_.clear();
  loaded_ = false;
  MutexLock rl(&retry_mu_);
  retries_.clear();
  has_retries_.store(false);
}

absl::StatusOr<std::shared_ptr<TopicState>> SnsEngine::FindTopic(
    std::string_view arn) {
  FERRY_RETURN_IF_ERROR(EnsureLoaded());
  MutexLock lock(&mu_);
  auto it = topics_.find(AsAbsl(arn));
  if (it == topics_.end()) return TopicNotFound();
  return it->second;
}

absl::StatusOr<std::shared_ptr<TopicState>> SnsEngine::ResolveTopic(
    const Ctx& ctx, std::string_view arn, std::string_view param) {
  if (arn.empty()) {
    std::string path(param);
    path[0] = absl::ascii_tolower(static_cast<unsigned char>(path[0]));
    return SnsMissing(path);
  }
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(CheckArn(arn, param, ctx.region, &parts));
  return FindTopic(arn);
}

// ---- Topics
// ------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<TopicState>> SnsEngine::CreateTopic(
    const Ctx& ctx, const CreateTopicRequest& req) {
  FERRY_RETURN_IF_ERROR(EnsureLoaded());
  bool fifo = false;
  StringMap attributes;
  for (const auto& [name, value] : req.attributes) {
    if (name == "FifoTopic") {
      if (!ParseBool(value, &fifo)) {
        return SnsInvalid("Invalid parameter: FifoTopic");
      }
      continue;  // "false" is not stored
    }
    if (TopicAttributeNames().count(name) == 0) {
      return SnsInvalid("Invalid parameter: AttributeName");
    }
    attributes[name] = value;
  }
  if (!IsValidTopicName(req.name, fifo)) {
    return SnsInvalid("Invalid parameter: Topic Name");
  }
  for (const auto& [name, value] : attributes) {
    FERRY_RETURN_IF_ERROR(CheckTopicAttribute(name, value, fifo));
  }
  FERRY_RETURN_IF_ERROR(ValidateTags(req.tags));
  if (req.tags.size() > kMaxTags) {
    return SnsError("TagLimitExceeded",
                    "Could not complete request: tag quota of per resource "
                    "exceeded");
  }
  if (fifo && attributes.count("ContentBasedDeduplication") == 0) {
    attributes["ContentBasedDeduplication"] = "false";
  }
  const std::string arn = SnsTopicArn(ctx.region, ctx.account, req.name);
  std::shared_ptr<TopicState> topic;
  {
    MutexLock lock(&mu_);
    auto it = topics_.find(arn);
    if (it != topics_.end()) {
      std::shared_ptr<TopicState> existing = it->second;
      MutexLock tl(&existing->mu_);
      for (const auto& [name, value] : req.attributes) {
        if (name == "FifoTopic") continue;
        auto a = existing->attributes_.find(name);
        if (a == existing->attributes_.end() || a->second != value) {
          return SnsInvalid(
              "Invalid parameter: Attributes Reason: Topic already exists "
              "with different attributes");
        }
      }
      for (const SnsTag& t : req.tags) {
        auto a = existing->tags_.find(t.key);
        if (a == existing->tags_.end() || a->second != t.value) {
          return SnsInvalid(
              "Invalid parameter: Tags Reason: Topic already exists with "
              "different tags");
        }
      }
      return existing;
    }
    if (engine_->options().strict.enabled) {
      size_t fifo_count = 0, total = 0;
      for (const auto& [a, t] : topics_) {
        if (t->account() != ctx.account) continue;
        ++total;
        if (t->fifo()) ++fifo_count;
      }
      if ((fifo && fifo_count >= 1000) || (!fifo && total >= 100000)) {
        return SnsError("TopicLimitExceeded", "Topic limit exceeded");
      }
    }
    topic = std::make_shared<TopicState>(this, ctx.account, ctx.region,
                                         req.name, fifo);
    MutexLock tl(&topic->mu_);
    topic->attributes_ = std::move(attributes);
    for (const SnsTag& t : req.tags) topic->tags_[t.key] = t.value;
    FERRY_RETURN_IF_ERROR(SaveTopic(*topic));
    topics_[arn] = topic;
  }
  engine_->Log(LogSeverity::kInfo, absl::StrCat("created topic ", arn));
  return topic;
}

absl::Status SnsEngine::DeleteTopic(const Ctx& ctx, std::string_view arn) {
  absl::StatusOr<std::shared_ptr<TopicState>> topic =
      ResolveTopic(ctx, arn, "TopicArn");
  if (!topic.ok()) {
    if (absl::IsNotFound(topic.status())) return absl::OkStatus();
    return topic.status();
  }
  std::vector<std::string> subs;
  {
    MutexLock tl(&(*topic)->mu_);
    for (const auto& [sub_arn, sub] : (*topic)->subscriptions_) {
      subs.push_back(sub_arn);
    }
    (*topic)->subscriptions_.clear();
    PublishSnapshot(**topic);
    (*topic)->deleted_.store(true, std::memory_order_release);
  }
  for (const std::string& s : subs) {
    FERRY_RETURN_IF_ERROR(Erase(kSubscriptionsTable, s));
  }
  FERRY_RETURN_IF_ERROR(Erase(kTopicsTable, (*topic)->arn()));
  {
    MutexLock lock(&mu_);
    auto it = topics_.find((*topic)->arn());
    if (it != topics_.end() && it->second == *topic) topics_.erase(it);
  }
  engine_->Log(LogSeverity::kInfo,
               absl::StrCat("deleted topic ", (*topic)->arn()));
  return absl::OkStatus();
}

absl::StatusOr<ListTopicsResult> SnsEngine::ListTopics(
    const Ctx& ctx, const ListTopicsRequest& req) {
  FERRY_RETURN_IF_ERROR(EnsureLoaded());
  std::string after;
  if (!DecodeToken(req.next_token, &after)) {
    return SnsInvalid("Invalid parameter: NextToken");
  }
  FERRY_ASSIGN_OR_RETURN(
      auto page, engine_->backend().kv().Scan(
                     kTopicsTable, SnsArnPrefix(ctx.region, ctx.account), after,
                     kPageSize + 1));
  ListTopicsResult result;
  for (size_t i = 0; i < page.size() && i < kPageSize; ++i) {
    result.topic_arns.push_back(page[i].first);
  }
  if (page.size() > kPageSize) {
    result.next_token = EncodeToken(result.topic_arns.back());
  }
  return result;
}

absl::StatusOr<GetTopicAttributesResult> SnsEngine::GetTopicAttributes(
    const Ctx& ctx, const GetTopicAttributesRequest& req) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> topic,
                         ResolveTopic(ctx, req.topic_arn, "TopicArn"));
  GetTopicAttributesResult result;
  AttributeMap& a = result.attributes;
  MutexLock tl(&topic->mu_);
  int64_t confirmed = 0, pending = 0;
  for (const auto& [arn, sub] : topic->subscriptions_) {
    (sub->pending ? pending : confirmed)++;
  }
  for (const auto& [name, value] : topic->attributes_) a[name] = value;
  a["DisplayName"] = topic->attributes_.count("DisplayName")
                         ? topic->attributes_.at("DisplayName")
                         : "";
  a["Owner"] = topic->account();
  a["TopicArn"] = topic->arn();
  a["SubscriptionsConfirmed"] = std::to_string(confirmed);
  a["SubscriptionsPending"] = std::to_string(pending);
  a["SubscriptionsDeleted"] = std::to_string(topic->subscriptions_deleted_);
  auto policy = topic->attributes_.find("Policy");
  a["Policy"] = policy != topic->attributes_.end() && !policy->second.empty()
                    ? policy->second
                    : DefaultPolicy(topic->arn(), topic->account());
  auto dp = topic->attributes_.find("DeliveryPolicy");
  a["EffectiveDeliveryPolicy"] =
      EffectiveDeliveryPolicy(dp != topic->attributes_.end() ? dp->second : "");
  if (topic->fifo()) a["FifoTopic"] = "true";
  return result;
}

absl::Status SnsEngine::SetTopicAttributes(
    const Ctx& ctx, const SetTopicAttributesRequest& req) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> topic,
                         ResolveTopic(ctx, req.topic_arn, "TopicArn"));
  if (TopicAttributeNames().count(req.attribute_name) == 0) {
    return SnsInvalid("Invalid parameter: AttributeName");
  }
  FERRY_RETURN_IF_ERROR(CheckTopicAttribute(
      req.attribute_name, req.attribute_value, topic->fifo()));
  MutexLock tl(&topic->mu_);
  StringMap before = topic->attributes_;
  if (req.attribute_value.empty() && (req.attribute_name == "DeliveryPolicy" ||
                                      req.attribute_name == "Policy")) {
    topic->attributes_.erase(req.attribute_name);
  } else {
    topic->attributes_[req.attribute_name] = req.attribute_value;
  }
  absl::Status s = SaveTopic(*topic);
  if (!s.ok()) topic->attributes_ = std::move(before);
  return s;
}

// ---- Tags and permissions
// ------------------------------------------------------

absl::Status SnsEngine::TagResource(const Ctx& ctx,
                                    const TagResourceRequest& req) {
  absl::StatusOr<std::shared_ptr<TopicState>> topic =
      ResolveTopic(ctx, req.resource_arn, "ResourceArn");
  if (absl::IsNotFound(topic.status())) {
    return SnsError("ResourceNotFound", "Resource does not exist");
  }
  FERRY_RETURN_IF_ERROR(topic.status());
  FERRY_RETURN_IF_ERROR(ValidateTags(req.tags));
  MutexLock tl(&(*topic)->mu_);
  auto tags = (*topic)->tags_;
  for (const SnsTag& t : req.tags) tags[t.key] = t.value;
  if (tags.size() > kMaxTags) {
    return SnsError("TagLimitExceeded",
                    "Could not complete request: tag quota of per resource "
                    "exceeded");
  }
  std::swap(tags, (*topic)->tags_);
  absl::Status s = SaveTopic(**topic);
  if (!s.ok()) std::swap(tags, (*topic)->tags_);
  return s;
}

absl::Status SnsEngine::UntagResource(const Ctx& ctx,
                                      const UntagResourceRequest& req) {
  absl::StatusOr<std::shared_ptr<TopicState>> topic =
      ResolveTopic(ctx, req.resource_arn, "ResourceArn");
  if (absl::IsNotFound(topic.status())) {
    return SnsError("ResourceNotFound", "Resource does not exist");
  }
  FERRY_RETURN_IF_ERROR(topic.status());
  MutexLock tl(&(*topic)->mu_);
  for (const std::string& k : req.tag_keys) (*topic)->tags_.erase(k);
  return SaveTopic(**topic);
}

absl::StatusOr<ListTagsForResourceResult> SnsEngine::ListTagsForResource(
    const Ctx& ctx, std::string_view arn) {
  absl::StatusOr<std::shared_ptr<TopicState>> topic =
      ResolveTopic(ctx, arn, "ResourceArn");
  if (absl::IsNotFound(topic.status())) {
    return SnsError("ResourceNotFound", "Resource does not exist");
  }
  FERRY_RETURN_IF_ERROR(topic.status());
  ListTagsForResourceResult result;
  MutexLock tl(&(*topic)->mu_);
  for (const auto& [k, v] : (*topic)->tags_) result.tags.push_back({k, v});
  return result;
}

absl::Status SnsEngine::AddPermission(const Ctx& ctx,
                                      const SnsAddPermissionRequest& req) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> topic,
                         ResolveTopic(ctx, req.topic_arn, "TopicArn"));
  if (req.label.empty()) return SnsMissing("label");
  if (req.aws_account_ids.empty()) return SnsMissing("aWSAccountId");
  if (req.action_names.empty()) return SnsMissing("actionName");
  static const std::set<std::string, std::less<>> kActions = {
      "GetTopicAttributes",
      "SetTopicAttributes",
      "AddPermission",
      "RemovePermission",
      "DeleteTopic",
      "Subscribe",
      "ListSubscriptionsByTopic",
      "Publish",
      "Receive"};
  OJson actions = OJson::array();
  for (const std::string& a : req.action_names) {
    if (kActions.count(a) == 0) {
      return SnsInvalid(
          "Invalid parameter: Policy statement action out of service scope!");
    }
    actions.push_back("SNS:" + a);
  }
  OJson principals = OJson::array();
  for (const std::string& id : req.aws_account_ids) {
    principals.push_back(absl::StrCat("arn:aws:iam::", id, ":root"));
  }
  MutexLock tl(&topic->mu_);
  auto current = topic->attributes_.find("Policy");
  std::string text =
      current != topic->attributes_.end() && !current->second.empty()
          ? current->second
          : DefaultPolicy(topic->arn(), topic->account());
  OJson policy = OJson::parse(text, nullptr, false);
  if (policy.is_discarded() || !policy.is_object()) {
    policy = OJson::parse(DefaultPolicy(topic->arn(), topic->account()));
  }
  if (!policy.contains("Statement") || !policy["Statement"].is_array()) {
    policy["Statement"] = OJson::array();
  }
  for (const OJson& st : policy["Statement"]) {
    if (st.is_object() && st.value("Sid", "") == req.label) {
      return SnsInvalid("Invalid parameter: Statement already exists");
    }
  }
  OJson st = {{"Sid", req.label},
              {"Effect", "Allow"},
              {"Principal",
               {{"AWS", principals.size() == 1 ? principals[0] : principals}}},
              {"Action", actions.size() == 1 ? actions[0] : actions},
              {"Resource", topic->arn()}};
  policy["Statement"].push_back(std::move(st));
  StringMap before = topic->attributes_;
  topic->attributes_["Policy"] = policy.dump();
  absl::Status s = SaveTopic(*topic);
  if (!s.ok()) topic->attributes_ = std::move(before);
  return s;
}

absl::Status SnsEngine::RemovePermission(
    const Ctx& ctx, const SnsRemovePermissionRequest& req) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> topic,
                         ResolveTopic(ctx, req.topic_arn, "TopicArn"));
  if (req.label.empty()) return SnsMissing("label");
  MutexLock tl(&topic->mu_);
  auto current = topic->attributes_.find("Policy");
  if (current == topic->attributes_.end()) return absl::OkStatus();
  OJson policy = OJson::parse(current->second, nullptr, false);
  if (policy.is_discarded() || !policy.is_object() ||
      !policy.contains("Statement") || !policy["Statement"].is_array()) {
    return absl::OkStatus();
  }
  OJson kept = OJson::array();
  for (const OJson& st : policy["Statement"]) {
    if (!(st.is_object() && st.value("Sid", "") == req.label)) {
      kept.push_back(st);
    }
  }
  policy["Statement"] = kept;
  StringMap before = topic->attributes_;
  topic->attributes_["Policy"] = policy.dump();
  absl::Status s = SaveTopic(*topic);
  if (!s.ok()) topic->attributes_ = std::move(before);
  return s;
}

// ---- Subscriptions
// -------------------------------------------------------------

namespace {

// The reason text of an invalid subscription attribute (without the
// operation's prefix), or "" when it is valid. FilterPolicy is checked by
// compiling it.
std::string SubscriptionAttributeError(const std::string& name,
                                       const std::string& value,
                                       const std::string& protocol,
                                       bool topic_fifo, bool queue_fifo) {
  if (name == "RawMessageDelivery") {
    bool b;
    if (!ParseBool(value, &b)) {
      return absl::StrCat("RawMessageDelivery: Invalid value [", value,
                          "]. Must be true or false.");
    }
    if (b && protocol != "sqs" && protocol != "http" && protocol != "https" &&
        protocol != "firehose") {
      return absl::StrCat("Delivery protocol [", protocol,
                          "] does not support raw message delivery.");
    }
  }
  if (name == "FilterPolicyScope" && value != "MessageBody" &&
      value != "MessageAttributes") {
    return absl::StrCat("FilterPolicyScope: Invalid value [", value,
                        "]. Please use either MessageBody or "
                        "MessageAttributes");
  }
  if (name == "DeliveryPolicy" && !value.empty()) {
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return "DeliveryPolicy: failed to parse JSON.";
    }
  }
  if (name == "RedrivePolicy" && !value.empty()) {
    Json j = Json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return "RedrivePolicy: failed to parse JSON.";
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "deadLetterTargetArn") {
        return absl::StrCat("RedrivePolicy: invalid JSON. Attribute ", it.key(),
                            " is unknown.");
      }
    }
    std::string arn = j.value("deadLetterTargetArn", "");
    std::vector<std::string_view> parts = SplitArn(arn);
    if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sqs" ||
        parts[5].empty()) {
      return "RedrivePolicy: deadLetterTargetArn is an invalid arn";
    }
    if (topic_fifo && queue_fifo &&
        !absl::EndsWith(AsAbsl(parts[5]), ".fifo")) {
      return "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
             "Subscription to a FIFO Topic.";
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<SubscribeResult> SnsEngine::Subscribe(
    const Ctx& ctx, const SubscribeRequest& req) {
  if (req.topic_arn.empty()) return SnsMissing("topicArn");
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(
      CheckArn(req.topic_arn, "TopicArn", ctx.region, &parts));
  if (req.protocol.empty()) return SnsMissing("protocol");
  const std::string& protocol = req.protocol;
  if (Protocols().count(protocol) == 0) {
    return SnsInvalid(absl::StrCat(
        "Invalid parameter: Amazon SNS does not support this protocol string: ",
        protocol));
  }
  const std::string& endpoint = req.endpoint;
  bool queue_fifo = false;
  if (protocol == "http" || protocol == "https") {
    if (!absl::StartsWith(endpoint, protocol + "://")) {
      return SnsInvalid(
          "Invalid parameter: Endpoint must match the specified protocol");
    }
  } else if (protocol == "sqs") {
    QueueName q;
    if (!ParseQueueArn(endpoint, &q)) {
      return SnsInvalid("Invalid parameter: SQS endpoint ARN");
    }
    queue_fifo = absl::EndsWith(q.name, ".fifo");
  } else if (protocol == "sms") {
    if (!IsValidPhoneNumber(endpoint)) {
      return SnsInvalid(absl::StrCat("Invalid SMS endpoint: ", endpoint));
    }
  } else if (protocol == "email" || protocol == "email-json") {
    size_t at = endpoint.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == endpoint.size()) {
      return SnsInvalid("Invalid parameter: Email address");
    }
  } else if (protocol == "lambda") {
    std::vector<std::string_view> lp = SplitArn(endpoint);
    if (lp.size() < 7 || lp[0] != "arn" || lp[2] != "lambda" ||
        lp[5] != "function" || lp[6].empty()) {
      return SnsInvalid("Invalid parameter: Lambda endpoint ARN");
    }
  } else if (protocol == "application") {
    std::vector<std::string_view> ap = SplitArn(endpoint);
    if (ap.size() != 6 || ap[2] != "sns" ||
        !absl::StartsWith(AsAbsl(ap[5]), "endpoint/")) {
      return SnsInvalid("Invalid parameter: Application endpoint arn");
    }
  } else if (protocol == "firehose") {
    if (req.attributes.count("SubscriptionRoleArn") == 0) {
      return SnsInvalid(
          "Invalid parameter: Invalid parameter: SubscriptionRoleArn Reason: "
          "SubscriptionRoleArn is required for firehose subscriptions");
    }
  }
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> topic,
                         FindTopic(req.topic_arn));
  if (topic->fifo() && protocol != "sqs") {
    return SnsInvalid(
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO topics "
        "support only SQS endpoints");
  }
  if (protocol == "sqs" && !topic->fifo() && queue_fifo) {
    return SnsInvalid(
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS "
        "Queues can not be subscribed to standard SNS topics");
  }
  StringMap attributes;
  for (const auto& [name, value] : req.attributes) {
    if (SubscriptionAttributeNames().count(name) == 0) {
      return SnsInvalid(absl::StrCat(
          "Invalid parameter: Attributes Reason: Unknown attribute ", name));
    }
    std::string reason = SubscriptionAttributeError(name, value, protocol,
                                                    topic->fifo(), queue_fifo);
    if (!reason.empty()) {
      return SnsInvalid(
          absl::StrCat("Invalid parameter: Attributes Reason: ", reason));
    }
    if (value.empty() && (name == "FilterPolicy" || name == "RedrivePolicy" ||
                          name == "DeliveryPolicy")) {
      continue;
    }
    attributes[name] = value;
  }

  Subscription base;
  base.topic_arn = topic->arn();
  base.protocol = protocol;
  base.endpoint = endpoint;
  base.owner = ctx.account;
  base.principal =
      absl::StrCat("arn:aws:iam::", ctx.account, ":",
                   ctx.caller.empty() ? std::string("root")
                                      : absl::StrCat("user/", ctx.caller));
  base.pending = protocol == "email" || protocol == "email-json" ||
                 protocol == "http" || protocol == "https";
  base.authenticated = !base.pending;
  if (base.pending) {
    IdSource& ids = engine_->ids();
    for (int i = 0; i < 8; ++i) {
      absl::StrAppend(&base.token,
                      absl::Hex(ids.NewRandom(), absl::kZeroPad16));
    }
  }

  SubscriptionPtr sub;
  {
    MutexLock tl(&topic->mu_);
    if (topic->deleted()) return TopicNotFound();
    for (const auto& [arn, existing] : topic->subscriptions_) {
      if (existing->protocol != protocol || existing->endpoint != endpoint) {
        continue;
      }
      for (const auto& [name, value] : req.attributes) {
        auto a = existing->attributes.find(name);
        std::string current = a != existing->attributes.end() ? a->second : "";
        if (name == "RawMessageDelivery" && current.empty()) current = "false";
        if (absl::AsciiStrToLower(current) != absl::AsciiStrToLower(value) ||
            (name != "RawMessageDelivery" && current != value)) {
          return SnsInvalid(
              "Invalid parameter: Attributes Reason: Subscription already "
              "exists with different attributes");
        }
      }
      SubscribeResult result;
      result.subscription_arn =
          existing->pending && !req.return_subscription_arn
              ? "pending confirmation"
              : existing->arn;
      return result;
    }
    if (engine_->options().strict.enabled) {
      if (attributes.count("FilterPolicy") != 0) {
        size_t filtered = 0;
        for (const auto& [arn, s] : topic->subscriptions_) {
          if (s->filter != nullptr) ++filtered;
        }
        if (filtered >= kStrictFilterPolicies) {
          return SnsError("FilterPolicyLimitExceeded",
                          "Filter policy limit exceeded");
        }
      }
      if (topic->fifo() && topic->subscriptions_.size() >= 100) {
        return SnsError("SubscriptionLimitExceeded",
                        "Subscription limit exceeded");
      }
    }
    base.arn =
        absl::StrCat(topic->arn(), ":", engine_->ids().NewId().ToString());
    absl::StatusOr<SubscriptionPtr> built = BuildSubscription(base, attributes);
    if (!built.ok()) {
      return SnsInvalid(absl::StrCat("Invalid parameter: Attributes Reason: ",
                                     built.status().message()));
    }
    sub = *std::move(built);
    FERRY_RETURN_IF_ERROR(SaveSubscription(*sub));
    topic->subscriptions_[sub->arn] = sub;
    UpdateSnapshot(*topic, nullptr, sub);
  }
  if (sub->pending) SendConfirmation(*topic, *sub);
  SubscribeResult result;
  result.subscription_arn = sub->pending && !req.return_subscription_arn
                                ? "pending confirmation"
                                : sub->arn;
  return result;
}

absl::StatusOr<SubscriptionPtr> SnsEngine::FindSubscription(
    std::string_view arn, std::shared_ptr<TopicState>* topic) {
  std::vector<std::string_view> parts = SplitArn(arn);
  if (parts.size() < 7) return SubscriptionNotFound();
  std::string topic_arn(arn.substr(0, arn.rfind(':')));
  absl::StatusOr<std::shared_ptr<TopicState>> t = FindTopic(topic_arn);
  if (!t.ok()) {
    if (absl::IsNotFound(t.status())) return SubscriptionNotFound();
    return t.status();
  }
  MutexLock tl(&(*t)->mu_);
  auto it = (*t)->subscriptions_.find(std::string(arn));
  if (it == (*t)->subscriptions_.end()) return SubscriptionNotFound();
  *topic = *t;
  return it->second;
}

namespace {

absl::Status CheckSubscriptionArn(std::string_view arn,
                                  std::string_view region) {
  if (arn.empty()) {
    return SnsInvalid(
        "Invalid parameter: SubscriptionArn Reason: no value for required "
        "parameter");
  }
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(CheckArn(arn, "SubscriptionArn", region, &parts));
  if (parts.size() < 7 || parts[6].empty()) {
    return SnsInvalid("Invalid parameter: SubscriptionId");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ConfirmSubscriptionResult> SnsEngine::ConfirmSubscription(
    const Ctx& ctx, const ConfirmSubscriptionRequest& req) {
  if (req.topic_arn.empty()) return SnsMissing("topicArn");
  if (req.token.empty()) return SnsMissing("token");
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(CheckArn(req.topic_arn, "Topic", ctx.region, &parts));
  bool hex = std::all_of(req.token.begin(), req.token.end(), [](char c) {
    return absl::ascii_isxdigit(static_cast<unsigned char>(c));
  });
  if (!hex || req.token.size() < 16) return SnsInvalid("Invalid token");
  absl::StatusOr<std::shared_ptr<TopicState>> topic = FindTopic(req.topic_arn);
  if (!topic.ok()) {
    if (absl::IsNotFound(topic.status())) {
      return SnsInvalid("Invalid parameter: Token");
    }
    return topic.status();
  }
  bool authenticate = false;
  if (req.authenticate_on_unsubscribe.has_value()) {
    ParseBool(*req.authenticate_on_unsubscribe, &authenticate);
  }
  MutexLock tl(&(*topic)->mu_);
  for (auto& [arn, sub] : (*topic)->subscriptions_) {
    if (sub->token != req.token) continue;
    if (sub->pending) {
      Subscription base;
      base.arn = sub->arn;
      base.topic_arn = sub->topic_arn;
      base.protocol = sub->protocol;
      base.endpoint = sub->endpoint;
      base.owner = sub->owner;
      base.principal = sub->principal;
      base.pending = false;
      base.authenticated = authenticate;
      base.token = sub->token;
      FERRY_ASSIGN_OR_RETURN(SubscriptionPtr confirmed,
                             BuildSubscription(base, sub->attributes));
      FERRY_RETURN_IF_ERROR(SaveSubscription(*confirmed));
      sub = confirmed;
      UpdateSnapshot(**topic, nullptr, confirmed);
    }
    return ConfirmSubscriptionResult{sub->arn};
  }
  return SnsInvalid("Invalid parameter: Token");
}

absl::Status SnsEngine::Unsubscribe(const Ctx& ctx, std::string_view arn) {
  FERRY_RETURN_IF_ERROR(CheckSubscriptionArn(arn, ctx.region));
  std::shared_ptr<TopicState> topic;
  absl::StatusOr<SubscriptionPtr> sub = FindSubscription(arn, &topic);
  if (absl::IsNotFound(sub.status())) return absl::OkStatus();
  FERRY_RETURN_IF_ERROR(sub.status());
  {
    MutexLock tl(&topic->mu_);
    auto it = topic->subscriptions_.find(std::string(arn));
    if (it == topic->subscriptions_.end()) return absl::OkStatus();
    SubscriptionPtr removed = it->second;
    topic->subscriptions_.erase(it);
    ++topic->subscriptions_deleted_;
    UpdateSnapshot(*topic, removed, nullptr);
  }
  FERRY_RETURN_IF_ERROR(Erase(kSubscriptionsTable, arn));
  const Subscription& gone = **sub;
  if (!gone.pending && (gone.protocol == "http" || gone.protocol == "https")) {
    SendUnsubscribeConfirmation(*topic, gone);
  }
  return absl::OkStatus();
}

absl::StatusOr<ListSubscriptionsResult> SnsEngine::ListSubscriptions(
    const Ctx& ctx, std::string_view topic_arn, bool by_topic,
    std::string_view next_token) {
  std::vector<std::shared_ptr<TopicState>> topics;
  if (by_topic) {
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<TopicState> t,
                           ResolveTopic(ctx, topic_arn, "TopicArn"));
    topics.push_back(std::move(t));
  } else {
    FERRY_RETURN_IF_ERROR(EnsureLoaded());
    MutexLock lock(&mu_);
    for (const auto& [arn, t] : topics_) {
      if (t->account() == ctx.account && t->region() == ctx.region) {
        topics.push_back(t);
      }
    }
  }
  std::string after;
  if (!DecodeToken(next_token, &after)) {
    return SnsInvalid("Invalid parameter: NextToken");
  }
  std::vector<SubscriptionPtr> subs;
  for (const auto& t : topics) {
    MutexLock tl(&t->mu_);
    for (const auto& [arn, s] : t->subscriptions_) {
      if (arn > after) subs.push_back(s);
    }
  }
  std::sort(subs.begin(), subs.end(),
            [](const SubscriptionPtr& a, const SubscriptionPtr& b) {
              return a->arn < b->arn;
            });
  ListSubscriptionsResult result;
  for (size_t i = 0; i < subs.size() && i < kPageSize; ++i) {
    const Subscription& s = *subs[i];
    result.subscriptions.push_back({s.pending ? "PendingConfirmation" : s.arn,
                                    s.owner, s.protocol, s.endpoint,
                                    s.topic_arn});
  }
  if (subs.size() > kPageSize) {
    result.next_token = EncodeToken(subs[kPageSize - 1]->arn);
  }
  return result;
}

absl::StatusOr<GetSubscriptionAttributesResult>
SnsEngine::GetSubscriptionAttributes(
    const Ctx& ctx, const GetSubscriptionAttributesRequest& req) {
  FERRY_RETURN_IF_ERROR(CheckSubscriptionArn(req.subscription_arn, ctx.region));
  std::shared_ptr<TopicState> topic;
  FERRY_ASSIGN_OR_RETURN(SubscriptionPtr sub,
                         FindSubscription(req.subscription_arn, &topic));
  GetSubscriptionAttributesResult result;
  AttributeMap& a = result.attributes;
  for (const auto& [name, value] : sub->attributes) a[name] = value;
  a["ConfirmationWasAuthenticated"] = sub->authenticated ? "true" : "false";
  a["Endpoint"] = sub->endpoint;
  a["Owner"] = sub->owner;
  a["PendingConfirmation"] = sub->pending ? "true" : "false";
  a["Protocol"] = sub->protocol;
  a["RawMessageDelivery"] = sub->raw ? "true" : "false";
  a["SubscriptionArn"] = sub->arn;
  a["SubscriptionPrincipal"] = sub->principal;
  a["TopicArn"] = sub->topic_arn;
  if (sub->attributes.count("FilterPolicy") != 0) {
    if (a.count("FilterPolicyScope") == 0) {
      a["FilterPolicyScope"] = "MessageAttributes";
    }
  } else {
    a.erase("FilterPolicyScope");
  }
  if (sub->protocol == "http" || sub->protocol == "https") {
    std::string policy;
    {
      MutexLock tl(&topic->mu_);
      auto it = topic->attributes_.find("DeliveryPolicy");
      if (it != topic->attributes_.end()) policy = it->second;
    }
    auto own = sub->attributes.find("DeliveryPolicy");
    if (own != sub->attributes.end()) {
      a["EffectiveDeliveryPolicy"] = own->second;
    } else {
      a["EffectiveDeliveryPolicy"] = EffectiveDeliveryPolicy(policy);
    }
  }
  return result;
}

absl::Status SnsEngine::SetSubscriptionAttributes(
    const Ctx& ctx, const SetSubscriptionAttributesRequest& req) {
  FERRY_RETURN_IF_ERROR(CheckSubscriptionArn(req.subscription_arn, ctx.region));
  if (SubscriptionAttributeNames().count(req.attribute_name) == 0) {
    return SnsInvalid("Invalid parameter: AttributeName");
  }
  std::shared_ptr<TopicState> topic;
  FERRY_ASSIGN_OR_RETURN(SubscriptionPtr sub,
                         FindSubscription(req.subscription_arn, &topic));
  QueueName q;
  bool queue_fifo = sub->protocol == "sqs" &&
                    ParseQueueArn(sub->endpoint, &q) &&
                    absl::EndsWith(q.name, ".fifo");
  std::string reason =
      SubscriptionAttributeError(req.attribute_name, req.attribute_value,
                                 sub->protocol, topic->fifo(), queue_fifo);
  if (!reason.empty()) {
    return SnsInvalid(absl::StrCat("Invalid parameter: ", reason));
  }
  MutexLock tl(&topic->mu_);
  auto it = topic->subscriptions_.find(req.subscription_arn);
  if (it == topic->subscriptions_.end()) return SubscriptionNotFound();
  StringMap attributes = it->second->attributes;
  const bool removing =
      req.attribute_value.empty() && (req.attribute_name == "FilterPolicy" ||
                                      req.attribute_name == "RedrivePolicy" ||
                                      req.attribute_name == "DeliveryPolicy");
  if (removing) {
    attributes.erase(req.attribute_name);
  } else {
    attributes[req.attribute_name] = req.attribute_value;
  }
  if (engine_->options().strict.enabled &&
      req.attribute_name == "FilterPolicy" && !removing &&
      it->second->filter == nullptr) {
    size_t filtered = 0;
    for (const auto& [arn, s] : topic->subscriptions_) {
      if (s->filter != nullptr) ++filtered;
    }
    if (filtered >= kStrictFilterPolicies) {
      return SnsError("FilterPolicyLimitExceeded",
                      "Filter policy limit exceeded");
    }
  }
  absl::StatusOr<SubscriptionPtr> built =
      BuildSubscription(*it->second, attributes);
  if (!built.ok()) {
    return SnsInvalid(
        absl::StrCat("Invalid parameter: ", built.status().message()));
  }
  FERRY_RETURN_IF_ERROR(SaveSubscription(**built));
  SubscriptionPtr old = it->second;
  it->second = *std::move(built);
  UpdateSnapshot(*topic, old, it->second);
  return absl::OkStatus();
}

}  // namespace ferry::internal
