// -----------------------------------------------------------------------------
// File: ferry/backend.h
// -----------------------------------------------------------------------------
//
// The storage interface every ferry backend implements (memory, RocksDB, and
// later networked stores). Core makes every decision as a pure function (is a
// message eligible, does a receive exceed maxReceiveCount, is an id inside the
// dedup window) and hands the store a transition to apply atomically: append
// to several queues at once (SNS fan-out), lease the visible messages and move
// the poison ones to their dead-letter queue in the same step, acknowledge a
// lease, compare-and-swap a key (Kinesis leases, move tasks).
//
// Contract for implementers:
//   * Every method is safe to call concurrently without external locking.
//   * Stores never read a clock: time arrives as data (`now`, deadlines).
//   * Stores know nothing of AWS: queue keys are opaque strings (core passes
//     ARNs, which scope every key by account and region), queue configuration
//     is an opaque blob, receipts are opaque strings the store makes.
//   * Stores never hand out pointers into their memory; results are values.
//   * `string_view` and `span` members of a Params struct are valid only for
//     the duration of the call.
//   * "Nothing available" is OK with an empty result, never an error.
//   * Errors: kNotFound for a missing queue, kAlreadyExists on create,
//     kAborted for a failed compare-and-swap, kResourceExhausted when a
//     configured capacity (memory cap, disk cap) is reached, kUnavailable or
//     kDataLoss for storage failures. Nothing accepted before an error is lost.
#ifndef FERRY_BACKEND_H_
#define FERRY_BACKEND_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/message.h"
#include "ferry/stream_store.h"

namespace ferry {

// Assigned by the store when a queue is created and never reused within the
// store's lifetime, so a receipt of a deleted queue never matches a new one.
using QueueId = uint64_t;

struct QueueRecord {
  QueueId id = 0;
  std::string key{};     // the ARN
  bool fifo = false;     // fixed at creation
  std::string config{};  // core's encoding of the attributes; opaque here
  uint64_t config_version = 0;
};

// How a store judged a receipt handed back to it.
enum class ReceiptStatus {
  kOk,
  // Not a receipt this store issued (garbage, truncated, another store's).
  kMalformed,
  // A receipt of another queue of this store.
  kWrongQueue,
  // The message no longer exists (deleted, purged, expired, moved).
  kGone,
  // With `require_live_lease`: the receipt's lease has ended or was superseded
  // by a later receive. (AWS: FIFO "The receipt handle has expired.")
  kExpired,
  // ChangeVisibility only: the new deadline is beyond `max_invisible_until`.
  kBeyondLimit,
};

class FERRY_EXPORT QueueStore {
 public:
  virtual ~QueueStore() = default;

  // ---- Catalog -------------------------------------------------------------

  struct CreateQueueParams {
    std::string_view key{};
    bool fifo = false;
    std::string_view config{};
  };
  // kAlreadyExists if `key` exists.
  virtual absl::StatusOr<QueueRecord> CreateQueue(
      const CreateQueueParams& p) = 0;
  // kNotFound if absent.
  virtual absl::StatusOr<QueueRecord> GetQueue(std::string_view key) = 0;

  struct UpdateQueueParams {
    QueueId queue = 0;
    uint64_t expected_version = 0;
    std::string_view config{};
  };
  // Replaces the config iff its version is `expected_version`; returns the new
  // version. kAborted on a version mismatch, kNotFound if the queue is gone.
  virtual absl::StatusOr<uint64_t> UpdateQueueConfig(
      const UpdateQueueParams& p) = 0;

  // Drops the queue and all of its messages. kNotFound if absent.
  virtual absl::Status DeleteQueue(QueueId queue) = 0;

  struct ListQueuesParams {
    std::string_view key_prefix{};
    std::string_view start_after{};  // exclusive; empty = from the start
    size_t limit = 1000;
  };
  // Queues whose key starts with `key_prefix`, in key order.
  virtual absl::StatusOr<std::vector<QueueRecord>> ListQueues(
      const ListQueuesParams& p) = 0;

