// A hierarchical timing wheel over the slots of one Slab: the delay ends and
// lease ends of a standard queue's shard.
//
// Time is cut into ticks of 2^20 ns (~1 ms). Four levels of 256 buckets cover
// 2^32 ticks (~52 days); later deadlines wait in an overflow list. An entry
// whose tick shares every digit above level 0 with the cursor sits at level 0
// in the bucket of its tick (or in the cursor's bucket when its tick is not
// after the cursor); otherwise it sits at the level of the highest digit in
// which it differs from the cursor. So every entry at a level is later than
// every entry at the levels below, and buckets before the cursor's digit are
// empty. Advancing expires whole buckets that lie before the target and
// re-places (cascades) only the one bucket per level the target falls in.
//
// Insert and Remove are O(1) (intrusive lists through Slot::next/prev, a
// bitmap per level); Advance costs the entries it expires or cascades plus a
// few bitmap words, however far time jumps. Deadlines are exact: an entry is
// due when now >= its deadline, never before, whatever the tick size.
//
// Thread safety: none; guarded by the owning shard's mutex.
#ifndef FERRY_BACKENDS_MEMORY_SRC_TIMER_WHEEL_H_
#define FERRY_BACKENDS_MEMORY_SRC_TIMER_WHEEL_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <vector>

#include "slab.h"

namespace ferry::memory_internal {

class TimerWheel {
 public:
  TimerWheel() = default;
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  size_t size() const { return size_; }

  // Adds slot `i`, due at slab[i].deadline. `now` positions an empty wheel.
  // REQUIRES: the slot is in no list.
  void Insert(Slab& slab, uint32_t i, int64_t now) {
    if (table_ == nullptr) table_ = std::make_unique<Table>();
    if (size_ == 0) cursor_ = Tick(now);
    Place(slab, i);
  }

  // REQUIRES: slot `i` is in this wheel.
  void Remove(Slab& slab, uint32_t i) { Unlink(slab, i); }

  // Removes every entry whose deadline is <= now and calls due(index) for
  // each, in no particular order. `due` must not touch the wheel.
  template <typename F>
  void Advance(Slab& slab, int64_t now, F&& due);

  // The earliest deadline in the wheel, or kNever.
  int64_t NextDeadline(const Slab& slab) const;

  // Forgets every entry (the caller resets the slots); keeps the memory.
  void Reset() {
    if (table_ != nullptr) {
      std::fill(std::begin(table_->head), std::end(table_->head), kNil);
      for (auto& level : table_->bits)
        std::fill(std::begin(level), std::end(level), 0);
    }
    size_ = 0;
  }
  // Forgets every entry and frees the memory.
  void Release() {
    table_.reset();
    scratch_ = {};
    size_ = 0;
  }

 private:
  static constexpr int kLevels = 4;
  static constexpr int kBits = 8;
  static constexpr uint32_t kBuckets = 1u << kBits;
  static constexpr int kWords = kBuckets / 64;
  static constexpr uint16_t kOverflow = kLevels * kBuckets;
  static constexpr int kTickShift = 20;

  struct Table {
    Table() {
      std::fill(std::begin(head), std::end(head), kNil);
      for (auto& level : bits) std::fill(std::begin(level), std::end(level), 0);
    }
    uint32_t head[kOverflow + 1];
    uint64_t bits[kLevels][kWords];
  };

  // Order-preserving map from signed nanoseconds to unsigned ticks.
  static uint64_t Tick(int64_t ns) {
    return (static_cast<uint64_t>(ns) ^ (uint64_t{1} << 63)) >> kTickShift;
  }
  static uint32_t Digit(uint64_t tick, int level) {
    return static_cast<uint32_t>(tick >> (level * kBits)) & (kBuckets - 1);
  }

  void Place(Slab& slab, uint32_t i) {
    const uint64_t tick = Tick(slab[i].deadline);
    uint16_t bucket;
    if (tick <= cursor_) {
      bucket = static_cast<uint16_t>(Digit(cursor_, 0));
    } else {
      const int level = (63 - std::countl_zero(tick ^ cursor_)) / kBits;
      bucket =
          level >= kLevels
              ? kOverflow
              : static_cast<uint16_t>(level * kBuckets + Digit(tick, level));
    }
    Link(slab, i, bucket);
  }

  void Link(Slab& slab, uint32_t i, uint16_t bucket) {
    Slot& s = slab[i];
    uint32_t& head = table_->head[bucket];
    s.bucket = bucket;
    s.prev = kNil;
    s.next = head;
    if (head != kNil) slab[head].prev = i;
    head = i;
    if (bucket != kOverflow) {
      table_->bits[bucket / kBuckets][(bucket % kBuckets) / 64] |=
          uint64_t{1} << (bucket % 64);
    }
    ++size_;
  }

