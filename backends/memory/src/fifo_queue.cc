#include "fifo_queue.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ferry::memory_internal {
namespace {

void ResetMessage(StoredMessage& m) {
  std::destroy_at(&m);
  std::construct_at(&m);
}

}  // namespace

FifoQueue::FifoQueue(Context* ctx, QueueId id)
    : QueueBase(ctx, id, /*fifo=*/true) {}

FifoQueue::~FifoQueue() = default;

int64_t FifoQueue::VisibleFrom(
    const Slot& s, const std::optional<absl::Duration>& retroactive) {
  switch (s.state) {
    case SlotState::kInFlight:
      return s.deadline;
    case SlotState::kReady:
      if (s.msg.receive_count == 0 && retroactive.has_value()) {
        return ToNanos(s.msg.enqueue_time + *retroactive);
      }
      return ToNanos(s.msg.visible_at);
    default:
      return kNever;
  }
}

uint64_t FifoQueue::StoreLocked(StoredMessage&& m, uint32_t bytes) {
  const uint32_t local = slab_.Allocate();
  Slot& s = slab_[local];
  s.msg = std::move(m);
  s.bytes = bytes;
  s.birth = ++s.stamp;
  s.order = s.msg.sequence_number = ++next_sequence_;
  s.state = SlotState::kReady;
  auto it = groups_.find(AsAbsl(s.msg.message_group_id));
  if (it == groups_.end()) {
    auto g = std::make_unique<Group>();
    g->id = s.msg.message_group_id;
    it = groups_.emplace(s.msg.message_group_id, std::move(g)).first;
  }
  Group* g = it->second.get();
  s.prev = g->tail;
  s.next = kNil;
  if (g->tail != kNil) {
    slab_[g->tail].next = local;
  } else {
    g->head = local;
    g->key = s.order;
    order_.emplace(g->key, g);
  }
  g->tail = local;
  return s.order;
}

void FifoQueue::RemoveFromGroup(Group* g, uint32_t local) {
  Slot& s = slab_[local];
  if (s.prev != kNil) {
    slab_[s.prev].next = s.next;
  } else {
    g->head = s.next;
  }
  if (s.next != kNil) {
    slab_[s.next].prev = s.prev;
  } else {
    g->tail = s.prev;
  }
  s.next = s.prev = kNil;
}

void FifoQueue::Refile(Group* g) {
  if (g->head == kNil) {
    groups_.erase(AsAbsl(g->id));
    return;
  }
  g->key = slab_[g->head].order;
  order_.emplace(g->key, g);
}

void FifoQueue::Unlink(uint32_t local) {
  auto it = groups_.find(AsAbsl(slab_[local].msg.message_group_id));
  Group* g = it->second.get();
  const uint32_t old_head = g->head;
  RemoveFromGroup(g, local);
  if (g->head != old_head) {
    order_.erase(g->key);
    Refile(g);
  }
}

void FifoQueue::FreeSlot(uint32_t local) {
  Slot& s = slab_[local];
  if (s.state == SlotState::kInFlight) --leased_;
  ctx_->Refund(s.bytes);
  ResetMessage(s.msg);
  slab_.Free(local);
}

int64_t FifoQueue::CountInFlightLocked(int64_t now) {
  int64_t n = 0;
  for (uint32_t i = 0; i < slab_.size(); ++i) {
    const Slot& s = slab_[i];
    if (s.state == SlotState::kInFlight && s.deadline > now) ++n;
  }
  return n;
}

