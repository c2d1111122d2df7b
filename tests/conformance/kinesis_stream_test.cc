// Kinesis streams on every backend: hash key ranges, routing, sequence
// numbers, shard iterators, GetRecords, PutRecords, retention, resharding,
// ListShards, on-demand mode, tags, strict-mode quotas and the native handle
// (kinesis.md §1).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ferry/kinesis.h"
#include "ferry/stream.h"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kMax[] = "340282366920938463463374607431768211455";

class KinesisTest : public ConformanceTest {
 protected:
  ferry::Kinesis& k() { return broker().kinesis(); }

  absl::Status Create(const std::string& name, int shards) {
    return k().CreateStream(ctx_, {.stream_name = name, .shard_count = shards});
  }

  absl::StatusOr<ferry::PutRecordResult> Put(const std::string& name,
                                             const std::string& key,
                                             const std::string& data) {
    return k().PutRecord(
        ctx_, {.stream_name = name, .data = data, .partition_key = key});
  }

  absl::StatusOr<std::string> Iterator(
      const std::string& name, const std::string& shard,
      const std::string& type, std::optional<std::string> seq = std::nullopt,
      std::optional<absl::Time> ts = std::nullopt) {
    absl::StatusOr<ferry::GetShardIteratorResult> r =
        k().GetShardIterator(ctx_, {.stream_name = name,
                                    .shard_id = shard,
                                    .shard_iterator_type = type,
                                    .starting_sequence_number = seq,
                                    .timestamp = ts});
    if (!r.ok()) return r.status();
    return r->shard_iterator;
  }

  absl::StatusOr<ferry::GetRecordsResult> Get(const std::string& iterator,
                                              std::optional<int> limit = {}) {
    return k().GetRecords(ctx_, {.shard_iterator = iterator, .limit = limit});
  }

  static std::vector<std::string> Data(const ferry::GetRecordsResult& r) {
    std::vector<std::string> out;
    for (const auto& rec : r.records) out.push_back(rec.data);
    return out;
  }

  absl::StatusOr<std::vector<ferry::KinesisShard>> Shards(
      const std::string& name) {
    absl::StatusOr<ferry::ListShardsResult> r =
        k().ListShards(ctx_, {.stream_name = name});
    if (!r.ok()) return r.status();
    return r->shards;
  }
};

TEST_P(KinesisTest, HashKeyRangesAreSplitAsAws) {
  ASSERT_THAT(Create("s3", 3), IsOk());
  auto shards = Shards("s3");
  ASSERT_THAT(shards, ::ferry_testing::IsOkAndHolds(SizeIs(3)));
  EXPECT_EQ((*shards)[0].hash_key_range.starting_hash_key, "0");
  EXPECT_EQ((*shards)[0].hash_key_range.ending_hash_key,
            "113427455640312821154458202477256070484");
  EXPECT_EQ((*shards)[1].hash_key_range.starting_hash_key,
            "113427455640312821154458202477256070485");
  EXPECT_EQ((*shards)[1].hash_key_range.ending_hash_key,
            "226854911280625642308916404954512140969");
  EXPECT_EQ((*shards)[2].hash_key_range.starting_hash_key,
            "226854911280625642308916404954512140970");
  EXPECT_EQ((*shards)[2].hash_key_range.ending_hash_key, kMax);
  EXPECT_EQ((*shards)[2].shard_id, "shardId-000000000002");

  ASSERT_THAT(Create("s2", 2), IsOk());
  shards = Shards("s2");
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ((*shards)[0].hash_key_range.ending_hash_key,
            "170141183460469231731687303715884105727");
  EXPECT_EQ((*shards)[1].hash_key_range.starting_hash_key,
            "170141183460469231731687303715884105728");

  ASSERT_THAT(Create("s4", 4), IsOk());
  shards = Shards("s4");
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ((*shards)[0].hash_key_range.ending_hash_key,
            "85070591730234615865843651857942052863");
  EXPECT_EQ((*shards)[3].hash_key_range.starting_hash_key,
            "255211775190703847597530955573826158592");
  EXPECT_EQ((*shards)[3].hash_key_range.ending_hash_key, kMax);
}

