#include "tests/testing/persistent_fake_stream_store.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/testing/hex.h"

namespace ferry_testing {
namespace {

using ferry::ShardIndex;
using ferry::ShardState;
using ferry::StoredStream;
using ferry::StoredStreamRecord;
using ferry::StreamId;
using Json = nlohmann::json;

int64_t Ms(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixMillis(t);
}
absl::Time FromMs(int64_t ms) {
  if (ms == INT64_MIN) return absl::InfinitePast();
  return absl::FromUnixMillis(ms);
}

struct FakeShard {
  bool closed = false;
  uint64_t next_sequence = 1;
  int64_t last_arrival_ms = INT64_MIN;
  std::map<uint64_t, StoredStreamRecord> records;
};

struct FakeStream {
  StoredStream record;
  std::vector<FakeShard> shards;
};

class FakeStreamStore final : public PersistentFakeStreamStore {
 public:
  explicit FakeStreamStore(std::string path) : path_(std::move(path)) {}

  absl::Status Load() {
    if (path_.empty()) return absl::OkStatus();
    std::ifstream in(path_);
    if (!in) return absl::OkStatus();
    std::stringstream buffer;
    buffer << in.rdbuf();
    Json j = Json::parse(buffer.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", 0) != 1) {
      return absl::DataLossError(absl::StrCat("cannot parse ", path_));
    }
    next_id_ = j["next_id"];
    for (const Json& js : j["streams"]) {
      FakeStream s;
      s.record.id = js["id"];
      s.record.key = Unhex(js["key"]);
      s.record.config = Unhex(js["config"]);
      s.record.config_version = js["version"];
      for (const Json& jh : js["shards"]) {
        FakeShard shard;
        shard.closed = jh["closed"];
        shard.next_sequence = jh["next"];
        shard.last_arrival_ms = jh["last"];
        for (const Json& jr : jh["records"]) {
          StoredStreamRecord r;
          r.sequence = jr[0];
          r.arrival = FromMs(jr[1]);
          r.partition_key = Unhex(jr[2]);
          r.data = Unhex(jr[3]);
          shard.records[r.sequence] = std::move(r);
        }
        s.shards.push_back(std::move(shard));
      }
      streams_[s.record.id] = std::move(s);
    }
    return absl::OkStatus();
  }

  absl::Status Reset() override {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.clear();
    return SaveLocked();
  }

  absl::StatusOr<StoredStream> CreateStream(
      const CreateStreamParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (FindByKeyLocked(p.key) != nullptr) {
      return absl::AlreadyExistsError("stream exists");
    }
    FakeStream s;
    s.record = {next_id_++, std::string(p.key), std::string(p.config), 1};
    s.shards.resize(p.shard_count);
    StoredStream out = s.record;
    streams_[out.id] = std::move(s);
    if (absl::Status st = SaveLocked(); !st.ok()) return st;
    return out;
  }

  absl::StatusOr<StoredStream> GetStream(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    FakeStream* s = FindByKeyLocked(key);
    if (s == nullptr) return absl::NotFoundError("no such stream");
    return s->record;
  }

  absl::StatusOr<std::vector<StoredStream>> ListStreams(
      const ListStreamsParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<StoredStream> all;
    for (auto& [id, s] : streams_) {
      if (s.record.key.compare(0, p.key_prefix.size(), p.key_prefix) != 0) {
        continue;
      }
      if (!p.start_after.empty() && s.record.key <= p.start_after) continue;
      all.push_back(s.record);
    }
    std::sort(all.begin(), all.end(),
              [](const StoredStream& a, const StoredStream& b) {
                return a.key < b.key;
              });
    if (all.size() > p.limit) all.resize(p.limit);
    return all;
  }

  absl::Status DeleteStream(StreamId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (streams_.erase(id) == 0) return absl::NotFoundError("no such stream");
    return SaveLocked();
  }

  absl::StatusOr<uint64_t> UpdateStream(const UpdateStreamParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return absl::NotFoundError("no such stream");
    FakeStream& s = it->second;
    if (s.record.config_version != p.expected_version) {
      return absl::AbortedError("version mismatch");
    }
    for (ShardIndex i : p.close_shards) {
      if (i >= s.shards.size()) return absl::NotFoundError("no such shard");
      if (s.shards[i].closed) return absl::FailedPreconditionError("closed");
    }
    for (ShardIndex i : p.close_shards) s.shards[i].closed = true;
    s.shards.resize(s.shards.size() + p.add_shards);
    s.record.config = std::string(p.config);
    const uint64_t version = ++s.record.config_version;
    if (absl::Status st = SaveLocked(); !st.ok()) return st;
    return version;
  }

  absl::StatusOr<std::vector<ShardState>> ListShards(StreamId id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(id);
    if (it == streams_.end()) return absl::NotFoundError("no such stream");
    std::vector<ShardState> out;
    for (size_t i = 0; i < it->second.shards.size(); ++i) {
      out.push_back(StateOf(static_cast<ShardIndex>(i), it->second.shards[i]));
    }
    return out;
  }

