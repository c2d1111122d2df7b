// -----------------------------------------------------------------------------
// File: ferry/kinesis.h
// -----------------------------------------------------------------------------
//
// `ferry::Kinesis` is the AWS-shaped operation layer for Kinesis Data Streams:
// one method per API operation, taking the request struct and returning the
// result struct of the AWS API model, with AWS's validation, limits, error
// shapes and texts. Streams are addressed by StreamName or StreamARN (either,
// or both); every call takes a `RequestContext` (ferry/sqs.h) whose account and
// region scope the stream. Sequence numbers are AWS's 56-digit decimals;
// shard iterators are opaque, self-describing strings that expire 5 minutes
// after they were issued by the broker's Clock.
//
// Thread safety: all methods are safe to call concurrently.
// Errors: statuses carry the Kinesis error (GetAwsError in ferry/errors.h):
// ResourceNotFoundException, ResourceInUseException,
// InvalidArgumentException, LimitExceededException,
// ProvisionedThroughputExceededException (strict mode only),
// ExpiredIteratorException, ValidationException. PutRecords reports
// per-record failures in its result.
#ifndef FERRY_KINESIS_H_
#define FERRY_KINESIS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/sqs.h"

namespace ferry {

namespace internal {
class StreamEngine;
}  // namespace internal

struct HashKeyRange {
  std::string starting_hash_key{};
  std::string ending_hash_key{};
};
struct SequenceNumberRange {
  std::string starting_sequence_number{};
  std::optional<std::string> ending_sequence_number{};  // set once closed
};
struct KinesisShard {
  std::string shard_id{};
  std::optional<std::string> parent_shard_id{};
  std::optional<std::string> adjacent_parent_shard_id{};
  HashKeyRange hash_key_range{};
  SequenceNumberRange sequence_number_range{};
};
struct ChildShard {
  std::string shard_id{};
  std::vector<std::string> parent_shards{};
  HashKeyRange hash_key_range{};
};

struct CreateStreamRequest {
  std::string stream_name{};
  std::optional<int> shard_count{};
  // "PROVISIONED" (default) or "ON_DEMAND".
  std::optional<std::string> stream_mode{};
  std::map<std::string, std::string> tags{};
};
struct DeleteStreamRequest {
  std::string stream_name{};
  std::string stream_arn{};
  bool enforce_consumer_deletion = false;
};
struct StreamRef {
  std::string stream_name{};
  std::string stream_arn{};
};
struct DescribeStreamRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::optional<int> limit{};
  std::optional<std::string> exclusive_start_shard_id{};
};
struct StreamDescription {
  std::string stream_name{};
  std::string stream_arn{};
  std::string stream_status{};  // CREATING | DELETING | ACTIVE | UPDATING
  std::string stream_mode{};    // PROVISIONED | ON_DEMAND
  std::vector<KinesisShard> shards{};
  bool has_more_shards = false;
  int retention_period_hours = 24;
  absl::Time stream_creation_timestamp{};
  std::string encryption_type = "NONE";
};
struct DescribeStreamResult {
  StreamDescription stream_description{};
};
struct StreamDescriptionSummary {
  std::string stream_name{};
  std::string stream_arn{};
  std::string stream_status{};
  std::string stream_mode{};
  int retention_period_hours = 24;
  absl::Time stream_creation_timestamp{};
  std::string encryption_type = "NONE";
  int open_shard_count = 0;
  int consumer_count = 0;
};
struct DescribeStreamSummaryResult {
  StreamDescriptionSummary stream_description_summary{};
};
struct ListStreamsRequest {
  std::optional<int> limit{};
  std::optional<std::string> exclusive_start_stream_name{};
  std::optional<std::string> next_token{};
};
struct StreamSummary {
  std::string stream_name{};
  std::string stream_arn{};
  std::string stream_status{};
  std::string stream_mode{};
  absl::Time stream_creation_timestamp{};
};
struct ListStreamsResult {
  std::vector<std::string> stream_names{};
  bool has_more_streams = false;
  std::optional<std::string> next_token{};
  std::vector<StreamSummary> stream_summaries{};
};
struct ShardFilter {
  // AFTER_SHARD_ID | AT_TRIM_HORIZON | FROM_TRIM_HORIZON | AT_LATEST |
  // AT_TIMESTAMP | FROM_TIMESTAMP
  std::string type{};
  std::optional<std::string> shard_id{};
  std::optional<absl::Time> timestamp{};
};
struct ListShardsRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::optional<std::string> next_token{};
  std::optional<std::string> exclusive_start_shard_id{};
  std::optional<int> max_results{};
  std::optional<ShardFilter> shard_filter{};
};
struct ListShardsResult {
  std::vector<KinesisShard> shards{};
  std::optional<std::string> next_token{};
};
struct PutRecordRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::string data{};
  std::string partition_key{};
  std::optional<std::string> explicit_hash_key{};
  std::optional<std::string> sequence_number_for_ordering{};
};
struct PutRecordResult {
  std::string shard_id{};
  std::string sequence_number{};
  std::string encryption_type = "NONE";
};
struct PutRecordsRequestEntry {
  std::string data{};
  std::string partition_key{};
  std::optional<std::string> explicit_hash_key{};
};
struct PutRecordsRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::vector<PutRecordsRequestEntry> records{};
};
struct PutRecordsResultEntry {
  std::optional<std::string> sequence_number{};
  std::optional<std::string> shard_id{};
  std::optional<std::string> error_code{};
  std::optional<std::string> error_message{};
};
struct PutRecordsResult {
  int failed_record_count = 0;
  std::vector<PutRecordsResultEntry> records{};
  std::string encryption_type = "NONE";
};
struct GetShardIteratorRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::string shard_id{};
  // TRIM_HORIZON | LATEST | AT_SEQUENCE_NUMBER | AFTER_SEQUENCE_NUMBER |
  // AT_TIMESTAMP
  std::string shard_iterator_type{};
  std::optional<std::string> starting_sequence_number{};
  std::optional<absl::Time> timestamp{};
};
struct GetShardIteratorResult {
  std::string shard_iterator{};
};
struct GetRecordsRequest {
  std::string shard_iterator{};
  std::optional<int> limit{};
  std::string stream_arn{};
};
struct KinesisRecord {
  std::string sequence_number{};
  absl::Time approximate_arrival_timestamp{};
  std::string data{};
  std::string partition_key{};
};
struct GetRecordsResult {
  std::vector<KinesisRecord> records{};
  // Absent once a closed shard has been read to its end.
  std::optional<std::string> next_shard_iterator{};
  int64_t millis_behind_latest = 0;
  // Set (with no next iterator) at the end of a closed shard.
  std::vector<ChildShard> child_shards{};
};
struct SplitShardRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::string shard_to_split{};
  std::string new_starting_hash_key{};
};
struct MergeShardsRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::string shard_to_merge{};
  std::string adjacent_shard_to_merge{};
};
struct UpdateShardCountRequest {
  std::string stream_name{};
  std::string stream_arn{};
  int target_shard_count = 0;
  std::string scaling_type = "UNIFORM_SCALING";
};
struct UpdateShardCountResult {
  std::string stream_name{};
  std::string stream_arn{};
  int current_shard_count = 0;
  int target_shard_count = 0;
};
struct RetentionPeriodRequest {
  std::string stream_name{};
  std::string stream_arn{};
  int retention_period_hours = 0;
};
struct AddTagsToStreamRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::map<std::string, std::string> tags{};
};
struct RemoveTagsFromStreamRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::vector<std::string> tag_keys{};
};
struct ListTagsForStreamRequest {
  std::string stream_name{};
  std::string stream_arn{};
  std::optional<std::string> exclusive_start_tag_key{};
  std::optional<int> limit{};
};
struct KinesisTag {
  std::string key{};
  std::string value{};
};
struct ListTagsForStreamResult {
  std::vector<KinesisTag> tags{};
  bool has_more_tags = false;
};