TEST_P(KinesisTest, PartitionKeyMd5PicksTheShard) {
  ASSERT_THAT(Create("s", 4), IsOk());
  // MD5("a") = 16955237001963240173058271559858726497 < 2^128/4.
  auto a = Put("s", "a", "x");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->shard_id, "shardId-000000000000");
  auto last = k().PutRecord(ctx_, {.stream_name = "s",
                                   .data = "y",
                                   .partition_key = "a",
                                   .explicit_hash_key = kMax});
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(last->shard_id, "shardId-000000000003");
  EXPECT_THAT(
      k().PutRecord(ctx_, {.stream_name = "s",
                           .data = "y",
                           .partition_key = "a",
                           .explicit_hash_key =
                               "340282366920938463463374607431768211456"}),
      AwsErrorIs("InvalidArgumentException",
                 HasSubstr("Invalid ExplicitHashKey")));
  EXPECT_THAT(k().PutRecord(ctx_, {.stream_name = "s",
                                   .data = "y",
                                   .partition_key = "a",
                                   .explicit_hash_key = ""}),
              AwsErrorIs("ValidationException"));
}

TEST_P(KinesisTest, SequenceNumbersHave56DigitsAndIncreasePerShard) {
  ASSERT_THAT(Create("s", 1), IsOk());
  std::string previous;
  for (int i = 0; i < 5; ++i) {
    auto r = Put("s", "k", absl::StrCat("d", i));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->sequence_number.size(), 56u) << r->sequence_number;
    EXPECT_GT(r->sequence_number, previous);
    previous = r->sequence_number;
    AdvanceSeconds(1);
  }
  auto shards = Shards("s");
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ((*shards)[0].sequence_number_range.starting_sequence_number.size(),
            56u);
  EXPECT_FALSE(
      (*shards)[0].sequence_number_range.ending_sequence_number.has_value());
}

TEST_P(KinesisTest, IteratorTypesStartWhereAwsSays) {
  ASSERT_THAT(Create("s", 1), IsOk());
  auto r1 = Put("s", "k", "one");
  AdvanceSeconds(10);
  const absl::Time t2 = Now();
  auto r2 = Put("s", "k", "two");
  auto r3 = Put("s", "k", "three");
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  const std::string shard = "shardId-000000000000";

  auto it = Iterator("s", shard, "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Get(*it).value().records, SizeIs(3));

  it = Iterator("s", shard, "AT_SEQUENCE_NUMBER", r2->sequence_number);
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Data(*Get(*it)), ElementsAre("two", "three"));

  it = Iterator("s", shard, "AFTER_SEQUENCE_NUMBER", r2->sequence_number);
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Data(*Get(*it)), ElementsAre("three"));

  it = Iterator("s", shard, "AT_TIMESTAMP", std::nullopt, t2);
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Data(*Get(*it)), ElementsAre("two", "three"));

  it = Iterator("s", shard, "LATEST");
  ASSERT_THAT(it, IsOk());
  auto latest = Get(*it);
  ASSERT_THAT(latest, IsOk());
  EXPECT_THAT(latest->records, SizeIs(0));
  EXPECT_EQ(latest->millis_behind_latest, 0);
  ASSERT_THAT(Put("s", "k", "four"), IsOk());
  EXPECT_THAT(Data(*Get(*latest->next_shard_iterator)), ElementsAre("four"));

  // Records keep their sequence number and arrival time.
  it = Iterator("s", shard, "TRIM_HORIZON");
  auto all = Get(*it);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->records[1].sequence_number, r2->sequence_number);
  EXPECT_EQ(all->records[1].approximate_arrival_timestamp, t2);
  EXPECT_EQ(all->records[1].partition_key, "k");
}

TEST_P(KinesisTest, GetShardIteratorValidation) {
  ASSERT_THAT(Create("s", 1), IsOk());
  EXPECT_THAT(Iterator("s", "shardId-000000000000", "AT_SEQUENCE_NUMBER"),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("and no StartingSequenceNumber.")));
  EXPECT_THAT(Iterator("s", "shardId-000000000000", "LATEST", "1"),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("and also a StartingSequenceNumber.")));
  EXPECT_THAT(Iterator("s", "shardId-000000000000", "AT_TIMESTAMP"),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("Must specify timestampInMillis")));
  EXPECT_THAT(Iterator("s", "shardId-000000000000", "AT_TIMESTAMP",
                       std::nullopt, Now() + absl::Seconds(5)),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("cannot be greater than")));
  EXPECT_THAT(
      Iterator("s", "shardId-000000000000", "AT_SEQUENCE_NUMBER", "12345"),
      AwsErrorIs("InvalidArgumentException", HasSubstr("is invalid")));
  EXPECT_THAT(Iterator("s", "shardId-000000000007", "TRIM_HORIZON"),
              AwsErrorIs("ResourceNotFoundException",
                         "Shard shardId-000000000007 in stream s under account "
                         "123456789012 does not exist"));
  // AWS's shard id forms: "shard-0", "0".
  EXPECT_THAT(Iterator("s", "shard-0", "TRIM_HORIZON"), IsOk());
  EXPECT_THAT(Iterator("s", "0", "TRIM_HORIZON"), IsOk());
  // A sequence number of another shard.
  ASSERT_THAT(Create("two", 2), IsOk());
  auto r = k().PutRecord(ctx_, {.stream_name = "two",
                                .data = "x",
                                .partition_key = "a",
                                .explicit_hash_key = kMax});
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(Iterator("two", "shardId-000000000000", "AT_SEQUENCE_NUMBER",
                       r->sequence_number),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("It encodes shardId-000000000001")));
}

