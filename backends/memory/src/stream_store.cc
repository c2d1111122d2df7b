#include "stream_store.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ferry::memory_internal {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr int64_t kEntryOverhead = 32;

int64_t ToMillis(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixMillis(t);
}
absl::Time FromMillis(int64_t ms) {
  if (ms == INT64_MIN) return absl::InfinitePast();
  return absl::FromUnixMillis(ms);
}

absl::Status StreamNotFound(StreamId id) {
  return absl::NotFoundError(absl::StrCat("stream ", id, " does not exist"));
}

}  // namespace

MemoryStreamStore::~MemoryStreamStore() { Reset(); }

std::shared_ptr<MemoryStreamStore::Stream> MemoryStreamStore::Find(
    StreamId id) {
  MutexLock lock(&mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

StoredStream MemoryStreamStore::RecordOf(Stream& s) {
  return StoredStream{.id = s.id,
                      .key = s.key,
                      .config = s.config,
                      .config_version = s.version};
}

ShardState MemoryStreamStore::StateOf(const Shard& shard) {
  return ShardState{.shard = 0,
                    .closed = shard.closed,
                    .first_sequence = shard.first_sequence,
                    .next_sequence = shard.next_sequence(),
                    .last_arrival = FromMillis(shard.last_arrival_ms)};
}

absl::StatusOr<StoredStream> MemoryStreamStore::CreateStream(
    const CreateStreamParams& p) {
  auto stream = std::make_shared<Stream>();
  MutexLock lock(&mu_);
  if (by_key_.find(p.key) != by_key_.end()) {
    return absl::AlreadyExistsError(
        absl::StrCat("stream ", std::string(p.key), " already exists"));
  }
  stream->id = next_id_++;
  stream->key = std::string(p.key);
  MutexLock slock(&stream->mu);
  stream->config = std::string(p.config);
  for (uint32_t i = 0; i < p.shard_count; ++i) {
    stream->shards.push_back(std::make_unique<Shard>());
  }
  by_key_.emplace(stream->key, stream);
  by_id_.emplace(stream->id, stream);
  return RecordOf(*stream);
}

absl::StatusOr<StoredStream> MemoryStreamStore::GetStream(
    std::string_view key) {
  std::shared_ptr<Stream> stream;
  {
    MutexLock lock(&mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      return absl::NotFoundError(
          absl::StrCat("stream ", std::string(key), " does not exist"));
    }
    stream = it->second;
  }
  MutexLock slock(&stream->mu);
  return RecordOf(*stream);
}

absl::StatusOr<std::vector<StoredStream>> MemoryStreamStore::ListStreams(
    const ListStreamsParams& p) {
  std::vector<std::shared_ptr<Stream>> found;
  {
    MutexLock lock(&mu_);
    auto it = p.start_after.empty() ? by_key_.lower_bound(p.key_prefix)
                                    : by_key_.upper_bound(p.start_after);
    for (; it != by_key_.end() && found.size() < p.limit; ++it) {
      if (it->first.compare(0, p.key_prefix.size(), p.key_prefix) != 0) {
        if (it->first > p.key_prefix) break;
        continue;
      }
      found.push_back(it->second);
    }
  }
  std::vector<StoredStream> out;
  for (auto& s : found) {
    MutexLock slock(&s->mu);
    out.push_back(RecordOf(*s));
  }
  return out;
}

void MemoryStreamStore::ClearStream(Stream& s) {
  s.deleted = true;
  s.shards.clear();
  ctx_->Refund(s.charged);
  s.charged = 0;
}

absl::Status MemoryStreamStore::DeleteStream(StreamId id) {
  std::shared_ptr<Stream> stream;
  {
    MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return StreamNotFound(id);
    stream = it->second;
    by_id_.erase(it);
    by_key_.erase(stream->key);
  }
  MutexLock slock(&stream->mu);
  ClearStream(*stream);
  return absl::OkStatus();
}

void MemoryStreamStore::Reset() {
  std::map<StreamId, std::shared_ptr<Stream>> all;
  {
    MutexLock lock(&mu_);
    all.swap(by_id_);
    by_key_.clear();
  }
  for (auto& [id, s] : all) {
    MutexLock slock(&s->mu);
    ClearStream(*s);
  }
}

absl::StatusOr<uint64_t> MemoryStreamStore::UpdateStream(
    const UpdateStreamParams& p) {
  std::shared_ptr<Stream> stream = Find(p.stream);
  if (stream == nullptr) return StreamNotFound(p.stream);
  MutexLock slock(&stream->mu);
  if (stream->deleted) return StreamNotFound(p.stream);
  if (stream->version != p.expected_version) {
    return absl::AbortedError("stream config version mismatch");
  }
  for (ShardIndex i : p.close_shards) {
    if (i >= stream->shards.size()) {
      return absl::NotFoundError(absl::StrCat("shard ", i, " does not exist"));
    }
    if (stream->shards[i]->closed) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard ", i, " is closed"));
    }
  }
  for (ShardIndex i : p.close_shards) stream->shards[i]->closed = true;
  for (uint32_t i = 0; i < p.add_shards; ++i) {
    stream->shards.push_back(std::make_unique<Shard>());
  }
  stream->config = std::string(p.config);
  return ++stream->version;
}

absl::StatusOr<std::vector<ShardState>> MemoryStreamStore::ListShards(
    StreamId id) {
  std::shared_ptr<Stream> stream = Find(id);
  if (stream == nullptr) return StreamNotFound(id);
  MutexLock slock(&stream->mu);
  if (stream->deleted) return StreamNotFound(id);
  std::vector<ShardState> out;
  out.reserve(stream->shards.size());
  for (size_t i = 0; i < stream->shards.size(); ++i) {
    out.push_back(StateOf(*stream->shards[i]));
    out.back().shard = static_cast<ShardIndex>(i);
  }
  return out;
}

absl::Status MemoryStreamStore::Append(const AppendParams& p) {
  std::shared_ptr<Stream> stream = Find(p.stream);
  if (stream == nullptr) return StreamNotFound(p.stream);
  MutexLock slock(&stream->mu);
  if (stream->deleted) return StreamNotFound(p.stream);
  int64_t charge = 0;
  for (const AppendRecord& r : p.records) {
    if (r.shard >= stream->shards.size()) {
      return absl::NotFoundError(
          absl::StrCat("shard ", r.shard, " does not exist"));
    }
    if (stream->shards[r.shard]->closed) {
      return absl::FailedPreconditionError(
          absl::StrCat("shard ", r.shard, " is closed"));
    }
    charge += static_cast<int64_t>(r.partition_key.size() + r.data.size()) +
              kEntryOverhead;
  }
  if (ctx_->accounting() && !ctx_->TryCharge(charge)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("memory cap of ", ctx_->max_bytes, " bytes reached"));
  }
  if (!ctx_->accounting()) charge = 0;
  stream->charged += charge;
  const int64_t now_ms = ToMillis(p.now);
  for (size_t i = 0; i < p.records.size(); ++i) {
    const AppendRecord& r = p.records[i];
    Shard& shard = *stream->shards[r.shard];
    const size_t size = r.partition_key.size() + r.data.size();
    if (shard.chunks.empty() ||
        shard.chunks.back().capacity - shard.chunks.back().used < size) {
      Chunk c;
      c.capacity = std::max(kChunkBytes, size);
      c.bytes.reset(new char[c.capacity]);
      shard.chunks.push_back(std::move(c));
    }
    Chunk& c = shard.chunks.back();
    char* dst = c.bytes.get() + c.used;
    if (!r.partition_key.empty()) {
      std::memcpy(dst, r.partition_key.data(), r.partition_key.size());
    }
    if (!r.data.empty()) {
      std::memcpy(dst + r.partition_key.size(), r.data.data(), r.data.size());
    }
    shard.last_arrival_ms = std::max(shard.last_arrival_ms, now_ms);
    shard.entries.push_back(
        Entry{.chunk = shard.first_chunk + shard.chunks.size() - 1,
              .offset = static_cast<uint32_t>(c.used),
              .key_size = static_cast<uint32_t>(r.partition_key.size()),
              .data_size = static_cast<uint32_t>(r.data.size()),
              .arrival_ms = shard.last_arrival_ms});
    c.used += size;
    p.sequences[i] = shard.next_sequence() - 1;
  }
  return absl::OkStatus();
}

