// -----------------------------------------------------------------------------
// File: ferry/faults.h
// -----------------------------------------------------------------------------
//
// Fault injection (test support): a broker's `FaultInjector` holds a list of
// `FaultRule`s, and every operation of the AWS-shaped layers (ferry/sqs.h,
// ferry/sns.h, ferry/kinesis.h) consults it before doing anything: the first
// rule that hits the operation is consumed and the operation waits the
// rule's latency and/or fails with the rule's error instead of running. The
// gateway (ferry/gateway.h) draws from the same list for requests over the
// wire and adds the wire-only kinds (a dropped connection; an HTTP status
// with a code outside the error table); its InjectedFault is this FaultRule.
//
// Errors are AWS's, from the one error table (ferry/errors.h): a rule's
// `error` names a shape or Query code of the service the operation belongs
// to, e.g. the throttling errors SDKs retry on (SQS "RequestThrottled", SNS
// "Throttled", Kinesis "ProvisionedThroughputExceededException" and
// "LimitExceededException"), "InternalFailure" (500) or "ServiceUnavailable"
// (503); GetAwsError() reads it back from the returned status. A name the
// service's table lacks becomes a status whose canonical code follows from
// `http_status` (503: kUnavailable, 429: kResourceExhausted, other 5xx:
// kInternal, 4xx: kFailedPrecondition) and carries no AWS error; over the
// wire the gateway sends the name itself as the code.
//
// Latency goes through the broker's clock: a native caller hit by a rule
// with latency L blocks in the operation until the clock has moved L past
// the moment of the call. With the real clock that is a real wait; with a
// ManualClock the call blocks until the test advances the clock (run the
// call on another thread, then `clock.BlockUntilWaiters(1);
// clock.Advance(L);`) — a timeout simulated without sleeping. The gateway
// applies a rule's latency on a timer instead, holding no thread.
//
// Probability draws use a seeded generator (std::mt19937_64), so a run with
// the same seed and the same sequence of calls hits the same calls. A call
// a rule does not hit (its operation differs, or the draw missed) does not
// count against the rule's `times` and may be hit by a later rule.
//
// Thread safety: FaultInjector is safe for concurrent use. Calls racing for
// the last use of a rule: exactly one gets it.
//
// Example (native API):
//   broker->faults().Inject({.operation = "SendMessage",
//                            .error = "RequestThrottled"}, /*times=*/2);
//   // The next two SendMessage calls fail with RequestThrottled
//   // (kResourceExhausted); the third succeeds.
#ifndef FERRY_FAULTS_H_
#define FERRY_FAULTS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ferry/clock.h"
#include "ferry/errors.h"
#include "ferry/export.h"
#include "ferry/sync.h"

namespace ferry {

// One kind of failure, for the calls it hits.
struct FaultRule {
  // The AWS operation it applies to, e.g. "SendMessage", "Publish",
  // "PutRecords"; empty: every operation of every service.
  std::string operation{};
  // The error returned: a shape or Query code of the service's error table
  // (see the file comment). Empty: no error, latency only (the call then
  // runs normally after the wait).
  std::string error{};
  // For an `error` the table lacks: the HTTP status the gateway sends and
  // the canonical code a native caller gets.
  int http_status = 500;
  // The error's message. Empty: "Injected by ferry." (native) or "Injected
  // by the ferry gateway." (wire).
  std::string message{};
  // Wire only: the gateway closes the connection without an answer. A
  // native caller gets kUnavailable with no AWS error.
  bool drop_connection = false;
  // The chance (0 to 1) that a call the rule applies to is hit.
  double probability = 1.0;
  // Waited, through the broker's clock, before failing or running.
  absl::Duration latency = absl::ZeroDuration();
};

class FERRY_EXPORT FaultInjector {
 public:
  // Use count meaning "every call until Clear()".
  static constexpr int kUntilCleared = -1;

  // `seed` seeds the probability draws; 0 picks a fixed default seed, so
  // runs are repeatable unless a test asks otherwise.
  explicit FaultInjector(uint64_t seed = 0);
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Appends `rule` for the next `times` calls it hits (< 0: until Clear();
  // 0: nothing). Rules are considered in the order they were injected.
  void Inject(const FaultRule& rule, int times = 1);
  // Removes every rule.
  void Clear();
  // The rules and their remaining counts (-1: until cleared), in order.
  std::vector<std::pair<FaultRule, int>> Rules() const;
  // Restarts the probability draws from `seed` (0: the default seed).
  void Seed(uint64_t seed);
  // True when no rule is queued (a cheap check, done first by every call).
  bool empty() const;

  // The first rule that hits a call of `operation`, consumed (its count
  // decremented); nullopt when none does.
  std::optional<FaultRule> Take(std::string_view operation);

  // What a native call of `operation` of `service` does with the injected
  // faults: takes the first rule that hits it, waits its latency on `clock`,
  // and returns the rule's error (OK when there is no rule or it adds
  // latency only).
  absl::Status Apply(Clock& clock, AwsService service,
                     std::string_view operation);

  // The status `rule` stands for in `service` (OK for latency only).
  static absl::Status StatusFor(const FaultRule& rule, AwsService service);

 private:
  mutable Mutex mu_;
  std::deque<std::pair<FaultRule, int>> rules_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  // Mirrors rules_.empty() for the lock-free fast path.
  std::atomic<bool> empty_{true};
};

}  // namespace ferry

#endif  // FERRY_FAULTS_H_
