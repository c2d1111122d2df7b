// -----------------------------------------------------------------------------
// File: ferry/testing/manual_clock.h
// -----------------------------------------------------------------------------
//
// `ferry_testing::ManualClock` is a `ferry::Clock` whose time moves only when
// a test moves it, so tests of visibility timeouts, delays, retention and
// long polls run in microseconds and never sleep.
//
// A thread blocked in `WaitUntil` wakes when the clock is advanced past its
// deadline, or when its condition variable is signalled. Before advancing past
// a deadline another thread is about to wait for, call `BlockUntilWaiters(n)`:
// otherwise the test may advance before that thread has computed its deadline,
// and the thread then waits for a time that never comes.
//
//   ferry_testing::ManualClock clock;
//   std::thread consumer([&] { queue.Receive({.wait_time = absl::Seconds(20)});
//   }); ASSERT_TRUE(clock.BlockUntilWaiters(1));
//   clock.Advance(absl::Seconds(20));
//   consumer.join();
//
// Thread safety: every method may be called concurrently. `Now()` is
// lock-free, so it may be called under any lock.
// Errors: none. Time never moves backwards; `SetTime` to an earlier instant is
// ignored.
#ifndef FERRY_TESTING_MANUAL_CLOCK_H_
#define FERRY_TESTING_MANUAL_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "ferry/clock.h"
#include "ferry/export.h"
#include "ferry/sync.h"

namespace ferry_testing {

class FERRY_EXPORT ManualClock : public ferry::Clock {
 public:
  // 2026-01-01T00:00:00Z: a fixed instant, so every run sees the same times.
  static absl::Time DefaultStart() { return absl::FromUnixSeconds(1767225600); }

  ManualClock() : ManualClock(DefaultStart()) {}
  explicit ManualClock(absl::Time start);
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;
  ~ManualClock() override;

  absl::Time Now() const override;

  // Waits until `cv` is signalled or the simulated time reaches `deadline`.
  // Returns false iff Now() >= deadline on return. While inside, the calling
  // thread counts as a waiter for NumWaiters()/BlockUntilWaiters().
  // Returns after at most 1 ms of real time even when nothing happened (a
  // spurious wake-up, which Clock's contract allows): callers re-check their
  // condition in a loop, as they must with any Clock.
  // REQUIRES: cv's mutex is held; it is held again on return.
  bool WaitUntil(ferry::CondVar& cv, absl::Time deadline) override;

  // Moves time forward by `d` (ignored unless positive) and wakes every
  // waiter so it re-checks its deadline.
  void Advance(absl::Duration d);
  // Moves time to `t` if `t` is later than Now(), and wakes every waiter.
  void SetTime(absl::Time t);

  // The number of threads currently inside WaitUntil().
  int NumWaiters() const;
  // Blocks until at least `n` threads are inside WaitUntil(). Returns false if
  // that has not happened after 60 seconds of real time (a safety limit so a
  // broken test fails instead of hanging).
  bool BlockUntilWaiters(int n);

 private:
  void WakeWaiters();

  std::atomic<int64_t> now_ns_;  // nanoseconds since the Unix epoch

  mutable ferry::Mutex mu_;
  ferry::CondVar waiters_changed_{&mu_};
  // The condition variables waited on, one entry per waiting thread.
  std::vector<ferry::CondVar*> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ferry_testing

#endif  // FERRY_TESTING_MANUAL_CLOCK_H_