TEST_P(KinesisTest, IteratorsExpireAfterFiveMinutesAndAreReusable) {
  ASSERT_THAT(Create("s", 1), IsOk());
  ASSERT_THAT(Put("s", "k", "one"), IsOk());
  auto it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Get(*it), IsOk());
  Advance(absl::Minutes(5));
  EXPECT_THAT(Get(*it), IsOk());  // reusable within 5 minutes
  Advance(absl::Milliseconds(1));
  EXPECT_THAT(Get(*it), AwsErrorIs("ExpiredIteratorException",
                                   HasSubstr("Iterator expired.")));
  EXPECT_THAT(Get("AAAAAAAAAAEgarbage"),
              AwsErrorIs("InvalidArgumentException", "Invalid ShardIterator."));
}

TEST_P(KinesisTest, GetRecordsHonoursLimitAndChainsIterators) {
  ASSERT_THAT(Create("s", 1), IsOk());
  for (int i = 0; i < 7; ++i) {
    ASSERT_THAT(Put("s", "k", absl::StrCat(i)), IsOk());
  }
  AdvanceSeconds(3);
  auto it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  std::vector<std::string> seen;
  std::string iterator = *it;
  for (int round = 0; round < 4; ++round) {
    auto r = Get(iterator, 3);
    ASSERT_THAT(r, IsOk());
    for (auto& d : Data(*r)) seen.push_back(d);
    if (round == 0) {
      EXPECT_EQ(r->millis_behind_latest, 3000);
    }
    ASSERT_TRUE(r->next_shard_iterator.has_value());
    iterator = *r->next_shard_iterator;
  }
  EXPECT_THAT(seen, ElementsAre("0", "1", "2", "3", "4", "5", "6"));
  EXPECT_THAT(Get(iterator, 10001), AwsErrorIs("ValidationException"));
  EXPECT_THAT(Get(iterator, 0), AwsErrorIs("ValidationException"));
}

TEST_P(KinesisTest, PutRecordsReportsEveryRecordAndLimits) {
  ASSERT_THAT(Create("s", 2), IsOk());
  ferry::PutRecordsRequest request{.stream_name = "s"};
  for (int i = 0; i < 10; ++i) {
    request.records.push_back(
        {.data = absl::StrCat("d", i), .partition_key = absl::StrCat("k", i)});
  }
  auto r = k().PutRecords(ctx_, request);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->failed_record_count, 0);
  ASSERT_THAT(r->records, SizeIs(10));
  for (const auto& e : r->records) {
    EXPECT_TRUE(e.sequence_number.has_value());
    EXPECT_TRUE(e.shard_id.has_value());
  }
  request.records.assign(501, {.data = "x", .partition_key = "k"});
  EXPECT_THAT(k().PutRecords(ctx_, request),
              AwsErrorIs("ValidationException",
                         HasSubstr("less than or equal to 500")));
  request.records.clear();
  EXPECT_THAT(k().PutRecords(ctx_, request), AwsErrorIs("ValidationException"));
  request.records.assign(
      6, {.data = std::string(1 << 20, 'x'), .partition_key = ""});
  for (auto& e : request.records) e.partition_key = "k";
  for (auto& e : request.records) e.data.resize((1 << 20) - 1);
  EXPECT_THAT(k().PutRecords(ctx_, request),
              AwsErrorIs("InvalidArgumentException",
                         "Records size exceeds 5 MB limit"));
  EXPECT_THAT(Put("s", "k", std::string((1 << 20) + 1, 'x')),
              AwsErrorIs("ValidationException", HasSubstr("'data'")));
  EXPECT_THAT(Put("s", "", "x"),
              AwsErrorIs("ValidationException", HasSubstr("partitionKey")));
  EXPECT_THAT(Put("s", "k", ""), IsOk());  // empty data is allowed
}

