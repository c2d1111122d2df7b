// Shared pieces of the memory backend's queues: the backend-wide context (the
// id-indexed queue table, the memory cap), the interface both queue kinds
// implement, deduplication keys and small helpers.
#ifndef FERRY_BACKENDS_MEMORY_SRC_QUEUE_BASE_H_
#define FERRY_BACKENDS_MEMORY_SRC_QUEUE_BASE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/message.h"
#include "receipt.h"
#include "slab.h"

namespace ferry::memory_internal {

class QueueBase;

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Nanoseconds since the Unix epoch, saturated; the infinities map to
// kAlways / kNever.
inline int64_t ToNanos(absl::Time t) {
  if (t == absl::InfiniteFuture()) return kNever;
  if (t == absl::InfinitePast()) return kAlways;
  return absl::ToUnixNanos(t);
}
inline absl::Time FromNanos(int64_t ns) {
  if (ns == kNever) return absl::InfiniteFuture();
  if (ns == kAlways) return absl::InfinitePast();
  return absl::FromUnixNanos(ns);
}

// A small number fixed per thread: spreads producers over shards.
inline uint32_t ThreadHint() {
  static std::atomic<uint32_t> next{0};
  thread_local const uint32_t hint =
      next.fetch_add(1, std::memory_order_relaxed);
  return hint;
}

// Relaxed read-modify-write of a counter that is only written under a lock
// and read without one.
inline void Bump(std::atomic<int64_t>& counter, int64_t delta) {
  counter.store(counter.load(std::memory_order_relaxed) + delta,
                std::memory_order_relaxed);
}

// Bytes a message is charged against the memory cap.
size_t EstimateBytes(const StoredMessage& m);

// Queues by id without a lock: a two-level table of atomic pointers. Only the
// catalog (under its mutex) writes it.
class QueueTable {
 public:
  static constexpr uint64_t kChunkBits = 12;
  static constexpr uint64_t kChunkSize = uint64_t{1} << kChunkBits;
  static constexpr uint64_t kChunks = 4096;
  static constexpr uint64_t kMaxId = kChunkSize * kChunks - 1;

  QueueTable() = default;
  QueueTable(const QueueTable&) = delete;
  QueueTable& operator=(const QueueTable&) = delete;
  ~QueueTable() {
    for (auto& chunk : chunks_) delete[] chunk.load(std::memory_order_relaxed);
  }

  QueueBase* Get(QueueId id) const {
    const uint64_t c = id >> kChunkBits;
    if (c >= kChunks) return nullptr;
    const std::atomic<QueueBase*>* chunk =
        chunks_[c].load(std::memory_order_acquire);
    if (chunk == nullptr) return nullptr;
    return chunk[id & (kChunkSize - 1)].load(std::memory_order_acquire);
  }

  // REQUIRES: id <= kMaxId; calls are serialised by the caller.
  void Set(QueueId id, QueueBase* q) {
    std::atomic<QueueBase*>* chunk =
        chunks_[id >> kChunkBits].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new std::atomic<QueueBase*>[kChunkSize]();
      chunks_[id >> kChunkBits].store(chunk, std::memory_order_release);
    }
    chunk[id & (kChunkSize - 1)].store(q, std::memory_order_release);
  }

 private:
  std::atomic<std::atomic<QueueBase*>*> chunks_[kChunks] = {};
};

// State shared by the backend and its queues.
struct Context {
  explicit Context(size_t max) : max_bytes(static_cast<int64_t>(max)) {}

