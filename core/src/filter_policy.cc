// SNS subscription filter policies (reference/sns.md §2): the compiler with
// AWS's validation texts, the matcher, and the per-topic index.
//
// A compiled policy is an AND node: leaf fields (a dotted path and the
// alternatives of its array, ORed) plus `$or` groups of sub-nodes. Nested
// policy objects are flattened into dotted paths, and so is a message body
// (arrays are transparent), which gives sns.md §2.4's dotted-key behaviour.
//
// Typing (sns.md §2.5): message values are strings, numbers, true, false or
// null; a string condition only matches strings, a numeric one only numbers.
// Numbers compare after rounding to 6 decimal places (event-ruler's
// ComparableNumber precision; AWS documents 5), so 301.5 == 3.015e2.

#include "filter_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ferry/errors.h"
#include "nlohmann/json.hpp"
#include "status_macros.h"
#include "string_util.h"

namespace ferry::internal {
namespace {

using PolicyJson = nlohmann::ordered_json;  // keeps the policy's key order

constexpr size_t kMaxPolicyBytes = 256 * 1024;
constexpr int kMaxKeys = 5;
constexpr int64_t kMaxComplexity = 150;
// Any leaf below this nesting level (objects or `$or`s) makes the policy
// exceed 150 combinations, so the compiler stops there (and never recurses
// deeper than this on hostile input).
constexpr int kMaxPolicyLevels = 160;
// Body values nested deeper than this (objects and arrays) are not indexed;
// no valid policy reaches below 150 object levels.
constexpr int kMaxBodyLevels = 512;

// ---- Errors ----------------------------------------------------------------

absl::Status PolicyError(std::string_view text) {
  return AwsError(AwsService::kSns, "InvalidParameter",
                  absl::StrCat("FilterPolicy: ", AsAbsl(text)));
}

absl::Status NestedInAttributesError() {
  return AwsError(AwsService::kSns, "InvalidParameter",
                  "Filter policy scope MessageAttributes does not support "
                  "nested filter policy");
}

// ---- Numbers ----------------------------------------------------------------

// The comparable form of a number: rounded to 6 decimal places, as an
// integer-valued double (exact up to |v| < 9e9, monotone beyond). -0 is 0.
double Canonical(double v) { return std::nearbyint(v * 1e6) + 0.0; }

// Parses a whole string as a number (message attributes of type Number).
std::optional<double> ParseNumber(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return Canonical(v);
}

// ---- IP addresses -----------------------------------------------------------

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

std::optional<IpAddress> ParseIp(std::string_view s) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof(buf)) return std::nullopt;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  IpAddress ip;
  if (s.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
  } else {
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    ip.v6 = true;
  }
  return ip;
}

// ---- Compiled form ----------------------------------------------------------

enum class Op : uint8_t {
  kString,
  kNumber,
  kTrue,
  kFalse,
  kNull,
  kPrefix,
  kSuffix,
  kEqualsIgnoreCase,
  kAnythingButStrings,
  kAnythingButNumbers,
  kAnythingButPrefix,
  kRange,
  kExists,
  kNotExists,
  kCidr,
};

struct NumericRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;

  bool Contains(double v) const {
    if (lo_open ? !(v > lo) : !(v >= lo)) return false;
    if (hi_open ? !(v < hi) : !(v <= hi)) return false;
    return true;
  }
};

// Field order: what a match reads first comes first (one cache line).
struct Matcher {
  Op op = Op::kString;
  double number = 0;   // kNumber (canonical)
  NumericRange range;  // kRange (canonical bounds)
  // kString, kPrefix, kSuffix, kAnythingButPrefix; kEqualsIgnoreCase holds
  // it ASCII-lowercased.
  std::string text;
  std::vector<std::string> strings;  // kAnythingButStrings, sorted
  std::vector<double> numbers;       // kAnythingButNumbers, sorted canonical
  bool cidr_v6 = false;              // kCidr: [cidr_lo, cidr_hi] bytewise
  std::array<uint8_t, 16> cidr_lo{};
  std::array<uint8_t, 16> cidr_hi{};
};

// Fields and their matchers are held inline for the common small policy, so
// that verifying a candidate reads one allocation (the Compiled) rather than
// chasing a pointer per field and per matcher.
struct Field {
  std::string path;  // dotted; an attribute name in MessageAttributes scope
  int depth = 1;     // nesting level of the key (1 = top level)
  bool has_value_matchers = false;
  bool has_exists = false;
  bool has_not_exists = false;
  absl::InlinedVector<Matcher, 2> matchers;  // ORed
};

struct Node {  // AND of its fields and of its `$or` groups
  absl::InlinedVector<Field, 2> fields;
  std::vector<std::vector<Node>> ors;  // each group: OR of its nodes
};

bool IsIndexable(Op op) {
  switch (op) {
    case Op::kString:
    case Op::kNumber:
    case Op::kTrue:
    case Op::kFalse:
    case Op::kNull:
    case Op::kPrefix:
    case Op::kSuffix:
    case Op::kEqualsIgnoreCase:
    case Op::kRange:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct FilterPolicy::Compiled {
  FilterPolicyScope scope = FilterPolicyScope::kMessageAttributes;
  bool match_all = false;  // the empty policy "{}"
  Node root;
  int64_t complexity = 0;
};

// ---- Message values ---------------------------------------------------------

namespace {

enum class ValueType : uint8_t { kString, kNumber, kTrue, kFalse, kNull };

struct Value {
  ValueType type = ValueType::kNull;
  std::string_view str;  // kString
  double number = 0;     // kNumber (canonical)
};

struct PathValues {
  absl::InlinedVector<Value, 1> values;
  bool present = false;  // holds at least one non-null value
};

}  // namespace

struct FilterMessage::Parsed {
  // Dotted path -> the leaf values there (arrays are transparent). String
  // values point into the body, or into `decoded` when they had escapes.
  absl::flat_hash_map<std::string, PathValues> paths;
  std::deque<std::string> decoded;
};

namespace {

// ---- String.Array values: a non-allocating JSON scan ------------------------

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : s_(s) {}

  void SkipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' ||
                                s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }

  // At '"': the raw contents (escapes undecoded).
  bool String(std::string_view* raw, bool* escaped) {
    if (!Consume('"')) return false;
    const size_t start = pos_;
    *escaped = false;
    while (pos_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        *raw = s_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        *escaped = true;
        ++pos_;
        if (pos_ >= s_.size()) return false;
        const char e = s_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i) {
            if (pos_ + i >= s_.size() ||
                !std::isxdigit(static_cast<unsigned char>(s_[pos_ + i]))) {
              return false;
            }
          }
          pos_ += 4;
        } else if (std::strchr("\"\\/bfnrt", e) == nullptr || e == '\0') {
          return false;
        }
      }
      ++pos_;
    }
    return false;
  }

  bool Number(std::string_view* raw) {
    const size_t start = pos_;
    Consume('-');
    if (Consume('0')) {
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9' && !AtEnd()) ++pos_;
    } else {
      return false;
    }
    if (Consume('.')) {
      if (!(Peek() >= '0' && Peek() <= '9') || AtEnd()) return false;
      while (Peek() >= '0' && Peek() <= '9' && !AtEnd()) ++pos_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!(Peek() >= '0' && Peek() <= '9') || AtEnd()) return false;
      while (Peek() >= '0' && Peek() <= '9' && !AtEnd()) ++pos_;
    }
    *raw = s_.substr(start, pos_ - start);
    return true;
  }

  bool Literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  // Validates (and skips) one value of any kind; `level` bounds recursion.
  bool SkipValue(int level) {
    if (level > kMaxBodyLevels) return false;
    SkipWs();
    std::string_view raw;
    bool escaped = false;
    switch (Peek()) {
      case '"':
        return String(&raw, &escaped);
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      case '[': {
        ++pos_;
        SkipWs();
        if (Consume(']')) return true;
        while (true) {
          if (!SkipValue(level + 1)) return false;
          SkipWs();
          if (Consume(']')) return true;
          if (!Consume(',')) return false;
        }
      }
      case '{': {
        ++pos_;
        SkipWs();
        if (Consume('}')) return true;
        while (true) {
          SkipWs();
          if (!String(&raw, &escaped)) return false;
          SkipWs();
          if (!Consume(':')) return false;
          if (!SkipValue(level + 1)) return false;
          SkipWs();
          if (Consume('}')) return true;
          if (!Consume(',')) return false;
        }
      }
      default:
        return Number(&raw);
    }
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t Hex4(std::string_view s) {
  uint32_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint32_t>(c - '0');
    } else {
      v |= static_cast<uint32_t>((c | 0x20) - 'a' + 10);
    }
  }
  return v;
}

