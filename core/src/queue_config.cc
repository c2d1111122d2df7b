#include "queue_config.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sqs_errors.h"
#include "sqs_names.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

using Json = nlohmann::json;

constexpr int kConfigFormatVersion = 1;

constexpr std::array<std::string_view, 21> kAttributeNames = {
    "Policy",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "ApproximateNumberOfMessagesDelayed",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
};

// Parses an integer attribute inside [lo, hi].
absl::Status ParseRanged(std::string_view name, std::string_view value,
                         int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  if (!ParseInt64(value, &v) || v < lo || v > hi) {
    return InvalidAttributeValue(name);
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status ParseBoolAttribute(std::string_view name, std::string_view value,
                                bool* out) {
  if (!ParseBool(value, out)) return InvalidAttributeValue(name);
  return absl::OkStatus();
}

absl::Status RedriveError(std::string_view value, std::string_view reason) {
  return InvalidParameterValue(value, "RedrivePolicy", reason);
}

absl::Status ApplyRedrivePolicy(std::string_view value, bool fifo,
                                std::string_view queue_arn,
                                DeadLetterLookup dead_letters,
                                QueueConfig* config) {
  if (value.empty()) {
    config->dead_letter_target_arn.clear();
    config->max_receive_count = 0;
    return absl::OkStatus();
  }
  Json json = Json::parse(value.begin(), value.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidAttributeValue("RedrivePolicy");
  }
  if (!json.contains("deadLetterTargetArn") ||
      !json["deadLetterTargetArn"].is_string()) {
    return RedriveError(value,
                        "Redrive policy does not contain mandatory attribute: "
                        "deadLetterTargetArn.");
  }
  if (!json.contains("maxReceiveCount")) {
    return RedriveError(value,
                        "Redrive policy does not contain mandatory attribute: "
                        "maxReceiveCount.");
  }
  int64_t count = 0;
  const Json& count_json = json["maxReceiveCount"];
  bool count_ok = false;
  std::string count_text;
  if (count_json.is_number_integer()) {
    count = count_json.get<int64_t>();
    count_ok = true;
    count_text = std::to_string(count);
  } else if (count_json.is_string()) {
    count_text = count_json.get<std::string>();
    count_ok = ParseInt64(count_text, &count);
  } else {
    count_text = count_json.dump();
  }
  if (!count_ok || count < 1 || count > 1000) {
    return RedriveError(
        value,
        absl::StrCat("Invalid value for maxReceiveCount: ", count_text,
                     ", valid values are from 1 to 1000 both inclusive."));
  }
  std::string target = json["deadLetterTargetArn"].get<std::string>();
  QueueName target_name, own_name;
  if (!ParseQueueArn(target, &target_name)) {
    return RedriveError(value, "Invalid value for deadLetterTargetArn.");
  }
  // The dead-letter queue must be in the source's account and region.
  std::optional<DeadLetterTarget> dlq;
  if (ParseQueueArn(queue_arn, &own_name) &&
      own_name.account == target_name.account &&
      own_name.region == target_name.region) {
    dlq = dead_letters(target);
  }
  if (!dlq.has_value()) {
    return RedriveError(value, "Dead letter target does not exist.");
  }
  if (dlq->fifo != fifo) {
    return RedriveError(
        value, "Dead-letter queue must be same type of queue as the source.");
  }
  bool allowed = dlq->redrive_permission == "allowAll" ||
                 (dlq->redrive_permission == "byQueue" &&
                  std::find(dlq->source_arns.begin(), dlq->source_arns.end(),
                            queue_arn) != dlq->source_arns.end());
  if (!allowed) {
    return RedriveError(
        value, absl::StrCat("Queue ", AsAbsl(target),
                            " does not allow this queue to use it as a "
                            "dead-letter queue."));
  }
  config->dead_letter_target_arn = std::move(target);
  config->max_receive_count = count;
  return absl::OkStatus();
}

absl::Status ApplyRedriveAllowPolicy(std::string_view value,
                                     QueueConfig* config) {
  if (value.empty()) {
    config->redrive_allow_policy.clear();
    config->redrive_permission = "allowAll";
    config->redrive_source_arns.clear();
    return absl::OkStatus();
  }
  auto invalid = [&](std::string_view reason) {
    return InvalidParameterValue(value, "RedriveAllowPolicy", reason);
  };
  Json json = Json::parse(value.begin(), value.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidAttributeValue("RedriveAllowPolicy");
  }
  if (!json.contains("redrivePermission") ||
      !json["redrivePermission"].is_string()) {
    return invalid(
        "Redrive allow policy does not contain mandatory attribute: "
        "redrivePermission.");
  }
  std::string permission = json["redrivePermission"].get<std::string>();
  if (permission != "allowAll" && permission != "denyAll" &&
      permission != "byQueue") {
    return invalid(
        absl::StrCat("Invalid value for redrivePermission: ", permission,
                     ". Valid values are allowAll, denyAll and "
                     "byQueue."));
  }
  std::vector<std::string> sources;
  if (json.contains("sourceQueueArns")) {
    if (permission != "byQueue") {
      return invalid(
          "sourceQueueArns can be specified only when redrivePermission is "
          "byQueue.");
    }
    if (!json["sourceQueueArns"].is_array()) {
      return invalid("sourceQueueArns must be an array of queue ARNs.");
    }
    for (const Json& arn : json["sourceQueueArns"]) {
      if (!arn.is_string()) {
        return invalid("sourceQueueArns must be an array of queue ARNs.");
      }
      sources.push_back(arn.get<std::string>());
    }
    if (sources.size() > 10) {
      return invalid("Maximum number of sourceQueueArns is 10.");
    }
  }
  if (permission == "byQueue" && sources.empty()) {
    return invalid(
        "sourceQueueArns must be specified when redrivePermission "
        "is byQueue.");
  }
  config->redrive_allow_policy = json.dump();
  config->redrive_permission = std::move(permission);
  config->redrive_source_arns = std::move(sources);
  return absl::OkStatus();
}

}  // namespace

bool IsKnownAttributeName(std::string_view name) {
  return std::find(kAttributeNames.begin(), kAttributeNames.end(), name) !=
         kAttributeNames.end();
}

absl::Status ApplyAttributes(const StringMap& attributes, bool creating,
                             std::string_view queue_arn,
                             DeadLetterLookup dead_letters,
                             QueueConfig* config) {
  QueueConfig next = *config;
  const bool fifo = next.fifo;
  // A request naming both SSE kinds is contradictory.
  auto sse = attributes.find("SqsManagedSseEnabled");
  auto kms = attributes.find("KmsMasterKeyId");
  if (sse != attributes.end() && kms != attributes.end() &&
      !kms->second.empty()) {
    bool enabled = false;
    if (ParseBool(sse->second, &enabled) && enabled) {
      return SqsError("InvalidAttributeName",
                      "You can use one type of server-side encryption (SSE) at "
                      "one time. You can either enable KMS SSE or SQS SSE.");
    }
  }
  for (const auto& [name, value] : attributes) {
    absl::Status s;
    if (name == "VisibilityTimeout") {
      s = ParseRanged(name, value, 0, kMaxVisibilityTimeout,
                      &next.visibility_timeout);
    } else if (name == "MessageRetentionPeriod") {
      s = ParseRanged(name, value, 60, 1209600, &next.message_retention_period);
    } else if (name == "DelaySeconds") {
      s = ParseRanged(name, value, 0, kMaxDelaySeconds, &next.delay_seconds);
    } else if (name == "MaximumMessageSize") {
      s = ParseRanged(name, value, 1024, kMaxMessageSizeLimit,
                      &next.maximum_message_size);
    } else if (name == "ReceiveMessageWaitTimeSeconds") {
      s = ParseRanged(name, value, 0, kMaxWaitTimeSeconds,
                      &next.receive_message_wait_time_seconds);
    } else if (name == "KmsDataKeyReusePeriodSeconds") {
      s = ParseRanged(name, value, 60, 86400,
                      &next.kms_data_key_reuse_period_seconds);
    } else if (name == "KmsMasterKeyId") {
      next.kms_master_key_id = value;
      if (!value.empty()) next.sqs_managed_sse_enabled = false;
    } else if (name == "SqsManagedSseEnabled") {
      s = ParseBoolAttribute(name, value, &next.sqs_managed_sse_enabled);
      if (s.ok() && next.sqs_managed_sse_enabled)
        next.kms_master_key_id.clear();
    } else if (name == "Policy") {
      if (!value.empty()) {
        Json json = Json::parse(value.begin(), value.end(), nullptr, false);
        if (json.is_discarded() || !json.is_object() || value.size() > 8192) {
          s = InvalidAttributeValue(name);
        }
      }
      if (s.ok()) next.policy = value;
    } else if (name == "RedrivePolicy") {
      s = ApplyRedrivePolicy(value, fifo, queue_arn, dead_letters, &next);
    } else if (name == "RedriveAllowPolicy") {
      s = ApplyRedriveAllowPolicy(value, &next);
    } else if (name == "FifoQueue") {
      if (!fifo) {
        s = UnknownAttribute(name);
      } else {
        bool v = false;
        if (!ParseBool(value, &v)) {
          s = InvalidAttributeValue(name);
        } else if (!v) {
          s = SqsError("InvalidAttributeValue",
                       "Invalid value for the parameter FifoQueue. Reason: "
                       "Modifying queue type is not supported.");
        }
      }
    } else if (name == "ContentBasedDeduplication") {
      s = fifo ? ParseBoolAttribute(name, value,
                                    &next.content_based_deduplication)
               : UnknownAttribute(name);
    } else if (name == "DeduplicationScope" || name == "FifoThroughputLimit") {
      if (!fifo) {
        s = SqsError("InvalidAttributeName",
                     absl::StrCat("You can specify the ", name,
                                  " only when FifoQueue is set to true."));
      } else if (name == "DeduplicationScope") {
        if (value != "queue" && value != "messageGroup") {
          s = InvalidAttributeValue(name);
        } else {
          next.deduplication_scope = value;
        }
      } else {
        if (value != "perQueue" && value != "perMessageGroupId") {
          s = InvalidAttributeValue(name);
        } else {
          next.fifo_throughput_limit = value;
        }
      }
    } else {
      s = UnknownAttribute(name);
    }
    if (!s.ok()) return s;
  }
  // perMessageGroupId throughput requires messageGroup deduplication.
  if (next.fifo && next.fifo_throughput_limit == "perMessageGroupId" &&
      next.deduplication_scope != "messageGroup") {
    return SqsError("InvalidAttributeValue",
                    "Invalid value for the parameter FifoThroughputLimit. "
                    "Reason: The perMessageGroupId value is allowed only when "
                    "the value for DeduplicationScope is messageGroup.");
  }
  *config = std::move(next);
  return absl::OkStatus();
}

std::optional<std::string> RenderAttribute(const QueueConfig& c,
                                           std::string_view name) {
  auto boolean = [](bool b) { return std::string(b ? "true" : "false"); };
  if (name == "VisibilityTimeout") return std::to_string(c.visibility_timeout);
  if (name == "MessageRetentionPeriod") {
    return std::to_string(c.message_retention_period);
  }
  if (name == "DelaySeconds") return std::to_string(c.delay_seconds);
  if (name == "MaximumMessageSize") {
    return std::to_string(c.maximum_message_size);
  }
  if (name == "ReceiveMessageWaitTimeSeconds") {
    return std::to_string(c.receive_message_wait_time_seconds);
  }
  if (name == "CreatedTimestamp") return FormatEpochSeconds(c.created);
  if (name == "LastModifiedTimestamp")
    return FormatEpochSeconds(c.last_modified);
  if (name == "SqsManagedSseEnabled") return boolean(c.sqs_managed_sse_enabled);
  if (name == "Policy") {
    if (c.policy.empty()) return std::nullopt;
    return c.policy;
  }
  if (name == "KmsMasterKeyId") {
    if (c.kms_master_key_id.empty()) return std::nullopt;
    return c.kms_master_key_id;
  }
  if (name == "KmsDataKeyReusePeriodSeconds") {
    if (c.kms_master_key_id.empty()) return std::nullopt;
    return std::to_string(c.kms_data_key_reuse_period_seconds);
  }
  if (name == "RedrivePolicy") {
    if (c.dead_letter_target_arn.empty()) return std::nullopt;
    Json json = {{"deadLetterTargetArn", c.dead_letter_target_arn},
                 {"maxReceiveCount", c.max_receive_count}};
    return json.dump();
  }
  if (name == "RedriveAllowPolicy") {
    if (c.redrive_allow_policy.empty()) return std::nullopt;
    return c.redrive_allow_policy;
  }
  if (!c.fifo) return std::nullopt;
  if (name == "FifoQueue") return boolean(true);
  if (name == "ContentBasedDeduplication") {
    return boolean(c.content_based_deduplication);
  }
  if (name == "DeduplicationScope") return c.deduplication_scope;
  if (name == "FifoThroughputLimit") return c.fifo_throughput_limit;
  return std::nullopt;
}

std::string EncodeQueueConfig(const QueueConfig& c) {
  Json json = {
      {"v", kConfigFormatVersion},
      {"fifo", c.fifo},
      {"visibility_timeout", c.visibility_timeout},
      {"retention", c.message_retention_period},
      {"delay", c.delay_seconds},
      {"max_size", c.maximum_message_size},
      {"wait", c.receive_message_wait_time_seconds},
      {"dlq", c.dead_letter_target_arn},
      {"max_receive_count", c.max_receive_count},
      {"redrive_allow_policy", c.redrive_allow_policy},
      {"redrive_permission", c.redrive_permission},
      {"redrive_sources", c.redrive_source_arns},
      {"content_dedup", c.content_based_deduplication},
      {"dedup_scope", c.deduplication_scope},
      {"throughput_limit", c.fifo_throughput_limit},
      {"policy", c.policy},
      {"kms_key", c.kms_master_key_id},
      {"kms_reuse", c.kms_data_key_reuse_period_seconds},
      {"sse", c.sqs_managed_sse_enabled},
      {"tags", c.tags},
      {"created_ns", absl::ToUnixNanos(c.created)},
      {"modified_ns", absl::ToUnixNanos(c.last_modified)},
  };
  return json.dump();
}

absl::StatusOr<QueueConfig> DecodeQueueConfig(std::string_view encoded) {
  Json json = Json::parse(encoded.begin(), encoded.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("v")) {
    return absl::DataLossError("corrupt queue configuration record");
  }
  if (json["v"] != kConfigFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue configuration format version ", json["v"].dump(),
                     " is not supported (this build reads version ",
                     kConfigFormatVersion, ")"));
  }
  try {
    QueueConfig c;
    c.fifo = json.at("fifo").get<bool>();
    c.visibility_timeout = json.at("visibility_timeout").get<int64_t>();
    c.message_retention_period = json.at("retention").get<int64_t>();
    c.delay_seconds = json.at("delay").get<int64_t>();
    c.maximum_message_size = json.at("max_size").get<int64_t>();
    c.receive_message_wait_time_seconds = json.at("wait").get<int64_t>();
    c.dead_letter_target_arn = json.at("dlq").get<std::string>();
    c.max_receive_count = json.at("max_receive_count").get<int64_t>();
    c.redrive_allow_policy = json.at("redrive_allow_policy").get<std::string>();
    c.redrive_permission = json.at("redrive_permission").get<std::string>();
    c.redrive_source_arns =
        json.at("redrive_sources").get<std::vector<std::string>>();
    c.content_based_deduplication = json.at("content_dedup").get<bool>();
    c.deduplication_scope = json.at("dedup_scope").get<std::string>();
    c.fifo_throughput_limit = json.at("throughput_limit").get<std::string>();
    c.policy = json.at("policy").get<std::string>();
    c.kms_master_key_id = json.at("kms_key").get<std::string>();
    c.kms_data_key_reuse_period_seconds = json.at("kms_reuse").get<int64_t>();
    c.sqs_managed_sse_enabled = json.at("sse").get<bool>();
    c.tags = json.at("tags").get<StringMap>();
    c.created = absl::FromUnixNanos(json.at("created_ns").get<int64_t>());
    c.last_modified =
        absl::FromUnixNanos(json.at("modified_ns").get<int64_t>());
    return c;
  } catch (const Json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("corrupt queue configuration record: ", e.what()));
  }
}

}  // namespace ferry::internal