void FifoQueue::Append(std::span<QueueStore::AppendEntry> entries,
                       std::span<QueueStore::AppendOutcome> outcomes,
                       absl::Time now) {
  MutexLock lock(&mu_);
  for (size_t i = 0; i < entries.size(); ++i) {
    QueueStore::AppendEntry& e = entries[i];
    QueueStore::AppendOutcome& o = outcomes[i];
    o.duplicate = false;
    o.message_id = e.message.message_id;
    o.sequence_number = 0;
    const uint32_t bytes = ctx_->ChargeFor(e.message);
    if (!e.dedup_key.empty()) {
      if (const DedupTable::Record* r = dedup_.Find(e.dedup_key, now)) {
        o.duplicate = true;
        o.message_id = r->message_id;
        o.sequence_number = r->sequence_number;
        ctx_->Refund(bytes);
        continue;
      }
    }
    if (dead_) {  // deleted meanwhile: as if appended, then deleted
      ctx_->Refund(bytes);
      continue;
    }
    const Uuid id = e.message.message_id;
    o.sequence_number = StoreLocked(std::move(e.message), bytes);
    if (!e.dedup_key.empty()) {
      dedup_.Insert(std::move(e.dedup_key),
                    {.message_id = id,
                     .sequence_number = o.sequence_number,
                     .expires = e.dedup_expires_at});
    }
  }
}

void FifoQueue::AppendMoved(StoredMessage message, absl::Time now) {
  const uint32_t bytes = ctx_->ChargeFor(message);
  MutexLock lock(&mu_);
  if (dead_) return;
  ctx_->Charge(bytes);
  StoreLocked(std::move(message), bytes);
}

absl::Status FifoQueue::Lease(const QueueStore::LeaseParams& p,
                              QueueBase* dead_letter,
                              QueueStore::LeaseResult* result) {
  const int64_t now = ToNanos(p.now);
  const absl::Time cutoff = p.now - p.retention;
  const int64_t until = ToNanos(p.invisible_until);
  const bool redrive = dead_letter != nullptr && p.max_receive_count > 0;
  size_t max = p.max_messages > 0 ? static_cast<size_t>(p.max_messages) : 0;
  std::vector<StoredMessage> moved;
  int64_t next_change = kNever;
  std::vector<QueueStore::LeasedMessage>& leases = result->leases;
  {
    MutexLock lock(&mu_);
    if (dead_) return absl::OkStatus();
    if (p.max_in_flight > 0 && max > 0) {
      int64_t in_flight = leased_;
      if (in_flight + static_cast<int64_t>(max) > p.max_in_flight) {
        in_flight = CountInFlightLocked(now);
      }
      if (in_flight >= p.max_in_flight) {
        return absl::ResourceExhaustedError(
            absl::StrCat("queue ", id_, " has ", in_flight,
                         " messages in flight (limit ", p.max_in_flight, ")"));
      }
      max = std::min<size_t>(max, p.max_in_flight - in_flight);
    }
    std::vector<Group*> refile;
    bool full = false;
    for (auto it = order_.begin(); it != order_.end() && !full;) {
      Group* g = it->second;
      const uint32_t old_head = g->head;
      for (uint32_t cur = g->head; cur != kNil;) {
        Slot& s = slab_[cur];
        const uint32_t next = s.next;
        const int64_t visible = VisibleFrom(s, p.retroactive_delay);
        if (visible > now) {  // blocks the rest of its group
          next_change = std::min(next_change, visible);
          break;
        }
        if (s.msg.enqueue_time <= cutoff) {
          RemoveFromGroup(g, cur);
          FreeSlot(cur);
          cur = next;
          continue;
        }
        if (redrive && s.msg.receive_count + 1 > p.max_receive_count) {
          moved.push_back(std::move(s.msg));
          RemoveFromGroup(g, cur);
          FreeSlot(cur);
          cur = next;
          continue;
        }
        if (leases.size() >= max) {
          full = true;
          break;
        }
        ++s.stamp;
        ++s.msg.receive_count;
        if (s.msg.first_receive_time == absl::InfinitePast()) {
          s.msg.first_receive_time = p.now;
        }
        s.last_receive = now;
        if (s.state != SlotState::kInFlight) ++leased_;
        s.state = SlotState::kInFlight;
        s.deadline = until;
        if (until > now) next_change = std::min(next_change, until);
        if (leases.empty()) leases.reserve(std::min<size_t>(max, 16));
        QueueStore::LeasedMessage& lease = leases.emplace_back();
        lease.message = s.msg;
        lease.receipt =
            EncodeReceipt({.queue = id_,
                           .slot = cur,
                           .stamp = static_cast<uint32_t>(s.stamp)});
        cur = next;
      }
      if (g->head != old_head) {
        it = order_.erase(it);
        refile.push_back(g);
      } else {
        ++it;
      }
    }
    for (Group* g : refile) Refile(g);
    // Stopped early with visible messages left behind: they are visible now.
    if (full) next_change = now;
  }
  for (StoredMessage& m : moved) {
    PrepareForDeadLetter(p, m);
    dead_letter->AppendMoved(std::move(m), p.now);
  }
  result->moved_to_dead_letter = static_cast<int64_t>(moved.size());
  result->next_change = FromNanos(next_change);
  return absl::OkStatus();
}

