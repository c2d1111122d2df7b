// The consumer-group worker (ferry/consumer_group.h): leases and checkpoints
// in the KeyValueStore, one RecordProcessor per owned shard, KPL
// de-aggregation.

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "digest.h"
#include "ferry/consumer_group.h"
#include "ferry/errors.h"
#include "nlohmann/json.hpp"
#include "status_macros.h"
#include "stream_engine.h"

namespace ferry {
namespace {

using Json = nlohmann::json;
using internal::StreamEngine;

constexpr char kTable[] = "kinesis-consumer-groups";
constexpr char kShardEnd[] = "SHARD_END";

// ---- KPL de-aggregation (kinesis.md §2.2)
// -------------------------------------

bool ReadVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    const uint8_t b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Calls fn(field, wire type, varint value, bytes) for each field.
template <typename Fn>
bool ParseMessage(std::string_view in, Fn fn) {
  while (!in.empty()) {
    uint64_t key = 0;
    if (!ReadVarint(&in, &key)) return false;
    const int field = static_cast<int>(key >> 3);
    const int type = static_cast<int>(key & 7);
    uint64_t v = 0;
    std::string_view bytes;
    if (type == 0) {
      if (!ReadVarint(&in, &v)) return false;
    } else if (type == 2) {
      if (!ReadVarint(&in, &v) || v > in.size()) return false;
      bytes = in.substr(0, v);
      in.remove_prefix(v);
    } else if (type == 1) {
      if (in.size() < 8) return false;
      in.remove_prefix(8);
    } else if (type == 5) {
      if (in.size() < 4) return false;
      in.remove_prefix(4);
    } else {
      return false;
    }
    if (!fn(field, type, v, bytes)) return false;
  }
  return true;
}

ConsumerRecord Plain(const KinesisRecord& r) {
  return ConsumerRecord{
      .sequence_number = r.sequence_number,
      .partition_key = r.partition_key,
      .data = r.data,
      .approximate_arrival_timestamp = r.approximate_arrival_timestamp};
}

// ---- leases
// -------------------------------------------------------------------

struct Lease {
  std::string owner;
  int64_t expires_ms = 0;
  std::string checkpoint;  // TRIM_HORIZON | LATEST | SHARD_END | a sequence
  uint64_t sub = 0;
  std::vector<std::string> parents;
  uint64_t version = 0;  // of the KV entry

  std::string Encode() const {
    return Json{{"owner", owner},
                {"expires", expires_ms},
                {"checkpoint", checkpoint},
                {"sub", sub},
                {"parents", parents}}
        .dump();
  }
  static bool Decode(const std::string& s, Lease* out) {
    Json j = Json::parse(s, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    try {
      out->owner = j.at("owner");
      out->expires_ms = j.at("expires");
      out->checkpoint = j.at("checkpoint");
      out->sub = j.at("sub");
      out->parents = j.at("parents").get<std::vector<std::string>>();
    } catch (const Json::exception&) {
      return false;
    }
    return true;
  }
};

class Worker;

struct OwnedShard {
  std::unique_ptr<RecordProcessor> processor;
  std::optional<std::string> iterator;
  // The last record handed over (for Checkpoint() and iterator renewal).
  std::string last_sequence;
  uint64_t last_sub = 0;
  bool ended = false;  // the shard's end was reached
};

class Worker final : public ConsumerGroupWorker {
 public:
  Worker(Kinesis& kinesis, StreamEngine* engine, ConsumerGroupOptions options,
         ProcessorFactory factory, std::string arn)
      : kinesis_(kinesis),
        engine_(engine),
        kv_(engine->kv()),
        options_(std::move(options)),
        factory_(std::move(factory)),
        arn_(std::move(arn)) {}

  absl::Status RunOnce() override;
  absl::Status Shutdown() override;
  std::vector<std::string> OwnedShards() const override {
    std::vector<std::string> out;
    for (const auto& [id, s] : owned_) out.push_back(id);
    return out;
  }

  // Writes the checkpoint of `shard` if this worker still owns it.
  absl::Status WriteCheckpoint(const std::string& shard,
                               const std::string& checkpoint, uint64_t sub);
  OwnedShard* Owned(const std::string& shard) {
    auto it = owned_.find(shard);
    return it == owned_.end() ? nullptr : &it->second;
  }

