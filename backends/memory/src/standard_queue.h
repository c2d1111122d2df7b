// A standard queue of the memory backend.
//
// The ready list is a lock-free moodycamel::ConcurrentQueue of 8-byte handles
// (slot number << 32 | low bits of the message's birth stamp). Messages live
// in the slots of kShards shards; each shard has its own mutex, slab and
// timing wheel (delay ends, lease ends). A producer thread appends to "its"
// shard (a per-thread hint); every other operation locks only the shard of
// the message it touches, so send -> receive -> delete takes no queue-wide
// lock. A slot number is local index * kShards + shard.
//
// Deadlines are swept lazily: each shard publishes a lower bound of its
// earliest deadline in one shared cache line (`due_`), and an operation that
// finds a bound <= now locks that shard and advances its wheel. Bounds only
// go stale by being too early (a cancelled lease), which costs one extra
// sweep that recomputes the exact value.
//
// A handle in the ready list can be stale (the message was deleted, purged or
// made invisible again); the consumer checks it under the shard lock and
// skips it. `Slot::in_ready` keeps at most one live handle per message.
//
// Producers and consumers do not share a lock. Each shard has two:
// `alloc_mu`, the producer side (the slab's own free list and growth, the
// append producer token, the append counter), and `mu`, everything else
// (slot states after a message is stored, the wheel, the consumer-side
// counters, the frees). Append takes a free slot and writes it under
// `alloc_mu` only, and publishes it through the ready list (release/acquire).
// Consumers free slots onto `freed` under `mu`; the producer adopts that
// list, under `mu`, once it has gathered kAdoptMin slots (until then it takes
// never-used slots). Operations that walk every slot (count with retention,
// purge, peek, clear) take both, `alloc_mu` first.
//
// So that a producer never writes a slot a consumer may still read through a
// handle: a slot whose handle sits in the ready list (`in_ready`) is not
// freed for reuse when its message goes away; it stays kFree with in_ready
// set until the consumer that dequeues the handle frees it (a purge drains
// the ready list to do the same). A receipt may still name a slot that the
// producer is filling: Ack and ChangeVisibility read its state atomically
// first (a free slot is kGone) and read nothing else of a free slot.
//
// Each shard enqueues through explicit producer tokens (one for appends,
// under alloc_mu; one for messages made visible again, under mu): the ready
// list has at most 2 * kShards sub-queues (so an empty poll scans few),
// token enqueues are the fastest kind, and explicit producers recycle blocks
// through per-slot flags rather than the implicit producers' counter (whose
// memory ordering is weaker than it should be on non-x86 CPUs; moodycamel
// issue #404).
#ifndef FERRY_BACKENDS_MEMORY_SRC_STANDARD_QUEUE_H_
#define FERRY_BACKENDS_MEMORY_SRC_STANDARD_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "concurrentqueue.h"
#include "ferry/sync.h"
#include "queue_base.h"
#include "slab.h"
#include "timer_wheel.h"

namespace ferry::memory_internal {

class StandardQueue final : public QueueBase {
 public:
  StandardQueue(Context* ctx, QueueId id);
  ~StandardQueue() override;

  void Append(std::span<QueueStore::AppendEntry> entries,
              std::span<QueueStore::AppendOutcome> outcomes,
              absl::Time now) override;
  void AppendMoved(StoredMessage message, absl::Time now) override;
  absl::Status Lease(const QueueStore::LeaseParams& p, QueueBase* dead_letter,
                     QueueStore::LeaseResult* result) override;
  void Ack(const QueueStore::AckParams& p) override;
  void ChangeVisibility(const QueueStore::ChangeVisibilityParams& p) override;
  QueueStore::QueueCounts Count(const QueueStore::CountParams& p) override;
  void Purge() override;
  std::vector<QueueStore::PeekedMessage> Peek(
      const QueueStore::PeekParams& p) override;
  void TakeForMove(absl::Time now, int max, absl::Duration retention,
                   std::vector<MoveCandidate>* out) override;
  bool FinishMove(const MoveCandidate& c, bool success) override;
  void Clear() override;

 private:
  static constexpr int kShardBits = 3;
  static constexpr uint32_t kShards = 1u << kShardBits;
  static constexpr uint32_t kShardMask = kShards - 1;

  struct alignas(64) Shard {
    uint32_t index = 0;  // in shards_
    // ---- Producer side.
    Mutex alloc_mu;
    // Set under both locks (this copy for the producer side): deleted.
    bool alloc_dead ABSL_GUARDED_BY(alloc_mu) = false;
    // The free list and growth are guarded by alloc_mu; slots as the class
    // comment says. On lines of its own (consumers read its chunk table).
    alignas(64) Slab slab;
    alignas(64) uint64_t next_order ABSL_GUARDED_BY(alloc_mu) = 0;
    // A lower bound of the enqueue times of the shard's messages.
    absl::Time oldest_enqueue ABSL_GUARDED_BY(alloc_mu) =
        absl::InfiniteFuture();
    // Messages appended visible; `ready` below counts the rest of the
    // changes (so visible = appended + ready).
    std::atomic<int64_t> appended{0};
    // This shard's producer in the ready list for appends (created on first
    // use).
    std::optional<moodycamel::ProducerToken> token ABSL_GUARDED_BY(alloc_mu);