// Decodes the contents of a validated JSON string.
void Unescape(std::string_view raw, std::string* out) {
  out->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out->push_back(raw[i]);
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        uint32_t cp = Hex4(raw.substr(i + 1, 4));
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < raw.size() + 0 + 1 &&
            raw.substr(i + 1, 2) == "\\u") {
          const uint32_t low = Hex4(raw.substr(i + 3, 4));
          if (low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        out->push_back(e);  // " \ /
    }
  }
}

// Calls fn(value) for each scalar element of the String.Array value `text`
// until fn returns true (then returns true). Nested arrays and objects are
// skipped; a scalar JSON value counts as a one-element array; text that is
// not valid JSON has no elements.
template <typename Fn>
bool ForEachArrayElement(std::string_view text, Fn&& fn) {
  {
    JsonScanner check(text);
    if (!check.SkipValue(0)) return false;
    check.SkipWs();
    if (!check.AtEnd()) return false;
  }
  JsonScanner scan(text);
  std::string decoded;
  auto emit_scalar = [&](JsonScanner& s) -> std::optional<bool> {
    Value v;
    std::string_view raw;
    bool escaped = false;
    switch (s.Peek()) {
      case '"':
        s.String(&raw, &escaped);
        v.type = ValueType::kString;
        if (escaped) {
          Unescape(raw, &decoded);
          v.str = decoded;
        } else {
          v.str = raw;
        }
        break;
      case 't':
        s.Literal("true");
        v.type = ValueType::kTrue;
        break;
      case 'f':
        s.Literal("false");
        v.type = ValueType::kFalse;
        break;
      case 'n':
        s.Literal("null");
        v.type = ValueType::kNull;
        break;
      case '[':
      case '{':
        s.SkipValue(1);
        return std::nullopt;
      default: {
        s.Number(&raw);
        double d = 0;
        auto [end, ec] =
            std::from_chars(raw.data(), raw.data() + raw.size(), d);
        (void)end;
        if (ec != std::errc() || !std::isfinite(d)) return std::nullopt;
        v.type = ValueType::kNumber;
        v.number = Canonical(d);
        break;
      }
    }
    return fn(v);
  };
  scan.SkipWs();
  if (scan.Peek() != '[') {
    std::optional<bool> r = emit_scalar(scan);
    return r.has_value() && *r;
  }
  scan.Consume('[');
  scan.SkipWs();
  if (scan.Consume(']')) return false;
  while (true) {
    scan.SkipWs();
    std::optional<bool> r = emit_scalar(scan);
    if (r.has_value() && *r) return true;
    scan.SkipWs();
    if (!scan.Consume(',')) return false;  // ']'
  }
}

// Flattens a validated JSON body into FilterMessage::Parsed (sns.md §2.4:
// nested keys become dotted paths, arrays are transparent), without building
// a document: strings without escapes stay views into the body.
class BodyFlattener {
 public:
  BodyFlattener(std::string_view text, FilterMessage::Parsed* out)
      : scan_(text), out_(out) {}

  void Element() {
    scan_.SkipWs();
    switch (scan_.Peek()) {
      case '{':
        Object();
        return;
      case '[':
        Array();
        return;
      default:
        Scalar();
    }
  }

 private:
  void Object() {
    scan_.Consume('{');
    scan_.SkipWs();
    if (scan_.Consume('}')) return;
    while (true) {
      scan_.SkipWs();
      std::string_view raw;
      bool escaped = false;
      scan_.String(&raw, &escaped);
      const size_t old = path_.size();
      if (!path_.empty()) path_.push_back('.');
      if (escaped) {
        Unescape(raw, &key_);
        path_.append(key_);
      } else {
        path_.append(raw);
      }
      scan_.SkipWs();
      scan_.Consume(':');
      Element();
      path_.resize(old);
      scan_.SkipWs();
      if (scan_.Consume('}')) return;
      scan_.Consume(',');
    }
  }

  void Array() {
    scan_.Consume('[');
    scan_.SkipWs();
    if (scan_.Consume(']')) return;
    while (true) {
      Element();
      scan_.SkipWs();
      if (scan_.Consume(']')) return;
      scan_.Consume(',');
    }
  }

  void Scalar() {
    Value v;
    std::string_view raw;
    bool escaped = false;
    switch (scan_.Peek()) {
      case '"':
        scan_.String(&raw, &escaped);
        v.type = ValueType::kString;
        if (escaped) {
          std::string& d = out_->decoded.emplace_back();
          Unescape(raw, &d);
          v.str = d;
        } else {
          v.str = raw;
        }
        break;
      case 't':
        scan_.Literal("true");
        v.type = ValueType::kTrue;
        break;
      case 'f':
        scan_.Literal("false");
        v.type = ValueType::kFalse;
        break;
      case 'n':
        scan_.Literal("null");
        v.type = ValueType::kNull;
        break;
      default: {
        scan_.Number(&raw);
        double d = 0;
        auto [end, ec] =
            std::from_chars(raw.data(), raw.data() + raw.size(), d);
        (void)end;
        // Out of double range: not comparable, like an unparsable Number.
        if (ec != std::errc() || !std::isfinite(d)) return;
        v.type = ValueType::kNumber;
        v.number = Canonical(d);
        break;
      }
    }
    PathValues& pv = out_->paths[path_];
    pv.values.push_back(v);
    if (v.type != ValueType::kNull) pv.present = true;
  }

