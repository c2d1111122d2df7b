#include "stream_engine.h"

// MD5's low-level interface is deprecated in OpenSSL 3 but several times
// faster than EVP_Digest for the short keys routed here (no context
// allocation or provider lookup per call).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ferry/errors.h"
#include "nlohmann/json.hpp"
#include "status_macros.h"
#include "string_util.h"

namespace ferry::internal {
namespace {

using Json = nlohmann::json;

int64_t ToMillis(absl::Time t) { return absl::ToUnixMillis(t); }

// A 192-bit unsigned number as six base-2^32 words, most significant first.
using Words = std::array<uint32_t, 6>;

std::string WordsToDecimal(Words w) {
  std::string digits;
  auto is_zero = [&] {
    for (uint32_t x : w)
      if (x != 0) return false;
    return true;
  };
  while (!is_zero()) {
    uint64_t rem = 0;
    for (uint32_t& x : w) {
      const uint64_t cur = (rem << 32) | x;
      x = static_cast<uint32_t>(cur / 1000000000ULL);
      rem = cur % 1000000000ULL;
    }
    for (int i = 0; i < 9; ++i) {
      digits.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  // push_back, not `= "0"`: g++ 12 at -O3 flags that assignment with a
  // false -Wrestrict (libstdc++ PR 105651).
  if (digits.empty()) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

bool DecimalToWords(std::string_view text, Words* out) {
  Words w{};
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    uint64_t carry = static_cast<uint64_t>(c - '0');
    for (int i = 5; i >= 0; --i) {
      const uint64_t cur = static_cast<uint64_t>(w[i]) * 10 + carry;
      w[i] = static_cast<uint32_t>(cur);
      carry = cur >> 32;
    }
    if (carry != 0) return false;
  }
  *out = w;
  return true;
}

// Sets `bits` bits of `w` at bit offset `shift` from the least significant.
void PutBits(Words* w, int shift, int bits, uint64_t value) {
  for (int i = 0; i < bits; ++i) {
    if ((value >> i) & 1) {
      const int bit = shift + i;
      (*w)[5 - bit / 32] |= 1u << (bit % 32);
    }
  }
}
uint64_t GetBits(const Words& w, int shift, int bits) {
  uint64_t v = 0;
  for (int i = 0; i < bits; ++i) {
    const int bit = shift + i;
    if (((w[5 - bit / 32]) >> (bit % 32)) & 1) v |= uint64_t{1} << i;
  }
  return v;
}

}  // namespace

// ---- numbers
// -----------------------------------------------------------------

std::string U128ToDecimal(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

bool ParseU128(std::string_view text, u128* out) {
  if (text.empty() || text.size() > 39) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  u128 v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const u128 next = v * 10 + static_cast<u128>(c - '0');
    if (next / 10 != v) return false;  // overflow
    v = next;
  }
  *out = v;
  return true;
}

u128 PartitionKeyHash(std::string_view partition_key) {
  unsigned char digest[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(partition_key.data()),
      partition_key.size(), digest);
  u128 v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | digest[i];
  return v;
}

namespace {

// MD5 of up to eight keys of at most kMd5LaneMaxKey bytes at once: each key
// is one padded 64-byte block, and the eight blocks go through the rounds
// side by side in the lanes of a 256-bit vector (GCC/Clang vector extensions:
// AVX2 where enabled, otherwise pairs of SSE2/NEON registers). A lone MD5 is
// a chain of dependent steps; eight independent ones fill the pipeline, so a
// batch of short partition keys costs a fraction of one MD5() call per key.
constexpr size_t kMd5Lanes = 8;
constexpr size_t kMd5LaneMaxKey = 55;  // + 0x80 + 8 length bytes = 64

typedef uint32_t Md5Vec __attribute__((vector_size(4 * kMd5Lanes)));

constexpr uint32_t kMd5K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kMd5S[64] = {7,  12, 17, 22, 7,  12, 17, 22, 7,  12, 17, 22, 7,
                           12, 17, 22, 5,  9,  14, 20, 5,  9,  14, 20, 5,  9,
                           14, 20, 5,  9,  14, 20, 4,  11, 16, 23, 4,  11, 16,
                           23, 4,  11, 16, 23, 4,  11, 16, 23, 6,  10, 15, 21,
                           6,  10, 15, 21, 6,  10, 15, 21, 6,  10, 15, 21};

uint32_t Bswap32(uint32_t x) {
  return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

// out[l] = the hash of keys[idx[l]] for l < n; every key is short.
void Md5Lanes(const std::string_view* keys, const size_t* idx, size_t n,
              u128* out) {
  // blocks[l]: lane l's padded block as 16 little-endian words.
  uint32_t blocks[kMd5Lanes][16] = {};
  for (size_t l = 0; l < n; ++l) {
    const std::string_view key = keys[idx[l]];
    auto* bytes = reinterpret_cast<unsigned char*>(blocks[l]);
    if (!key.empty()) std::memcpy(bytes, key.data(), key.size());
    bytes[key.size()] = 0x80;
    if constexpr (std::endian::native == std::endian::big) {
      for (uint32_t& w : blocks[l]) w = Bswap32(w);
    }
    blocks[l][14] = static_cast<uint32_t>(key.size() * 8);
  }
  Md5Vec m[16];
  for (int w = 0; w < 16; ++w) {
    alignas(32) uint32_t column[kMd5Lanes];
    for (size_t l = 0; l < kMd5Lanes; ++l) column[l] = blocks[l][w];
    std::memcpy(&m[w], column, sizeof(Md5Vec));
  }
  const Md5Vec a0 = Md5Vec{} + 0x67452301u, b0 = Md5Vec{} + 0xefcdab89u,
               c0 = Md5Vec{} + 0x98badcfeu, d0 = Md5Vec{} + 0x10325476u;
  Md5Vec a = a0, b = b0, c = c0, d = d0;
#pragma GCC unroll 64
  for (int i = 0; i < 64; ++i) {
    Md5Vec f;
    int g;
    if (i < 16) {
      f = d ^ (b & (c ^ d));
      g = i;
    } else if (i < 32) {
      f = c ^ (d & (b ^ c));
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const Md5Vec t = a + f + kMd5K[i] + m[g];
    a = d;
    d = c;
    c = b;
    b = b + ((t << kMd5S[i]) | (t >> (32 - kMd5S[i])));
  }
  a += a0;
  b += b0;
  c += c0;
  d += d0;
  alignas(32) uint32_t digest[4][kMd5Lanes];
  std::memcpy(digest[0], &a, sizeof(Md5Vec));
  std::memcpy(digest[1], &b, sizeof(Md5Vec));
  std::memcpy(digest[2], &c, sizeof(Md5Vec));
  std::memcpy(digest[3], &d, sizeof(Md5Vec));
  for (size_t l = 0; l < n; ++l) {
    // The digest is the four words' little-endian bytes; the hash key reads
    // them as one big-endian number.
    u128 v = 0;
    for (int w = 0; w < 4; ++w) v = (v << 32) | Bswap32(digest[w][l]);
    out[l] = v;
  }
}

}  // namespace

void PartitionKeyHashes(std::span<const std::string_view> keys,
                        std::span<u128> out) {
  size_t lane_idx[kMd5Lanes];
  u128 lane_out[kMd5Lanes];
  size_t n = 0;
  auto flush = [&] {
    Md5Lanes(keys.data(), lane_idx, n, lane_out);
    for (size_t l = 0; l < n; ++l) out[lane_idx[l]] = lane_out[l];
    n = 0;
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].size() > kMd5LaneMaxKey) {
      out[i] = PartitionKeyHash(keys[i]);
      continue;
    }
    lane_idx[n++] = i;
    if (n == kMd5Lanes) flush();
  }
  if (n == 1) {
    out[lane_idx[0]] = PartitionKeyHash(keys[lane_idx[0]]);
  } else if (n > 0) {
    flush();
  }
}

// Layout, most significant first (47 hex digits): '2' | shard creation
// seconds (36 bits) | shard index low nibble | sequence index (64 bits) |
// 0x00 | record time seconds (36 bits) | shard index (32 bits) | '2'.
std::string FormatSequenceNumber(const ShardMeta& shard, uint64_t seq,
                                 int64_t time_ms) {
  Words w{};
  PutBits(&w, 0, 4, 2);
  PutBits(&w, 4, 32, shard.index);
  // kinesalite puts the record's second here; ferry puts the shard's
  // creation second (or `time_ms` for a closed shard's ending number), so
  // a record's number never depends on which clock reading stored it.
  PutBits(&w, 36, 36,
          static_cast<uint64_t>(
              (seq == kEndingSeqIndex ? time_ms : shard.created_ms) / 1000));
  PutBits(&w, 80, 64, seq);
  PutBits(&w, 144, 4, shard.index & 15);
  PutBits(&w, 148, 36, static_cast<uint64_t>(shard.created_ms / 1000));
  PutBits(&w, 184, 4, 2);
  return WordsToDecimal(w);
}

bool ParseSequenceNumber(std::string_view text, ParsedSequenceNumber* out) {
  if (text.size() != 56 || text[0] == '0') return false;
  Words w;
  if (!DecimalToWords(text, &w)) return false;
  if (GetBits(w, 188, 4) != 0 || GetBits(w, 184, 4) != 2 ||
      GetBits(w, 0, 4) != 2 || GetBits(w, 72, 8) != 0) {
    return false;
  }
  out->shard = static_cast<ShardIndex>(GetBits(w, 4, 32));
  if (GetBits(w, 144, 4) != (out->shard & 15)) return false;
  out->seq = GetBits(w, 80, 64);
  out->shard_created_secs = static_cast<int64_t>(GetBits(w, 148, 36));
  return true;
}

// ---- metadata
// ----------------------------------------------------------------

std::string StreamMeta::Encode() const {
  Json j = {{"v", 1},
            {"account", account},
            {"region", region},
            {"name", name},
            {"on_demand", on_demand},
            {"retention", retention_hours},
            {"created", created_ms},
            {"pending", pending_status},
            {"until", status_until_ms},
            {"tags", tags},
            {"consumers", consumers}};
  Json shard_list = Json::array();
  for (const ShardMeta& s : shards) {
    Json js = {{"i", s.index},
               {"s", U128ToDecimal(s.start)},
               {"e", U128ToDecimal(s.end)},
               {"c", s.created_ms}};
    if (s.parent) js["p"] = *s.parent;
    if (s.adjacent_parent) js["a"] = *s.adjacent_parent;
    if (s.closed_ms) js["x"] = *s.closed_ms;
    shard_list.push_back(std::move(js));
  }
  j["shards"] = std::move(shard_list);
  return j.dump();
}

bool StreamMeta::Decode(std::string_view in, StreamMeta* out) {
  Json j = Json::parse(in.begin(), in.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1) return false;
  try {
    out->account = j.at("account");
    out->region = j.at("region");
    out->name = j.at("name");
    out->on_demand = j.at("on_demand");
    out->retention_hours = j.at("retention");
    out->created_ms = j.at("created");
    out->pending_status = j.at("pending");
    out->status_until_ms = j.at("until");
    out->tags = j.at("tags").get<std::map<std::string, std::string>>();
    out->consumers.clear();
    if (j.contains("consumers")) {
      out->consumers = j["consumers"].get<std::map<std::string, int64_t>>();
    }
    out->shards.clear();
    for (const Json& js : j.at("shards")) {
      ShardMeta s;
      s.index = js.at("i");
      if (!ParseU128(js.at("s").get<std::string>(), &s.start) ||
          !ParseU128(js.at("e").get<std::string>(), &s.end)) {
        return false;
      }
      s.created_ms = js.at("c");
      if (js.contains("p")) s.parent = js["p"].get<ShardIndex>();
      if (js.contains("a")) s.adjacent_parent = js["a"].get<ShardIndex>();
      if (js.contains("x")) s.closed_ms = js["x"].get<int64_t>();
      out->shards.push_back(s);
    }
  } catch (const Json::exception&) {
    return false;
  }
  return true;
}

std::string StreamMeta::Status(absl::Time now) const {
  if (!pending_status.empty() && ToMillis(now) < status_until_ms) {
    return pending_status;
  }
  return "ACTIVE";
}

const ShardMeta* StreamView::Route(u128 hash) const {
  // `open` is sorted by start and the open shards tile [0, 2^128-1].
  auto it = std::upper_bound(
      open.begin(), open.end(), hash,
      [this](u128 h, ShardIndex i) { return h < meta.shards[i].start; });
  if (it == open.begin()) return nullptr;
  const ShardMeta& s = meta.shards[*(it - 1)];
  return hash <= s.end ? &s : nullptr;
}

// ---- errors
// ------------------------------------------------------------------

absl::Status KinesisError(std::string_view shape, std::string_view message) {
  return AwsError(AwsService::kKinesis, shape, message);
}
absl::Status StreamNotFoundError(std::string_view name,
                                 std::string_view account) {
  return KinesisError("ResourceNotFoundException",
                      absl::StrCat("Stream ", AsAbsl(name), " under account ",
                                   AsAbsl(account), " not found."));
}
absl::Status ShardNotFoundError(std::string_view shard_id,
                                std::string_view name,
                                std::string_view account) {
  return KinesisError(
      "ResourceNotFoundException",
      absl::StrCat("Shard ", AsAbsl(shard_id), " in stream ", AsAbsl(name),
                   " under account ", AsAbsl(account), " does not exist"));
}

// ---- engine
// ------------------------------------------------------------------

StreamEngine::StreamEngine(Clock& clock, Backend& backend,
                           const BrokerOptions& options)
    : clock_(clock),
      backend_(backend),
      store_(backend.streams()),
      options_(options) {}

std::string StreamEngine::Arn(std::string_view region, std::string_view account,
                              std::string_view name) {
  return absl::StrCat("arn:aws:kinesis:", AsAbsl(region), ":", AsAbsl(account),
                      ":stream/", AsAbsl(name));
}

std::string StreamEngine::ShardId(ShardIndex shard) {
  return absl::StrFormat("shardId-%012d", shard);
}

std::shared_ptr<const StreamView> StreamEngine::Cache(StoredStream record,
                                                      StreamMeta meta) {
  auto view = std::make_shared<StreamView>();
  view->record = std::move(record);
  view->meta = std::move(meta);
  for (const ShardMeta& s : view->meta.shards) {
    if (!s.closed_ms) view->open.push_back(s.index);
  }
  std::sort(view->open.begin(), view->open.end(),
            [&](ShardIndex a, ShardIndex b) {
              return view->meta.shards[a].start < view->meta.shards[b].start;
            });
  MutexLock lock(&mu_);
  auto& slot = views_[view->record.key];
  if (slot == nullptr || slot->record.id != view->record.id ||
      slot->record.config_version <= view->record.config_version) {
    slot = view;
  }
  return view;
}

absl::StatusOr<std::shared_ptr<const StreamView>> StreamEngine::Load(
    std::string_view arn) {
  absl::StatusOr<StoredStream> record = store_.GetStream(arn);
  if (!record.ok()) {
    if (absl::IsNotFound(record.status())) {
      MutexLock lock(&mu_);
      views_.erase(AsAbsl(arn));
    }
    return record.status();
  }
  StreamMeta meta;
  if (!StreamMeta::Decode(record->config, &meta)) {
    return absl::DataLossError(
        absl::StrCat("stream ", AsAbsl(arn), ": unreadable config"));
  }
  return Cache(*std::move(record), std::move(meta));
}

absl::StatusOr<std::shared_ptr<const StreamView>> StreamEngine::Find(
    std::string_view arn) {
  {
    MutexLock lock(&mu_);
    auto it = views_.find(AsAbsl(arn));
    if (it != views_.end()) return it->second;
  }
  absl::StatusOr<std::shared_ptr<const StreamView>> view = Load(arn);
  if (absl::IsNotFound(view.status())) {
    // arn:aws:kinesis:<region>:<account>:stream/<name>
    std::string_view a = arn;
    std::string_view name = a.substr(a.find("stream/") + 7);
    std::string_view account;
    size_t p = 0;
    for (int i = 0; i < 4 && p != std::string_view::npos; ++i) {
      p = a.find(':', p + 1);
    }
    if (p != std::string_view::npos) {
      size_t q = a.find(':', p + 1);
      account = a.substr(p + 1, q - p - 1);
    }
    return StreamNotFoundError(name, account);
  }
  return view;
}

absl::StatusOr<std::shared_ptr<const StreamView>> StreamEngine::Create(
    std::string_view account, std::string_view region, std::string_view name,
    int shard_count, bool on_demand, int retention_hours,
    const std::map<std::string, std::string>& tags) {
  const absl::Time now = clock_.Now();
  StreamMeta meta;
  meta.account = std::string(account);
  meta.region = std::string(region);
  meta.name = std::string(name);
  meta.on_demand = on_demand;
  meta.retention_hours = retention_hours;
  meta.created_ms = ToMillis(now);
  meta.tags = tags;
  if (options_.strict.enabled &&
      options_.strict.kinesis_status_delay > absl::ZeroDuration()) {
    meta.pending_status = "CREATING";
    meta.status_until_ms = ToMillis(now + options_.strict.kinesis_status_delay);
  }
  // kinesis.md §1.3: step = floor(2^128 / N); the last shard ends at 2^128-1.
  const u128 n = static_cast<u128>(shard_count);
  const u128 step =
      n == 1 ? 0 : (kMaxHashKey / n + ((kMaxHashKey % n) + 1 == n ? 1 : 0));
  for (int i = 0; i < shard_count; ++i) {
    ShardMeta s;
    s.index = static_cast<ShardIndex>(i);
    s.start = static_cast<u128>(i) * step;
    s.end = i + 1 == shard_count ? kMaxHashKey
                                 : static_cast<u128>(i + 1) * step - 1;
    s.created_ms = meta.created_ms;
    meta.shards.push_back(s);
  }
  const std::string arn = Arn(region, account, name);
  absl::StatusOr<StoredStream> record =
      store_.CreateStream({.key = arn,
                           .config = meta.Encode(),
                           .shard_count = static_cast<uint32_t>(shard_count)});
  if (absl::IsAlreadyExists(record.status())) {
    return KinesisError("ResourceInUseException",
                        absl::StrCat("Stream ", AsAbsl(name), " under account ",
                                     AsAbsl(account), " already exists."));
  }
  if (!record.ok()) return record.status();
  return Cache(*std::move(record), std::move(meta));
}

absl::Status StreamEngine::Delete(const StreamView& view) {
  absl::Status s = store_.DeleteStream(view.record.id);
  {
    MutexLock lock(&mu_);
    views_.erase(view.record.key);
    last_trim_ms_.erase(view.record.id);
  }
  if (absl::IsNotFound(s)) {
    return StreamNotFoundError(view.meta.name, view.meta.account);
  }
  return s;
}

absl::StatusOr<std::shared_ptr<const StreamView>> StreamEngine::Update(
    std::string_view arn, Mutation mutate) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> view, Load(arn));
    StreamMeta meta = view->meta;
    std::vector<ShardIndex> close;
    uint32_t add = 0;
    FERRY_RETURN_IF_ERROR(mutate(meta, close, add));
    absl::StatusOr<uint64_t> version =
        store_.UpdateStream({.stream = view->record.id,
                             .expected_version = view->record.config_version,
                             .config = meta.Encode(),
                             .close_shards = close,
                             .add_shards = add});
    if (absl::IsAborted(version.status())) continue;
    if (!version.ok()) return version.status();
    StoredStream record = view->record;
    record.config_version = *version;
    record.config = meta.Encode();
    return Cache(std::move(record), std::move(meta));
  }
  return absl::AbortedError("stream update kept conflicting");
}

