#include "sns_rules.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "digest.h"
#include "ferry/sync.h"
#include "nlohmann/json.hpp"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

absl::Status ValueInvalid(std::string_view message) {
  return SnsError("ParameterValueInvalid", message);
}

std::string Quote(std::string_view s) {
  return Json(std::string(s))
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendField(std::string* out, std::string_view name,
                 std::string_view value) {
  if (out->size() > 1) out->push_back(',');
  absl::StrAppend(out, "\"", AsAbsl(name), "\":", Quote(value));
}

}  // namespace

absl::Status SnsMissing(std::string_view path) {
  return SnsError(
      "ValidationError",
      absl::StrCat("1 validation error detected: Value null at '", AsAbsl(path),
                   "' failed to satisfy constraint: Member must "
                   "not be null"));
}

std::vector<std::string_view> SplitArn(std::string_view arn) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= arn.size(); ++i) {
    if (i == arn.size() || arn[i] == ':') {
      parts.push_back(arn.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

absl::Status CheckArn(std::string_view arn, std::string_view param,
                      std::string_view region,
                      std::vector<std::string_view>* parts) {
  *parts = SplitArn(arn);
  if (parts->size() < 6) {
    return SnsInvalid(absl::StrCat(
        "Invalid parameter: ", AsAbsl(param),
        " Reason: An ARN must have at least 6 elements, not ", parts->size()));
  }
  if ((*parts)[0] != "arn" || (*parts)[2] != "sns" ||
      (!region.empty() && (*parts)[3] != region)) {
    return SnsInvalid(absl::StrCat("Invalid parameter: ", AsAbsl(param)));
  }
  return absl::OkStatus();
}

std::string SnsTopicArn(std::string_view region, std::string_view account,
                        std::string_view name) {
  return absl::StrCat("arn:aws:sns:", AsAbsl(region), ":", AsAbsl(account), ":",
                      AsAbsl(name));
}

std::string SnsArnPrefix(std::string_view region, std::string_view account) {
  return absl::StrCat("arn:aws:sns:", AsAbsl(region), ":", AsAbsl(account),
                      ":");
}

bool IsValidTopicName(std::string_view name, bool fifo) {
  if (fifo) {
    if (!absl::EndsWith(AsAbsl(name), ".fifo")) return false;
    name.remove_suffix(5);
  }
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '-';
  });
}

bool IsValidPhoneNumber(std::string_view number) {
  std::string digits;
  bool last_sep = true;  // no leading separator
  for (size_t i = 0; i < number.size(); ++i) {
    char c = number[i];
    if (c == '.' || c == '/' || c == '-') {
      if (last_sep) return false;
      last_sep = true;
      continue;
    }
    last_sep = false;
    digits.push_back(c);
  }
  if (last_sep) return false;  // trailing separator or empty
  std::string_view d = digits;
  if (!d.empty() && d[0] == '+') d.remove_prefix(1);
  if (d.size() < 2 || d.size() > 15 || d[0] < '1' || d[0] > '9') return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

bool IsValidGroupOrDedupId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return c >= 0x21 && c <= 0x7e; });
}