// ---- Enhanced fan-out
// ---------------------------------------------------------

struct ConsumerDescription {
  std::string consumer_name{};
  // <stream ARN>/consumer/<name>:<creation epoch seconds>
  std::string consumer_arn{};
  std::string consumer_status = "ACTIVE";
  absl::Time consumer_creation_timestamp{};
  std::string stream_arn{};
};
struct RegisterStreamConsumerRequest {
  std::string stream_arn{};
  std::string consumer_name{};
};
struct RegisterStreamConsumerResult {
  ConsumerDescription consumer{};
};
struct StreamConsumerRef {
  // Either the consumer's ARN, or the stream's ARN and the consumer's name.
  std::string stream_arn{};
  std::string consumer_name{};
  std::string consumer_arn{};
};
struct DescribeStreamConsumerResult {
  ConsumerDescription consumer_description{};
};
struct ListStreamConsumersRequest {
  std::string stream_arn{};
  std::optional<std::string> next_token{};
  std::optional<int> max_results{};
};
struct ListStreamConsumersResult {
  std::vector<ConsumerDescription> consumers{};
  std::optional<std::string> next_token{};
};
struct StartingPosition {
  // AT_SEQUENCE_NUMBER | AFTER_SEQUENCE_NUMBER | TRIM_HORIZON | LATEST |
  // AT_TIMESTAMP
  std::string type{};
  std::optional<std::string> sequence_number{};
  std::optional<absl::Time> timestamp{};
};
struct SubscribeToShardRequest {
  std::string consumer_arn{};
  std::string shard_id{};
  StartingPosition starting_position{};
};
struct SubscribeToShardEvent {
  std::vector<KinesisRecord> records{};
  // Where to resubscribe (AFTER_SEQUENCE_NUMBER); absent at a closed shard's
  // end, where child_shards is set.
  std::optional<std::string> continuation_sequence_number{};
  int64_t millis_behind_latest = 0;
  std::vector<ChildShard> child_shards{};
};
// Receives a subscription's events in order, through the broker's Executor.
// A non-OK status is the last call: kOutOfRange when the subscription ended
// (5 minutes passed, the shard's end was delivered, or a newer subscription
// took over), ResourceNotFoundException when the stream or consumer is gone.
using SubscribeToShardHandler =
    std::function<void(absl::StatusOr<SubscribeToShardEvent>)>;

