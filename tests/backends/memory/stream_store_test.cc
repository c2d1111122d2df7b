// The memory backend's StreamStore: the memory cap (refused, never dropped;
// trimming and deletion give the bytes back), sequence numbers that stay
// dense across trims, chunk reuse, and concurrent appends keeping per-shard
// order.
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ferry/memory_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace {

using ::ferry_testing::IsOk;
using ::ferry_testing::StatusIs;
using ::testing::SizeIs;

absl::Time T(int64_t s) { return absl::FromUnixSeconds(1700000000 + s); }

TEST(MemoryStreamStoreTest, CapRefusesAppendsAndTrimGivesBytesBack) {
  auto backend = ferry::NewMemoryBackend({.max_bytes = 64 << 10});
  ferry::StreamStore& s = backend->streams();
  auto stream = s.CreateStream({.key = "k", .config = "", .shard_count = 1});
  ASSERT_THAT(stream, IsOk());
  const std::string data(1000, 'x');
  std::vector<ferry::StreamStore::AppendRecord> records(
      10, {.shard = 0, .partition_key = "p", .data = data});
  std::vector<uint64_t> seqs(10);
  int appended = 0;
  absl::Status st;
  for (int i = 0; i < 100; ++i) {
    st = s.Append({.stream = stream->id,
                   .records = records,
                   .sequences = seqs,
                   .now = T(i)});
    if (!st.ok()) break;
    appended += 10;
  }
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_GT(appended, 0);
  // Nothing accepted was dropped.
  auto read = s.Read({.stream = stream->id,
                      .shard = 0,
                      .max_records = 100000,
                      .max_bytes = 1 << 30});
  ASSERT_THAT(read, IsOk());
  EXPECT_THAT(read->records, SizeIs(appended));
  EXPECT_EQ(read->records.front().sequence, 1u);
  // Trimming the first half frees room again; sequences continue.
  auto trimmed = s.Trim({.stream = stream->id, .before = T(appended / 20)});
  ASSERT_THAT(trimmed, IsOk());
  EXPECT_EQ(*trimmed, appended / 2);
  ASSERT_THAT(s.Append({.stream = stream->id,
                        .records = records,
                        .sequences = seqs,
                        .now = T(1000)}),
              IsOk());
  EXPECT_EQ(seqs[0], static_cast<uint64_t>(appended) + 1);
  auto shards = s.ListShards(stream->id);
  ASSERT_THAT(shards, IsOk());
  EXPECT_EQ((*shards)[0].first_sequence,
            static_cast<uint64_t>(appended / 2) + 1);
  // Deleting the stream gives everything back.
  ASSERT_THAT(s.DeleteStream(stream->id), IsOk());
  auto again = s.CreateStream({.key = "k2", .config = "", .shard_count = 1});
  ASSERT_THAT(again, IsOk());
  for (int i = 0; i < appended / 10; ++i) {
    ASSERT_THAT(s.Append({.stream = again->id,
                          .records = records,
                          .sequences = seqs,
                          .now = T(i)}),
                IsOk());
  }
}

TEST(MemoryStreamStoreTest, ClosedShardsRefuseAppendsAndStayReadable) {
  auto backend = ferry::NewMemoryBackend();
  ferry::StreamStore& s = backend->streams();
  auto stream = s.CreateStream({.key = "k", .config = "a", .shard_count = 1});
  ASSERT_THAT(stream, IsOk());
  std::vector<ferry::StreamStore::AppendRecord> one = {
      {.shard = 0, .partition_key = "p", .data = "d"}};
  std::vector<uint64_t> seq(1);
  ASSERT_THAT(s.Append({.stream = stream->id,
                        .records = one,
                        .sequences = seq,
                        .now = T(0)}),
              IsOk());
  const ferry::ShardIndex close[] = {0};
  auto v = s.UpdateStream({.stream = stream->id,
                           .expected_version = stream->config_version,
                           .config = "b",
                           .close_shards = close,
                           .add_shards = 2});
  ASSERT_THAT(v, IsOk());
  EXPECT_THAT(s.UpdateStream({.stream = stream->id,
                              .expected_version = stream->config_version,
                              .config = "c"}),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(s.Append({.stream = stream->id,
                        .records = one,
                        .sequences = seq,
                        .now = T(1)}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto read = s.Read({.stream = stream->id, .shard = 0});
  ASSERT_THAT(read, IsOk());
  EXPECT_THAT(read->records, SizeIs(1));
  EXPECT_TRUE(read->shard.closed);
  auto shards = s.ListShards(stream->id);
  ASSERT_THAT(shards, IsOk());
  EXPECT_THAT(*shards, SizeIs(3));
}

TEST(MemoryStreamStoreTest, ConcurrentAppendsKeepEachShardOrdered) {
  auto backend = ferry::NewMemoryBackend();
  ferry::StreamStore& s = backend->streams();
  auto stream = s.CreateStream({.key = "k", .config = "", .shard_count = 2});
  ASSERT_THAT(stream, IsOk());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::string data = std::to_string(t) + ":" + std::to_string(i);
        std::vector<ferry::StreamStore::AppendRecord> r = {
            {.shard = static_cast<ferry::ShardIndex>(t % 2),
             .partition_key = "p",
             .data = data}};
        std::vector<uint64_t> seq(1);
        ASSERT_THAT(s.Append({.stream = stream->id,
                              .records = r,
                              .sequences = seq,
                              .now = T(i)}),
                    IsOk());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (ferry::ShardIndex shard = 0; shard < 2; ++shard) {
    auto read = s.Read({.stream = stream->id,
                        .shard = shard,
                        .max_records = 100000,
                        .max_bytes = 1 << 30});
    ASSERT_THAT(read, IsOk());
    ASSERT_THAT(read->records, SizeIs(1000));
    std::map<std::string, int> last;
    for (size_t i = 0; i < read->records.size(); ++i) {
      EXPECT_EQ(read->records[i].sequence, i + 1);
      const std::string& d = read->records[i].data;
      const std::string writer = d.substr(0, d.find(':'));
      const int n = std::stoi(d.substr(d.find(':') + 1));
      auto it = last.find(writer);
      if (it != last.end()) {
        EXPECT_LT(it->second, n);
      }
      last[writer] = n;
    }
  }
}

// Records spread over many chunks (64 KiB growing to 2 MiB, plus an oversized
// record): every one reads back by sequence from anywhere, seeking by time
// and trimming cross chunk boundaries, and a deleted stream's chunks serve
// the next stream.
TEST(MemoryStreamStoreTest, RecordsAcrossChunksReadTrimAndSeek) {
  auto backend = ferry::NewMemoryBackend();
  ferry::StreamStore& s = backend->streams();
  for (int round = 0; round < 2; ++round) {
    auto stream = s.CreateStream(
        {.key = absl::StrCat("k", round), .config = "", .shard_count = 1});
    ASSERT_THAT(stream, IsOk());
    auto payload = [](int i) {
      const size_t size = i == 777 ? (3 << 20) : 100 + (i * 37) % 3000;
      return std::string(size, static_cast<char>('a' + i % 26));
    };
    constexpr int kRecords = 6000;  // ~9.4 MiB
    for (int i = 0; i < kRecords; i += 100) {
      std::vector<std::string> keys, data;
      std::vector<ferry::StreamStore::AppendRecord> records;
      for (int j = i; j < i + 100; ++j) {
        keys.push_back(absl::StrCat("key-", j));
        data.push_back(payload(j));
      }
      for (int j = 0; j < 100; ++j) {
        records.push_back(
            {.shard = 0, .partition_key = keys[j], .data = data[j]});
      }
      std::vector<uint64_t> seqs(records.size());
      ASSERT_THAT(s.Append({.stream = stream->id,
                            .records = records,
                            .sequences = seqs,
                            .now = T(i / 100)}),
                  IsOk());
      EXPECT_EQ(seqs.front(), static_cast<uint64_t>(i) + 1);
      EXPECT_EQ(seqs.back(), static_cast<uint64_t>(i) + 100);
    }
    uint64_t first_retained = 1;
    auto check = [&](uint64_t from, size_t max) {
      auto read = s.Read({.stream = stream->id,
                          .shard = 0,
                          .from_sequence = from,
                          .max_records = max,
                          .max_bytes = 64 << 20});
      ASSERT_THAT(read, IsOk());
      ASSERT_FALSE(read->records.empty());
      EXPECT_EQ(read->records.front().sequence,
                std::max<uint64_t>(from, first_retained));
      for (const auto& r : read->records) {
        const int i = static_cast<int>(r.sequence) - 1;
        ASSERT_EQ(r.partition_key, absl::StrCat("key-", i));
        ASSERT_EQ(r.data, payload(i));
        ASSERT_EQ(r.arrival, T(i / 100));
      }
      EXPECT_EQ(read->next_sequence, read->records.back().sequence + 1);
    };
    for (uint64_t from : {0, 1, 2, 500, 700, 778, 779, 2999, 5999, 6000}) {
      check(from, 300);
    }
    auto seek = s.SeekTime({.stream = stream->id, .shard = 0, .at = T(37)});
    ASSERT_THAT(seek, IsOk());
    EXPECT_EQ(*seek, 3701u);
    auto trimmed = s.Trim({.stream = stream->id, .before = T(42)});
    ASSERT_THAT(trimmed, IsOk());
    EXPECT_EQ(*trimmed, 4200);
    first_retained = 4201;
    check(0, 10000);
    check(5000, 10);
    auto read = s.Read({.stream = stream->id, .shard = 0, .from_sequence = 7});
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(read->records.front().sequence, 4201u);
    // Everything trimmed: the shard is empty and keeps numbering.
    ASSERT_THAT(s.Trim({.stream = stream->id, .before = T(1000)}), IsOk());
    auto empty = s.Read({.stream = stream->id, .shard = 0});
    ASSERT_THAT(empty, IsOk());
    EXPECT_TRUE(empty->records.empty());
    EXPECT_EQ(empty->next_sequence, 6001u);
    const std::string zs(5000, 'z');
    std::vector<ferry::StreamStore::AppendRecord> one = {
        {.shard = 0, .partition_key = "p", .data = zs}};
    std::vector<uint64_t> seq(1);
    ASSERT_THAT(s.Append({.stream = stream->id,
                          .records = one,
                          .sequences = seq,
                          .now = T(2000)}),
                IsOk());
    EXPECT_EQ(seq[0], 6001u);
    auto last = s.Read({.stream = stream->id, .shard = 0});
    ASSERT_THAT(last, IsOk());
    ASSERT_THAT(last->records, SizeIs(1));
    EXPECT_EQ(last->records[0].data, zs);
    ASSERT_THAT(s.DeleteStream(stream->id), IsOk());
  }
}

}  // namespace
