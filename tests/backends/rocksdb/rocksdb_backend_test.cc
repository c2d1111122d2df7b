// The RocksDB backend's own rules beyond the conformance suite: the on-disk
// format version, corrupt records, one instance per directory, the disk cap,
// and the record codecs.
#include "ferry/rocksdb_backend.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/testing/status_matchers.h"

namespace {

namespace rc = ferry::rocksdb_internal;
using ::ferry_testing::IsOk;

class RocksDbBackendTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        testing::TempDir(), "/ferry_rocksdb_unit_",
        testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
        ::getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<ferry::Backend>> Open() {
    ferry::RocksDbBackendOptions o;
    o.path = dir_;
    return ferry::OpenRocksDbBackend(o);
  }
  // Writes one raw key into the (closed) database.
  void PutRaw(const std::string& key, const std::string& value) {
    rocksdb::Options o;
    o.create_if_missing = true;
    // Every column family must be opened (the streams family too).
    std::vector<std::string> names;
    if (!rocksdb::DB::ListColumnFamilies(o, dir_, &names).ok()) {
      names = {rocksdb::kDefaultColumnFamilyName};  // a new database
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.push_back({name, o});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_, families, &handles, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
    for (rocksdb::ColumnFamilyHandle* h : handles) delete h;
    delete db;
  }

  std::string dir_;
};

TEST_F(RocksDbBackendTest, UnknownFormatVersionIsRefused) {
  { ASSERT_THAT(Open().status(), IsOk()); }
  std::string v;
  rc::PutFixed32BE(&v, rc::kFormatVersion + 1);
  PutRaw(rc::TagKey(rc::kFormatTag), v);
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RocksDbBackendTest, ForeignDatabaseIsRefused) {
  PutRaw("some", "thing");
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RocksDbBackendTest, CorruptQueueRecordIsDataLoss) {
  { ASSERT_THAT(Open().status(), IsOk()); }
  PutRaw(rc::QueueKey(rc::kQueueTag, 1), "garbage");
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RocksDbBackendTest, CorruptMessageIsDataLossAndNotDropped) {
  ferry::QueueId id = 0;
  {
    auto b = Open();
    ASSERT_THAT(b.status(), IsOk());
    auto q = (*b)->queues().CreateQueue({.key = "q", .fifo = false});
    ASSERT_THAT(q.status(), IsOk());
    id = q->id;
  }
  PutRaw(rc::SeqKey(rc::kMessageTag, id, 1), "\x01garbage");
  PutRaw(rc::ReadyKey(id, rc::OrderedTime(absl::UnixEpoch()), 1), "");
  auto b = Open();
  ASSERT_THAT(b.status(), IsOk());
  ferry::QueueStore::LeaseParams p;
  p.queue = id;
  p.now = absl::UnixEpoch() + absl::Seconds(1);
  p.invisible_until = p.now + absl::Seconds(30);
  EXPECT_EQ((*b)->queues().Lease(p).status().code(),
            absl::StatusCode::kDataLoss);
  // Still there: nothing was rewritten or dropped.
  EXPECT_EQ((*b)->queues().Lease(p).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(RocksDbBackendTest, SecondInstanceOnTheSameDirectoryIsRefused) {
  auto first = Open();
  ASSERT_THAT(first.status(), IsOk());
  auto second = Open();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              testing::HasSubstr("already open"));
}

TEST_F(RocksDbBackendTest, DiskCapRefusesSendsButNotDeletes) {
  ferry::RocksDbBackendOptions o;
  o.path = dir_;
  o.max_disk_bytes = 256 << 10;
  auto b = ferry::OpenRocksDbBackend(o);
  ASSERT_THAT(b.status(), IsOk());
  ferry::QueueStore& qs = (*b)->queues();
  auto q = qs.CreateQueue({.key = "q"});
  ASSERT_THAT(q.status(), IsOk());
  absl::Status last;
  int sent = 0;
  for (; sent < 10000; ++sent) {
    ferry::QueueStore::AppendEntry e;
    e.queue = q->id;
    e.message.body = std::string(1024, 'x');
    ferry::QueueStore::AppendOutcome out;
    last = qs.Append({.entries = {&e, 1}, .outcomes = {&out, 1}});
    if (!last.ok()) break;
  }
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted) << last;
  EXPECT_GT(sent, 10);
  // Draining still works.
  ferry::QueueStore::LeaseParams p;
  p.queue = q->id;
  p.now = absl::UnixEpoch() + absl::Seconds(1);
  p.invisible_until = p.now + absl::Seconds(30);
  p.max_messages = 10;
  auto leased = qs.Lease(p);
  ASSERT_THAT(leased.status(), IsOk());
  ASSERT_EQ(leased->leases.size(), 10u);
  std::vector<std::string_view> receipts;
  for (const auto& l : leased->leases) receipts.push_back(l.receipt);
  std::vector<ferry::ReceiptStatus> statuses(receipts.size());
  EXPECT_THAT(qs.Ack({.queue = q->id,
                      .receipts = receipts,
                      .statuses = statuses,
                      .now = p.now}),
              IsOk());
  EXPECT_THAT(qs.Purge(q->id), IsOk());
}

TEST(RocksDbCodecTest, MessageRoundTrips) {
  ferry::StoredMessage m;
  m.message_id = {1, 2};
  m.body = std::string("b\0dy", 4);
  m.attributes = ferry::MessageAttributeMap{
      {"a", {"String", "v", ""}},
      {"bin", {"Binary", "", std::string("\xff\x00", 2)}}};
  m.message_group_id = "g";
  m.deduplication_id = "d";
  m.trace_header = "t";
  m.sender_id = "s";
  m.dead_letter_source_arn = "arn";
  m.sent_time = absl::FromUnixMillis(5);
  m.enqueue_time = absl::FromUnixMillis(6);
  m.visible_at = absl::InfinitePast();
  m.receive_count = 3;
  m.first_receive_time = absl::InfiniteFuture();
  m.sequence_number = 77;
  std::string enc = rc::EncodeMessage(m);
  ferry::StoredMessage d;
  ASSERT_TRUE(rc::DecodeMessage(enc, &d));
  EXPECT_EQ(d.message_id, m.message_id);
  EXPECT_EQ(d.body, m.body);
  EXPECT_EQ(d.attributes, m.attributes);
  EXPECT_EQ(d.dead_letter_source_arn, m.dead_letter_source_arn);
  EXPECT_EQ(d.sent_time, m.sent_time);
  EXPECT_EQ(d.enqueue_time, m.enqueue_time);
  EXPECT_EQ(d.visible_at, m.visible_at);
  EXPECT_EQ(d.receive_count, 3);
  EXPECT_EQ(d.first_receive_time, m.first_receive_time);
  EXPECT_EQ(d.sequence_number, 77u);
  // Every truncation is rejected, never a crash.
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_FALSE(rc::DecodeMessage(enc.substr(0, n), &d)) << n;
  }
}