 private:
  std::string Prefix() const {
    return absl::StrCat(options_.group, "|", arn_, "|");
  }
  std::string LeaseKey(const std::string& shard) const {
    return absl::StrCat(Prefix(), "lease|", shard);
  }
  int64_t NowMs() const { return absl::ToUnixMillis(engine_->clock().Now()); }

  absl::Status SyncLeases();
  absl::StatusOr<std::map<std::string, Lease>> ReadLeases();
  absl::StatusOr<int> LiveWorkers(int64_t now);
  absl::Status Heartbeat(int64_t now);
  bool Claim(const std::string& shard, Lease lease, int64_t now);
  void Lose(const std::string& shard);
  absl::Status Process(const std::string& shard, OwnedShard& s,
                       const Lease& lease);

  Kinesis& kinesis_;
  StreamEngine* const engine_;
  KeyValueStore& kv_;
  const ConsumerGroupOptions options_;
  const ProcessorFactory factory_;
  const std::string arn_;
  std::map<std::string, OwnedShard> owned_;
};

class ShardCheckpointer final : public Checkpointer {
 public:
  ShardCheckpointer(Worker* worker, std::string shard)
      : worker_(worker), shard_(std::move(shard)) {}
  absl::Status Checkpoint() override {
    OwnedShard* s = worker_->Owned(shard_);
    if (s == nullptr) {
      return absl::FailedPreconditionError("the lease of " + shard_ +
                                           " is no longer held");
    }
    if (s->ended) return worker_->WriteCheckpoint(shard_, kShardEnd, 0);
    if (s->last_sequence.empty()) return absl::OkStatus();
    return worker_->WriteCheckpoint(shard_, s->last_sequence, s->last_sub);
  }
  absl::Status Checkpoint(const std::string& sequence_number,
                          uint64_t sub) override {
    internal::ParsedSequenceNumber parsed;
    if (!internal::ParseSequenceNumber(sequence_number, &parsed)) {
      return AwsError(AwsService::kKinesis, "InvalidArgumentException",
                      "Invalid sequence number " + sequence_number);
    }
    return worker_->WriteCheckpoint(shard_, sequence_number, sub);
  }

