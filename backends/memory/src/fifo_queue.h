// A FIFO queue of the memory backend.
//
// One mutex guards the queue. Messages live in a slab; each message group is
// an intrusive list of its messages in send order, and the non-empty groups
// are kept in the order of their head message's sequence number. A lease
// walks the groups in that order and takes, per group, the visible messages
// before the first in flight or delayed one (the prefix rule), filling from
// one group before moving to the next. Visibility is computed from the
// message's times on each walk, so no timer is needed: a lease that ended is
// simply a deadline in the past.
#ifndef FERRY_BACKENDS_MEMORY_SRC_FIFO_QUEUE_H_
#define FERRY_BACKENDS_MEMORY_SRC_FIFO_QUEUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "ferry/sync.h"
#include "queue_base.h"
#include "slab.h"

namespace ferry::memory_internal {

class FifoQueue final : public QueueBase {
 public:
  FifoQueue(Context* ctx, QueueId id);
  ~FifoQueue() override;

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
  struct Group {
    std::string id;
    uint32_t head = kNil;
    uint32_t tail = kNil;
    uint64_t key = 0;  // the head's sequence number: its key in order_
  };

  // When the message becomes visible (ns): the end of its lease or delay.
  static int64_t VisibleFrom(const Slot& s,
                             const std::optional<absl::Duration>& retroactive);
  // Stores `m` at the end of its group; returns its sequence number.
  uint64_t StoreLocked(StoredMessage&& m, uint32_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes slot `local` out of its group's list (order_ is not updated).
  void RemoveFromGroup(Group* g, uint32_t local)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Files `g` in order_ under its head's sequence, or drops it if empty.
  // REQUIRES: g is not in order_.
  void Refile(Group* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes slot `local` out of its group and keeps order_ in step.
  void Unlink(uint32_t local) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees a slot that is in no group.
  void FreeSlot(uint32_t local) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t CountInFlightLocked(int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Locates a receipt of this queue: kOk with *local set.
  ReceiptStatus LocateLocked(std::string_view receipt, uint32_t* local,
                             uint32_t* stamp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  Slab slab_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::unique_ptr<Group>> groups_
      ABSL_GUARDED_BY(mu_);
  absl::btree_map<uint64_t, Group*> order_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  // Slots in kInFlight, including leases that have ended.
  int64_t leased_ ABSL_GUARDED_BY(mu_) = 0;
  DedupTable dedup_ ABSL_GUARDED_BY(mu_);
  bool dead_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_FIFO_QUEUE_H_