absl::Status ValidateSnsAttributes(const MessageAttributeMap& attributes,
                                   std::string_view path) {
  for (const auto& [name, value] : attributes) {
    if (name.size() > 256) {
      return ValueInvalid(
          "Length of message attribute name must be less than 256 bytes.");
    }
    for (char c : name) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
          c == '_' || c == '.') {
        continue;
      }
      return ValueInvalid(absl::StrFormat(
          "Invalid non-alphanumeric character '#x%X' was found in the message "
          "attribute name. Can only include alphanumeric characters, hyphens, "
          "underscores, or dots.",
          static_cast<unsigned char>(c)));
    }
    if (!name.empty() && name.front() == '.') {
      return ValueInvalid(
          "Invalid message attribute name starting with character '.' was "
          "found.");
    }
    if (!name.empty() && name.back() == '.') {
      return ValueInvalid(
          "Invalid message attribute name ending with character '.' was "
          "found.");
    }
    if (absl::StrContains(name, "..")) {
      return ValueInvalid(
          "Message attribute name can not have successive '.' character.");
    }
    if (value.data_type.empty()) {
      return SnsMissing(
          absl::StrCat(AsAbsl(path), ".", name, ".member.dataType"));
    }
    std::string_view type = value.data_type;
    std::string_view base = type.substr(0, type.find('.'));
    bool custom_ok = type.find('.') == std::string_view::npos ||
                     type.size() > base.size() + 1;
    if ((base != "String" && base != "Number" && base != "Binary") ||
        !custom_ok) {
      return ValueInvalid(absl::StrCat(
          "The message attribute '", name,
          "' has an invalid message attribute type, the set of supported type "
          "prefixes is Binary, Number, and String."));
    }
    if (base == "Binary") {
      if (value.binary_value.empty() && !value.string_value.empty()) {
        return ValueInvalid(absl::StrCat("The message attribute '", name,
                                         "' with type 'Binary' must use field "
                                         "'Binary'."));
      }
      if (value.binary_value.empty()) {
        return ValueInvalid(absl::StrCat(
            "The message attribute '", name,
            "' must contain non-empty message attribute value for message "
            "attribute type 'Binary'."));
      }
      continue;
    }
    if (!value.binary_value.empty()) {
      return ValueInvalid(absl::StrCat("The message attribute '", name,
                                       "' with type '", AsAbsl(base),
                                       "' must use field 'String'."));
    }
    if (value.string_value.empty()) {
      return ValueInvalid(absl::StrCat(
          "The message attribute '", name,
          "' must contain non-empty message attribute value for message "
          "attribute type '",
          AsAbsl(base), "'."));
    }
    if (!IsXmlText(value.string_value)) {
      return ValueInvalid(
          "Invalid attribute value was passed in for message attribute " +
          name);
    }
    if (base == "Number") {
      double d = 0;
      if (!absl::SimpleAtod(value.string_value, &d) || !std::isfinite(d)) {
        return ValueInvalid(absl::StrCat("Could not cast message attribute '",
                                         name, "' value to number."));
      }
    }
  }
  return absl::OkStatus();
}

int64_t SnsMessageSize(std::string_view message,
                       const MessageAttributeMap& attributes) {
  int64_t size = static_cast<int64_t>(message.size());
  for (const auto& [name, value] : attributes) {
    size += name.size() + value.data_type.size() + value.string_value.size() +
            value.binary_value.size();
  }
  return size;
}

absl::Status ValidateSubject(std::string_view subject) {
  if (subject.empty() || !IsValidUtf8(subject)) {
    return SnsInvalid("Invalid parameter: Subject");
  }
  int64_t chars = 0;
  for (unsigned char c : subject) {
    if ((c & 0xC0) != 0x80) ++chars;
    if (c < 0x20 || c == 0x7f) return SnsInvalid("Invalid parameter: Subject");
  }
  if (chars > 100) return SnsInvalid("Invalid parameter: Subject");
  return absl::OkStatus();
}

absl::Status ParseStructuredMessage(std::string_view message,
                                    std::map<std::string, std::string>* out,
                                    bool require_default) {
  Json parsed = Json::parse(message.begin(), message.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return SnsInvalid(
        "Invalid parameter: Message Structure - JSON message body failed to "
        "parse");
  }
  out->clear();
  for (auto it = parsed.begin(); it != parsed.end(); ++it) {
    if (it.value().is_string())
      (*out)[it.key()] = it.value().get<std::string>();
  }
  if (require_default && out->count("default") == 0) {
    return SnsInvalid(
        "Invalid parameter: Message Structure - No default entry in JSON "
        "message body");
  }
  return absl::OkStatus();
}

