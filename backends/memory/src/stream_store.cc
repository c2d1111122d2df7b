#include "stream_store.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ferry::memory_internal {
namespace {

constexpr size_t kMinChunkBytes = 64 << 10;
constexpr size_t kMaxChunkBytes = 2 << 20;  // one huge page
constexpr size_t kPoolChunks = 16;
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

MemoryStreamStore::MemoryStreamStore(Context* ctx)
    : ctx_(ctx),
      pool_max_(ctx->accounting()
                    ? std::min<size_t>(kPoolChunks,
                                       static_cast<size_t>(ctx->max_bytes) / 8 /
                                           kMaxChunkBytes)
                    : kPoolChunks) {}

MemoryStreamStore::~MemoryStreamStore() {
  Reset();
  MutexLock lock(&pool_mu_);
  for (char* bytes : pool_) FreeChunk(bytes, 0);
  pool_.clear();
}

char* MemoryStreamStore::AllocateChunk(size_t capacity) {
  if (capacity != kMaxChunkBytes) return new char[capacity];
  {
    MutexLock lock(&pool_mu_);
    if (!pool_.empty()) {
      char* bytes = pool_.back();
      pool_.pop_back();
      return bytes;
    }
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Map twice the size and keep the 2 MiB-aligned middle, so the chunk is
  // exactly one huge page.
  void* raw = ::mmap(nullptr, 2 * kMaxChunkBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned =
      (start + kMaxChunkBytes - 1) & ~uintptr_t{kMaxChunkBytes - 1};
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = start + 2 * kMaxChunkBytes;
  if (end > aligned + kMaxChunkBytes) {
    ::munmap(reinterpret_cast<void*>(aligned + kMaxChunkBytes),
             end - aligned - kMaxChunkBytes);
  }
  ::madvise(reinterpret_cast<void*>(aligned), kMaxChunkBytes, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
#else
  return static_cast<char*>(
      ::operator new[](kMaxChunkBytes, std::align_val_t{kMaxChunkBytes}));
#endif
}

// capacity 0: a pooled chunk being dropped for good.
void MemoryStreamStore::FreeChunk(char* bytes, size_t capacity) {
  if (capacity != kMaxChunkBytes && capacity != 0) {
    delete[] bytes;
    return;
  }
  if (capacity != 0) {
    MutexLock lock(&pool_mu_);
    if (pool_.size() < pool_max_) {
      pool_.push_back(bytes);
      return;
    }
  }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  ::munmap(bytes, kMaxChunkBytes);
#else
  ::operator delete[](bytes, std::align_val_t{kMaxChunkBytes});
#endif
}

void MemoryStreamStore::ReleaseChunks(Shard& shard) {
  for (Chunk& c : shard.chunks) FreeChunk(c.bytes, c.capacity);
  shard.chunks.clear();
}

void MemoryStreamStore::AddChunk(Shard& shard, size_t need) {
  if (!shard.chunks.empty() && shard.chunks.back().count == 0) {
    // An emptied chunk too small for this record: replace it.
    FreeChunk(shard.chunks.back().bytes, shard.chunks.back().capacity);
    shard.chunks.pop_back();
  }
  const size_t size = std::max(shard.next_chunk_bytes, kMinChunkBytes);
  shard.next_chunk_bytes = std::min(2 * size, kMaxChunkBytes);
  Chunk c;
  c.capacity = std::max(size, (need + 4095) & ~size_t{4095});
  c.bytes = AllocateChunk(c.capacity);
  c.first_seq = shard.next_sequence;
  shard.chunks.push_back(c);
}

size_t MemoryStreamStore::ChunkOf(const Shard& shard, uint64_t seq) {
  auto it = std::upper_bound(
      shard.chunks.begin(), shard.chunks.end(), seq,
      [](uint64_t s, const Chunk& c) { return s < c.first_seq; });
  return static_cast<size_t>(it - shard.chunks.begin()) - 1;
}

const MemoryStreamStore::Entry& MemoryStreamStore::EntryAt(const Shard& shard,
                                                           uint64_t seq) {
  const Chunk& c = shard.chunks[ChunkOf(shard, seq)];
  return c.slot(static_cast<uint32_t>(seq - c.first_seq));
}

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
                    .next_sequence = shard.next_sequence,
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
  for (auto& shard : s.shards) ReleaseChunks(*shard);
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
        shard.chunks.back().room() < size + sizeof(Entry)) {
      AddChunk(shard, size + sizeof(Entry));
    }
    Chunk& c = shard.chunks.back();
    char* dst = c.bytes + c.used;
    if (!r.partition_key.empty()) {
      std::memcpy(dst, r.partition_key.data(), r.partition_key.size());
    }
    if (!r.data.empty()) {
      std::memcpy(dst + r.partition_key.size(), r.data.data(), r.data.size());
    }
    shard.last_arrival_ms = std::max(shard.last_arrival_ms, now_ms);
    c.slot(c.count) =
        Entry{.arrival_ms = shard.last_arrival_ms,
              .offset = static_cast<uint32_t>(c.used),
              .key_size = static_cast<uint32_t>(r.partition_key.size()),
              .data_size = static_cast<uint32_t>(r.data.size())};
    c.used += size;
    ++c.count;
    p.sequences[i] = shard.next_sequence++;
  }
  return absl::OkStatus();
}

uint64_t MemoryStreamStore::LowerBoundTime(const Shard& shard, int64_t ms) {
  uint64_t lo = shard.first_sequence, hi = shard.next_sequence;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (EntryAt(shard, mid).arrival_ms < ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
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
  uint64_t seq =
      std::clamp(p.from_sequence, shard.first_sequence, shard.next_sequence);
  if (p.not_before != absl::InfinitePast()) {
    seq = std::max(seq, LowerBoundTime(shard, ToMillis(p.not_before)));
  }
  const uint64_t limit =
      seq + std::min<uint64_t>(shard.next_sequence - seq, p.max_records);
  if (seq < limit) {
    result.records.reserve(static_cast<size_t>(limit - seq));
    size_t k = ChunkOf(shard, seq);
    size_t bytes = 0;
    for (; seq < limit; ++seq) {
      while (seq >= shard.chunks[k].first_seq + shard.chunks[k].count) ++k;
      const Chunk& c = shard.chunks[k];
      const Entry& e = c.slot(static_cast<uint32_t>(seq - c.first_seq));
      const size_t size = e.key_size + e.data_size;
      if (!result.records.empty() && bytes + size > p.max_bytes) break;
      bytes += size;
      const char* src = c.bytes + e.offset;
      StoredStreamRecord& out = result.records.emplace_back();
      out.sequence = seq;
      out.arrival = absl::FromUnixMillis(e.arrival_ms);
      out.partition_key.assign(src, e.key_size);
      out.data.assign(src + e.key_size, e.data_size);
    }
  }
  result.next_sequence = std::max(p.from_sequence, seq);
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
  return LowerBoundTime(*stream->shards[p.shard], ToMillis(p.at));
}

int64_t MemoryStreamStore::TrimShard(Shard& shard, int64_t before_ms,
                                     int64_t* bytes) {
  const uint64_t keep = LowerBoundTime(shard, before_ms);
  const int64_t n = static_cast<int64_t>(keep - shard.first_sequence);
  if (n == 0) return 0;
  size_t k = ChunkOf(shard, shard.first_sequence);
  for (uint64_t seq = shard.first_sequence; seq < keep; ++seq) {
    while (seq >= shard.chunks[k].first_seq + shard.chunks[k].count) ++k;
    const Chunk& c = shard.chunks[k];
    const Entry& e = c.slot(static_cast<uint32_t>(seq - c.first_seq));
    *bytes += static_cast<int64_t>(e.key_size + e.data_size) + kEntryOverhead;
  }
  shard.first_sequence = keep;
  // Free the chunks no retained record is in; the last one stays (emptied)
  // to take new records.
  while (shard.chunks.size() > 1 &&
         shard.chunks.front().first_seq + shard.chunks.front().count <= keep) {
    FreeChunk(shard.chunks.front().bytes, shard.chunks.front().capacity);
    shard.chunks.pop_front();
  }
  if (keep == shard.next_sequence && !shard.chunks.empty()) {
    Chunk& c = shard.chunks.back();
    c.used = 0;
    c.count = 0;
    c.first_seq = keep;
  }
  return n;
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