  JsonScanner scan_;
  FilterMessage::Parsed* out_;
  std::string path_;
  std::string key_;
};

enum class AttrKind { kString, kNumber, kArray, kIgnored };

AttrKind KindOf(std::string_view data_type) {
  if (data_type == "String.Array") return AttrKind::kArray;
  std::string_view base = data_type.substr(0, data_type.find('.'));
  if (base == "String") return AttrKind::kString;
  if (base == "Number") return AttrKind::kNumber;
  return AttrKind::kIgnored;  // Binary: filters ignore it (sns.md §2.1)
}

// Calls fn(value) for each value of `path` in `message` until fn returns
// true; returns whether it did. *present: the key exists for `exists`.
template <typename Fn>
bool VisitValues(const FilterMessage& message, FilterPolicyScope scope,
                 const std::string& path, bool* present, Fn&& fn) {
  *present = false;
  if (scope == FilterPolicyScope::kMessageAttributes) {
    const MessageAttributeMap& attrs = message.attributes();
    auto it = attrs.find(path);
    if (it == attrs.end()) return false;
    const MessageAttributeValue& a = it->second;
    switch (KindOf(a.data_type)) {
      case AttrKind::kIgnored:
        return false;
      case AttrKind::kString:
        *present = true;
        return fn(Value{ValueType::kString, a.string_value, 0});
      case AttrKind::kNumber: {
        *present = true;
        std::optional<double> n = ParseNumber(a.string_value);
        if (!n.has_value()) return false;
        return fn(Value{ValueType::kNumber, {}, *n});
      }
      case AttrKind::kArray:
        *present = true;
        return ForEachArrayElement(a.string_value, fn);
    }
    return false;
  }
  const FilterMessage::Parsed* parsed = message.parsed_body();
  if (parsed == nullptr) return false;
  auto it = parsed->paths.find(path);
  if (it == parsed->paths.end()) return false;
  *present = it->second.present;
  for (const Value& v : it->second.values) {
    if (fn(v)) return true;
  }
  return false;
}

bool EqualsIgnoreCaseAscii(std::string_view value, std::string_view lowered) {
  if (value.size() != lowered.size()) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lowered[i]) return false;
  }
  return true;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool InCidr(const Matcher& m, std::string_view s) {
  std::optional<IpAddress> ip = ParseIp(s);
  if (!ip.has_value() || ip->v6 != m.cidr_v6) return false;
  const size_t n = m.cidr_v6 ? 16 : 4;
  return std::memcmp(ip->bytes.data(), m.cidr_lo.data(), n) >= 0 &&
         std::memcmp(ip->bytes.data(), m.cidr_hi.data(), n) <= 0;
}

bool MatchValue(const Matcher& m, const Value& v) {
  const bool is_string = v.type == ValueType::kString;
  switch (m.op) {
    case Op::kString:
      return is_string && v.str == m.text;
    case Op::kNumber:
      return v.type == ValueType::kNumber && v.number == m.number;
    case Op::kTrue:
      return v.type == ValueType::kTrue;
    case Op::kFalse:
      return v.type == ValueType::kFalse;
    case Op::kNull:
      return v.type == ValueType::kNull;
    case Op::kPrefix:
      return is_string && v.str.starts_with(m.text);
    case Op::kSuffix:
      return is_string && v.str.ends_with(m.text);
    case Op::kEqualsIgnoreCase:
      return is_string && EqualsIgnoreCaseAscii(v.str, m.text);
    case Op::kAnythingButStrings:
      return v.type != ValueType::kNull &&
             !(is_string &&
               std::binary_search(m.strings.begin(), m.strings.end(), v.str));
    case Op::kAnythingButNumbers:
      return v.type != ValueType::kNull &&
             !(v.type == ValueType::kNumber &&
               std::binary_search(m.numbers.begin(), m.numbers.end(),
                                  v.number));
    case Op::kAnythingButPrefix:
      return v.type != ValueType::kNull &&
             !(is_string && v.str.starts_with(m.text));
    case Op::kRange:
      return v.type == ValueType::kNumber && m.range.Contains(v.number);
    case Op::kCidr:
      return is_string && InCidr(m, v.str);
    case Op::kExists:
    case Op::kNotExists:
      return false;
  }
  return false;
}

bool MatchField(const Field& f, const FilterMessage& message,
                FilterPolicyScope scope) {
  bool present = false;
  bool hit = VisitValues(message, scope, f.path, &present, [&](const Value& v) {
    if (!f.has_value_matchers) return false;
    for (const Matcher& m : f.matchers) {
      if (MatchValue(m, v)) return true;
    }
    return false;
  });
  if (hit) return true;
  if (f.has_exists && present) return true;
  // exists:false does not match a message without any attributes (sns.md
  // §2.2); Matches() has already rejected such a message.
  if (f.has_not_exists && !present) return true;
  return false;
}

