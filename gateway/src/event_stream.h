// The AWS event-stream framing (application/vnd.amazon.eventstream), as
// SubscribeToShard answers: a sequence of messages, each
//
//   total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (u32 BE)
//   | headers | payload | message CRC32 (u32 BE)
//
// where the prelude CRC covers the first 8 bytes and the message CRC
// everything before it, and a header is name length (u8) | name | value type
// (u8) | value. Only string values (type 7: u16 BE length | bytes) are
// written; the decoder reads every type (it is for tests and fuzzing).
#ifndef FERRY_GATEWAY_EVENT_STREAM_H_
#define FERRY_GATEWAY_EVENT_STREAM_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::gateway_internal {

// CRC-32 (IEEE 802.3, the zlib polynomial), continuing from `crc`.
uint32_t Crc32(std::string_view bytes, uint32_t crc = 0);

struct EventStreamMessage {
  // Header names and string values, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;

  // The value of header `name`, or "" when absent.
  std::string_view Header(std::string_view name) const;
};

// One framed message.
std::string EncodeEventStreamMessage(const EventStreamMessage& message);

// An `:message-type: event` message of `event_type` whose payload has
// `content_type`.
std::string EncodeEvent(std::string_view event_type,
                        std::string_view content_type, std::string payload);
// An `:message-type: exception` message of `exception_type`.
std::string EncodeException(std::string_view exception_type,
                            std::string_view content_type, std::string payload);

// Decodes the first message of `*bytes` and removes it. Returns nullopt
// when `*bytes` does not yet hold a whole message; sets `*error` (and
// returns nullopt) when the bytes are not a valid message (bad length or
// CRC, truncated header).
std::optional<EventStreamMessage> DecodeEventStreamMessage(std::string* bytes,
                                                           bool* error);

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_EVENT_STREAM_H_