  absl::Status Append(const AppendParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return absl::NotFoundError("no such stream");
    FakeStream& s = it->second;
    for (const AppendRecord& r : p.records) {
      if (r.shard >= s.shards.size()) {
        return absl::NotFoundError("no such shard");
      }
      if (s.shards[r.shard].closed) {
        return absl::FailedPreconditionError("shard closed");
      }
    }
    for (size_t i = 0; i < p.records.size(); ++i) {
      FakeShard& shard = s.shards[p.records[i].shard];
      shard.last_arrival_ms = std::max(shard.last_arrival_ms, Ms(p.now));
      StoredStreamRecord r;
      r.sequence = shard.next_sequence++;
      r.arrival = FromMs(shard.last_arrival_ms);
      r.partition_key = std::string(p.records[i].partition_key);
      r.data = std::string(p.records[i].data);
      p.sequences[i] = r.sequence;
      shard.records[r.sequence] = std::move(r);
    }
    return SaveLocked();
  }

  absl::StatusOr<ReadResult> Read(const ReadParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    FakeShard* shard = nullptr;
    if (absl::Status st = FindShardLocked(p.stream, p.shard, &shard);
        !st.ok()) {
      return st;
    }
    ReadResult result;
    result.shard = StateOf(p.shard, *shard);
    result.next_sequence = p.from_sequence;
    size_t bytes = 0;
    bool skipped_to_first = false;
    for (auto& [seq, r] : shard->records) {
      if (seq < p.from_sequence || r.arrival < p.not_before) continue;
      if (!skipped_to_first) {
        result.next_sequence = seq;
        skipped_to_first = true;
      }
      if (result.records.size() >= p.max_records) break;
      const size_t size = r.partition_key.size() + r.data.size();
      if (!result.records.empty() && bytes + size > p.max_bytes) break;
      bytes += size;
      result.records.push_back(r);
      result.next_sequence = seq + 1;
    }
    if (!skipped_to_first) {
      result.next_sequence =
          std::max(p.from_sequence, result.shard.next_sequence);
    }
    return result;
  }

  absl::StatusOr<uint64_t> SeekTime(const SeekParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    FakeShard* shard = nullptr;
    if (absl::Status st = FindShardLocked(p.stream, p.shard, &shard);
        !st.ok()) {
      return st;
    }
    for (auto& [seq, r] : shard->records) {
      if (r.arrival >= p.at) return seq;
    }
    return shard->next_sequence;
  }

  absl::StatusOr<int64_t> Trim(const TrimParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(p.stream);
    if (it == streams_.end()) return absl::NotFoundError("no such stream");
    int64_t trimmed = 0;
    for (FakeShard& shard : it->second.shards) {
      for (auto r = shard.records.begin(); r != shard.records.end();) {
        if (r->second.arrival < p.before) {
          r = shard.records.erase(r);
          ++trimmed;
        } else {
          ++r;
        }
      }
    }
    if (trimmed == 0) return 0;
    if (absl::Status st = SaveLocked(); !st.ok()) return st;
    return trimmed;
  }

 private:
  static ShardState StateOf(ShardIndex i, const FakeShard& s) {
    return ShardState{.shard = i,
                      .closed = s.closed,
                      .first_sequence = s.records.empty()
                                            ? s.next_sequence
                                            : s.records.begin()->first,
                      .next_sequence = s.next_sequence,
                      .last_arrival = FromMs(s.last_arrival_ms)};
  }

  FakeStream* FindByKeyLocked(std::string_view key) {
    for (auto& [id, s] : streams_) {
      if (s.record.key == key) return &s;
    }
    return nullptr;
  }

  absl::Status FindShardLocked(StreamId id, ShardIndex shard, FakeShard** out) {
    auto it = streams_.find(id);
    if (it == streams_.end()) return absl::NotFoundError("no such stream");
    if (shard >= it->second.shards.size()) {
      return absl::NotFoundError("no such shard");
    }
    *out = &it->second.shards[shard];
    return absl::OkStatus();
  }

  absl::Status SaveLocked() {
    if (path_.empty()) return absl::OkStatus();
    Json j = {{"format", 1}, {"next_id", next_id_}};
    j["streams"] = Json::array();
    for (auto& [id, s] : streams_) {
      Json js = {{"id", s.record.id},
                 {"key", Hex(s.record.key)},
                 {"config", Hex(s.record.config)},
                 {"version", s.record.config_version}};
      js["shards"] = Json::array();
      for (const FakeShard& shard : s.shards) {
        Json jh = {{"closed", shard.closed},
                   {"next", shard.next_sequence},
                   {"last", shard.last_arrival_ms}};
        jh["records"] = Json::array();
        for (auto& [seq, r] : shard.records) {
          jh["records"].push_back(
              {seq, Ms(r.arrival), Hex(r.partition_key), Hex(r.data)});
        }
        js["shards"].push_back(std::move(jh));
      }
      j["streams"].push_back(std::move(js));
    }
    std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << j.dump();
      if (!out) {
        return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
      }
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot rename ", tmp));
    }
    return absl::OkStatus();
  }

  const std::string path_;
  std::mutex mu_;
  StreamId next_id_ = 1;
  std::map<StreamId, FakeStream> streams_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PersistentFakeStreamStore>>
PersistentFakeStreamStore::Open(std::string path) {
  auto store = std::make_unique<FakeStreamStore>(std::move(path));
  if (absl::Status s = store->Load(); !s.ok()) return s;
  return std::unique_ptr<PersistentFakeStreamStore>(std::move(store));
}

}  // namespace ferry_testing
