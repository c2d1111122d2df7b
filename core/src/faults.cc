// Fault injection (ferry/faults.h): the rule list, the seeded draws, and
// what a native call does with the rule it is hit by.
#include "ferry/faults.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ferry {
namespace {

// The seed used when none is given: any fixed value keeps runs repeatable.
constexpr uint64_t kDefaultSeed = 0x5eed'f177'0001;

}  // namespace

FaultInjector::FaultInjector(uint64_t seed)
    : random_(seed != 0 ? seed : kDefaultSeed) {}

void FaultInjector::Inject(const FaultRule& rule, int times) {
  if (times == 0) return;
  MutexLock lock(&mu_);
  rules_.emplace_back(rule, times < 0 ? kUntilCleared : times);
  empty_.store(false, std::memory_order_release);
}

void FaultInjector::Clear() {
  MutexLock lock(&mu_);
  rules_.clear();
  empty_.store(true, std::memory_order_release);
}

std::vector<std::pair<FaultRule, int>> FaultInjector::Rules() const {
  MutexLock lock(&mu_);
  return {rules_.begin(), rules_.end()};
}

void FaultInjector::Seed(uint64_t seed) {
  MutexLock lock(&mu_);
  random_.seed(seed != 0 ? seed : kDefaultSeed);
}

bool FaultInjector::empty() const {
  return empty_.load(std::memory_order_acquire);
}

std::optional<FaultRule> FaultInjector::Take(std::string_view operation) {
  if (empty()) return std::nullopt;
  MutexLock lock(&mu_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    const FaultRule& rule = it->first;
    if (!rule.operation.empty() && rule.operation != operation) continue;
    if (rule.probability < 1.0 &&
        !(std::uniform_real_distribution<double>(0.0, 1.0)(random_) <
          rule.probability)) {
      continue;
    }
    FaultRule hit = rule;
    if (it->second > 0 && --it->second == 0) {
      rules_.erase(it);
      empty_.store(rules_.empty(), std::memory_order_release);
    }
    return hit;
  }
  return std::nullopt;
}

absl::Status FaultInjector::StatusFor(const FaultRule& rule,
                                      AwsService service) {
  const std::string message =
      rule.message.empty() ? std::string("Injected by ferry.") : rule.message;
  if (rule.drop_connection) {
    return absl::UnavailableError(
        absl::StrCat("connection dropped (injected): ", message));
  }
  if (rule.error.empty()) return absl::OkStatus();
  if (FindAwsError(service, rule.error).has_value()) {
    return AwsError(service, rule.error, message);
  }
  // Not in the service's table: a Query code of it, or a name of its own.
  const std::string text = absl::StrCat(rule.error, ": ", message);
  if (rule.http_status == 503) return absl::UnavailableError(text);
  if (rule.http_status == 429) return absl::ResourceExhaustedError(text);
  if (rule.http_status >= 500) return absl::InternalError(text);
  return absl::FailedPreconditionError(text);
}

absl::Status FaultInjector::Apply(Clock& clock, AwsService service,
                                  std::string_view operation) {
  std::optional<FaultRule> rule = Take(operation);
  if (!rule.has_value()) return absl::OkStatus();
  if (rule->latency > absl::ZeroDuration()) {
    // Nothing signals this condition variable: the wait ends when the
    // clock reaches the deadline.
    Mutex mu;
    CondVar cv(&mu);
    MutexLock lock(&mu);
    const absl::Time deadline = clock.Now() + rule->latency;
    while (clock.WaitUntil(cv, deadline)) {
    }
  }
  return StatusFor(*rule, service);
}

}  // namespace ferry