TEST_P(KinesisTest, RetentionHidesOldRecordsAndValidates) {
  ASSERT_THAT(Create("s", 1), IsOk());
  ASSERT_THAT(Put("s", "k", "old"), IsOk());
  Advance(absl::Hours(23));
  ASSERT_THAT(Put("s", "k", "new"), IsOk());
  Advance(absl::Hours(1) + absl::Milliseconds(1));
  auto it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Data(*Get(*it)), ElementsAre("new"));
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  EXPECT_THAT(Data(*Get(*it)), ElementsAre("new"));

  EXPECT_THAT(k().IncreaseStreamRetentionPeriod(
                  ctx_, {.stream_name = "s", .retention_period_hours = 23}),
              AwsErrorIs("InvalidArgumentException",
                         "Minimum allowed retention period is 24 hours. "
                         "Requested retention period (23 hours) is too "
                         "short."));
  EXPECT_THAT(k().IncreaseStreamRetentionPeriod(
                  ctx_, {.stream_name = "s", .retention_period_hours = 8761}),
              AwsErrorIs("InvalidArgumentException", HasSubstr("too long")));
  EXPECT_THAT(k().IncreaseStreamRetentionPeriod(
                  ctx_, {.stream_name = "s", .retention_period_hours = 48}),
              IsOk());
  EXPECT_THAT(k().DecreaseStreamRetentionPeriod(
                  ctx_, {.stream_name = "s", .retention_period_hours = 72}),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("can not be longer than existing")));
  EXPECT_THAT(k().IncreaseStreamRetentionPeriod(
                  ctx_, {.stream_name = "s", .retention_period_hours = 25}),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("can not be shorter than existing")));
  auto d = k().DescribeStreamSummary(ctx_, {.stream_name = "s"});
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->stream_description_summary.retention_period_hours, 48);
}

TEST_P(KinesisTest, SplitClosesTheParentAndChildrenFollowIt) {
  ASSERT_THAT(Create("s", 1), IsOk());
  auto before = Put("s", "k", "parent");
  ASSERT_THAT(before, IsOk());
  EXPECT_THAT(k().SplitShard(ctx_, {.stream_name = "s",
                                    .shard_to_split = "shardId-000000000000",
                                    .new_starting_hash_key = "1"}),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("is not both greater than one plus")));
  ASSERT_THAT(
      k().SplitShard(ctx_, {.stream_name = "s",
                            .shard_to_split = "shardId-000000000000",
                            .new_starting_hash_key =
                                "170141183460469231731687303715884105728"}),
      IsOk());
  auto shards = Shards("s");
  ASSERT_THAT(shards, ::ferry_testing::IsOkAndHolds(SizeIs(3)));
  EXPECT_TRUE(
      (*shards)[0].sequence_number_range.ending_sequence_number.has_value());
  EXPECT_EQ((*shards)[1].parent_shard_id, "shardId-000000000000");
  EXPECT_EQ((*shards)[1].hash_key_range.ending_hash_key,
            "170141183460469231731687303715884105727");
  EXPECT_EQ((*shards)[2].hash_key_range.starting_hash_key,
            "170141183460469231731687303715884105728");
  EXPECT_THAT(k().SplitShard(ctx_, {.stream_name = "s",
                                    .shard_to_split = "shardId-000000000000",
                                    .new_starting_hash_key = "1000"}),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("has already been merged or split")));

  auto after = Put("s", "k", "child");
  ASSERT_THAT(after, IsOk());
  EXPECT_NE(after->shard_id, "shardId-000000000000");
  EXPECT_GT(after->sequence_number, before->sequence_number);

  // The parent, read to its end: its record, then no next iterator and the
  // children.
  auto it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  auto r = Get(*it);
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(Data(*r), ElementsAre("parent"));
  EXPECT_FALSE(r->next_shard_iterator.has_value());
  ASSERT_THAT(r->child_shards, SizeIs(2));
  EXPECT_THAT(r->child_shards[0].parent_shards,
              ElementsAre("shardId-000000000000"));
}

