#include "tests/backends/rocksdb/lossy_file_system.h"

#include <unistd.h>

#include <utility>

namespace ferry_crash {
namespace {

class LossyFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  LossyFile(std::unique_ptr<rocksdb::FSWritableFile> target,
            LossyFileSystem* fs, std::string name)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        name_(std::move(name)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* d) override {
    if (fs_->CutNow()) return rocksdb::IOStatus::OK();  // lost
    rocksdb::IOStatus s = fs_->BeforeAppend();
    if (!s.ok()) return s;
    s = target()->Append(data, o, d);
    if (s.ok()) fs_->Appended(name_, data.size());
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* d) override {
    if (fs_->CutNow()) return rocksdb::IOStatus::OK();  // lost
    rocksdb::IOStatus s = fs_->BeforeAppend();
    if (!s.ok()) return s;
    s = target()->Append(data, o, v, d);
    if (s.ok()) fs_->Appended(name_, data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t,
                                     const rocksdb::IOOptions&,
                                     rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("lossy fs: positioned append");
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t,
                                     const rocksdb::IOOptions&,
                                     const rocksdb::DataVerificationInfo&,
                                     rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("lossy fs: positioned append");
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                         rocksdb::IODebugContext* d) override {
    if (fs_->IsCut()) return rocksdb::IOStatus::OK();  // syncs nothing
    rocksdb::IOStatus s = target()->Sync(o, d);
    if (s.ok()) fs_->Synced(name_);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                          rocksdb::IODebugContext* d) override {
    if (fs_->IsCut()) return rocksdb::IOStatus::OK();  // syncs nothing
    rocksdb::IOStatus s = target()->Fsync(o, d);
    if (s.ok()) fs_->Synced(name_);
    return s;
  }
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&,
                              rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();  // syncs nothing we count on
  }
  bool use_direct_io() const override { return false; }

 private:
  LossyFileSystem* const fs_;
  const std::string name_;
};

}  // namespace

bool LossyFileSystem::IsCut() {
  std::lock_guard<std::mutex> lock(mu_);
  return cut_;
}

bool LossyFileSystem::CutNow() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!cut_ && appends_until_cut_ > 0 && --appends_until_cut_ == 0) {
    cut_ = true;
  }
  return cut_;
}

rocksdb::IOStatus LossyFileSystem::BeforeAppend() {
  std::lock_guard<std::mutex> lock(mu_);
  if (no_space_) return rocksdb::IOStatus::NoSpace("lossy fs: disk full");
  return rocksdb::IOStatus::OK();
}

void LossyFileSystem::Appended(const std::string& f, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[f].size += n;
}

void LossyFileSystem::Synced(const std::string& f) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& st = files_[f];
  st.synced = st.size;
}

rocksdb::IOStatus LossyFileSystem::Wrap(
    const std::string& f, rocksdb::IOStatus s, uint64_t initial_size,
    std::unique_ptr<rocksdb::FSWritableFile>* r) {
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[f] = {initial_size, initial_size, cut_};
  }
  r->reset(new LossyFile(std::move(*r), this, f));
  return s;
}

rocksdb::IOStatus LossyFileSystem::NewWritableFile(
    const std::string& f, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* d) {
  rocksdb::FileOptions plain = o;
  plain.use_direct_writes = false;
  return Wrap(f, target()->NewWritableFile(f, plain, r, d), 0, r);
}

rocksdb::IOStatus LossyFileSystem::ReopenWritableFile(
    const std::string& f, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* d) {
  uint64_t size = 0;
  if (!target()->GetFileSize(f, rocksdb::IOOptions(), &size, d).ok()) {
    size = 0;
  }
  return Wrap(f, target()->ReopenWritableFile(f, o, r, d), size, r);
}

rocksdb::IOStatus LossyFileSystem::ReuseWritableFile(
    const std::string& f, const std::string& old, const rocksdb::FileOptions& o,
    std::unique_ptr<rocksdb::FSWritableFile>* r, rocksdb::IODebugContext* d) {
  rocksdb::IOStatus s = target()->ReuseWritableFile(f, old, o, r, d);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(old);
  }
  return Wrap(f, s, 0, r);
}

rocksdb::IOStatus LossyFileSystem::RenameFile(const std::string& src,
                                              const std::string& dst,
                                              const rocksdb::IOOptions& o,
                                              rocksdb::IODebugContext* d) {
  if (IsCut()) return rocksdb::IOStatus::OK();  // never reaches the disk
  rocksdb::IOStatus s = target()->RenameFile(src, dst, o, d);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(src);
    if (it != files_.end()) {
      files_[dst] = it->second;
      files_.erase(src);
    } else {
      files_.erase(dst);
    }
  }
  return s;
}

rocksdb::IOStatus LossyFileSystem::DeleteFile(const std::string& f,
                                              const rocksdb::IOOptions& o,
                                              rocksdb::IODebugContext* d) {
  if (IsCut()) return rocksdb::IOStatus::OK();  // never reaches the disk
  rocksdb::IOStatus s = target()->DeleteFile(f, o, d);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(f);
  }
  return s;
}

uint64_t LossyFileSystem::DropUnsynced() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t dropped = 0;
  for (auto& [name, st] : files_) {
    if (st.created_after_cut) {
      ::unlink(name.c_str());
      continue;
    }
    if (st.size > st.synced) {
      dropped += st.size - st.synced;
      if (::truncate(name.c_str(), static_cast<off_t>(st.synced)) != 0) {
        continue;  // deleted meanwhile
      }
    }
  }
  files_.clear();
  cut_ = false;
  appends_until_cut_ = -1;
  no_space_ = false;
  return dropped;
}

}  // namespace ferry_crash
