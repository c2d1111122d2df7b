#include "ferry/testing/manual_clock.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "ferry/clock.h"
#include "ferry/sync.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry_testing {
namespace {

// A condition a thread waits for through the clock, the way broker code does:
//   while (!ready) { if (!clock.WaitUntil(cv, deadline)) break; }
struct Waitable {
  ferry::Mutex mu;
  ferry::CondVar cv{&mu};
  bool ready ABSL_GUARDED_BY(mu) = false;

  // Returns true if `ready` became true, false if the deadline passed.
  bool WaitFor(ferry::Clock& clock, absl::Duration timeout) {
    ferry::MutexLock lock(&mu);
    const absl::Time deadline = timeout == absl::InfiniteDuration()
                                    ? absl::InfiniteFuture()
                                    : clock.Now() + timeout;
    while (!ready) {
      if (!clock.WaitUntil(cv, deadline)) return false;
    }
    return true;
  }
  void Set() {
    ferry::MutexLock lock(&mu);
    ready = true;
    cv.SignalAll();
  }
};

TEST(ManualClockTest, StartsAtAFixedInstantAndStandsStill) {
  ManualClock clock;
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(1767225600));
  EXPECT_EQ(clock.Now(), ManualClock::DefaultStart());
  ManualClock other(absl::FromUnixSeconds(42));
  EXPECT_EQ(other.Now(), absl::FromUnixSeconds(42));
  EXPECT_EQ(other.Now(), absl::FromUnixSeconds(42));
}

TEST(ManualClockTest, AdvanceAndSetTimeOnlyMoveForward) {
  ManualClock clock;
  const absl::Time start = clock.Now();
  clock.Advance(absl::Seconds(30));
  EXPECT_EQ(clock.Now(), start + absl::Seconds(30));
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(clock.Now(), start + absl::Seconds(30) + absl::Nanoseconds(1));
  clock.Advance(-absl::Seconds(10));
  clock.Advance(absl::ZeroDuration());
  EXPECT_EQ(clock.Now(), start + absl::Seconds(30) + absl::Nanoseconds(1));
  clock.SetTime(start);  // backwards: ignored
  EXPECT_EQ(clock.Now(), start + absl::Seconds(30) + absl::Nanoseconds(1));
  clock.SetTime(start + absl::Hours(1));
  EXPECT_EQ(clock.Now(), start + absl::Hours(1));
}

TEST(ManualClockTest, WaitUntilAPassedDeadlineReturnsFalseAtOnce) {
  ManualClock clock;
  Waitable w;
  EXPECT_FALSE(w.WaitFor(clock, absl::ZeroDuration()));
  EXPECT_FALSE(w.WaitFor(clock, -absl::Seconds(1)));
  EXPECT_EQ(clock.NumWaiters(), 0);
}

TEST(ManualClockTest, AdvancePastTheDeadlineWakesTheWaiter) {
  ManualClock clock;
  const absl::Time start = clock.Now();
  Waitable w;
  std::atomic<int> result{-1};
  std::thread waiter(
      [&] { result = w.WaitFor(clock, absl::Seconds(20)) ? 1 : 0; });
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  EXPECT_EQ(clock.NumWaiters(), 1);
  // Short of the deadline: the waiter may wake, but goes back to waiting.
  clock.Advance(absl::Seconds(19));
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  EXPECT_EQ(result.load(), -1);
  clock.Advance(absl::Seconds(1));
  waiter.join();
  EXPECT_EQ(result.load(), 0);  // timed out
  EXPECT_EQ(clock.Now(), start + absl::Seconds(20));
  EXPECT_EQ(clock.NumWaiters(), 0);
}

TEST(ManualClockTest, SetTimeWakesTheWaiter) {
  ManualClock clock;
  Waitable w;
  std::atomic<int> result{-1};
  std::thread waiter(
      [&] { result = w.WaitFor(clock, absl::Minutes(5)) ? 1 : 0; });
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  clock.SetTime(clock.Now() + absl::Hours(1));
  waiter.join();
  EXPECT_EQ(result.load(), 0);
}

TEST(ManualClockTest, ASignalWakesTheWaiterBeforeItsDeadline) {
  ManualClock clock;
  const absl::Time start = clock.Now();
  Waitable w;
  std::atomic<int> result{-1};
  std::thread waiter(
      [&] { result = w.WaitFor(clock, absl::Seconds(20)) ? 1 : 0; });
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  w.Set();
  waiter.join();
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(clock.Now(), start);  // no time passed
}

TEST(ManualClockTest, InfiniteDeadlineWaitsForASignalOnly) {
  ManualClock clock;
  Waitable w;
  std::atomic<int> result{-1};
  std::thread waiter(
      [&] { result = w.WaitFor(clock, absl::InfiniteDuration()) ? 1 : 0; });
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  clock.Advance(absl::Hours(24 * 365 * 100));
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  EXPECT_EQ(result.load(), -1);
  w.Set();
  waiter.join();
  EXPECT_EQ(result.load(), 1);
}

TEST(ManualClockTest, BlockUntilWaitersCountsEveryWaitingThread) {
  ManualClock clock;
  EXPECT_TRUE(clock.BlockUntilWaiters(0));
  constexpr int kThreads = 3;
  Waitable shared;  // several threads on one condition variable
  Waitable own;
  std::vector<std::thread> threads;
  std::atomic<int> timed_out{0};
  for (int i = 0; i < kThreads - 1; ++i) {
    threads.emplace_back([&, i] {
      if (!shared.WaitFor(clock, absl::Seconds(10 + i))) ++timed_out;
    });
  }
  threads.emplace_back([&] {
    if (!own.WaitFor(clock, absl::Seconds(60))) ++timed_out;
  });
  ASSERT_TRUE(clock.BlockUntilWaiters(kThreads));
  EXPECT_EQ(clock.NumWaiters(), kThreads);
  clock.Advance(absl::Seconds(11));  // both deadlines on `shared` pass
  ASSERT_TRUE(clock.BlockUntilWaiters(1));
  own.Set();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(timed_out.load(), kThreads - 1);
  EXPECT_EQ(clock.NumWaiters(), 0);
}

TEST(ManualClockTest, ConcurrentAdvanceAndNowAreConsistent) {
  ManualClock clock;
  const absl::Time start = clock.Now();
  constexpr int kThreads = 4;
  constexpr int kSteps = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      absl::Time last = clock.Now();
      for (int i = 0; i < kSteps; ++i) {
        clock.Advance(absl::Milliseconds(1));
        absl::Time now = clock.Now();
        ASSERT_GE(now, last);
        last = now;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(clock.Now(), start + absl::Milliseconds(kThreads * kSteps));
}

TEST(RealClockTest, WaitUntilAPassedDeadlineReturnsFalse) {
  ferry::Clock& clock = ferry::Clock::Real();
  EXPECT_EQ(&clock, &ferry::Clock::Real());
  Waitable w;
  EXPECT_FALSE(w.WaitFor(clock, -absl::Seconds(1)));
  EXPECT_FALSE(w.WaitFor(clock, absl::Milliseconds(1)));
}

TEST(RealClockTest, ASignalWakesTheWaiter) {
  ferry::Clock& clock = ferry::Clock::Real();
  Waitable w;
  std::atomic<int> result{-1};
  std::thread waiter(
      [&] { result = w.WaitFor(clock, absl::Seconds(30)) ? 1 : 0; });
  w.Set();
  waiter.join();
  EXPECT_EQ(result.load(), 1);
}

}  // namespace
}  // namespace ferry_testing
