// -----------------------------------------------------------------------------
// File: ferry/queue.h
// -----------------------------------------------------------------------------
//
// `ferry::Queue` is the native handle to one SQS-style queue of a
// `ferry::Broker`. Delivery is at-least-once: a received message is hidden for
// its visibility timeout and reappears unless it is deleted first. FIFO
// queues deliver each message group in order, one in-flight prefix at a time.
// The semantics are SQS's (see docs/user-guide.md); this is the simple level
// for C++ code. The AWS-shaped level with AWS's request and result shapes is
// `ferry::Sqs` (ferry/sqs.h); both run the same engine.
//
// Thread safety: `Queue` is a cheap copyable handle; every method may be
// called concurrently from any thread without external synchronization.
// Errors: methods return `absl::Status[Or]` carrying the AWS error (see
// ferry/errors.h): QueueDoesNotExist once the queue is deleted,
// InvalidParameterValue and friends for bad input, ResourceExhausted when the
// backend's memory cap is reached, kCancelled when the broker shuts down
// during a long poll. An empty receive is OK, not an error. No method throws.
//
// Example:
//   absl::StatusOr<ferry::Queue> q = broker->CreateQueue("jobs");
//   q->Send("hello");
//   auto batch = q->Receive({.max_messages = 10, .wait_time =
//   absl::Seconds(20)}); for (const ferry::ReceivedMessage& m : *batch)
//   q->Delete(m.receipt);
#ifndef FERRY_QUEUE_H_
#define FERRY_QUEUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/ids.h"
#include "ferry/message.h"

namespace ferry {

namespace internal {
class QueueState;
class Engine;
}  // namespace internal
class Consumer;

// Attributes of a queue at creation. Unset fields take SQS's defaults.
struct QueueOptions {
  // FIFO queue: the name must end in ".fifo". Fixed at creation.
  bool fifo = false;
  // How long a received message stays hidden. SQS default 30 s; 0 to 12 h.
  std::optional<absl::Duration> visibility_timeout{};
  // Messages older than this are dropped. SQS default 4 days; 60 s to 14 days.
  std::optional<absl::Duration> retention{};
  // Hides every new message for this long. Default 0; at most 15 min.
  std::optional<absl::Duration> delivery_delay{};
  // Default long-poll wait of a receive. Default 0; at most 20 s.
  std::optional<absl::Duration> receive_wait_time{};
  // Largest message (body plus attributes). Default and max 1 MiB; min 1 KiB.
  std::optional<int64_t> maximum_message_size{};
  // Redrive: after `max_receive_count` receives a message moves to the queue
  // named `dead_letter_queue` (same account and region; must exist).
  std::string dead_letter_queue{};
  int max_receive_count = 0;
  // FIFO: deduplicate by SHA-256 of the body when no id is given.
  bool content_based_deduplication = false;
};

struct SendOptions {
  // Per-message delay (standard queues only). Unset: the queue's delay.
  std::optional<absl::Duration> delay{};
  MessageAttributeMap attributes{};
  // Required on FIFO queues; optional on standard queues (fair queues).
  std::string message_group_id{};
  // FIFO: required unless the queue has content-based deduplication.
  std::string deduplication_id{};
};

struct SendResult {
  Uuid message_id{};
  // FIFO queues: the sequence number; 0 otherwise.
  uint64_t sequence_number = 0;
  // FIFO: true when the message was a duplicate inside the 5-minute window
  // (accepted, not enqueued again; message_id is the original's).
  bool duplicate = false;
};

struct ReceiveOptions {
  // 1 to 10.
  int max_messages = 1;
  // Unset: the queue's visibility timeout.
  std::optional<absl::Duration> visibility_timeout{};
  // Long poll: return as soon as a message is available or after this long.
  // Unset: the queue's receive wait time. At most 20 s.
  std::optional<absl::Duration> wait_time{};
};

struct ReceivedMessage {
  Uuid message_id{};
  std::string body{};
  // Hand back to Delete or ChangeVisibility. New on every receive.
  std::string receipt{};
  MessageAttributeMap attributes{};
  int64_t receive_count = 0;
  absl::Time sent_time{};
  absl::Time first_receive_time{};
  std::string message_group_id{};
  std::string deduplication_id{};
  uint64_t sequence_number = 0;
  std::string dead_letter_source_arn{};
};

struct QueueCounts {
  int64_t visible = 0;
  int64_t in_flight = 0;
  int64_t delayed = 0;
};

// A message as Peek shows it, without receiving it.
struct PeekedMessage {
  enum class State { kVisible, kInFlight, kDelayed };
  ReceivedMessage message{};  // receipt is empty
  State state = State::kVisible;
  absl::Time invisible_until{};
};

// Given to a push consumer's handler with each message. Move-only; exactly
// one of Ack or Nack takes effect. Dropping it unacknowledged leaves the
// message in flight until its visibility timeout ends, as in SQS.
class FERRY_EXPORT AckHandle {
 public:
  AckHandle() = default;
  AckHandle(AckHandle&&) noexcept = default;
  AckHandle& operator=(AckHandle&&) noexcept = default;
  AckHandle(const AckHandle&) = delete;
  AckHandle& operator=(const AckHandle&) = delete;

