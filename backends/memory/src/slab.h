// Message slots of the memory backend: a chunked array with stable addresses
// and an intrusive free list.
//
// Thread safety: each Slab is guarded by its owner's mutex. Two things allow
// a second lock to read slots while the owner allocates (the standard queue
// does): `size()` is an atomic published after the slot exists, and the
// chunk table never moves once the first chunk exists (it is reserved for
// every chunk), so `operator[]` of an existing slot races with nothing.
#ifndef FERRY_BACKENDS_MEMORY_SRC_SLAB_H_
#define FERRY_BACKENDS_MEMORY_SRC_SLAB_H_

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include "ferry/message.h"

namespace ferry::memory_internal {

// The end of an intrusive list of slot indices.
inline constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();
// Slot::bucket of a slot that is in no timer bucket.
inline constexpr uint16_t kNoBucket = std::numeric_limits<uint16_t>::max();
// Deadlines are nanoseconds since the Unix epoch; these stand for the
// infinite past and future.
inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kAlways = std::numeric_limits<int64_t>::min();

enum class SlotState : uint8_t {
  kFree,
  // Standard: visible (its handle is in, or about to be in, the ready list).
  // FIFO: never received, visible from its delay's end.
  kReady,
  // Standard only: waiting for `deadline` (the end of its delay).
  kDelayed,
  // Leased until `deadline`. (FIFO keeps this state after the lease ends; the
  // message is visible again once now >= deadline.)
  kInFlight,
  // Taken by a Move whose plan is running outside the lock.
  kMoving,
};

struct Slot {
  // Bumped when a message is stored in the slot and at each of its leases; a
  // receipt carries the low 32 bits of the value its lease set. Never reset,
  // so a receipt of an earlier occupant never matches (stamp <= birth).
  uint64_t stamp = 0;
  // `stamp` when the current message was stored.
  uint64_t birth = 0;
  // Nanoseconds: kDelayed, the end of the delay; kInFlight, the lease's end.
  int64_t deadline = 0;
  // Nanoseconds: the latest lease (for ChangeVisibility's limit).
  int64_t last_receive = 0;
  // Standard: order of arrival within the shard. FIFO: the sequence number.
  uint64_t order = 0;
  // Links: the free list, a timer bucket (standard) or a group (FIFO).
  uint32_t next = kNil;
  uint32_t prev = kNil;
  // Bytes charged against the memory cap (0 when there is no cap).
  uint32_t bytes = 0;
  uint16_t bucket = kNoBucket;
  SlotState state = SlotState::kFree;
  // Standard: a handle of this message sits in the ready list.
  bool in_ready = false;
  StoredMessage msg;
};

// A growable array of slots whose addresses never move: chunk c holds
// 32 << c slots. Freed slots are reused most recently freed first, so a queue
// in a steady state touches few cache lines.
class Slab {
 public:
  // At most 32 * (2^23 - 1) slots (~268 M): indices fit in 28 bits.
  static constexpr int kMaxChunks = 23;
  static constexpr uint32_t kMaxSlots = 32u * ((1u << kMaxChunks) - 1);

  Slab() = default;
  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;

  // REQUIRES: i < size().
  Slot& operator[](uint32_t i) {
    const uint32_t j = (i >> 5) + 1;
    const int c = std::bit_width(j) - 1;
    return chunks_[c][i - ((1u << c) - 1) * 32];
  }
  const Slot& operator[](uint32_t i) const {
    return const_cast<Slab&>(*this)[i];
  }

  // The number of slots ever handed out (free ones included).
  uint32_t size() const { return size_.load(std::memory_order_acquire); }

  // Returns a free slot (state kFree, links reset).
  uint32_t Allocate() {
    if (free_head_ != kNil) {
      const uint32_t i = free_head_;
      Slot& s = (*this)[i];
      free_head_ = s.next;
      s.next = kNil;
      return i;
    }
    const uint32_t size = size_.load(std::memory_order_relaxed);
    if (size == capacity_) Grow();
    size_.store(size + 1, std::memory_order_release);
    return size;
  }

  // REQUIRES: the slot's message is reset and it is in no list.
  void Free(uint32_t i) { Unlink(i, &free_head_); }

  // Frees slot i onto another list (head *list), not the slab's own: a
  // second lock collects frees there and hands them back with Adopt.
  void Unlink(uint32_t i, uint32_t* list) {
    Slot& s = (*this)[i];
    s.state = SlotState::kFree;
    s.in_ready = false;
    s.bytes = 0;
    s.prev = kNil;
    s.next = *list;
    *list = i;
  }

  // Whether Allocate would reuse a slot.
  bool has_free() const { return free_head_ != kNil; }
  // Takes the list headed by `head` (built by Unlink) as the free list.
  // REQUIRES: !has_free().
  void Adopt(uint32_t head) { free_head_ = head; }

  // Drops every slot and its memory.
  void Release() {
    std::vector<std::unique_ptr<Slot[]>>().swap(chunks_);
    size_.store(0, std::memory_order_relaxed);
    capacity_ = 0;
    free_head_ = kNil;
  }

 private:
  void Grow() {
    const int c = std::bit_width((capacity_ >> 5) + 1) - 1;
    if (c >= kMaxChunks) {
      std::fprintf(stderr, "ferry memory backend: more than %u slots\n",
                   kMaxSlots);
      std::abort();
    }
    // Never reallocated afterwards: readers of existing slots stay valid.
    if (chunks_.empty()) chunks_.reserve(kMaxChunks);
    chunks_.push_back(std::make_unique<Slot[]>(size_t{32} << c));
    capacity_ += 32u << c;
  }

  // chunks_[c] holds 32 << c slots. (A vector rather than an array: an
  // unused queue costs 24 bytes here, not 184.)
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::atomic<uint32_t> size_{0};
  uint32_t capacity_ = 0;
  // On a cache line of its own: allocation writes it all the time, while
  // the line above (chunks_, size_) is only read once the slab has grown, by
  // every thread that looks up a slot.
  alignas(64) uint32_t free_head_ = kNil;
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_SLAB_H_
