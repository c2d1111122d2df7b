// -----------------------------------------------------------------------------
// File: ferry/clock.h
// -----------------------------------------------------------------------------
//
// `ferry::Clock` is the only source of time for ferry's semantics: every
// visibility timeout, delay, retention window, deduplication window and long
// poll reads the broker's Clock. Tests inject `ferry_testing::ManualClock`
// (ferry/testing/manual_clock.h) and move time by hand, so no test sleeps.
//
// Thread safety: implementations must be safe for concurrent use.
// Errors: none.
#ifndef FERRY_CLOCK_H_
#define FERRY_CLOCK_H_

#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/sync.h"

namespace ferry {

class FERRY_EXPORT Clock {
 public:
  virtual ~Clock() = default;

  // The process-wide real clock. Never deleted.
  static Clock& Real();

  virtual absl::Time Now() const = 0;

  // Waits on `cv` until it is signalled (or wakes spuriously) or until
  // `Now() >= deadline`. Returns false iff the deadline has passed.
  // `absl::InfiniteFuture()` waits for a signal only.
  // REQUIRES: cv's mutex is held; it is held again on return.
  virtual bool WaitUntil(CondVar& cv, absl::Time deadline) = 0;
};

}  // namespace ferry

#endif  // FERRY_CLOCK_H_
