// -----------------------------------------------------------------------------
// File: ferry/sync.h
// -----------------------------------------------------------------------------
//
// `ferry::Mutex`, `ferry::MutexLock` and `ferry::CondVar` are thin annotated
// wrappers over the std primitives. ferry does not use `absl::Mutex`: Debian's
// Abseil is not built with TSan instrumentation, so every absl::Mutex handoff
// would be reported as a data race. The annotations let clang's
// -Wthread-safety check `ABSL_GUARDED_BY` members.
//
// Thread safety: as the std primitives they wrap.
// Errors: none.
#ifndef FERRY_SYNC_H_
#define FERRY_SYNC_H_

#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace ferry {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Spins briefly before sleeping: ferry's critical sections are short (tens
  // to hundreds of nanoseconds), and std::mutex sleeps in the kernel at the
  // first contention, which costs microseconds on both sides.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    for (int i = 0; i < kSpins; ++i) {
      if (mu_.try_lock()) return;
      Pause();
    }
    mu_.lock();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }
  void AssertHeld() ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  static constexpr int kSpins = 128;
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  std::mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable bound to one Mutex for its lifetime.
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // REQUIRES: the bound mutex is held. It is held again on return.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // Waits for a signal or until the real `deadline`; returns false on timeout.
  // Only `Clock` implementations call this (DESIGN.md principle 3).
  template <typename TimePoint>
  bool WaitUntilRealTime(const TimePoint& deadline) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    bool signalled =
        cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }
  Mutex* mutex() const { return mu_; }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace ferry

#endif  // FERRY_SYNC_H_
