#include "message_rules.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "digest.h"
#include "sqs_errors.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

constexpr size_t kMaxAttributes = 10;
constexpr size_t kMaxAttributeNameLength = 256;

// MessageGroupId / MessageDeduplicationId: 1-128 of alphanumerics and
// punctuation.
bool IsValidFifoId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

absl::Status InvalidFifoId(std::string_view id, std::string_view parameter) {
  return InvalidParameterValue(
      id, parameter,
      absl::StrCat(AsAbsl(parameter),
                   " can only include alphanumeric and punctuation characters. "
                   "1 to 128 in length."));
}

bool IsValidAttributeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAttributeNameLength) return false;
  if (name.front() == '.' || name.back() == '.') return false;
  if (absl::StrContains(AsAbsl(name), "..")) return false;
  std::string lower = absl::AsciiStrToLower(AsAbsl(name));
  if (absl::StartsWith(lower, "aws.") || absl::StartsWith(lower, "amazon.")) {
    return false;
  }
  for (unsigned char c : name) {
    bool ok =
        c >= 0x80 || absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return IsValidUtf8(name);
}

// "String", "Number" or "Binary", optionally followed by ".label".
std::string_view BaseType(std::string_view data_type) {
  for (std::string_view base : {"String", "Number", "Binary"}) {
    if (data_type == base || (data_type.size() > base.size() + 1 &&
                              data_type.substr(0, base.size()) == base &&
                              data_type[base.size()] == '.')) {
      return base;
    }
  }
  return {};
}

bool IsNumber(std::string_view v) {
  size_t i = 0;
  if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
  bool digits = false;
  bool dot = false;
  for (; i < v.size(); ++i) {
    if (v[i] >= '0' && v[i] <= '9') {
      digits = true;
    } else if (v[i] == '.' && !dot) {
      dot = true;
    } else if ((v[i] == 'e' || v[i] == 'E') && digits) {
      ++i;
      if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
      if (i == v.size()) return false;
      for (; i < v.size(); ++i) {
        if (v[i] < '0' || v[i] > '9') return false;
      }
      return true;
    } else {
      return false;
    }
  }
  return digits;
}

