// -----------------------------------------------------------------------------
// File: ferry/testing/manual_executor.h
// -----------------------------------------------------------------------------
//
// `ferry_testing::ManualExecutor` is a `ferry::Executor` that only queues the
// functions scheduled on it; the test runs them when it chooses, on its own
// thread, with `RunAll()` (the librdkafka poll() idea). Callbacks therefore
// never run concurrently with the code under test unless the test wants them
// to.
//
//   ferry_testing::ManualExecutor executor;
//   ... push consumer created with &executor ...
//   queue.Send("m1");
//   EXPECT_EQ(executor.RunAll(), 1);
//
// Thread safety: Schedule, RunAll, RunOne and Pending may be called
// concurrently from any thread. Functions run on the thread that calls
// RunAll/RunOne, never under the executor's lock, so they may schedule more.
// Errors: none; functions must not throw. Functions still queued when the
// executor is destroyed are destroyed without running.
#ifndef FERRY_TESTING_MANUAL_EXECUTOR_H_
#define FERRY_TESTING_MANUAL_EXECUTOR_H_

#include <cstddef>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "ferry/executor.h"
#include "ferry/export.h"
#include "ferry/sync.h"

namespace ferry_testing {

class FERRY_EXPORT ManualExecutor : public ferry::Executor {
 public:
  ManualExecutor() = default;
  ManualExecutor(const ManualExecutor&) = delete;
  ManualExecutor& operator=(const ManualExecutor&) = delete;
  ~ManualExecutor() override;

  void Schedule(absl::AnyInvocable<void() &&> fn) override;

  // Runs the oldest queued function. Returns false if none was queued.
  bool RunOne();
  // Runs queued functions, oldest first, until the queue is empty, including
  // functions scheduled by the ones it runs. Returns how many it ran.
  size_t RunAll();
  // The number of functions queued and not yet started.
  size_t Pending() const;

 private:
  mutable ferry::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ferry_testing

#endif  // FERRY_TESTING_MANUAL_EXECUTOR_H_
