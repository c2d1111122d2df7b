// A rocksdb::FileSystem that simulates a power cut and a full disk.
//
// Every writable file's length and synced length are tracked. After Cut()
// nothing reaches the disk any more (writes, syncs, renames and deletions
// "succeed" into the void: the machine is off, and what the process does
// then no longer matters); DropUnsynced() then truncates each file to what
// was synced before the cut and removes files created after it, as the disk
// would hold when power returns. SetNoSpace(true) makes appends fail with
// ENOSPC (NoSpace).
#ifndef FERRY_TESTS_BACKENDS_ROCKSDB_LOSSY_FILE_SYSTEM_H_
#define FERRY_TESTS_BACKENDS_ROCKSDB_LOSSY_FILE_SYSTEM_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/file_system.h"

namespace ferry_crash {

class LossyFileSystem : public rocksdb::FileSystemWrapper {
 public:
  explicit LossyFileSystem(std::shared_ptr<rocksdb::FileSystem> target)
      : FileSystemWrapper(std::move(target)) {}

  static const char* kClassName() { return "LossyFileSystem"; }
  const char* Name() const override { return kClassName(); }

  void Cut() {
    std::lock_guard<std::mutex> lock(mu_);
    cut_ = true;
  }
  // Cuts the power during the n-th append from now (that append is lost).
  void CutAtAppend(int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    appends_until_cut_ = n;
  }
  void SetNoSpace(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    no_space_ = on;
  }
  // After Cut() and after the database is closed: loses every unsynced byte
  // and powers the machine back on. Returns the bytes dropped.
  uint64_t DropUnsynced();

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& f, const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& f, const std::string& old,
      const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus RenameFile(const std::string& src,
                               const std::string& target,
                               const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* d) override;
  rocksdb::IOStatus DeleteFile(const std::string& f,
                               const rocksdb::IOOptions& o,
                               rocksdb::IODebugContext* d) override;

  // Used by the files.
  bool IsCut();
  bool CutNow();  // counts an append; true when the power is (now) off
  rocksdb::IOStatus BeforeAppend();
  void Appended(const std::string& f, uint64_t n);
  void Synced(const std::string& f);

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
    bool created_after_cut = false;
  };
  rocksdb::IOStatus Wrap(const std::string& f, rocksdb::IOStatus s,
                         uint64_t initial_size,
                         std::unique_ptr<rocksdb::FSWritableFile>* r);

  std::mutex mu_;
  bool cut_ = false;
  bool no_space_ = false;
  int64_t appends_until_cut_ = -1;  // -1: no planned cut
  std::map<std::string, FileState> files_;
};

}  // namespace ferry_crash

#endif  // FERRY_TESTS_BACKENDS_ROCKSDB_LOSSY_FILE_SYSTEM_H_