ReceiptStatus FifoQueue::LocateLocked(std::string_view receipt, uint32_t* local,
                                      uint32_t* stamp) {
  ReceiptFields f;
  const ReceiptStatus status = ParseReceipt(receipt, &f);
  if (status != ReceiptStatus::kOk) return status;
  if (dead_) return ReceiptStatus::kGone;
  if (f.slot >= slab_.size()) return ReceiptStatus::kMalformed;
  *local = static_cast<uint32_t>(f.slot);
  *stamp = f.stamp;
  return ReceiptStatus::kOk;
}

void FifoQueue::Ack(const QueueStore::AckParams& p) {
  const int64_t now = ToNanos(p.now);
  MutexLock lock(&mu_);
  for (size_t i = 0; i < p.receipts.size(); ++i) {
    uint32_t local = 0, stamp = 0;
    ReceiptStatus status = LocateLocked(p.receipts[i], &local, &stamp);
    if (status == ReceiptStatus::kOk) {
      status = Judge(slab_[local], stamp, p.require_live_lease, now);
      if (status == ReceiptStatus::kOk) {
        Unlink(local);
        FreeSlot(local);
      }
    }
    p.statuses[i] = status;
  }
}

void FifoQueue::ChangeVisibility(const QueueStore::ChangeVisibilityParams& p) {
  const int64_t now = ToNanos(p.now);
  MutexLock lock(&mu_);
  for (size_t i = 0; i < p.changes.size(); ++i) {
    const QueueStore::VisibilityChange& change = p.changes[i];
    uint32_t local = 0, stamp = 0;
    ReceiptStatus status = LocateLocked(change.receipt, &local, &stamp);
    if (status == ReceiptStatus::kOk) {
      Slot& s = slab_[local];
      status = Judge(s, stamp, p.require_live_lease, now);
      if (status == ReceiptStatus::kOk && s.state != SlotState::kInFlight) {
        status = ReceiptStatus::kGone;  // being moved
      }
      if (status == ReceiptStatus::kOk &&
          change.invisible_until >
              FromNanos(s.last_receive) + p.max_since_receive) {
        status = ReceiptStatus::kBeyondLimit;
      }
      if (status == ReceiptStatus::kOk) {
        s.deadline = ToNanos(change.invisible_until);
      }
    }
    p.statuses[i] = status;
  }
}

QueueStore::QueueCounts FifoQueue::Count(const QueueStore::CountParams& p) {
  const int64_t now = ToNanos(p.now);
  const absl::Time cutoff = p.now - p.retention;
  QueueStore::QueueCounts counts;
  MutexLock lock(&mu_);
  if (dead_) return counts;
  for (uint32_t i = 0; i < slab_.size(); ++i) {
    Slot& s = slab_[i];
    if (s.state != SlotState::kReady && s.state != SlotState::kInFlight)
      continue;
    if (s.msg.enqueue_time <= cutoff) {
      Unlink(i);
      FreeSlot(i);
      continue;
    }
    if (s.state == SlotState::kInFlight && s.deadline > now) {
      ++counts.in_flight;
    } else if (VisibleFrom(s, p.retroactive_delay) > now) {
      ++counts.delayed;
    } else {
      ++counts.visible;
    }
  }
  return counts;
}

