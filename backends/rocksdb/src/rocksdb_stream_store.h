// The RocksDB backend's StreamStore. Records live in their own column family
// ("streams"), keyed so that a shard's records are contiguous and in sequence
// order:
//
//   'G'                          -> next stream id (fixed64)
//   'T' stream                   -> stream record (key, config, version,
//                                   shard count, closed shards)
//   'C' stream shard             -> next sequence (fixed64), last arrival ms
//   'R' stream shard sequence    -> record: arrival ms (fixed64), key size
//                                   (fixed32), partition key, data
//
// (stream and sequence fixed64, shard fixed32, all big-endian). An append
// writes every record and the counters of the shards it touched in one
// WriteBatch, so a record is never stored without the counter that covers
// it. Trim finds each shard's cut by a binary search on arrival times
// (arrivals never decrease within a shard), writes one DeleteRange per shard
// and compacts that range, so the space is back when Trim returns. Memory
// holds the catalog and one small struct per shard; reads load only the
// records they return.
//
// Thread safety: one mutex serialises catalog changes and appends (a memtable
// write); reads take no lock of this store beyond a short catalog lookup.
#ifndef FERRY_BACKENDS_ROCKSDB_SRC_ROCKSDB_STREAM_STORE_H_
#define FERRY_BACKENDS_ROCKSDB_SRC_ROCKSDB_STREAM_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "ferry/stream_store.h"
#include "ferry/sync.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace ferry::rocksdb_internal {

inline constexpr char kStreamsColumnFamily[] = "streams";

// What the stream store needs from the backend that owns the database (which
// may close and reopen it after a failed write).
class StreamDbHost {
 public:
  virtual ~StreamDbHost() = default;
  // Runs `fn` with the open database and the streams column family; both
  // stay valid during the call. Must not call Commit from inside.
  virtual absl::Status WithDb(absl::FunctionRef<absl::Status(
                                  rocksdb::DB&, rocksdb::ColumnFamilyHandle&)>
                                  fn) = 0;
  // Builds a batch with `fill` (given the streams column family) and writes
  // it; `adds_data` checks the disk cap first. Returns the ticket that
  // WaitDurable needs.
  virtual absl::Status Commit(
      bool adds_data,
      absl::FunctionRef<void(rocksdb::WriteBatch&,
                             rocksdb::ColumnFamilyHandle*)>
          fill,
      uint64_t* ticket) = 0;
  virtual absl::Status WaitDurable(uint64_t ticket) = 0;
  // Compacts [begin, end) of the streams column family.
  virtual void CompactStreamRange(const std::string& begin,
                                  const std::string& end) = 0;
};

class RocksDbStreamStore final : public StreamStore {
 public:
  explicit RocksDbStreamStore(StreamDbHost* host) : host_(host) {}

  // Loads the catalog from the database (at open).
  absl::Status Load();
  // Deletes every stream (the id counter stays).
  absl::Status Reset();

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

 private:
  struct Shard {
    bool closed = false;
    uint64_t first_sequence = 1;
    uint64_t next_sequence = 1;
    int64_t last_arrival_ms = INT64_MIN;
  };
  struct Stream {
    StoredStream record;
    std::vector<Shard> shards;
  };

  static std::string EncodeStream(const Stream& s);
  static bool DecodeStream(std::string_view in, Stream* s);
  static ShardState StateOf(ShardIndex i, const Shard& s);
  // The first sequence in [lo, hi) of `shard` whose arrival is >= ms (hi if
  // none), by binary search over the stored records.
  absl::StatusOr<uint64_t> LowerBoundTime(StreamId stream, ShardIndex shard,
                                          uint64_t lo, uint64_t hi, int64_t ms);
  absl::Status LoadShardBounds(StreamId id, Stream* s);

  StreamDbHost* const host_;
  Mutex mu_;
  StreamId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<StreamId, Stream> streams_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StreamId, std::less<>> by_key_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ferry::rocksdb_internal

#endif  // FERRY_BACKENDS_ROCKSDB_SRC_ROCKSDB_STREAM_STORE_H_
