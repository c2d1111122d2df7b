#include "rocksdb_stream_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "codec.h"

namespace ferry::rocksdb_internal {
namespace {

constexpr char kNextStreamIdTag = 'G';
constexpr char kStreamTag = 'T';
constexpr char kCounterTag = 'C';
constexpr char kRecordTag = 'R';
constexpr uint8_t kStreamRecordVersion = 1;

#define FERRY_RSS_RETURN_IF_ERROR(expr)           \
  do {                                            \
    if (::absl::Status _st = (expr); !_st.ok()) { \
      return _st;                                 \
    }                                             \
  } while (false)

rocksdb::Slice S(const std::string& s) { return rocksdb::Slice(s); }
std::string_view V(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

absl::Status ToStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg =
      absl::StrCat("rocksdb streams ", std::string(what), ": ", s.ToString());
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit) {
    return absl::ResourceExhaustedError(msg);
  }
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::UnavailableError(msg);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat(
      "rocksdb backend: corrupt stream record: ", std::string(what)));
}

absl::Status StreamNotFound(StreamId id) {
  return absl::NotFoundError(absl::StrCat("stream ", id, " does not exist"));
}

std::string StreamKey(char tag, StreamId id) {
  std::string k(1, tag);
  PutFixed64BE(&k, id);
  return k;
}
std::string ShardKey(char tag, StreamId id, ShardIndex shard) {
  std::string k = StreamKey(tag, id);
  PutFixed32BE(&k, shard);
  return k;
}
std::string RecordKey(StreamId id, ShardIndex shard, uint64_t seq) {
  std::string k = ShardKey(kRecordTag, id, shard);
  PutFixed64BE(&k, seq);
  return k;
}

std::string EncodeCounter(uint64_t next, int64_t last_arrival_ms) {
  std::string v;
  PutFixed64BE(&v, next);
  PutFixed64BE(&v, static_cast<uint64_t>(last_arrival_ms));
  return v;
}

void PutString(std::string* out, std::string_view s) {
  PutFixed32BE(out, static_cast<uint32_t>(s.size()));
  out->append(s.data(), s.size());
}
bool GetString(std::string_view* in, std::string* out) {
  if (in->size() < 4) return false;
  uint32_t n = GetFixed32BE(in->data());
  in->remove_prefix(4);
  if (in->size() < n) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

int64_t ToMillis(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixMillis(t);
}

bool DecodeRecord(std::string_view key, std::string_view value,
                  StoredStreamRecord* r, bool times_only) {
  if (key.size() != 1 + 8 + 4 + 8 || value.size() < 12) return false;
  r->sequence = GetFixed64BE(key.data() + 13);
  const int64_t ms = static_cast<int64_t>(GetFixed64BE(value.data()));
  r->arrival = absl::FromUnixMillis(ms);
  if (times_only) return true;
  const uint32_t key_size = GetFixed32BE(value.data() + 8);
  if (value.size() - 12 < key_size) return false;
  r->partition_key.assign(value.data() + 12, key_size);
  r->data.assign(value.data() + 12 + key_size, value.size() - 12 - key_size);
  return true;
}

}  // namespace

std::string RocksDbStreamStore::EncodeStream(const Stream& s) {
  std::string out(1, static_cast<char>(kStreamRecordVersion));
  PutString(&out, s.record.key);
  PutString(&out, s.record.config);
  PutFixed64BE(&out, s.record.config_version);
  PutFixed32BE(&out, static_cast<uint32_t>(s.shards.size()));
  for (const Shard& shard : s.shards) out.push_back(shard.closed ? 1 : 0);
  return out;
}

bool RocksDbStreamStore::DecodeStream(std::string_view in, Stream* s) {
  if (in.empty() || static_cast<uint8_t>(in[0]) != kStreamRecordVersion) {
    return false;
  }
  in.remove_prefix(1);
  if (!GetString(&in, &s->record.key) || !GetString(&in, &s->record.config) ||
      in.size() < 12) {
    return false;
  }
  s->record.config_version = GetFixed64BE(in.data());
  const uint32_t n = GetFixed32BE(in.data() + 8);
  in.remove_prefix(12);
  if (in.size() != n) return false;
  s->shards.assign(n, Shard{});
  for (uint32_t i = 0; i < n; ++i) s->shards[i].closed = in[i] != 0;
  return true;
}

ShardState RocksDbStreamStore::StateOf(ShardIndex i, const Shard& s) {
  return ShardState{
      .shard = i,
      .closed = s.closed,
      .first_sequence = s.first_sequence,
      .next_sequence = s.next_sequence,
      .last_arrival = s.last_arrival_ms == INT64_MIN
                          ? absl::InfinitePast()
                          : absl::FromUnixMillis(s.last_arrival_ms)};
}