    // ---- Consumer side, on its own cache lines.
    alignas(64) Mutex mu;
    // Set under both locks: the queue was deleted.
    bool dead ABSL_GUARDED_BY(mu) = false;
    TimerWheel wheel ABSL_GUARDED_BY(mu);
    // Slots freed by consumers, waiting for the producer to adopt them
    // (linked through Slot::next).
    uint32_t freed ABSL_GUARDED_BY(mu) = kNil;
    // How many; read by the producer without the lock.
    std::atomic<uint32_t> freed_count{0};
    // Handles made ready while sweeping, enqueued in one bulk call.
    std::vector<uint64_t> scratch ABSL_GUARDED_BY(mu);
    // The producer for handles made ready again (sweeps, visibility
    // changes, failed moves).
    std::optional<moodycamel::ProducerToken> again_token ABSL_GUARDED_BY(mu);
    // Written under mu, read without it.
    std::atomic<int64_t> ready{0};
    std::atomic<int64_t> delayed{0};
    std::atomic<int64_t> in_flight{0};
  };

  // Slots the producer lets pile up before it adopts them.
  static constexpr uint32_t kAdoptMin = 64;

  static uint64_t Handle(uint32_t slot, uint64_t birth) {
    return (uint64_t{slot} << 32) | static_cast<uint32_t>(birth);
  }
  static uint32_t SlotNumber(uint32_t shard, uint32_t local) {
    return (local << kShardBits) | shard;
  }

  // Sweeps the wheels whose earliest deadline is <= now.
  void Sweep(int64_t now);
  void AdvanceLocked(Shard& sh, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu);
  // Arms the wheel for slot `local` (state and deadline already set).
  void ArmLocked(Shard& sh, uint32_t local, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu);
  // Stores `m` in a fresh slot of the shard. Returns true, with the handle
  // to enqueue, if it is visible now; false if it is delayed.
  bool StoreLocked(Shard& sh, StoredMessage&& m, uint32_t bytes, absl::Time now,
                   uint64_t* handle) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.alloc_mu);
  // Removes the message (in any state) and frees the slot (unless a handle
  // of it is in the ready list: then whoever dequeues it frees the slot).
  void FreeLocked(Shard& sh, uint32_t local)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu);
  // Returns a slot to the producer's side.
  void RecycleLocked(Shard& sh, uint32_t local)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu);
  // A handle dequeued from the ready list: returns the slot if it holds a
  // visible message that the handle names (clearing in_ready), nullptr
  // otherwise (recycling a freed slot whose last handle this was).
  Slot* ClaimLocked(Shard& sh, uint64_t handle)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu);
  // Drops messages past retention if the shard may hold any.
  void ExpireRetentionLocked(Shard& sh, absl::Time cutoff)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.alloc_mu, sh.mu);
  // Deletes the message a located receipt names, if the receipt is good.
  ReceiptStatus AckLocked(Shard& sh, uint32_t local, uint32_t stamp,
                          bool require_live_lease, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu);
  // Locates a receipt of this queue: kOk with *shard and *local set.
  ReceiptStatus Locate(std::string_view receipt, uint32_t* shard,
                       uint32_t* local, uint32_t* stamp) const;
  int64_t InFlight() const;
  // The earliest of the shards' deadline bounds (ns).
  int64_t EarliestDue() const;
  absl::Time NextChange() const;
  // Puts handles in the ready list through `token`.
  void Enqueue(std::optional<moodycamel::ProducerToken>& token,
               const uint64_t* handles, size_t n);
  void EnqueueAgainLocked(Shard& sh, const uint64_t* handles, size_t n)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sh.mu) {
    Enqueue(sh.again_token, handles, n);
  }

  // Declared first: destroyed after the shards' producer tokens.
  moodycamel::ConcurrentQueue<uint64_t> ready_;
  // Unique per queue object for the process's lifetime: a thread's cached
  // consumer token (standard_queue.cc) names the queue by address and this
  // number, so a token of a destroyed queue is never used with a new queue
  // at the same address.
  const uint64_t generation_;
  // The calling thread's consumer token for ready_ (created on first use).
  moodycamel::ConsumerToken& ConsumerTokenForThisThread();
  Shard shards_[kShards];
  // The shards' earliest-deadline bounds, in one cache line that is written
  // rarely (a new earliest deadline, a sweep) and read by every Lease.
  alignas(64) std::atomic<int64_t> due_[kShards];
  // Deduplication keys, if core ever sends them to a standard queue.
  Mutex dedup_mu_;
  DedupTable dedup_ ABSL_GUARDED_BY(dedup_mu_);
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_STANDARD_QUEUE_H_