TEST_P(KinesisTest, MergeNeedsAdjacentOpenShards) {
  ASSERT_THAT(Create("s", 3), IsOk());
  EXPECT_THAT(k().MergeShards(
                  ctx_, {.stream_name = "s",
                         .shard_to_merge = "shardId-000000000000",
                         .adjacent_shard_to_merge = "shardId-000000000002"}),
              AwsErrorIs("InvalidArgumentException",
                         HasSubstr("are not an adjacent pair of shards")));
  EXPECT_THAT(k().MergeShards(
                  ctx_, {.stream_name = "s",
                         .shard_to_merge = "shardId-000000000001",
                         .adjacent_shard_to_merge = "shardId-000000000000"}),
              AwsErrorIs("InvalidArgumentException"));
  ASSERT_THAT(k().MergeShards(
                  ctx_, {.stream_name = "s",
                         .shard_to_merge = "shardId-000000000000",
                         .adjacent_shard_to_merge = "shardId-000000000001"}),
              IsOk());
  auto shards = Shards("s");
  ASSERT_THAT(shards, ::ferry_testing::IsOkAndHolds(SizeIs(4)));
  EXPECT_EQ((*shards)[3].parent_shard_id, "shardId-000000000000");
  EXPECT_EQ((*shards)[3].adjacent_parent_shard_id, "shardId-000000000001");
  EXPECT_EQ((*shards)[3].hash_key_range.starting_hash_key, "0");
  EXPECT_EQ((*shards)[3].hash_key_range.ending_hash_key,
            "226854911280625642308916404954512140969");
}

TEST_P(KinesisTest, UpdateShardCountScalesUniformly) {
  ASSERT_THAT(Create("s", 2), IsOk());
  auto r =
      k().UpdateShardCount(ctx_, {.stream_name = "s", .target_shard_count = 4});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->current_shard_count, 2);
  EXPECT_EQ(r->target_shard_count, 4);
  auto open = k().ListShards(
      ctx_, {.stream_name = "s", .shard_filter = {{.type = "AT_LATEST"}}});
  ASSERT_THAT(open, IsOk());
  ASSERT_THAT(open->shards, SizeIs(4));
  EXPECT_EQ(open->shards[1].hash_key_range.ending_hash_key,
            "170141183460469231731687303715884105727");
  EXPECT_THAT(
      k().UpdateShardCount(ctx_, {.stream_name = "s", .target_shard_count = 9}),
      AwsErrorIs("LimitExceededException"));
}

TEST_P(KinesisTest, ListShardsPagesWithNextToken) {
  ASSERT_THAT(Create("s", 5), IsOk());
  auto page = k().ListShards(ctx_, {.stream_name = "s", .max_results = 2});
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->shards, SizeIs(2));
  ASSERT_TRUE(page->next_token.has_value());
  std::vector<std::string> ids = {page->shards[0].shard_id,
                                  page->shards[1].shard_id};
  while (page->next_token.has_value()) {
    page = k().ListShards(ctx_,
                          {.next_token = page->next_token, .max_results = 2});
    ASSERT_THAT(page, IsOk());
    for (auto& s : page->shards) ids.push_back(s.shard_id);
  }
  EXPECT_THAT(ids, SizeIs(5));
  EXPECT_EQ(ids[4], "shardId-000000000004");
  EXPECT_THAT(k().ListShards(
                  ctx_, {.stream_name = "s", .next_token = std::string("x")}),
              AwsErrorIs("InvalidArgumentException",
                         "NextToken and StreamName cannot be provided "
                         "together."));
  EXPECT_THAT(k().ListShards(ctx_, {}), AwsErrorIs("InvalidArgumentException"));
  auto first = k().ListShards(ctx_, {.stream_name = "s", .max_results = 1});
  ASSERT_THAT(first, IsOk());
  Advance(absl::Seconds(301));
  EXPECT_THAT(k().ListShards(ctx_, {.next_token = first->next_token}),
              AwsErrorIs("ExpiredNextTokenException"));
}

TEST_P(KinesisTest, OnDemandStreamsHaveFourShardsAndRefuseResharding) {
  ASSERT_THAT(
      k().CreateStream(ctx_, {.stream_name = "od", .stream_mode = "ON_DEMAND"}),
      IsOk());
  EXPECT_THAT(Shards("od"), ::ferry_testing::IsOkAndHolds(SizeIs(4)));
  EXPECT_THAT(k().UpdateShardCount(
                  ctx_, {.stream_name = "od", .target_shard_count = 8}),
              AwsErrorIs("ValidationException", HasSubstr("On-Demand")));
  auto d = k().DescribeStreamSummary(ctx_, {.stream_name = "od"});
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->stream_description_summary.stream_mode, "ON_DEMAND");
  EXPECT_EQ(d->stream_description_summary.open_shard_count, 4);
}

