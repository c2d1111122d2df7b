// SNS subscription filter policies: validation with AWS's error texts, a
// compiled form evaluated once per message, and an index over the policies of
// one topic so that matching a publish against many subscriptions does not
// loop over every policy (reference/sns.md §2).
//
// Thread safety: FilterPolicy and FilterIndex are values. Const methods may be
// called concurrently; mutating a FilterIndex needs external synchronisation
// (the topic layer copies it on write and publishes the copy).
// Errors: Compile returns InvalidParameter (AwsService::kSns) whose message is
// the text AWS puts after the operation's prefix ("Invalid parameter: " on
// SetSubscriptionAttributes, "Invalid parameter: Attributes Reason: " on
// Subscribe), e.g. "FilterPolicy: Filter policy can not have more than 5
// keys". Matching never fails: a message the policy cannot apply to (a body
// that is not a JSON object in MessageBody scope) does not match.
#ifndef FERRY_CORE_SRC_FILTER_POLICY_H_
#define FERRY_CORE_SRC_FILTER_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ferry/message.h"

namespace ferry::internal {

enum class FilterPolicyScope { kMessageAttributes, kMessageBody };

// The parts of a published message a filter looks at. Parses the body as
// JSON at most once, on the first policy in MessageBody scope that needs it,
// so one publish evaluated against many policies parses once.
// REQUIRES: `attributes` and `body` outlive the FilterMessage.
class FilterMessage {
 public:
  FilterMessage(const MessageAttributeMap& attributes, std::string_view body);
  ~FilterMessage();
  FilterMessage(const FilterMessage&) = delete;
  FilterMessage& operator=(const FilterMessage&) = delete;

  const MessageAttributeMap& attributes() const { return *attributes_; }
  std::string_view body() const { return body_; }

  // Implementation state (the parsed body, flattened keys); opaque here.
  struct Parsed;
  // The parsed body, or nullptr when the body is not a JSON object.
  const Parsed* parsed_body() const;

 private:
  const MessageAttributeMap* attributes_;
  std::string_view body_;
  mutable std::unique_ptr<Parsed> parsed_;
  mutable bool parse_attempted_ = false;
};

class FilterPolicy {
 public:
  // Validates `policy_json` (the FilterPolicy attribute) for `scope` and
  // compiles it. Limits (5 top-level keys, 150 combinations, 256 KiB) are
  // AWS's and always apply.
  static absl::StatusOr<FilterPolicy> Compile(std::string_view policy_json,
                                              FilterPolicyScope scope);

  FilterPolicy(FilterPolicy&&) noexcept;
  FilterPolicy& operator=(FilterPolicy&&) noexcept;
  ~FilterPolicy();

  // True iff every top-level key is satisfied (sns.md §2.1).
  bool Matches(const FilterMessage& message) const;

  FilterPolicyScope scope() const;
  // The combination count AWS limits to 150 (sns.md §2.6).
  int64_t complexity() const;

  struct Compiled;  // opaque

 private:
  friend class FilterIndex;  // reads the compiled form to index it
  explicit FilterPolicy(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

// The filtered subscriptions of one topic, indexed so that Match costs about
// the number of policies that could match, not the number of policies.
class FilterIndex {
 public:
  using Key = uint64_t;  // the topic layer's subscription key

  FilterIndex();
  FilterIndex(const FilterIndex&);
  FilterIndex& operator=(const FilterIndex&);
  FilterIndex(FilterIndex&&) noexcept;
  FilterIndex& operator=(FilterIndex&&) noexcept;
  ~FilterIndex();

  // Adds or replaces the policy of `key`.
  void Add(Key key, std::shared_ptr<const FilterPolicy> policy);
  void Remove(Key key);
  size_t size() const;

  // Appends the keys whose policy matches `message`, each once, in no
  // particular order. Subscriptions without a policy are not in the index.
  void Match(const FilterMessage& message, std::vector<Key>* matched) const;

  struct State;  // opaque

 private:
  std::unique_ptr<State> state_;
};

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_FILTER_POLICY_H_
