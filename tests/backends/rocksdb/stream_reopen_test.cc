// Kinesis streams survive closing and reopening a store that persists (the
// persistent fake and RocksDB on disk): streams, shards and their hash
// ranges, records with their sequence numbers and arrival times, closed
// shards after a split, retention, tags, and the shard counters (no sequence
// number is reused after reopening). Also: a RocksDB database written before
// the streams column family existed (format version 1) opens and gains it.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/kinesis.h"
#include "ferry/rocksdb_backend.h"
#include "ferry/testing/manual_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/backends/rocksdb/persistent_stores.h"
#include "tests/testing/persistent_fake_backend.h"
#include "tests/testing/status_matchers.h"

namespace {

using ::ferry_testing::IsOk;
using ::testing::ElementsAre;
using ::testing::SizeIs;

using ::ferry_testing::PersistentStore;

class StreamReopenTest : public testing::TestWithParam<PersistentStore> {
 protected:
  void SetUp() override {
    path_ = absl::StrCat(testing::TempDir(), "/ferry_stream_reopen_",
                         GetParam().name, "_", ::getpid());
    std::filesystem::remove_all(path_);
    std::remove((path_ + ".streams").c_str());
    Open();
  }
  void TearDown() override {
    broker_.reset();
    std::filesystem::remove_all(path_);
    std::remove((path_ + ".streams").c_str());
  }
  void Open() {
    broker_.reset();
    auto backend = GetParam().open(path_);
    ASSERT_THAT(backend.status(), IsOk());
    auto broker = ferry::Broker::Open({.clock = &clock_}, *std::move(backend));
    ASSERT_THAT(broker.status(), IsOk());
    broker_ = *std::move(broker);
  }
  ferry::Kinesis& k() { return broker_->kinesis(); }

  std::vector<ferry::KinesisRecord> ReadAll(const std::string& shard) {
    auto it =
        k().GetShardIterator(ctx_, {.stream_name = "s",
                                    .shard_id = shard,
                                    .shard_iterator_type = "TRIM_HORIZON"});
    EXPECT_THAT(it.status(), IsOk());
    if (!it.ok()) return {};
    auto r = k().GetRecords(ctx_, {.shard_iterator = it->shard_iterator});
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? r->records : std::vector<ferry::KinesisRecord>{};
  }