TEST_P(KinesisTest, StreamLifecycleAndErrors) {
  ASSERT_THAT(Create("s", 1), IsOk());
  EXPECT_THAT(Create("s", 1),
              AwsErrorIs("ResourceInUseException",
                         "Stream s under account 123456789012 already "
                         "exists."));
  EXPECT_THAT(Put("nope", "k", "x"),
              AwsErrorIs("ResourceNotFoundException",
                         "Stream nope under account 123456789012 not "
                         "found."));
  auto d = k().DescribeStream(ctx_, {.stream_name = "s"});
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->stream_description.stream_status, "ACTIVE");
  EXPECT_EQ(d->stream_description.stream_arn,
            "arn:aws:kinesis:us-east-1:123456789012:stream/s");
  EXPECT_EQ(d->stream_description.retention_period_hours, 24);
  // By ARN only.
  EXPECT_THAT(
      k().PutRecord(ctx_, {.stream_arn = d->stream_description.stream_arn,
                           .data = "x",
                           .partition_key = "k"}),
      IsOk());
  auto list = k().ListStreams(ctx_, {});
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(list->stream_names, ElementsAre("s"));

  // Iterators of a deleted stream stay dead after re-creation.
  auto it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  ASSERT_THAT(k().DeleteStream(ctx_, {.stream_name = "s"}), IsOk());
  ASSERT_THAT(Create("s", 1), IsOk());
  EXPECT_THAT(Get(*it), AwsErrorIs("ResourceNotFoundException",
                                   HasSubstr("does not exist")));
  EXPECT_THAT(
      k().CreateStream(ctx_, {.stream_name = "bad name!", .shard_count = 1}),
      AwsErrorIs("ValidationException"));
}

TEST_P(KinesisTest, Tags) {
  ASSERT_THAT(
      k().CreateStream(
          ctx_, {.stream_name = "s", .shard_count = 1, .tags = {{"a", "1"}}}),
      IsOk());
  ASSERT_THAT(k().AddTagsToStream(
                  ctx_, {.stream_name = "s", .tags = {{"b", "2"}, {"a", "3"}}}),
              IsOk());
  auto tags = k().ListTagsForStream(ctx_, {.stream_name = "s"});
  ASSERT_THAT(tags, IsOk());
  ASSERT_THAT(tags->tags, SizeIs(2));
  EXPECT_EQ(tags->tags[0].value, "3");
  ASSERT_THAT(k().RemoveTagsFromStream(
                  ctx_, {.stream_name = "s", .tag_keys = {"a", "zz"}}),
              IsOk());
  tags = k().ListTagsForStream(ctx_, {.stream_name = "s", .limit = 1});
  ASSERT_THAT(tags, IsOk());
  ASSERT_THAT(tags->tags, SizeIs(1));
  EXPECT_EQ(tags->tags[0].key, "b");
  EXPECT_FALSE(tags->has_more_tags);
}

TEST_P(KinesisTest, StrictModeThrottlesShardWrites) {
  ferry::StrictModeOptions strict;
  strict.enabled = true;
  strict.kinesis_shard_write_records = 3;
  strict.kinesis_shard_read_calls = 2;
  OpenBroker(strict);
  ASSERT_THAT(Create("s", 1), IsOk());
  ferry::PutRecordsRequest request{.stream_name = "s"};
  request.records.assign(5, {.data = "x", .partition_key = "k"});
  auto r = k().PutRecords(ctx_, request);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->failed_record_count, 2);
  EXPECT_EQ(r->records[4].error_code, "ProvisionedThroughputExceededException");
  EXPECT_THAT(*r->records[4].error_message,
              HasSubstr("Rate exceeded for shard shardId-000000000000"));
  EXPECT_THAT(Put("s", "k", "x"),
              AwsErrorIs("ProvisionedThroughputExceededException"));
  AdvanceSeconds(1);
  EXPECT_THAT(Put("s", "k", "x"), IsOk());
  auto it = Iterator("s", "shardId-000000000000", "TRIM_HORIZON");
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Get(*it), IsOk());
  EXPECT_THAT(Get(*it), IsOk());
  EXPECT_THAT(Get(*it), AwsErrorIs("ProvisionedThroughputExceededException"));

  strict.kinesis_account_shard_limit = 3;
  OpenBroker(strict);
  EXPECT_THAT(Create("big", 4), AwsErrorIs("LimitExceededException"));
}