  void Unlink(Slab& slab, uint32_t i) {
    Slot& s = slab[i];
    const uint16_t bucket = s.bucket;
    uint32_t& head = table_->head[bucket];
    if (s.prev != kNil) {
      slab[s.prev].next = s.next;
    } else {
      head = s.next;
    }
    if (s.next != kNil) slab[s.next].prev = s.prev;
    if (head == kNil && bucket != kOverflow) {
      table_->bits[bucket / kBuckets][(bucket % kBuckets) / 64] &=
          ~(uint64_t{1} << (bucket % 64));
    }
    s.next = s.prev = kNil;
    s.bucket = kNoBucket;
    --size_;
  }

  // The first non-empty bucket of `level` at or after digit `from`, or -1.
  int FindNext(int level, uint32_t from) const {
    for (uint32_t w = from / 64; w < kWords; ++w) {
      uint64_t word = table_->bits[level][w];
      if (w == from / 64) word &= ~uint64_t{0} << (from % 64);
      if (word != 0) return static_cast<int>(w * 64 + std::countr_zero(word));
    }
    return -1;
  }

  // Detaches every entry of `bucket` and appends them to `out`.
  void TakeBucket(Slab& slab, uint16_t bucket, std::vector<uint32_t>* out) {
    uint32_t& head = table_->head[bucket];
    for (uint32_t i = head; i != kNil;) {
      Slot& s = slab[i];
      const uint32_t next = s.next;
      s.next = s.prev = kNil;
      s.bucket = kNoBucket;
      --size_;
      out->push_back(i);
      i = next;
    }
    head = kNil;
    if (bucket != kOverflow) {
      table_->bits[bucket / kBuckets][(bucket % kBuckets) / 64] &=
          ~(uint64_t{1} << (bucket % 64));
    }
  }

  // Expires every entry of the buckets [from, to) of `level`: all of them are
  // due (their ticks are before the target's).
  template <typename F>
  void ExpireRange(Slab& slab, int level, uint32_t from, uint32_t to, F& due) {
    for (int d = FindNext(level, from); d >= 0 && static_cast<uint32_t>(d) < to;
         d = d + 1 < static_cast<int>(kBuckets) ? FindNext(level, d + 1) : -1) {
      scratch_due_.clear();
      TakeBucket(slab, static_cast<uint16_t>(level * kBuckets + d),
                 &scratch_due_);
      for (uint32_t i : scratch_due_) due(i);
    }
  }

  std::unique_ptr<Table> table_;
  // Every entry with a tick before the cursor's has been expired, except
  // those inserted late, which sit in the cursor's level-0 bucket.
  uint64_t cursor_ = 0;
  size_t size_ = 0;
  std::vector<uint32_t> scratch_;
  std::vector<uint32_t> scratch_due_;
};

template <typename F>
void TimerWheel::Advance(Slab& slab, int64_t now, F&& due) {
  if (size_ == 0) return;
  const uint64_t target = Tick(now);
  if (target > cursor_) {
    scratch_.clear();
    const uint64_t from = cursor_;
    int level = 0;
    for (; level < kLevels; ++level) {
      const int above = (level + 1) * kBits;
      const uint32_t fd = Digit(from, level);
      const uint32_t td = Digit(target, level);
      if ((from >> above) == (target >> above)) {
        // Same block one level up: the buckets strictly between the two
        // digits are due; the target's bucket holds a mix and is re-placed.
        // At level 0 the cursor's own bucket is entirely due too.
        ExpireRange(slab, level, level == 0 ? fd : fd + 1, td, due);
        if (level > 0) {
          TakeBucket(slab, static_cast<uint16_t>(level * kBuckets + td),
                     &scratch_);
        }
        break;
      }
      // The target is past this level's whole span: everything here is due.
      ExpireRange(slab, level, 0, kBuckets, due);
    }
    if (level == kLevels) TakeBucket(slab, kOverflow, &scratch_);
    cursor_ = target;
    for (uint32_t i : scratch_) Place(slab, i);
  }
  // The cursor's bucket: compare exact deadlines.
  uint32_t& head = table_->head[Digit(cursor_, 0)];
  for (uint32_t i = head; i != kNil;) {
    const uint32_t next = slab[i].next;
    if (slab[i].deadline <= now) {
      Unlink(slab, i);
      due(i);
    }
    i = next;
  }
}

inline int64_t TimerWheel::NextDeadline(const Slab& slab) const {
  if (size_ == 0) return kNever;
  uint16_t bucket = kOverflow;
  for (int level = 0; level < kLevels; ++level) {
    const uint32_t from = Digit(cursor_, level) + (level == 0 ? 0 : 1);
    if (from >= kBuckets) continue;
    const int d = FindNext(level, from);
    if (d >= 0) {
      bucket = static_cast<uint16_t>(level * kBuckets + d);
      break;
    }
  }
  int64_t best = kNever;
  for (uint32_t i = table_->head[bucket]; i != kNil; i = slab[i].next) {
    best = std::min(best, slab[i].deadline);
  }
  return best;
}

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_TIMER_WHEEL_H_