size_t MemoryStreamStore::LowerBoundTime(const Shard& shard, int64_t ms) {
  auto it = std::lower_bound(
      shard.entries.begin(), shard.entries.end(), ms,
      [](const Entry& e, int64_t t) { return e.arrival_ms < t; });
  return static_cast<size_t>(it - shard.entries.begin());
}

absl::StatusOr<StreamStore::ReadResult> MemoryStreamStore::Read(
    const ReadParams& p) {
  std::shared_ptr<Stream> stream = Find(p.stream);
  if (stream == nullptr) return StreamNotFound(p.stream);
  MutexLock slock(&stream->mu);
  if (stream->deleted) return StreamNotFound(p.stream);
  if (p.shard >= stream->shards.size()) {
    return absl::NotFoundError(
        absl::StrCat("shard ", p.shard, " does not exist"));
  }
  const Shard& shard = *stream->shards[p.shard];
  ReadResult result;
  result.shard = StateOf(shard);
  result.shard.shard = p.shard;
  size_t index = 0;
  if (p.from_sequence > shard.first_sequence) {
    index = std::min<uint64_t>(p.from_sequence - shard.first_sequence,
                               shard.entries.size());
  }
  if (p.not_before != absl::InfinitePast()) {
    index = std::max(index, LowerBoundTime(shard, ToMillis(p.not_before)));
  }
  size_t bytes = 0;
  const size_t limit = std::min(shard.entries.size(), index + p.max_records);
  for (; index < limit; ++index) {
    const Entry& e = shard.entries[index];
    const size_t size = e.key_size + e.data_size;
    if (!result.records.empty() && bytes + size > p.max_bytes) break;
    bytes += size;
    const char* src =
        shard.chunks[e.chunk - shard.first_chunk].bytes.get() + e.offset;
    StoredStreamRecord& out = result.records.emplace_back();
    out.sequence = shard.first_sequence + index;
    out.arrival = absl::FromUnixMillis(e.arrival_ms);
    out.partition_key.assign(src, e.key_size);
    out.data.assign(src + e.key_size, e.data_size);
  }
  result.next_sequence =
      std::max(p.from_sequence, shard.first_sequence + index);
  return result;
}