  // Deletes the message.
  absl::Status Ack() &&;
  // Makes the message visible again after `delay` (0: at once).
  absl::Status Nack(absl::Duration delay = absl::ZeroDuration()) &&;

 private:
  friend class Queue;
  friend class Consumer;
  std::shared_ptr<internal::QueueState> state_{};
  std::string receipt_{};
};

struct ConsumeOptions {
  // Messages fetched per receive (1-10).
  int max_messages = 10;
  std::optional<absl::Duration> visibility_timeout{};
  // The long-poll wait of each receive.
  absl::Duration wait_time = absl::Seconds(20);
};

// A running push consumer. Stops (and joins its polling thread) when
// destroyed or on Stop(); handlers already scheduled on the executor still run.
class FERRY_EXPORT Consumer {
 public:
  Consumer() = default;
  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();
  void Stop();
  // Messages handed to the handler so far.
  int64_t delivered() const;

  struct Impl;

 private:
  friend class Queue;
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_{};
};

class FERRY_EXPORT Queue {
 public:
  // An invalid handle; every call fails with kFailedPrecondition.
  Queue() = default;

  const std::string& name() const;
  const std::string& arn() const;
  // The queue URL for the broker's default endpoint.
  std::string url() const;
  bool fifo() const;

  absl::StatusOr<SendResult> Send(std::string_view body,
                                  const SendOptions& options = {});
  // Up to 10 messages at once, all or nothing on validation errors.
  absl::StatusOr<std::vector<SendResult>> SendBatch(
      std::span<const std::string> bodies, const SendOptions& options = {});

  absl::StatusOr<std::vector<ReceivedMessage>> Receive(
      const ReceiveOptions& options = {});

  // Standard queues: any receipt ever issued for a message deletes it, and
  // deleting twice succeeds. FIFO: a receipt whose visibility timeout has
  // ended fails with InvalidParameterValue.
  absl::Status Delete(std::string_view receipt);
  absl::Status DeleteBatch(std::span<const std::string> receipts);

  // The message becomes visible `timeout` from now (0: at once).
  absl::Status ChangeVisibility(std::string_view receipt,
                                absl::Duration timeout);

  absl::Status Purge();
  absl::StatusOr<QueueCounts> Counts();
  // Test support: the messages in queue order, without receiving them.
  absl::StatusOr<std::vector<PeekedMessage>> Peek(size_t limit = 100);

  // Starts a push consumer: `handler` is called through the broker's
  // executor, never under a ferry lock, once per message received.
  using Handler = absl::AnyInvocable<void(ReceivedMessage, AckHandle)>;
  absl::StatusOr<Consumer> Consume(Handler handler,
                                   const ConsumeOptions& options = {});

 private:
  friend class Broker;
  friend class AckHandle;
  friend class Consumer;
  explicit Queue(std::shared_ptr<internal::QueueState> state)
      : state_(std::move(state)) {}
  std::shared_ptr<internal::QueueState> state_{};
};

}  // namespace ferry

#endif  // FERRY_QUEUE_H_
