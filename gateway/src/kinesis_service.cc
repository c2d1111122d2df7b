// Kinesis's JSON 1.1 and CBOR protocols over one table of operations.
//
// A request body is decoded (JSON text or CBOR) into one nlohmann value;
// blobs arrive as base64 strings (JSON) or binary values (CBOR) and
// timestamps as epoch seconds (cbor.h turns the Java SDKs' tagged
// milliseconds into seconds). Results are built as one ordered value with
// blobs as binary values and timestamps as floats, then written as JSON
// (binary as base64) or CBOR.
#include "kinesis_service.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws_wire.h"
#include "cbor.h"
#include "event_stream.h"
#include "ferry/errors.h"
#include "nlohmann/json.hpp"

namespace ferry::gateway_internal {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.1";
constexpr std::string_view kCborContentType = "application/x-amz-cbor-1.1";
constexpr std::string_view kEventStreamContentType =
    "application/vnd.amazon.eventstream";

enum class Encoding { kJson, kCbor };

Encoding EncodingOf(const HttpRequest& request) {
  return absl::StartsWithIgnoreCase(AsAbsl(request.Header("content-type")),
                                    "application/x-amz-cbor")
             ? Encoding::kCbor
             : Encoding::kJson;
}

std::string_view ContentType(Encoding e) {
  return e == Encoding::kCbor ? kCborContentType : kJsonContentType;
}

absl::Status KinesisError(std::string_view shape, std::string_view message) {
  return AwsError(AwsService::kKinesis, shape, message);
}

// ---- Writing ---------------------------------------------------------------

// `v` with binary values as base64 strings.
OJson WithBase64(const OJson& v) {
  if (v.is_binary()) {
    const auto& b = v.get_binary();
    return Base64Encode(
        std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  if (v.is_array()) {
    OJson out = OJson::array();
    for (const OJson& e : v) out.push_back(WithBase64(e));
    return out;
  }
  if (v.is_object()) {
    OJson out = OJson::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      out[it.key()] = WithBase64(it.value());
    }
    return out;
  }
  return v;
}

std::string Serialize(const OJson& v, Encoding e) {
  if (e == Encoding::kCbor) return EncodeCbor(v);
  // nlohmann writes a float in plain decimal when its decimal exponent is
  // below 15 (epoch seconds are about 1e9): 1785732980.986, 1785732980.0.
  return WithBase64(v).dump(-1, ' ', false, OJson::error_handler_t::replace);
}

OJson Blob(const std::string& bytes) {
  return OJson::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

// Epoch seconds with millisecond precision.
OJson Timestamp(absl::Time t) {
  return static_cast<double>(absl::ToUnixMillis(t)) / 1000.0;
}

HttpResponse ErrorResponse(Encoding enc, const std::string& request_id,
                           const WireError& e) {
  HttpResponse r;
  r.status = e.status;
  r.error_code = e.shape;
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.headers.emplace_back("x-amz-id-2", request_id);
  r.content_type = std::string(ContentType(enc));
  OJson body = OJson::object();
  body["__type"] = e.shape;
  body[e.shape == "SerializationException" ? "Message" : "message"] = e.message;
  r.body = Serialize(body, enc);
  return r;
}

HttpResponse SuccessResponse(Encoding enc, const std::string& request_id,
                             const std::optional<OJson>& result) {
  HttpResponse r;
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.headers.emplace_back("x-amz-id-2", request_id);
  r.content_type = std::string(ContentType(enc));
  // An operation without output answers an empty body.
  if (result.has_value()) r.body = Serialize(*result, enc);
  return r;
}

// ---- Reading ---------------------------------------------------------------

// Reads members of the decoded request, recording the first type error as
// a SerializationException (Coral's texts, as kinesalite reproduces them).
class Reader {
 public:
  Reader() = default;

  const absl::Status& status() const { return status_; }

  const Json* Find(const Json& obj, std::string_view name) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(std::string(name));
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<std::string> OptStr(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    TypeError(*v, "a String");
    return std::nullopt;
  }
  std::string Str(const Json& obj, std::string_view name) {
    return OptStr(obj, name).value_or("");
  }

  std::optional<int> OptInt(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return std::nullopt;
    double d = 0;
    if (v->is_number_integer()) {
      d = static_cast<double>(v->get<int64_t>());
    } else if (v->is_number()) {
      d = v->get<double>();
    } else {
      TypeError(*v, "an Integer");
      return std::nullopt;
    }
    if (!std::isfinite(d)) d = 0;
    d = std::trunc(d);
    if (d > std::numeric_limits<int>::max()) {
      return std::numeric_limits<int>::max();
    }
    if (d < std::numeric_limits<int>::min()) {
      return std::numeric_limits<int>::min();
    }
    return static_cast<int>(d);
  }

  bool Bool(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return false;
    if (v->is_boolean()) return v->get<bool>();
    TypeError(*v, "a Boolean");
    return false;
  }

  // Data: base64 text in JSON, a byte string in CBOR (text is accepted as
  // base64 there too).
  std::string Blob(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return "";
    if (v->is_binary()) {
      const auto& b = v->get_binary();
      return std::string(b.begin(), b.end());
    }
    if (!v->is_string()) {
      TypeError(*v, "a Blob");
      return "";
    }
    const std::string& text = v->get_ref<const std::string&>();
    if (std::optional<std::string> bytes = Base64Decode(text)) return *bytes;
    std::string shown = text.substr(0, 256);
    if (text.size() % 4 != 0) {
      SetError(absl::StrCat(
          "'", shown,
          "' can not be converted to a Blob: Base64 encoded length is "
          "expected a multiple of 4 bytes but found: ",
          text.size()));
    } else {
      SetError(absl::StrCat("'", shown,
                            "' can not be converted to a Blob: Invalid Base64 "
                            "character found"));
    }
    return "";
  }

  // Epoch seconds (integer or fraction).
  std::optional<absl::Time> Time(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) {
      TypeError(*v, "a Timestamp");
      return std::nullopt;
    }
    const double s = v->get<double>();
    if (!std::isfinite(s) || std::fabs(s) > 1e15) {
      SetError(absl::StrCat(v->dump(), " can not be converted to a Timestamp"));
      return std::nullopt;
    }
    return absl::FromUnixMillis(static_cast<int64_t>(std::llround(s * 1000)));
  }

  std::map<std::string, std::string> StrMap(const Json& obj,
                                            std::string_view name) {
    std::map<std::string, std::string> out;
    const Json* v = Find(obj, name);
    if (v == nullptr) return out;
    if (!v->is_object()) {
      TypeError(*v, "a Map");
      return out;
    }
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (it->is_string()) {
        out[it.key()] = it->get<std::string>();
      } else if (!it->is_null()) {
        TypeError(*it, "a String");
      }
    }
    return out;
  }

  std::vector<std::string> StrList(const Json& obj, std::string_view name) {
    std::vector<std::string> out;
    const Json* v = Find(obj, name);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      TypeError(*v, "a List");
      return out;
    }
    for (const Json& e : *v) {
      if (e.is_string()) {
        out.push_back(e.get<std::string>());
      } else {
        TypeError(e, "a String");
      }
    }
    return out;
  }