absl::Status ValidateAttributes(const MessageAttributeMap& attributes) {
  if (attributes.size() > kMaxAttributes) {
    return InvalidParameter(
        absl::StrCat("Number of message attributes [", attributes.size(),
                     "] exceeds the allowed maximum [10]."));
  }
  for (const auto& [name, value] : attributes) {
    if (!IsValidAttributeName(name)) {
      return InvalidParameter(absl::StrCat(
          "Message (user) attribute name '", name,
          "' is invalid. Attribute names can contain alphanumeric characters, "
          "hyphens (-), underscores (_) and periods (.); they must not start "
          "or end with a period, contain two periods in a row, or start with "
          "AWS. or Amazon."));
    }
    std::string_view base = BaseType(value.data_type);
    if (base.empty() || value.data_type.size() > kMaxAttributeNameLength) {
      return InvalidParameter(absl::StrCat(
          "The message attribute '", name,
          "' has an invalid message attribute type, the set of supported type "
          "prefixes is Binary, Number, and String."));
    }
    const std::string& v =
        base == "Binary" ? value.binary_value : value.string_value;
    if (v.empty()) {
      return InvalidParameter(absl::StrCat(
          "Message (user) attribute '", name,
          "' must contain a non-empty value of type '", AsAbsl(base), "'."));
    }
    if (base == "String" && !IsXmlText(v)) {
      return InvalidParameter(absl::StrCat(
          "Message (user) attribute '", name,
          "' contains invalid characters. Valid unicode characters are #x9 | "
          "#xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to "
          "#x10FFFF"));
    }
    if (base == "Number" && !IsNumber(v)) {
      return InvalidParameter(
          absl::StrCat("Can't cast the value of message (user) attribute '",
                       name, "' to a number."));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t MessageSize(std::string_view body,
                    const MessageAttributeMap* attributes) {
  int64_t size = static_cast<int64_t>(body.size());
  if (attributes != nullptr) {
    for (const auto& [name, value] : *attributes) {
      size +=
          name.size() + value.data_type.size() +
          (BaseType(value.data_type) == "Binary" ? value.binary_value.size()
                                                 : value.string_value.size());
    }
  }
  return size;
}

absl::StatusOr<int64_t> ValidateContent(const OutgoingMessage& m) {
  if (m.body.empty()) return MissingParameter("MessageBody");
  if (!IsXmlText(m.body)) {
    return SqsError("InvalidMessageContents",
                    "Invalid characters found. Valid unicode characters are "
                    "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | "
                    "#x10000 to #x10FFFF");
  }
  if (m.attributes != nullptr && !m.attributes->empty()) {
    if (absl::Status s = ValidateAttributes(*m.attributes); !s.ok()) return s;
  }
  return MessageSize(m.body, m.attributes);
}

absl::Status ValidateOutgoing(const QueueConfig& config,
                              const OutgoingMessage& m) {
  int64_t size = m.content_size;
  if (size < 0) {
    absl::StatusOr<int64_t> checked = ValidateContent(m);
    if (!checked.ok()) return checked.status();
    size = *checked;
  }
  if (size > config.maximum_message_size) {
    return InvalidParameter(absl::StrCat(
        m.batch_entry ? "One or more parameters cannot be validated."
                      : "One or more parameters are invalid.",
        " Reason: Message must be shorter than ", config.maximum_message_size,
        " bytes."));
  }
  if (m.delay_seconds.has_value()) {
    int64_t d = *m.delay_seconds;
    if (config.fifo && d != 0) {
      return InvalidParameterValue(
          std::to_string(d), "DelaySeconds",
          "The request include parameter that is not valid for this queue "
          "type.");
    }
    if (d < 0 || d > kMaxDelaySeconds) {
      return InvalidParameterValue(std::to_string(d), "DelaySeconds",
                                   "DelaySeconds must be >= 0 and <= 900.");
    }
  }
  if (m.message_group_id.has_value() && !IsValidFifoId(*m.message_group_id)) {
    return InvalidFifoId(*m.message_group_id, "MessageGroupId");
  }
  if (config.fifo) {
    if (!m.message_group_id.has_value()) {
      return MissingParameter("MessageGroupId");
    }
    if (m.deduplication_id.has_value()) {
      if (!IsValidFifoId(*m.deduplication_id)) {
        return InvalidFifoId(*m.deduplication_id, "MessageDeduplicationId");
      }
    } else if (!config.content_based_deduplication) {
      return InvalidParameter(
          "The queue should either have ContentBasedDeduplication enabled or "
          "MessageDeduplicationId provided explicitly");
    }
  } else if (m.deduplication_id.has_value()) {
    return InvalidParameterValue(
        *m.deduplication_id, "MessageDeduplicationId",
        "The request includes a parameter that is not valid for this queue "
        "type.");
  }
  return absl::OkStatus();
}

absl::Status ValidateSystemAttributes(const MessageAttributeMap& attributes,
                                      std::string* trace_header) {
  for (const auto& [name, value] : attributes) {
    if (name != "AWSTraceHeader") {
      return InvalidParameter(absl::StrCat("Message system attribute name '",
                                           name, "' is invalid."));
    }
    if (value.data_type != "String" || value.string_value.empty()) {
      return InvalidParameter(
          "Message system attribute 'AWSTraceHeader' must contain a non-empty "
          "value of type 'String'.");
    }
    *trace_header = value.string_value;
  }
  return absl::OkStatus();
}

std::string DeduplicationId(const QueueConfig& config,
                            const OutgoingMessage& message) {
  if (message.deduplication_id.has_value()) {
    return std::string(*message.deduplication_id);
  }
  return Sha256Hex(message.body);
}

std::string DeduplicationKey(const QueueConfig& config,
                             std::string_view group_id,
                             std::string_view deduplication_id) {
  if (config.deduplication_scope == "messageGroup") {
    return absl::StrCat(AsAbsl(group_id), "\x1f", AsAbsl(deduplication_id));
  }
  return std::string(deduplication_id);
}

bool AttributeNameSelected(const std::vector<std::string>& selectors,
                           std::string_view name) {
  for (const std::string& s : selectors) {
    if (s == "All" || s == ".*" || s == "*" || s == name) return true;
    if (s.size() > 2 && absl::EndsWith(s, ".*") &&
        absl::StartsWith(AsAbsl(name),
                         absl::string_view(s.data(), s.size() - 2))) {
      return true;
    }
  }
  return false;
}

namespace {
constexpr std::array<std::string_view, 10> kSystemAttributeNames = {
    "All",
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageDeduplicationId",
    "MessageGroupId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
};
}  // namespace

bool IsKnownSystemAttributeName(std::string_view name) {
  return std::find(kSystemAttributeNames.begin(), kSystemAttributeNames.end(),
                   name) != kSystemAttributeNames.end();
}

std::map<std::string, std::string> SystemAttributes(
    const StoredMessage& m, bool fifo, const std::vector<std::string>& names) {
  std::map<std::string, std::string> out;
  if (names.empty()) return out;
  bool all = std::find(names.begin(), names.end(), "All") != names.end();
  auto wanted = [&](std::string_view n) {
    return all || std::find(names.begin(), names.end(), n) != names.end();
  };
  if (wanted("SenderId")) out["SenderId"] = m.sender_id;
  if (wanted("SentTimestamp"))
    out["SentTimestamp"] = FormatEpochMillis(m.sent_time);
  if (wanted("ApproximateReceiveCount")) {
    out["ApproximateReceiveCount"] = std::to_string(m.receive_count);
  }
  if (wanted("ApproximateFirstReceiveTimestamp")) {
    out["ApproximateFirstReceiveTimestamp"] =
        FormatEpochMillis(m.first_receive_time);
  }
  if (wanted("AWSTraceHeader") && !m.trace_header.empty()) {
    out["AWSTraceHeader"] = m.trace_header;
  }
  if (wanted("DeadLetterQueueSourceArn") && !m.dead_letter_source_arn.empty()) {
    out["DeadLetterQueueSourceArn"] = m.dead_letter_source_arn;
  }
  if (wanted("MessageGroupId") && !m.message_group_id.empty()) {
    out["MessageGroupId"] = m.message_group_id;
  }
  if (fifo) {
    if (wanted("MessageDeduplicationId")) {
      out["MessageDeduplicationId"] = m.deduplication_id;
    }
    if (wanted("SequenceNumber")) {
      out["SequenceNumber"] = absl::StrFormat("%020u", m.sequence_number);
    }
  }
  return out;
}

}  // namespace ferry::internal