absl::StatusOr<std::vector<StoredStream>> StreamEngine::List(
    std::string_view account, std::string_view region) {
  const std::string prefix = Arn(region, account, "");
  return store_.ListStreams({.key_prefix = prefix, .limit = 1000000});
}

absl::Status StreamEngine::Put(std::string_view arn,
                               std::span<const PutEntry> entries,
                               std::span<absl::Status> statuses,
                               std::span<StreamPosition> positions,
                               std::shared_ptr<const StreamView>* view_out) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> view, Find(arn));
  const absl::Time now = clock_.Now();
  const size_t n = entries.size();
  absl::InlinedVector<StreamStore::AppendRecord, 16> records;
  absl::InlinedVector<size_t, 16>
      index_of;  // records[k] is entries[index_of[k]]
  absl::InlinedVector<uint64_t, 16> sequences;
  // The keys' MD5s, eight at a time (explicit hash keys replace them).
  absl::InlinedVector<u128, 16> hashes(n);
  {
    absl::InlinedVector<std::string_view, 16> keys(n);
    for (size_t i = 0; i < n; ++i) {
      if (!entries[i].explicit_hash.has_value()) {
        keys[i] = entries[i].partition_key;
      }
    }
    PartitionKeyHashes(keys, std::span<u128>(hashes.data(), n));
    for (size_t i = 0; i < n; ++i) {
      if (entries[i].explicit_hash.has_value()) {
        hashes[i] = *entries[i].explicit_hash;
      }
    }
  }
  records.reserve(n);
  index_of.reserve(n);
  for (int attempt = 0;; ++attempt) {
    records.clear();
    index_of.clear();
    for (size_t i = 0; i < n; ++i) {
      const PutEntry& e = entries[i];
      const ShardMeta* shard = view->Route(hashes[i]);
      if (shard == nullptr) {
        statuses[i] =
            KinesisError("InternalFailure", "Internal Service Failure");
        continue;
      }
      statuses[i] = absl::OkStatus();
      positions[i].shard = shard->index;
      records.push_back({.shard = shard->index,
                         .partition_key = e.partition_key,
                         .data = e.data});
      index_of.push_back(i);
    }
    if (options_.strict.enabled) {
      // Per-shard write quota: records past the second's budget fail.
      MutexLock lock(&quota_mu_);
      const int64_t second = absl::ToUnixSeconds(now);
      size_t kept = 0;
      for (size_t k = 0; k < records.size(); ++k) {
        Window& w = write_windows_[{view->record.id, records[k].shard}];
        if (w.second != second) w = Window{.second = second};
        const int64_t bytes = static_cast<int64_t>(
            records[k].partition_key.size() + records[k].data.size());
        if (w.records + 1 > options_.strict.kinesis_shard_write_records ||
            w.bytes + bytes > options_.strict.kinesis_shard_write_bytes) {
          statuses[index_of[k]] = KinesisError(
              "ProvisionedThroughputExceededException",
              absl::StrCat("Rate exceeded for shard ",
                           ShardId(records[k].shard), " in stream ",
                           view->meta.name, " under account ",
                           view->meta.account, "."));
          continue;
        }
        ++w.records;
        w.bytes += bytes;
        records[kept] = records[k];
        index_of[kept] = index_of[k];
        ++kept;
      }
      records.resize(kept);
      index_of.resize(kept);
    }
    sequences.resize(records.size());
    absl::Status s = store_.Append(
        {.stream = view->record.id,
         .records = std::span<const StreamStore::AppendRecord>(records.data(),
                                                               records.size()),
         .sequences = std::span<uint64_t>(sequences.data(), sequences.size()),
         .now = now});
    if (absl::IsFailedPrecondition(s) && attempt < 8) {
      // A shard closed under us (a reshard by another broker): reload.
      FERRY_ASSIGN_OR_RETURN(view, Load(arn));
      continue;
    }
    if (absl::IsNotFound(s)) {
      {
        MutexLock lock(&mu_);
        views_.erase(AsAbsl(arn));
      }
      return StreamNotFoundError(view->meta.name, view->meta.account);
    }
    FERRY_RETURN_IF_ERROR(s);
    for (size_t k = 0; k < records.size(); ++k) {
      positions[index_of[k]].sequence = sequences[k];
    }
    if (listener_count_.load(std::memory_order_acquire) > 0) {
      Notify(view->record.id);
    }
    if (view_out != nullptr) *view_out = view;
    return absl::OkStatus();
  }
}