std::string SnsTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string BuildEnvelope(const EnvelopeFields& f) {
  std::string out = "{";
  out.reserve(f.message.size() + 512);
  AppendField(&out, "Type", f.type);
  AppendField(&out, "MessageId", f.message_id);
  if (!f.sequence_number.empty()) {
    AppendField(&out, "SequenceNumber", f.sequence_number);
  }
  if (!f.token.empty()) AppendField(&out, "Token", f.token);
  AppendField(&out, "TopicArn", f.topic_arn);
  if (f.has_subject) AppendField(&out, "Subject", f.subject);
  AppendField(&out, "Message", f.message);
  if (!f.subscribe_url.empty()) {
    AppendField(&out, "SubscribeURL", f.subscribe_url);
  }
  AppendField(&out, "Timestamp", f.timestamp);
  if (!f.signature_version.empty()) {
    AppendField(&out, "SignatureVersion", f.signature_version);
    AppendField(&out, "Signature", f.signature);
    AppendField(&out, f.lambda_casing ? "SigningCertUrl" : "SigningCertURL",
                f.signing_cert_url);
  }
  if (!f.unsubscribe_url.empty()) {
    AppendField(&out, f.lambda_casing ? "UnsubscribeUrl" : "UnsubscribeURL",
                f.unsubscribe_url);
  }
  const bool has_attributes = f.attributes != nullptr && !f.attributes->empty();
  if (has_attributes || f.lambda_casing) {
    out += ",\"MessageAttributes\":{";
    bool first = true;
    if (has_attributes) {
      for (const auto& [name, value] : *f.attributes) {
        if (!first) out.push_back(',');
        first = false;
        std::string_view base = std::string_view(value.data_type)
                                    .substr(0, value.data_type.find('.'));
        std::string type = value.data_type;
        if (f.lambda_casing && base != "Binary") type = "String";
        absl::StrAppend(
            &out, Quote(name), ":{\"Type\":", Quote(type), ",\"Value\":",
            Quote(base == "Binary" ? Base64Encode(value.binary_value)
                                   : value.string_value),
            "}");
      }
    }
    out += "}";
  }
  out += "}";
  return out;
}

std::string CanonicalString(const EnvelopeFields& f) {
  std::string s;
  auto add = [&](std::string_view name, std::string_view value) {
    absl::StrAppend(&s, AsAbsl(name), "\n", AsAbsl(value), "\n");
  };
  add("Message", f.message);
  add("MessageId", f.message_id);
  if (f.type == "Notification") {
    if (f.has_subject) add("Subject", f.subject);
    add("Timestamp", f.timestamp);
    add("TopicArn", f.topic_arn);
    add("Type", f.type);
  } else {
    add("SubscribeURL", f.subscribe_url);
    add("Timestamp", f.timestamp);
    add("Token", f.token);
    add("TopicArn", f.topic_arn);
    add("Type", f.type);
  }
  return s;
}

namespace {

struct SigningKey {
  EVP_PKEY* key = nullptr;
  std::string cert_pem;
};

SigningKey& Key() {
  static SigningKey* key = [] {
    auto* k = new SigningKey;
    k->key = EVP_RSA_gen(2048);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert, k->key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_ASC,
        reinterpret_cast<const unsigned char*>("sns.amazonaws.com"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, k->key, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    k->cert_pem.assign(data, static_cast<size_t>(len));
    BIO_free(bio);
    X509_free(cert);
    return k;
  }();
  return *key;
}

}  // namespace

std::string SignText(std::string_view text, std::string_view version) {
  SigningKey& k = Key();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = version == "2" ? EVP_sha256() : EVP_sha1();
  std::string sig;
  size_t len = 0;
  if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, k.key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len,
                     reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       text.size()) == 1) {
      sig.resize(len);
    } else {
      sig.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  return Base64Encode(sig);
}

std::string SigningCertificatePem() { return Key().cert_pem; }

