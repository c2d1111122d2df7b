// Power-loss and full-disk tests on a simulated file system
// (lossy_file_system.h): the same mixed workload and checks as the crash
// test, but the "power" is cut at a random acknowledgement and every byte not
// yet fsynced is dropped before reopening. In sync mode nothing acknowledged
// may be lost; buffered mode, which promises only to survive a process crash,
// is shown to lose acknowledged work (so the harness can see a loss).
//
// FERRY_POWER_CUTS=<n> sets the number of cuts (default 40).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ferry/rocksdb_backend.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "tests/backends/rocksdb/crash_workload.h"
#include "tests/backends/rocksdb/lossy_file_system.h"
#include "tests/testing/status_matchers.h"

namespace {

using ::ferry_testing::IsOk;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int out = 0;
  return v != nullptr && absl::SimpleAtoi(v, &out) ? out : fallback;
}

class PowerLossTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        testing::TempDir(), "/ferry_power_",
        testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
        ::getpid());
    std::filesystem::remove_all(dir_);
    fs_ = std::make_shared<ferry_crash::LossyFileSystem>(
        rocksdb::FileSystem::Default());
    env_ = rocksdb::NewCompositeEnv(fs_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<ferry::Backend>> Open(
      ferry::RocksDbDurability durability, bool lossy) {
    ferry::RocksDbBackendOptions o;
    o.path = dir_;
    o.durability = durability;
    o.write_buffer_bytes = 256 << 10;
    if (lossy) o.rocksdb_env = env_.get();
    return ferry::OpenRocksDbBackend(o);
  }

  // Runs `cuts` rounds of workload + power cut + reopen; returns the
  // problems of the first round that had any.
  std::vector<std::string> RunCuts(ferry::RocksDbDurability durability,
                                   int cuts, uint64_t seed) {
    std::mt19937_64 rng(seed);
    ferry_crash::Ledger ledger;
    std::mutex mu;
    for (int round = 0; round < cuts; ++round) {
      // Half the cuts fall right after an acknowledgement, half in the
      // middle of a write (at a random append to any file).
      const bool at_append = rng() % 2 == 0;
      const int cut_after = 1 + static_cast<int>(rng() % 150);
      if (at_append) fs_->CutAtAppend(1 + static_cast<int64_t>(rng() % 400));
      auto backend = Open(durability, /*lossy=*/true);
      if (!backend.ok()) return {backend.status().ToString()};
      std::atomic<bool> stop{false};
      int acks = 0;
      ferry_crash::RunWorkload(
          *std::move(backend), round, ledger.latest() + absl::Seconds(1),
          seed + static_cast<uint64_t>(round), 1 << 30,
          [&](const std::string& line) {
            std::lock_guard<std::mutex> lock(mu);
            // After the cut the process would be gone: nothing it reports
            // was acknowledged.
            if (fs_->IsCut()) {
              stop = true;
              return;
            }
            ledger.Apply(line);
            if (!at_append && ++acks == cut_after) {
              fs_->Cut();
              stop = true;
            }
          },
          &stop);
      dropped_ += fs_->DropUnsynced();
      auto reopened = Open(durability, /*lossy=*/false);
      if (!reopened.ok()) return {reopened.status().ToString()};
      std::vector<std::string> problems = ledger.Check(**reopened);
      if (!problems.empty()) {
        problems.insert(problems.begin(), absl::StrCat("after cut ", round));
        return problems;
      }
    }
    sends_ = ledger.sends();
    return {};
  }

  std::string dir_;
  std::shared_ptr<ferry_crash::LossyFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  uint64_t dropped_ = 0;
  size_t sends_ = 0;
};

TEST_F(PowerLossTest, SyncModeKeepsEveryAcknowledgement) {
  const int cuts = EnvInt("FERRY_POWER_CUTS", 40);
  std::vector<std::string> problems =
      RunCuts(ferry::RocksDbDurability::kSync, cuts, 424242);
  EXPECT_TRUE(problems.empty()) << absl::StrJoin(problems, "\n");
  std::printf("%d power cuts, %zu sends, %llu unsynced bytes dropped\n", cuts,
              sends_, static_cast<unsigned long long>(dropped_));
}

TEST_F(PowerLossTest, BufferedModeLosesAcknowledgementsOnPowerLoss) {
  // Buffered mode promises only to survive a process crash; this shows the
  // harness does see what a power cut takes.
  std::vector<std::string> problems =
      RunCuts(ferry::RocksDbDurability::kBuffered, 10, 7);
  EXPECT_FALSE(problems.empty());
  EXPECT_GT(dropped_, 0u);
}

TEST_F(PowerLossTest, FullDiskFailsCleanlyAndRecovers) {
  auto backend = Open(ferry::RocksDbDurability::kSync, /*lossy=*/true);
  ASSERT_THAT(backend.status(), IsOk());
  ferry::QueueStore& qs = (*backend)->queues();
  auto q = qs.CreateQueue({.key = "q"});
  ASSERT_THAT(q.status(), IsOk());
  auto send = [&](const std::string& body) {
    ferry::QueueStore::AppendEntry e;
    e.queue = q->id;
    e.message.body = body;
    ferry::QueueStore::AppendOutcome out;
    return qs.Append({.entries = {&e, 1}, .outcomes = {&out, 1}});
  };
  ASSERT_THAT(send("before"), IsOk());
  fs_->SetNoSpace(true);
  absl::Status full = send("during");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_EQ(send("during-2").code(), absl::StatusCode::kResourceExhausted);
  fs_->SetNoSpace(false);
  EXPECT_THAT(send("after"), IsOk());

  backend->reset();
  fs_->DropUnsynced();
  auto reopened = Open(ferry::RocksDbDurability::kSync, /*lossy=*/false);
  ASSERT_THAT(reopened.status(), IsOk());
  ferry::QueueStore::PeekParams p;
  p.queue = q->id;
  p.now = absl::UnixEpoch();
  auto peeked = (*reopened)->queues().Peek(p);
  ASSERT_THAT(peeked.status(), IsOk());
  std::vector<std::string> bodies;
  for (const auto& m : *peeked) bodies.push_back(m.message.body.str());
  EXPECT_EQ(bodies, (std::vector<std::string>{"before", "after"}));
}

}  // namespace