void StreamEngine::MaybeTrim(const StreamView& view, absl::Time now) {
  const int64_t now_ms = ToMillis(now);
  {
    MutexLock lock(&mu_);
    int64_t& last = last_trim_ms_[view.record.id];
    if (last != 0 && now_ms - last < 60000) return;
    last = now_ms;
  }
  store_.Trim({.stream = view.record.id, .before = now - Retention(view)})
      .IgnoreError();
}

absl::StatusOr<StreamStore::ReadResult> StreamEngine::Read(
    const StreamView& view, ShardIndex shard, uint64_t from, size_t max_records,
    size_t max_bytes) {
  const absl::Time now = clock_.Now();
  MaybeTrim(view, now);
  absl::StatusOr<StreamStore::ReadResult> r =
      store_.Read({.stream = view.record.id,
                   .shard = shard,
                   .from_sequence = from,
                   .not_before = now - Retention(view),
                   .max_records = max_records,
                   .max_bytes = max_bytes});
  if (absl::IsNotFound(r.status())) {
    return ShardNotFoundError(ShardId(shard), view.meta.name,
                              view.meta.account);
  }
  return r;
}

absl::StatusOr<uint64_t> StreamEngine::SeekTime(const StreamView& view,
                                                ShardIndex shard,
                                                absl::Time at) {
  const absl::Time horizon = clock_.Now() - Retention(view);
  return store_.SeekTime(
      {.stream = view.record.id, .shard = shard, .at = std::max(at, horizon)});
}

