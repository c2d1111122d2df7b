// The semantics engine of Kinesis streams, shared by the native Stream handle
// and the AWS-shaped Kinesis layer: the stream metadata core keeps in the
// store's opaque config (hash key ranges, parents, creation and close times,
// retention, mode, tags), partition key -> MD5 -> shard routing, AWS's
// 56-digit sequence numbers, shard iterators, retention trimming and
// strict-mode throughput quotas.
//
// Thread safety: every method is safe to call concurrently.
// Errors: Kinesis errors with AWS's texts; store errors pass through.
#ifndef FERRY_CORE_SRC_STREAM_ENGINE_H_
#define FERRY_CORE_SRC_STREAM_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/broker.h"
#include "ferry/kinesis.h"
#include "ferry/stream.h"
#include "ferry/sync.h"

namespace ferry::internal {

using u128 = unsigned __int128;
inline constexpr u128 kMaxHashKey = ~static_cast<u128>(0);

std::string U128ToDecimal(u128 v);
// Strict: AWS's pattern 0|([1-9]\d{0,38}) and <= 2^128-1.
bool ParseU128(std::string_view text, u128* out);

// MD5 of the partition key as a big-endian 128-bit integer.
u128 PartitionKeyHash(std::string_view partition_key);
// out[i] = PartitionKeyHash(keys[i]), short keys eight at a time (several
// times faster per key than one call each). REQUIRES: out.size() ==
// keys.size().
void PartitionKeyHashes(std::span<const std::string_view> keys,
                        std::span<u128> out);

struct ShardMeta {
  ShardIndex index = 0;
  u128 start = 0;
  u128 end = 0;
  std::optional<ShardIndex> parent{};
  std::optional<ShardIndex> adjacent_parent{};
  int64_t created_ms = 0;
  std::optional<int64_t> closed_ms{};
};

struct StreamMeta {
  std::string account;
  std::string region;
  std::string name;
  bool on_demand = false;
  int retention_hours = 24;
  int64_t created_ms = 0;
  // CREATING or UPDATING until status_until_ms (strict mode delays).
  std::string pending_status;
  int64_t status_until_ms = 0;
  std::map<std::string, std::string> tags;
  std::vector<ShardMeta> shards;  // by index
  // Enhanced fan-out consumers: name -> creation time (ms).
  std::map<std::string, int64_t> consumers;

  std::string Encode() const;
  static bool Decode(std::string_view in, StreamMeta* out);
  std::string Status(absl::Time now) const;
};

// A stream incarnation as this broker last saw it.
struct StreamView {
  StoredStream record;
  StreamMeta meta;
  // Open shards by starting hash key.
  std::vector<ShardIndex> open;

  const ShardMeta* Route(u128 hash) const;
  std::string arn() const { return record.key; }
};

struct StreamHandleState {
  StreamEngine* engine = nullptr;
  std::string name;
  std::string arn;
};

// The AWS 56-digit sequence number of record `seq` of `shard`:
// kinesalite's "version 2" layout (kinesis.md §1.4).
std::string FormatSequenceNumber(const ShardMeta& shard, uint64_t seq,
                                 int64_t time_ms);
struct ParsedSequenceNumber {
  int64_t shard_created_secs = 0;
  uint64_t seq = 0;
  ShardIndex shard = 0;
};
bool ParseSequenceNumber(std::string_view text, ParsedSequenceNumber* out);
inline constexpr uint64_t kEndingSeqIndex = 0x7fffffffffffffffULL;

// Told after records were appended to its stream (enhanced fan-out
// subscriptions). Called on the appending thread, under no engine lock.
class StreamListener {
 public:
  virtual ~StreamListener() = default;
  virtual void OnAppend() = 0;
  virtual bool Done() const = 0;
};

class StreamEngine {
 public:
  StreamEngine(Clock& clock, Backend& backend, const BrokerOptions& options);

  Kinesis& kinesis() { return kinesis_; }
  Clock& clock() { return clock_; }
  const BrokerOptions& options() const { return options_; }

  static std::string Arn(std::string_view region, std::string_view account,
                         std::string_view name);
  static std::string ShardId(ShardIndex shard);

