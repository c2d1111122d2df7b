// The AWS-shaped Kinesis layer: AWS's validation (Coral texts), limits and
// error shapes, translated onto the StreamEngine (stream_engine.h).

#include "ferry/kinesis.h"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "digest.h"
#include "fault_hook.h"
#include "ferry/errors.h"
#include "status_macros.h"
#include "stream_engine.h"
#include "string_util.h"

namespace ferry {
namespace {

using internal::AsAbsl;
using internal::KinesisError;
using internal::ShardMeta;
using internal::StreamEngine;
using internal::StreamMeta;
using internal::StreamView;
using internal::u128;
using internal::U128ToDecimal;

constexpr size_t kMaxRecordBytes = 1 << 20;
constexpr size_t kMaxPutRecordsBytes = 5 << 20;
constexpr int64_t kIteratorLifetimeMs = 300000;

absl::Status Validation(std::string_view value, std::string_view field,
                        std::string_view constraint) {
  return KinesisError(
      "ValidationException",
      absl::StrCat("1 validation error detected: Value '", AsAbsl(value),
                   "' at '", AsAbsl(field),
                   "' failed to satisfy constraint: Member must ",
                   AsAbsl(constraint)));
}
absl::Status InvalidArgument(std::string_view message) {
  return KinesisError("InvalidArgumentException", message);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

absl::Status ValidateName(std::string_view name, std::string_view field) {
  if (name.size() > 128) {
    return Validation(name, field, "have length less than or equal to 128");
  }
  if (name.empty()) {
    return Validation(name, field, "have length greater than or equal to 1");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Validation(name, field,
                        "satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    }
  }
  return absl::OkStatus();
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Account(const StreamEngine& e, const RequestContext& ctx) {
  return ctx.account.empty() ? e.options().default_account : ctx.account;
}
std::string Region(const StreamEngine& e, const RequestContext& ctx) {
  return ctx.region.empty() ? e.options().default_region : ctx.region;
}

// The ARN a request names by StreamName and/or StreamARN.
absl::StatusOr<std::string> ResolveArn(const StreamEngine& e,
                                       const RequestContext& ctx,
                                       std::string_view name,
                                       std::string_view arn) {
  if (!arn.empty()) {
    std::vector<std::string> parts = absl::StrSplit(AsAbsl(arn), ':');
    if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "kinesis" ||
        parts[5].rfind("stream/", 0) != 0) {
      return Validation(arn, "streamARN",
                        "satisfy regular expression pattern: "
                        "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
    }
    std::string arn_name = parts[5].substr(7);
    if (!name.empty() && name != arn_name) {
      return InvalidArgument(absl::StrCat("StreamARN ", AsAbsl(arn),
                                          " and StreamName ", AsAbsl(name),
                                          " do not name the same stream."));
    }
    return std::string(arn);
  }
  if (name.empty()) {
    return KinesisError(
        "ValidationException",
        "1 validation error detected: Value null at 'streamName' failed to "
        "satisfy constraint: Member must not be null");
  }
  FERRY_RETURN_IF_ERROR(ValidateName(name, "streamName"));
  return StreamEngine::Arn(Region(e, ctx), Account(e, ctx), name);
}

absl::StatusOr<std::shared_ptr<const StreamView>> FindStream(
    StreamEngine& e, const RequestContext& ctx, std::string_view name,
    std::string_view arn) {
  FERRY_ASSIGN_OR_RETURN(std::string resolved, ResolveArn(e, ctx, name, arn));
  return e.Find(resolved);
}

// AWS accepts "shardId-0", "shard-0", "<anything>-0" and "0" (kinesis.md §1.1).
bool ParseShardId(std::string_view id, ShardIndex* out) {
  size_t dash = id.find('-');
  std::string_view digits =
      dash == std::string_view::npos ? id : id.substr(dash + 1);
  int64_t v = 0;
  if (digits.empty() || !absl::SimpleAtoi(AsAbsl(digits), &v) || v < 0 ||
      v > 2147483647) {
    return false;
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  *out = static_cast<ShardIndex>(v);
  return true;
}

absl::StatusOr<const ShardMeta*> FindShard(const StreamMeta& m,
                                           std::string_view shard_id) {
  ShardIndex index = 0;
  if (!ParseShardId(shard_id, &index) || index >= m.shards.size()) {
    return KinesisError(
        "ResourceNotFoundException",
        absl::StrCat("Could not find shard ", AsAbsl(shard_id), " in stream ",
                     m.name, " under account ", m.account, "."));
  }
  return &m.shards[index];
}

// Resharding needs a provisioned stream in ACTIVE state.
absl::Status RequireReshardable(const StreamMeta& m, absl::Time now) {
  if (m.on_demand) {
    return KinesisError(
        "ValidationException",
        absl::StrCat("Request is invalid. Stream ", m.name, " under account ",
                     m.account, " is in On-Demand mode."));
  }
  std::string status = m.Status(now);
  if (status != "ACTIVE") {
    return KinesisError(
        "ResourceInUseException",
        absl::StrCat("Stream ", m.name, " under account ", m.account,
                     " not ACTIVE, instead in state ", status));
  }
  return absl::OkStatus();
}

bool Expired(const StreamView& v, const ShardMeta& s, absl::Time now) {
  return s.closed_ms.has_value() &&
         absl::FromUnixMillis(*s.closed_ms) <
             now - absl::Hours(v.meta.retention_hours);
}

KinesisShard ToShard(const ShardMeta& s) {
  KinesisShard out;
  out.shard_id = StreamEngine::ShardId(s.index);
  if (s.parent) out.parent_shard_id = StreamEngine::ShardId(*s.parent);
  if (s.adjacent_parent) {
    out.adjacent_parent_shard_id = StreamEngine::ShardId(*s.adjacent_parent);
  }
  out.hash_key_range = {U128ToDecimal(s.start), U128ToDecimal(s.end)};
  out.sequence_number_range.starting_sequence_number =
      internal::FormatSequenceNumber(s, 0, s.created_ms);
  if (s.closed_ms) {
    out.sequence_number_range.ending_sequence_number =
        internal::FormatSequenceNumber(s, internal::kEndingSeqIndex,
                                       *s.closed_ms);
  }
  return out;
}

std::vector<ChildShard> ChildrenOf(const StreamView& v, ShardIndex parent) {
  std::vector<ChildShard> out;
  for (const ShardMeta& s : v.meta.shards) {
    if (s.parent != parent && s.adjacent_parent != parent) continue;
    ChildShard c;
    c.shard_id = StreamEngine::ShardId(s.index);
    if (s.parent) c.parent_shards.push_back(StreamEngine::ShardId(*s.parent));
    if (s.adjacent_parent) {
      c.parent_shards.push_back(StreamEngine::ShardId(*s.adjacent_parent));
    }
    c.hash_key_range = {U128ToDecimal(s.start), U128ToDecimal(s.end)};
    out.push_back(std::move(c));
  }
  return out;
}

int OpenShardCount(const StreamView& v) {
  return static_cast<int>(v.open.size());
}

// ---- shard iterators
// --------------------------------------------------------- base64( 00 00 00 00
// 00 00 00 01 | version 1 | stream id (8) | shard (4) |
//         next sequence (8) | issued ms (8) | arn | check (8) )
// The check is the first 8 bytes of an MD5 over the rest: it catches typos
// and truncation, not forgery (a local double needs no secrecy).

void Put64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

struct Iterator {
  StreamId stream = 0;
  ShardIndex shard = 0;
  uint64_t next = 0;
  int64_t issued_ms = 0;
  std::string arn;
};

std::string Check(std::string_view body) {
  std::string hex = internal::Md5Hex(body);
  return hex.substr(0, 16);
}

std::string EncodeIterator(const Iterator& it) {
  std::string body("\0\0\0\0\0\0\0\1\1", 9);
  Put64(&body, it.stream);
  Put64(&body, it.shard);
  Put64(&body, it.next);
  Put64(&body, static_cast<uint64_t>(it.issued_ms));
  body += it.arn;
  std::string check = Check(body);
  uint64_t c = 0;
  if (!absl::SimpleHexAtoi(check, &c)) c = 0;
  Put64(&body, c);
  return internal::Base64Encode(body);
}

bool DecodeIterator(std::string_view text, Iterator* it) {
  std::string body;
  if (!internal::Base64Decode(text, &body) || body.size() < 9 + 32 + 8) {
    return false;
  }
  if (body.compare(0, 9, std::string("\0\0\0\0\0\0\0\1\1", 9)) != 0) {
    return false;
  }
  std::string_view payload(body.data(), body.size() - 8);
  uint64_t c = 0;
  if (!absl::SimpleHexAtoi(Check(payload), &c)) return false;
  if (Get64(body.data() + body.size() - 8) != c) return false;
  const char* p = body.data() + 9;
  it->stream = Get64(p);
  it->shard = static_cast<ShardIndex>(Get64(p + 8));
  it->next = Get64(p + 16);
  it->issued_ms = static_cast<int64_t>(Get64(p + 24));
  it->arn.assign(p + 32, payload.size() - 9 - 32);
  return true;
}

std::string AwsTime(absl::Time t) {
  return absl::FormatTime("%a %b %d %H:%M:%S UTC %Y", t, absl::UTCTimeZone());
}

absl::Status ValidateRetention(int hours) {
  if (hours < 24) {
    return InvalidArgument(absl::StrCat(
        "Minimum allowed retention period is 24 hours. Requested retention "
        "period (",
        hours, " hours) is too short."));
  }
  if (hours > 8760) {
    return InvalidArgument(absl::StrCat(
        "Maximum allowed retention period is 8760 hours. Requested retention "
        "period (",
        hours, " hours) is too long."));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- control plane
// -----------------------------------------------------------

absl::Status Kinesis::CreateStream(const RequestContext& ctx,
                                   const CreateStreamRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_RETURN_IF_ERROR(ValidateName(r.stream_name, "streamName"));
  bool on_demand = false;
  if (r.stream_mode.has_value()) {
    if (*r.stream_mode == "ON_DEMAND") {
      on_demand = true;
    } else if (*r.stream_mode != "PROVISIONED") {
      return Validation(*r.stream_mode, "streamModeDetails.streamMode",
                        "satisfy enum value set: [PROVISIONED, ON_DEMAND]");
    }
  } else if (!r.shard_count.has_value()) {
    on_demand = true;  // AWS: neither ShardCount nor mode -> on-demand, 4
  }
  int shards = on_demand ? 4 : r.shard_count.value_or(4);
  if (!on_demand && !r.shard_count.has_value()) {
    return KinesisError("ValidationException",
                        "1 validation error detected: Value null at "
                        "'shardCount' failed to satisfy constraint: Member "
                        "must not be null");
  }
  if (r.shard_count.has_value() && !on_demand) {
    if (*r.shard_count < 1) {
      return Validation(std::to_string(*r.shard_count), "shardCount",
                        "have value greater than or equal to 1");
    }
    if (*r.shard_count > 100000) {
      return Validation(std::to_string(*r.shard_count), "shardCount",
                        "have value less than or equal to 100000");
    }
  }
  if (r.tags.size() > 50) {
    return InvalidArgument(
        "Failed to create stream: a stream cannot have more than 50 tags.");
  }
  const std::string account = Account(*engine_, ctx);
  const std::string region = Region(*engine_, ctx);
  const StrictModeOptions& strict = engine_->options().strict;
  if (strict.enabled) {
    FERRY_ASSIGN_OR_RETURN(std::vector<StoredStream> all,
                           engine_->List(account, region));
    int64_t open = 0;
    for (const StoredStream& s : all) {
      StreamMeta m;
      if (!StreamMeta::Decode(s.config, &m)) continue;
      for (const ShardMeta& sh : m.shards) {
        if (!sh.closed_ms) ++open;
      }
    }
    if (open + shards > strict.kinesis_account_shard_limit) {
      return KinesisError(
          "LimitExceededException",
          absl::StrCat(
              "This request would exceed the shard limit for the account ",
              account, " in ", region,
              ". Current shard count for the account: ", open,
              ". Limit: ", strict.kinesis_account_shard_limit,
              ". Number of additional shards that would have resulted from "
              "this request: ",
              shards,
              ". Refer to the AWS Service Limits page "
              "(https://docs.aws.amazon.com/general/latest/gr/"
              "aws_service_limits.html) for current limits and how to "
              "request higher limits."));
    }
  }
  return engine_
      ->Create(account, region, r.stream_name, shards, on_demand, 24, r.tags)
      .status();
}

absl::Status Kinesis::DeleteStream(const RequestContext& ctx,
                                   const DeleteStreamRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      FindStream(*engine_, ctx, r.stream_name, r.stream_arn));
  if (!v->meta.consumers.empty() && !r.enforce_consumer_deletion) {
    return KinesisError(
        "ResourceInUseException",
        absl::StrCat("Stream ", v->meta.name, " under account ",
                     v->meta.account,
                     " has registered consumers; set EnforceConsumerDeletion "
                     "to delete it with them."));
  }
  return engine_->Delete(*v);
}

absl::StatusOr<DescribeStreamResult> Kinesis::DescribeStream(
    const RequestContext& ctx, const DescribeStreamRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.limit.has_value() && (*r.limit < 1 || *r.limit > 10000)) {
    return Validation(std::to_string(*r.limit), "limit",
                      *r.limit < 1 ? "have value greater than or equal to 1"
                                   : "have value less than or equal to 10000");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      FindStream(*engine_, ctx, r.stream_name, r.stream_arn));
  const absl::Time now = engine_->clock().Now();
  const size_t limit = std::min(r.limit.value_or(100), 100);
  DescribeStreamResult out;
  StreamDescription& d = out.stream_description;
  d.stream_name = v->meta.name;
  d.stream_arn = v->arn();
  d.stream_status = v->meta.Status(now);
  d.stream_mode = v->meta.on_demand ? "ON_DEMAND" : "PROVISIONED";
  d.retention_period_hours = v->meta.retention_hours;
  d.stream_creation_timestamp = absl::FromUnixMillis(v->meta.created_ms);
  int64_t after = -1;
  if (r.exclusive_start_shard_id.has_value()) {
    ShardIndex i = 0;
    if (ParseShardId(*r.exclusive_start_shard_id, &i)) after = i;
  }
  if (d.stream_status == "CREATING") return out;
  for (const ShardMeta& s : v->meta.shards) {
    if (static_cast<int64_t>(s.index) <= after || Expired(*v, s, now)) {
      continue;
    }
    if (d.shards.size() >= limit) {
      d.has_more_shards = true;
      break;
    }
    d.shards.push_back(ToShard(s));
  }
  return out;
}

absl::StatusOr<DescribeStreamSummaryResult> Kinesis::DescribeStreamSummary(
    const RequestContext& ctx, const StreamRef& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      FindStream(*engine_, ctx, r.stream_name, r.stream_arn));
  const absl::Time now = engine_->clock().Now();
  DescribeStreamSummaryResult out;
  StreamDescriptionSummary& d = out.stream_description_summary;
  d.stream_name = v->meta.name;
  d.stream_arn = v->arn();
  d.stream_status = v->meta.Status(now);
  d.stream_mode = v->meta.on_demand ? "ON_DEMAND" : "PROVISIONED";
  d.retention_period_hours = v->meta.retention_hours;
  d.stream_creation_timestamp = absl::FromUnixMillis(v->meta.created_ms);
  d.open_shard_count = OpenShardCount(*v);
  d.consumer_count = static_cast<int>(v->meta.consumers.size());
  return out;
}

absl::StatusOr<ListStreamsResult> Kinesis::ListStreams(
    const RequestContext& ctx, const ListStreamsRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.limit.has_value() && (*r.limit < 1 || *r.limit > 10000)) {
    return Validation(std::to_string(*r.limit), "limit",
                      *r.limit < 1 ? "have value greater than or equal to 1"
                                   : "have value less than or equal to 10000");
  }
  std::string start_after = r.exclusive_start_stream_name.value_or("");
  if (r.next_token.has_value()) {
    std::string decoded;
    if (!internal::Base64Decode(*r.next_token, &decoded)) {
      return InvalidArgument("Invalid NextToken.");
    }
    start_after = decoded;
  }
  const size_t limit = std::min(r.limit.value_or(100), 100);
  FERRY_ASSIGN_OR_RETURN(
      std::vector<StoredStream> all,
      engine_->List(Account(*engine_, ctx), Region(*engine_, ctx)));
  const absl::Time now = engine_->clock().Now();
  ListStreamsResult out;
  for (const StoredStream& s : all) {
    StreamMeta m;
    if (!StreamMeta::Decode(s.config, &m)) continue;
    if (!start_after.empty() && m.name <= start_after) continue;
    if (out.stream_names.size() >= limit) {
      out.has_more_streams = true;
      out.next_token = internal::Base64Encode(out.stream_names.back());
      break;
    }
    out.stream_names.push_back(m.name);
    out.stream_summaries.push_back({m.name, s.key, m.Status(now),
                                    m.on_demand ? "ON_DEMAND" : "PROVISIONED",
                                    absl::FromUnixMillis(m.created_ms)});
  }
  return out;
}

absl::StatusOr<ListShardsResult> Kinesis::ListShards(
    const RequestContext& ctx, const ListShardsRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.max_results.has_value() &&
      (*r.max_results < 1 || *r.max_results > 10000)) {
    return Validation(std::to_string(*r.max_results), "maxResults",
                      *r.max_results < 1
                          ? "have value greater than or equal to 1"
                          : "have value less than or equal to 10000");
  }
  const bool named = !r.stream_name.empty() || !r.stream_arn.empty();
  if (r.next_token.has_value() && named) {
    return InvalidArgument(
        "NextToken and StreamName cannot be provided together.");
  }
  if (!r.next_token.has_value() && !named) {
    return InvalidArgument(
        "Either NextToken or StreamName should be provided.");
  }
  const absl::Time now = engine_->clock().Now();
  std::string arn;
  int64_t after = -1;
  std::optional<ShardFilter> filter = r.shard_filter;
  if (r.next_token.has_value()) {
    // Token: "<issued ms>\n<last shard index>\n<arn>\n<filter type>\n<ts ms>"
    std::string decoded;
    std::vector<std::string> parts;
    int64_t issued = 0, ts = 0;
    if (internal::Base64Decode(*r.next_token, &decoded)) {
      parts = absl::StrSplit(decoded, '\n');
    }
    if (parts.size() != 5 || !absl::SimpleAtoi(parts[0], &issued) ||
        !absl::SimpleAtoi(parts[1], &after) ||
        !absl::SimpleAtoi(parts[4], &ts)) {
      return InvalidArgument("Invalid NextToken.");
    }
    if (absl::ToUnixMillis(now) - issued > kIteratorLifetimeMs) {
      return KinesisError("ExpiredNextTokenException",
                          "The provided NextToken has expired.");
    }
    arn = parts[2];
    if (!parts[3].empty()) {
      filter =
          ShardFilter{.type = parts[3], .timestamp = absl::FromUnixMillis(ts)};
    }
  } else {
    FERRY_ASSIGN_OR_RETURN(
        arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
    if (r.exclusive_start_shard_id.has_value()) {
      ShardIndex i = 0;
      if (ParseShardId(*r.exclusive_start_shard_id, &i)) after = i;
    }
  }
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> v,
                         engine_->Find(arn));
  const absl::Time horizon = now - absl::Hours(v->meta.retention_hours);
  if (filter.has_value()) {
    const std::string& t = filter->type;
    if (t == "AFTER_SHARD_ID") {
      ShardIndex i = 0;
      if (!filter->shard_id.has_value() ||
          !ParseShardId(*filter->shard_id, &i)) {
        return InvalidArgument(
            "ShardId must be specified for ShardFilter type AFTER_SHARD_ID.");
      }
      after = std::max<int64_t>(after, i);
    } else if ((t == "AT_TIMESTAMP" || t == "FROM_TIMESTAMP") &&
               !filter->timestamp.has_value()) {
      return InvalidArgument(absl::StrCat(
          "Timestamp must be specified for ShardFilter type ", t, "."));
    } else if (t != "AT_TRIM_HORIZON" && t != "FROM_TRIM_HORIZON" &&
               t != "AT_LATEST" && t != "AT_TIMESTAMP" &&
               t != "FROM_TIMESTAMP") {
      return Validation(t, "shardFilter.type",
                        "satisfy enum value set: [AFTER_SHARD_ID, "
                        "AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, "
                        "AT_TIMESTAMP, FROM_TIMESTAMP]");
    }
  }
  auto keep = [&](const ShardMeta& s) {
    if (Expired(*v, s, now)) return false;
    if (!filter.has_value()) return true;
    const std::string& t = filter->type;
    const absl::Time created = absl::FromUnixMillis(s.created_ms);
    const std::optional<absl::Time> closed =
        s.closed_ms
            ? std::optional<absl::Time>(absl::FromUnixMillis(*s.closed_ms))
            : std::nullopt;
    if (t == "AT_LATEST") return !closed.has_value();
    if (t == "AT_TRIM_HORIZON") {
      return (!s.parent.has_value() || created <= horizon) &&
             (!closed.has_value() || *closed >= horizon);
    }
    if (t == "AT_TIMESTAMP") {
      const absl::Time ts = std::max(*filter->timestamp, horizon);
      return (created <= ts || !s.parent.has_value()) &&
             (!closed.has_value() || *closed >= ts);
    }
    if (t == "FROM_TIMESTAMP") {
      const absl::Time ts = std::max(*filter->timestamp, horizon);
      return !closed.has_value() || *closed >= ts;
    }
    return true;  // FROM_TRIM_HORIZON, AFTER_SHARD_ID
  };
  const size_t limit = std::min(r.max_results.value_or(1000), 1000);
  ListShardsResult out;
  for (const ShardMeta& s : v->meta.shards) {
    if (static_cast<int64_t>(s.index) <= after || !keep(s)) continue;
    if (out.shards.size() >= limit) {
      // The last shard returned.
      ShardIndex last_index = 0;
      ParseShardId(out.shards.back().shard_id, &last_index);
      std::string token = absl::StrCat(
          absl::ToUnixMillis(now), "\n", last_index, "\n", arn, "\n",
          filter ? filter->type : "", "\n",
          filter && filter->timestamp ? absl::ToUnixMillis(*filter->timestamp)
                                      : 0);
      out.next_token = internal::Base64Encode(token);
      break;
    }
    out.shards.push_back(ToShard(s));
  }
  return out;
}

// ---- data plane
// --------------------------------------------------------------

namespace {

absl::Status ValidateRecord(std::string_view data, std::string_view key,
                            const std::optional<std::string>& ehk,
                            std::string_view prefix,
                            std::optional<u128>* hash) {
  if (data.size() > kMaxRecordBytes) {
    return Validation(absl::StrCat("java.nio.HeapByteBuffer[pos=0 lim=",
                                   data.size(), " cap=", data.size(), "]"),
                      absl::StrCat(AsAbsl(prefix), "data"),
                      "have length less than or equal to 1048576");
  }
  const size_t key_chars = Utf8Length(key);
  if (key_chars < 1) {
    return Validation(key, absl::StrCat(AsAbsl(prefix), "partitionKey"),
                      "have length greater than or equal to 1");
  }
  if (key_chars > 256) {
    return Validation(key, absl::StrCat(AsAbsl(prefix), "partitionKey"),
                      "have length less than or equal to 256");
  }
  if (ehk.has_value()) {
    bool pattern =
        !ehk->empty() && ehk->size() <= 39 && (*ehk == "0" || (*ehk)[0] != '0');
    for (char c : *ehk) pattern = pattern && c >= '0' && c <= '9';
    if (!pattern) {
      return Validation(
          *ehk, absl::StrCat(AsAbsl(prefix), "explicitHashKey"),
          "satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
    }
    u128 v = 0;
    if (!internal::ParseU128(*ehk, &v)) {
      return InvalidArgument(absl::StrCat(
          "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
          "[0, 2^128-1]. Specified value was ",
          *ehk));
    }
    *hash = v;
  }
  if (data.size() + key.size() > kMaxRecordBytes) {
    return InvalidArgument(absl::StrCat(
        "Record size (data plus partition key) exceeds the limit of 1048576 "
        "bytes: ",
        data.size() + key.size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PutRecordResult> Kinesis::PutRecord(const RequestContext& ctx,
                                                   const PutRecordRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  std::optional<u128> hash;
  FERRY_RETURN_IF_ERROR(
      ValidateRecord(r.data, r.partition_key, r.explicit_hash_key, "", &hash));
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  if (r.sequence_number_for_ordering.has_value()) {
    internal::ParsedSequenceNumber parsed;
    const std::string& s = *r.sequence_number_for_ordering;
    if (s != "0" && !internal::ParseSequenceNumber(s, &parsed)) {
      FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> v,
                             engine_->Find(arn));
      return InvalidArgument(absl::StrCat(
          "ExclusiveMinimumSequenceNumber ", s, " used in PutRecord on stream ",
          v->meta.name, " under account ", v->meta.account, " is invalid."));
    }
    // Sequence numbers of a shard always increase (they are assigned under
    // the shard's order), so the guarantee holds without waiting.
  }
  StreamEngine::PutEntry entry{r.partition_key, r.data, hash};
  absl::Status status;
  StreamPosition position;
  std::shared_ptr<const StreamView> v;
  FERRY_RETURN_IF_ERROR(
      engine_->Put(arn, {&entry, 1}, {&status, 1}, {&position, 1}, &v));
  FERRY_RETURN_IF_ERROR(status);
  const ShardMeta& shard = v->meta.shards[position.shard];
  return PutRecordResult{.shard_id = StreamEngine::ShardId(position.shard),
                         .sequence_number = internal::FormatSequenceNumber(
                             shard, position.sequence,
                             absl::ToUnixMillis(engine_->clock().Now()))};
}

absl::StatusOr<PutRecordsResult> Kinesis::PutRecords(
    const RequestContext& ctx, const PutRecordsRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.records.empty()) {
    return Validation("[]", "records",
                      "have length greater than or equal to 1");
  }
  if (r.records.size() > 500) {
    return KinesisError(
        "ValidationException",
        "1 validation error detected: Value at 'records' failed to satisfy "
        "constraint: Member must have length less than or equal to 500");
  }
  std::vector<StreamEngine::PutEntry> entries(r.records.size());
  size_t total = 0;
  for (size_t i = 0; i < r.records.size(); ++i) {
    const PutRecordsRequestEntry& e = r.records[i];
    std::optional<u128> hash;
    FERRY_RETURN_IF_ERROR(
        ValidateRecord(e.data, e.partition_key, e.explicit_hash_key,
                       absl::StrCat("records.", i + 1, ".member."), &hash));
    entries[i] = {e.partition_key, e.data, hash};
    total += e.data.size() + e.partition_key.size();
  }
  if (total > kMaxPutRecordsBytes) {
    return InvalidArgument("Records size exceeds 5 MB limit");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  std::vector<absl::Status> statuses(entries.size());
  std::vector<StreamPosition> positions(entries.size());
  std::shared_ptr<const StreamView> v;
  FERRY_RETURN_IF_ERROR(engine_->Put(
      arn, entries, std::span<absl::Status>(statuses), positions, &v));
  const int64_t now_ms = absl::ToUnixMillis(engine_->clock().Now());
  PutRecordsResult out;
  out.records.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    PutRecordsResultEntry& e = out.records[i];
    if (!statuses[i].ok()) {
      ++out.failed_record_count;
      std::optional<AwsErrorInfo> info = GetAwsError(statuses[i]);
      e.error_code =
          info ? std::string(info->shape) : std::string("InternalFailure");
      e.error_message = std::string(statuses[i].message());
      continue;
    }
    e.shard_id = StreamEngine::ShardId(positions[i].shard);
    e.sequence_number = internal::FormatSequenceNumber(
        v->meta.shards[positions[i].shard], positions[i].sequence, now_ms);
  }
  return out;
}

absl::StatusOr<GetShardIteratorResult> Kinesis::GetShardIterator(
    const RequestContext& ctx, const GetShardIteratorRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  const std::string& type = r.shard_iterator_type;
  if (type != "TRIM_HORIZON" && type != "LATEST" &&
      type != "AT_SEQUENCE_NUMBER" && type != "AFTER_SEQUENCE_NUMBER" &&
      type != "AT_TIMESTAMP") {
    return Validation(type, "shardIteratorType",
                      "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
                      "LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, "
                      "TRIM_HORIZON]");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      FindStream(*engine_, ctx, r.stream_name, r.stream_arn));
  const absl::Time now = engine_->clock().Now();
  ShardIndex index = 0;
  if (!ParseShardId(r.shard_id, &index) || index >= v->meta.shards.size() ||
      Expired(*v, v->meta.shards[index], now)) {
    return internal::ShardNotFoundError(r.shard_id, v->meta.name,
                                        v->meta.account);
  }
  const ShardMeta& shard = v->meta.shards[index];
  const bool by_seq =
      type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (by_seq && !r.starting_sequence_number.has_value()) {
    return InvalidArgument(absl::StrCat(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER "
        "and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
        "StartingSequenceNumber. Request specified ",
        type, " and no StartingSequenceNumber."));
  }
  if (!by_seq && type != "AT_TIMESTAMP" &&
      r.starting_sequence_number.has_value()) {
    return InvalidArgument(absl::StrCat(
        "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER "
        "and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no "
        "StartingSequenceNumber. Request specified ",
        type, " and also a StartingSequenceNumber."));
  }
  Iterator it{.stream = v->record.id,
              .shard = index,
              .next = 0,
              .issued_ms = absl::ToUnixMillis(now),
              .arn = v->arn()};
  if (type == "TRIM_HORIZON") {
    it.next = 0;
  } else if (type == "LATEST") {
    FERRY_ASSIGN_OR_RETURN(std::vector<ShardState> states, engine_->Shards(*v));
    it.next = states[index].next_sequence;
  } else if (type == "AT_TIMESTAMP") {
    if (!r.timestamp.has_value()) {
      return InvalidArgument(
          "Must specify timestampInMillis parameter for iterator of type "
          "AT_TIMESTAMP. Current request has no timestamp parameter.");
    }
    if (*r.timestamp > now) {
      return InvalidArgument(absl::StrCat(
          "The timestampInMillis parameter cannot be greater than the "
          "currentTimestampInMillis. timestampInMillis: ",
          absl::ToUnixMillis(*r.timestamp),
          ", currentTimestampInMillis: ", absl::ToUnixMillis(now)));
    }
    FERRY_ASSIGN_OR_RETURN(it.next, engine_->SeekTime(*v, index, *r.timestamp));
  } else {
    const std::string& s = *r.starting_sequence_number;
    internal::ParsedSequenceNumber parsed;
    if (!internal::ParseSequenceNumber(s, &parsed)) {
      return InvalidArgument(absl::StrCat(
          "StartingSequenceNumber ", s, " used in GetShardIterator on shard ",
          StreamEngine::ShardId(index), " in stream ", v->meta.name,
          " under account ", v->meta.account, " is invalid."));
    }
    if (parsed.shard != index) {
      return InvalidArgument(
          absl::StrCat("Invalid StartingSequenceNumber. It encodes ",
                       StreamEngine::ShardId(parsed.shard),
                       ", while it was used in a call to a shard with ",
                       StreamEngine::ShardId(index)));
    }
    if (parsed.shard_created_secs != shard.created_ms / 1000) {
      return InvalidArgument(absl::StrCat(
          "StartingSequenceNumber ", s, " used in GetShardIterator on shard ",
          StreamEngine::ShardId(index), " in stream ", v->meta.name,
          " under account ", v->meta.account,
          " is invalid because it did not come from this stream."));
    }
    uint64_t seq = parsed.seq;
    if (seq == internal::kEndingSeqIndex) {
      // A closed shard's EndingSequenceNumber: its end.
      FERRY_ASSIGN_OR_RETURN(std::vector<ShardState> states,
                             engine_->Shards(*v));
      seq = states[index].next_sequence;
      it.next = seq;
    } else {
      it.next = type == "AT_SEQUENCE_NUMBER" ? seq : seq + 1;
    }
  }
  return GetShardIteratorResult{.shard_iterator = EncodeIterator(it)};
}

absl::StatusOr<GetRecordsResult> Kinesis::GetRecords(
    const RequestContext& ctx, const GetRecordsRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.limit.has_value() && (*r.limit < 1 || *r.limit > 10000)) {
    return Validation(std::to_string(*r.limit), "limit",
                      *r.limit < 1 ? "have value greater than or equal to 1"
                                   : "have value less than or equal to 10000");
  }
  if (r.shard_iterator.empty() || r.shard_iterator.size() > 512) {
    return Validation(r.shard_iterator, "shardIterator",
                      r.shard_iterator.empty()
                          ? "have length greater than or equal to 1"
                          : "have length less than or equal to 512");
  }
  Iterator it;
  if (!DecodeIterator(r.shard_iterator, &it)) {
    return InvalidArgument("Invalid ShardIterator.");
  }
  const absl::Time now = engine_->clock().Now();
  if (absl::ToUnixMillis(now) - it.issued_ms > kIteratorLifetimeMs) {
    return KinesisError(
        "ExpiredIteratorException",
        absl::StrCat("Iterator expired. The iterator was created at time ",
                     AwsTime(absl::FromUnixMillis(it.issued_ms)),
                     " while right now it is ", AwsTime(now),
                     " which is further in the future than the tolerated "
                     "delay of 300000 milliseconds."));
  }
  absl::StatusOr<std::shared_ptr<const StreamView>> found =
      engine_->Find(it.arn);
  // arn:aws:kinesis:<region>:<account>:stream/<name>
  std::vector<std::string> parts = absl::StrSplit(it.arn, ':');
  const std::string name =
      parts.size() == 6 && parts[5].size() > 7 ? parts[5].substr(7) : it.arn;
  const std::string account = parts.size() == 6 ? parts[4] : "";
  if (!found.ok() || (*found)->record.id != it.stream ||
      it.shard >= (*found)->meta.shards.size()) {
    if (!found.ok() && !absl::IsNotFound(found.status())) {
      return found.status();
    }
    return internal::ShardNotFoundError(StreamEngine::ShardId(it.shard), name,
                                        account);
  }
  const StreamView& v = **found;
  FERRY_RETURN_IF_ERROR(engine_->ChargeRead(v, it.shard, 0, true));
  FERRY_ASSIGN_OR_RETURN(
      StreamStore::ReadResult read,
      engine_->Read(v, it.shard, it.next, r.limit.value_or(10000), 10 << 20));
  const ShardMeta& shard = v.meta.shards[it.shard];
  GetRecordsResult out;
  size_t bytes = 0;
  out.records.reserve(read.records.size());
  for (StoredStreamRecord& rec : read.records) {
    const int64_t ms = absl::ToUnixMillis(rec.arrival);
    bytes += rec.data.size() + rec.partition_key.size();
    out.records.push_back(
        {internal::FormatSequenceNumber(shard, rec.sequence, ms), rec.arrival,
         std::move(rec.data), std::move(rec.partition_key)});
  }
  engine_->ChargeRead(v, it.shard, bytes, false).IgnoreError();
  const bool at_end = read.next_sequence >= read.shard.next_sequence;
  if (at_end || out.records.empty()) {
    out.millis_behind_latest = 0;
  } else {
    out.millis_behind_latest = std::max<int64_t>(
        0, absl::ToUnixMillis(now) -
               absl::ToUnixMillis(
                   out.records.back().approximate_arrival_timestamp));
  }
  if (read.shard.closed && at_end) {
    out.child_shards = ChildrenOf(v, it.shard);
    return out;  // no next iterator
  }
  Iterator next = it;
  next.next = read.next_sequence;
  next.issued_ms = absl::ToUnixMillis(now);
  out.next_shard_iterator = EncodeIterator(next);
  return out;
}

// ---- resharding
// ----------------------------------------------------------------

namespace {

absl::Status AlreadyResharded(const StreamMeta& m, ShardIndex i) {
  return InvalidArgument(absl::StrCat(
      "Shard ", StreamEngine::ShardId(i), " in stream ", m.name,
      " under account ", m.account,
      " has already been merged or split, and thus is not eligible for "
      "merging or splitting."));
}

absl::Status CheckShardQuota(StreamEngine& e, const StreamMeta& m, int added) {
  const StrictModeOptions& strict = e.options().strict;
  if (!strict.enabled) return absl::OkStatus();
  FERRY_ASSIGN_OR_RETURN(std::vector<StoredStream> all,
                         e.List(m.account, m.region));
  int64_t open = 0;
  for (const StoredStream& s : all) {
    StreamMeta other;
    if (!StreamMeta::Decode(s.config, &other)) continue;
    for (const ShardMeta& sh : other.shards) {
      if (!sh.closed_ms) ++open;
    }
  }
  if (open + added > strict.kinesis_account_shard_limit) {
    return KinesisError(
        "LimitExceededException",
        absl::StrCat("This request would exceed the shard limit for the "
                     "account ",
                     m.account, " in ", m.region,
                     ". Current shard count for the account: ", open,
                     ". Limit: ", strict.kinesis_account_shard_limit,
                     ". Number of additional shards that would have resulted "
                     "from this request: ",
                     added, "."));
  }
  return absl::OkStatus();
}

void MarkUpdating(StreamEngine& e, StreamMeta& m, absl::Time now) {
  const StrictModeOptions& strict = e.options().strict;
  if (strict.enabled && strict.kinesis_status_delay > absl::ZeroDuration()) {
    m.pending_status = "UPDATING";
    m.status_until_ms = absl::ToUnixMillis(now + strict.kinesis_status_delay);
  }
}

ShardMeta NewShard(const StreamMeta& m, u128 start, u128 end, int64_t now_ms) {
  ShardMeta s;
  s.index = static_cast<ShardIndex>(m.shards.size());
  s.start = start;
  s.end = end;
  // Children are created one second after their parents close, so every
  // child sequence number is greater than every parent one (kinesis.md §1.4).
  s.created_ms = now_ms + 1000;
  return s;
}

}  // namespace

absl::Status Kinesis::SplitShard(const RequestContext& ctx,
                                 const SplitShardRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  u128 k = 0;
  if (!internal::ParseU128(r.new_starting_hash_key, &k)) {
    return Validation(r.new_starting_hash_key, "newStartingHashKey",
                      "satisfy regular expression pattern: 0|([1-9]\\d{0,38})");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  const absl::Time now = engine_->clock().Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  return engine_
      ->Update(arn,
               [&](StreamMeta& m, std::vector<ShardIndex>& close,
                   uint32_t& add) -> absl::Status {
                 FERRY_RETURN_IF_ERROR(RequireReshardable(m, now));
                 FERRY_ASSIGN_OR_RETURN(const ShardMeta* parent,
                                        FindShard(m, r.shard_to_split));
                 const ShardMeta p = *parent;
                 if (p.closed_ms) return AlreadyResharded(m, p.index);
                 if (!(k > p.start + 1 && k < p.end)) {
                   return InvalidArgument(absl::StrCat(
                       "NewStartingHashKey ", r.new_starting_hash_key,
                       " used in SplitShard() on shard ",
                       StreamEngine::ShardId(p.index), " in stream ", m.name,
                       " under account ", m.account,
                       " is not both greater than one plus the shard's "
                       "StartingHashKey ",
                       U128ToDecimal(p.start),
                       " and less than the shard's EndingHashKey ",
                       U128ToDecimal(p.end), "."));
                 }
                 FERRY_RETURN_IF_ERROR(CheckShardQuota(*engine_, m, 1));
                 m.shards[p.index].closed_ms = now_ms;
                 ShardMeta low = NewShard(m, p.start, k - 1, now_ms);
                 low.parent = p.index;
                 m.shards.push_back(low);
                 ShardMeta high = NewShard(m, k, p.end, now_ms);
                 high.parent = p.index;
                 m.shards.push_back(high);
                 MarkUpdating(*engine_, m, now);
                 close.push_back(p.index);
                 add = 2;
                 return absl::OkStatus();
               })
      .status();
}

absl::Status Kinesis::MergeShards(const RequestContext& ctx,
                                  const MergeShardsRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  const absl::Time now = engine_->clock().Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  return engine_
      ->Update(arn,
               [&](StreamMeta& m, std::vector<ShardIndex>& close,
                   uint32_t& add) -> absl::Status {
                 FERRY_RETURN_IF_ERROR(RequireReshardable(m, now));
                 FERRY_ASSIGN_OR_RETURN(const ShardMeta* a,
                                        FindShard(m, r.shard_to_merge));
                 FERRY_ASSIGN_OR_RETURN(
                     const ShardMeta* b,
                     FindShard(m, r.adjacent_shard_to_merge));
                 const ShardMeta first = *a, second = *b;
                 if (first.closed_ms) return AlreadyResharded(m, first.index);
                 if (second.closed_ms) return AlreadyResharded(m, second.index);
                 if (first.end == internal::kMaxHashKey ||
                     first.end + 1 != second.start) {
                   return InvalidArgument(absl::StrCat(
                       "Shards ", StreamEngine::ShardId(first.index), " and ",
                       StreamEngine::ShardId(second.index), " in stream ",
                       m.name, " under account ", m.account,
                       " are not an adjacent pair of shards eligible for "
                       "merging"));
                 }
                 m.shards[first.index].closed_ms = now_ms;
                 m.shards[second.index].closed_ms = now_ms;
                 ShardMeta child = NewShard(m, first.start, second.end, now_ms);
                 child.parent = first.index;
                 child.adjacent_parent = second.index;
                 m.shards.push_back(child);
                 MarkUpdating(*engine_, m, now);
                 close = {first.index, second.index};
                 add = 1;
                 return absl::OkStatus();
               })
      .status();
}

absl::StatusOr<UpdateShardCountResult> Kinesis::UpdateShardCount(
    const RequestContext& ctx, const UpdateShardCountRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.target_shard_count < 1 || r.target_shard_count > 100000) {
    return Validation(std::to_string(r.target_shard_count), "targetShardCount",
                      r.target_shard_count < 1
                          ? "have value greater than or equal to 1"
                          : "have value less than or equal to 100000");
  }
  if (r.scaling_type != "UNIFORM_SCALING") {
    return Validation(r.scaling_type, "scalingType",
                      "satisfy enum value set: [UNIFORM_SCALING]");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  const absl::Time now = engine_->clock().Now();
  const int64_t now_ms = absl::ToUnixMillis(now);
  int current = 0;
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      engine_->Update(
          arn,
          [&](StreamMeta& m, std::vector<ShardIndex>& close,
              uint32_t& add) -> absl::Status {
            FERRY_RETURN_IF_ERROR(RequireReshardable(m, now));
            std::vector<ShardMeta> open;
            for (const ShardMeta& s : m.shards) {
              if (!s.closed_ms) open.push_back(s);
            }
            std::sort(open.begin(), open.end(),
                      [](const ShardMeta& a, const ShardMeta& b) {
                        return a.start < b.start;
                      });
            current = static_cast<int>(open.size());
            const int target = r.target_shard_count;
            if (target > 2 * current) {
              return KinesisError(
                  "LimitExceededException",
                  absl::StrCat("UpdateShardCount cannot scale up over double "
                               "your current open shard count. Current open "
                               "shard count: ",
                               current, " Target shard count: ", target));
            }
            if (2 * target < current) {
              return KinesisError(
                  "LimitExceededException",
                  absl::StrCat("UpdateShardCount cannot scale down below half "
                               "your current open shard count. Current open "
                               "shard count: ",
                               current, " Target shard count: ", target));
            }
            if (target == current) return absl::OkStatus();
            FERRY_RETURN_IF_ERROR(
                CheckShardQuota(*engine_, m, target - current));
            // Every open shard closes; `target` new shards split 2^128
            // evenly, each naming the open shards its range overlaps first
            // and last as its parents.
            const u128 n = static_cast<u128>(target);
            const u128 step = internal::kMaxHashKey / n +
                              ((internal::kMaxHashKey % n) + 1 == n ? 1 : 0);
            for (const ShardMeta& s : open) {
              m.shards[s.index].closed_ms = now_ms;
              close.push_back(s.index);
            }
            for (int i = 0; i < target; ++i) {
              const u128 start = static_cast<u128>(i) * step;
              const u128 end = i + 1 == target
                                   ? internal::kMaxHashKey
                                   : static_cast<u128>(i + 1) * step - 1;
              ShardMeta child = NewShard(m, start, end, now_ms);
              for (const ShardMeta& p : open) {
                if (p.end < start || p.start > end) continue;
                if (!child.parent) {
                  child.parent = p.index;
                } else {
                  child.adjacent_parent = p.index;
                }
              }
              m.shards.push_back(child);
            }
            add = static_cast<uint32_t>(target);
            MarkUpdating(*engine_, m, now);
            return absl::OkStatus();
          }));
  return UpdateShardCountResult{.stream_name = v->meta.name,
                                .stream_arn = v->arn(),
                                .current_shard_count = current,
                                .target_shard_count = r.target_shard_count};
}

// ---- retention and tags
// --------------------------------------------------------

absl::Status Kinesis::IncreaseStreamRetentionPeriod(
    const RequestContext& ctx, const RetentionPeriodRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_RETURN_IF_ERROR(ValidateRetention(r.retention_period_hours));
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  return engine_
      ->Update(arn,
               [&](StreamMeta& m, std::vector<ShardIndex>&,
                   uint32_t&) -> absl::Status {
                 if (r.retention_period_hours < m.retention_hours) {
                   return InvalidArgument(absl::StrCat(
                       "Requested retention period (", r.retention_period_hours,
                       " hours) for stream ", m.name,
                       " can not be shorter than existing retention period (",
                       m.retention_hours,
                       " hours). Use DecreaseRetentionPeriod API."));
                 }
                 m.retention_hours = r.retention_period_hours;
                 return absl::OkStatus();
               })
      .status();
}

absl::Status Kinesis::DecreaseStreamRetentionPeriod(
    const RequestContext& ctx, const RetentionPeriodRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_RETURN_IF_ERROR(ValidateRetention(r.retention_period_hours));
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  return engine_
      ->Update(arn,
               [&](StreamMeta& m, std::vector<ShardIndex>&,
                   uint32_t&) -> absl::Status {
                 if (r.retention_period_hours > m.retention_hours) {
                   return InvalidArgument(absl::StrCat(
                       "Requested retention period (", r.retention_period_hours,
                       " hours) for stream ", m.name,
                       " can not be longer than existing retention period (",
                       m.retention_hours,
                       " hours). Use IncreaseRetentionPeriod API."));
                 }
                 m.retention_hours = r.retention_period_hours;
                 return absl::OkStatus();
               })
      .status();
}

absl::Status Kinesis::AddTagsToStream(const RequestContext& ctx,
                                      const AddTagsToStreamRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.tags.empty() || r.tags.size() > 50) {
    return Validation("{}", "tags",
                      r.tags.empty() ? "have length greater than or equal to 1"
                                     : "have length less than or equal to 50");
  }
  for (const auto& [k, val] : r.tags) {
    if (k.empty() || k.size() > 128) {
      return Validation(k, "tags", "have length between 1 and 128");
    }
    if (val.size() > 256) {
      return Validation(val, "tags", "have length less than or equal to 256");
    }
  }
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  return engine_
      ->Update(arn,
               [&](StreamMeta& m, std::vector<ShardIndex>&,
                   uint32_t&) -> absl::Status {
                 std::map<std::string, std::string> tags = m.tags;
                 for (const auto& [k, val] : r.tags) tags[k] = val;
                 if (tags.size() > 50) {
                   return InvalidArgument(absl::StrCat(
                       "Failed to add tags to stream ", m.name,
                       " under account ", m.account,
                       " because a given stream cannot have more than 50 tags "
                       "associated with it."));
                 }
                 m.tags = std::move(tags);
                 return absl::OkStatus();
               })
      .status();
}

absl::Status Kinesis::RemoveTagsFromStream(
    const RequestContext& ctx, const RemoveTagsFromStreamRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.tag_keys.empty() || r.tag_keys.size() > 50) {
    return Validation("[]", "tagKeys",
                      r.tag_keys.empty()
                          ? "have length greater than or equal to 1"
                          : "have length less than or equal to 50");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::string arn, ResolveArn(*engine_, ctx, r.stream_name, r.stream_arn));
  return engine_
      ->Update(arn,
               [&](StreamMeta& m, std::vector<ShardIndex>&,
                   uint32_t&) -> absl::Status {
                 for (const std::string& k : r.tag_keys) m.tags.erase(k);
                 return absl::OkStatus();
               })
      .status();
}

absl::StatusOr<ListTagsForStreamResult> Kinesis::ListTagsForStream(
    const RequestContext& ctx, const ListTagsForStreamRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.limit.has_value() && (*r.limit < 1 || *r.limit > 50)) {
    return Validation(std::to_string(*r.limit), "limit",
                      *r.limit < 1 ? "have value greater than or equal to 1"
                                   : "have value less than or equal to 50");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      FindStream(*engine_, ctx, r.stream_name, r.stream_arn));
  const size_t limit = static_cast<size_t>(r.limit.value_or(10));
  ListTagsForStreamResult out;
  for (const auto& [k, val] : v->meta.tags) {
    if (r.exclusive_start_tag_key.has_value() &&
        k <= *r.exclusive_start_tag_key) {
      continue;
    }
    if (out.tags.size() >= limit) {
      out.has_more_tags = true;
      break;
    }
    out.tags.push_back({k, val});
  }
  return out;
}

// ---- enhanced fan-out
// ----------------------------------------------------------

namespace {

constexpr int64_t kSubscriptionMs = 5 * 60 * 1000;

// <stream ARN>/consumer/<name>:<epoch seconds>
std::string ConsumerArn(const StreamView& v, const std::string& name,
                        int64_t created_ms) {
  return absl::StrCat(v.arn(), "/consumer/", name, ":", created_ms / 1000);
}

ConsumerDescription Describe(const StreamView& v, const std::string& name,
                             int64_t created_ms) {
  return ConsumerDescription{
      .consumer_name = name,
      .consumer_arn = ConsumerArn(v, name, created_ms),
      .consumer_status = "ACTIVE",
      .consumer_creation_timestamp = absl::FromUnixMillis(created_ms),
      .stream_arn = v.arn()};
}

// Splits a consumer ARN into its stream ARN and consumer name.
bool ParseConsumerArn(std::string_view arn, std::string* stream_arn,
                      std::string* name) {
  size_t c = arn.find("/consumer/");
  if (c == std::string_view::npos) return false;
  *stream_arn = std::string(arn.substr(0, c));
  std::string_view rest = arn.substr(c + 10);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  *name = std::string(rest.substr(0, colon));
  return true;
}

absl::Status ConsumerNotFound(std::string_view what) {
  return KinesisError("ResourceNotFoundException",
                      absl::StrCat("Consumer ", AsAbsl(what), " not found."));
}

// Resolves a consumer reference to (stream view, consumer name).
absl::Status FindConsumer(StreamEngine& e, const StreamConsumerRef& r,
                          std::shared_ptr<const StreamView>* view,
                          std::string* name) {
  std::string stream_arn = r.stream_arn;
  *name = r.consumer_name;
  if (!r.consumer_arn.empty()) {
    if (!ParseConsumerArn(r.consumer_arn, &stream_arn, name)) {
      return Validation(r.consumer_arn, "consumerARN",
                        "satisfy regular expression pattern: "
                        "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/"
                        "[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+");
    }
  } else if (stream_arn.empty() || name->empty()) {
    return InvalidArgument(
        "Either ConsumerARN or both StreamARN and ConsumerName must be "
        "provided.");
  }
  FERRY_ASSIGN_OR_RETURN(*view, e.Find(stream_arn));
  auto it = (*view)->meta.consumers.find(*name);
  if (it == (*view)->meta.consumers.end() ||
      (!r.consumer_arn.empty() &&
       ConsumerArn(**view, *name, it->second) != r.consumer_arn)) {
    return ConsumerNotFound(r.consumer_arn.empty() ? *name : r.consumer_arn);
  }
  return absl::OkStatus();
}

// One SubscribeToShard: pumps the shard's records to the handler through
// the executor, in order, one pump at a time.
class Subscription final : public ShardSubscription,
                           public internal::StreamListener,
                           public std::enable_shared_from_this<Subscription> {
 public:
  Subscription(StreamEngine* engine, std::string stream_arn, StreamId stream,
               std::string consumer_arn, ShardIndex shard, uint64_t next,
               int64_t started_ms, SubscribeToShardHandler handler)
      : engine_(engine),
        stream_arn_(std::move(stream_arn)),
        stream_(stream),
        consumer_arn_(std::move(consumer_arn)),
        shard_(shard),
        next_(next),
        started_ms_(started_ms),
        handler_(std::move(handler)) {}

  void Cancel() override {
    MutexLock lock(&mu_);
    done_ = true;
  }
  bool active() const override {
    MutexLock lock(&mu_);
    return !done_;
  }
  bool Done() const override { return !active(); }
  void OnAppend() override { Pump(); }

  const std::string& consumer_arn() const { return consumer_arn_; }
  ShardIndex shard() const { return shard_; }
  int64_t started_ms() const { return started_ms_; }
  // Ends the subscription with kOutOfRange (a newer one took over).
  void Supersede() {
    {
      MutexLock lock(&mu_);
      if (done_) return;
      done_ = true;
    }
    Deliver(absl::OutOfRangeError(
        "a newer SubscribeToShard for this consumer and shard took over"));
  }

  // Delivers what is new; one pumper at a time, the others leave a note.
  void Pump() {
    {
      MutexLock lock(&mu_);
      if (done_) return;
      if (pumping_) {
        again_ = true;
        return;
      }
      pumping_ = true;
    }
    while (true) {
      absl::StatusOr<SubscribeToShardEvent> event = NextEvent();
      bool finished = false;
      {
        MutexLock lock(&mu_);
        if (done_) {
          pumping_ = false;
          return;
        }
        if (!event.ok()) done_ = finished = true;
      }
      if (event.ok() && event->records.empty() && !first_ &&
          event->child_shards.empty() && !expired_) {
        // Nothing new: no event (AWS sends a heartbeat every few seconds;
        // a test has no use for them).
      } else {
        first_ = false;
        const bool ending =
            expired_ || (event.ok() && !event->child_shards.empty());
        Deliver(std::move(event));
        if (ending && !finished) {
          {
            MutexLock lock(&mu_);
            done_ = true;
          }
          Deliver(absl::OutOfRangeError(
              expired_ ? "the subscription ended after 5 minutes; subscribe "
                         "again from the ContinuationSequenceNumber"
                       : "the shard has ended; continue with its children"));
          finished = true;
        }
      }
      MutexLock lock(&mu_);
      if (finished || (!again_ && !more_)) {
        pumping_ = false;
        return;
      }
      again_ = false;
    }
  }

 private:
  void Deliver(absl::StatusOr<SubscribeToShardEvent> event) {
    engine_->executor().Schedule(
        [handler = handler_, event = std::move(event)]() mutable {
          handler(std::move(event));
        });
  }

  absl::StatusOr<SubscribeToShardEvent> NextEvent() {
    const absl::Time now = engine_->clock().Now();
    if (absl::ToUnixMillis(now) - started_ms_ >= kSubscriptionMs) {
      expired_ = true;
    }
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> v,
                           engine_->Find(stream_arn_));
    if (v->record.id != stream_) {
      return internal::StreamNotFoundError(v->meta.name, v->meta.account);
    }
    FERRY_ASSIGN_OR_RETURN(StreamStore::ReadResult read,
                           engine_->Read(*v, shard_, next_, 10000, 2 << 20));
    const ShardMeta& shard = v->meta.shards[shard_];
    SubscribeToShardEvent event;
    for (StoredStreamRecord& rec : read.records) {
      event.records.push_back(
          {internal::FormatSequenceNumber(shard, rec.sequence,
                                          absl::ToUnixMillis(rec.arrival)),
           rec.arrival, std::move(rec.data), std::move(rec.partition_key)});
    }
    next_ = std::max(next_, read.next_sequence);
    const bool at_end = next_ >= read.shard.next_sequence;
    event.millis_behind_latest =
        at_end || event.records.empty()
            ? 0
            : std::max<int64_t>(
                  0,
                  absl::ToUnixMillis(now) -
                      absl::ToUnixMillis(
                          event.records.back().approximate_arrival_timestamp));
    if (read.shard.closed && at_end) {
      event.child_shards = ChildrenOf(*v, shard_);
    } else {
      event.continuation_sequence_number = internal::FormatSequenceNumber(
          shard, next_ - 1,
          event.records.empty()
              ? shard.created_ms
              : absl::ToUnixMillis(
                    event.records.back().approximate_arrival_timestamp));
    }
    more_ = !at_end;
    return event;
  }

  StreamEngine* const engine_;
  const std::string stream_arn_;
  const StreamId stream_;
  const std::string consumer_arn_;
  const ShardIndex shard_;
  // Touched only by the one pumper at a time.
  uint64_t next_;
  bool first_ = true;
  bool expired_ = false;
  bool more_ = false;
  const int64_t started_ms_;
  const SubscribeToShardHandler handler_;

  mutable Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool pumping_ ABSL_GUARDED_BY(mu_) = false;
  bool again_ ABSL_GUARDED_BY(mu_) = false;
};

// The live subscriptions by (broker, consumer ARN, shard), for the 5-second
// rule. Entries of ended subscriptions are dropped as they are met.
using SubscriptionKey = std::tuple<const void*, std::string, ShardIndex>;
Mutex g_subscriptions_mu;
std::map<SubscriptionKey, std::weak_ptr<Subscription>>& Subscriptions() {
  static auto* m = new std::map<SubscriptionKey, std::weak_ptr<Subscription>>();
  return *m;
}

}  // namespace

absl::StatusOr<RegisterStreamConsumerResult> Kinesis::RegisterStreamConsumer(
    const RequestContext& ctx, const RegisterStreamConsumerRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  FERRY_RETURN_IF_ERROR(ValidateName(r.consumer_name, "consumerName"));
  if (r.stream_arn.empty()) {
    return KinesisError("ValidationException",
                        "1 validation error detected: Value null at "
                        "'streamARN' failed to satisfy constraint: Member "
                        "must not be null");
  }
  FERRY_ASSIGN_OR_RETURN(std::string arn,
                         ResolveArn(*engine_, ctx, "", r.stream_arn));
  const int64_t now_ms = absl::ToUnixMillis(engine_->clock().Now());
  const StrictModeOptions& strict = engine_->options().strict;
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<const StreamView> v,
      engine_->Update(
          arn,
          [&](StreamMeta& m, std::vector<ShardIndex>&,
              uint32_t&) -> absl::Status {
            if (m.consumers.count(r.consumer_name) > 0) {
              return KinesisError(
                  "ResourceInUseException",
                  absl::StrCat("Consumer ", r.consumer_name, " under stream ",
                               m.name, " already exists for account ",
                               m.account, "."));
            }
            if (strict.enabled && static_cast<int64_t>(m.consumers.size()) >=
                                      strict.kinesis_consumers_per_stream) {
              return KinesisError(
                  "LimitExceededException",
                  absl::StrCat("Stream ", m.name, " under account ", m.account,
                               " already has the maximum of ",
                               strict.kinesis_consumers_per_stream,
                               " consumers."));
            }
            m.consumers[r.consumer_name] = now_ms;
            return absl::OkStatus();
          }));
  return RegisterStreamConsumerResult{
      .consumer = Describe(*v, r.consumer_name, now_ms)};
}

absl::Status Kinesis::DeregisterStreamConsumer(const RequestContext& ctx,
                                               const StreamConsumerRef& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  std::shared_ptr<const StreamView> v;
  std::string name;
  FERRY_RETURN_IF_ERROR(FindConsumer(*engine_, r, &v, &name));
  return engine_
      ->Update(v->arn(),
               [&](StreamMeta& m, std::vector<ShardIndex>&,
                   uint32_t&) -> absl::Status {
                 if (m.consumers.erase(name) == 0) {
                   return ConsumerNotFound(name);
                 }
                 return absl::OkStatus();
               })
      .status();
}

absl::StatusOr<DescribeStreamConsumerResult> Kinesis::DescribeStreamConsumer(
    const RequestContext& ctx, const StreamConsumerRef& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  std::shared_ptr<const StreamView> v;
  std::string name;
  FERRY_RETURN_IF_ERROR(FindConsumer(*engine_, r, &v, &name));
  return DescribeStreamConsumerResult{
      .consumer_description = Describe(*v, name, v->meta.consumers.at(name))};
}

absl::StatusOr<ListStreamConsumersResult> Kinesis::ListStreamConsumers(
    const RequestContext& ctx, const ListStreamConsumersRequest& r) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  if (r.max_results.has_value() &&
      (*r.max_results < 1 || *r.max_results > 10000)) {
    return Validation(std::to_string(*r.max_results), "maxResults",
                      *r.max_results < 1
                          ? "have value greater than or equal to 1"
                          : "have value less than or equal to 10000");
  }
  FERRY_ASSIGN_OR_RETURN(std::string arn,
                         ResolveArn(*engine_, ctx, "", r.stream_arn));
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const StreamView> v,
                         engine_->Find(arn));
  std::string after;
  if (r.next_token.has_value() &&
      !internal::Base64Decode(*r.next_token, &after)) {
    return InvalidArgument("Invalid NextToken.");
  }
  const size_t limit = static_cast<size_t>(r.max_results.value_or(100));
  ListStreamConsumersResult out;
  for (const auto& [name, created] : v->meta.consumers) {
    if (!after.empty() && name <= after) continue;
    if (out.consumers.size() >= limit) {
      out.next_token =
          internal::Base64Encode(out.consumers.back().consumer_name);
      break;
    }
    out.consumers.push_back(Describe(*v, name, created));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<ShardSubscription>> Kinesis::SubscribeToShard(
    const RequestContext& ctx, const SubscribeToShardRequest& r,
    SubscribeToShardHandler handler) {
  FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
                        AwsService::kKinesis, ctx);
  std::shared_ptr<const StreamView> v;
  std::string name;
  FERRY_RETURN_IF_ERROR(
      FindConsumer(*engine_, {.consumer_arn = r.consumer_arn}, &v, &name));
  // The starting position, as GetShardIterator resolves it.
  FERRY_ASSIGN_OR_RETURN(
      GetShardIteratorResult iterator,
      GetShardIterator(
          ctx, {.stream_arn = v->arn(),
                .shard_id = r.shard_id,
                .shard_iterator_type = r.starting_position.type,
                .starting_sequence_number = r.starting_position.sequence_number,
                .timestamp = r.starting_position.timestamp}));
  Iterator it;
  if (!DecodeIterator(iterator.shard_iterator, &it)) {
    return absl::InternalError("undecodable iterator");
  }
  uint64_t next = it.next;
  if (next == 0) {
    FERRY_ASSIGN_OR_RETURN(std::vector<ShardState> states, engine_->Shards(*v));
    next = states[it.shard].first_sequence;
  }
  const int64_t now_ms = absl::ToUnixMillis(engine_->clock().Now());
  auto sub = std::make_shared<Subscription>(engine_, v->arn(), v->record.id,
                                            r.consumer_arn, it.shard, next,
                                            now_ms, std::move(handler));
  std::shared_ptr<Subscription> previous;
  {
    MutexLock lock(&g_subscriptions_mu);
    auto& all = Subscriptions();
    for (auto i = all.begin(); i != all.end();) {
      i = i->second.expired() ? all.erase(i) : std::next(i);
    }
    auto& slot = all[SubscriptionKey{engine_, r.consumer_arn, it.shard}];
    previous = slot.lock();
    if (previous != nullptr && previous->active()) {
      if (now_ms - previous->started_ms() < 5000) {
        return KinesisError(
            "ResourceInUseException",
            absl::StrCat("Another active subscription exists for consumer ",
                         r.consumer_arn, " and shard ",
                         StreamEngine::ShardId(it.shard),
                         "; wait 5 seconds before subscribing again."));
      }
    } else {
      previous = nullptr;
    }
    slot = sub;
  }
  if (previous != nullptr) previous->Supersede();
  engine_->AddListener(v->record.id, sub);
  sub->Pump();
  return std::shared_ptr<ShardSubscription>(sub);
}

}  // namespace ferry
