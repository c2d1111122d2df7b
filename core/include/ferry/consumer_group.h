// -----------------------------------------------------------------------------
// File: ferry/consumer_group.h
// -----------------------------------------------------------------------------
//
// An embedded equivalent of the Kinesis Client Library: the workers of a named
// consumer group share a stream's shards through leases kept in the backend's
// KeyValueStore (compare-and-swap, so workers of several brokers over one
// store cooperate too). Each worker owns some shards, reads them with
// GetRecords and hands the records to a `RecordProcessor`, one per shard.
//
//   * Leases expire `lease_duration` (broker Clock) after their owner last
//     renewed them; any worker takes an expired or free lease.
//   * Balance: a worker owning fewer than its share (open leases / live
//     workers, rounded up) steals one lease per round from the most loaded.
//   * Checkpoints: the processor checkpoints a sequence number (and a
//     sub-sequence inside a KPL aggregate); a new owner resumes after it.
//   * Parents before children: a child shard's lease is taken only once
//     every parent lease has been checkpointed at SHARD_END (ShardEnded).
//   * KPL-aggregated records (magic F3 89 9A C2, protobuf, MD5) are split
//     into their user records, numbered by sub-sequence.
//
// Nothing runs on its own: `RunOnce()` does one round (renew, take, steal,
// read each owned shard once, dispatch) on the caller's thread, so tests drive
// workers and time by hand. Processors are called on that thread, never under
// a ferry lock. At-least-once: after a failover a shard resumes after its
// last checkpoint.
//
// Thread safety: one worker must not run RunOnce concurrently with itself;
// different workers may run concurrently.
// Errors: the Kinesis layer's (ResourceNotFoundException for a missing
// stream); store errors pass through.
#ifndef FERRY_CONSUMER_GROUP_H_
#define FERRY_CONSUMER_GROUP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/kinesis.h"

namespace ferry {

struct ConsumerRecord {
  std::string sequence_number{};
  // The index inside a KPL aggregate; 0 for a plain record.
  uint64_t sub_sequence_number = 0;
  bool aggregated = false;
  std::string partition_key{};
  std::string data{};
  absl::Time approximate_arrival_timestamp{};
};

class FERRY_EXPORT Checkpointer {
 public:
  virtual ~Checkpointer() = default;
  // Checkpoints the last record handed to the processor.
  virtual absl::Status Checkpoint() = 0;
  // Checkpoints a given record (at or before the last one handed over).
  virtual absl::Status Checkpoint(const std::string& sequence_number,
                                  uint64_t sub_sequence_number = 0) = 0;
};

class FERRY_EXPORT RecordProcessor {
 public:
  virtual ~RecordProcessor() = default;
  // `checkpoint` is the sequence number processing resumes after, or the
  // initial position ("TRIM_HORIZON", "LATEST").
  virtual void Initialize(const std::string& shard_id,
                          const std::string& checkpoint) {}
  virtual void ProcessRecords(const std::vector<ConsumerRecord>& records,
                              Checkpointer& checkpointer) = 0;
  // The shard is closed and read to its end. Call checkpointer.Checkpoint(),
  // or its children are never processed.
  virtual void ShardEnded(Checkpointer& checkpointer) = 0;
  // The lease was lost (stolen, expired) or the worker shuts down.
  virtual void Shutdown(const std::string& shard_id) {}
};

struct ConsumerGroupOptions {
  std::string group{};      // the application name
  std::string worker_id{};  // unique among the group's workers
  std::string stream_name{};
  RequestContext context{};
  // A lease not renewed for this long may be taken by another worker.
  absl::Duration lease_duration = absl::Seconds(10);
  // Where a shard without a checkpoint starts: TRIM_HORIZON or LATEST.
  std::string initial_position = "TRIM_HORIZON";
  int max_records = 1000;
  bool deaggregate = true;
};

class FERRY_EXPORT ConsumerGroupWorker {
 public:
  using ProcessorFactory = std::function<std::unique_ptr<RecordProcessor>()>;

  static absl::StatusOr<std::unique_ptr<ConsumerGroupWorker>> Create(
      Kinesis& kinesis, ConsumerGroupOptions options, ProcessorFactory factory);
  virtual ~ConsumerGroupWorker() = default;

  // One round; see the file comment.
  virtual absl::Status RunOnce() = 0;
  // Releases the worker's leases (checkpoints stay) and shuts its
  // processors down.
  virtual absl::Status Shutdown() = 0;
  // The shard ids this worker holds leases on.
  virtual std::vector<std::string> OwnedShards() const = 0;
};

// Splits a KPL aggregated record into its user records; a record that is
// not an aggregate (or fails its MD5 or protobuf checks) is returned as is.
FERRY_EXPORT std::vector<ConsumerRecord> Deaggregate(
    const KinesisRecord& record);

}  // namespace ferry

#endif  // FERRY_CONSUMER_GROUP_H_