absl::Status RocksDbStreamStore::LoadShardBounds(StreamId id, Stream* s) {
  return host_->WithDb([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle& cf) {
    for (ShardIndex i = 0; i < s->shards.size(); ++i) {
      Shard& shard = s->shards[i];
      std::string value;
      rocksdb::Status st = db.Get(rocksdb::ReadOptions(), &cf,
                                  S(ShardKey(kCounterTag, id, i)), &value);
      if (st.ok()) {
        if (value.size() != 16) return Corrupt("shard counter");
        shard.next_sequence = GetFixed64BE(value.data());
        shard.last_arrival_ms =
            static_cast<int64_t>(GetFixed64BE(value.data() + 8));
      } else if (!st.IsNotFound()) {
        return ToStatus(st, "read shard counter");
      }
      std::string lower = ShardKey(kRecordTag, id, i);
      std::string upper = ShardKey(kRecordTag, id, i + 1);
      if (i + 1 == 0) upper = StreamKey(kRecordTag, id + 1);
      rocksdb::Slice lo = S(lower), hi = S(upper);
      rocksdb::ReadOptions ro;
      ro.iterate_lower_bound = &lo;
      ro.iterate_upper_bound = &hi;
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, &cf));
      it->SeekToFirst();
      shard.first_sequence = shard.next_sequence;
      if (it->Valid()) {
        if (it->key().size() != 21) return Corrupt("record key");
        shard.first_sequence = GetFixed64BE(it->key().data() + 13);
      }
      FERRY_RSS_RETURN_IF_ERROR(ToStatus(it->status(), "scan records"));
    }
    return absl::OkStatus();
  });
}

absl::Status RocksDbStreamStore::Load() {
  MutexLock lock(&mu_);
  streams_.clear();
  by_key_.clear();
  std::vector<std::pair<StreamId, Stream>> loaded;
  StreamId next_id = 1;  // written by the lambda (thread-safety analysis
                         // does not see that mu_ is held inside it)
  FERRY_RSS_RETURN_IF_ERROR(host_->WithDb([&](rocksdb::DB& db,
                                              rocksdb::ColumnFamilyHandle& cf) {
    std::string value;
    rocksdb::Status st = db.Get(rocksdb::ReadOptions(), &cf,
                                S(std::string(1, kNextStreamIdTag)), &value);
    if (st.ok()) {
      if (value.size() != 8) return Corrupt("next stream id");
      next_id = GetFixed64BE(value.data());
    } else if (!st.IsNotFound()) {
      return ToStatus(st, "read next stream id");
    }
    std::string lower(1, kStreamTag), upper(1, kStreamTag + 1);
    rocksdb::Slice lo = S(lower), hi = S(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lo;
    ro.iterate_upper_bound = &hi;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, &cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 9) return Corrupt("stream key");
      Stream s;
      if (!DecodeStream(V(it->value()), &s)) return Corrupt("stream");
      s.record.id = GetFixed64BE(it->key().data() + 1);
      loaded.emplace_back(s.record.id, std::move(s));
    }
    return ToStatus(it->status(), "scan streams");
  }));
  next_id_ = next_id;
  for (auto& [id, s] : loaded) {
    FERRY_RSS_RETURN_IF_ERROR(LoadShardBounds(id, &s));
    by_key_[s.record.key] = id;
    streams_[id] = std::move(s);
  }
  return absl::OkStatus();
}

absl::Status RocksDbStreamStore::Reset() {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RSS_RETURN_IF_ERROR(host_->Commit(
        false,
        [&](rocksdb::WriteBatch& b, rocksdb::ColumnFamilyHandle* cf) {
          for (char tag : {kStreamTag, kCounterTag, kRecordTag}) {
            b.DeleteRange(cf, S(std::string(1, tag)),
                          S(std::string(1, static_cast<char>(tag + 1))))
                .PermitUncheckedError();
          }
        },
        &ticket));
    streams_.clear();
    by_key_.clear();
  }
  FERRY_RSS_RETURN_IF_ERROR(host_->WaitDurable(ticket));
  host_->CompactStreamRange(std::string(1, kCounterTag),
                            std::string(1, kStreamTag + 1));
  return absl::OkStatus();
}