 private:
  Worker* const worker_;
  const std::string shard_;
};

absl::Status Worker::Heartbeat(int64_t now) {
  const std::string key = absl::StrCat(Prefix(), "worker|", options_.worker_id);
  for (int attempt = 0; attempt < 8; ++attempt) {
    FERRY_ASSIGN_OR_RETURN(std::optional<KeyValueStore::Entry> e,
                           kv_.Get(kTable, key));
    absl::StatusOr<uint64_t> v = kv_.CompareAndSwap(
        kTable, key, e ? e->version : 0,
        std::to_string(now +
                       absl::ToInt64Milliseconds(options_.lease_duration)));
    if (v.ok()) return absl::OkStatus();
    if (!absl::IsAborted(v.status())) return v.status();
  }
  return absl::AbortedError("worker heartbeat kept conflicting");
}

absl::StatusOr<int> Worker::LiveWorkers(int64_t now) {
  FERRY_ASSIGN_OR_RETURN(
      auto entries,
      kv_.Scan(kTable, absl::StrCat(Prefix(), "worker|"), "", 100000));
  int live = 0;
  for (const auto& [key, e] : entries) {
    if (std::stoll(e.value) > now) ++live;
  }
  return std::max(live, 1);
}

absl::Status Worker::SyncLeases() {
  std::optional<std::string> token;
  while (true) {
    ListShardsRequest request;
    if (token.has_value()) {
      request.next_token = token;
    } else {
      request.stream_arn = arn_;
    }
    FERRY_ASSIGN_OR_RETURN(ListShardsResult page,
                           kinesis_.ListShards(options_.context, request));
    for (const KinesisShard& s : page.shards) {
      Lease lease;
      lease.checkpoint = options_.initial_position;
      // Children start at their beginning (KCL: TRIM_HORIZON).
      if (s.parent_shard_id) {
        lease.checkpoint = "TRIM_HORIZON";
        lease.parents.push_back(*s.parent_shard_id);
      }
      if (s.adjacent_parent_shard_id) {
        lease.parents.push_back(*s.adjacent_parent_shard_id);
      }
      absl::StatusOr<uint64_t> v =
          kv_.CompareAndSwap(kTable, LeaseKey(s.shard_id), 0, lease.Encode());
      if (!v.ok() && !absl::IsAborted(v.status())) return v.status();
    }
    if (!page.next_token.has_value()) return absl::OkStatus();
    token = page.next_token;
  }
}

absl::StatusOr<std::map<std::string, Lease>> Worker::ReadLeases() {
  const std::string prefix = absl::StrCat(Prefix(), "lease|");
  FERRY_ASSIGN_OR_RETURN(auto entries, kv_.Scan(kTable, prefix, "", 100000));
  std::map<std::string, Lease> out;
  for (const auto& [key, e] : entries) {
    Lease lease;
    if (!Lease::Decode(e.value, &lease)) {
      return absl::DataLossError("unreadable lease " + key);
    }
    lease.version = e.version;
    out[key.substr(prefix.size())] = std::move(lease);
  }
  return out;
}

bool Worker::Claim(const std::string& shard, Lease lease, int64_t now) {
  lease.owner = options_.worker_id;
  lease.expires_ms = now + absl::ToInt64Milliseconds(options_.lease_duration);
  return kv_
      .CompareAndSwap(kTable, LeaseKey(shard), lease.version, lease.Encode())
      .ok();
}

void Worker::Lose(const std::string& shard) {
  auto it = owned_.find(shard);
  if (it == owned_.end()) return;
  if (it->second.processor != nullptr) it->second.processor->Shutdown(shard);
  owned_.erase(it);
}

absl::Status Worker::WriteCheckpoint(const std::string& shard,
                                     const std::string& checkpoint,
                                     uint64_t sub) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    FERRY_ASSIGN_OR_RETURN(std::optional<KeyValueStore::Entry> e,
                           kv_.Get(kTable, LeaseKey(shard)));
    Lease lease;
    if (!e || !Lease::Decode(e->value, &lease) ||
        lease.owner != options_.worker_id) {
      Lose(shard);
      return absl::FailedPreconditionError("the lease of " + shard +
                                           " is no longer held");
    }
    lease.checkpoint = checkpoint;
    lease.sub = sub;
    if (checkpoint == kShardEnd) lease.owner.clear();  // done with it
    absl::StatusOr<uint64_t> v =
        kv_.CompareAndSwap(kTable, LeaseKey(shard), e->version, lease.Encode());
    if (v.ok()) return absl::OkStatus();
    if (!absl::IsAborted(v.status())) return v.status();
  }
  return absl::AbortedError("checkpoint kept conflicting");
}

absl::Status Worker::RunOnce() {
  const int64_t now = NowMs();
  FERRY_RETURN_IF_ERROR(Heartbeat(now));
  FERRY_RETURN_IF_ERROR(SyncLeases());
  FERRY_ASSIGN_OR_RETURN(auto leases, ReadLeases());
  FERRY_ASSIGN_OR_RETURN(int workers, LiveWorkers(now));

  // Renew what is still ours; forget what is not.
  for (auto it = owned_.begin(); it != owned_.end();) {
    const std::string shard = it->first;
    ++it;
    auto l = leases.find(shard);
    if (l == leases.end() || l->second.owner != options_.worker_id ||
        l->second.checkpoint == kShardEnd) {
      Lose(shard);
      continue;
    }
    if (!Claim(shard, l->second, now)) {
      Lose(shard);
      continue;
    }
    l->second.version = 0;  // stale now; re-read below if needed
  }
  // Leases ready to process: not ended, every parent ended.
  auto ended = [&](const std::string& shard) {
    auto it = leases.find(shard);
    return it == leases.end() || it->second.checkpoint == kShardEnd;
  };
  std::vector<std::string> eligible;
  for (const auto& [shard, lease] : leases) {
    if (lease.checkpoint == kShardEnd) continue;
    bool ready = true;
    for (const std::string& p : lease.parents) ready = ready && ended(p);
    if (ready) eligible.push_back(shard);
  }
  const size_t target = (eligible.size() + workers - 1) / workers;
  // Take free or expired leases.
  for (const std::string& shard : eligible) {
    if (owned_.size() >= target) break;
    const Lease& lease = leases[shard];
    if (owned_.count(shard) > 0) continue;
    if (!lease.owner.empty() && lease.expires_ms > now) continue;
    if (Claim(shard, lease, now)) owned_[shard] = OwnedShard{};
  }
  // Steal one from the most loaded worker when still short.
  if (owned_.size() < target) {
    std::map<std::string, std::vector<std::string>> by_owner;
    for (const std::string& shard : eligible) {
      const Lease& lease = leases[shard];
      if (!lease.owner.empty() && lease.owner != options_.worker_id &&
          lease.expires_ms > now) {
        by_owner[lease.owner].push_back(shard);
      }
    }
    const std::vector<std::string>* most = nullptr;
    for (const auto& [owner, shards] : by_owner) {
      if (most == nullptr || shards.size() > most->size()) most = &shards;
    }
    if (most != nullptr && most->size() > target) {
      const std::string& shard = most->back();
      if (Claim(shard, leases[shard], now)) owned_[shard] = OwnedShard{};
    }
  }
  // Process each owned shard once.
  std::vector<std::string> shards = OwnedShards();
  for (const std::string& shard : shards) {
    OwnedShard* s = Owned(shard);
    if (s == nullptr) continue;
    FERRY_ASSIGN_OR_RETURN(std::optional<KeyValueStore::Entry> e,
                           kv_.Get(kTable, LeaseKey(shard)));
    Lease lease;
    if (!e || !Lease::Decode(e->value, &lease)) {
      Lose(shard);
      continue;
    }
    absl::Status st = Process(shard, *s, lease);
    if (!st.ok() && !absl::IsFailedPrecondition(st)) return st;
  }
  return absl::OkStatus();
}

absl::Status Worker::Process(const std::string& shard, OwnedShard& s,
                             const Lease& lease) {
  ShardCheckpointer checkpointer(this, shard);
  if (s.processor == nullptr) {
    s.processor = factory_();
    s.processor->Initialize(shard, lease.checkpoint);
    s.last_sequence.clear();
    s.last_sub = 0;
    if (lease.checkpoint != "TRIM_HORIZON" && lease.checkpoint != "LATEST") {
      s.last_sequence = lease.checkpoint;
      s.last_sub = lease.sub;
    }
  }
  if (!s.iterator.has_value() || s.ended) {
    GetShardIteratorRequest request{.stream_arn = arn_, .shard_id = shard};
    if (s.last_sequence.empty()) {
      request.shard_iterator_type =
          lease.checkpoint == "LATEST" ? "LATEST" : "TRIM_HORIZON";
    } else {
      // At the record, so a partly processed aggregate is re-read and its
      // processed sub-records skipped.
      request.shard_iterator_type = "AT_SEQUENCE_NUMBER";
      request.starting_sequence_number = s.last_sequence;
    }
    FERRY_ASSIGN_OR_RETURN(
        GetShardIteratorResult it,
        kinesis_.GetShardIterator(options_.context, request));
    s.iterator = it.shard_iterator;
  }
  absl::StatusOr<GetRecordsResult> got = kinesis_.GetRecords(
      options_.context,
      {.shard_iterator = *s.iterator, .limit = options_.max_records});
  if (!got.ok()) {
    std::optional<AwsErrorInfo> info = GetAwsError(got.status());
    if (info && info->shape == "ExpiredIteratorException") {
      s.iterator.reset();  // renewed from the last record next round
      return absl::OkStatus();
    }
    return got.status();
  }
  std::vector<ConsumerRecord> batch;
  const std::string resume_seq = s.last_sequence;
  const uint64_t resume_sub = s.last_sub;
  for (const KinesisRecord& r : got->records) {
    std::vector<ConsumerRecord> parts;
    if (options_.deaggregate) {
      parts = Deaggregate(r);
    } else {
      parts.push_back(Plain(r));
    }
    for (ConsumerRecord& c : parts) {
      // Skip what the checkpoint already covers (the record itself when
      // plain; its sub-records up to the checkpointed one when aggregated).
      if (!resume_seq.empty() && c.sequence_number == resume_seq &&
          (!c.aggregated || c.sub_sequence_number <= resume_sub)) {
        continue;
      }
      batch.push_back(std::move(c));
    }
  }
  if (!batch.empty()) {
    s.last_sequence = batch.back().sequence_number;
    s.last_sub = batch.back().sub_sequence_number;
    s.processor->ProcessRecords(batch, checkpointer);
  }
  if (Owned(shard) == nullptr) return absl::OkStatus();  // lost meanwhile
  if (!got->next_shard_iterator.has_value()) {
    s.ended = true;
    s.processor->ShardEnded(checkpointer);
    // Checkpointed at SHARD_END: the lease is released for good.
    FERRY_ASSIGN_OR_RETURN(std::optional<KeyValueStore::Entry> e,
                           kv_.Get(kTable, LeaseKey(shard)));
    Lease after;
    if (e && Lease::Decode(e->value, &after) && after.checkpoint == kShardEnd) {
      auto it = owned_.find(shard);
      if (it != owned_.end()) owned_.erase(it);
    }
    return absl::OkStatus();
  }
  s.iterator = got->next_shard_iterator;
  return absl::OkStatus();
}

absl::Status Worker::Shutdown() {
  absl::Status result = absl::OkStatus();
  std::vector<std::string> shards = OwnedShards();
  for (const std::string& shard : shards) {
    auto e = kv_.Get(kTable, LeaseKey(shard));
    Lease lease;
    if (e.ok() && e->has_value() && Lease::Decode((*e)->value, &lease) &&
        lease.owner == options_.worker_id) {
      lease.owner.clear();
      lease.expires_ms = 0;
      absl::Status s = kv_.CompareAndSwap(kTable, LeaseKey(shard),
                                          (*e)->version, lease.Encode())
                           .status();
      if (!s.ok() && result.ok()) result = s;
    }
    Lose(shard);
  }
  const std::string key = absl::StrCat(Prefix(), "worker|", options_.worker_id);
  kv_.Delete(kTable, key, 0).IgnoreError();
  return result;
}

}  // namespace