class FERRY_EXPORT ShardSubscription {
 public:
  virtual ~ShardSubscription() = default;
  // Ends the subscription; no event is scheduled after Cancel returns.
  virtual void Cancel() = 0;
  virtual bool active() const = 0;
};

class FERRY_EXPORT Kinesis {
 public:
  explicit Kinesis(internal::StreamEngine* engine) : engine_(engine) {}
  Kinesis(const Kinesis&) = delete;
  Kinesis& operator=(const Kinesis&) = delete;

  absl::Status CreateStream(const RequestContext& ctx,
                            const CreateStreamRequest& r);
  absl::Status DeleteStream(const RequestContext& ctx,
                            const DeleteStreamRequest& r);
  absl::StatusOr<DescribeStreamResult> DescribeStream(
      const RequestContext& ctx, const DescribeStreamRequest& r);
  absl::StatusOr<DescribeStreamSummaryResult> DescribeStreamSummary(
      const RequestContext& ctx, const StreamRef& r);
  absl::StatusOr<ListStreamsResult> ListStreams(const RequestContext& ctx,
                                                const ListStreamsRequest& r);
  absl::StatusOr<ListShardsResult> ListShards(const RequestContext& ctx,
                                              const ListShardsRequest& r);
  absl::StatusOr<PutRecordResult> PutRecord(const RequestContext& ctx,
                                            const PutRecordRequest& r);
  absl::StatusOr<PutRecordsResult> PutRecords(const RequestContext& ctx,
                                              const PutRecordsRequest& r);
  absl::StatusOr<GetShardIteratorResult> GetShardIterator(
      const RequestContext& ctx, const GetShardIteratorRequest& r);
  absl::StatusOr<GetRecordsResult> GetRecords(const RequestContext& ctx,
                                              const GetRecordsRequest& r);
  absl::Status SplitShard(const RequestContext& ctx,
                          const SplitShardRequest& r);
  absl::Status MergeShards(const RequestContext& ctx,
                           const MergeShardsRequest& r);
  absl::StatusOr<UpdateShardCountResult> UpdateShardCount(
      const RequestContext& ctx, const UpdateShardCountRequest& r);
  absl::Status IncreaseStreamRetentionPeriod(const RequestContext& ctx,
                                             const RetentionPeriodRequest& r);
  absl::Status DecreaseStreamRetentionPeriod(const RequestContext& ctx,
                                             const RetentionPeriodRequest& r);
  absl::Status AddTagsToStream(const RequestContext& ctx,
                               const AddTagsToStreamRequest& r);
  absl::Status RemoveTagsFromStream(const RequestContext& ctx,
                                    const RemoveTagsFromStreamRequest& r);
  absl::StatusOr<ListTagsForStreamResult> ListTagsForStream(
      const RequestContext& ctx, const ListTagsForStreamRequest& r);

  // Enhanced fan-out. Consumers are ACTIVE at once. SubscribeToShard pushes
  // SubscribeToShardEvents to `handler`: the records from the starting
  // position at once, then new ones after each write to the stream (and on
  // Broker::RunMaintenance), for 5 minutes of the broker's clock.
  absl::StatusOr<RegisterStreamConsumerResult> RegisterStreamConsumer(
      const RequestContext& ctx, const RegisterStreamConsumerRequest& r);
  absl::Status DeregisterStreamConsumer(const RequestContext& ctx,
                                        const StreamConsumerRef& r);
  absl::StatusOr<DescribeStreamConsumerResult> DescribeStreamConsumer(
      const RequestContext& ctx, const StreamConsumerRef& r);
  absl::StatusOr<ListStreamConsumersResult> ListStreamConsumers(
      const RequestContext& ctx, const ListStreamConsumersRequest& r);
  absl::StatusOr<std::shared_ptr<ShardSubscription>> SubscribeToShard(
      const RequestContext& ctx, const SubscribeToShardRequest& r,
      SubscribeToShardHandler handler);

 private:
  friend class ConsumerGroupWorker;
  internal::StreamEngine* const engine_;
};

}  // namespace ferry

#endif  // FERRY_KINESIS_H_