  // Messages are charged only when there is a cap.
  bool accounting() const { return max_bytes > 0; }
  uint32_t ChargeFor(const StoredMessage& m) const {
    return accounting() ? static_cast<uint32_t>(EstimateBytes(m)) : 0;
  }
  bool TryCharge(int64_t n) {
    if (n == 0) return true;
    const int64_t after = bytes.fetch_add(n, std::memory_order_relaxed) + n;
    if (after > max_bytes) {
      bytes.fetch_sub(n, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void Charge(int64_t n) {
    if (n != 0) bytes.fetch_add(n, std::memory_order_relaxed);
  }
  void Refund(int64_t n) {
    if (n != 0) bytes.fetch_sub(n, std::memory_order_relaxed);
  }

  const int64_t max_bytes;  // 0: no cap
  std::atomic<int64_t> bytes{0};
  QueueTable table;
  // Every id below this was issued.
  std::atomic<uint64_t> next_id{1};
};

// Deduplication keys of one queue, each live until its expiry. Keys outlive
// the messages they were recorded for (a delete keeps them; a purge drops the
// whole table).
class DedupTable {
 public:
  struct Record {
    Uuid message_id;
    uint64_t sequence_number = 0;
    absl::Time expires;
  };
  // The live record of `key`, or nullptr. Forgets expired keys.
  const Record* Find(std::string_view key, absl::Time now);
  void Insert(std::string key, const Record& record);

 private:
  absl::flat_hash_map<std::string, Record> records_;
  // Keys in insertion order, for expiry.
  std::deque<std::pair<absl::Time, std::string>> order_;
};

// A message a Move took: its slot is kMoving until FinishMove.
struct MoveCandidate {
  StoredMessage message;  // a copy, for the plan to rewrite
  uint32_t slot = 0;      // the queue's own slot number
  uint64_t birth = 0;
  SlotState state = SlotState::kReady;  // to restore on failure
  int64_t deadline = 0;
};

// One queue. The catalog fields are guarded by the backend's catalog mutex;
// everything else by the queue's own locks.
class QueueBase {
 public:
  QueueBase(Context* ctx, QueueId id, bool fifo)
      : ctx_(ctx), id_(id), fifo_(fifo) {}
  virtual ~QueueBase() = default;
  QueueBase(const QueueBase&) = delete;
  QueueBase& operator=(const QueueBase&) = delete;

  QueueId id() const { return id_; }
  bool fifo() const { return fifo_; }

  // Stores the entries (all for this queue). Cannot fail: the caller checked
  // the queue and charged the bytes; duplicates are refunded here.
  virtual void Append(std::span<QueueStore::AppendEntry> entries,
                      std::span<QueueStore::AppendOutcome> outcomes,
                      absl::Time now) = 0;
  // Stores a message another queue handed over (redrive, move). Charges its
  // bytes without checking the cap.
  virtual void AppendMoved(StoredMessage message, absl::Time now) = 0;
  // `dead_letter` is the resolved p.dead_letter_queue (nullptr: no redrive).
  virtual absl::Status Lease(const QueueStore::LeaseParams& p,
                             QueueBase* dead_letter,
                             QueueStore::LeaseResult* result) = 0;
  virtual void Ack(const QueueStore::AckParams& p) = 0;
  virtual void ChangeVisibility(
      const QueueStore::ChangeVisibilityParams& p) = 0;
  virtual QueueStore::QueueCounts Count(const QueueStore::CountParams& p) = 0;
  virtual void Purge() = 0;
  virtual std::vector<QueueStore::PeekedMessage> Peek(
      const QueueStore::PeekParams& p) = 0;
  // Marks up to `max` visible messages, in queue order, kMoving and copies
  // them out (dropping expired ones on the way).
  virtual void TakeForMove(absl::Time now, int max, absl::Duration retention,
                           std::vector<MoveCandidate>* out) = 0;
  // success: drops the source message and returns true if it was still
  // there (not deleted or purged meanwhile). Otherwise restores it.
  virtual bool FinishMove(const MoveCandidate& c, bool success) = 0;
  // The queue was deleted: drops every message and frees the memory. Later
  // calls see an empty queue.
  virtual void Clear() = 0;

  // Catalog fields (guarded by the catalog mutex).
  std::string key;
  std::string config;
  uint64_t config_version = 1;

 protected:
  // Decodes `receipt` and checks that it names this queue.
  ReceiptStatus ParseReceipt(std::string_view receipt, ReceiptFields* f) const {
    if (!DecodeReceipt(receipt, f)) return ReceiptStatus::kMalformed;
    if (f->queue != id_) {
      return f->queue != 0 &&
                     f->queue < ctx_->next_id.load(std::memory_order_acquire)
                 ? ReceiptStatus::kWrongQueue
                 : ReceiptStatus::kMalformed;
    }
    return ReceiptStatus::kOk;
  }

  // Judges the receipt stamp `r` against the slot's current message.
  static ReceiptStatus Judge(const Slot& s, uint32_t r, bool require_live_lease,
                             int64_t now) {
    if (s.state == SlotState::kFree) return ReceiptStatus::kGone;
    const uint32_t delta = static_cast<uint32_t>(s.stamp) - r;
    if (delta > s.stamp) return ReceiptStatus::kMalformed;  // never issued
    const uint64_t full = s.stamp - delta;
    if (full <= s.birth) return ReceiptStatus::kGone;  // an earlier message
    if (require_live_lease &&
        (full != s.stamp || s.state != SlotState::kInFlight ||
         now >= s.deadline)) {
      return ReceiptStatus::kExpired;
    }
    return ReceiptStatus::kOk;
  }

  // Applies the dead-letter rules to a message leaving for the DLQ.
  static void PrepareForDeadLetter(const QueueStore::LeaseParams& p,
                                   StoredMessage& m) {
    m.dead_letter_source_arn.assign(p.source_key.data(), p.source_key.size());
    if (p.dead_letter_is_fifo) {
      m.deduplication_id = m.message_id.ToString();
      m.enqueue_time = p.now;
    }
  }

  Context* const ctx_;
  const QueueId id_;
  const bool fifo_;
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_QUEUE_BASE_H_