void FifoQueue::Purge() {
  MutexLock lock(&mu_);
  if (dead_) return;
  for (uint32_t i = 0; i < slab_.size(); ++i) {
    if (slab_[i].state != SlotState::kFree) FreeSlot(i);
  }
  groups_.clear();
  order_.clear();
  leased_ = 0;
  // AWS: a purge also clears the FIFO deduplication cache.
  dedup_ = DedupTable();
}

std::vector<QueueStore::PeekedMessage> FifoQueue::Peek(
    const QueueStore::PeekParams& p) {
  const int64_t now = ToNanos(p.now);
  std::vector<QueueStore::PeekedMessage> out;
  MutexLock lock(&mu_);
  if (dead_) return out;
  std::vector<std::pair<uint64_t, uint32_t>> keys;
  for (uint32_t i = 0; i < slab_.size(); ++i) {
    const Slot& s = slab_[i];
    if ((s.state == SlotState::kReady || s.state == SlotState::kInFlight) &&
        s.msg.enqueue_time + p.retention > p.now) {
      keys.emplace_back(s.order, i);
    }
  }
  const size_t n = std::min(keys.size(), p.limit);
  std::partial_sort(keys.begin(), keys.begin() + n, keys.end());
  out.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    const Slot& s = slab_[keys[k].second];
    QueueStore::PeekedMessage& m = out.emplace_back();
    m.message = s.msg;
    const int64_t visible = VisibleFrom(s, p.retroactive_delay);
    if (visible <= now) {
      m.state = QueueStore::MessageState::kVisible;
    } else {
      m.state = s.state == SlotState::kInFlight
                    ? QueueStore::MessageState::kInFlight
                    : QueueStore::MessageState::kDelayed;
      m.invisible_until = FromNanos(visible);
    }
  }
  return out;
}

void FifoQueue::TakeForMove(absl::Time now, int max, absl::Duration retention,
                            std::vector<MoveCandidate>* out) {
  const int64_t now_ns = ToNanos(now);
  const absl::Time cutoff = now - retention;
  const size_t limit = max > 0 ? static_cast<size_t>(max) : 0;
  MutexLock lock(&mu_);
  if (dead_) return;
  std::vector<Group*> refile;
  bool full = limit == 0;
  for (auto it = order_.begin(); it != order_.end() && !full;) {
    Group* g = it->second;
    const uint32_t old_head = g->head;
    for (uint32_t cur = g->head; cur != kNil;) {
      Slot& s = slab_[cur];
      const uint32_t next = s.next;
      if (VisibleFrom(s, std::nullopt) > now_ns) break;
      if (s.msg.enqueue_time <= cutoff) {
        RemoveFromGroup(g, cur);
        FreeSlot(cur);
        cur = next;
        continue;
      }
      if (out->size() >= limit) {
        full = true;
        break;
      }
      MoveCandidate& c = out->emplace_back();
      c.message = s.msg;
      c.slot = cur;
      c.birth = s.birth;
      c.state = s.state;
      c.deadline = s.deadline;
      if (s.state == SlotState::kInFlight) --leased_;
      s.state = SlotState::kMoving;
      cur = next;
    }
    if (g->head != old_head) {
      it = order_.erase(it);
      refile.push_back(g);
    } else {
      ++it;
    }
  }
  for (Group* g : refile) Refile(g);
}

bool FifoQueue::FinishMove(const MoveCandidate& c, bool success) {
  MutexLock lock(&mu_);
  if (dead_ || c.slot >= slab_.size()) return false;
  Slot& s = slab_[c.slot];
  if (s.state != SlotState::kMoving || s.birth != c.birth) return false;
  if (success) {
    Unlink(c.slot);
    FreeSlot(c.slot);
    return true;
  }
  s.state = c.state;
  s.deadline = c.deadline;
  if (s.state == SlotState::kInFlight) ++leased_;
  return false;
}

void FifoQueue::Clear() {
  MutexLock lock(&mu_);
  if (dead_) return;
  dead_ = true;
  for (uint32_t i = 0; i < slab_.size(); ++i) ctx_->Refund(slab_[i].bytes);
  slab_.Release();
  groups_.clear();
  order_.clear();
  leased_ = 0;
  dedup_ = DedupTable();
}

}  // namespace ferry::memory_internal
