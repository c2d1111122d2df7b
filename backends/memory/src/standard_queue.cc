#include "standard_queue.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ferry::memory_internal {
namespace {

// Handles moved per call of the ready list's bulk methods.
constexpr size_t kBatch = 16;

// Frees what a message in a slot that is being freed holds on the heap and
// writes nothing else: the next occupant overwrites every field, and leaving
// the cache lines unwritten saves the producer that reuses the slot fetching
// them back from this core.
void ReleaseMessage(StoredMessage& m) {
  auto release = [](std::string& str) {
    if (str.capacity() > 15) std::string().swap(str);
  };
  m.body.clear();
  if (!m.attributes.empty()) m.attributes.clear();
  release(m.message_group_id);
  release(m.deduplication_id);
  release(m.trace_header);
  release(m.sender_id);
  release(m.dead_letter_source_arn);
}

// The copy a lease returns, into a default-constructed `to`: empty fields
// are not copied (most are empty).
void CopyForLease(const StoredMessage& from, StoredMessage& to) {
  static_assert(sizeof(void*) != 8 || sizeof(StoredMessage) == 288,
                "StoredMessage changed: update CopyForLease and "
                "ReleaseMessage");
  auto copy = [](const std::string& a, std::string& b) {
    if (!a.empty()) b = a;
  };
  to.message_id = from.message_id;
  // The body and the attributes are shared: a pointer each.
  to.body = from.body;
  to.attributes = from.attributes;
  copy(from.message_group_id, to.message_group_id);
  copy(from.deduplication_id, to.deduplication_id);
  copy(from.trace_header, to.trace_header);
  copy(from.sender_id, to.sender_id);
  copy(from.dead_letter_source_arn, to.dead_letter_source_arn);
  to.sent_time = from.sent_time;
  to.enqueue_time = from.enqueue_time;
  to.visible_at = from.visible_at;
  to.receive_count = from.receive_count;
  to.first_receive_time = from.first_receive_time;
  to.sequence_number = from.sequence_number;
}

// A slot's state as a thread that does not own the slot reads it: the
// producer may be filling a free slot without the consumer-side lock.
SlotState LoadState(const Slot& s) {
  return std::atomic_ref<const SlotState>(s.state).load(
      std::memory_order_acquire);
}
void PublishState(Slot& s, SlotState state) {
  std::atomic_ref<SlotState>(s.state).store(state, std::memory_order_release);
}

std::atomic<uint64_t> next_generation{1};

// A few consumer tokens per thread, one per standard queue the thread
// received from most recently. A token only remembers positions in its
// queue (moodycamel's ConsumerToken has no destructor work), so an evicted
// or orphaned entry costs nothing; an entry is used only if both the queue's
// address and its generation match.
struct CachedConsumerToken {
  const void* queue = nullptr;
  uint64_t generation = 0;
  std::optional<moodycamel::ConsumerToken> token;
};
constexpr size_t kCachedConsumerTokens = 4;
struct ConsumerTokenCache {
  CachedConsumerToken entries[kCachedConsumerTokens];
  size_t next_victim = 0;
};

}  // namespace

moodycamel::ConsumerToken& StandardQueue::ConsumerTokenForThisThread() {
  thread_local ConsumerTokenCache cache;
  for (CachedConsumerToken& e : cache.entries) {
    if (e.queue == this && e.generation == generation_) return *e.token;
  }
  CachedConsumerToken& e = cache.entries[cache.next_victim];
  cache.next_victim = (cache.next_victim + 1) % kCachedConsumerTokens;
  e.queue = this;
  e.generation = generation_;
  e.token.emplace(ready_);
  return *e.token;
}

StandardQueue::StandardQueue(Context* ctx, QueueId id)
    : QueueBase(ctx, id, /*fifo=*/false),
      ready_(0),
      generation_(next_generation.fetch_add(1, std::memory_order_relaxed)) {
  for (uint32_t i = 0; i < kShards; ++i) {
    shards_[i].index = i;
    due_[i].store(kNever, std::memory_order_relaxed);
  }
}

