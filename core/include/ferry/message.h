// -----------------------------------------------------------------------------
// File: ferry/message.h
// -----------------------------------------------------------------------------
//
// The value types shared by the native API, the AWS-shaped API and the store
// interface: message attributes and the message as a store keeps it.
//
// Thread safety: plain values; the usual rules for std types. Copies of a
// SharedString or SharedAttributes may be used and destroyed on different
// threads (the reference count is atomic; the shared value never changes).
// Errors: none.
#ifndef FERRY_MESSAGE_H_
#define FERRY_MESSAGE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "ferry/ids.h"

namespace ferry {

// One SQS message attribute. `data_type` is "String", "Number" or "Binary",
// optionally followed by ".label" (e.g. "Binary.png"). Exactly one of the
// values is meaningful: `binary_value` (raw bytes, not base64) for Binary
// types, `string_value` otherwise.
struct MessageAttributeValue {
  std::string data_type{};
  std::string string_value{};
  std::string binary_value{};

  friend bool operator==(const MessageAttributeValue&,
                         const MessageAttributeValue&) = default;
};

// Ordered by name: the order in which the MD5 of message attributes is taken.
using MessageAttributeMap = std::map<std::string, MessageAttributeValue>;

// An immutable string that copies share. Strings of up to kInline bytes are
// kept inline (copying them copies 24 bytes, no allocation); longer ones live
// in one refcounted heap block, so a copy costs a pointer and an atomic
// increment, not an allocation and a memcpy. Converts implicitly to
// std::string_view; assign a new value to change it.
class SharedString {
 public:
  static constexpr size_t kInline = 22;

  SharedString() noexcept { Reset(); }
  SharedString(std::string_view s) { Init(s); }    // NOLINT: implicit
  SharedString(const std::string& s) { Init(s); }  // NOLINT: implicit
  SharedString(const char* s) { Init(s); }         // NOLINT: implicit
  SharedString(const SharedString& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof(*this));
    if (is_heap()) heap()->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedString(SharedString&& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof(*this));
    other.Reset();
  }
  SharedString& operator=(const SharedString& other) noexcept {
    if (this != &other) {
      SharedString copy(other);
      swap(copy);
    }
    return *this;
  }
  SharedString& operator=(SharedString&& other) noexcept {
    if (this != &other) {
      Release();
      std::memcpy(static_cast<void*>(this), &other, sizeof(*this));
      other.Reset();
    }
    return *this;
  }
  SharedString& operator=(std::string_view s) {
    SharedString fresh(s);
    swap(fresh);
    return *this;
  }
  SharedString& operator=(const std::string& s) {
    return *this = std::string_view(s);
  }
  SharedString& operator=(const char* s) { return *this = std::string_view(s); }
  ~SharedString() { Release(); }

  void swap(SharedString& other) noexcept {
    char tmp[sizeof(SharedString)];
    std::memcpy(tmp, static_cast<void*>(this), sizeof(*this));
    std::memcpy(static_cast<void*>(this), &other, sizeof(*this));
    std::memcpy(static_cast<void*>(&other), tmp, sizeof(*this));
  }

  // Makes it empty (dropping this copy's share of a heap block).
  void clear() noexcept {
    if (tag_ != 0) {
      Release();
      Reset();
    }
  }

  const char* data() const noexcept {
    return is_heap() ? heap()->chars() : inline_;
  }
  size_t size() const noexcept {
    return is_heap() ? heap()->size : static_cast<size_t>(tag_);
  }
  bool empty() const noexcept { return size() == 0; }
  std::string_view view() const noexcept { return {data(), size()}; }
  operator std::string_view() const noexcept { return view(); }
  std::string str() const { return std::string(view()); }

  friend bool operator==(const SharedString& a, std::string_view b) noexcept {
    return a.view() == b;
  }
  friend std::ostream& operator<<(std::ostream& os, const SharedString& s) {
    return os << s.view();
  }

 private:
  static constexpr uint8_t kHeapTag = 0xff;
  struct Rep {
    std::atomic<uint32_t> refs;
    size_t size;
    char* chars() { return reinterpret_cast<char*>(this + 1); }
  };

  bool is_heap() const noexcept { return tag_ == kHeapTag; }
  Rep* heap() const noexcept {
    Rep* r;
    std::memcpy(&r, inline_, sizeof(r));
    return r;
  }
  void Reset() noexcept {
    inline_[0] = '\0';
    tag_ = 0;
  }
  void Init(std::string_view s) {
    if (s.size() <= kInline) {
      if (!s.empty()) std::memcpy(inline_, s.data(), s.size());
      tag_ = static_cast<uint8_t>(s.size());
      return;
    }
    void* block = ::operator new(sizeof(Rep) + s.size());
    Rep* r = new (block) Rep{{1}, s.size()};
    std::memcpy(r->chars(), s.data(), s.size());
    std::memcpy(inline_, &r, sizeof(r));
    tag_ = kHeapTag;
  }
  void Release() noexcept {
    if (!is_heap()) return;
    Rep* r = heap();
    if (r->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      r->~Rep();
      ::operator delete(r);
    }
  }