absl::StatusOr<uint64_t> MemoryStreamStore::SeekTime(const SeekParams& p) {
  std::shared_ptr<Stream> stream = Find(p.stream);
  if (stream == nullptr) return StreamNotFound(p.stream);
  MutexLock slock(&stream->mu);
  if (stream->deleted) return StreamNotFound(p.stream);
  if (p.shard >= stream->shards.size()) {
    return absl::NotFoundError(
        absl::StrCat("shard ", p.shard, " does not exist"));
  }
  const Shard& shard = *stream->shards[p.shard];
  return shard.first_sequence + LowerBoundTime(shard, ToMillis(p.at));
}

int64_t MemoryStreamStore::TrimShard(Shard& shard, int64_t before_ms,
                                     int64_t* bytes) {
  const size_t n = LowerBoundTime(shard, before_ms);
  for (size_t i = 0; i < n; ++i) {
    const Entry& e = shard.entries.front();
    *bytes += static_cast<int64_t>(e.key_size + e.data_size) + kEntryOverhead;
    shard.entries.pop_front();
    ++shard.first_sequence;
  }
  // Free the chunks no remaining entry points into (the last chunk stays to
  // take new records).
  const uint64_t keep_from = shard.entries.empty()
                                 ? shard.first_chunk + shard.chunks.size() - 1
                                 : shard.entries.front().chunk;
  while (!shard.chunks.empty() && shard.first_chunk < keep_from) {
    shard.chunks.pop_front();
    ++shard.first_chunk;
  }
  if (shard.entries.empty() && !shard.chunks.empty()) {
    shard.chunks.back().used = 0;
  }
  return static_cast<int64_t>(n);
}

absl::StatusOr<int64_t> MemoryStreamStore::Trim(const TrimParams& p) {
  std::shared_ptr<Stream> stream = Find(p.stream);
  if (stream == nullptr) return StreamNotFound(p.stream);
  MutexLock slock(&stream->mu);
  if (stream->deleted) return StreamNotFound(p.stream);
  const int64_t before_ms = ToMillis(p.before);
  int64_t trimmed = 0, bytes = 0;
  for (auto& shard : stream->shards) {
    trimmed += TrimShard(*shard, before_ms, &bytes);
  }
  if (ctx_->accounting()) {
    bytes = std::min(bytes, stream->charged);
    stream->charged -= bytes;
    ctx_->Refund(bytes);
  }
  return trimmed;
}

}  // namespace ferry::memory_internal
