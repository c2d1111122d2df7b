// The memory backend's StreamStore. Per shard, records live in a sequence of
// chunks, each a slotted page: the partition keys and data are copied in back
// to back from the front, and a fixed 24-byte slot per record (arrival, offset,
// sizes) grows down from the back. So an append costs one copy of the bytes
// and a slot write, with no allocation per record, and a record is found by
// sequence number in O(log chunks). Trimming advances the shard's first
// sequence and frees the chunks no retained record is in.
//
// Chunk sizes: a shard's first chunk has 64 KiB and each new one doubles up to
// 2 MiB, so a stream with many small shards stays small while a busy shard
// writes into 2 MiB chunks. Those are 2 MiB-aligned and, on Linux, advised as
// transparent huge pages (MADV_HUGEPAGE; honoured when the system allows THP
// for advised memory), so filling one takes one page fault instead of 512
// (on that fault the kernel may compact memory to find a huge page, as its
// THP "defrag" setting says, and falls back to small pages if it cannot).
// Freed 2 MiB chunks are kept for reuse in a small pool (at most 16 chunks,
// 32 MiB, and no more than an eighth of the cap when one is set), so a stream
// trimmed by retention in steady state, or streams created and deleted in
// turn, write into memory that is already mapped; the rest goes back to the
// system at once. Nothing runs in the background.
//
// Memory: every record is charged (key + data + 32 bytes of overhead) against
// the backend's cap (Context, shared with the queues) when appended and
// refunded when trimmed or deleted; an append past the cap is refused whole
// with kResourceExhausted, nothing is ever dropped to make room.
//
// Thread safety: one mutex per stream guards its shards (taken once per
// Append batch); the catalog and the chunk pool have their own mutexes.
// Different streams never contend except on the pool, which is taken once per
// 2 MiB chunk.
#ifndef FERRY_BACKENDS_MEMORY_SRC_STREAM_STORE_H_
#define FERRY_BACKENDS_MEMORY_SRC_STREAM_STORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "ferry/stream_store.h"
#include "ferry/sync.h"
#include "queue_base.h"

namespace ferry::memory_internal {

class MemoryStreamStore final : public StreamStore {
 public:
  explicit MemoryStreamStore(Context* ctx);
  ~MemoryStreamStore() override;

  absl::StatusOr<StoredStream> CreateStream(
      const CreateStreamParams& p) override;
  absl::StatusOr<StoredStream> GetStream(std::string_view key) override;
  absl::StatusOr<std::vector<StoredStream>> ListStreams(
      const ListStreamsParams& p) override;
  absl::Status DeleteStream(StreamId stream) override;
  absl::StatusOr<uint64_t> UpdateStream(const UpdateStreamParams& p) override;
  absl::StatusOr<std::vector<ShardState>> ListShards(StreamId stream) override;
  absl::Status Append(const AppendParams& p) override;
  absl::StatusOr<ReadResult> Read(const ReadParams& p) override;
  absl::StatusOr<uint64_t> SeekTime(const SeekParams& p) override;
  absl::StatusOr<int64_t> Trim(const TrimParams& p) override;

  // Drops every stream (ids keep counting).
  void Reset();

 private:
  // A record's slot, at the back of its chunk.
  struct Entry {
    int64_t arrival_ms;
    uint32_t offset;  // of the key; the data follows it
    uint32_t key_size;
    uint32_t data_size;
  };
  struct Chunk {
    char* bytes = nullptr;
    size_t capacity = 0;
    size_t used = 0;         // record bytes, from the front
    uint32_t count = 0;      // slots, from the back
    uint64_t first_seq = 0;  // the sequence number of slot 0
    Entry& slot(uint32_t i) const {
      return reinterpret_cast<Entry*>(bytes + capacity)[-1 - int64_t{i}];
    }
    size_t room() const { return capacity - used - count * sizeof(Entry); }
  };
  struct Shard {
    bool closed = false;
    uint64_t first_sequence = 1;  // the oldest retained record
    uint64_t next_sequence = 1;
    int64_t last_arrival_ms = INT64_MIN;
    size_t next_chunk_bytes = 0;  // 0: the smallest
    // In sequence order; holds every record from chunks.front().first_seq on
    // (those below first_sequence are trimmed, waiting for their chunk to go).
    std::deque<Chunk> chunks;
  };
  struct Stream {
    StreamId id = 0;
    std::string key;
    Mutex mu;
    std::string config ABSL_GUARDED_BY(mu);
    uint64_t version ABSL_GUARDED_BY(mu) = 1;
    bool deleted ABSL_GUARDED_BY(mu) = false;
    std::vector<std::unique_ptr<Shard>> shards ABSL_GUARDED_BY(mu);
    int64_t charged ABSL_GUARDED_BY(mu) = 0;
  };

  std::shared_ptr<Stream> Find(StreamId id);
  static StoredStream RecordOf(Stream& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);
  static ShardState StateOf(const Shard& shard);
  // Drops the records of `shard` that arrived before `before_ms`; returns
  // how many and adds their charge to `*bytes`.
  int64_t TrimShard(Shard& shard, int64_t before_ms, int64_t* bytes);
  // The chunk holding retained record `seq` (first_sequence <= seq <
  // next_sequence).
  static size_t ChunkOf(const Shard& shard, uint64_t seq);
  static const Entry& EntryAt(const Shard& shard, uint64_t seq);
  // The first retained record arriving at or after `ms`; next_sequence if
  // none.
  static uint64_t LowerBoundTime(const Shard& shard, int64_t ms);
  // Appends a chunk with room for `need` bytes (record and slot).
  void AddChunk(Shard& shard, size_t need);
  void ReleaseChunks(Shard& shard);
  void ClearStream(Stream& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);

  // Chunk memory: 2 MiB chunks are huge-page-advised and pooled, smaller
  // (and oversized) ones come from the heap.
  char* AllocateChunk(size_t capacity);
  void FreeChunk(char* bytes, size_t capacity);

  Context* const ctx_;
  Mutex mu_;
  StreamId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::shared_ptr<Stream>, std::less<>> by_key_
      ABSL_GUARDED_BY(mu_);
  std::map<StreamId, std::shared_ptr<Stream>> by_id_ ABSL_GUARDED_BY(mu_);
  const size_t pool_max_;  // chunks
  Mutex pool_mu_;
  std::vector<char*> pool_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_STREAM_STORE_H_