  // A structure member: nullptr when absent (or of the wrong type, which is
  // recorded).
  const Json* Struct(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return nullptr;
    if (v->is_object()) return v;
    TypeError(*v, "a Structure");
    return nullptr;
  }
  const Json* List(const Json& obj, std::string_view name) {
    const Json* v = Find(obj, name);
    if (v == nullptr) return nullptr;
    if (v->is_array()) return v;
    TypeError(*v, "a List");
    return nullptr;
  }

  // Records that `got` is not `want` (e.g. "a String").
  void TypeError(const Json& got, std::string_view want) {
    if (got.is_object()) {
      SetError("Start of structure or map found where not expected.");
    } else if (got.is_array()) {
      SetError("Start of list found where not expected");
    } else if (got.is_string()) {
      SetError(absl::StrCat("class java.lang.String can not be converted to ",
                            AsAbsl(want)));
    } else if (got.is_boolean()) {
      SetError(absl::StrCat(got.get<bool>() ? "TRUE_VALUE" : "FALSE_VALUE",
                            " can not be converted to ", AsAbsl(want)));
    } else if (got.is_binary()) {
      SetError(
          absl::StrCat("class java.nio.HeapByteBuffer can not be "
                       "converted to ",
                       AsAbsl(want)));
    } else {
      SetError(
          absl::StrCat("NUMBER_VALUE can not be converted to ", AsAbsl(want)));
    }
  }

 private:
  void SetError(std::string message) {
    if (status_.ok()) status_ = KinesisError("SerializationException", message);
  }

  absl::Status status_;
};

// ---- Result shapes ---------------------------------------------------------

OJson HashKeyRangeJson(const HashKeyRange& r) {
  OJson o;
  o["StartingHashKey"] = r.starting_hash_key;
  o["EndingHashKey"] = r.ending_hash_key;
  return o;
}

OJson ShardJson(const KinesisShard& s) {
  OJson o;
  o["ShardId"] = s.shard_id;
  if (s.parent_shard_id) o["ParentShardId"] = *s.parent_shard_id;
  if (s.adjacent_parent_shard_id) {
    o["AdjacentParentShardId"] = *s.adjacent_parent_shard_id;
  }
  o["HashKeyRange"] = HashKeyRangeJson(s.hash_key_range);
  OJson seq;
  seq["StartingSequenceNumber"] =
      s.sequence_number_range.starting_sequence_number;
  if (s.sequence_number_range.ending_sequence_number) {
    seq["EndingSequenceNumber"] =
        *s.sequence_number_range.ending_sequence_number;
  }
  o["SequenceNumberRange"] = std::move(seq);
  return o;
}

OJson ShardsJson(const std::vector<KinesisShard>& shards) {
  OJson a = OJson::array();
  for (const KinesisShard& s : shards) a.push_back(ShardJson(s));
  return a;
}

OJson ChildShardsJson(const std::vector<ChildShard>& children) {
  OJson a = OJson::array();
  for (const ChildShard& c : children) {
    OJson o;
    o["ShardId"] = c.shard_id;
    o["ParentShards"] = c.parent_shards;
    o["HashKeyRange"] = HashKeyRangeJson(c.hash_key_range);
    a.push_back(std::move(o));
  }
  return a;
}

OJson RecordsJson(const std::vector<KinesisRecord>& records) {
  OJson a = OJson::array();
  for (const KinesisRecord& r : records) {
    OJson o;
    o["SequenceNumber"] = r.sequence_number;
    o["ApproximateArrivalTimestamp"] =
        Timestamp(r.approximate_arrival_timestamp);
    o["Data"] = Blob(r.data);
    o["PartitionKey"] = r.partition_key;
    a.push_back(std::move(o));
  }
  return a;
}