bool MatchNode(const Node& node, const FilterMessage& message,
               FilterPolicyScope scope) {
  for (const Field& f : node.fields) {
    if (!MatchField(f, message, scope)) return false;
  }
  for (const std::vector<Node>& group : node.ors) {
    bool any = false;
    for (const Node& alt : group) {
      if (MatchNode(alt, message, scope)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

// ---- Compiler ---------------------------------------------------------------

// A JSON value as Jackson's getText() would print it in an error message.
std::string TokenText(const PolicyJson& j) {
  switch (j.type()) {
    case PolicyJson::value_t::object:
      return "{";
    case PolicyJson::value_t::array:
      return "[";
    case PolicyJson::value_t::string:
      return j.get<std::string>();
    default:
      return j.dump();
  }
}

constexpr std::string_view kReservedInOr[] = {
    "anything-but", "cidr",   "equals-ignore-case", "exists", "numeric",
    "prefix",       "suffix", "wildcard",
};

// sns.md §2.2: "$or" is an OR only when its value is an array of at least 2
// objects none of which uses a reserved keyword as a field name; otherwise it
// is a plain key named "$or".
bool IsRealOr(const PolicyJson& value) {
  if (!value.is_array() || value.size() < 2) return false;
  for (const PolicyJson& element : value) {
    if (!element.is_object()) return false;
    for (const auto& [key, unused] : element.items()) {
      for (std::string_view reserved : kReservedInOr) {
        if (key == reserved) return false;
      }
    }
  }
  return true;
}

class Compiler {
 public:
  explicit Compiler(FilterPolicyScope scope) : scope_(scope) {}

  // Compiles the members of `obj` into `out`, keys prefixed with `prefix`.
  absl::Status Object(const PolicyJson& obj, const std::string& prefix,
                      int depth, int level, Node* out) {
    if (level > kMaxPolicyLevels)
      return PolicyError("Filter policy is too complex");
    if (obj.empty()) return PolicyError("Empty objects are not allowed");
    for (const auto& [key, value] : obj.items()) {
      if (key == "$or" && IsRealOr(value)) {
        std::vector<Node>& group = out->ors.emplace_back();
        for (const PolicyJson& element : value) {
          FERRY_RETURN_IF_ERROR(
              Object(element, prefix, depth, level + 1, &group.emplace_back()));
        }
        continue;
      }
      std::string path = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
      if (value.is_object()) {
        FERRY_RETURN_IF_ERROR(Object(value, path, depth + 1, level + 1, out));
        // The nested content is checked first (sns.md §2.8).
        if (scope_ == FilterPolicyScope::kMessageAttributes) {
          return NestedInAttributesError();
        }
        continue;
      }
      if (!value.is_array()) {
        return PolicyError(
            absl::StrCat("\"", key, "\" must be an object or an array"));
      }
      Field field;
      field.path = std::move(path);
      field.depth = depth;
      FERRY_RETURN_IF_ERROR(Values(value, &field));
      out->fields.push_back(std::move(field));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Values(const PolicyJson& array, Field* field) {
    for (const PolicyJson& element : array) {
      Matcher m;
      switch (element.type()) {
        case PolicyJson::value_t::object:
          FERRY_RETURN_IF_ERROR(Expression(element, &m));
          break;
        case PolicyJson::value_t::string:
          m.op = Op::kString;
          m.text = element.get<std::string>();
          break;
        case PolicyJson::value_t::number_integer:
        case PolicyJson::value_t::number_unsigned:
        case PolicyJson::value_t::number_float:
          m.op = Op::kNumber;
          m.number = Canonical(element.get<double>());
          break;
        case PolicyJson::value_t::boolean:
          m.op = element.get<bool>() ? Op::kTrue : Op::kFalse;
          break;
        case PolicyJson::value_t::null:
          m.op = Op::kNull;
          break;
        default:
          return PolicyError(
              "Match value must be String, number, true, false, or null");
      }
      if (m.op == Op::kExists) {
        field->has_exists = true;
      } else if (m.op == Op::kNotExists) {
        field->has_not_exists = true;
      } else {
        field->has_value_matchers = true;
      }
      field->matchers.push_back(std::move(m));
    }
    if (field->matchers.empty()) {
      return PolicyError("Empty arrays are not allowed");
    }
    return absl::OkStatus();
  }

  static absl::Status OnlyOneKey(const PolicyJson& obj) {
    if (obj.size() > 1) {
      return PolicyError("Only one key allowed in match expression");
    }
    return absl::OkStatus();
  }

  absl::Status Expression(const PolicyJson& obj, Matcher* m) {
    if (obj.empty()) return PolicyError("Match expression name not found");
    const auto first = obj.begin();
    const std::string& op = first.key();
    const PolicyJson& value = first.value();
    if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
      if (!value.is_string()) {
        return PolicyError(absl::StrCat(op, " match pattern must be a string"));
      }
      FERRY_RETURN_IF_ERROR(OnlyOneKey(obj));
      if (op == "prefix") {
        m->op = Op::kPrefix;
        m->text = value.get<std::string>();
      } else if (op == "suffix") {
        m->op = Op::kSuffix;
        m->text = value.get<std::string>();
      } else {
        m->op = Op::kEqualsIgnoreCase;
        m->text = LowerAscii(value.get_ref<const std::string&>());
      }
      return absl::OkStatus();
    }
    if (op == "anything-but") {
      FERRY_RETURN_IF_ERROR(AnythingBut(value, m));
      if (obj.size() > 1) {
        return PolicyError("Too many elements in numeric expression");
      }
      return absl::OkStatus();
    }
    if (op == "numeric") {
      if (!value.is_array()) {
        return PolicyError("Value of numeric must be an array.");
      }
      FERRY_RETURN_IF_ERROR(Numeric(value, m));
      if (obj.size() > 1) {
        return PolicyError("Too many elements in numeric expression");
      }
      return absl::OkStatus();
    }
    if (op == "exists") {
      if (!value.is_boolean()) {
        return PolicyError(
            "exists match pattern must be either true or false.");
      }
      FERRY_RETURN_IF_ERROR(OnlyOneKey(obj));
      m->op = value.get<bool>() ? Op::kExists : Op::kNotExists;
      return absl::OkStatus();
    }
    if (op == "cidr") {
      if (!value.is_string()) {
        return PolicyError("prefix match pattern must be a string");
      }
      FERRY_RETURN_IF_ERROR(Cidr(value.get_ref<const std::string&>(), m));
      return OnlyOneKey(obj);
    }
    return PolicyError(absl::StrCat("Unrecognized match type ", op));
  }

  absl::Status AnythingBut(const PolicyJson& value, Matcher* m) {
    if (value.is_object()) {
      if (value.empty()) {
        return PolicyError("Anything-But expression name not found");
      }
      const auto first = value.begin();
      const std::string& inner = first.key();
      const PolicyJson& text = first.value();
      if (inner != "prefix") {
        return PolicyError(
            absl::StrCat("Unsupported anything-but pattern: ", inner));
      }
      if (!text.is_string()) {
        return PolicyError("prefix match pattern must be a string");
      }
      if (text.get_ref<const std::string&>().empty()) {
        return PolicyError("Null prefix not allowed");
      }
      FERRY_RETURN_IF_ERROR(OnlyOneKey(value));
      m->op = Op::kAnythingButPrefix;
      m->text = text.get<std::string>();
      return absl::OkStatus();
    }
    if (value.is_string()) {
      m->op = Op::kAnythingButStrings;
      m->strings.push_back(value.get<std::string>());
      return absl::OkStatus();
    }
    if (value.is_number()) {
      m->op = Op::kAnythingButNumbers;
      m->numbers.push_back(Canonical(value.get<double>()));
      return absl::OkStatus();
    }
    if (!value.is_array()) {
      return PolicyError(
          "Value of anything-but must be an array or single string/number "
          "value.");
    }
    bool has_string = false;
    bool has_number = false;
    for (const PolicyJson& element : value) {
      if (element.is_string()) {
        has_string = true;
        m->strings.push_back(element.get<std::string>());
      } else if (element.is_number()) {
        has_number = true;
        m->numbers.push_back(Canonical(element.get<double>()));
      } else {
        return PolicyError(
            "Inside anything but list, start|null|boolean is not supported.");
      }
    }
    if (has_string == has_number) {
      return PolicyError(
          "Inside anything but list, either all values are number or string, "
          "mixed type is not supported");
    }
    m->op = has_string ? Op::kAnythingButStrings : Op::kAnythingButNumbers;
    std::sort(m->strings.begin(), m->strings.end());
    std::sort(m->numbers.begin(), m->numbers.end());
    return absl::OkStatus();
  }

  // event-ruler's numeric grammar: ["=", n] | [">"|">=", n] | ["<"|"<=", n]
  // | [">"|">=", lo, "<"|"<=", hi] with lo < hi.
  absl::Status Numeric(const PolicyJson& a, Matcher* m) {
    if (a.empty()) return PolicyError("Invalid member in numeric match: ]");
    if (!a[0].is_string()) {
      return PolicyError(
          absl::StrCat("Invalid member in numeric match: ", TokenText(a[0])));
    }
    const std::string& op = a[0].get_ref<const std::string&>();
    const bool has_value = a.size() > 1 && a[1].is_number();
    auto value_error = [&](std::string_view name) {
      return PolicyError(
          absl::StrCat("Value of ", AsAbsl(name), " must be numeric"));
    };
    if (op == "=") {
      if (!has_value) return value_error("equals");
      if (a.size() > 2) {
        return PolicyError("Too many elements in numeric expression");
      }
      m->op = Op::kNumber;
      m->number = Canonical(a[1].get<double>());
      return absl::OkStatus();
    }
    if (op == ">=" || op == ">") {
      if (!has_value) return value_error(op);
      m->op = Op::kRange;
      m->range.lo = Canonical(a[1].get<double>());
      m->range.lo_open = op == ">";
      if (a.size() == 2) return absl::OkStatus();
      const PolicyJson& op2 = a[2];
      if (!op2.is_string()) {
        return PolicyError(
            absl::StrCat("Bad value in numeric range: ", TokenText(op2)));
      }
      const std::string& top = op2.get_ref<const std::string&>();
      if (top != "<" && top != "<=") {
        return PolicyError(absl::StrCat("Bad numeric range operator: ", top));
      }
      if (a.size() < 4 || !a[3].is_number()) return value_error(top);
      if (a.size() > 4) {
        return PolicyError("Too many terms in numeric range expression");
      }
      m->range.hi = Canonical(a[3].get<double>());
      m->range.hi_open = top == "<";
      if (!(m->range.lo < m->range.hi)) {
        return PolicyError("Bottom must be less than top");
      }
      return absl::OkStatus();
    }
    if (op == "<=" || op == "<") {
      if (!has_value) return value_error(op);
      if (a.size() > 2) {
        return PolicyError("Too many elements in numeric expression");
      }
      m->op = Op::kRange;
      m->range.hi = Canonical(a[1].get<double>());
      m->range.hi_open = op == "<";
      return absl::OkStatus();
    }
    return PolicyError(
        absl::StrCat("Unrecognized numeric range operator: ", op));
  }

  // event-ruler's CIDR rules (split at '/' as Java does, mask an integer,
  // then the address). The range runs from the address as written to the
  // address with every host bit set.
  static absl::Status Cidr(const std::string& text, Matcher* m) {
    std::vector<std::string_view> parts;
    std::string_view rest = text;
    while (true) {
      size_t slash = rest.find('/');
      parts.push_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    while (parts.size() > 1 && parts.back().empty()) parts.pop_back();
    if (parts.size() != 2) {
      return PolicyError("Malformed CIDR, one '/' required");
    }
    std::string_view mask = parts[1];
    std::string_view digits = mask;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
      digits.remove_prefix(1);
    }
    int bits = 0;
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size()) {
      return PolicyError("Malformed CIDR, mask bits must be an integer");
    }
    if (mask[0] == '-' && bits != 0) {
      return PolicyError("Malformed CIDR, mask bits must not be negative");
    }
    std::optional<IpAddress> ip = ParseIp(parts[0]);
    if (!ip.has_value()) {
      return PolicyError(
          absl::StrCat("Nonstandard IP address: ", AsAbsl(parts[0])));
    }
    // Divergence (documented): /32 and /128 are accepted (event-ruler
    // rejects them); larger masks get event-ruler's texts.
    if (!ip->v6 && bits > 32) return PolicyError("IPv4 mask bits must be < 32");
    if (ip->v6 && bits > 128)
      return PolicyError("IPv6 mask bits must be < 128");
    m->op = Op::kCidr;
    m->cidr_v6 = ip->v6;
    m->cidr_lo = ip->bytes;
    m->cidr_hi = ip->bytes;
    const int total = ip->v6 ? 128 : 32;
    for (int bit = bits; bit < total; ++bit) {
      m->cidr_hi[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    return absl::OkStatus();
  }

  FilterPolicyScope scope_;
};

int64_t SaturatingMul(int64_t a, int64_t b) {
  constexpr int64_t kCap = int64_t{1} << 40;
  if (a == 0 || b == 0) return 0;
  if (a > kCap / b) return kCap;
  return std::min(a * b, kCap);
}

// sns.md §2.6: each leaf array contributes depth x length, contributions
// multiply, and an `$or` contributes the sum over its alternatives.
int64_t Complexity(const Node& node) {
  int64_t product = 1;
  for (const Field& f : node.fields) {
    product = SaturatingMul(product,
                            static_cast<int64_t>(f.matchers.size()) * f.depth);
  }
  for (const std::vector<Node>& group : node.ors) {
    int64_t sum = 0;
    for (const Node& alt : group) {
      sum = std::min<int64_t>(sum + Complexity(alt), int64_t{1} << 40);
    }
    product = SaturatingMul(product, sum);
  }
  return product;
}

// The most leaf keys any one OR-expanded branch of the policy has.
int MaxKeys(const Node& node) {
  int keys = static_cast<int>(node.fields.size());
  for (const std::vector<Node>& group : node.ors) {
    int most = 0;
    for (const Node& alt : group) most = std::max(most, MaxKeys(alt));
    keys += most;
  }
  return keys;
}

// Records where a policy fails to parse as JSON, for a Jackson-like text.
class ErrorSax : public nlohmann::json_sax<PolicyJson> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception&) override {
    position_ = position;
    last_token_ = last_token;
    return false;
  }

  size_t position_ = 0;
  std::string last_token_;
};

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// sns.md §2.8: "failed to parse JSON. " and Jackson's first line. Only the
// unrecognized-token text is AWS-recorded; the others are Jackson-like.
absl::Status ParseError(std::string_view text) {
  ErrorSax sax;
  PolicyJson::sax_parse(text.begin(), text.end(), &sax);
  // The parser stops one character past the offending one; a bad literal
  // may end at a delimiter (`[tru]`), so look one further back for it.
  size_t start = text.size();
  if (sax.position_ >= 1 && sax.position_ <= text.size()) {
    size_t at = sax.position_ - 1;
    if (!IsIdentifierChar(text[at]) && at > 0 &&
        IsIdentifierChar(text[at - 1])) {
      --at;
    }
    while (at > 0 && IsIdentifierChar(text[at]) &&
           IsIdentifierChar(text[at - 1])) {
      --at;
    }
    start = at;
  }
  std::string detail;
  if (start >= text.size()) {
    detail = "Unexpected end-of-input";
  } else if (IsIdentifierChar(text[start]) &&
             !(text[start] >= '0' && text[start] <= '9')) {
    size_t end = start;
    while (end < text.size() && IsIdentifierChar(text[end])) ++end;
    detail = absl::StrCat(
        "Unrecognized token '", AsAbsl(text.substr(start, end - start)),
        "': was expecting (JSON String, Number, Array, Object or token "
        "'null', 'true' or 'false')");
  } else {
    const unsigned char c = static_cast<unsigned char>(text[start]);
    detail =
        absl::StrCat("Unexpected character ('", std::string(1, text[start]),
                     "' (code ", static_cast<int>(c), "))");
  }
  return PolicyError(absl::StrCat("failed to parse JSON. ", detail));
}

}  // namespace

namespace {

bool MatchCompiled(const FilterPolicy::Compiled& c,
                   const FilterMessage& message) {
  if (c.match_all) return true;
  if (c.scope == FilterPolicyScope::kMessageBody) {
    if (message.parsed_body() == nullptr) return false;
  } else if (message.attributes().empty()) {
    // No attributes at all: nothing matches, not even exists:false (sns.md
    // §2.7 #19).
    return false;
  }
  return MatchNode(c.root, message, c.scope);
}

}  // namespace

// ---- FilterMessage ----------------------------------------------------------

FilterMessage::FilterMessage(const MessageAttributeMap& attributes,
                             std::string_view body)
    : attributes_(&attributes), body_(body) {}

FilterMessage::~FilterMessage() = default;

const FilterMessage::Parsed* FilterMessage::parsed_body() const {
  if (!parse_attempted_) {
    parse_attempted_ = true;
    JsonScanner check(body_);
    check.SkipWs();
    if (check.Peek() == '{' && check.SkipValue(0)) {
      check.SkipWs();
      if (check.AtEnd()) {
        parsed_ = std::make_unique<Parsed>();
        BodyFlattener(body_, parsed_.get()).Element();
      }
    }
  }
  return parsed_.get();
}

// ---- FilterPolicy -----------------------------------------------------------

absl::StatusOr<FilterPolicy> FilterPolicy::Compile(std::string_view policy_json,
                                                   FilterPolicyScope scope) {
  if (policy_json.size() > kMaxPolicyBytes) {
    // AWS's text for this is not recorded (sns.md §2.6 gives only the limit).
    return PolicyError("Filter policy is too large");
  }
  PolicyJson json = PolicyJson::parse(policy_json.begin(), policy_json.end(),
                                      nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return ParseError(policy_json);
  if (!json.is_object()) return PolicyError("Filter is not an object");
  auto compiled = std::make_unique<Compiled>();
  compiled->scope = scope;
  if (json.empty()) {
    // "{}" is how a filter policy is removed: it matches every message.
    compiled->match_all = true;
    return FilterPolicy(std::move(compiled));
  }
  Compiler compiler(scope);
  FERRY_RETURN_IF_ERROR(compiler.Object(json, "", 1, 0, &compiled->root));
  if (MaxKeys(compiled->root) > kMaxKeys) {
    return PolicyError("Filter policy can not have more than 5 keys");
  }
  compiled->complexity = Complexity(compiled->root);
  if (compiled->complexity > kMaxComplexity) {
    return PolicyError("Filter policy is too complex");
  }
  return FilterPolicy(std::move(compiled));
}

FilterPolicy::FilterPolicy(std::unique_ptr<Compiled> compiled)
    : compiled_(std::move(compiled)) {}
FilterPolicy::FilterPolicy(FilterPolicy&&) noexcept = default;
FilterPolicy& FilterPolicy::operator=(FilterPolicy&&) noexcept = default;
FilterPolicy::~FilterPolicy() = default;

bool FilterPolicy::Matches(const FilterMessage& message) const {
  return MatchCompiled(*compiled_, message);
}

FilterPolicyScope FilterPolicy::scope() const { return compiled_->scope; }

int64_t FilterPolicy::complexity() const { return compiled_->complexity; }

// ---- FilterIndex ------------------------------------------------------------
//
// Each policy is reached through an "anchor": a set of fields such that the
// policy can only match when one of them has a value matching one of its
// (indexable) conditions. A field at the top AND level is such a set; so is
// the union of anchors of every alternative of a top-level `$or`. Anchored
// conditions live in per-path structures (hash maps of exact values,
// prefixes, suffixes, lower-cased values; a block list of numeric ranges);
// policies without any indexable field sit in a residual list. Candidates are
// deduplicated and verified with FilterPolicy::Matches.

namespace {

using Key = FilterIndex::Key;

// A policy as the index structures hold it: the key (for deduplication) and
// the policy itself, so that verifying a candidate needs no lookup.
struct Ref {
  Key key;
  const FilterPolicy::Compiled* policy;
};

void EraseKey(std::vector<Ref>* keys, Key key) {
  auto it = std::find_if(keys->begin(), keys->end(),
                         [key](const Ref& r) { return r.key == key; });
  if (it != keys->end()) {
    *it = keys->back();
    keys->pop_back();
  }
}

template <typename Map, typename K>
void EraseFromBucket(Map* map, const K& k, Key key) {
  auto it = map->find(k);
  if (it == map->end()) return;
  EraseKey(&it->second, key);
  if (it->second.empty()) map->erase(it);
}

// Numeric ranges of one path, sorted by lower bound, with the largest upper
// bound of each block of kBlock entries so that a stab skips whole blocks.
class RangeList {
 public:
  void Insert(const NumericRange& r, Ref ref) {
    auto it = std::upper_bound(
        entries_.begin(), entries_.end(), r.lo,
        [](double lo, const Entry& e) { return lo < e.range.lo; });
    const size_t at = static_cast<size_t>(it - entries_.begin());
    entries_.insert(it, Entry{r, ref});
    RebuildFrom(at);
  }

  void Erase(const NumericRange& r, Key key) {
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (e.ref.key == key && e.range.lo == r.lo && e.range.hi == r.hi &&
          e.range.lo_open == r.lo_open && e.range.hi_open == r.hi_open) {
        entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
        RebuildFrom(i);
        return;
      }
    }
  }

  size_t size() const { return entries_.size(); }

  template <typename Out>
  void Stab(double v, Out* out) const {
    const size_t end = static_cast<size_t>(
        std::upper_bound(
            entries_.begin(), entries_.end(), v,
            [](double x, const Entry& e) { return x < e.range.lo; }) -
        entries_.begin());
    for (size_t block = 0; block * kBlock < end; ++block) {
      if (block_max_hi_[block] < v) continue;
      const size_t last = std::min(end, (block + 1) * kBlock);
      for (size_t i = block * kBlock; i < last; ++i) {
        if (entries_[i].range.Contains(v)) out->push_back(entries_[i].ref);
      }
    }
  }

 private:
  static constexpr size_t kBlock = 16;
  struct Entry {
    NumericRange range;
    Ref ref;
  };

  void RebuildFrom(size_t at) {
    const size_t blocks = (entries_.size() + kBlock - 1) / kBlock;
    block_max_hi_.resize(blocks);
    for (size_t block = at / kBlock; block < blocks; ++block) {
      double most = -std::numeric_limits<double>::infinity();
      const size_t last = std::min(entries_.size(), (block + 1) * kBlock);
      for (size_t i = block * kBlock; i < last; ++i) {
        most = std::max(most, entries_[i].range.hi);
      }
      block_max_hi_[block] = most;
    }
  }

  std::vector<Entry> entries_;
  std::vector<double> block_max_hi_;
};

struct PathIndex {
  FilterPolicyScope scope = FilterPolicyScope::kMessageAttributes;
  std::string path;
  size_t registrations = 0;
  absl::flat_hash_map<std::string, std::vector<Ref>> strings;
  absl::flat_hash_map<double, std::vector<Ref>> numbers;
  std::vector<Ref> trues, falses, nulls;
  absl::flat_hash_map<std::string, std::vector<Ref>> prefixes;
  std::map<size_t, int> prefix_lengths;  // length -> how many prefixes
  absl::flat_hash_map<std::string, std::vector<Ref>> suffixes;
  std::map<size_t, int> suffix_lengths;
  absl::flat_hash_map<std::string, std::vector<Ref>> lowered;
  RangeList ranges;

  // How likely a publish is to reach a policy anchored on `m`, estimated
  // from how many distinct values the path's policies already use (a path
  // like event_type with 8 values is a poor anchor beside customer with
  // thousands); ranges and the true/false/null literals get a flat guess.
  // The anchor of a new policy is the field with the smallest sum.
  double Cost(const Matcher& m) const {
    auto one_in = [](size_t distinct) {
      return 1.0 / static_cast<double>(distinct + 1);
    };
    switch (m.op) {
      case Op::kString:
        return one_in(strings.size());
      case Op::kNumber:
        return one_in(numbers.size());
      case Op::kTrue:
      case Op::kFalse:
      case Op::kNull:
        return 0.5;
      case Op::kPrefix:
        return 2.0 * one_in(prefixes.size());
      case Op::kSuffix:
        return 2.0 * one_in(suffixes.size());
      case Op::kEqualsIgnoreCase:
        return 2.0 * one_in(lowered.size());
      case Op::kRange:
        return 0.2;
      default:
        return 1e18;
    }
  }

  void Add(const Matcher& m, Ref ref) {
    ++registrations;
    switch (m.op) {
      case Op::kString:
        strings[m.text].push_back(ref);
        break;
      case Op::kNumber:
        numbers[m.number].push_back(ref);
        break;
      case Op::kTrue:
        trues.push_back(ref);
        break;
      case Op::kFalse:
        falses.push_back(ref);
        break;
      case Op::kNull:
        nulls.push_back(ref);
        break;
      case Op::kPrefix:
        prefixes[m.text].push_back(ref);
        ++prefix_lengths[m.text.size()];
        break;
      case Op::kSuffix:
        suffixes[m.text].push_back(ref);
        ++suffix_lengths[m.text.size()];
        break;
      case Op::kEqualsIgnoreCase:
        lowered[m.text].push_back(ref);
        break;
      case Op::kRange:
        ranges.Insert(m.range, ref);
        break;
      default:
        break;
    }
  }

  static void DropLength(std::map<size_t, int>* lengths, size_t n) {
    auto it = lengths->find(n);
    if (it != lengths->end() && --it->second == 0) lengths->erase(it);
  }

  void Remove(const Matcher& m, Key key) {
    --registrations;
    switch (m.op) {
      case Op::kString:
        EraseFromBucket(&strings, m.text, key);
        break;
      case Op::kNumber:
        EraseFromBucket(&numbers, m.number, key);
        break;
      case Op::kTrue:
        EraseKey(&trues, key);
        break;
      case Op::kFalse:
        EraseKey(&falses, key);
        break;
      case Op::kNull:
        EraseKey(&nulls, key);
        break;
      case Op::kPrefix:
        EraseFromBucket(&prefixes, m.text, key);
        DropLength(&prefix_lengths, m.text.size());
        break;
      case Op::kSuffix:
        EraseFromBucket(&suffixes, m.text, key);
        DropLength(&suffix_lengths, m.text.size());
        break;
      case Op::kEqualsIgnoreCase:
        EraseFromBucket(&lowered, m.text, key);
        break;
      case Op::kRange:
        ranges.Erase(m.range, key);
        break;
      default:
        break;
    }
  }

  template <typename Out>
  static void Append(const std::vector<Ref>& keys, Out* out) {
    out->insert(out->end(), keys.begin(), keys.end());
  }

  template <typename Map, typename K, typename Out>
  static void Probe(const Map& map, const K& k, Out* out) {
    auto it = map.find(k);
    if (it != map.end()) Append(it->second, out);
  }

  // Appends the keys whose anchored condition `v` may satisfy.
  template <typename Out>
  void Candidates(const Value& v, std::string* scratch, Out* out) const {
    switch (v.type) {
      case ValueType::kString: {
        if (!strings.empty()) Probe(strings, AsAbsl(v.str), out);
        for (const auto& [n, unused] : prefix_lengths) {
          if (n > v.str.size()) break;
          Probe(prefixes, AsAbsl(v.str.substr(0, n)), out);
        }
        for (const auto& [n, unused] : suffix_lengths) {
          if (n > v.str.size()) break;
          Probe(suffixes, AsAbsl(v.str.substr(v.str.size() - n)), out);
        }
        if (!lowered.empty()) {
          scratch->assign(v.str);
          for (char& c : *scratch) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          }
          Probe(lowered, *scratch, out);
        }
        break;
      }
      case ValueType::kNumber:
        if (!numbers.empty()) Probe(numbers, v.number, out);
        if (ranges.size() > 0) ranges.Stab(v.number, out);
        break;
      case ValueType::kTrue:
        Append(trues, out);
        break;
      case ValueType::kFalse:
        Append(falses, out);
        break;
      case ValueType::kNull:
        Append(nulls, out);
        break;
    }
  }
};

struct Anchor {
  double cost = 0;
  std::vector<const Field*> fields;
};

}  // namespace

struct FilterIndex::State {
  struct Entry {
    std::shared_ptr<const FilterPolicy> policy;
    // (path slot, anchored matcher); empty when residual.
    std::vector<std::pair<uint32_t, const Matcher*>> registrations;
  };

  absl::flat_hash_map<Key, Entry> entries;
  std::vector<PathIndex> paths;
  absl::flat_hash_map<std::string, uint32_t> attribute_paths;
  absl::flat_hash_map<std::string, uint32_t> body_paths;
  std::vector<Ref> residual;

  absl::flat_hash_map<std::string, uint32_t>& PathsOf(FilterPolicyScope s) {
    return s == FilterPolicyScope::kMessageBody ? body_paths : attribute_paths;
  }

  const PathIndex* FindPath(FilterPolicyScope s,
                            const std::string& path) const {
    const auto& map =
        s == FilterPolicyScope::kMessageBody ? body_paths : attribute_paths;
    auto it = map.find(path);
    return it == map.end() ? nullptr : &paths[it->second];
  }

  uint32_t PathSlot(FilterPolicyScope s, const std::string& path) {
    auto& map = PathsOf(s);
    auto it = map.find(path);
    if (it != map.end()) return it->second;
    const uint32_t slot = static_cast<uint32_t>(paths.size());
    PathIndex& p = paths.emplace_back();
    p.scope = s;
    p.path = path;
    map.emplace(path, slot);
    return slot;
  }

  double FieldCost(FilterPolicyScope s, const Field& f) const {
    const PathIndex* p = FindPath(s, f.path);
    static const PathIndex kEmpty;
    double cost = 0;
    for (const Matcher& m : f.matchers) {
      if (!IsIndexable(m.op)) return -1;
      cost += (p == nullptr ? kEmpty : *p).Cost(m);
    }
    return cost;
  }

  std::optional<Anchor> BestAnchor(FilterPolicyScope s,
                                   const Node& node) const {
    std::optional<Anchor> best;
    for (const Field& f : node.fields) {
      const double cost = FieldCost(s, f);
      if (cost < 0) continue;
      if (!best.has_value() || cost < best->cost) best = Anchor{cost, {&f}};
    }
    for (const std::vector<Node>& group : node.ors) {
      Anchor combined;
      bool ok = true;
      for (const Node& alt : group) {
        std::optional<Anchor> a = BestAnchor(s, alt);
        if (!a.has_value()) {
          ok = false;
          break;
        }
        combined.cost += a->cost;
        combined.fields.insert(combined.fields.end(), a->fields.begin(),
                               a->fields.end());
      }
      if (ok && (!best.has_value() || combined.cost < best->cost)) {
        best = std::move(combined);
      }
    }
    return best;
  }

  void Unregister(Key key, const Entry& e) {
    if (e.registrations.empty()) {
      EraseKey(&residual, key);
      return;
    }
    for (const auto& [slot, matcher] : e.registrations) {
      paths[slot].Remove(*matcher, key);
    }
  }
};

FilterIndex::FilterIndex() : state_(std::make_unique<State>()) {}
FilterIndex::FilterIndex(const FilterIndex& other)
    : state_(std::make_unique<State>(*other.state_)) {}
FilterIndex& FilterIndex::operator=(const FilterIndex& other) {
  if (this != &other) state_ = std::make_unique<State>(*other.state_);
  return *this;
}
FilterIndex::FilterIndex(FilterIndex&& other) noexcept
    : state_(std::move(other.state_)) {}
FilterIndex& FilterIndex::operator=(FilterIndex&& other) noexcept {
  state_ = std::move(other.state_);
  return *this;
}
FilterIndex::~FilterIndex() = default;

void FilterIndex::Add(Key key, std::shared_ptr<const FilterPolicy> policy) {
  if (state_ == nullptr) state_ = std::make_unique<State>();
  Remove(key);
  if (policy == nullptr) return;
  State& s = *state_;
  State::Entry entry;
  entry.policy = std::move(policy);
  const FilterPolicy::Compiled& c = *entry.policy->compiled_;
  std::optional<Anchor> anchor;
  if (!c.match_all) anchor = s.BestAnchor(c.scope, c.root);
  if (!anchor.has_value()) {
    s.residual.push_back(Ref{key, entry.policy->compiled_.get()});
  } else {
    for (const Field* f : anchor->fields) {
      const uint32_t slot = s.PathSlot(c.scope, f->path);
      for (const Matcher& m : f->matchers) {
        s.paths[slot].Add(m, Ref{key, entry.policy->compiled_.get()});
        entry.registrations.emplace_back(slot, &m);
      }
    }
  }
  s.entries.emplace(key, std::move(entry));
}

void FilterIndex::Remove(Key key) {
  if (state_ == nullptr) return;
  auto it = state_->entries.find(key);
  if (it == state_->entries.end()) return;
  state_->Unregister(key, it->second);
  state_->entries.erase(it);
}

size_t FilterIndex::size() const {
  return state_ == nullptr ? 0 : state_->entries.size();
}

void FilterIndex::Match(const FilterMessage& message,
                        std::vector<Key>* matched) const {
  if (state_ == nullptr) return;
  const State& s = *state_;
  absl::InlinedVector<Ref, 32> candidates;
  std::string scratch;
  auto visit = [&](uint32_t slot) {
    const PathIndex& p = s.paths[slot];
    if (p.registrations == 0) return;
    bool present = false;
    VisitValues(message, p.scope, p.path, &present, [&](const Value& v) {
      p.Candidates(v, &scratch, &candidates);
      return false;
    });
  };
  // Walk the indexed keys or the message's keys, whichever are fewer, so
  // that policies on many distinct keys do not make every publish visit
  // them all.
  const MessageAttributeMap& attrs = message.attributes();
  if (s.attribute_paths.size() <= attrs.size()) {
    for (const auto& [unused, slot] : s.attribute_paths) visit(slot);
  } else {
    for (const auto& [name, unused] : attrs) {
      auto it = s.attribute_paths.find(name);
      if (it != s.attribute_paths.end()) visit(it->second);
    }
  }
  if (!s.body_paths.empty()) {
    const FilterMessage::Parsed* parsed = message.parsed_body();
    if (parsed != nullptr && s.body_paths.size() <= parsed->paths.size()) {
      for (const auto& [unused, slot] : s.body_paths) visit(slot);
    } else if (parsed != nullptr) {
      for (const auto& [path, unused] : parsed->paths) {
        auto it = s.body_paths.find(path);
        if (it != s.body_paths.end()) visit(it->second);
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Ref& a, const Ref& b) { return a.key < b.key; });
  Key last = 0;
  bool first = true;
  for (const Ref& ref : candidates) {
    if (!first && ref.key == last) continue;
    first = false;
    last = ref.key;
    if (MatchCompiled(*ref.policy, message)) matched->push_back(ref.key);
  }
  for (const Ref& ref : s.residual) {
    if (MatchCompiled(*ref.policy, message)) matched->push_back(ref.key);
  }
}

}  // namespace ferry::internal