std::vector<ConsumerRecord> Deaggregate(const KinesisRecord& record) {
  static constexpr char kMagic[] = "\xF3\x89\x9A\xC2";
  const std::string& d = record.data;
  if (d.size() < 4 + 16 || d.compare(0, 4, kMagic, 4) != 0) {
    return {Plain(record)};
  }
  std::string_view body(d.data() + 4, d.size() - 4 - 16);
  const std::string md5 = internal::Md5Hex(body);
  std::string want;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = d.size() - 16; i < d.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(d[i]);
    want.push_back(kHex[c >> 4]);
    want.push_back(kHex[c & 15]);
  }
  if (md5 != want) return {Plain(record)};
  std::vector<std::string> keys;
  std::vector<std::pair<uint64_t, std::string>> records;  // key index, data
  bool ok = ParseMessage(
      body, [&](int field, int type, uint64_t, std::string_view bytes) {
        if (field == 1 && type == 2) {
          keys.emplace_back(bytes);
        } else if (field == 3 && type == 2) {
          uint64_t key_index = 0;
          bool has_key = false;
          std::string data;
          if (!ParseMessage(bytes,
                            [&](int f, int t, uint64_t v, std::string_view b) {
                              if (f == 1 && t == 0) {
                                key_index = v;
                                has_key = true;
                              } else if (f == 3 && t == 2) {
                                data.assign(b.data(), b.size());
                              }
                              return true;
                            }) ||
              !has_key) {
            return false;
          }
          records.emplace_back(key_index, std::move(data));
        }
        return true;
      });
  if (!ok || records.empty()) return {Plain(record)};
  std::vector<ConsumerRecord> out;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].first >= keys.size()) return {Plain(record)};
    out.push_back(ConsumerRecord{
        .sequence_number = record.sequence_number,
        .sub_sequence_number = i,
        .aggregated = true,
        .partition_key = keys[records[i].first],
        .data = std::move(records[i].second),
        .approximate_arrival_timestamp = record.approximate_arrival_timestamp});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ConsumerGroupWorker>>
ConsumerGroupWorker::Create(Kinesis& kinesis, ConsumerGroupOptions options,
                            ProcessorFactory factory) {
  if (options.group.empty() || options.worker_id.empty() ||
      options.stream_name.empty() || factory == nullptr) {
    return absl::InvalidArgumentError(
        "a consumer group needs a group, a worker id, a stream and a "
        "processor factory");
  }
  if (options.initial_position != "TRIM_HORIZON" &&
      options.initial_position != "LATEST") {
    return absl::InvalidArgumentError(
        "initial_position must be TRIM_HORIZON or LATEST");
  }
  FERRY_ASSIGN_OR_RETURN(
      DescribeStreamSummaryResult summary,
      kinesis.DescribeStreamSummary(options.context,
                                    {.stream_name = options.stream_name}));
  std::string arn = summary.stream_description_summary.stream_arn;
  return std::unique_ptr<ConsumerGroupWorker>(
      new Worker(kinesis, kinesis.engine_, std::move(options),
                 std::move(factory), std::move(arn)));
}

}  // namespace ferry
