// The consumer-group library (ferry/consumer_group.h) on every backend:
// processing and checkpoints, rebalancing when a worker joins or leaves,
// parents before children, KPL de-aggregation with checkpoints inside an
// aggregate.
#include <openssl/evp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ferry/consumer_group.h"
#include "ferry/kinesis.h"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::IsOk;
using ::testing::ElementsAre;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// Everything every processor of a test saw, in order.
struct Log {
  std::vector<std::string> data;
  std::map<std::string, std::vector<std::string>> by_shard;
  std::vector<std::string> ended;
  bool checkpoint_each_batch = true;
  bool checkpoint_at_end = true;
};

class LoggingProcessor : public ferry::RecordProcessor {
 public:
  explicit LoggingProcessor(Log* log) : log_(log) {}
  void Initialize(const std::string& shard, const std::string&) override {
    shard_ = shard;
  }
  void ProcessRecords(const std::vector<ferry::ConsumerRecord>& records,
                      ferry::Checkpointer& c) override {
    for (const auto& r : records) {
      log_->data.push_back(r.data);
      log_->by_shard[shard_].push_back(r.data);
    }
    if (log_->checkpoint_each_batch) {
      EXPECT_THAT(c.Checkpoint(), IsOk());
    }
  }
  void ShardEnded(ferry::Checkpointer& c) override {
    log_->ended.push_back(shard_);
    if (log_->checkpoint_at_end) {
      EXPECT_THAT(c.Checkpoint(), IsOk());
    }
  }

 private:
  Log* const log_;
  std::string shard_;
};

class ConsumerGroupTest : public ConformanceTest {
 protected:
  ferry::Kinesis& k() { return broker().kinesis(); }

  std::unique_ptr<ferry::ConsumerGroupWorker> Worker(const std::string& id,
                                                     Log* log) {
    auto w = ferry::ConsumerGroupWorker::Create(
        k(),
        {.group = "app", .worker_id = id, .stream_name = "s", .context = ctx_},
        [log] { return std::make_unique<LoggingProcessor>(log); });
    EXPECT_THAT(w, IsOk());
    return w.ok() ? *std::move(w) : nullptr;
  }

  void PutTo(const std::string& ehk, const std::string& data) {
    ASSERT_THAT(k().PutRecord(ctx_, {.stream_name = "s",
                                     .data = data,
                                     .partition_key = "k",
                                     .explicit_hash_key = ehk}),
                IsOk());
  }
};

constexpr char kLow[] = "0";
constexpr char kHigh[] = "340282366920938463463374607431768211455";

TEST_P(ConsumerGroupTest, ProcessesAndResumesAfterTheCheckpoint) {
  ASSERT_THAT(k().CreateStream(ctx_, {.stream_name = "s", .shard_count = 2}),
              IsOk());
  PutTo(kLow, "a1");
  PutTo(kHigh, "b1");
  PutTo(kLow, "a2");
  Log log;
  auto w1 = Worker("w1", &log);
  ASSERT_THAT(w1->RunOnce(), IsOk());
  EXPECT_THAT(w1->OwnedShards(), SizeIs(2));
  EXPECT_THAT(log.by_shard["shardId-000000000000"], ElementsAre("a1", "a2"));
  EXPECT_THAT(log.by_shard["shardId-000000000001"], ElementsAre("b1"));
  ASSERT_THAT(w1->Shutdown(), IsOk());

  PutTo(kLow, "a3");
  Log log2;
  auto w2 = Worker("w2", &log2);
  ASSERT_THAT(w2->RunOnce(), IsOk());
  EXPECT_THAT(log2.data, ElementsAre("a3"));  // nothing checkpointed again
}

TEST_P(ConsumerGroupTest, WorkersRebalanceWhenOneJoinsAndWhenOneLeaves) {
  ASSERT_THAT(k().CreateStream(ctx_, {.stream_name = "s", .shard_count = 4}),
              IsOk());
  Log log;
  auto a = Worker("a", &log);
  auto b = Worker("b", &log);
  ASSERT_THAT(a->RunOnce(), IsOk());
  EXPECT_THAT(a->OwnedShards(), SizeIs(4));
  // b joins: it steals one lease per round until both hold their share.
  for (int round = 0; round < 3; ++round) {
    ASSERT_THAT(b->RunOnce(), IsOk());
    ASSERT_THAT(a->RunOnce(), IsOk());
  }
  EXPECT_THAT(a->OwnedShards(), SizeIs(2));
  EXPECT_THAT(b->OwnedShards(), SizeIs(2));
  // a stops renewing: once its leases expire, b takes them all.
  Advance(absl::Seconds(11));
  ASSERT_THAT(b->RunOnce(), IsOk());
  EXPECT_THAT(b->OwnedShards(), SizeIs(4));
  // a comes back: it learns it lost them and steals its share back (each
  // worker's view is as of its last round).
  for (int round = 0; round < 2; ++round) {
    ASSERT_THAT(a->RunOnce(), IsOk());
    ASSERT_THAT(b->RunOnce(), IsOk());
  }
  EXPECT_THAT(a->OwnedShards(), SizeIs(2));
  EXPECT_THAT(b->OwnedShards(), SizeIs(2));
}

