// Crash test: a child process runs the mixed workload (crash_workload.h) on a
// RocksDB backend in sync mode and reports every acknowledgement through a
// pipe; the parent SIGKILLs it after a random number of acknowledgements
// (fixed seed), reopens the directory and checks that no acknowledged send
// is lost, no acknowledged delete comes back, FIFO order per group holds and
// receive counts never go backwards. Then it starts the next child on the
// same directory.
//
// FERRY_CRASH_KILLS=<n> sets the number of kills (default 100; CI). The
// child is this binary re-executed (a fresh process, not a bare fork: RocksDB
// keeps background threads).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ferry/rocksdb_backend.h"
#include "ferry/sync.h"
#include "gtest/gtest.h"
#include "tests/backends/rocksdb/crash_workload.h"

namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int out = 0;
  return v != nullptr && absl::SimpleAtoi(v, &out) ? out : fallback;
}

// The child: runs until killed.
TEST(CrashChild, DISABLED_Run) {
  const char* dir = std::getenv("FERRY_CRASH_DIR");
  ASSERT_NE(dir, nullptr);
  const int fd = EnvInt("FERRY_CRASH_FD", -1);
  const int generation = EnvInt("FERRY_CRASH_GENERATION", 0);
  const int64_t start = EnvInt("FERRY_CRASH_START", 1700000000);
  ferry::RocksDbBackendOptions o;
  o.path = dir;
  o.write_buffer_bytes = 256 << 10;
  auto backend = ferry::OpenRocksDbBackend(o);
  if (!backend.ok()) {
    std::string line = absl::StrCat("E ", backend.status().ToString(), "\n");
    (void)!write(fd, line.data(), line.size());
    _exit(3);
  }
  ferry::Mutex mu;
  std::atomic<bool> stop{false};
  ferry_crash::RunWorkload(
      *std::move(backend), generation, absl::FromUnixSeconds(start),
      static_cast<uint64_t>(generation) * 7919 + 1, 1 << 30,
      [&](const std::string& line) {
        std::string l = line + "\n";
        ferry::MutexLock lock(&mu);
        (void)!write(fd, l.data(), l.size());
      },
      &stop);
  _exit(0);
}

TEST(RocksDbCrashTest, AcknowledgedWorkSurvivesSigkill) {
  const int kills = EnvInt("FERRY_CRASH_KILLS", 100);
  const std::string dir =
      absl::StrCat(testing::TempDir(), "/ferry_crash_", ::getpid());
  std::filesystem::remove_all(dir);
  std::mt19937_64 rng(20261129);
  ferry_crash::Ledger ledger;
  int total_acks = 0;
  for (int generation = 0; generation < kills; ++generation) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const int kill_after = 1 + static_cast<int>(rng() % 120);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      setenv("FERRY_CRASH_DIR", dir.c_str(), 1);
      setenv("FERRY_CRASH_FD", absl::StrCat(fds[1]).c_str(), 1);
      setenv("FERRY_CRASH_GENERATION", absl::StrCat(generation).c_str(), 1);
      setenv("FERRY_CRASH_START",
             absl::StrCat(absl::ToUnixSeconds(ledger.latest()) + 1).c_str(), 1);
      execl("/proc/self/exe", "crash_child",
            "--gtest_filter=CrashChild.DISABLED_Run",
            "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    std::string buffer;
    int acks = 0;
    bool killed = false;
    char chunk[4096];
    for (;;) {
      ssize_t n = read(fds[0], chunk, sizeof(chunk));
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t pos;
      while ((pos = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, pos);
        buffer.erase(0, pos + 1);
        ASSERT_NE(line[0], 'E') << line;
        ledger.Apply(line);
        ++acks;
      }
      if (!killed && acks >= kill_after) {
        kill(pid, SIGKILL);
        killed = true;
      }
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child " << generation << " ended with status " << status;
    total_acks += acks;

    ferry::RocksDbBackendOptions o;
    o.path = dir;
    auto backend = ferry::OpenRocksDbBackend(o);
    ASSERT_TRUE(backend.ok()) << backend.status();
    std::vector<std::string> problems = ledger.Check(**backend);
    ASSERT_TRUE(problems.empty()) << "after kill " << generation << ":\n"
                                  << absl::StrJoin(problems, "\n");
  }
  std::filesystem::remove_all(dir);
  RecordProperty("kills", kills);
  RecordProperty("acks", total_acks);
  std::printf("%d kills, %d acknowledgements, %zu sends, %zu deletes\n", kills,
              total_acks, ledger.sends(), ledger.deletes());
}

}  // namespace