OJson ModeJson(const std::string& mode) {
  OJson o;
  o["StreamMode"] = mode.empty() ? "PROVISIONED" : mode;
  return o;
}

OJson EnhancedMonitoringJson() {
  OJson m;
  m["ShardLevelMetrics"] = OJson::array();
  return OJson::array({m});
}

OJson ConsumerJson(const ConsumerDescription& c, bool with_stream) {
  OJson o;
  o["ConsumerName"] = c.consumer_name;
  o["ConsumerARN"] = c.consumer_arn;
  o["ConsumerStatus"] = c.consumer_status;
  o["ConsumerCreationTimestamp"] = Timestamp(c.consumer_creation_timestamp);
  if (with_stream) o["StreamARN"] = c.stream_arn;
  return o;
}

OJson SubscribeEventJson(const SubscribeToShardEvent& e) {
  OJson o;
  o["Records"] = RecordsJson(e.records);
  if (e.continuation_sequence_number) {
    o["ContinuationSequenceNumber"] = *e.continuation_sequence_number;
  }
  o["MillisBehindLatest"] = e.millis_behind_latest;
  if (!e.child_shards.empty())
    o["ChildShards"] = ChildShardsJson(e.child_shards);
  return o;
}

// The name in a stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).
std::string StreamNameOfArn(std::string_view arn) {
  size_t slash = arn.find(":stream/");
  if (slash == std::string_view::npos) return "";
  std::string_view rest = arn.substr(slash + 8);
  return std::string(rest.substr(0, rest.find('/')));
}

std::string StreamOf(Reader& in, const Json& body) {
  std::string name = in.Str(body, "StreamName");
  if (!name.empty()) return name;
  return StreamNameOfArn(in.Str(body, "StreamARN"));
}

// ---- Operations
// --------------------------------------------------------------

using Traffic = KinesisService::Traffic;

// Decodes `body`, runs the operation and returns its result (nullopt: no
// output). A type error found while decoding is returned before the call.
using Handler = absl::StatusOr<std::optional<OJson>> (*)(Kinesis&,
                                                         const RequestContext&,
                                                         Reader&, const Json&,
                                                         Traffic*);

#define FERRY_CHECK_DECODED(in) \
  if (!(in).status().ok()) return (in).status()