TEST_P(ConsumerGroupTest, ParentsAreFinishedBeforeChildren) {
  ASSERT_THAT(k().CreateStream(ctx_, {.stream_name = "s", .shard_count = 1}),
              IsOk());
  PutTo(kLow, "p1");
  PutTo(kHigh, "p2");
  ASSERT_THAT(
      k().SplitShard(ctx_, {.stream_name = "s",
                            .shard_to_split = "shardId-000000000000",
                            .new_starting_hash_key =
                                "170141183460469231731687303715884105728"}),
      IsOk());
  PutTo(kLow, "c1");
  PutTo(kHigh, "c2");
  Log log;
  log.checkpoint_at_end = false;
  auto w = Worker("w", &log);
  ASSERT_THAT(w->RunOnce(), IsOk());
  EXPECT_THAT(log.data, ElementsAre("p1", "p2"));
  EXPECT_THAT(log.ended, ElementsAre("shardId-000000000000"));
  // Without the SHARD_END checkpoint the children stay untouched.
  ASSERT_THAT(w->RunOnce(), IsOk());
  ASSERT_THAT(w->RunOnce(), IsOk());
  EXPECT_THAT(log.data, SizeIs(2));
  log.checkpoint_at_end = true;
  ASSERT_THAT(w->RunOnce(), IsOk());  // the parent's end, checkpointed now
  ASSERT_THAT(w->RunOnce(), IsOk());
  ASSERT_THAT(w->RunOnce(), IsOk());
  EXPECT_THAT(log.data, ElementsAre("p1", "p2", "c1", "c2"));
  EXPECT_THAT(w->OwnedShards(), UnorderedElementsAre("shardId-000000000001",
                                                     "shardId-000000000002"));
}

// A KPL aggregate: magic, AggregatedRecord protobuf, MD5 of the protobuf.
std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Field(int field, const std::string& bytes) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(bytes.size()) +
         bytes;
}
std::string Aggregate(
    const std::vector<std::pair<std::string, std::string>>& records) {
  std::string body;
  std::map<std::string, int> keys;
  for (const auto& [key, data] : records) {
    if (keys.emplace(key, static_cast<int>(keys.size())).second) {
      body += Field(1, key);
    }
  }
  for (const auto& [key, data] : records) {
    std::string r = Varint(1 << 3 | 0) + Varint(keys[key]) + Field(3, data);
    body += Field(3, r);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr);
  std::string md5(reinterpret_cast<const char*>(digest), size);
  return std::string("\xF3\x89\x9A\xC2", 4) + body + md5;
}

class StopAfter : public ferry::RecordProcessor {
 public:
  explicit StopAfter(std::vector<std::string>* seen) : seen_(seen) {}
  void ProcessRecords(const std::vector<ferry::ConsumerRecord>& records,
                      ferry::Checkpointer& c) override {
    for (const auto& r : records) seen_->push_back(r.data);
    // Checkpoint inside the aggregate, after its second user record.
    EXPECT_THAT(c.Checkpoint(records[1].sequence_number,
                             records[1].sub_sequence_number),
                IsOk());
  }
  void ShardEnded(ferry::Checkpointer& c) override {}

 private:
  std::vector<std::string>* const seen_;
};

TEST_P(ConsumerGroupTest, AggregatedRecordsAreSplitAndCheckpointedInside) {
  ASSERT_THAT(k().CreateStream(ctx_, {.stream_name = "s", .shard_count = 1}),
              IsOk());
  ASSERT_THAT(
      k().PutRecord(
          ctx_, {.stream_name = "s",
                 .data = Aggregate({{"k1", "u0"}, {"k2", "u1"}, {"k1", "u2"}}),
                 .partition_key = "a"}),
      IsOk());
  ferry::KinesisRecord plain{.data = "not an aggregate"};
  EXPECT_THAT(ferry::Deaggregate(plain), SizeIs(1));

  std::vector<std::string> seen;
  auto w1 = ferry::ConsumerGroupWorker::Create(
      k(),
      {.group = "g", .worker_id = "1", .stream_name = "s", .context = ctx_},
      [&] { return std::make_unique<StopAfter>(&seen); });
  ASSERT_THAT(w1, IsOk());
  ASSERT_THAT((*w1)->RunOnce(), IsOk());
  EXPECT_THAT(seen, ElementsAre("u0", "u1", "u2"));
  ASSERT_THAT((*w1)->Shutdown(), IsOk());

  Log log;
  auto w2 = ferry::ConsumerGroupWorker::Create(
      k(),
      {.group = "g", .worker_id = "2", .stream_name = "s", .context = ctx_},
      [&] { return std::make_unique<LoggingProcessor>(&log); });
  ASSERT_THAT(w2, IsOk());
  ASSERT_THAT((*w2)->RunOnce(), IsOk());
  EXPECT_THAT(log.data, ElementsAre("u2"));  // resumes inside the aggregate
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ConsumerGroupTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
