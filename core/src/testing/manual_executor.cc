// ferry_testing::ManualExecutor.

#include "ferry/testing/manual_executor.h"

#include <cstddef>
#include <deque>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "ferry/sync.h"

namespace ferry_testing {

ManualExecutor::~ManualExecutor() {
  // Destroy the queued functions outside the lock: their captures may run
  // arbitrary destructors.
  std::deque<absl::AnyInvocable<void() &&>> drained;
  {
    ferry::MutexLock lock(&mu_);
    drained.swap(queue_);
  }
}

void ManualExecutor::Schedule(absl::AnyInvocable<void() &&> fn) {
  ferry::MutexLock lock(&mu_);
  queue_.push_back(std::move(fn));
}

bool ManualExecutor::RunOne() {
  absl::AnyInvocable<void() &&> fn;
  {
    ferry::MutexLock lock(&mu_);
    if (queue_.empty()) return false;
    fn = std::move(queue_.front());
    queue_.pop_front();
  }
  std::move(fn)();
  return true;
}

size_t ManualExecutor::RunAll() {
  size_t ran = 0;
  while (RunOne()) ++ran;
  return ran;
}

size_t ManualExecutor::Pending() const {
  ferry::MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace ferry_testing
