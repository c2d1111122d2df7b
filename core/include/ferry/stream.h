// -----------------------------------------------------------------------------
// File: ferry/stream.h
// -----------------------------------------------------------------------------
//
// `ferry::Stream` is the native handle of a Kinesis-style stream: a set of
// shards, each a totally ordered log of records kept for the retention
// period, that any number of readers read independently from wherever they
// choose. Producers append records with a partition key; the key's MD5 picks
// the shard exactly as Kinesis does (ferry/kinesis.h is the AWS-shaped level
// over the same streams, with shard iterators and AWS's sequence numbers).
//
// Positions at this level are plain numbers: each shard numbers its records
// 1, 2, 3, ... (never reused, also after trimming). `Read` returns a shard's
// records from a position on; `SequenceNumber` renders a position as the
// 56-digit sequence number the AWS-shaped level shows for the same record.
//
// Thread safety: handles are cheap to copy and safe to use concurrently.
// Errors: ResourceNotFoundException once the stream is deleted;
// InvalidArgumentException / ValidationException for bad input (AWS's texts);
// kResourceExhausted when the backend's memory or disk cap is reached.
//
// Example:
//   FERRY_ASSIGN_OR_RETURN(ferry::Stream s,
//                          broker->CreateStream("clicks", {.shard_count = 2}));
//   FERRY_RETURN_IF_ERROR(s.Put({{.partition_key = "user-1", .data = "x"}}));
//   FERRY_ASSIGN_OR_RETURN(auto batch, s.Read(0, /*from=*/0));
#ifndef FERRY_STREAM_H_
#define FERRY_STREAM_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/stream_store.h"

namespace ferry {

namespace internal {
class StreamEngine;
struct StreamHandleState;
}  // namespace internal

struct StreamOptions {
  // Provisioned shards (1 .. 100000). Ignored when on_demand.
  int shard_count = 1;
  // Kinesis on-demand mode: 4 shards, never split automatically (a documented
  // divergence), and resharding calls are refused as AWS refuses them.
  bool on_demand = false;
  // 24 h .. 8760 h, whole hours.
  absl::Duration retention = absl::Hours(24);
};

struct StreamRecordInput {
  std::string_view partition_key{};
  std::string_view data{};
  // A decimal in [0, 2^128-1] that replaces the partition key's MD5.
  std::string_view explicit_hash_key{};
};

struct StreamPosition {
  ShardIndex shard = 0;
  uint64_t sequence = 0;
};

struct StreamReadRecord {
  uint64_t sequence = 0;
  absl::Time arrival{};
  std::string partition_key{};
  std::string data{};
};

struct StreamReadResult {
  std::vector<StreamReadRecord> records{};
  // Where the next Read of this shard continues.
  uint64_t next_sequence = 0;
  // The shard is closed (resharded) and `next_sequence` is past its end.
  bool end_of_shard = false;
};

class FERRY_EXPORT Stream {
 public:
  Stream(const Stream&) = default;
  Stream& operator=(const Stream&) = default;

  const std::string& name() const;
  const std::string& arn() const;

  // Appends the records, all or nothing; `positions` (when given) receives
  // each record's shard and sequence, in order. Up to 500 records and 5 MiB
  // per call, each record (key + data) at most 1 MiB, as PutRecords.
  absl::Status Put(std::span<const StreamRecordInput> records,
                   std::vector<StreamPosition>* positions = nullptr);
  absl::Status Put(std::initializer_list<StreamRecordInput> records,
                   std::vector<StreamPosition>* positions = nullptr) {
    return Put(
        std::span<const StreamRecordInput>(records.begin(), records.size()),
        positions);
  }

  // Records of `shard` from sequence `from` on (0: the oldest retained),
  // at most `max_records` and about 10 MiB.
  absl::StatusOr<StreamReadResult> Read(ShardIndex shard, uint64_t from,
                                        int max_records = 10000);

  // The open shards' indexes, by starting hash key.
  absl::StatusOr<std::vector<ShardIndex>> OpenShards();

  // The AWS form of a position: "shardId-000000000003" and the 56-digit
  // sequence number.
  static std::string ShardId(ShardIndex shard);
  absl::StatusOr<std::string> SequenceNumber(StreamPosition position);

 private:
  friend class Broker;
  explicit Stream(std::shared_ptr<internal::StreamHandleState> state);
  std::shared_ptr<internal::StreamHandleState> state_;
};

}  // namespace ferry

#endif  // FERRY_STREAM_H_
