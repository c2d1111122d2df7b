#include "codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ferry::rocksdb_internal {
namespace {

constexpr uint8_t kRecordVersion = 1;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

void PutTime(std::string* out, absl::Time t) {
  PutFixed64BE(out, OrderedTime(t));
}

// A bounds-checked reader: every Get fails once the input is exhausted.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Byte(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = GetFixed64BE(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  bool Time(absl::Time* t) {
    uint64_t v;
    if (!Fixed64(&v)) return false;
    *t = FromOrderedTime(v);
    return true;
  }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      uint8_t b;
      if (!Byte(&b)) return false;
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Bytes(std::string* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size()) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool Bytes(SharedString* s) {
    uint64_t n;
    if (!Varint(&n) || n > in_.size()) return false;
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Version() {
    uint8_t v;
    return Byte(&v) && v == kRecordVersion;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

void PutFixed32BE(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 3; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 4);
}

void PutFixed64BE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, 8);
}

uint32_t GetFixed32BE(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t GetFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t OrderedTime(absl::Time t) {
  int64_t ns;
  if (t == absl::InfinitePast()) {
    ns = INT64_MIN;
  } else if (t == absl::InfiniteFuture()) {
    ns = INT64_MAX;
  } else {
    // Saturates outside the representable range (~1678..2262).
    ns = absl::ToUnixNanos(t);
  }
  return static_cast<uint64_t>(ns) ^ (uint64_t{1} << 63);
}

absl::Time FromOrderedTime(uint64_t v) {
  int64_t ns = static_cast<int64_t>(v ^ (uint64_t{1} << 63));
  if (ns == INT64_MIN) return absl::InfinitePast();
  if (ns == INT64_MAX) return absl::InfiniteFuture();
  return absl::FromUnixNanos(ns);
}

std::string TagKey(char tag) { return std::string(1, tag); }

std::string QueueKey(char tag, QueueId queue) {
  std::string k(1, tag);
  PutFixed64BE(&k, queue);
  return k;
}

std::string SeqKey(char tag, QueueId queue, uint64_t seq) {
  std::string k = QueueKey(tag, queue);
  PutFixed64BE(&k, seq);
  return k;
}

std::string ReadyKey(QueueId queue, uint64_t ordered_time, uint64_t seq) {
  std::string k = QueueKey(kReadyTag, queue);
  PutFixed64BE(&k, ordered_time);
  PutFixed64BE(&k, seq);
  return k;
}

std::string DedupKey(QueueId queue, std::string_view dedup) {
  std::string k = QueueKey(kDedupTag, queue);
  k.append(dedup.data(), dedup.size());
  return k;
}

std::string KvKey(std::string_view table, std::string_view key) {
  std::string k(1, kKvTag);
  PutFixed32BE(&k, static_cast<uint32_t>(table.size()));
  k.append(table.data(), table.size());
  k.append(key.data(), key.size());
  return k;
}

bool ParseSeqKey(std::string_view key, char tag, QueueId* queue,
                 uint64_t* seq) {
  if (key.size() != 17 || key[0] != tag) return false;
  *queue = GetFixed64BE(key.data() + 1);
  *seq = GetFixed64BE(key.data() + 9);
  return true;
}

bool ParseReadyKey(std::string_view key, QueueId* queue, uint64_t* ordered_time,
                   uint64_t* seq) {
  if (key.size() != 25 || key[0] != kReadyTag) return false;
  *queue = GetFixed64BE(key.data() + 1);
  *ordered_time = GetFixed64BE(key.data() + 9);
  *seq = GetFixed64BE(key.data() + 17);
  return true;
}

std::string EncodeMessage(const StoredMessage& m) {
  std::string out;
  out.reserve(64 + m.body.size());
  out.push_back(static_cast<char>(kRecordVersion));
  PutTime(&out, m.enqueue_time);
  PutTime(&out, m.visible_at);
  PutFixed64BE(&out, m.message_id.hi);
  PutFixed64BE(&out, m.message_id.lo);
  PutTime(&out, m.sent_time);
  PutTime(&out, m.first_receive_time);
  PutVarint(&out, static_cast<uint64_t>(m.receive_count));
  PutVarint(&out, m.sequence_number);
  PutBytes(&out, m.body);
  PutBytes(&out, m.message_group_id);
  PutBytes(&out, m.deduplication_id);
  PutBytes(&out, m.trace_header);
  PutBytes(&out, m.sender_id);
  PutBytes(&out, m.dead_letter_source_arn);
  PutVarint(&out, m.attributes.size());
  for (const auto& [name, v] : m.attributes) {
    PutBytes(&out, name);
    PutBytes(&out, v.data_type);
    PutBytes(&out, v.string_value);
    PutBytes(&out, v.binary_value);
  }
  return out;
}

bool DecodeMessageTimes(std::string_view in, absl::Time* enqueue_time,
                        absl::Time* visible_at) {
  Reader r(in);
  return r.Version() && r.Time(enqueue_time) && r.Time(visible_at);
}

bool DecodeMessage(std::string_view in, StoredMessage* m) {
  Reader r(in);
  uint64_t receive_count, attrs;
  if (!r.Version() || !r.Time(&m->enqueue_time) || !r.Time(&m->visible_at) ||
      !r.Fixed64(&m->message_id.hi) || !r.Fixed64(&m->message_id.lo) ||
      !r.Time(&m->sent_time) || !r.Time(&m->first_receive_time) ||
      !r.Varint(&receive_count) || !r.Varint(&m->sequence_number) ||
      !r.Bytes(&m->body) || !r.Bytes(&m->message_group_id) ||
      !r.Bytes(&m->deduplication_id) || !r.Bytes(&m->trace_header) ||
      !r.Bytes(&m->sender_id) || !r.Bytes(&m->dead_letter_source_arn) ||
      !r.Varint(&attrs)) {
    return false;
  }
  m->receive_count = static_cast<int64_t>(receive_count);
  MessageAttributeMap attributes;
  for (uint64_t i = 0; i < attrs; ++i) {
    std::string name;
    MessageAttributeValue v;
    if (!r.Bytes(&name) || !r.Bytes(&v.data_type) ||
        !r.Bytes(&v.string_value) || !r.Bytes(&v.binary_value)) {
      return false;
    }
    attributes[std::move(name)] = std::move(v);
  }
  m->attributes = std::move(attributes);
  return r.done();
}

std::string EncodeLeaseState(const LeaseState& s) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  PutVarint(&out, static_cast<uint64_t>(s.receive_count));
  PutTime(&out, s.first_receive_time);
  PutTime(&out, s.invisible_until);
  PutTime(&out, s.last_receive);
  PutVarint(&out, s.lease_number);
  return out;
}