  absl::StatusOr<std::shared_ptr<const StreamView>> Create(
      std::string_view account, std::string_view region, std::string_view name,
      int shard_count, bool on_demand, int retention_hours,
      const std::map<std::string, std::string>& tags);
  // ResourceNotFoundException "Stream <name> under account <a> not found."
  absl::StatusOr<std::shared_ptr<const StreamView>> Find(std::string_view arn);
  absl::Status Delete(const StreamView& view);
  // Compare-and-swap on the stream's config: `mutate` edits a copy of the
  // metadata and names the shards to close and how many to add.
  using Mutation = absl::FunctionRef<absl::Status(
      StreamMeta& meta, std::vector<ShardIndex>& close, uint32_t& add)>;
  absl::StatusOr<std::shared_ptr<const StreamView>> Update(std::string_view arn,
                                                           Mutation mutate);
  absl::StatusOr<std::vector<StoredStream>> List(std::string_view account,
                                                 std::string_view region);

  struct PutEntry {
    std::string_view partition_key;
    std::string_view data;
    std::optional<u128> explicit_hash;
  };
  // Appends the records that pass the strict-mode quotas; statuses[i] is
  // the per-record outcome (ProvisionedThroughputExceededException) and
  // positions[i] the position of a stored one. Errors for the whole call
  // (stream gone, capacity) return non-OK and store nothing.
  absl::Status Put(std::string_view arn, std::span<const PutEntry> entries,
                   std::span<absl::Status> statuses,
                   std::span<StreamPosition> positions,
                   std::shared_ptr<const StreamView>* view_out);

  // Reads with retention applied; trims lazily.
  absl::StatusOr<StreamStore::ReadResult> Read(const StreamView& view,
                                               ShardIndex shard, uint64_t from,
                                               size_t max_records,
                                               size_t max_bytes);
  absl::StatusOr<uint64_t> SeekTime(const StreamView& view, ShardIndex shard,
                                    absl::Time at);
  absl::StatusOr<std::vector<ShardState>> Shards(const StreamView& view);
  // Strict mode: GetRecords calls and bytes per shard per second.
  absl::Status ChargeRead(const StreamView& view, ShardIndex shard,
                          size_t bytes, bool check_only);

  absl::Status RunMaintenance();
  absl::Status Reset();

  KeyValueStore& kv() { return backend_.kv(); }
  Executor& executor() {
    return options_.executor != nullptr ? *options_.executor : InlineExecutor();
  }
  void AddListener(StreamId stream, std::shared_ptr<StreamListener> listener);
  // Calls OnAppend of the stream's listeners (every stream's when 0) and
  // forgets the finished ones.
  void Notify(StreamId stream);

  absl::Duration Retention(const StreamView& view) const {
    return absl::Hours(view.meta.retention_hours);
  }

 private:
  absl::StatusOr<std::shared_ptr<const StreamView>> Load(std::string_view arn);
  std::shared_ptr<const StreamView> Cache(StoredStream record, StreamMeta meta);
  void MaybeTrim(const StreamView& view, absl::Time now);

  struct Window {
    int64_t second = INT64_MIN;
    int64_t records = 0;
    int64_t bytes = 0;
    int64_t calls = 0;
  };

  Clock& clock_;
  Backend& backend_;
  StreamStore& store_;
  const BrokerOptions options_;
  Kinesis kinesis_{this};

  Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const StreamView>> views_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<StreamId, int64_t> last_trim_ms_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> listener_count_{0};
  std::multimap<StreamId, std::shared_ptr<StreamListener>> listeners_
      ABSL_GUARDED_BY(mu_);
  Mutex quota_mu_;
  std::map<std::pair<StreamId, ShardIndex>, Window> write_windows_
      ABSL_GUARDED_BY(quota_mu_);
  std::map<std::pair<StreamId, ShardIndex>, Window> read_windows_
      ABSL_GUARDED_BY(quota_mu_);
};

// Error helpers with AWS's texts.
absl::Status KinesisError(std::string_view shape, std::string_view message);
absl::Status StreamNotFoundError(std::string_view name,
                                 std::string_view account);
absl::Status ShardNotFoundError(std::string_view shard_id,
                                std::string_view name,
                                std::string_view account);

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_STREAM_ENGINE_H_