  char inline_[kInline + 1];
  // The inline length, or kHeapTag.
  uint8_t tag_;
};

// An immutable MessageAttributeMap that copies share (one refcounted heap
// block; none for an empty map). Reads go through const access or the
// implicit conversion to `const MessageAttributeMap&`; assign a map to change
// it.
class SharedAttributes {
 public:
  using const_iterator = MessageAttributeMap::const_iterator;
  using iterator = const_iterator;
  using value_type = MessageAttributeMap::value_type;
  using key_type = MessageAttributeMap::key_type;
  using mapped_type = MessageAttributeMap::mapped_type;

  SharedAttributes() noexcept = default;
  SharedAttributes(const MessageAttributeMap& m)  // NOLINT: implicit
      : rep_(m.empty() ? nullptr : new Rep{{1}, m}) {}
  SharedAttributes(MessageAttributeMap&& m)  // NOLINT: implicit
      : rep_(m.empty() ? nullptr : new Rep{{1}, std::move(m)}) {}
  SharedAttributes(std::initializer_list<value_type> init)
      : SharedAttributes(MessageAttributeMap(init)) {}
  SharedAttributes(const SharedAttributes& other) noexcept : rep_(other.rep_) {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedAttributes(SharedAttributes&& other) noexcept : rep_(other.rep_) {
    other.rep_ = nullptr;
  }
  SharedAttributes& operator=(const SharedAttributes& other) noexcept {
    SharedAttributes copy(other);
    std::swap(rep_, copy.rep_);
    return *this;
  }
  SharedAttributes& operator=(SharedAttributes&& other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  SharedAttributes& operator=(const MessageAttributeMap& m) {
    return *this = SharedAttributes(m);
  }
  SharedAttributes& operator=(MessageAttributeMap&& m) {
    return *this = SharedAttributes(std::move(m));
  }
  ~SharedAttributes() { Release(); }

  const MessageAttributeMap& map() const noexcept {
    return rep_ != nullptr ? rep_->map : Empty();
  }
  operator const MessageAttributeMap&() const noexcept { return map(); }

  const_iterator begin() const noexcept { return map().begin(); }
  const_iterator end() const noexcept { return map().end(); }
  size_t size() const noexcept {
    return rep_ != nullptr ? rep_->map.size() : 0;
  }
  bool empty() const noexcept { return rep_ == nullptr || rep_->map.empty(); }
  const_iterator find(const std::string& name) const {
    return map().find(name);
  }
  size_t count(const std::string& name) const { return map().count(name); }
  bool contains(const std::string& name) const { return map().contains(name); }
  const MessageAttributeValue& at(const std::string& name) const {
    return map().at(name);
  }
  void clear() noexcept {
    Release();
    rep_ = nullptr;
  }

  friend bool operator==(const SharedAttributes& a, const SharedAttributes& b) {
    return a.rep_ == b.rep_ || a.map() == b.map();
  }
  friend bool operator==(const SharedAttributes& a,
                         const MessageAttributeMap& b) {
    return a.map() == b;
  }

 private:
  struct Rep {
    std::atomic<uint32_t> refs;
    const MessageAttributeMap map;
  };
  static const MessageAttributeMap& Empty() noexcept {
    static const MessageAttributeMap* const empty = new MessageAttributeMap();
    return *empty;
  }
  void Release() noexcept {
    if (rep_ != nullptr &&
        rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete rep_;
    }
  }

  Rep* rep_ = nullptr;
};

// A message as a store keeps it. Core fills the first block when a message is
// sent; the store maintains the receive bookkeeping. The body and the
// attributes are shared, immutable values: the deliveries of one SNS fan-out,
// a store's slot, its leases and their results share one copy of each.
struct StoredMessage {
  Uuid message_id{};
  SharedString body{};
  SharedAttributes attributes{};
  // FIFO queues (and fair standard queues): the group; empty if none.
  std::string message_group_id{};
  // FIFO: the deduplication id given or derived; empty on standard queues.
  std::string deduplication_id{};
  // The AWSTraceHeader system attribute; empty if none.
  std::string trace_header{};
  // The SenderId system attribute.
  std::string sender_id{};
  // Set on messages a redrive moved to a dead-letter queue.
  std::string dead_letter_source_arn{};
  // SentTimestamp: when the message was first sent (kept across DLQ moves).
  absl::Time sent_time{};
  // Start of the retention period (reset by a FIFO DLQ move, per AWS).
  absl::Time enqueue_time{};
  // The end of the message's delay; <= sent_time when it has none.
  absl::Time visible_at{};

  // Maintained by the store.
  int64_t receive_count = 0;
  absl::Time first_receive_time = absl::InfinitePast();
  // FIFO: the store assigns increasing numbers per queue.
  uint64_t sequence_number = 0;
};

}  // namespace ferry

#endif  // FERRY_MESSAGE_H_