  // ---- Messages ------------------------------------------------------------

  struct AppendEntry {
    QueueId queue = 0;
    // The store may move from it.
    StoredMessage message{};
    // Deduplication, decided by core: when `dedup_key` is non-empty and the
    // queue holds the same key with an expiry after `now`, the entry is a
    // duplicate and is not stored; otherwise the key is recorded until
    // `dedup_expires_at` (it outlives the message: AWS keeps it after delete).
    std::string dedup_key{};
    absl::Time dedup_expires_at{};
  };
  struct AppendOutcome {
    bool duplicate = false;
    // The stored id; for a duplicate, the id of the message it duplicates.
    Uuid message_id{};
    uint64_t sequence_number = 0;  // FIFO queues
  };
  struct AppendParams {
    // Applied all or nothing, in order, across any number of queues.
    std::span<AppendEntry> entries{};
    // outcomes[i] describes entries[i]. REQUIRES: same size as entries.
    std::span<AppendOutcome> outcomes{};
    absl::Time now{};
  };
  // kNotFound if a queue is gone (nothing is appended).
  virtual absl::Status Append(const AppendParams& p) = 0;

  struct LeaseParams {
    QueueId queue = 0;
    absl::Time now{};
    int max_messages = 1;
    // The deadline of the leases granted.
    absl::Time invisible_until{};
    // Messages whose enqueue_time + retention <= now are dropped.
    absl::Duration retention = absl::InfiniteDuration();
    // FIFO queues apply their queue delay retroactively: when set, a message
    // never received is visible from enqueue_time + this delay.
    std::optional<absl::Duration> retroactive_delay{};
    // Redrive. A message whose receive count would exceed max_receive_count
    // (0 = no redrive) moves to dead_letter_queue instead of being leased,
    // with dead_letter_source_arn = source_key. When dead_letter_is_fifo, its
    // deduplication id becomes its message id and its enqueue_time is reset
    // to now (AWS's FIFO rules).
    int64_t max_receive_count = 0;
    QueueId dead_letter_queue = 0;
    bool dead_letter_is_fifo = false;
    std::string_view source_key{};
    // Leases beyond this many in flight are refused with kResourceExhausted
    // when nothing could be leased (0 = unlimited).
    int64_t max_in_flight = 0;
  };
  struct LeasedMessage {
    StoredMessage message{};  // receive_count and first_receive_time updated
    std::string receipt{};
  };
  struct LeaseResult {
    std::vector<LeasedMessage> leases{};
    int64_t moved_to_dead_letter = 0;
    // The earliest moment a message not leased now may become visible (end
    // of a delay or a lease); InfiniteFuture if none. Long polls wait for it.
    absl::Time next_change = absl::InfiniteFuture();
  };
  // Standard queues: any visible messages. FIFO queues: per group, in order,
  // the visible messages before the group's first in-flight one (the prefix
  // rule); as many as possible from one group before the next group.
  virtual absl::StatusOr<LeaseResult> Lease(const LeaseParams& p) = 0;

  struct AckParams {
    QueueId queue = 0;
    std::span<const std::string_view> receipts{};
    // statuses[i] for receipts[i]. REQUIRES: same size.
    std::span<ReceiptStatus> statuses{};
    absl::Time now{};
    // FIFO: a receipt whose lease ended (or was superseded) is kExpired and
    // deletes nothing. Standard: any receipt ever issued deletes the message.
    bool require_live_lease = false;
  };
  virtual absl::Status Ack(const AckParams& p) = 0;

  struct VisibilityChange {
    std::string_view receipt{};
    absl::Time invisible_until{};
  };
  struct ChangeVisibilityParams {
    QueueId queue = 0;
    std::span<const VisibilityChange> changes{};
    std::span<ReceiptStatus> statuses{};
    absl::Time now{};
    // kBeyondLimit when invisible_until exceeds the message's latest receive
    // time plus this duration (SQS: 12 hours).
    absl::Duration max_since_receive = absl::InfiniteDuration();
    bool require_live_lease = false;
  };
  // Also applies to a message whose lease has expired (it becomes invisible
  // again), as AWS does.
  virtual absl::Status ChangeVisibility(const ChangeVisibilityParams& p) = 0;

