// -----------------------------------------------------------------------------
// File: ferry/message.h
// -----------------------------------------------------------------------------
//
// The value types shared by the native API, the AWS-shaped API and the store
// interface: message attributes and the message as a store keeps it.
//
// Thread safety: plain values; the usual rules for std types.
// Errors: none.
#ifndef FERRY_MESSAGE_H_
#define FERRY_MESSAGE_H_

#include <cstdint>
#include <map>
#include <string>

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

// A message as a store keeps it. Core fills the first block when a message is
// sent; the store maintains the receive bookkeeping.
struct StoredMessage {
  Uuid message_id{};
  std::string body{};
  MessageAttributeMap attributes{};
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