TEST_P(KinesisTest, NativeHandlePutsAndReadsByPosition) {
  auto s = broker().CreateStream("native", {.shard_count = 2});
  ASSERT_THAT(s, IsOk());
  std::vector<ferry::StreamPosition> positions;
  std::vector<ferry::StreamRecordInput> records = {
      {.partition_key = "a", .data = "1"},
      {.partition_key = "a", .data = "2"},
      {.partition_key = "z", .data = "3", .explicit_hash_key = kMax}};
  ASSERT_THAT(s->Put(records, &positions), IsOk());
  ASSERT_THAT(positions, SizeIs(3));
  EXPECT_EQ(positions[0].shard, 0u);
  EXPECT_EQ(positions[0].sequence, 1u);
  EXPECT_EQ(positions[1].sequence, 2u);
  EXPECT_EQ(positions[2].shard, 1u);
  auto read = s->Read(0, 0);
  ASSERT_THAT(read, IsOk());
  ASSERT_THAT(read->records, SizeIs(2));
  EXPECT_EQ(read->records[1].data, "2");
  EXPECT_EQ(read->next_sequence, 3u);
  auto from2 = s->Read(0, 2);
  ASSERT_THAT(from2, IsOk());
  EXPECT_THAT(from2->records, SizeIs(1));
  // The same record through the AWS level has the handle's sequence number.
  auto seq = s->SequenceNumber(positions[1]);
  ASSERT_THAT(seq, IsOk());
  auto it =
      Iterator("native", "shardId-000000000000", "AT_SEQUENCE_NUMBER", *seq);
  ASSERT_THAT(it, IsOk());
  EXPECT_THAT(Data(*Get(*it)), ElementsAre("2"));
  EXPECT_THAT(broker().ListStreams(),
              ::ferry_testing::IsOkAndHolds(ElementsAre("native")));
  ASSERT_THAT(broker().DeleteStream("native"), IsOk());
  EXPECT_THAT(s->Read(0, 0), AwsErrorIs("ResourceNotFoundException"));
}

TEST_P(KinesisTest, ResetDropsStreams) {
  ASSERT_THAT(Create("s", 1), IsOk());
  ASSERT_THAT(Put("s", "k", "x"), IsOk());
  ASSERT_THAT(broker().Reset(), IsOk());
  EXPECT_THAT(Put("s", "k", "x"), AwsErrorIs("ResourceNotFoundException"));
}

TEST_P(KinesisTest, StreamConsumersAreRegisteredDescribedAndListed) {
  ASSERT_THAT(Create("s", 1), IsOk());
  const std::string arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
  auto c = k().RegisterStreamConsumer(
      ctx_, {.stream_arn = arn, .consumer_name = "app"});
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->consumer.consumer_status, "ACTIVE");
  EXPECT_EQ(c->consumer.consumer_arn,
            absl::StrCat(arn, "/consumer/app:", NowSeconds()));
  EXPECT_THAT(k().RegisterStreamConsumer(
                  ctx_, {.stream_arn = arn, .consumer_name = "app"}),
              AwsErrorIs("ResourceInUseException"));
  auto d = k().DescribeStreamConsumer(
      ctx_, {.consumer_arn = c->consumer.consumer_arn});
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->consumer_description.stream_arn, arn);
  auto byname = k().DescribeStreamConsumer(
      ctx_, {.stream_arn = arn, .consumer_name = "app"});
  ASSERT_THAT(byname, IsOk());
  auto list = k().ListStreamConsumers(ctx_, {.stream_arn = arn});
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(list->consumers, SizeIs(1));
  auto summary = k().DescribeStreamSummary(ctx_, {.stream_name = "s"});
  ASSERT_THAT(summary, IsOk());
  EXPECT_EQ(summary->stream_description_summary.consumer_count, 1);
  EXPECT_THAT(k().DeleteStream(ctx_, {.stream_name = "s"}),
              AwsErrorIs("ResourceInUseException"));
  ASSERT_THAT(k().DeregisterStreamConsumer(
                  ctx_, {.consumer_arn = c->consumer.consumer_arn}),
              IsOk());
  EXPECT_THAT(k().DescribeStreamConsumer(
                  ctx_, {.consumer_arn = c->consumer.consumer_arn}),
              AwsErrorIs("ResourceNotFoundException"));
  ASSERT_THAT(k().DeleteStream(ctx_, {.stream_name = "s"}), IsOk());
}

