// Clock::Real(): the wall clock. This is the only file of the library that
// reads a real clock (DESIGN.md principle 2); CI greps for the others.

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ferry/clock.h"
#include "ferry/sync.h"

namespace ferry {
namespace {

// The longest single wait. Far deadlines are waited for in steps of this, so
// a huge deadline never overflows the std::chrono conversion; the caller sees
// the early return as a spurious wake-up, which the contract allows.
constexpr absl::Duration kMaxSingleWait = absl::Hours(24);

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }

  bool WaitUntil(CondVar& cv, absl::Time deadline) override {
    if (deadline == absl::InfiniteFuture()) {
      cv.Wait();
      return true;
    }
    absl::Time now = absl::Now();
    if (now >= deadline) return false;
    absl::Time until = deadline;
    if (until - now > kMaxSingleWait) until = now + kMaxSingleWait;
    std::chrono::system_clock::time_point real_deadline =
        absl::ToChronoTime(until);
    // Signalled, spurious or timed out: the answer depends only on the time.
    (void)cv.WaitUntilRealTime(real_deadline);
    return absl::Now() < deadline;
  }
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* const clock = new RealClock();
  return *clock;
}

}  // namespace ferry
