// The memory backend's StreamStore: per shard, a total order of records kept
// as an index (a deque of small fixed-size entries) over a chunked byte log
// (1 MiB chunks; partition keys and data are copied in back to back), so an
// append costs one copy of the bytes and no allocation per record. Trimming
// pops entries from the front and frees the chunks no entry points into.
//
// Memory: every record is charged (key + data + index entry) against the
// backend's cap (Context, shared with the queues) when appended and refunded
// when trimmed or deleted; an append past the cap is refused whole with
// kResourceExhausted, nothing is ever dropped to make room.
//
// Thread safety: one mutex per stream guards its shards; the catalog has its
// own mutex. Different streams never contend.
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
  explicit MemoryStreamStore(Context* ctx) : ctx_(ctx) {}
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
  struct Entry {
    uint64_t chunk;  // absolute chunk number
    uint32_t offset;
    uint32_t key_size;
    uint32_t data_size;
    int64_t arrival_ms;
  };
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0;
    size_t used = 0;
  };
  struct Shard {
    bool closed = false;
    uint64_t first_sequence = 1;  // sequence of entries.front()
    int64_t last_arrival_ms = INT64_MIN;
    std::deque<Entry> entries;
    std::deque<Chunk> chunks;
    uint64_t first_chunk = 0;  // absolute number of chunks.front()
    uint64_t next_sequence() const { return first_sequence + entries.size(); }
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
  // Drops the front entries of `shard` that arrived before `before_ms`;
  // returns how many and adds their charge to `*bytes`.
  static int64_t TrimShard(Shard& shard, int64_t before_ms, int64_t* bytes);
  // Index of the first entry arriving at or after `ms`.
  static size_t LowerBoundTime(const Shard& shard, int64_t ms);
  void ClearStream(Stream& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu);

  Context* const ctx_;
  Mutex mu_;
  StreamId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::shared_ptr<Stream>, std::less<>> by_key_
      ABSL_GUARDED_BY(mu_);
  std::map<StreamId, std::shared_ptr<Stream>> by_id_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ferry::memory_internal

#endif  // FERRY_BACKENDS_MEMORY_SRC_STREAM_STORE_H_
