// libFuzzer target for SNS filter policies: the input is compiled as a policy
// (byte 0 picks the scope) and, when it compiles, matched against fixed
// messages both directly and through a FilterIndex, which must agree. The
// same bytes are also used as a message body and as a String.Array value
// against fixed policies, and the body reader is checked against nlohmann's
// parser. Nothing may crash; a disagreement traps.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/message.h"
#include "filter_policy.h"
#include "nlohmann/json.hpp"

namespace {

using ferry::MessageAttributeMap;
using ferry::MessageAttributeValue;
using ferry::internal::FilterIndex;
using ferry::internal::FilterMessage;
using ferry::internal::FilterPolicy;
using ferry::internal::FilterPolicyScope;

MessageAttributeValue Attr(const char* type, std::string value) {
  MessageAttributeValue v;
  v.data_type = type;
  if (std::string_view(type).starts_with("Binary")) {
    v.binary_value = std::move(value);
  } else {
    v.string_value = std::move(value);
  }
  return v;
}

const MessageAttributeMap& FixedAttributes() {
  static const MessageAttributeMap* map = [] {
    auto* m = new MessageAttributeMap;
    (*m)["a"] = Attr("String", "v1");
    (*m)["b"] = Attr("Number", "42.5");
    (*m)["c"] = Attr("String.Array", R"(["x", 1, true, null, {"k":"v"}])");
    (*m)["d"] = Attr("Binary", "raw");
    (*m)["ip"] = Attr("String", "10.0.0.7");
    (*m)["key"] = Attr("String", "value");
    return m;
  }();
  return *map;
}

constexpr std::string_view kBody =
    R"({"a":"v1","b":42.5,"c":[{"d":"x"},{"d":[1,null]}],"e.f":{"g":true},)"
    R"("ip":"2001:db8::1","key":"value","n":null})";

const std::vector<std::shared_ptr<const FilterPolicy>>& FixedPolicies() {
  static const auto* policies = [] {
    auto* v = new std::vector<std::shared_ptr<const FilterPolicy>>;
    const std::pair<const char*, FilterPolicyScope> texts[] = {
        {R"({"a":["v1"],"b":[{"numeric":[">",1]}]})",
         FilterPolicyScope::kMessageBody},
        {R"({"c":{"d":[{"prefix":"x"}]}})", FilterPolicyScope::kMessageBody},
        {R"({"$or":[{"a":[{"exists":false}]},{"e.f.g":[true]}]})",
         FilterPolicyScope::kMessageBody},
        {R"({"x":["1",{"anything-but":["v1"]},{"suffix":"z"}]})",
         FilterPolicyScope::kMessageAttributes},
        {R"({"x":[1,true,null,{"equals-ignore-case":"X"}]})",
         FilterPolicyScope::kMessageAttributes},
    };
    for (const auto& [text, scope] : texts) {
      absl::StatusOr<FilterPolicy> p = FilterPolicy::Compile(text, scope);
      if (!p.ok()) __builtin_trap();
      v->push_back(std::make_shared<const FilterPolicy>(*std::move(p)));
    }
    return v;
  }();
  return *policies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const FilterPolicyScope scope = (data[0] & 1)
                                      ? FilterPolicyScope::kMessageBody
                                      : FilterPolicyScope::kMessageAttributes;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  // 1. The input as a policy.
  absl::StatusOr<FilterPolicy> compiled = FilterPolicy::Compile(text, scope);
  if (compiled.ok()) {
    auto policy = std::make_shared<const FilterPolicy>(*std::move(compiled));
    FilterIndex index;
    index.Add(1, policy);
    FilterIndex copy = index;
    for (std::string_view body : {kBody, std::string_view("not json")}) {
      FilterMessage message(FixedAttributes(), body);
      const bool direct = policy->Matches(message);
      std::vector<FilterIndex::Key> matched;
      copy.Match(message, &matched);
      if (direct != (matched.size() == 1)) __builtin_trap();
    }
  }

  // 2. The input as a body and as a String.Array value.
  MessageAttributeMap attrs;
  attrs["x"] = Attr("String.Array", std::string(text));
  FilterMessage message(attrs, text);
  FilterIndex index;
  const auto& policies = FixedPolicies();
  for (size_t i = 0; i < policies.size(); ++i) index.Add(i, policies[i]);
  std::vector<FilterIndex::Key> matched;
  index.Match(message, &matched);
  size_t direct = 0;
  for (const auto& p : policies) direct += p->Matches(message) ? 1 : 0;
  if (direct != matched.size()) __builtin_trap();

  // 3. The body reader accepts every JSON object nlohmann accepts (it may
  // accept more: invalid UTF-8, numbers beyond double; and it refuses
  // nesting deeper than 512, so deep inputs are left out; nlohmann also
  // stops at a NUL byte, which the body reader refuses).
  size_t opens = 0;
  for (char c : text) opens += (c == '[' || c == '{') ? 1 : 0;
  if (opens < 500 && text.find('\0') == std::string_view::npos) {
    nlohmann::json doc =
        nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_object() && message.parsed_body() == nullptr) __builtin_trap();
    if (!doc.is_discarded() && !doc.is_object() &&
        message.parsed_body() != nullptr) {
      __builtin_trap();
    }
  }
  return 0;
}
