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
#include "ferry/sqs.h"
#include "nlohmann/json.hpp"

namespace ferry {
namespace {

using Json = nlohmann::json;
using gateway_internal::AsAbsl;

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
};

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
  for (const char* later : {"topics", "subscriptions", "streams"}) {
    if (doc.contains(later)) {
      return Invalid(later,
                     "this build of ferry provisions only SQS queues (SNS "
                     "topics, subscriptions and Kinesis streams are not "
                     "served yet)");
    }
  }
  if (absl::Status s =
          CheckKeys(doc, "", {"$schema", "account", "region", "queues"});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> account = OptionalString(doc, "account", "");
  if (!account.ok()) return account.status();
  absl::StatusOr<std::string> region = OptionalString(doc, "region", "");
  if (!region.ok()) return region.status();

  Plan plan;
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

}  // namespace

absl::Status ValidateProvisionJson(std::string_view json) {
  return Parse(json).status();
}

absl::StatusOr<std::vector<ProvisionedQueue>> ProvisionFromJson(
    Broker& broker, std::string_view json, std::string_view endpoint) {
  absl::StatusOr<Plan> plan = Parse(json);
  if (!plan.ok()) return plan.status();
  Sqs& sqs = broker.sqs();
  std::vector<ProvisionedQueue> created;
  for (size_t index : plan->order) {
    QueueSpec& spec = plan->queues[index];
    RequestContext ctx{.account = spec.account,
                       .region = spec.region,
                       .endpoint = std::string(endpoint)};
    const std::string what = absl::StrCat(spec.where, " (", spec.name, ")");
    // A dead-letter target given by name becomes the queue's ARN.
    if (spec.redrive.has_value()) {
      std::string dlq_name;
      RequestContext dlq_ctx = ctx;
      if (spec.dlq_index.has_value()) {
        const QueueSpec& dlq = plan->queues[*spec.dlq_index];
        dlq_name = dlq.name;
        dlq_ctx = {.account = dlq.account, .region = dlq.region};
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
  return created;
}

}  // namespace ferry