TEST(RocksDbCodecTest, OrderedTimesSortLikeTimes) {
  absl::Time ts[] = {absl::InfinitePast(), absl::FromUnixNanos(-5),
                     absl::UnixEpoch(), absl::FromUnixSeconds(1700000000),
                     absl::InfiniteFuture()};
  for (size_t i = 0; i + 1 < std::size(ts); ++i) {
    EXPECT_LT(rc::OrderedTime(ts[i]), rc::OrderedTime(ts[i + 1]));
    EXPECT_EQ(rc::FromOrderedTime(rc::OrderedTime(ts[i])), ts[i]);
  }
  EXPECT_LT(rc::ReadyKey(1, rc::OrderedTime(ts[1]), 9),
            rc::ReadyKey(1, rc::OrderedTime(ts[2]), 1));
}

TEST(RocksDbCodecTest, ReceiptsParseStrictly) {
  ferry::QueueId q;
  uint64_t s, l;
  ASSERT_TRUE(rc::ParseReceipt(rc::MakeReceipt(3, 4, 5), &q, &s, &l));
  EXPECT_EQ(q, 3u);
  EXPECT_EQ(s, 4u);
  EXPECT_EQ(l, 5u);
  for (const char* bad : {"", "rk", "rk1.2", "rk1.2.", "rk01.2.3", "rk1.2.3x",
                          "xx1.2.3", "rk1.2.99999999999999999999999"}) {
    EXPECT_FALSE(rc::ParseReceipt(bad, &q, &s, &l)) << bad;
  }
}

}  // namespace