absl::StatusOr<StoredStream> RocksDbStreamStore::CreateStream(
    const CreateStreamParams& p) {
  uint64_t ticket = 0;
  StoredStream out;
  {
    MutexLock lock(&mu_);
    if (by_key_.find(p.key) != by_key_.end()) {
      return absl::AlreadyExistsError(
          absl::StrCat("stream ", std::string(p.key), " already exists"));
    }
    Stream s;
    s.record = StoredStream{.id = next_id_,
                            .key = std::string(p.key),
                            .config = std::string(p.config),
                            .config_version = 1};
    s.shards.assign(p.shard_count, Shard{});
    const StreamId following = next_id_ + 1;
    FERRY_RSS_RETURN_IF_ERROR(host_->Commit(
        true,
        [&](rocksdb::WriteBatch& b, rocksdb::ColumnFamilyHandle* cf) {
          std::string next;
          PutFixed64BE(&next, following);
          b.Put(cf, S(std::string(1, kNextStreamIdTag)), S(next))
              .PermitUncheckedError();
          b.Put(cf, S(StreamKey(kStreamTag, s.record.id)), S(EncodeStream(s)))
              .PermitUncheckedError();
        },
        &ticket));
    ++next_id_;
    out = s.record;
    by_key_[s.record.key] = s.record.id;
    streams_[s.record.id] = std::move(s);
  }
  FERRY_RSS_RETURN_IF_ERROR(host_->WaitDurable(ticket));
  return out;
}

absl::StatusOr<StoredStream> RocksDbStreamStore::GetStream(
    std::string_view key) {
  MutexLock lock(&mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    return absl::NotFoundError(
        absl::StrCat("stream ", std::string(key), " does not exist"));
  }
  return streams_[it->second].record;
}

absl::StatusOr<std::vector<StoredStream>> RocksDbStreamStore::ListStreams(
    const ListStreamsParams& p) {
  MutexLock lock(&mu_);
  std::vector<StoredStream> out;
  auto it = p.start_after.empty() ? by_key_.lower_bound(p.key_prefix)
                                  : by_key_.upper_bound(p.start_after);
  for (; it != by_key_.end() && out.size() < p.limit; ++it) {
    if (it->first.compare(0, p.key_prefix.size(), p.key_prefix) != 0) {
      if (it->first > p.key_prefix) break;
      continue;
    }
    out.push_back(streams_[it->second].record);
  }
  return out;
}

absl::Status RocksDbStreamStore::DeleteStream(StreamId id) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) return StreamNotFound(id);
    FERRY_RSS_RETURN_IF_ERROR(host_->Commit(
        false,
        [&](rocksdb::WriteBatch& b, rocksdb::ColumnFamilyHandle* cf) {
          b.Delete(cf, S(StreamKey(kStreamTag, id))).PermitUncheckedError();
          b.DeleteRange(cf, S(StreamKey(kCounterTag, id)),
                        S(StreamKey(kCounterTag, id + 1)))
              .PermitUncheckedError();
          b.DeleteRange(cf, S(StreamKey(kRecordTag, id)),
                        S(StreamKey(kRecordTag, id + 1)))
              .PermitUncheckedError();
        },
        &ticket));
    by_key_.erase(it->second.record.key);
    streams_.erase(it);
  }
  FERRY_RSS_RETURN_IF_ERROR(host_->WaitDurable(ticket));
  host_->CompactStreamRange(StreamKey(kRecordTag, id),
                            StreamKey(kRecordTag, id + 1));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RocksDbStreamStore::UpdateStream(
    const UpdateStreamParams& p) {
  uint64_t ticket = 0, version = 0;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return StreamNotFound(p.stream);
    Stream updated = it->second;
    if (updated.record.config_version != p.expected_version) {
      return absl::AbortedError("stream config version mismatch");
    }
    for (ShardIndex i : p.close_shards) {
      if (i >= updated.shards.size()) {
        return absl::NotFoundError(
            absl::StrCat("shard ", i, " does not exist"));
      }
      if (updated.shards[i].closed) {
        return absl::FailedPreconditionError(
            absl::StrCat("shard ", i, " is closed"));
      }
      updated.shards[i].closed = true;
    }
    for (uint32_t i = 0; i < p.add_shards; ++i) {
      updated.shards.push_back(Shard{});
    }
    updated.record.config = std::string(p.config);
    ++updated.record.config_version;
    FERRY_RSS_RETURN_IF_ERROR(host_->Commit(
        false,
        [&](rocksdb::WriteBatch& b, rocksdb::ColumnFamilyHandle* cf) {
          b.Put(cf, S(StreamKey(kStreamTag, p.stream)),
                S(EncodeStream(updated)))
              .PermitUncheckedError();
        },
        &ticket));
    version = updated.record.config_version;
    it->second = std::move(updated);
  }
  FERRY_RSS_RETURN_IF_ERROR(host_->WaitDurable(ticket));
  return version;
}