  ferry_testing::ManualClock clock_;
  ferry::RequestContext ctx_;
  std::string path_;
  std::unique_ptr<ferry::Broker> broker_;
};

TEST_P(StreamReopenTest, StreamsShardsAndRecordsSurviveReopen) {
  ASSERT_THAT(k().CreateStream(ctx_, {.stream_name = "s",
                                      .shard_count = 1,
                                      .tags = {{"team", "a"}}}),
              IsOk());
  auto first = k().PutRecord(
      ctx_, {.stream_name = "s", .data = "one", .partition_key = "k"});
  ASSERT_THAT(first.status(), IsOk());
  clock_.Advance(absl::Seconds(2));
  ASSERT_THAT(
      k().SplitShard(ctx_, {.stream_name = "s",
                            .shard_to_split = "shardId-000000000000",
                            .new_starting_hash_key =
                                "170141183460469231731687303715884105728"}),
      IsOk());
  ASSERT_THAT(k().IncreaseStreamRetentionPeriod(
                  ctx_, {.stream_name = "s", .retention_period_hours = 48}),
              IsOk());
  auto second = k().PutRecord(ctx_, {.stream_name = "s",
                                     .data = "two",
                                     .partition_key = "k",
                                     .explicit_hash_key = "0"});
  ASSERT_THAT(second.status(), IsOk());

  Open();

  auto shards = k().ListShards(ctx_, {.stream_name = "s"});
  ASSERT_THAT(shards.status(), IsOk());
  ASSERT_THAT(shards->shards, SizeIs(3));
  EXPECT_TRUE(shards->shards[0]
                  .sequence_number_range.ending_sequence_number.has_value());
  EXPECT_EQ(shards->shards[2].hash_key_range.starting_hash_key,
            "170141183460469231731687303715884105728");
  auto parent = ReadAll("shardId-000000000000");
  ASSERT_THAT(parent, SizeIs(1));
  EXPECT_EQ(parent[0].data, "one");
  EXPECT_EQ(parent[0].sequence_number, first->sequence_number);
  auto child = ReadAll(second->shard_id);
  ASSERT_THAT(child, SizeIs(1));
  EXPECT_EQ(child[0].sequence_number, second->sequence_number);

  // The shard counter survived: the next record comes after.
  auto third = k().PutRecord(ctx_, {.stream_name = "s",
                                    .data = "three",
                                    .partition_key = "k",
                                    .explicit_hash_key = "0"});
  ASSERT_THAT(third.status(), IsOk());
  EXPECT_GT(third->sequence_number, second->sequence_number);
  // A closed shard stays closed.
  EXPECT_THAT(k().SplitShard(ctx_, {.stream_name = "s",
                                    .shard_to_split = "shardId-000000000000",
                                    .new_starting_hash_key = "1000"}),
              ::ferry_testing::AwsErrorIs("InvalidArgumentException"));
  auto summary = k().DescribeStreamSummary(ctx_, {.stream_name = "s"});
  ASSERT_THAT(summary.status(), IsOk());
  EXPECT_EQ(summary->stream_description_summary.retention_period_hours, 48);
  auto tags = k().ListTagsForStream(ctx_, {.stream_name = "s"});
  ASSERT_THAT(tags.status(), IsOk());
  ASSERT_THAT(tags->tags, SizeIs(1));

  // Trimming after reopen reclaims what retention dropped.
  clock_.Advance(absl::Hours(49));
  ASSERT_THAT(broker_->RunMaintenance(), IsOk());
  Open();
  EXPECT_THAT(ReadAll(second->shard_id), SizeIs(0));
  ASSERT_THAT(k().DeleteStream(ctx_, {.stream_name = "s"}), IsOk());
  Open();
  EXPECT_THAT(k().ListStreams(ctx_, {}).value().stream_names, SizeIs(0));
}

INSTANTIATE_TEST_SUITE_P(PersistentStores, StreamReopenTest,
                         testing::ValuesIn(::ferry_testing::PersistentStores()),
                         [](const testing::TestParamInfo<PersistentStore>& i) {
                           return i.param.name;
                         });

// A database of format version 1 (no streams column family) opens, gains
// the family and streams work in it.
TEST(RocksDbStreamsUpgradeTest, VersionOneDatabaseGainsTheStreamsFamily) {
  const std::string path =
      absl::StrCat(testing::TempDir(), "/ferry_stream_upgrade_", ::getpid());
  std::filesystem::remove_all(path);
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, path, &raw).ok());
    std::string v("V");
    const char version[4] = {0, 0, 0, 1};
    ASSERT_TRUE(
        raw->Put(rocksdb::WriteOptions(), v, rocksdb::Slice(version, 4)).ok());
    delete raw;
  }
  {
    ferry::RocksDbBackendOptions o;
    o.path = path;
    auto backend = ferry::OpenRocksDbBackend(o);
    ASSERT_THAT(backend.status(), IsOk());
    auto broker = ferry::Broker::Open({}, *std::move(backend));
    ASSERT_THAT(broker.status(), IsOk());
    auto stream = (*broker)->CreateStream("s");
    ASSERT_THAT(stream.status(), IsOk());
    ASSERT_THAT(stream->Put({{.partition_key = "k", .data = "x"}}), IsOk());
  }
  {
    ferry::RocksDbBackendOptions o;
    o.path = path;
    auto backend = ferry::OpenRocksDbBackend(o);
    ASSERT_THAT(backend.status(), IsOk());
    auto broker = ferry::Broker::Open({}, *std::move(backend));
    ASSERT_THAT(broker.status(), IsOk());
    auto stream = (*broker)->GetStream("s");
    ASSERT_THAT(stream.status(), IsOk());
    auto read = stream->Read(0, 0);
    ASSERT_THAT(read.status(), IsOk());
    EXPECT_THAT(read->records, SizeIs(1));
  }
  std::filesystem::remove_all(path);
}

}  // namespace