StandardQueue::~StandardQueue() = default;

void StandardQueue::Enqueue(std::optional<moodycamel::ProducerToken>& token,
                            const uint64_t* handles, size_t n) {
  if (n == 0) return;
  if (!token.has_value()) token.emplace(ready_);
  // enqueue only fails when memory is exhausted.
  if (n == 1) {
    ready_.enqueue(*token, handles[0]);
  } else {
    // GCC 12 at -O3 sees an atomic load inside moodycamel's explicit
    // enqueue_bulk as an 8-byte write into a zero-sized region (a false
    // -Wstringop-overflow).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
    ready_.enqueue_bulk(*token, handles, n);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  }
}

void StandardQueue::ArmLocked(Shard& sh, uint32_t local, int64_t now) {
  sh.wheel.Insert(sh.slab, local, now);
  const int64_t deadline = sh.slab[local].deadline;
  if (deadline < due_[sh.index].load(std::memory_order_relaxed)) {
    due_[sh.index].store(deadline, std::memory_order_release);
  }
}

bool StandardQueue::StoreLocked(Shard& sh, StoredMessage&& m, uint32_t bytes,
                                absl::Time now, uint64_t* handle) {
  if (!sh.slab.has_free() &&
      sh.freed_count.load(std::memory_order_relaxed) >= kAdoptMin) {
    MutexLock lock(&sh.mu);
    sh.slab.Adopt(sh.freed);
    sh.freed = kNil;
    sh.freed_count.store(0, std::memory_order_relaxed);
  }
  const uint32_t local = sh.slab.Allocate();
  // The slot is free: no other thread writes it, and others read only its
  // state until PublishState.
  Slot& s = sh.slab[local];
  s.msg = std::move(m);
  s.bytes = bytes;
  s.birth = ++s.stamp;
  s.order = sh.next_order++;
  if (s.msg.enqueue_time < sh.oldest_enqueue) {
    sh.oldest_enqueue = s.msg.enqueue_time;
  }
  if (s.msg.visible_at > now) {
    s.deadline = ToNanos(s.msg.visible_at);
    MutexLock lock(&sh.mu);
    PublishState(s, SlotState::kDelayed);
    Bump(sh.delayed, 1);
    ArmLocked(sh, local, ToNanos(now));
    return false;
  }
  s.in_ready = true;
  PublishState(s, SlotState::kReady);
  Bump(sh.appended, 1);
  *handle = Handle(SlotNumber(sh.index, local), s.birth);
  return true;
}

