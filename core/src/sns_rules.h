// SNS's rules written once: error texts, ARNs and names, message attribute
// and subject validation, the JSON envelope of a notification, queue policy
// evaluation for SNS deliveries, and message signatures (sns.md §1, §3).
//
// Thread safety: pure functions, except the signing key, which is made once
// per process under a lock.
// Errors: SNS errors with AWS's exact texts.
#ifndef FERRY_CORE_SRC_SNS_RULES_H_
#define FERRY_CORE_SRC_SNS_RULES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/errors.h"
#include "ferry/message.h"

namespace ferry::internal {

// ---- Errors -----------------------------------------------------------------
inline absl::Status SnsError(std::string_view shape, std::string_view message) {
  return AwsError(AwsService::kSns, shape, message);
}
// InvalidParameter with the text as given (it usually starts "Invalid
// parameter: ").
inline absl::Status SnsInvalid(std::string_view message) {
  return SnsError("InvalidParameter", message);
}
inline absl::Status TopicNotFound() {
  return SnsError("NotFound", "Topic does not exist");
}
inline absl::Status SubscriptionNotFound() {
  return SnsError("NotFound", "Subscription does not exist");
}
// "1 validation error detected: Value null at '<path>' failed to satisfy
// constraint: Member must not be null"
absl::Status SnsMissing(std::string_view path);

// ---- ARNs and names ---------------------------------------------------------
std::vector<std::string_view> SplitArn(std::string_view arn);
// The ARN checks of sns.md §1.0 for parameter `param`: at least 6 elements,
// then the region. Returns the elements.
absl::Status CheckArn(std::string_view arn, std::string_view param,
                      std::string_view region,
                      std::vector<std::string_view>* parts);
std::string SnsTopicArn(std::string_view region, std::string_view account,
                        std::string_view name);
std::string SnsArnPrefix(std::string_view region, std::string_view account);
// 1-256 of [A-Za-z0-9_-], plus ".fifo" for FIFO topics.
bool IsValidTopicName(std::string_view name, bool fifo);
// E.164 after moto's separator rule (sns.md §1.5).
bool IsValidPhoneNumber(std::string_view number);
// 1-128 characters of a-zA-Z0-9 and ASCII punctuation.
bool IsValidGroupOrDedupId(std::string_view id);

// ---- Messages ---------------------------------------------------------------
// sns.md §1.7.1; `path` is the ValidationError path prefix of the attribute
// ("messageAttributes" or
// "publishBatchRequestEntries.1.member.messageAttributes").
absl::Status ValidateSnsAttributes(const MessageAttributeMap& attributes,
                                   std::string_view path);
// Bytes counted against the 256 KiB limit.
int64_t SnsMessageSize(std::string_view message,
                       const MessageAttributeMap& attributes);
inline constexpr int64_t kMaxSnsMessageBytes = 262144;
absl::Status ValidateSubject(std::string_view subject);
// MessageStructure=json: parses `message` into per-protocol texts. Keys with
// non-string values are dropped; "default" must be present unless
// `require_default` is false (direct publishes to a platform endpoint).
absl::Status ParseStructuredMessage(std::string_view message,
                                    std::map<std::string, std::string>* out,
                                    bool require_default = true);

// "2012-05-02T00:54:06.655Z"
std::string SnsTimestamp(absl::Time t);

// ---- Envelope ---------------------------------------------------------------
struct EnvelopeFields {
  std::string_view type;  // Notification | SubscriptionConfirmation | ...
  std::string_view message_id;
  std::string_view sequence_number;  // FIFO only
  std::string_view token;            // confirmations only
  std::string_view topic_arn;
  std::string_view subject;
  bool has_subject = false;
  std::string_view message;
  std::string_view subscribe_url;  // confirmations only
  std::string_view timestamp;
  // Empty: no signature fields (FIFO topics, signing off).
  std::string_view signature_version;
  std::string_view signature;
  std::string_view signing_cert_url;
  std::string_view unsubscribe_url;  // notifications only
  const MessageAttributeMap* attributes = nullptr;
  // Lambda records: SigningCertUrl/UnsubscribeUrl casing, attributes always.
  bool lambda_casing = false;
};
// The JSON envelope, fields in AWS's order (sns.md §3.1).
std::string BuildEnvelope(const EnvelopeFields& f);
// The string to sign (sns.md §3.6).
std::string CanonicalString(const EnvelopeFields& f);
// Base64 RSA signature of `text` with SHA1 (version "1") or SHA256 ("2"),
// with ferry's process-wide key.
std::string SignText(std::string_view text, std::string_view version);
// The PEM certificate of that key (for verifying ferry's signatures).
std::string SigningCertificatePem();

// ---- Queue policies ---------------------------------------------------------
enum class PolicyDecision { kAllow = 1, kDeny = 2, kUnsupported = 3 };
// Whether `policy` (a queue's Policy attribute) lets topic `topic_arn` send
// to queue `queue_arn`, within the subset docs/divergences.md lists. An
// empty policy allows.
PolicyDecision EvaluateQueuePolicy(std::string_view policy,
                                   std::string_view queue_arn,
                                   std::string_view topic_arn);

// ---- Delivery policy --------------------------------------------------------
// The EffectiveDeliveryPolicy of a topic with `delivery_policy` ("" = none).
std::string EffectiveDeliveryPolicy(std::string_view delivery_policy);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_SNS_RULES_H_
