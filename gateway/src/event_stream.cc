#include "event_stream.h"

#include <array>

namespace ferry::gateway_internal {
namespace {

constexpr size_t kPreludeBytes = 12;
constexpr size_t kMinMessageBytes = kPreludeBytes + 4;
// AWS's bound for one message (aws-c-event-stream: 16 MiB).
constexpr uint32_t kMaxMessageBytes = 16 << 20;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

uint32_t Crc32(std::string_view bytes, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = MakeCrcTable();
  crc = ~crc;
  for (char ch : bytes) {
    crc = kTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

std::string_view EventStreamMessage::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

std::string EncodeEventStreamMessage(const EventStreamMessage& message) {
  std::string headers;
  for (const auto& [name, value] : message.headers) {
    headers.push_back(static_cast<char>(name.size() & 0xFF));
    headers.append(name, 0, 255);
    headers.push_back(7);  // string
    const size_t n = value.size() > 0xFFFF ? 0xFFFF : value.size();
    headers.push_back(static_cast<char>((n >> 8) & 0xFF));
    headers.push_back(static_cast<char>(n & 0xFF));
    headers.append(value, 0, n);
  }
  const uint32_t total = static_cast<uint32_t>(kPreludeBytes + headers.size() +
                                               message.payload.size() + 4);
  std::string out;
  out.reserve(total);
  PutU32(&out, total);
  PutU32(&out, static_cast<uint32_t>(headers.size()));
  PutU32(&out, Crc32(out));
  out += headers;
  out += message.payload;
  PutU32(&out, Crc32(out));
  return out;
}

std::string EncodeEvent(std::string_view event_type,
                        std::string_view content_type, std::string payload) {
  EventStreamMessage m;
  m.headers = {{":message-type", "event"},
               {":event-type", std::string(event_type)},
               {":content-type", std::string(content_type)}};
  m.payload = std::move(payload);
  return EncodeEventStreamMessage(m);
}

std::string EncodeException(std::string_view exception_type,
                            std::string_view content_type,
                            std::string payload) {
  EventStreamMessage m;
  m.headers = {{":message-type", "exception"},
               {":exception-type", std::string(exception_type)},
               {":content-type", std::string(content_type)}};
  m.payload = std::move(payload);
  return EncodeEventStreamMessage(m);
}

std::optional<EventStreamMessage> DecodeEventStreamMessage(std::string* bytes,
                                                           bool* error) {
  *error = false;
  if (bytes->size() < kPreludeBytes) return std::nullopt;
  const char* p = bytes->data();
  const uint32_t total = GetU32(p);
  const uint32_t headers_len = GetU32(p + 4);
  if (GetU32(p + 8) != Crc32(std::string_view(p, 8)) ||
      total < kMinMessageBytes || total > kMaxMessageBytes ||
      headers_len > total - kMinMessageBytes) {
    *error = true;
    return std::nullopt;
  }
  if (bytes->size() < total) return std::nullopt;
  if (GetU32(p + total - 4) != Crc32(std::string_view(p, total - 4))) {
    *error = true;
    return std::nullopt;
  }
  EventStreamMessage m;
  const char* h = p + kPreludeBytes;
  const char* end = h + headers_len;
  while (h < end) {
    const size_t name_len = static_cast<unsigned char>(*h++);
    if (static_cast<size_t>(end - h) < name_len + 1) {
      *error = true;
      return std::nullopt;
    }
    std::string name(h, name_len);
    h += name_len;
    const int type = static_cast<unsigned char>(*h++);
    size_t len = 0;
    switch (type) {
      case 0:
      case 1:
        len = 0;
        break;
      case 2:
        len = 1;
        break;
      case 3:
        len = 2;
        break;
      case 4:
        len = 4;
        break;
      case 5:
      case 8:
        len = 8;
        break;
      case 9:
        len = 16;
        break;
      case 6:
      case 7:
        if (end - h < 2) {
          *error = true;
          return std::nullopt;
        }
        len = (static_cast<size_t>(static_cast<unsigned char>(h[0])) << 8) |
              static_cast<unsigned char>(h[1]);
        h += 2;
        break;
      default:
        *error = true;
        return std::nullopt;
    }
    if (static_cast<size_t>(end - h) < len) {
      *error = true;
      return std::nullopt;
    }
    std::string value = type == 0   ? std::string("true")
                        : type == 1 ? std::string("false")
                                    : std::string(h, len);
    h += len;
    m.headers.emplace_back(std::move(name), std::move(value));
  }
  m.payload.assign(end, p + total - 4);
  bytes->erase(0, total);
  return m;
}

}  // namespace ferry::gateway_internal