void StandardQueue::RecycleLocked(Shard& sh, uint32_t local) {
  sh.slab.Unlink(local, &sh.freed);
  sh.freed_count.store(sh.freed_count.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
}

void StandardQueue::FreeLocked(Shard& sh, uint32_t local) {
  Slot& s = sh.slab[local];
  switch (s.state) {
    case SlotState::kReady:
      Bump(sh.ready, -1);
      break;
    case SlotState::kDelayed:
      Bump(sh.delayed, -1);
      break;
    case SlotState::kInFlight:
      Bump(sh.in_flight, -1);
      break;
    case SlotState::kFree:
    case SlotState::kMoving:
      break;
  }
  if (s.bucket != kNoBucket) sh.wheel.Remove(sh.slab, local);
  ctx_->Refund(s.bytes);
  ReleaseMessage(s.msg);
  if (s.in_ready) {
    // A handle of it is still in the ready list: the consumer that
    // dequeues it recycles the slot (ClaimLocked).
    s.state = SlotState::kFree;
    s.bytes = 0;
    return;
  }
  RecycleLocked(sh, local);
}

Slot* StandardQueue::ClaimLocked(Shard& sh, uint64_t handle) {
  const uint32_t local = static_cast<uint32_t>(handle >> 32) >> kShardBits;
  if (sh.dead || local >= sh.slab.size()) return nullptr;
  Slot& s = sh.slab[local];
  if (!s.in_ready ||
      static_cast<uint32_t>(s.birth) != static_cast<uint32_t>(handle)) {
    return nullptr;  // not a handle of this slot's message
  }
  s.in_ready = false;
  if (s.state == SlotState::kFree) {
    RecycleLocked(sh, local);
    return nullptr;
  }
  return s.state == SlotState::kReady ? &s : nullptr;
}

void StandardQueue::Append(std::span<QueueStore::AppendEntry> entries,
                           std::span<QueueStore::AppendOutcome> outcomes,
                           absl::Time now) {
  const uint32_t shard = ThreadHint() & kShardMask;
  Shard& sh = shards_[shard];
  uint64_t stack[kBatch];
  std::unique_ptr<uint64_t[]> heap;
  uint64_t* handles = stack;
  if (entries.size() > kBatch) {
    heap = std::make_unique<uint64_t[]>(entries.size());
    handles = heap.get();
  }
  size_t n = 0;
  {
    MutexLock lock(&sh.alloc_mu);
    for (size_t i = 0; i < entries.size(); ++i) {
      QueueStore::AppendEntry& e = entries[i];
      QueueStore::AppendOutcome& o = outcomes[i];
      o.duplicate = false;
      o.message_id = e.message.message_id;
      o.sequence_number = 0;
      const uint32_t bytes = ctx_->ChargeFor(e.message);
      if (!e.dedup_key.empty()) {
        MutexLock dedup_lock(&dedup_mu_);
        if (const DedupTable::Record* r = dedup_.Find(e.dedup_key, now)) {
          o.duplicate = true;
          o.message_id = r->message_id;
          ctx_->Refund(bytes);
          continue;
        }
        dedup_.Insert(e.dedup_key, {.message_id = e.message.message_id,
                                    .expires = e.dedup_expires_at});
      }
      if (sh.alloc_dead) {  // deleted meanwhile: as if appended, then deleted
        ctx_->Refund(bytes);
        continue;
      }
      uint64_t handle;
      if (StoreLocked(sh, std::move(e.message), bytes, now, &handle)) {
        handles[n++] = handle;
      }
    }
    Enqueue(sh.token, handles, n);
  }
}

void StandardQueue::AppendMoved(StoredMessage message, absl::Time now) {
  const uint32_t shard = ThreadHint() & kShardMask;
  Shard& sh = shards_[shard];
  const uint32_t bytes = ctx_->ChargeFor(message);
  ctx_->Charge(bytes);
  MutexLock lock(&sh.alloc_mu);
  if (sh.alloc_dead) {
    ctx_->Refund(bytes);
    return;
  }
  uint64_t handle;
  if (StoreLocked(sh, std::move(message), bytes, now, &handle)) {
    Enqueue(sh.token, &handle, 1);
  }
}

void StandardQueue::AdvanceLocked(Shard& sh, int64_t now) {
  sh.scratch.clear();
  sh.wheel.Advance(sh.slab, now, [&](uint32_t local) {
    sh.mu.AssertHeld();  // the analysis does not see into the lambda
    Slot& s = sh.slab[local];
    Bump(s.state == SlotState::kDelayed ? sh.delayed : sh.in_flight, -1);
    Bump(sh.ready, 1);
    s.state = SlotState::kReady;
    if (!s.in_ready) {
      s.in_ready = true;
      sh.scratch.push_back(Handle(SlotNumber(sh.index, local), s.birth));
    }
  });
  // Enqueued before the new bound is published: a thread that reads the
  // bound and skips the sweep finds the handles.
  EnqueueAgainLocked(sh, sh.scratch.data(), sh.scratch.size());
  due_[sh.index].store(sh.wheel.NextDeadline(sh.slab),
                       std::memory_order_release);
}

int64_t StandardQueue::EarliestDue() const {
  int64_t earliest = due_[0].load(std::memory_order_acquire);
  for (uint32_t i = 1; i < kShards; ++i) {
    earliest = std::min(earliest, due_[i].load(std::memory_order_acquire));
  }
  return earliest;
}

void StandardQueue::Sweep(int64_t now) {
  if (EarliestDue() > now) return;
  for (uint32_t i = 0; i < kShards; ++i) {
    if (due_[i].load(std::memory_order_acquire) > now) continue;
    Shard& sh = shards_[i];
    MutexLock lock(&sh.mu);
    if (!sh.dead) AdvanceLocked(sh, now);
  }
}

int64_t StandardQueue::InFlight() const {
  int64_t n = 0;
  for (const Shard& sh : shards_)
    n += sh.in_flight.load(std::memory_order_relaxed);
  return n;
}

absl::Time StandardQueue::NextChange() const {
  return FromNanos(EarliestDue());
}

absl::Status StandardQueue::Lease(const QueueStore::LeaseParams& p,
                                  QueueBase* dead_letter,
                                  QueueStore::LeaseResult* result) {
  const int64_t now = ToNanos(p.now);
  Sweep(now);
  size_t max = p.max_messages > 0 ? static_cast<size_t>(p.max_messages) : 0;
  if (p.max_in_flight > 0 && max > 0) {
    const int64_t in_flight = InFlight();
    if (in_flight >= p.max_in_flight) {
      return absl::ResourceExhaustedError(
          absl::StrCat("queue ", id_, " has ", in_flight,
                       " messages in flight (limit ", p.max_in_flight, ")"));
    }
    max = std::min<size_t>(max, p.max_in_flight - in_flight);
  }
  const absl::Time cutoff = p.now - p.retention;
  const int64_t until = ToNanos(p.invisible_until);
  const bool redrive = dead_letter != nullptr && p.max_receive_count > 0;
  std::vector<StoredMessage> moved;
  // Leases with a deadline <= now: visible again once this call is done.
  std::vector<uint64_t> again;
  std::vector<QueueStore::LeasedMessage>& leases = result->leases;
  uint64_t batch[kBatch];
  while (leases.size() < max) {
    const size_t want = std::min(max - leases.size(), kBatch);
    // Bulk dequeues go through the thread's consumer token (with several
    // consumers, each then drains one sub-queue at a time); single ones do
    // not: a token makes 2P2C single-message cycles slower (consumers pile
    // onto the same sub-queue), the tokenless dequeue picks the fullest.
    const size_t got = want == 1
                           ? (ready_.try_dequeue(batch[0]) ? 1 : 0)
                           : ready_.try_dequeue_bulk(
                                 ConsumerTokenForThisThread(), batch, want);
    if (got == 0) break;
    // One lock per run of handles from the same shard (a batch that one
    // producer sent lands in one shard).
    for (size_t k = 0; k < got;) {
      const uint32_t shard = static_cast<uint32_t>(batch[k] >> 32) & kShardMask;
      size_t end = k + 1;
      while (end < got &&
             (static_cast<uint32_t>(batch[end] >> 32) & kShardMask) == shard) {
        ++end;
      }
      Shard& sh = shards_[shard];
      MutexLock lock(&sh.mu);
      for (; k < end; ++k) {
        const uint64_t handle = batch[k];
        [&] {
          sh.mu.AssertHeld();  // the analysis does not see into the lambda
          const uint32_t slot = static_cast<uint32_t>(handle >> 32);
          const uint32_t local = slot >> kShardBits;
          Slot* claimed = ClaimLocked(sh, handle);
          if (claimed == nullptr) return;
          Slot& s = *claimed;
          if (s.msg.enqueue_time <= cutoff) {
            FreeLocked(sh, local);
            return;
          }
          if (redrive && s.msg.receive_count + 1 > p.max_receive_count) {
            moved.push_back(std::move(s.msg));
            FreeLocked(sh, local);
            return;
          }
          ++s.stamp;
          ++s.msg.receive_count;
          if (s.msg.first_receive_time == absl::InfinitePast()) {
            s.msg.first_receive_time = p.now;
          }
          s.last_receive = now;
          s.deadline = until;
          if (until > now) {
            s.state = SlotState::kInFlight;
            Bump(sh.ready, -1);
            Bump(sh.in_flight, 1);
            ArmLocked(sh, local, now);
          } else {
            s.in_ready = true;
            again.push_back(Handle(slot, s.birth));
          }
          // Reserved only now: an empty poll allocates nothing.
          if (leases.empty()) leases.reserve(std::min(max, kBatch));
          QueueStore::LeasedMessage& lease = leases.emplace_back();
          CopyForLease(s.msg, lease.message);
          lease.receipt =
              EncodeReceipt({.queue = id_,
                             .slot = slot,
                             .stamp = static_cast<uint32_t>(s.stamp)});
        }();
      }
    }
  }
  for (uint64_t handle : again) {
    const uint32_t shard = static_cast<uint32_t>(handle >> 32) & kShardMask;
    Shard& sh = shards_[shard];
    MutexLock lock(&sh.mu);
    if (!sh.dead) EnqueueAgainLocked(sh, &handle, 1);
  }
  for (StoredMessage& m : moved) {
    PrepareForDeadLetter(p, m);
    dead_letter->AppendMoved(std::move(m), p.now);
  }
  result->moved_to_dead_letter = static_cast<int64_t>(moved.size());
  // A full result may have left visible messages behind: the next change is
  // now. Otherwise the earliest deadline of the wheels.
  result->next_change = max > 0 && leases.size() == max ? p.now : NextChange();
  return absl::OkStatus();
}

ReceiptStatus StandardQueue::Locate(std::string_view receipt, uint32_t* shard,
                                    uint32_t* local, uint32_t* stamp) const {
  ReceiptFields f;
  const ReceiptStatus status = ParseReceipt(receipt, &f);
  if (status != ReceiptStatus::kOk) return status;
  if (f.slot > UINT32_MAX) return ReceiptStatus::kMalformed;
  *shard = static_cast<uint32_t>(f.slot) & kShardMask;
  *local = static_cast<uint32_t>(f.slot) >> kShardBits;
  *stamp = f.stamp;
  return ReceiptStatus::kOk;
}

ReceiptStatus StandardQueue::AckLocked(Shard& sh, uint32_t local,
                                       uint32_t stamp, bool require_live_lease,
                                       int64_t now) {
  if (sh.dead) return ReceiptStatus::kGone;
  if (local >= sh.slab.size()) return ReceiptStatus::kMalformed;
  Slot& s = sh.slab[local];
  // A free slot may be being refilled by the producer: read no more of it.
  if (LoadState(s) == SlotState::kFree) return ReceiptStatus::kGone;
  const ReceiptStatus status = Judge(s, stamp, require_live_lease, now);
  if (status == ReceiptStatus::kOk) FreeLocked(sh, local);
  return status;
}

void StandardQueue::Ack(const QueueStore::AckParams& p) {
  // Only a live-lease check reads the time.
  const int64_t now = p.require_live_lease ? ToNanos(p.now) : 0;
  if (p.receipts.size() == 1) {  // the common single Delete, kept short
    uint32_t shard = 0, local = 0, stamp = 0;
    p.statuses[0] = Locate(p.receipts[0], &shard, &local, &stamp);
    if (p.statuses[0] != ReceiptStatus::kOk) return;
    Shard& sh = shards_[shard];
    MutexLock lock(&sh.mu);
    p.statuses[0] = AckLocked(sh, local, stamp, p.require_live_lease, now);
    return;
  }
  constexpr size_t kChunk = 16;
  uint32_t shard[kChunk], local[kChunk], stamp[kChunk];
  for (size_t base = 0; base < p.receipts.size(); base += kChunk) {
    const size_t n = std::min(kChunk, p.receipts.size() - base);
    ReceiptStatus* statuses = &p.statuses[base];
    for (size_t i = 0; i < n; ++i) {
      statuses[i] =
          Locate(p.receipts[base + i], &shard[i], &local[i], &stamp[i]);
    }
    // One lock per run of receipts of the same shard (the receipts of one
    // receive usually are).
    for (size_t i = 0; i < n;) {
      if (statuses[i] != ReceiptStatus::kOk) {
        ++i;
        continue;
      }
      size_t end = i + 1;
      while (end < n &&
             (statuses[end] != ReceiptStatus::kOk || shard[end] == shard[i])) {
        ++end;
      }
      Shard& sh = shards_[shard[i]];
      MutexLock lock(&sh.mu);
      for (; i < end; ++i) {
        if (statuses[i] != ReceiptStatus::kOk) continue;
        statuses[i] =
            AckLocked(sh, local[i], stamp[i], p.require_live_lease, now);
      }
    }
  }
}

void StandardQueue::ChangeVisibility(
    const QueueStore::ChangeVisibilityParams& p) {
  const int64_t now = ToNanos(p.now);
  for (size_t i = 0; i < p.changes.size(); ++i) {
    const QueueStore::VisibilityChange& change = p.changes[i];
    uint32_t shard = 0, local = 0, stamp = 0;
    ReceiptStatus status = Locate(change.receipt, &shard, &local, &stamp);
    if (status == ReceiptStatus::kOk) {
      Shard& sh = shards_[shard];
      MutexLock lock(&sh.mu);
      if (sh.dead) {
        status = ReceiptStatus::kGone;
      } else if (local >= sh.slab.size()) {
        status = ReceiptStatus::kMalformed;
      } else if (LoadState(sh.slab[local]) == SlotState::kFree) {
        status = ReceiptStatus::kGone;  // perhaps being refilled: read no more
      } else {
        Slot& s = sh.slab[local];
        status = Judge(s, stamp, p.require_live_lease, now);
        if (status == ReceiptStatus::kOk && s.state != SlotState::kReady &&
            s.state != SlotState::kInFlight) {
          status = ReceiptStatus::kGone;  // being moved
        }
        if (status == ReceiptStatus::kOk &&
            change.invisible_until >
                FromNanos(s.last_receive) + p.max_since_receive) {
          status = ReceiptStatus::kBeyondLimit;
        }
        if (status == ReceiptStatus::kOk) {
          if (s.state == SlotState::kInFlight) {
            sh.wheel.Remove(sh.slab, local);
            Bump(sh.in_flight, -1);
          } else {
            Bump(sh.ready, -1);
          }
          s.deadline = ToNanos(change.invisible_until);
          if (s.deadline > now) {
            s.state = SlotState::kInFlight;
            Bump(sh.in_flight, 1);
            ArmLocked(sh, local, now);
          } else {
            s.state = SlotState::kReady;
            Bump(sh.ready, 1);
            if (!s.in_ready) {
              s.in_ready = true;
              const uint64_t handle = Handle(SlotNumber(shard, local), s.birth);
              EnqueueAgainLocked(sh, &handle, 1);
            }
          }
        }
      }
    }
    p.statuses[i] = status;
  }
}

void StandardQueue::ExpireRetentionLocked(Shard& sh, absl::Time cutoff) {
  if (sh.oldest_enqueue > cutoff) return;
  absl::Time oldest = absl::InfiniteFuture();
  for (uint32_t local = 0; local < sh.slab.size(); ++local) {
    Slot& s = sh.slab[local];
    if (s.state == SlotState::kFree || s.state == SlotState::kMoving) continue;
    if (s.msg.enqueue_time <= cutoff) {
      FreeLocked(sh, local);
    } else {
      oldest = std::min(oldest, s.msg.enqueue_time);
    }
  }
  sh.oldest_enqueue = oldest;
}

QueueStore::QueueCounts StandardQueue::Count(const QueueStore::CountParams& p) {
  const int64_t now = ToNanos(p.now);
  Sweep(now);
  const absl::Time cutoff = p.now - p.retention;
  QueueStore::QueueCounts counts;
  for (uint32_t i = 0; i < kShards; ++i) {
    Shard& sh = shards_[i];
    MutexLock alloc_lock(&sh.alloc_mu);
    MutexLock lock(&sh.mu);
    if (sh.dead) continue;
    if (cutoff != absl::InfinitePast()) ExpireRetentionLocked(sh, cutoff);
    counts.visible += sh.ready.load(std::memory_order_relaxed) +
                      sh.appended.load(std::memory_order_relaxed);
    counts.in_flight += sh.in_flight.load(std::memory_order_relaxed);
    counts.delayed += sh.delayed.load(std::memory_order_relaxed);
  }
  return counts;
}

void StandardQueue::Purge() {
  for (uint32_t i = 0; i < kShards; ++i) {
    Shard& sh = shards_[i];
    MutexLock alloc_lock(&sh.alloc_mu);
    MutexLock lock(&sh.mu);
    if (sh.dead) continue;
    for (uint32_t local = 0; local < sh.slab.size(); ++local) {
      if (sh.slab[local].state != SlotState::kFree) FreeLocked(sh, local);
    }
    sh.oldest_enqueue = absl::InfiniteFuture();
    due_[i].store(kNever, std::memory_order_release);
  }
  // The handles left in the ready list hold their slots (FreeLocked): drain
  // them so the slots are reused, and put back those of messages sent
  // meanwhile. Bounded, so that busy producers cannot keep it here.
  std::vector<uint64_t> keep;
  uint64_t handles[64];
  for (size_t budget = ready_.size_approx() + 64; budget > 0;) {
    const size_t got = ready_.try_dequeue_bulk(handles, 64);
    if (got == 0) break;
    budget -= std::min(budget, got);
    for (size_t k = 0; k < got; ++k) {
      Shard& sh = shards_[static_cast<uint32_t>(handles[k] >> 32) & kShardMask];
      MutexLock lock(&sh.mu);
      if (Slot* s = ClaimLocked(sh, handles[k])) {
        s->in_ready = true;
        keep.push_back(handles[k]);
      }
    }
  }
  for (uint64_t handle : keep) {
    Shard& sh = shards_[static_cast<uint32_t>(handle >> 32) & kShardMask];
    MutexLock lock(&sh.mu);
    if (!sh.dead) EnqueueAgainLocked(sh, &handle, 1);
  }
  MutexLock lock(&dedup_mu_);
  dedup_ = DedupTable();
}

std::vector<QueueStore::PeekedMessage> StandardQueue::Peek(
    const QueueStore::PeekParams& p) {
  Sweep(ToNanos(p.now));
  struct Key {
    int64_t enqueued;
    uint64_t order;
    uint32_t shard;
    bool operator<(const Key& o) const {
      if (enqueued != o.enqueued) return enqueued < o.enqueued;
      if (order != o.order) return order < o.order;
      return shard < o.shard;
    }
  };
  std::vector<std::pair<Key, QueueStore::PeekedMessage>> all;
  for (uint32_t i = 0; i < kShards; ++i) {
    Shard& sh = shards_[i];
    MutexLock alloc_lock(&sh.alloc_mu);
    MutexLock lock(&sh.mu);
    if (sh.dead) continue;
    std::vector<std::pair<Key, uint32_t>> keys;
    for (uint32_t local = 0; local < sh.slab.size(); ++local) {
      const Slot& s = sh.slab[local];
      if (s.state == SlotState::kFree || s.state == SlotState::kMoving)
        continue;
      if (s.msg.enqueue_time + p.retention <= p.now) continue;
      keys.push_back({{ToNanos(s.msg.enqueue_time), s.order, i}, local});
    }
    const size_t n = std::min(keys.size(), p.limit);
    std::partial_sort(keys.begin(), keys.begin() + n, keys.end());
    for (size_t k = 0; k < n; ++k) {
      const Slot& s = sh.slab[keys[k].second];
      QueueStore::PeekedMessage m;
      m.message = s.msg;
      if (s.state == SlotState::kReady) {
        m.state = QueueStore::MessageState::kVisible;
      } else {
        m.state = s.state == SlotState::kDelayed
                      ? QueueStore::MessageState::kDelayed
                      : QueueStore::MessageState::kInFlight;
        m.invisible_until = FromNanos(s.deadline);
      }
      all.emplace_back(keys[k].first, std::move(m));
    }
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<QueueStore::PeekedMessage> out;
  out.reserve(std::min(all.size(), p.limit));
  for (auto& [key, m] : all) {
    if (out.size() >= p.limit) break;
    out.push_back(std::move(m));
  }
  return out;
}

void StandardQueue::TakeForMove(absl::Time now, int max,
                                absl::Duration retention,
                                std::vector<MoveCandidate>* out) {
  Sweep(ToNanos(now));
  const absl::Time cutoff = now - retention;
  const size_t limit = max > 0 ? static_cast<size_t>(max) : 0;
  uint64_t handle;
  while (out->size() < limit && ready_.try_dequeue(handle)) {
    const uint32_t slot = static_cast<uint32_t>(handle >> 32);
    const uint32_t shard = slot & kShardMask;
    const uint32_t local = slot >> kShardBits;
    Shard& sh = shards_[shard];
    MutexLock lock(&sh.mu);
    Slot* claimed = ClaimLocked(sh, handle);
    if (claimed == nullptr) continue;
    Slot& s = *claimed;
    if (s.msg.enqueue_time <= cutoff) {
      FreeLocked(sh, local);
      continue;
    }
    MoveCandidate& c = out->emplace_back();
    c.message = s.msg;
    c.slot = slot;
    c.birth = s.birth;
    c.state = SlotState::kReady;
    s.state = SlotState::kMoving;
    Bump(sh.ready, -1);
  }
}

bool StandardQueue::FinishMove(const MoveCandidate& c, bool success) {
  const uint32_t shard = c.slot & kShardMask;
  const uint32_t local = c.slot >> kShardBits;
  Shard& sh = shards_[shard];
  MutexLock lock(&sh.mu);
  if (sh.dead || local >= sh.slab.size()) return false;
  Slot& s = sh.slab[local];
  if (s.state != SlotState::kMoving || s.birth != c.birth) return false;
  if (success) {
    FreeLocked(sh, local);
    return true;
  }
  s.state = SlotState::kReady;
  Bump(sh.ready, 1);
  s.in_ready = true;
  const uint64_t handle = Handle(c.slot, s.birth);
  EnqueueAgainLocked(sh, &handle, 1);
  return false;
}

void StandardQueue::Clear() {
  for (uint32_t i = 0; i < kShards; ++i) {
    Shard& sh = shards_[i];
    MutexLock alloc_lock(&sh.alloc_mu);
    MutexLock lock(&sh.mu);
    if (sh.dead) continue;
    sh.dead = true;
    sh.alloc_dead = true;
    for (uint32_t local = 0; local < sh.slab.size(); ++local) {
      ctx_->Refund(sh.slab[local].bytes);
    }
    sh.slab.Release();
    sh.wheel.Release();
    sh.scratch = {};
    sh.freed = kNil;
    sh.freed_count.store(0, std::memory_order_relaxed);
    sh.appended.store(0, std::memory_order_relaxed);
    sh.ready.store(0, std::memory_order_relaxed);
    sh.delayed.store(0, std::memory_order_relaxed);
    sh.in_flight.store(0, std::memory_order_relaxed);
    due_[i].store(kNever, std::memory_order_release);
  }
  // Let the ready list recycle its blocks.
  uint64_t handles[64];
  while (ready_.try_dequeue_bulk(handles, 64) > 0) {
  }
  MutexLock lock(&dedup_mu_);
  dedup_ = DedupTable();
}

}  // namespace ferry::memory_internal
