// The native Stream handle and the Broker's stream methods, over the
// StreamEngine (stream_engine.h).

#include "ferry/stream.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "ferry/broker.h"
#include "ferry/errors.h"
#include "ferry/kinesis.h"
#include "status_macros.h"
#include "stream_engine.h"

namespace ferry {

using internal::StreamEngine;
using internal::StreamHandleState;
using internal::StreamView;

Stream::Stream(std::shared_ptr<StreamHandleState> state)
    : state_(std::move(state)) {}

const std::string& Stream::name() const { return state_->name; }
const std::string& Stream::arn() const { return state_->arn; }

std::string Stream::ShardId(ShardIndex shard) {
  return StreamEngine::ShardId(shard);
}

absl::Status Stream::Put(std::span<const StreamRecordInput> records,
                         std::vector<StreamPosition>* positions) {
  constexpr size_t kMaxRecord = 1 << 20;
  if (records.empty() || records.size() > 500) {
    return internal::KinesisError(
        "ValidationException",
        absl::StrCat("1 validation error detected: Value at 'records' failed "
                     "to satisfy constraint: Member must have length ",
                     records.empty() ? "greater than or equal to 1"
                                     : "less than or equal to 500"));
  }
  absl::InlinedVector<StreamEngine::PutEntry, 16> entries(records.size());
  size_t total = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const StreamRecordInput& r = records[i];
    if (r.partition_key.empty() || r.partition_key.size() > 1024 ||
        r.partition_key.size() + r.data.size() > kMaxRecord) {
      return internal::KinesisError(
          "InvalidArgumentException",
          absl::StrCat("record ", i,
                       ": the partition key must have 1 to 256 characters "
                       "and key plus data at most 1048576 bytes"));
    }
    entries[i].partition_key = r.partition_key;
    entries[i].data = r.data;
    if (!r.explicit_hash_key.empty()) {
      internal::u128 h = 0;
      if (!internal::ParseU128(r.explicit_hash_key, &h)) {
        return internal::KinesisError(
            "InvalidArgumentException",
            absl::StrCat("Invalid ExplicitHashKey. ExplicitHashKey must be in "
                         "the range: [0, 2^128-1]. Specified value was ",
                         std::string(r.explicit_hash_key)));
      }
      entries[i].explicit_hash = h;
    }
    total += r.partition_key.size() + r.data.size();
  }
  if (total > (5u << 20)) {
    return internal::KinesisError("InvalidArgumentException",
                                  "Records size exceeds 5 MB limit");
  }
  absl::InlinedVector<absl::Status, 16> statuses(records.size());
  absl::InlinedVector<StreamPosition, 16> local;
  std::span<StreamPosition> out;
  if (positions != nullptr) {
    positions->resize(records.size());
    out = std::span<StreamPosition>(*positions);
  } else {
    local.resize(records.size());
    out = std::span<StreamPosition>(local.data(), local.size());
  }
  FERRY_RETURN_IF_ERROR(state_->engine->Put(
      state_->arn, entries,
      std::span<absl::Status>(statuses.data(), statuses.size()), out, nullptr));
  // Strict-mode throttling is per record on the AWS level; here a batch
  // reports the first failure (the other records are stored).
  for (const absl::Status& s : statuses) FERRY_RETURN_IF_ERROR(s);
  return absl::OkStatus();
}

absl::StatusOr<StreamReadResult> Stream::Read(ShardIndex shard, uint64_t from,
                                              int max_records) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> view,
                         state_->engine->Find(state_->arn));
  if (shard >= view->meta.shards.size()) {
    return internal::ShardNotFoundError(ShardId(shard), view->meta.name,
                                        view->meta.account);
  }
  FERRY_ASSIGN_OR_RETURN(
      StreamStore::ReadResult read,
      state_->engine->Read(
          *view, shard, from,
          static_cast<size_t>(std::clamp(max_records, 1, 10000)), 10 << 20));
  StreamReadResult out;
  out.records.reserve(read.records.size());
  for (StoredStreamRecord& r : read.records) {
    out.records.push_back(
        {r.sequence, r.arrival, std::move(r.partition_key), std::move(r.data)});
  }
  out.next_sequence = read.next_sequence;
  out.end_of_shard =
      read.shard.closed && read.next_sequence >= read.shard.next_sequence;
  return out;
}

absl::StatusOr<std::vector<ShardIndex>> Stream::OpenShards() {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> view,
                         state_->engine->Find(state_->arn));
  return view->open;
}

absl::StatusOr<std::string> Stream::SequenceNumber(StreamPosition position) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> view,
                         state_->engine->Find(state_->arn));
  if (position.shard >= view->meta.shards.size()) {
    return internal::ShardNotFoundError(ShardId(position.shard),
                                        view->meta.name, view->meta.account);
  }
  FERRY_ASSIGN_OR_RETURN(
      StreamStore::ReadResult read,
      state_->engine->Read(*view, position.shard, position.sequence, 1, 1));
  int64_t ms = view->meta.shards[position.shard].created_ms;
  if (!read.records.empty() && read.records[0].sequence == position.sequence) {
    ms = absl::ToUnixMillis(read.records[0].arrival);
  }
  return internal::FormatSequenceNumber(view->meta.shards[position.shard],
                                        position.sequence, ms);
}

// ---- Broker
// ------------------------------------------------------------------

absl::StatusOr<Stream> Broker::CreateStream(std::string_view name,
                                            const StreamOptions& options) {
  // The native level is not subject to injected faults (ferry/faults.h).
  RequestContext ctx{.faults_consulted = true};
  CreateStreamRequest request{.stream_name = std::string(name)};
  if (options.on_demand) {
    request.stream_mode = "ON_DEMAND";
  } else {
    request.stream_mode = "PROVISIONED";
    request.shard_count = options.shard_count;
  }
  FERRY_RETURN_IF_ERROR(streams_->kinesis().CreateStream(ctx, request));
  const int64_t hours = absl::ToInt64Hours(options.retention);
  if (hours != 24) {
    FERRY_RETURN_IF_ERROR(streams_->kinesis().IncreaseStreamRetentionPeriod(
        ctx, {.stream_name = std::string(name),
              .retention_period_hours = static_cast<int>(hours)}));
  }
  return GetStream(name);
}

absl::StatusOr<Stream> Broker::GetStream(std::string_view name) {
  const std::string arn =
      StreamEngine::Arn(streams_->options().default_region,
                        streams_->options().default_account, name);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> view,
                         streams_->Find(arn));
  auto state = std::make_shared<StreamHandleState>();
  state->engine = streams_.get();
  state->name = std::string(name);
  state->arn = arn;
  return Stream(std::move(state));
}

absl::Status Broker::DeleteStream(std::string_view name) {
  return streams_->kinesis().DeleteStream(
      RequestContext{.faults_consulted = true},
      {.stream_name = std::string(name)});
}

absl::StatusOr<std::vector<std::string>> Broker::ListStreams() {
  FERRY_ASSIGN_OR_RETURN(std::vector<StoredStream> all,
                         streams_->List(streams_->options().default_account,
                                        streams_->options().default_region));
  std::vector<std::string> names;
  for (const StoredStream& s : all) {
    names.push_back(s.key.substr(s.key.find("stream/") + 7));
  }
  return names;
}

Kinesis& Broker::kinesis() { return streams_->kinesis(); }

}  // namespace ferry