bool DecodeLeaseState(std::string_view in, LeaseState* s) {
  Reader r(in);
  uint64_t rc;
  if (!r.Version() || !r.Varint(&rc) || !r.Time(&s->first_receive_time) ||
      !r.Time(&s->invisible_until) || !r.Time(&s->last_receive) ||
      !r.Varint(&s->lease_number)) {
    return false;
  }
  s->receive_count = static_cast<int64_t>(rc);
  return r.done();
}

std::string EncodeQueueRecord(const QueueRecord& q) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  PutFixed64BE(&out, q.id);
  out.push_back(q.fifo ? 1 : 0);
  PutVarint(&out, q.config_version);
  PutBytes(&out, q.key);
  PutBytes(&out, q.config);
  return out;
}

bool DecodeQueueRecord(std::string_view in, QueueRecord* q) {
  Reader r(in);
  uint8_t fifo;
  if (!r.Version() || !r.Fixed64(&q->id) || !r.Byte(&fifo) || fifo > 1 ||
      !r.Varint(&q->config_version) || !r.Bytes(&q->key) ||
      !r.Bytes(&q->config)) {
    return false;
  }
  q->fifo = fifo == 1;
  return r.done();
}

std::string EncodeDedup(const DedupRecord& d) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  PutTime(&out, d.expires_at);
  PutFixed64BE(&out, d.message_id.hi);
  PutFixed64BE(&out, d.message_id.lo);
  return out;
}

bool DecodeDedup(std::string_view in, DedupRecord* d) {
  Reader r(in);
  return r.Version() && r.Time(&d->expires_at) &&
         r.Fixed64(&d->message_id.hi) && r.Fixed64(&d->message_id.lo) &&
         r.done();
}

std::string EncodeKvValue(uint64_t version, std::string_view value) {
  std::string out;
  out.push_back(static_cast<char>(kRecordVersion));
  PutFixed64BE(&out, version);
  out.append(value.data(), value.size());
  return out;
}

bool DecodeKvValue(std::string_view in, uint64_t* version, std::string* value) {
  if (in.size() < 9 || static_cast<uint8_t>(in[0]) != kRecordVersion) {
    return false;
  }
  *version = GetFixed64BE(in.data() + 1);
  value->assign(in.data() + 9, in.size() - 9);
  return *version > 0;
}

std::string MakeReceipt(QueueId queue, uint64_t seq, uint64_t lease) {
  return absl::StrCat("rk", queue, ".", seq, ".", lease);
}

namespace {
// Strict decimal: digits only, no leading zero (except "0"), no overflow.
bool ParseDecimal(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  uint64_t out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (out > (UINT64_MAX - d) / 10) return false;
    out = out * 10 + d;
  }
  *v = out;
  return true;
}
}  // namespace

bool ParseReceipt(std::string_view receipt, QueueId* queue, uint64_t* seq,
                  uint64_t* lease) {
  if (receipt.size() < 2 || receipt.substr(0, 2) != "rk") return false;
  receipt.remove_prefix(2);
  size_t a = receipt.find('.');
  if (a == std::string_view::npos) return false;
  size_t b = receipt.find('.', a + 1);
  if (b == std::string_view::npos) return false;
  return ParseDecimal(receipt.substr(0, a), queue) &&
         ParseDecimal(receipt.substr(a + 1, b - a - 1), seq) &&
         ParseDecimal(receipt.substr(b + 1), lease);
}

}  // namespace ferry::rocksdb_internal
