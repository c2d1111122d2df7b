// -----------------------------------------------------------------------------
// File: ferry/stream_store.h
// -----------------------------------------------------------------------------
//
// The storage interface of sharded, retained record logs (Kinesis streams),
// which every backend implements beside its QueueStore (ferry/backend.h).
// Core decides everything AWS-shaped (hash key ranges, which shard a record
// goes to, the 56-digit sequence numbers, iterators, retention periods,
// resharding plans) and keeps it in the stream's opaque `config`; the store
// keeps, per shard, a totally ordered log of records and applies core's
// transitions atomically:
//   * Append: a batch of records to any shards of one stream; each record gets
//     the next sequence number of its shard in the same atomic step that
//     stores it (sequence numbers start at 1, are dense and never reused
//     within a shard, even after trimming).
//   * Read: a shard's records from a sequence number on, bounded by a count
//     and a byte budget.
//   * Trim: drops the records that arrived before a time (retention), giving
//     their memory or disk space back.
//   * UpdateStream: replaces the config (compare-and-swap on its version),
//     closes shards and adds new ones in one step (resharding); a closed shard
//     refuses appends and stays readable.
//
// Contract for implementers: as ferry/backend.h (concurrency, no clock reads,
// opaque keys, values not pointers, "nothing available" is OK and empty).
// Arrival times never decrease within a shard: a record appended with a `now`
// earlier than the shard's last arrival gets the last arrival instead, so
// that every shard is ordered by time as well as by sequence number.
// Errors: kNotFound (stream or shard), kAlreadyExists (CreateStream),
// kAborted (config version mismatch), kFailedPrecondition (append to a closed
// shard, closing a closed shard), kResourceExhausted (memory or disk cap),
// kUnavailable / kDataLoss (storage). A failed call changes nothing.
#ifndef FERRY_STREAM_STORE_H_
#define FERRY_STREAM_STORE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"

namespace ferry {

// Assigned by the store at creation and never reused within its lifetime, so
// an iterator of a deleted stream never reads a re-created one.
using StreamId = uint64_t;
// A shard's index within its stream: 0, 1, ... in creation order.
using ShardIndex = uint32_t;

struct StoredStream {
  StreamId id = 0;
  std::string key{};     // the ARN
  std::string config{};  // core's encoding; opaque here
  uint64_t config_version = 0;
};

// The store's view of one shard.
struct ShardState {
  ShardIndex shard = 0;
  bool closed = false;
  // The oldest retained record's sequence number; == next_sequence when the
  // shard holds no record.
  uint64_t first_sequence = 1;
  // The sequence number the next record will get (for a closed shard: one
  // past its last record).
  uint64_t next_sequence = 1;
  // Arrival of the newest record ever appended; InfinitePast if none.
  absl::Time last_arrival = absl::InfinitePast();
};

// A record as stored and read back.
struct StoredStreamRecord {
  uint64_t sequence = 0;
  absl::Time arrival{};  // millisecond precision
  std::string partition_key{};
  std::string data{};
};

class FERRY_EXPORT StreamStore {
 public:
  virtual ~StreamStore() = default;

  // ---- Catalog -------------------------------------------------------------

  struct CreateStreamParams {
    std::string_view key{};
    std::string_view config{};
    // Shards 0 .. shard_count-1 are created open.
    uint32_t shard_count = 1;
  };
  // kAlreadyExists if `key` exists.
  virtual absl::StatusOr<StoredStream> CreateStream(
      const CreateStreamParams& p) = 0;
  // kNotFound if absent.
  virtual absl::StatusOr<StoredStream> GetStream(std::string_view key) = 0;

  struct ListStreamsParams {
    std::string_view key_prefix{};
    std::string_view start_after{};  // exclusive; empty = from the start
    size_t limit = 1000;
  };
  // Streams whose key starts with `key_prefix`, in key order.
  virtual absl::StatusOr<std::vector<StoredStream>> ListStreams(
      const ListStreamsParams& p) = 0;

  // Drops the stream and all of its records. kNotFound if absent.
  virtual absl::Status DeleteStream(StreamId stream) = 0;

  struct UpdateStreamParams {
    StreamId stream = 0;
    uint64_t expected_version = 0;
    std::string_view config{};
    // Shards to close (kFailedPrecondition if one is closed already,
    // kNotFound if absent).
    std::span<const ShardIndex> close_shards{};
    // New open shards, numbered after the stream's existing ones.
    uint32_t add_shards = 0;
  };
  // Replaces the config iff its version is `expected_version`, closes and
  // adds shards, all in one step; returns the new version. kAborted on a
  // version mismatch.
  virtual absl::StatusOr<uint64_t> UpdateStream(
      const UpdateStreamParams& p) = 0;

  // Every shard of the stream, by index. kNotFound if the stream is gone.
  virtual absl::StatusOr<std::vector<ShardState>> ListShards(
      StreamId stream) = 0;

  // ---- Records -------------------------------------------------------------

  struct AppendRecord {
    ShardIndex shard = 0;
    std::string_view partition_key{};
    std::string_view data{};
  };
  struct AppendParams {
    StreamId stream = 0;
    // Applied all or nothing; records for one shard get increasing sequence
    // numbers in their order here.
    std::span<const AppendRecord> records{};
    // sequences[i] receives the sequence number of records[i].
    // REQUIRES: same size as records.
    std::span<uint64_t> sequences{};
    absl::Time now{};
  };
  virtual absl::Status Append(const AppendParams& p) = 0;

  struct ReadParams {
    StreamId stream = 0;
    ShardIndex shard = 0;
    // The first sequence number wanted; records below it are skipped, and so
    // are trimmed ones (0 = from the oldest retained record).
    uint64_t from_sequence = 0;
    // Records that arrived before this are treated as trimmed (retention
    // applied at read time, before Trim reclaims them).
    absl::Time not_before = absl::InfinitePast();
    size_t max_records = 10000;
    // Bytes of partition keys and data. The first record is returned even if
    // it alone exceeds the budget.
    size_t max_bytes = 10 << 20;
  };
  struct ReadResult {
    std::vector<StoredStreamRecord> records{};
    // Where the next read continues: one past the last record returned, or,
    // when none was, the first sequence number >= from_sequence not yet
    // trimmed.
    uint64_t next_sequence = 0;
    // The shard as of this read.
    ShardState shard{};
  };
  virtual absl::StatusOr<ReadResult> Read(const ReadParams& p) = 0;

  struct SeekParams {
    StreamId stream = 0;
    ShardIndex shard = 0;
    absl::Time at{};
  };
  // The sequence number of the first retained record that arrived at or after
  // `at`; the shard's next_sequence if there is none.
  virtual absl::StatusOr<uint64_t> SeekTime(const SeekParams& p) = 0;

  struct TrimParams {
    StreamId stream = 0;
    // Records that arrived before this are dropped from every shard.
    absl::Time before{};
  };
  // Returns how many records were dropped. Space is reclaimed before return.
  virtual absl::StatusOr<int64_t> Trim(const TrimParams& p) = 0;
};

}  // namespace ferry

#endif  // FERRY_STREAM_STORE_H_