namespace {

bool ArnLike(std::string_view pattern, std::string_view value) {
  // '*' any run, '?' any one character.
  size_t p = 0, v = 0, star = std::string_view::npos, mark = 0;
  while (v < value.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == value[v])) {
      ++p;
      ++v;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<std::string> Strings(const Json& j, bool* ok) {
  std::vector<std::string> out;
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_array()) {
    for (const Json& e : j) {
      if (!e.is_string()) {
        *ok = false;
        return {};
      }
      out.push_back(e.get<std::string>());
    }
  } else {
    *ok = false;
  }
  return out;
}

// 1: applies, 0: does not apply, -1: outside the supported subset.
int StatementApplies(const Json& st, std::string_view queue_arn,
                     std::string_view topic_arn) {
  static const char* const kKnown[] = {"Sid",    "Effect",   "Principal",
                                       "Action", "Resource", "Condition"};
  for (auto it = st.begin(); it != st.end(); ++it) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown),
                     [&](const char* k) { return it.key() == k; })) {
      return -1;  // NotPrincipal, NotAction, NotResource, ...
    }
  }
  bool ok = true;
  // Principal: "*", {"AWS":"*"} or {"Service":"sns.amazonaws.com"}.
  if (!st.contains("Principal")) return -1;
  const Json& pr = st["Principal"];
  bool principal = false;
  if (pr.is_string()) {
    if (pr.get<std::string>() != "*") return -1;
    principal = true;
  } else if (pr.is_object()) {
    for (auto it = pr.begin(); it != pr.end(); ++it) {
      std::vector<std::string> values = Strings(it.value(), &ok);
      if (!ok) return -1;
      for (const std::string& v : values) {
        if (it.key() == "AWS" && v == "*") principal = true;
        if (it.key() == "Service" && v == "sns.amazonaws.com") principal = true;
      }
    }
  } else {
    return -1;
  }
  if (!principal) return 0;
  if (!st.contains("Action")) return -1;
  bool action = false;
  for (const std::string& a : Strings(st["Action"], &ok)) {
    std::string lower = absl::AsciiStrToLower(a);
    if (lower == "sqs:sendmessage" || lower == "sqs:*" || lower == "*") {
      action = true;
    }
  }
  if (!ok) return -1;
  if (!action) return 0;
  if (st.contains("Resource")) {
    bool resource = false;
    for (const std::string& r : Strings(st["Resource"], &ok)) {
      if (r == "*" || r == queue_arn) resource = true;
    }
    if (!ok) return -1;
    if (!resource) return 0;
  }
  if (st.contains("Condition")) {
    const Json& c = st["Condition"];
    if (!c.is_object()) return -1;
    for (auto op = c.begin(); op != c.end(); ++op) {
      if (op.key() != "ArnEquals" && op.key() != "ArnLike") return -1;
      if (!op.value().is_object()) return -1;
      for (auto k = op.value().begin(); k != op.value().end(); ++k) {
        if (absl::AsciiStrToLower(k.key()) != "aws:sourcearn") return -1;
        bool any = false;
        for (const std::string& v : Strings(k.value(), &ok)) {
          if (op.key() == "ArnEquals" ? v == topic_arn
                                      : ArnLike(v, topic_arn)) {
            any = true;
          }
        }
        if (!ok) return -1;
        if (!any) return 0;
      }
    }
  }
  return 1;
}

}  // namespace

PolicyDecision EvaluateQueuePolicy(std::string_view policy,
                                   std::string_view queue_arn,
                                   std::string_view topic_arn) {
  if (policy.empty()) return PolicyDecision::kAllow;
  Json doc = Json::parse(policy.begin(), policy.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("Statement")) {
    return PolicyDecision::kUnsupported;
  }
  Json statements = doc["Statement"];
  if (statements.is_object()) statements = Json::array({statements});
  if (!statements.is_array()) return PolicyDecision::kUnsupported;
  bool allowed = false;
  for (const Json& st : statements) {
    if (!st.is_object() || !st.contains("Effect") ||
        !st["Effect"].is_string()) {
      return PolicyDecision::kUnsupported;
    }
    std::string effect = st["Effect"].get<std::string>();
    if (effect != "Allow" && effect != "Deny") {
      return PolicyDecision::kUnsupported;
    }
    int applies = StatementApplies(st, queue_arn, topic_arn);
    if (applies < 0) return PolicyDecision::kUnsupported;
    if (applies == 0) continue;
    if (effect == "Deny") return PolicyDecision::kDeny;
    allowed = true;
  }
  return allowed ? PolicyDecision::kAllow : PolicyDecision::kDeny;
}

std::string EffectiveDeliveryPolicy(std::string_view delivery_policy) {
  OJson retry = {{"minDelayTarget", 20},
                 {"maxDelayTarget", 20},
                 {"numRetries", 3},
                 {"numMaxDelayRetries", 0},
                 {"numNoDelayRetries", 0},
                 {"numMinDelayRetries", 0},
                 {"backoffFunction", "linear"}};
  OJson http = {{"defaultHealthyRetryPolicy", retry},
                {"disableSubscriptionOverrides", false},
                {"defaultRequestPolicy",
                 {{"headerContentType", "text/plain; charset=UTF-8"}}}};
  if (!delivery_policy.empty()) {
    OJson given = OJson::parse(delivery_policy.begin(), delivery_policy.end(),
                               nullptr, false);
    if (!given.is_discarded() && given.is_object() && given.contains("http") &&
        given["http"].is_object()) {
      const OJson& g = given["http"];
      for (auto it = g.begin(); it != g.end(); ++it) {
        if (it.value().is_object() && http.contains(it.key()) &&
            http[it.key()].is_object()) {
          for (auto f = it.value().begin(); f != it.value().end(); ++f) {
            http[it.key()][f.key()] = f.value();
          }
        } else {
          http[it.key()] = it.value();
        }
      }
    }
  }
  return OJson{{"http", http}}.dump();
}

}  // namespace ferry::internal