absl::StatusOr<std::vector<ShardState>> StreamEngine::Shards(
    const StreamView& view) {
  absl::StatusOr<std::vector<ShardState>> s = store_.ListShards(view.record.id);
  if (absl::IsNotFound(s.status())) {
    return StreamNotFoundError(view.meta.name, view.meta.account);
  }
  return s;
}

absl::Status StreamEngine::ChargeRead(const StreamView& view, ShardIndex shard,
                                      size_t bytes, bool check_only) {
  if (!options_.strict.enabled) return absl::OkStatus();
  MutexLock lock(&quota_mu_);
  const int64_t second = absl::ToUnixSeconds(clock_.Now());
  Window& w = read_windows_[{view.record.id, shard}];
  if (w.second != second) w = Window{.second = second};
  if (check_only) {
    if (w.calls + 1 > options_.strict.kinesis_shard_read_calls ||
        w.bytes >= options_.strict.kinesis_shard_read_bytes) {
      return KinesisError(
          "ProvisionedThroughputExceededException",
          absl::StrCat("Rate exceeded for shard ", ShardId(shard),
                       " in stream ", view.meta.name, " under account ",
                       view.meta.account, "."));
    }
    ++w.calls;
    return absl::OkStatus();
  }
  w.bytes += static_cast<int64_t>(bytes);
  return absl::OkStatus();
}