absl::StatusOr<std::vector<ShardState>> RocksDbStreamStore::ListShards(
    StreamId id) {
  MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return StreamNotFound(id);
  std::vector<ShardState> out;
  for (ShardIndex i = 0; i < it->second.shards.size(); ++i) {
    out.push_back(StateOf(i, it->second.shards[i]));
  }
  return out;
}

absl::Status RocksDbStreamStore::Append(const AppendParams& p) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return StreamNotFound(p.stream);
    Stream& s = it->second;
    for (const AppendRecord& r : p.records) {
      if (r.shard >= s.shards.size()) {
        return absl::NotFoundError(
            absl::StrCat("shard ", r.shard, " does not exist"));
      }
      if (s.shards[r.shard].closed) {
        return absl::FailedPreconditionError(
            absl::StrCat("shard ", r.shard, " is closed"));
      }
    }
    // The new counters, applied to `s` only once the batch is written.
    std::map<ShardIndex, Shard> touched;
    const int64_t now_ms = ToMillis(p.now);
    std::string value, key;
    FERRY_RSS_RETURN_IF_ERROR(host_->Commit(
        true,
        [&](rocksdb::WriteBatch& b, rocksdb::ColumnFamilyHandle* cf) {
          // Sequence numbers go to the records in their order; the batch
          // holds them grouped by shard, so the memtable inserts run in key
          // order (RocksDB reuses its skip-list position between them).
          std::vector<uint32_t> order(p.records.size());
          for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
          std::stable_sort(order.begin(), order.end(),
                           [&](uint32_t a, uint32_t b) {
                             return p.records[a].shard < p.records[b].shard;
                           });
          for (uint32_t i : order) {
            const AppendRecord& r = p.records[i];
            auto [t, inserted] =
                touched.try_emplace(r.shard, s.shards[r.shard]);
            Shard& shard = t->second;
            shard.last_arrival_ms = std::max(shard.last_arrival_ms, now_ms);
            const uint64_t seq = shard.next_sequence++;
            p.sequences[i] = seq;
            value.clear();
            PutFixed64BE(&value, static_cast<uint64_t>(shard.last_arrival_ms));
            PutFixed32BE(&value, static_cast<uint32_t>(r.partition_key.size()));
            value.append(r.partition_key.data(), r.partition_key.size());
            value.append(r.data.data(), r.data.size());
            key.resize(13);
            if (key[0] != kRecordTag) key = ShardKey(kRecordTag, p.stream, 0);
            for (int x = 0; x < 4; ++x) {
              key[9 + x] = static_cast<char>(r.shard >> (8 * (3 - x)));
            }
            PutFixed64BE(&key, seq);
            b.Put(cf, S(key), S(value)).PermitUncheckedError();
          }
          for (auto& [index, shard] : touched) {
            b.Put(cf, S(ShardKey(kCounterTag, p.stream, index)),
                  S(EncodeCounter(shard.next_sequence, shard.last_arrival_ms)))
                .PermitUncheckedError();
          }
        },
        &ticket));
    for (auto& [index, shard] : touched) s.shards[index] = shard;
  }
  return host_->WaitDurable(ticket);
}

absl::StatusOr<StreamStore::ReadResult> RocksDbStreamStore::Read(
    const ReadParams& p) {
  ReadResult result;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return StreamNotFound(p.stream);
    if (p.shard >= it->second.shards.size()) {
      return absl::NotFoundError(
          absl::StrCat("shard ", p.shard, " does not exist"));
    }
    result.shard = StateOf(p.shard, it->second.shards[p.shard]);
  }
  uint64_t from = std::max(p.from_sequence, result.shard.first_sequence);
  const uint64_t end = result.shard.next_sequence;
  if (p.not_before != absl::InfinitePast() && from < end) {
    absl::StatusOr<uint64_t> cut =
        LowerBoundTime(p.stream, p.shard, from, end, ToMillis(p.not_before));
    if (!cut.ok()) return cut.status();
    from = *cut;
  }
  result.next_sequence = std::max(p.from_sequence, from);
  if (from >= end || p.max_records == 0) return result;
  FERRY_RSS_RETURN_IF_ERROR(
      host_->WithDb([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle& cf) {
        std::string lower = RecordKey(p.stream, p.shard, from);
        std::string upper = RecordKey(p.stream, p.shard, end);
        rocksdb::Slice lo = S(lower), hi = S(upper);
        rocksdb::ReadOptions ro;
        ro.iterate_lower_bound = &lo;
        ro.iterate_upper_bound = &hi;
        std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, &cf));
        size_t bytes = 0;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
          if (result.records.size() >= p.max_records) break;
          const size_t size =
              it->value().size() >= 12 ? it->value().size() - 12 : 0;
          if (!result.records.empty() && bytes + size > p.max_bytes) break;
          StoredStreamRecord r;
          if (!DecodeRecord(V(it->key()), V(it->value()), &r, false)) {
            return Corrupt("record");
          }
          bytes += size;
          result.next_sequence = r.sequence + 1;
          result.records.push_back(std::move(r));
        }
        return ToStatus(it->status(), "read records");
      }));
  return result;
}