  struct QueueCounts {
    int64_t visible = 0;
    int64_t in_flight = 0;
    int64_t delayed = 0;
  };
  struct CountParams {
    QueueId queue = 0;
    absl::Time now{};
    absl::Duration retention = absl::InfiniteDuration();
    std::optional<absl::Duration> retroactive_delay{};
  };
  virtual absl::StatusOr<QueueCounts> Count(const CountParams& p) = 0;

  // Deletes every message, in flight or not, and forgets the queue's
  // deduplication keys (AWS: a purge clears the FIFO deduplication cache).
  virtual absl::Status Purge(QueueId queue) = 0;

  enum class MessageState { kVisible, kInFlight, kDelayed };
  struct PeekedMessage {
    StoredMessage message{};
    MessageState state = MessageState::kVisible;
    absl::Time invisible_until{};  // kInFlight / kDelayed
  };
  struct PeekParams {
    QueueId queue = 0;
    absl::Time now{};
    size_t limit = 100;
    // Messages past retention are not shown (and may be dropped).
    absl::Duration retention = absl::InfiniteDuration();
    std::optional<absl::Duration> retroactive_delay{};
  };
  // Test support: the messages in queue order without receiving them.
  virtual absl::StatusOr<std::vector<PeekedMessage>> Peek(
      const PeekParams& p) = 0;

  struct MoveParams {
    QueueId source = 0;
    absl::Time now{};
    int max_messages = 1;
    absl::Duration retention = absl::InfiniteDuration();
    // Core's decision for each visible message taken, in order: rewrite it as
    // the new message and name its destination. An error leaves that message
    // where it is and ends the move. It never calls back into the store, so
    // the store may hold its locks while calling it.
    absl::FunctionRef<absl::Status(StoredMessage& message,
                                   QueueId* destination)>
        plan;
  };
  // Atomically moves up to max_messages visible messages; returns how many.
  virtual absl::StatusOr<int64_t> Move(const MoveParams& p) = 0;
};

// A small versioned key-value table for metadata that needs compare-and-swap:
// message move tasks, deleted-queue tombstones, later Kinesis leases and
// checkpoints. Tables are namespaces; keys are scoped by their users.
class FERRY_EXPORT KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;

  struct Entry {
    std::string value{};
    uint64_t version = 0;  // > 0
  };
  virtual absl::StatusOr<std::optional<Entry>> Get(std::string_view table,
                                                   std::string_view key) = 0;
  // Writes `value` iff the key's version is `expected_version` (0: the key
  // must be absent). Returns the new version; kAborted on a mismatch.
  virtual absl::StatusOr<uint64_t> CompareAndSwap(std::string_view table,
                                                  std::string_view key,
                                                  uint64_t expected_version,
                                                  std::string_view value) = 0;
  // Deletes iff the version matches (0: whatever it is). Returns whether a
  // key was deleted; kAborted on a mismatch.
  virtual absl::StatusOr<bool> Delete(std::string_view table,
                                      std::string_view key,
                                      uint64_t expected_version) = 0;
  // Keys starting with `prefix`, after `start_after`, in key order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, Entry>>> Scan(
      std::string_view table, std::string_view prefix,
      std::string_view start_after, size_t limit) = 0;
};

class FERRY_EXPORT Backend {
 public:
  virtual ~Backend() = default;
  // "memory", "rocksdb": for logs and test names.
  virtual std::string_view Name() const = 0;
  virtual QueueStore& queues() = 0;
  virtual KeyValueStore& kv() = 0;
  // Kinesis streams (ferry/stream_store.h).
  virtual StreamStore& streams() = 0;
  // Test support: removes every queue, message, key and stream.
  virtual absl::Status Reset() = 0;
};

}  // namespace ferry

#endif  // FERRY_BACKEND_H_
