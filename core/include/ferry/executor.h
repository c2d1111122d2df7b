// -----------------------------------------------------------------------------
// File: ferry/executor.h
// -----------------------------------------------------------------------------
//
// `ferry::Executor` runs the callbacks ferry makes into user code (push
// consumers, and later SNS function subscriptions). ferry never calls user
// code while holding one of its locks; it hands the call to the executor.
// The default, `InlineExecutor()`, runs the function at once on the calling
// thread, after ferry has released its locks. Tests use
// `ferry_testing::ManualExecutor` to run callbacks when they choose.
//
// Thread safety: `Schedule` may be called from any thread.
// Errors: user callbacks must not throw.
#ifndef FERRY_EXECUTOR_H_
#define FERRY_EXECUTOR_H_

#include "absl/functional/any_invocable.h"
#include "ferry/export.h"

namespace ferry {

class FERRY_EXPORT Executor {
 public:
  virtual ~Executor() = default;
  virtual void Schedule(absl::AnyInvocable<void() &&> fn) = 0;
};

// Runs every scheduled function immediately on the scheduling thread.
FERRY_EXPORT Executor& InlineExecutor();

}  // namespace ferry

#endif  // FERRY_EXECUTOR_H_