absl::StatusOr<uint64_t> RocksDbStreamStore::LowerBoundTime(
    StreamId stream, ShardIndex shard, uint64_t lo, uint64_t hi, int64_t ms) {
  // Records in [lo, hi) may have been trimmed concurrently: a missing one
  // counts as "before".
  absl::Status status =
      host_->WithDb([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle& cf) {
        std::string upper = ShardKey(kRecordTag, stream, shard + 1);
        rocksdb::Slice hi_slice = S(upper);
        rocksdb::ReadOptions ro;
        ro.iterate_upper_bound = &hi_slice;
        std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, &cf));
        while (lo < hi) {
          const uint64_t mid = lo + (hi - lo) / 2;
          it->Seek(S(RecordKey(stream, shard, mid)));
          StoredStreamRecord r;
          // A missing record (trimmed meanwhile) counts as "before".
          bool before = true;
          if (it->Valid()) {
            if (!DecodeRecord(V(it->key()), V(it->value()), &r, true)) {
              return Corrupt("record");
            }
            before = r.sequence != mid || ToMillis(r.arrival) < ms;
          } else {
            FERRY_RSS_RETURN_IF_ERROR(ToStatus(it->status(), "seek"));
          }
          if (before) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return lo;
}

absl::StatusOr<uint64_t> RocksDbStreamStore::SeekTime(const SeekParams& p) {
  ShardState state;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return StreamNotFound(p.stream);
    if (p.shard >= it->second.shards.size()) {
      return absl::NotFoundError(
          absl::StrCat("shard ", p.shard, " does not exist"));
    }
    state = StateOf(p.shard, it->second.shards[p.shard]);
  }
  return LowerBoundTime(p.stream, p.shard, state.first_sequence,
                        state.next_sequence, ToMillis(p.at));
}

absl::StatusOr<int64_t> RocksDbStreamStore::Trim(const TrimParams& p) {
  std::vector<ShardState> shards;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return StreamNotFound(p.stream);
    for (ShardIndex i = 0; i < it->second.shards.size(); ++i) {
      shards.push_back(StateOf(i, it->second.shards[i]));
    }
  }
  const int64_t ms = ToMillis(p.before);
  std::vector<std::pair<ShardIndex, uint64_t>> cuts;
  int64_t trimmed = 0;
  for (const ShardState& s : shards) {
    if (s.first_sequence >= s.next_sequence) continue;
    absl::StatusOr<uint64_t> cut = LowerBoundTime(
        p.stream, s.shard, s.first_sequence, s.next_sequence, ms);
    if (!cut.ok()) return cut.status();
    if (*cut > s.first_sequence) {
      cuts.emplace_back(s.shard, *cut);
      trimmed += static_cast<int64_t>(*cut - s.first_sequence);
    }
  }
  if (cuts.empty()) return 0;
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return StreamNotFound(p.stream);
    FERRY_RSS_RETURN_IF_ERROR(host_->Commit(
        false,
        [&](rocksdb::WriteBatch& b, rocksdb::ColumnFamilyHandle* cf) {
          for (auto& [shard, cut] : cuts) {
            b.DeleteRange(cf, S(RecordKey(p.stream, shard, 0)),
                          S(RecordKey(p.stream, shard, cut)))
                .PermitUncheckedError();
          }
        },
        &ticket));
    for (auto& [shard, cut] : cuts) {
      Shard& s = it->second.shards[shard];
      s.first_sequence = std::max(s.first_sequence, cut);
    }
  }
  FERRY_RSS_RETURN_IF_ERROR(host_->WaitDurable(ticket));
  for (auto& [shard, cut] : cuts) {
    host_->CompactStreamRange(RecordKey(p.stream, shard, 0),
                              RecordKey(p.stream, shard, cut));
  }
  return trimmed;
}

}  // namespace ferry::rocksdb_internal