absl::StatusOr<std::optional<OJson>> CreateStream(Kinesis& k,
                                                  const RequestContext& ctx,
                                                  Reader& in, const Json& b,
                                                  Traffic* t) {
  CreateStreamRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.shard_count = in.OptInt(b, "ShardCount");
  if (const Json* mode = in.Struct(b, "StreamModeDetails")) {
    r.stream_mode = in.OptStr(*mode, "StreamMode");
  }
  r.tags = in.StrMap(b, "Tags");
  FERRY_CHECK_DECODED(in);
  t->stream = r.stream_name;
  if (absl::Status s = k.CreateStream(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> DeleteStream(Kinesis& k,
                                                  const RequestContext& ctx,
                                                  Reader& in, const Json& b,
                                                  Traffic* t) {
  DeleteStreamRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.enforce_consumer_deletion = in.Bool(b, "EnforceConsumerDeletion");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  if (absl::Status s = k.DeleteStream(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> DescribeStream(Kinesis& k,
                                                    const RequestContext& ctx,
                                                    Reader& in, const Json& b,
                                                    Traffic* t) {
  DescribeStreamRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.limit = in.OptInt(b, "Limit");
  r.exclusive_start_shard_id = in.OptStr(b, "ExclusiveStartShardId");
  FERRY_CHECK_DECODED(in);
  absl::StatusOr<DescribeStreamResult> res = k.DescribeStream(ctx, r);
  if (!res.ok()) return res.status();
  const StreamDescription& d = res->stream_description;
  t->stream = d.stream_name;
  OJson o;
  o["StreamName"] = d.stream_name;
  o["StreamARN"] = d.stream_arn;
  o["StreamStatus"] = d.stream_status;
  o["StreamModeDetails"] = ModeJson(d.stream_mode);
  o["Shards"] = ShardsJson(d.shards);
  o["HasMoreShards"] = d.has_more_shards;
  o["RetentionPeriodHours"] = d.retention_period_hours;
  o["StreamCreationTimestamp"] = Timestamp(d.stream_creation_timestamp);
  o["EnhancedMonitoring"] = EnhancedMonitoringJson();
  o["EncryptionType"] = d.encryption_type;
  OJson out;
  out["StreamDescription"] = std::move(o);
  return out;
}

absl::StatusOr<std::optional<OJson>> DescribeStreamSummary(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  StreamRef r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  FERRY_CHECK_DECODED(in);
  absl::StatusOr<DescribeStreamSummaryResult> res =
      k.DescribeStreamSummary(ctx, r);
  if (!res.ok()) return res.status();
  const StreamDescriptionSummary& d = res->stream_description_summary;
  t->stream = d.stream_name;
  OJson o;
  o["StreamName"] = d.stream_name;
  o["StreamARN"] = d.stream_arn;
  o["StreamStatus"] = d.stream_status;
  o["StreamModeDetails"] = ModeJson(d.stream_mode);
  o["RetentionPeriodHours"] = d.retention_period_hours;
  o["StreamCreationTimestamp"] = Timestamp(d.stream_creation_timestamp);
  o["EnhancedMonitoring"] = EnhancedMonitoringJson();
  o["EncryptionType"] = d.encryption_type;
  o["OpenShardCount"] = d.open_shard_count;
  o["ConsumerCount"] = d.consumer_count;
  OJson out;
  out["StreamDescriptionSummary"] = std::move(o);
  return out;
}

absl::StatusOr<std::optional<OJson>> ListStreams(Kinesis& k,
                                                 const RequestContext& ctx,
                                                 Reader& in, const Json& b,
                                                 Traffic*) {
  ListStreamsRequest r;
  r.limit = in.OptInt(b, "Limit");
  r.exclusive_start_stream_name = in.OptStr(b, "ExclusiveStartStreamName");
  r.next_token = in.OptStr(b, "NextToken");
  FERRY_CHECK_DECODED(in);
  absl::StatusOr<ListStreamsResult> res = k.ListStreams(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["StreamNames"] = res->stream_names;
  out["HasMoreStreams"] = res->has_more_streams;
  if (res->next_token) out["NextToken"] = *res->next_token;
  OJson summaries = OJson::array();
  for (const StreamSummary& s : res->stream_summaries) {
    OJson o;
    o["StreamName"] = s.stream_name;
    o["StreamARN"] = s.stream_arn;
    o["StreamStatus"] = s.stream_status;
    o["StreamModeDetails"] = ModeJson(s.stream_mode);
    o["StreamCreationTimestamp"] = Timestamp(s.stream_creation_timestamp);
    summaries.push_back(std::move(o));
  }
  out["StreamSummaries"] = std::move(summaries);
  return out;
}

absl::StatusOr<std::optional<OJson>> ListShards(Kinesis& k,
                                                const RequestContext& ctx,
                                                Reader& in, const Json& b,
                                                Traffic* t) {
  ListShardsRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.next_token = in.OptStr(b, "NextToken");
  r.exclusive_start_shard_id = in.OptStr(b, "ExclusiveStartShardId");
  r.max_results = in.OptInt(b, "MaxResults");
  (void)in.Time(b, "StreamCreationTimestamp");
  if (const Json* f = in.Struct(b, "ShardFilter")) {
    ShardFilter filter;
    filter.type = in.Str(*f, "Type");
    filter.shard_id = in.OptStr(*f, "ShardId");
    filter.timestamp = in.Time(*f, "Timestamp");
    r.shard_filter = std::move(filter);
  }
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::StatusOr<ListShardsResult> res = k.ListShards(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["Shards"] = ShardsJson(res->shards);
  if (res->next_token) out["NextToken"] = *res->next_token;
  return out;
}

absl::StatusOr<std::optional<OJson>> PutRecord(Kinesis& k,
                                               const RequestContext& ctx,
                                               Reader& in, const Json& b,
                                               Traffic* t) {
  PutRecordRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.data = in.Blob(b, "Data");
  r.partition_key = in.Str(b, "PartitionKey");
  r.explicit_hash_key = in.OptStr(b, "ExplicitHashKey");
  r.sequence_number_for_ordering = in.OptStr(b, "SequenceNumberForOrdering");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::StatusOr<PutRecordResult> res = k.PutRecord(ctx, r);
  if (!res.ok()) {
    std::optional<AwsErrorInfo> aws = GetAwsError(res.status());
    if (aws && aws->shape == "ProvisionedThroughputExceededException") {
      t->write_throttled = 1;
    }
    return res.status();
  }
  t->incoming_records = 1;
  t->incoming_bytes = static_cast<int64_t>(r.data.size());
  OJson out;
  out["ShardId"] = res->shard_id;
  out["SequenceNumber"] = res->sequence_number;
  out["EncryptionType"] = res->encryption_type;
  return out;
}

absl::StatusOr<std::optional<OJson>> PutRecords(Kinesis& k,
                                                const RequestContext& ctx,
                                                Reader& in, const Json& b,
                                                Traffic* t) {
  PutRecordsRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  if (const Json* records = in.List(b, "Records")) {
    r.records.reserve(records->size());
    for (const Json& e : *records) {
      if (!e.is_object()) {
        in.TypeError(e, "a Structure");
        break;
      }
      PutRecordsRequestEntry entry;
      entry.data = in.Blob(e, "Data");
      entry.partition_key = in.Str(e, "PartitionKey");
      entry.explicit_hash_key = in.OptStr(e, "ExplicitHashKey");
      r.records.push_back(std::move(entry));
    }
  }
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::StatusOr<PutRecordsResult> res = k.PutRecords(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["FailedRecordCount"] = res->failed_record_count;
  OJson entries = OJson::array();
  for (size_t i = 0; i < res->records.size(); ++i) {
    const PutRecordsResultEntry& e = res->records[i];
    OJson o = OJson::object();
    if (e.sequence_number) o["SequenceNumber"] = *e.sequence_number;
    if (e.shard_id) o["ShardId"] = *e.shard_id;
    if (e.error_code) {
      o["ErrorCode"] = *e.error_code;
      if (*e.error_code == "ProvisionedThroughputExceededException") {
        ++t->write_throttled;
      }
    }
    if (e.error_message) o["ErrorMessage"] = *e.error_message;
    if (!e.error_code && i < r.records.size()) {
      ++t->incoming_records;
      t->incoming_bytes += static_cast<int64_t>(r.records[i].data.size());
    }
    entries.push_back(std::move(o));
  }
  out["Records"] = std::move(entries);
  out["EncryptionType"] = res->encryption_type;
  return out;
}

absl::StatusOr<std::optional<OJson>> GetShardIterator(Kinesis& k,
                                                      const RequestContext& ctx,
                                                      Reader& in, const Json& b,
                                                      Traffic* t) {
  GetShardIteratorRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.shard_id = in.Str(b, "ShardId");
  r.shard_iterator_type = in.Str(b, "ShardIteratorType");
  r.starting_sequence_number = in.OptStr(b, "StartingSequenceNumber");
  r.timestamp = in.Time(b, "Timestamp");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::StatusOr<GetShardIteratorResult> res = k.GetShardIterator(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["ShardIterator"] = res->shard_iterator;
  return out;
}

absl::StatusOr<std::optional<OJson>> GetRecords(Kinesis& k,
                                                const RequestContext& ctx,
                                                Reader& in, const Json& b,
                                                Traffic* t) {
  GetRecordsRequest r;
  r.shard_iterator = in.Str(b, "ShardIterator");
  r.limit = in.OptInt(b, "Limit");
  r.stream_arn = in.Str(b, "StreamARN");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamNameOfArn(r.stream_arn);
  absl::StatusOr<GetRecordsResult> res = k.GetRecords(ctx, r);
  if (!res.ok()) {
    std::optional<AwsErrorInfo> aws = GetAwsError(res.status());
    if (aws && aws->shape == "ProvisionedThroughputExceededException") {
      t->read_throttled = 1;
    }
    return res.status();
  }
  t->get_records = static_cast<int64_t>(res->records.size());
  for (const KinesisRecord& rec : res->records) {
    t->get_bytes += static_cast<int64_t>(rec.data.size());
  }
  t->iterator_age_ms = res->millis_behind_latest;
  OJson out;
  out["Records"] = RecordsJson(res->records);
  if (res->next_shard_iterator) {
    out["NextShardIterator"] = *res->next_shard_iterator;
  }
  out["MillisBehindLatest"] = res->millis_behind_latest;
  if (!res->child_shards.empty()) {
    out["ChildShards"] = ChildShardsJson(res->child_shards);
  }
  return out;
}

absl::StatusOr<std::optional<OJson>> SplitShard(Kinesis& k,
                                                const RequestContext& ctx,
                                                Reader& in, const Json& b,
                                                Traffic* t) {
  SplitShardRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.shard_to_split = in.Str(b, "ShardToSplit");
  r.new_starting_hash_key = in.Str(b, "NewStartingHashKey");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  if (absl::Status s = k.SplitShard(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> MergeShards(Kinesis& k,
                                                 const RequestContext& ctx,
                                                 Reader& in, const Json& b,
                                                 Traffic* t) {
  MergeShardsRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.shard_to_merge = in.Str(b, "ShardToMerge");
  r.adjacent_shard_to_merge = in.Str(b, "AdjacentShardToMerge");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  if (absl::Status s = k.MergeShards(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> UpdateShardCount(Kinesis& k,
                                                      const RequestContext& ctx,
                                                      Reader& in, const Json& b,
                                                      Traffic* t) {
  UpdateShardCountRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.target_shard_count = in.OptInt(b, "TargetShardCount").value_or(0);
  if (std::optional<std::string> type = in.OptStr(b, "ScalingType")) {
    r.scaling_type = *type;
  }
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::StatusOr<UpdateShardCountResult> res = k.UpdateShardCount(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["StreamName"] = res->stream_name;
  out["CurrentShardCount"] = res->current_shard_count;
  out["TargetShardCount"] = res->target_shard_count;
  out["StreamARN"] = res->stream_arn;
  return out;
}

absl::StatusOr<std::optional<OJson>> Retention(bool increase, Kinesis& k,
                                               const RequestContext& ctx,
                                               Reader& in, const Json& b,
                                               Traffic* t) {
  RetentionPeriodRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.retention_period_hours = in.OptInt(b, "RetentionPeriodHours").value_or(0);
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::Status s = increase ? k.IncreaseStreamRetentionPeriod(ctx, r)
                            : k.DecreaseStreamRetentionPeriod(ctx, r);
  if (!s.ok()) return s;
  return std::nullopt;
}
absl::StatusOr<std::optional<OJson>> IncreaseRetention(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  return Retention(true, k, ctx, in, b, t);
}
absl::StatusOr<std::optional<OJson>> DecreaseRetention(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  return Retention(false, k, ctx, in, b, t);
}

absl::StatusOr<std::optional<OJson>> AddTagsToStream(Kinesis& k,
                                                     const RequestContext& ctx,
                                                     Reader& in, const Json& b,
                                                     Traffic* t) {
  AddTagsToStreamRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.tags = in.StrMap(b, "Tags");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  if (absl::Status s = k.AddTagsToStream(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> RemoveTagsFromStream(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  RemoveTagsFromStreamRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.tag_keys = in.StrList(b, "TagKeys");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  if (absl::Status s = k.RemoveTagsFromStream(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> ListTagsForStream(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  ListTagsForStreamRequest r;
  r.stream_name = in.Str(b, "StreamName");
  r.stream_arn = in.Str(b, "StreamARN");
  r.exclusive_start_tag_key = in.OptStr(b, "ExclusiveStartTagKey");
  r.limit = in.OptInt(b, "Limit");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamOf(in, b);
  absl::StatusOr<ListTagsForStreamResult> res = k.ListTagsForStream(ctx, r);
  if (!res.ok()) return res.status();
  OJson tags = OJson::array();
  for (const KinesisTag& tag : res->tags) {
    OJson o;
    o["Key"] = tag.key;
    o["Value"] = tag.value;
    tags.push_back(std::move(o));
  }
  OJson out;
  out["Tags"] = std::move(tags);
  out["HasMoreTags"] = res->has_more_tags;
  return out;
}

absl::StatusOr<std::optional<OJson>> RegisterStreamConsumer(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  RegisterStreamConsumerRequest r;
  r.stream_arn = in.Str(b, "StreamARN");
  r.consumer_name = in.Str(b, "ConsumerName");
  (void)in.StrMap(b, "Tags");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamNameOfArn(r.stream_arn);
  absl::StatusOr<RegisterStreamConsumerResult> res =
      k.RegisterStreamConsumer(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["Consumer"] = ConsumerJson(res->consumer, false);
  return out;
}

StreamConsumerRef ConsumerRef(Reader& in, const Json& b) {
  StreamConsumerRef r;
  r.stream_arn = in.Str(b, "StreamARN");
  r.consumer_name = in.Str(b, "ConsumerName");
  r.consumer_arn = in.Str(b, "ConsumerARN");
  return r;
}

absl::StatusOr<std::optional<OJson>> DeregisterStreamConsumer(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic*) {
  StreamConsumerRef r = ConsumerRef(in, b);
  FERRY_CHECK_DECODED(in);
  if (absl::Status s = k.DeregisterStreamConsumer(ctx, r); !s.ok()) return s;
  return std::nullopt;
}

absl::StatusOr<std::optional<OJson>> DescribeStreamConsumer(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic*) {
  StreamConsumerRef r = ConsumerRef(in, b);
  FERRY_CHECK_DECODED(in);
  absl::StatusOr<DescribeStreamConsumerResult> res =
      k.DescribeStreamConsumer(ctx, r);
  if (!res.ok()) return res.status();
  OJson out;
  out["ConsumerDescription"] = ConsumerJson(res->consumer_description, true);
  return out;
}

absl::StatusOr<std::optional<OJson>> ListStreamConsumers(
    Kinesis& k, const RequestContext& ctx, Reader& in, const Json& b,
    Traffic* t) {
  ListStreamConsumersRequest r;
  r.stream_arn = in.Str(b, "StreamARN");
  r.next_token = in.OptStr(b, "NextToken");
  r.max_results = in.OptInt(b, "MaxResults");
  (void)in.Time(b, "StreamCreationTimestamp");
  FERRY_CHECK_DECODED(in);
  t->stream = StreamNameOfArn(r.stream_arn);
  absl::StatusOr<ListStreamConsumersResult> res = k.ListStreamConsumers(ctx, r);
  if (!res.ok()) return res.status();
  OJson consumers = OJson::array();
  for (const ConsumerDescription& c : res->consumers) {
    consumers.push_back(ConsumerJson(c, false));
  }
  OJson out;
  out["Consumers"] = std::move(consumers);
  if (res->next_token) out["NextToken"] = *res->next_token;
  return out;
}

#undef FERRY_CHECK_DECODED

const std::map<std::string, Handler, std::less<>>& Operations() {
  static const auto* ops = new std::map<std::string, Handler, std::less<>>{
      {"AddTagsToStream", &AddTagsToStream},
      {"CreateStream", &CreateStream},
      {"DecreaseStreamRetentionPeriod", &DecreaseRetention},
      {"DeleteStream", &DeleteStream},
      {"DeregisterStreamConsumer", &DeregisterStreamConsumer},
      {"DescribeStream", &DescribeStream},
      {"DescribeStreamConsumer", &DescribeStreamConsumer},
      {"DescribeStreamSummary", &DescribeStreamSummary},
      {"GetRecords", &GetRecords},
      {"GetShardIterator", &GetShardIterator},
      {"IncreaseStreamRetentionPeriod", &IncreaseRetention},
      {"ListShards", &ListShards},
      {"ListStreamConsumers", &ListStreamConsumers},
      {"ListStreams", &ListStreams},
      {"ListTagsForStream", &ListTagsForStream},
      {"MergeShards", &MergeShards},
      {"PutRecord", &PutRecord},
      {"PutRecords", &PutRecords},
      {"RegisterStreamConsumer", &RegisterStreamConsumer},
      {"RemoveTagsFromStream", &RemoveTagsFromStream},
      {"SplitShard", &SplitShard},
      {"UpdateShardCount", &UpdateShardCount},
  };
  return *ops;
}

// ---- SubscribeToShard's event stream -------------------------------------

// The body of one SubscribeToShard response: the core subscription's events
// framed as AWS event-stream messages. Events that come before the
// transport starts the body (the first push runs inside SubscribeToShard)
// wait in `pending_`.
class ShardEventStream final : public ResponseStream {
 public:
  explicit ShardEventStream(Encoding enc) : enc_(enc) {
    pending_.push_back(EncodeEvent("initial-response", ContentType(enc_),
                                   Serialize(OJson::object(), enc_)));
  }

  void SetSubscription(std::shared_ptr<ShardSubscription> sub) {
    {
      MutexLock lock(&mu_);
      if (!stopped_) {
        subscription_ = std::move(sub);
        return;
      }
    }
    sub->Cancel();
  }

  // The core handler (any thread, through the broker's executor).
  void OnEvent(absl::StatusOr<SubscribeToShardEvent> event) {
    std::string bytes;
    if (event.ok()) {
      bytes = EncodeEvent("SubscribeToShardEvent", ContentType(enc_),
                          Serialize(SubscribeEventJson(*event), enc_));
    } else if (!absl::IsOutOfRange(event.status())) {
      WireError e = WireErrorFromStatus(event.status());
      OJson body;
      body["message"] = e.message;
      bytes =
          EncodeException(e.shape, ContentType(enc_), Serialize(body, enc_));
    }
    MutexLock lock(&mu_);
    if (stopped_ || ended_) return;
    if (!bytes.empty()) {
      if (sink_ != nullptr) {
        sink_->Write(std::move(bytes));
      } else {
        pending_.push_back(std::move(bytes));
      }
    }
    if (!event.ok()) {
      ended_ = true;
      if (sink_ != nullptr) sink_->Close();
    }
  }

  void Start(std::shared_ptr<BodySink> sink) override {
    MutexLock lock(&mu_);
    if (stopped_) return;
    for (std::string& bytes : pending_) sink->Write(std::move(bytes));
    pending_.clear();
    if (ended_) {
      sink->Close();
      return;
    }
    sink_ = std::move(sink);
  }

  void Stop() override {
    std::shared_ptr<ShardSubscription> sub;
    {
      MutexLock lock(&mu_);
      stopped_ = true;
      sink_.reset();
      pending_.clear();
      sub = std::move(subscription_);
    }
    if (sub != nullptr) sub->Cancel();
  }

 private:
  const Encoding enc_;
  Mutex mu_;
  std::vector<std::string> pending_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<BodySink> sink_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<ShardSubscription> subscription_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

bool KinesisService::IsKinesisRequest(const HttpRequest& request) {
  if (absl::StartsWith(AsAbsl(request.Header("x-amz-target")),
                       AsAbsl(kTargetPrefix))) {
    return true;
  }
  std::optional<CredentialScope> scope = ParseCredentialScope(request);
  return scope.has_value() && scope->service == "kinesis";
}

HttpResponse KinesisService::RefusedResponse(const HttpRequest& headers_only,
                                             int http_status,
                                             std::string_view code,
                                             std::string_view message) {
  return ErrorResponse(EncodingOf(headers_only), NewRequestId(),
                       {std::string(code), std::string(code), http_status,
                        http_status < 500, std::string(message)});
}

PreparedCall KinesisService::Prepare(HttpRequest request) {
  return PrepareRecorded(request, "kinesis", recorder_,
                         [this](HttpRequest& r, RecordedRequest* record) {
                           return PrepareCall(r, record);
                         });
}

PreparedCall KinesisService::PrepareCall(HttpRequest& request,
                                         RecordedRequest* record) {
  const Encoding enc = EncodingOf(request);
  if (record != nullptr) {
    record->protocol = enc == Encoding::kCbor ? "cbor" : "json";
  }
  std::string request_id = NewRequestId();
  RequestContext ctx =
      RequestContextFor(request, options_.credentials, nullptr, record);
  std::string op;
  std::string_view target = request.Header("x-amz-target");
  if (absl::StartsWith(AsAbsl(target), AsAbsl(kTargetPrefix))) {
    op = std::string(target.substr(kTargetPrefix.size()));
  }
  if (record != nullptr) record->operation = op;
  auto fail = [&](const WireError& e) {
    Count(op, e.status, ctx, {});
    return ImmediateCall(ErrorResponse(enc, request_id, e));
  };
  auto fail_status = [&](const absl::Status& s) {
    return fail(WireErrorFromStatus(s));
  };

  if (request.body.size() > kMaxKinesisBodyBytes) {
    return fail({"RequestEntityTooLarge", "RequestEntityTooLarge", 413, true,
                 absl::StrCat("The request body is larger than the limit of ",
                              kMaxKinesisBodyBytes, " bytes.")});
  }
  if (!options_.credentials.empty()) {
    if (absl::Status s = AuthenticateRequest(request, options_.credentials,
                                             AwsService::kKinesis);
        !s.ok()) {
      return fail_status(s);
    }
  }
  auto it = Operations().find(op);
  const bool subscribe = op == "SubscribeToShard";
  if (it == Operations().end() && !subscribe) {
    return fail_status(
        KinesisError("UnknownOperationException",
                     op.empty() ? "The request names no operation."
                                : absl::StrCat("Unknown operation ", op, ".")));
  }

  // The body: an object in JSON or CBOR; empty is {}.
  auto body = std::make_shared<Json>(Json::object());
  if (!request.body.empty()) {
    if (enc == Encoding::kCbor) {
      std::optional<Json> decoded = DecodeCbor(request.body);
      *body = decoded.has_value() ? std::move(*decoded) : Json();
    } else {
      *body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    }
    if (!body->is_object()) {
      return fail_status(KinesisError(
          "SerializationException",
          enc == Encoding::kCbor ? "The request body is not a CBOR map."
                                 : "The request body is not a JSON object."));
    }
  }

  absl::Duration delay;
  if (std::optional<PreparedCall> faulted = CallForInjectedFault(
          faults_, op, AwsService::kKinesis, fail, &delay)) {
    return *std::move(faulted);
  }

  PreparedCall call;
  call.delay = delay;
  if (subscribe) {
    call.run = [this, op = std::move(op), enc,
                request_id = std::move(request_id), ctx = std::move(ctx),
                body = std::move(body)]() mutable -> HttpResponse {
      Reader in;
      SubscribeToShardRequest r;
      r.consumer_arn = in.Str(*body, "ConsumerARN");
      r.shard_id = in.Str(*body, "ShardId");
      if (const Json* p = in.Struct(*body, "StartingPosition")) {
        r.starting_position.type = in.Str(*p, "Type");
        r.starting_position.sequence_number = in.OptStr(*p, "SequenceNumber");
        r.starting_position.timestamp = in.Time(*p, "Timestamp");
      }
      absl::StatusOr<std::shared_ptr<ShardSubscription>> sub =
          absl::InternalError("not subscribed");
      auto stream = std::make_shared<ShardEventStream>(enc);
      if (!in.status().ok()) {
        sub = in.status();
      } else {
        sub = kinesis_.SubscribeToShard(
            ctx, r, [stream](absl::StatusOr<SubscribeToShardEvent> e) {
              stream->OnEvent(std::move(e));
            });
      }
      Traffic t;
      t.stream = StreamNameOfArn(r.consumer_arn);
      if (!sub.ok()) {
        HttpResponse error =
            ErrorResponse(enc, request_id, WireErrorFromStatus(sub.status()));
        Count(op, error.status, ctx, t);
        return error;
      }
      stream->SetSubscription(*std::move(sub));
      Count(op, 200, ctx, t);
      HttpResponse r200;
      r200.headers.emplace_back("x-amzn-RequestId", request_id);
      r200.headers.emplace_back("x-amz-id-2", request_id);
      r200.content_type = std::string(kEventStreamContentType);
      r200.stream = std::move(stream);
      return r200;
    };
    return call;
  }
  call.run = [this, op = std::move(op), handler = it->second, enc,
              request_id = std::move(request_id), ctx = std::move(ctx),
              body = std::move(body)]() mutable -> HttpResponse {
    Reader in;
    Traffic t;
    absl::StatusOr<std::optional<OJson>> result =
        handler(kinesis_, ctx, in, *body, &t);
    if (!result.ok()) {
      HttpResponse error =
          ErrorResponse(enc, request_id, WireErrorFromStatus(result.status()));
      Count(op, error.status, ctx, t);
      return error;
    }
    Count(op, 200, ctx, t);
    return SuccessResponse(enc, request_id, *result);
  };
  return call;
}

void KinesisService::Count(const std::string& op, int status,
                           const RequestContext& ctx, const Traffic& t) {
  MutexLock lock(&metrics_mu_);
  ++requests_[op][status];
  if (t.incoming_records == 0 && t.get_records == 0 && t.write_throttled == 0 &&
      t.read_throttled == 0 && t.iterator_age_ms < 0) {
    return;
  }
  StreamCounters& c = streams_[{ctx.account, ctx.region, t.stream}];
  c.incoming_records += t.incoming_records;
  c.incoming_bytes += t.incoming_bytes;
  c.get_records += t.get_records;
  c.get_bytes += t.get_bytes;
  c.write_throttled += t.write_throttled;
  c.read_throttled += t.read_throttled;
  if (t.iterator_age_ms >= 0) c.iterator_age_ms = t.iterator_age_ms;
}

void KinesisService::ResetCounters() {
  MutexLock lock(&metrics_mu_);
  requests_.clear();
  streams_.clear();
}

std::string KinesisService::MetricsText() {
  std::map<std::string, std::map<int, int64_t>> requests;
  std::map<StreamKey, StreamCounters> streams;
  {
    MutexLock lock(&metrics_mu_);
    requests = requests_;
    streams = streams_;
  }
  std::string out;
  for (const auto& [op, by_status] : requests) {
    for (const auto& [status, n] : by_status) {
      absl::StrAppend(&out,
                      "ferry_gateway_requests_total{service=\"kinesis\","
                      "operation=\"",
                      PrometheusLabelValue(op), "\",status=\"", status, "\"} ",
                      n, "\n");
    }
  }
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    int64_t StreamCounters::*field;
  };
  static constexpr Family kFamilies[] = {
      {"kinesis_IncomingRecords_total", "counter",
       "Records put through this gateway (CloudWatch IncomingRecords).",
       &StreamCounters::incoming_records},
      {"kinesis_IncomingBytes_total", "counter",
       "Bytes of record data put through this gateway (CloudWatch "
       "IncomingBytes).",
       &StreamCounters::incoming_bytes},
      {"kinesis_GetRecords_Records_total", "counter",
       "Records returned by GetRecords (CloudWatch GetRecords.Records).",
       &StreamCounters::get_records},
      {"kinesis_GetRecords_Bytes_total", "counter",
       "Bytes returned by GetRecords (CloudWatch GetRecords.Bytes).",
       &StreamCounters::get_bytes},
      {"kinesis_GetRecords_IteratorAgeMilliseconds", "gauge",
       "MillisBehindLatest of the last GetRecords (CloudWatch "
       "GetRecords.IteratorAgeMilliseconds).",
       &StreamCounters::iterator_age_ms},
      {"kinesis_WriteProvisionedThroughputExceeded_total", "counter",
       "Puts refused for throughput (CloudWatch "
       "WriteProvisionedThroughputExceeded).",
       &StreamCounters::write_throttled},
      {"kinesis_ReadProvisionedThroughputExceeded_total", "counter",
       "GetRecords refused for throughput (CloudWatch "
       "ReadProvisionedThroughputExceeded).",
       &StreamCounters::read_throttled},
  };
  for (const Family& f : kFamilies) {
    absl::StrAppend(&out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name,
                    " ", f.type, "\n");
    for (const auto& [key, c] : streams) {
      const int64_t v = c.*(f.field);
      if (v < 0) continue;
      absl::StrAppend(&out, f.name, "{account=\"",
                      PrometheusLabelValue(key.account), "\",region=\"",
                      PrometheusLabelValue(key.region), "\",stream=\"",
                      PrometheusLabelValue(key.stream), "\"} ", v, "\n");
    }
  }
  return out;
}

}  // namespace ferry::gateway_internal
