// Pre-provisioning from a JSON document (ferry/provision.h): parse and check
// everything first, order the queues so that dead-letter queues come before
// the queues that redrive to them, then create them through Broker::sqs().
#include "ferry/provision.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aws_wire.h"
#include "ferry/errors.h"
#include "ferry/kinesis.h"
#include "ferry/sns.h"
#include "ferry/sqs.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

using Json = nlohmann::json;
using gateway_internal::AsAbsl;

#define FERRY_PROVISION_RETURN_IF_ERROR(expr) \
  do {                                        \
    if (absl::Status _s = (expr); !_s.ok()) { \
      return _s;                              \
    }                                         \
  } while (false)

absl::Status Invalid(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(AsAbsl(where), ": ", AsAbsl(what)));
}

// `s` with "`what`: " before its message, payloads (the AWS error) kept.
absl::Status Annotate(const absl::Status& s, std::string_view what) {
  absl::Status out(s.code(), absl::StrCat(AsAbsl(what), ": ", s.message()));
  s.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

const char* TypeName(const Json& j) { return j.type_name(); }

// Checks that `object` has only `allowed` keys.
absl::Status CheckKeys(const Json& object, std::string_view where,
                       const std::vector<std::string>& allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (const std::string& a : allowed) known = known || it.key() == a;
    if (!known) {
      return Invalid(
          absl::StrCat(AsAbsl(where), where.empty() ? "" : ".", it.key()),
          absl::StrCat("unknown key (expected one of: ",
                       absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OptionalString(const Json& object,
                                           const std::string& key,
                                           std::string_view where) {
  if (!object.contains(key)) return std::string();
  const Json& v = object[key];
  if (!v.is_string()) {
    return Invalid(absl::StrCat(AsAbsl(where), key),
                   absl::StrCat("expected a string, got ", TypeName(v)));
  }
  return v.get<std::string>();
}

// The text of an attribute value: strings as they are, booleans and numbers
// as their JSON text, objects (only for `json_valued` attributes) as JSON.
absl::StatusOr<std::string> AttributeText(const Json& v, bool json_valued,
                                          const std::string& at) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  if (v.is_number()) return v.dump();
  if (v.is_object() && json_valued) return v.dump();
  return Invalid(
      at, absl::StrCat(json_valued ? "expected an object or a string"
                                   : "expected a string, number or boolean",
                       ", got ", TypeName(v)));
}

// An object's attributes (`key` of `object`), the JSON-valued ones named.
absl::Status ParseAttributes(const Json& object, const std::string& prefix,
                             const std::vector<std::string>& json_valued,
                             AttributeMap* out) {
  if (!object.contains("attributes")) return absl::OkStatus();
  const Json& attrs = object["attributes"];
  if (!attrs.is_object()) {
    return Invalid(prefix + "attributes",
                   absl::StrCat("expected an object, got ", TypeName(attrs)));
  }
  for (auto it = attrs.begin(); it != attrs.end(); ++it) {
    bool is_json = false;
    for (const std::string& j : json_valued) is_json = is_json || it.key() == j;
    absl::StatusOr<std::string> text = AttributeText(
        it.value(), is_json, absl::StrCat(prefix, "attributes.", it.key()));
    if (!text.ok()) return text.status();
    (*out)[it.key()] = *std::move(text);
  }
  return absl::OkStatus();
}

// "tags": an object of strings.
absl::Status ParseTags(const Json& object, const std::string& prefix,
                       std::map<std::string, std::string>* out) {
  if (!object.contains("tags")) return absl::OkStatus();
  const Json& tags = object["tags"];
  if (!tags.is_object()) {
    return Invalid(prefix + "tags",
                   absl::StrCat("expected an object, got ", TypeName(tags)));
  }
  for (auto it = tags.begin(); it != tags.end(); ++it) {
    if (!it.value().is_string()) {
      return Invalid(
          absl::StrCat(prefix, "tags.", it.key()),
          absl::StrCat("expected a string, got ", TypeName(it.value())));
    }
    (*out)[it.key()] = it.value().get<std::string>();
  }
  return absl::OkStatus();
}

// A required non-empty string.
absl::StatusOr<std::string> RequiredString(const Json& object,
                                           const std::string& key,
                                           const std::string& prefix,
                                           std::string_view what) {
  if (!object.contains(key) || !object[key].is_string() ||
      object[key].get_ref<const std::string&>().empty()) {
    return Invalid(prefix + key, absl::StrCat("required: ", AsAbsl(what),
                                              " (a non-empty string)"));
  }
  return object[key].get<std::string>();
}

// An optional integer; `*out` is left alone when the key is absent.
absl::Status OptionalInt(const Json& object, const std::string& key,
                         const std::string& prefix, int min, int max,
                         std::optional<int>* out) {
  if (!object.contains(key)) return absl::OkStatus();
  const Json& v = object[key];
  if (!v.is_number_integer() || v.get<int64_t>() < min ||
      v.get<int64_t>() > max) {
    return Invalid(prefix + key, absl::StrCat("expected an integer from ", min,
                                              " to ", max, ", got ", v.dump()));
  }
  *out = static_cast<int>(v.get<int64_t>());
  return absl::OkStatus();
}

struct TopicSpec {
  std::string where;  // e.g. "topics[0]"
  std::string name;
  std::string account;
  std::string region;
  AttributeMap attributes;
  std::map<std::string, std::string> tags;
};

struct SubscriptionSpec {
  std::string where;
  std::string topic;  // a name (of the same account and region) or an ARN
  std::string protocol;
  std::string endpoint;  // for sqs: a queue's name or ARN
  std::string account;
  std::string region;
  AttributeMap attributes;
};

struct StreamSpec {
  std::string where;
  std::string name;
  std::string account;
  std::string region;
  std::optional<int> shard_count;
  bool on_demand = false;
  std::optional<int> retention_hours;
  std::map<std::string, std::string> tags;
};

struct QueueSpec {
  std::string where;  // e.g. "queues[2]"
  std::string name;
  std::string account;
  std::string region;
  AttributeMap attributes;
  TagMap tags;
  // The parsed RedrivePolicy, when there is one, and the document queue
  // its target names (index into the specs), if any.
  std::optional<Json> redrive;
  std::optional<size_t> dlq_index;
  // The target is a bare name of a queue outside the document.
  std::string external_dlq_name;
};

struct Plan {
  std::vector<QueueSpec> queues;
  std::vector<size_t> order;  // creation order
  std::vector<TopicSpec> topics;
  std::vector<SubscriptionSpec> subscriptions;
  std::vector<StreamSpec> streams;
};

// The account and region of an entry: its own, else the document's.
absl::Status ParseScope(const Json& object, const std::string& prefix,
                        const std::string& doc_account,
                        const std::string& doc_region, std::string* account,
                        std::string* region) {
  absl::StatusOr<std::string> a = OptionalString(object, "account", prefix);
  if (!a.ok()) return a.status();
  absl::StatusOr<std::string> r = OptionalString(object, "region", prefix);
  if (!r.ok()) return r.status();
  *account = a->empty() ? doc_account : *a;
  *region = r->empty() ? doc_region : *r;
  return absl::OkStatus();
}

// The array `key` of the document, or an error naming it.
absl::StatusOr<const Json*> ArrayOf(const Json& doc, const char* key) {
  if (!doc.contains(key)) return nullptr;
  const Json& a = doc[key];
  if (!a.is_array()) {
    return Invalid(key, absl::StrCat("expected an array, got ", TypeName(a)));
  }
  return &a;
}

absl::Status ParseTopics(const Json& doc, const std::string& account,
                         const std::string& region, Plan* plan) {
  absl::StatusOr<const Json*> topics = ArrayOf(doc, "topics");
  if (!topics.ok()) return topics.status();
  if (*topics == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < (*topics)->size(); ++i) {
    const Json& t = (**topics)[i];
    TopicSpec spec;
    spec.where = absl::StrCat("topics[", i, "]");
    if (!t.is_object()) {
      return Invalid(spec.where,
                     absl::StrCat("expected an object, got ", TypeName(t)));
    }
    FERRY_PROVISION_RETURN_IF_ERROR(CheckKeys(
        t, spec.where, {"name", "attributes", "tags", "account", "region"}));
    const std::string prefix = spec.where + ".";
    absl::StatusOr<std::string> name =
        RequiredString(t, "name", prefix, "the topic's name");
    if (!name.ok()) return name.status();
    spec.name = *name;
    FERRY_PROVISION_RETURN_IF_ERROR(
        ParseScope(t, prefix, account, region, &spec.account, &spec.region));
    FERRY_PROVISION_RETURN_IF_ERROR(ParseAttributes(
        t, prefix, {"Policy", "DeliveryPolicy", "DataProtectionPolicy"},
        &spec.attributes));
    FERRY_PROVISION_RETURN_IF_ERROR(ParseTags(t, prefix, &spec.tags));
    for (const TopicSpec& other : plan->topics) {
      if (other.name == spec.name && other.account == spec.account &&
          other.region == spec.region) {
        return Invalid(spec.where,
                       absl::StrCat("the topic '", spec.name,
                                    "' is also defined at ", other.where));
      }
    }
    plan->topics.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

absl::Status ParseSubscriptions(const Json& doc, const std::string& account,
                                const std::string& region, Plan* plan) {
  absl::StatusOr<const Json*> subs = ArrayOf(doc, "subscriptions");
  if (!subs.ok()) return subs.status();
  if (*subs == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < (*subs)->size(); ++i) {
    const Json& s = (**subs)[i];
    SubscriptionSpec spec;
    spec.where = absl::StrCat("subscriptions[", i, "]");
    if (!s.is_object()) {
      return Invalid(spec.where,
                     absl::StrCat("expected an object, got ", TypeName(s)));
    }
    FERRY_PROVISION_RETURN_IF_ERROR(CheckKeys(
        s, spec.where,
        {"topic", "protocol", "endpoint", "attributes", "account", "region"}));
    const std::string prefix = spec.where + ".";
    absl::StatusOr<std::string> topic =
        RequiredString(s, "topic", prefix, "the topic's name or ARN");
    if (!topic.ok()) return topic.status();
    absl::StatusOr<std::string> protocol = RequiredString(
        s, "protocol", prefix, "the protocol (sqs, http, https, lambda, ...)");
    if (!protocol.ok()) return protocol.status();
    absl::StatusOr<std::string> endpoint = RequiredString(
        s, "endpoint", prefix, "the endpoint (for sqs: a queue's name or ARN)");
    if (!endpoint.ok()) return endpoint.status();
    spec.topic = *topic;
    spec.protocol = *protocol;
    spec.endpoint = *endpoint;
    FERRY_PROVISION_RETURN_IF_ERROR(
        ParseScope(s, prefix, account, region, &spec.account, &spec.region));
    FERRY_PROVISION_RETURN_IF_ERROR(ParseAttributes(
        s, prefix, {"FilterPolicy", "RedrivePolicy", "DeliveryPolicy"},
        &spec.attributes));
    plan->subscriptions.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

absl::Status ParseStreams(const Json& doc, const std::string& account,
                          const std::string& region, Plan* plan) {
  absl::StatusOr<const Json*> streams = ArrayOf(doc, "streams");
  if (!streams.ok()) return streams.status();
  if (*streams == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < (*streams)->size(); ++i) {
    const Json& s = (**streams)[i];
    StreamSpec spec;
    spec.where = absl::StrCat("streams[", i, "]");
    if (!s.is_object()) {
      return Invalid(spec.where,
                     absl::StrCat("expected an object, got ", TypeName(s)));
    }
    FERRY_PROVISION_RETURN_IF_ERROR(
        CheckKeys(s, spec.where,
                  {"name", "shard_count", "on_demand", "retention_hours",
                   "tags", "account", "region"}));
    const std::string prefix = spec.where + ".";
    absl::StatusOr<std::string> name =
        RequiredString(s, "name", prefix, "the stream's name");
    if (!name.ok()) return name.status();
    spec.name = *name;
    FERRY_PROVISION_RETURN_IF_ERROR(
        ParseScope(s, prefix, account, region, &spec.account, &spec.region));
    FERRY_PROVISION_RETURN_IF_ERROR(
        OptionalInt(s, "shard_count", prefix, 1, 100000, &spec.shard_count));
    FERRY_PROVISION_RETURN_IF_ERROR(OptionalInt(
        s, "retention_hours", prefix, 24, 8760, &spec.retention_hours));
    if (s.contains("on_demand")) {
      if (!s["on_demand"].is_boolean()) {
        return Invalid(
            prefix + "on_demand",
            absl::StrCat("expected a boolean, got ", TypeName(s["on_demand"])));
      }
      spec.on_demand = s["on_demand"].get<bool>();
    }
    if (spec.on_demand && spec.shard_count.has_value()) {
      return Invalid(prefix + "shard_count",
                     "an on-demand stream takes no shard_count");
    }
    FERRY_PROVISION_RETURN_IF_ERROR(ParseTags(s, prefix, &spec.tags));
    for (const StreamSpec& other : plan->streams) {
      if (other.name == spec.name && other.account == spec.account &&
          other.region == spec.region) {
        return Invalid(spec.where,
                       absl::StrCat("the stream '", spec.name,
                                    "' is also defined at ", other.where));
      }
    }
    plan->streams.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

bool SameScope(const QueueSpec& a, std::string_view account,
               std::string_view region) {
  return (a.account.empty() || account.empty() || a.account == account) &&
         (a.region.empty() || region.empty() || a.region == region);
}

absl::StatusOr<Plan> Parse(std::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr,
                         /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("provisioning document: not valid JSON");
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "provisioning document: expected a JSON object, got ", TypeName(doc)));
  }
  if (absl::Status s = CheckKeys(doc, "",
                                 {"$schema", "account", "region", "queues",
                                  "topics", "subscriptions", "streams"});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> account = OptionalString(doc, "account", "");
  if (!account.ok()) return account.status();
  absl::StatusOr<std::string> region = OptionalString(doc, "region", "");
  if (!region.ok()) return region.status();

  Plan plan;
  FERRY_PROVISION_RETURN_IF_ERROR(ParseTopics(doc, *account, *region, &plan));
  FERRY_PROVISION_RETURN_IF_ERROR(
      ParseSubscriptions(doc, *account, *region, &plan));
  FERRY_PROVISION_RETURN_IF_ERROR(ParseStreams(doc, *account, *region, &plan));
  if (!doc.contains("queues")) return plan;
  const Json& queues = doc["queues"];
  if (!queues.is_array()) {
    return Invalid("queues",
                   absl::StrCat("expected an array, got ", TypeName(queues)));
  }
  for (size_t i = 0; i < queues.size(); ++i) {
    const Json& q = queues[i];
    QueueSpec spec;
    spec.where = absl::StrCat("queues[", i, "]");
    if (!q.is_object()) {
      return Invalid(spec.where,
                     absl::StrCat("expected an object, got ", TypeName(q)));
    }
    if (absl::Status s = CheckKeys(
            q, spec.where, {"name", "attributes", "tags", "account", "region"});
        !s.ok()) {
      return s;
    }
    const std::string prefix = spec.where + ".";
    if (!q.contains("name") || !q["name"].is_string() ||
        q["name"].get_ref<const std::string&>().empty()) {
      return Invalid(prefix + "name", "required: the queue's name (a string)");
    }
    spec.name = q["name"].get<std::string>();
    absl::StatusOr<std::string> a = OptionalString(q, "account", prefix);
    if (!a.ok()) return a.status();
    absl::StatusOr<std::string> r = OptionalString(q, "region", prefix);
    if (!r.ok()) return r.status();
    spec.account = a->empty() ? *account : *a;
    spec.region = r->empty() ? *region : *r;
    if (q.contains("attributes")) {
      const Json& attrs = q["attributes"];
      if (!attrs.is_object()) {
        return Invalid(
            prefix + "attributes",
            absl::StrCat("expected an object, got ", TypeName(attrs)));
      }
      for (auto it = attrs.begin(); it != attrs.end(); ++it) {
        const std::string& key = it.key();
        const Json& v = it.value();
        const std::string at = absl::StrCat(prefix, "attributes.", key);
        const bool json_valued = key == "RedrivePolicy" ||
                                 key == "RedriveAllowPolicy" || key == "Policy";
        std::string text;
        if (v.is_string()) {
          text = v.get<std::string>();
        } else if (v.is_boolean()) {
          text = v.get<bool>() ? "true" : "false";
        } else if (v.is_number()) {
          text = v.dump();
        } else if (v.is_object() && json_valued) {
          text = v.dump();
        } else {
          return Invalid(
              at,
              absl::StrCat(json_valued ? "expected an object or a string"
                                       : "expected a string, number or boolean",
                           ", got ", TypeName(v)));
        }
        if (key == "RedrivePolicy") {
          Json policy = Json::parse(text, nullptr, false);
          if (policy.is_discarded() || !policy.is_object()) {
            return Invalid(at, "expected a JSON object");
          }
          spec.redrive = std::move(policy);
        }
        spec.attributes[key] = std::move(text);
      }
    }
    if (q.contains("tags")) {
      const Json& tags = q["tags"];
      if (!tags.is_object()) {
        return Invalid(prefix + "tags", absl::StrCat("expected an object, got ",
                                                     TypeName(tags)));
      }
      for (auto it = tags.begin(); it != tags.end(); ++it) {
        if (!it.value().is_string()) {
          return Invalid(
              absl::StrCat(prefix, "tags.", it.key()),
              absl::StrCat("expected a string, got ", TypeName(it.value())));
        }
        spec.tags[it.key()] = it.value().get<std::string>();
      }
    }
    for (const QueueSpec& other : plan.queues) {
      if (other.name == spec.name && other.account == spec.account &&
          other.region == spec.region) {
        return Invalid(spec.where,
                       absl::StrCat("the queue '", spec.name,
                                    "' is also defined at ", other.where));
      }
    }
    plan.queues.push_back(std::move(spec));
  }

  // Resolve redrive targets that name queues of the document.
  for (QueueSpec& spec : plan.queues) {
    if (!spec.redrive.has_value()) continue;
    const std::string at = spec.where + ".attributes.RedrivePolicy";
    const Json& policy = *spec.redrive;
    if (!policy.contains("deadLetterTargetArn") ||
        !policy["deadLetterTargetArn"].is_string()) {
      continue;  // CreateQueue reports what is wrong with it.
    }
    const std::string target = policy["deadLetterTargetArn"].get<std::string>();
    std::string name = target, account, region;
    if (absl::StartsWith(target, "arn:")) {
      std::vector<std::string> parts = absl::StrSplit(target, ':');
      if (parts.size() != 6) continue;  // CreateQueue reports it
      region = parts[3];
      account = parts[4];
      name = parts[5];
    } else {
      account = spec.account;
      region = spec.region;
    }
    for (size_t j = 0; j < plan.queues.size(); ++j) {
      const QueueSpec& other = plan.queues[j];
      if (other.name == name && SameScope(other, account, region) &&
          (absl::StartsWith(target, "arn:") ||
           (other.account == spec.account && other.region == spec.region))) {
        spec.dlq_index = j;
        break;
      }
    }
    if (!spec.dlq_index.has_value() && !absl::StartsWith(target, "arn:")) {
      spec.external_dlq_name = target;
    }
    if (spec.dlq_index.has_value() && &plan.queues[*spec.dlq_index] == &spec) {
      return Invalid(at, "a queue cannot be its own dead-letter queue");
    }
  }

  // Dependency order (depth first; dead-letter queues first).
  enum class Mark { kNone, kVisiting, kDone };
  std::vector<Mark> marks(plan.queues.size(), Mark::kNone);
  for (size_t start = 0; start < plan.queues.size(); ++start) {
    std::vector<size_t> chain;
    size_t i = start;
    while (marks[i] != Mark::kDone) {
      if (marks[i] == Mark::kVisiting) {
        std::vector<std::string> names;
        bool in_cycle = false;
        for (size_t c : chain) {
          in_cycle = in_cycle || c == i;
          if (in_cycle) names.push_back(plan.queues[c].name);
        }
        names.push_back(plan.queues[i].name);
        return Invalid(
            plan.queues[i].where + ".attributes.RedrivePolicy",
            absl::StrCat("redrive cycle: ", absl::StrJoin(names, " -> ")));
      }
      marks[i] = Mark::kVisiting;
      chain.push_back(i);
      if (!plan.queues[i].dlq_index.has_value()) break;
      i = *plan.queues[i].dlq_index;
    }
    // `chain` runs from a queue to its dead-letter queues; create in reverse.
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (marks[*it] != Mark::kDone) {
        marks[*it] = Mark::kDone;
        plan.order.push_back(*it);
      }
    }
  }
  return plan;
}

absl::StatusOr<std::string> QueueArn(Sqs& sqs, const RequestContext& ctx,
                                     const std::string& name) {
  absl::StatusOr<GetQueueUrlResult> url =
      sqs.GetQueueUrl(ctx, {.queue_name = name});
  if (!url.ok()) return url.status();
  absl::StatusOr<GetQueueAttributesResult> attrs = sqs.GetQueueAttributes(
      ctx, {.queue_url = url->queue_url, .attribute_names = {"QueueArn"}});
  if (!attrs.ok()) return attrs.status();
  return attrs->attributes["QueueArn"];
}

// The document's scope, or the broker's defaults for what it leaves empty.
RequestContext ContextOf(const std::string& account,
                         const std::string& region) {
  return {.account = account, .region = region, .faults_consulted = true};
}

// "arn:aws:<service>:<region>:<account>:<name>" -> name, region, account.
bool SplitArn(const std::string& arn, std::string* region, std::string* account,
              std::string* name) {
  std::vector<std::string> parts = absl::StrSplit(arn, ':');
  if (parts.size() != 6 || parts[0] != "arn") return false;
  *region = parts[3];
  *account = parts[4];
  *name = parts[5];
  return true;
}

// The ARN of topic `name` in `ctx`'s scope: one created by this document, or
// one that exists already.
absl::StatusOr<std::string> TopicArn(Sns& sns, const RequestContext& ctx,
                                     const std::string& name,
                                     const ProvisionResult& result) {
  for (const ProvisionedTopic& t : result.topics) {
    std::string region, account, topic_name;
    if (SplitArn(t.topic_arn, &region, &account, &topic_name) &&
        topic_name == name && (ctx.account.empty() || ctx.account == account) &&
        (ctx.region.empty() || ctx.region == region)) {
      return t.topic_arn;
    }
  }
  ListTopicsRequest request;
  do {
    absl::StatusOr<ListTopicsResult> page = sns.ListTopics(ctx, request);
    if (!page.ok()) return page.status();
    for (const std::string& arn : page->topic_arns) {
      if (absl::EndsWith(arn, absl::StrCat(":", name))) return arn;
    }
    request.next_token = page->next_token;
  } while (!request.next_token.empty());
  return absl::NotFoundError(absl::StrCat("no topic '", name, "'"));
}

absl::Status CreateTopicsAndSubscriptions(Broker& broker, const Plan& plan,
                                          ProvisionResult* result) {
  Sns& sns = broker.sns();
  for (const TopicSpec& spec : plan.topics) {
    CreateTopicRequest request{.name = spec.name,
                               .attributes = spec.attributes};
    for (const auto& [k, v] : spec.tags) request.tags.push_back({k, v});
    absl::StatusOr<CreateTopicResult> r =
        sns.CreateTopic(ContextOf(spec.account, spec.region), request);
    if (!r.ok()) {
      return Annotate(r.status(),
                      absl::StrCat(spec.where, " (", spec.name, ")"));
    }
    result->topics.push_back({.name = spec.name,
                              .account = spec.account,
                              .region = spec.region,
                              .topic_arn = r->topic_arn});
  }
  for (const SubscriptionSpec& spec : plan.subscriptions) {
    const RequestContext ctx = ContextOf(spec.account, spec.region);
    std::string topic_arn = spec.topic;
    if (!absl::StartsWith(spec.topic, "arn:")) {
      absl::StatusOr<std::string> arn = TopicArn(sns, ctx, spec.topic, *result);
      if (!arn.ok()) {
        return Invalid(spec.where + ".topic",
                       absl::StrCat("no topic '", spec.topic,
                                    "' in the document or the broker"));
      }
      topic_arn = *arn;
    }
    std::string endpoint = spec.endpoint;
    if (spec.protocol == "sqs" && !absl::StartsWith(endpoint, "arn:")) {
      absl::StatusOr<std::string> arn =
          QueueArn(broker.sqs(), ctx, spec.endpoint);
      if (!arn.ok()) {
        return Annotate(
            arn.status(),
            absl::StrCat(spec.where, ".endpoint: queue '", spec.endpoint, "'"));
      }
      endpoint = *arn;
    }
    absl::StatusOr<SubscribeResult> r =
        sns.Subscribe(ctx, {.topic_arn = topic_arn,
                            .protocol = spec.protocol,
                            .endpoint = endpoint,
                            .attributes = spec.attributes,
                            .return_subscription_arn = true});
    if (!r.ok()) {
      return Annotate(r.status(), absl::StrCat(spec.where, " (", spec.protocol,
                                               " ", spec.endpoint, ")"));
    }
    result->subscriptions.push_back({.topic_arn = topic_arn,
                                     .protocol = spec.protocol,
                                     .endpoint = endpoint,
                                     .subscription_arn = r->subscription_arn});
  }
  return absl::OkStatus();
}

absl::Status CreateStreams(Broker& broker, const Plan& plan,
                           ProvisionResult* result) {
  Kinesis& kinesis = broker.kinesis();
  for (const StreamSpec& spec : plan.streams) {
    const RequestContext ctx = ContextOf(spec.account, spec.region);
    const std::string what = absl::StrCat(spec.where, " (", spec.name, ")");
    CreateStreamRequest request{.stream_name = spec.name};
    if (spec.on_demand) {
      request.stream_mode = "ON_DEMAND";
    } else {
      request.shard_count = spec.shard_count.value_or(1);
    }
    request.tags = spec.tags;
    absl::Status created = kinesis.CreateStream(ctx, request);
    std::optional<AwsErrorInfo> aws = GetAwsError(created);
    const bool existed =
        aws.has_value() && aws->shape == "ResourceInUseException";
    if (!created.ok() && !existed) return Annotate(created, what);
    if (!existed && spec.retention_hours.has_value() &&
        *spec.retention_hours != 24) {
      absl::Status s = kinesis.IncreaseStreamRetentionPeriod(
          ctx, {.stream_name = spec.name,
                .retention_period_hours = *spec.retention_hours});
      if (!s.ok()) return Annotate(s, what + ".retention_hours");
    }
    absl::StatusOr<DescribeStreamSummaryResult> summary =
        kinesis.DescribeStreamSummary(ctx, {.stream_name = spec.name});
    if (!summary.ok()) return Annotate(summary.status(), what);
    result->streams.push_back(
        {.name = spec.name,
         .account = spec.account,
         .region = spec.region,
         .stream_arn = summary->stream_description_summary.stream_arn,
         .shard_count = summary->stream_description_summary.open_shard_count,
         .existed = existed});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateProvisionJson(std::string_view json) {
  return Parse(json).status();
}

absl::StatusOr<ProvisionResult> Provision(Broker& broker, std::string_view json,
                                          std::string_view endpoint) {
  absl::StatusOr<Plan> plan = Parse(json);
  if (!plan.ok()) return plan.status();
  Sqs& sqs = broker.sqs();
  ProvisionResult result;
  std::vector<ProvisionedQueue>& created = result.queues;
  for (size_t index : plan->order) {
    QueueSpec& spec = plan->queues[index];
    RequestContext ctx{.account = spec.account,
                       .region = spec.region,
                       .endpoint = std::string(endpoint),
                       .faults_consulted = true};
    const std::string what = absl::StrCat(spec.where, " (", spec.name, ")");
    // A dead-letter target given by name becomes the queue's ARN.
    if (spec.redrive.has_value()) {
      std::string dlq_name;
      RequestContext dlq_ctx = ctx;
      if (spec.dlq_index.has_value()) {
        const QueueSpec& dlq = plan->queues[*spec.dlq_index];
        dlq_name = dlq.name;
        dlq_ctx = {.account = dlq.account,
                   .region = dlq.region,
                   .faults_consulted = true};
      } else {
        dlq_name = spec.external_dlq_name;
      }
      if (!dlq_name.empty()) {
        absl::StatusOr<std::string> arn = QueueArn(sqs, dlq_ctx, dlq_name);
        if (!arn.ok()) {
          return Annotate(
              arn.status(),
              absl::StrCat(what, ": dead-letter queue '", dlq_name, "'"));
        }
        Json policy = *spec.redrive;
        policy["deadLetterTargetArn"] = *arn;
        spec.attributes["RedrivePolicy"] = policy.dump();
      }
    }
    absl::StatusOr<CreateQueueResult> r =
        sqs.CreateQueue(ctx, {.queue_name = spec.name,
                              .attributes = spec.attributes,
                              .tags = spec.tags});
    if (!r.ok()) return Annotate(r.status(), what);
    created.push_back({.name = spec.name,
                       .account = spec.account,
                       .region = spec.region,
                       .queue_url = r->queue_url});
  }
  FERRY_PROVISION_RETURN_IF_ERROR(
      CreateTopicsAndSubscriptions(broker, *plan, &result));
  FERRY_PROVISION_RETURN_IF_ERROR(CreateStreams(broker, *plan, &result));
  return result;
}

absl::StatusOr<std::vector<ProvisionedQueue>> ProvisionFromJson(
    Broker& broker, std::string_view json, std::string_view endpoint) {
  absl::StatusOr<ProvisionResult> result = Provision(broker, json, endpoint);
  if (!result.ok()) return result.status();
  return std::move(result->queues);
}

}  // namespace ferry