absl::Status StreamEngine::RunMaintenance() {
  absl::StatusOr<std::vector<StoredStream>> all =
      store_.ListStreams({.limit = 1000000});
  FERRY_RETURN_IF_ERROR(all.status());
  const absl::Time now = clock_.Now();
  for (StoredStream& record : *all) {
    StreamMeta meta;
    if (!StreamMeta::Decode(record.config, &meta)) continue;
    absl::Status s =
        store_
            .Trim({.stream = record.id,
                   .before = now - absl::Hours(meta.retention_hours)})
            .status();
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  Notify(0);
  return absl::OkStatus();
}

absl::Status StreamEngine::Reset() {
  MutexLock lock(&mu_);
  views_.clear();
  last_trim_ms_.clear();
  return absl::OkStatus();
}

void StreamEngine::AddListener(StreamId stream,
                               std::shared_ptr<StreamListener> listener) {
  MutexLock lock(&mu_);
  listeners_.emplace(stream, std::move(listener));
  listener_count_.store(static_cast<int>(listeners_.size()),
                        std::memory_order_release);
}

void StreamEngine::Notify(StreamId stream) {
  std::vector<std::shared_ptr<StreamListener>> targets;
  {
    MutexLock lock(&mu_);
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (it->second->Done()) {
        it = listeners_.erase(it);
        continue;
      }
      if (stream == 0 || it->first == stream) targets.push_back(it->second);
      ++it;
    }
    listener_count_.store(static_cast<int>(listeners_.size()),
                          std::memory_order_release);
  }
  for (auto& l : targets) l->OnAppend();
}

}  // namespace ferry::internal
