// ferry_testing::ManualClock.
//
// Besides core/src/real_clock.cc, this is the only file of ferry_core allowed
// to read a real clock: WaitUntil() waits on the caller's condition variable
// for at most a 1 ms slice of real time before the caller re-checks, and
// BlockUntilWaiters() bounds its wait by a real-time safety limit. Simulated
// time itself never depends on the real clock.

#include "ferry/testing/manual_clock.h"

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "absl/time/time.h"
#include "ferry/sync.h"

namespace ferry_testing {
namespace {

constexpr std::chrono::milliseconds kWaitSlice(1);
constexpr std::chrono::seconds kBlockUntilWaitersLimit(60);

}  // namespace

ManualClock::ManualClock(absl::Time start)
    : now_ns_(absl::ToUnixNanos(start)) {}

ManualClock::~ManualClock() = default;

absl::Time ManualClock::Now() const {
  return absl::FromUnixNanos(now_ns_.load(std::memory_order_acquire));
}

bool ManualClock::WaitUntil(ferry::CondVar& cv, absl::Time deadline) {
  // Lock order: cv's mutex (held by the caller), then mu_. Advance() takes
  // only mu_ and never a waiter's mutex, so the order cannot invert.
  {
    ferry::MutexLock lock(&mu_);
    waiting_.push_back(&cv);
    waiters_changed_.SignalAll();
  }
  // One slice of real time at most, then return as if woken spuriously; the
  // caller re-checks its condition and calls again. Looping here instead
  // would lose signals: std::condition_variable reports "timeout" whenever
  // the slice has ended by the time the woken thread runs, even if a notify
  // woke it, so a slice's timeout cannot tell a signal from no signal.
  // A notification from Advance() that arrives before this thread starts to
  // wait is covered the same way: the slice ends 1 ms later.
  bool before_deadline = Now() < deadline;
  if (before_deadline) {
    (void)cv.WaitUntilRealTime(std::chrono::steady_clock::now() + kWaitSlice);
    before_deadline = Now() < deadline;
  }
  {
    ferry::MutexLock lock(&mu_);
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &cv));
    waiters_changed_.SignalAll();
  }
  return before_deadline;
}

void ManualClock::Advance(absl::Duration d) {
  if (d <= absl::ZeroDuration()) return;
  int64_t delta = absl::ToInt64Nanoseconds(d);  // saturates
  int64_t current = now_ns_.load(std::memory_order_relaxed);
  int64_t next;
  do {
    next = current > INT64_MAX - delta ? INT64_MAX : current + delta;
  } while (!now_ns_.compare_exchange_weak(
      current, next, std::memory_order_acq_rel, std::memory_order_relaxed));
  WakeWaiters();
}

void ManualClock::SetTime(absl::Time t) {
  int64_t target = absl::ToUnixNanos(t);
  int64_t current = now_ns_.load(std::memory_order_relaxed);
  while (current < target) {
    if (now_ns_.compare_exchange_weak(current, target,
                                      std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      WakeWaiters();
      return;
    }
  }
}

void ManualClock::WakeWaiters() {
  // Notifying a std::condition_variable does not need its mutex, so no
  // waiter's mutex is taken here. Holding mu_ keeps every registered CondVar
  // alive: a waiter unregisters (under mu_) before it returns.
  ferry::MutexLock lock(&mu_);
  for (ferry::CondVar* cv : waiting_) cv->SignalAll();
}

int ManualClock::NumWaiters() const {
  ferry::MutexLock lock(&mu_);
  return static_cast<int>(waiting_.size());
}

bool ManualClock::BlockUntilWaiters(int n) {
  const auto limit = std::chrono::steady_clock::now() + kBlockUntilWaitersLimit;
  ferry::MutexLock lock(&mu_);
  while (static_cast<int>(waiting_.size()) < n) {
    if (!waiters_changed_.WaitUntilRealTime(limit) &&
        std::chrono::steady_clock::now() >= limit) {
      return static_cast<int>(waiting_.size()) >= n;
    }
  }
  return true;
}

}  // namespace ferry_testing