TEST_P(KinesisTest, SubscribeToShardPushesRecordsThroughTheExecutor) {
  ASSERT_THAT(Create("s", 1), IsOk());
  const std::string arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
  auto c = k().RegisterStreamConsumer(
      ctx_, {.stream_arn = arn, .consumer_name = "app"});
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT(Put("s", "k", "one"), IsOk());
  std::vector<absl::StatusOr<ferry::SubscribeToShardEvent>> events;
  auto sub =
      k().SubscribeToShard(ctx_,
                           {.consumer_arn = c->consumer.consumer_arn,
                            .shard_id = "shardId-000000000000",
                            .starting_position = {.type = "TRIM_HORIZON"}},
                           [&](absl::StatusOr<ferry::SubscribeToShardEvent> e) {
                             events.push_back(std::move(e));
                           });
  ASSERT_THAT(sub, IsOk());
  EXPECT_TRUE(events.empty());  // nothing runs until the executor does
  executor_.RunAll();
  ASSERT_THAT(events, SizeIs(1));
  ASSERT_THAT(events[0], IsOk());
  ASSERT_THAT(events[0]->records, SizeIs(1));
  EXPECT_EQ(events[0]->records[0].data, "one");
  ASSERT_TRUE(events[0]->continuation_sequence_number.has_value());

  auto two = Put("s", "k", "two");
  ASSERT_THAT(two, IsOk());
  executor_.RunAll();
  ASSERT_THAT(events, SizeIs(2));
  ASSERT_THAT(events[1], IsOk());
  ASSERT_THAT(events[1]->records, SizeIs(1));
  EXPECT_EQ(events[1]->records[0].sequence_number, two->sequence_number);
  // Resubscribing from the continuation point gives what came after.
  auto after = Iterator("s", "shardId-000000000000", "AFTER_SEQUENCE_NUMBER",
                        *events[1]->continuation_sequence_number);
  ASSERT_THAT(after, IsOk());
  EXPECT_THAT(Get(*after).value().records, SizeIs(0));

  // Within 5 seconds a second subscription is refused.
  EXPECT_THAT(
      k().SubscribeToShard(ctx_,
                           {.consumer_arn = c->consumer.consumer_arn,
                            .shard_id = "shardId-000000000000",
                            .starting_position = {.type = "LATEST"}},
                           [](absl::StatusOr<ferry::SubscribeToShardEvent>) {}),
      AwsErrorIs("ResourceInUseException"));

  // After 5 minutes the subscription ends.
  Advance(absl::Minutes(5));
  ASSERT_THAT(Put("s", "k", "three"), IsOk());
  executor_.RunAll();
  ASSERT_THAT(events, SizeIs(4));
  ASSERT_THAT(events[2], IsOk());
  EXPECT_THAT(events[2]->records, SizeIs(1));
  EXPECT_THAT(events[3], StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_FALSE((*sub)->active());
}

TEST_P(KinesisTest, SubscriptionEndsWithChildShardsWhenTheShardCloses) {
  ASSERT_THAT(Create("s", 1), IsOk());
  const std::string arn = "arn:aws:kinesis:us-east-1:123456789012:stream/s";
  auto c = k().RegisterStreamConsumer(
      ctx_, {.stream_arn = arn, .consumer_name = "app"});
  ASSERT_THAT(c, IsOk());
  std::vector<absl::StatusOr<ferry::SubscribeToShardEvent>> events;
  auto sub =
      k().SubscribeToShard(ctx_,
                           {.consumer_arn = c->consumer.consumer_arn,
                            .shard_id = "shardId-000000000000",
                            .starting_position = {.type = "LATEST"}},
                           [&](absl::StatusOr<ferry::SubscribeToShardEvent> e) {
                             events.push_back(std::move(e));
                           });
  ASSERT_THAT(sub, IsOk());
  ASSERT_THAT(
      k().SplitShard(ctx_, {.stream_name = "s",
                            .shard_to_split = "shardId-000000000000",
                            .new_starting_hash_key =
                                "170141183460469231731687303715884105728"}),
      IsOk());
  ASSERT_THAT(broker().RunMaintenance(), IsOk());
  executor_.RunAll();
  ASSERT_THAT(events, SizeIs(3));  // initial, end of shard, end
  ASSERT_THAT(events[1], IsOk());
  EXPECT_FALSE(events[1]->continuation_sequence_number.has_value());
  EXPECT_THAT(events[1]->child_shards, SizeIs(2));
  EXPECT_THAT(events[2], StatusIs(absl::StatusCode::kOutOfRange));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, KinesisTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
