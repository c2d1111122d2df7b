#include "ferry/rocksdb_backend.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "codec.h"
#include "ferry/backend.h"
#include "ferry/sync.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/table_properties_collectors.h"
#include "rocksdb/write_batch.h"
#include "rocksdb_stream_store.h"

namespace ferry {
namespace {

using rocksdb_internal::DedupRecord;
using rocksdb_internal::LeaseState;
namespace rc = rocksdb_internal;

#define FERRY_RDB_RETURN_IF_ERROR(expr)           \
  do {                                            \
    if (::absl::Status _st = (expr); !_st.ok()) { \
      return _st;                                 \
    }                                             \
  } while (false)

absl::Status ToStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg =
      absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString());
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit) {
    return absl::ResourceExhaustedError(msg);
  }
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::UnavailableError(msg);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("rocksdb backend: corrupt record: ", std::string(what)));
}

std::string Successor(std::string key) {
  // The smallest key greater than every key starting with `key`.
  while (!key.empty()) {
    unsigned char c = static_cast<unsigned char>(key.back());
    if (c != 0xff) {
      key.back() = static_cast<char>(c + 1);
      return key;
    }
    key.pop_back();
  }
  return key;  // empty: no bound
}

rocksdb::Slice S(const std::string& s) { return rocksdb::Slice(s); }

// Adds to `b` the range deletions of every message of `queue` and its state.
void DeleteQueueContents(rocksdb::WriteBatch* b, QueueId queue) {
  for (char tag : rc::kQueueContentTags) {
    b->DeleteRange(S(rc::QueueKey(tag, queue)),
                   S(rc::QueueKey(tag, queue + 1)));
  }
}

// Turns RocksDB's automatic recovery off: the backend calls Resume() on the
// next call after a failed write, so recovery follows the space returning at
// once instead of RocksDB's timed polling of free space.
class ManualRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

// The prefix of the memtable insert hints (Options::
// memtable_insert_with_hint_prefix_extractor): a key's tag and queue id, for
// keys longer than that prefix only. librocksdb 7.8 keeps one hint map per
// memtable shared by its point and range-deletion skip lists, so a
// DeleteRange key given a point list's hint corrupts the range list (an
// assertion in InlineSkipList::Insert); every DeleteRange of this family
// starts at a bare QueueKey or TagKey, which this leaves out of the domain.
class QueueInsertHint : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "ferry.QueueInsertHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), kPrefix);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > kPrefix;
  }

 private:
  static constexpr size_t kPrefix = 1 + 8;  // rc::QueueKey(tag, queue)
};

constexpr uint64_t kSeqReservation = 4096;
constexpr std::pair<uint64_t, uint64_t> kNoFloor{UINT64_MAX, UINT64_MAX};

struct Queue {
  QueueRecord record;
  uint64_t next_seq = 1;
  // Sequences below this may have been used (the 'N' record); reserved in
  // blocks so that most appends do not rewrite it.
  uint64_t reserved_seq = 1;
  // No live message has a sequence below head_seq ('M' scans start here).
  uint64_t head_seq = 1;
  // Standard queues: no 'R' entry is below (ordered time, seq) ready_floor,
  // so scans start there instead of wading through the tombstones of the
  // entries already consumed.
  std::pair<uint64_t, uint64_t> ready_floor{0, 0};
  // Messages received at least once and not deleted (the 'S' records).
  absl::btree_map<uint64_t, LeaseState> leased;
  // The same, by deadline.
  std::set<std::pair<absl::Time, uint64_t>> by_deadline;

  void SetLease(uint64_t seq, const LeaseState& s) {
    auto it = leased.find(seq);
    if (it != leased.end()) {
      by_deadline.erase({it->second.invisible_until, seq});
      it->second = s;
    } else {
      leased.emplace(seq, s);
    }
    by_deadline.insert({s.invisible_until, seq});
  }
  void EraseLease(uint64_t seq) {
    auto it = leased.find(seq);
    if (it == leased.end()) return;
    by_deadline.erase({it->second.invisible_until, seq});
    leased.erase(it);
  }
};

class RocksDbBackend final : public Backend,
                             public QueueStore,
                             public KeyValueStore,
                             private rc::StreamDbHost {
 public:
  explicit RocksDbBackend(const RocksDbBackendOptions& options)
      : options_(options),
        sync_(options.durability == RocksDbDurability::kSync),
        sync_cv_(&sync_mu_) {}

  ~RocksDbBackend() override {
    streams_cf_.reset();
    if (db_ != nullptr) db_->Close().PermitUncheckedError();
  }

  absl::Status Open();

  std::string_view Name() const override { return "rocksdb"; }
  QueueStore& queues() override { return *this; }
  KeyValueStore& kv() override { return *this; }
  StreamStore& streams() override { return streams_; }
  absl::Status Reset() override;

  // ---- QueueStore ----
  absl::StatusOr<QueueRecord> CreateQueue(const CreateQueueParams& p) override;
  absl::StatusOr<QueueRecord> GetQueue(std::string_view key) override;
  absl::StatusOr<uint64_t> UpdateQueueConfig(
      const UpdateQueueParams& p) override;
  absl::Status DeleteQueue(QueueId queue) override;
  absl::StatusOr<std::vector<QueueRecord>> ListQueues(
      const ListQueuesParams& p) override;
  absl::Status Append(const AppendParams& p) override;
  absl::StatusOr<LeaseResult> Lease(const LeaseParams& p) override;
  absl::Status Ack(const AckParams& p) override;
  absl::Status ChangeVisibility(const ChangeVisibilityParams& p) override;
  absl::StatusOr<QueueCounts> Count(const CountParams& p) override;
  absl::Status Purge(QueueId queue) override;
  // Purge and DeleteQueue write range tombstones over the queue's keys; the
  // disk space comes back only when a compaction drops what they cover, so
  // they compact the queue's key ranges before returning. Runs outside mu_
  // (other calls proceed meanwhile); db_mu_ held shared keeps db_ alive.
  void CompactQueueRanges(QueueId queue);
  absl::StatusOr<std::vector<PeekedMessage>> Peek(const PeekParams& p) override;
  absl::StatusOr<int64_t> Move(const MoveParams& p) override;

  // ---- KeyValueStore ----
  absl::StatusOr<std::optional<Entry>> Get(std::string_view table,
                                           std::string_view key) override;
  absl::StatusOr<uint64_t> CompareAndSwap(std::string_view table,
                                          std::string_view key,
                                          uint64_t expected_version,
                                          std::string_view value) override;
  absl::StatusOr<bool> Delete(std::string_view table, std::string_view key,
                              uint64_t expected_version) override;
  absl::StatusOr<std::vector<std::pair<std::string, Entry>>> Scan(
      std::string_view table, std::string_view prefix,
      std::string_view start_after, size_t limit) override;

 private:
  // ---- StreamDbHost (rocksdb_stream_store.h) ----
  absl::Status WithDb(absl::FunctionRef<
                      absl::Status(rocksdb::DB&, rocksdb::ColumnFamilyHandle&)>
                          fn) override;
  absl::Status Commit(bool adds_data,
                      absl::FunctionRef<void(rocksdb::WriteBatch&,
                                             rocksdb::ColumnFamilyHandle*)>
                          fill,
                      uint64_t* ticket) override;
  absl::Status WaitDurable(uint64_t ticket) override;
  void CompactStreamRange(const std::string& begin,
                          const std::string& end) override;
  using MessageState = QueueStore::MessageState;

  // A message being looked at by a scan.
  struct Loaded {
    uint64_t seq = 0;
    StoredMessage message;
    const LeaseState* lease = nullptr;  // in Queue::leased, or null
  };

  // ---- helpers (all REQUIRE mu_) ----
  Queue* FindLocked(QueueId id) {
    auto it = queues_.find(id);
    return it == queues_.end() ? nullptr : it->second.get();
  }
  absl::Status OpenDbLocked();
  absl::Status LoadCatalogLocked();
  absl::Status LoadQueueLocked(Queue* q);
  absl::Status ReloadLocked(const std::vector<Queue*>& touched);
  // Writes `batch` (no fsync); returns the ticket WaitDurable needs. On error
  // the in-memory state of `touched` is reloaded from the database.
  absl::Status CommitLocked(rocksdb::WriteBatch* batch,
                            const std::vector<Queue*>& touched,
                            uint64_t* ticket);
  absl::Status CheckDiskCapLocked();
  absl::Status ResumeIfNeededLocked();

  void AppendLocked(Queue* q, StoredMessage m, rocksdb::WriteBatch* b,
                    AppendOutcome* o);
  // Removes message `seq` (never received when lease == nullptr) from `q`.
  void RemoveMessageLocked(Queue* q, uint64_t seq, const StoredMessage& m,
                           bool leased, rocksdb::WriteBatch* b);
  absl::Status GetMessageLocked(Queue* q, uint64_t seq, StoredMessage* m,
                                bool* found);
  // Visits the messages of `q` in sequence order from its head; `fn` returns
  // false to stop. Updates head_seq to the first message seen.
  template <typename Fn>
  absl::Status ScanMessagesLocked(Queue* q, bool times_only, Fn fn);
  absl::StatusOr<absl::Time> FirstReadyAfterLocked(Queue* q, absl::Time now);
  ReceiptStatus ResolveLocked(Queue* q, std::string_view receipt,
                              absl::Time now, bool require_live, uint64_t* seq);

  static absl::Time VisibleAt(const StoredMessage& m,
                              const std::optional<absl::Duration>& retro) {
    if (retro.has_value()) return m.enqueue_time + *retro;
    return m.visible_at;
  }
  static MessageState StateOf(absl::Time enqueue_time, absl::Time visible_at,
                              const LeaseState* lease, absl::Time now,
                              const std::optional<absl::Duration>& retro) {
    if (lease != nullptr) {
      return lease->invisible_until > now ? MessageState::kInFlight
                                          : MessageState::kVisible;
    }
    absl::Time t = retro.has_value() ? enqueue_time + *retro : visible_at;
    return t > now ? MessageState::kDelayed : MessageState::kVisible;
  }
  static void ApplyLease(const LeaseState& s, StoredMessage* m) {
    m->receive_count = s.receive_count;
    m->first_receive_time = s.first_receive_time;
  }

  std::unique_ptr<rocksdb::Iterator> NewIterator(const std::string& lower,
                                                 const std::string& upper,
                                                 rocksdb::Slice* lo,
                                                 rocksdb::Slice* hi) {
    rocksdb::ReadOptions ro;
    *lo = S(lower);
    *hi = S(upper);
    ro.iterate_lower_bound = lo;
    ro.iterate_upper_bound = hi;
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro));
  }
  // The iterator keeps pointers to the bounds: a temporary would dangle.
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string&&, std::string&&,
                                                 rocksdb::Slice*,
                                                 rocksdb::Slice*) = delete;
  std::unique_ptr<rocksdb::Iterator> NewIterator(const std::string&,
                                                 std::string&&, rocksdb::Slice*,
                                                 rocksdb::Slice*) = delete;

  const RocksDbBackendOptions options_;
  const bool sync_;
  // Replaced only when the backend reopens the database after a failure it
  // could not Resume() from; WaitDurable holds db_mu_ shared.
  std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::Env> mem_env_;  // options_.in_memory; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  // The streams column family; reset before db_ closes.
  std::unique_ptr<rocksdb::ColumnFamilyHandle> streams_cf_;
  rc::RocksDbStreamStore streams_{this};
  rocksdb::WriteOptions write_options_;
  rocksdb::WriteOptions sync_write_options_;

  Mutex mu_;
  QueueId next_queue_id_ = 1;
  std::map<QueueId, std::unique_ptr<Queue>> queues_;
  std::map<std::string, QueueId, std::less<>> by_key_;
  bool needs_resume_ = false;
  // Set by a failed write or sync; from then on fsyncs go through the write
  // thread (see WaitDurable).
  std::atomic<bool> write_failed_{false};
  std::atomic<bool> syncwal_unsupported_{false};

  // Group commit: tickets count writes; synced_ is the last ticket an fsync
  // covered.
  std::atomic<uint64_t> written_{0};
  Mutex sync_mu_;
  CondVar sync_cv_;
  uint64_t synced_ = 0;
  bool syncing_ = false;
};

// ---- open and recovery -----------------------------------------------------

absl::Status RocksDbBackend::Open() {
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(OpenDbLocked());
    FERRY_RDB_RETURN_IF_ERROR(LoadCatalogLocked());
  }
  return streams_.Load();
}

absl::Status RocksDbBackend::OpenDbLocked() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.write_buffer_size = options_.write_buffer_bytes;
  o.max_write_buffer_number = 2;
  o.max_background_jobs = 2;
  o.keep_log_file_num = 2;
  o.max_manifest_file_size = 16 << 20;
  o.max_total_wal_size = 4 * options_.write_buffer_bytes;
  o.avoid_flush_during_shutdown = false;
  // The backend resumes after a failed write itself (on the next call), so
  // that a full disk recovers as soon as space returns, without RocksDB's
  // timed retries.
  o.max_bgerror_resume_count = 0;
  o.listeners.push_back(std::make_shared<ManualRecovery>());
  o.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(1000, 300));
  // Most writes go to the end of one queue's key range (messages and ready
  // entries by increasing sequence): with a hint per tag+queue prefix the
  // memtable inserts next to the previous insert of that range instead of
  // searching the skip list from its top (the searches' key comparisons
  // were most of a buffered send's CPU). Memory only: keys, values and the
  // on-disk format are unchanged. The queue family only (see
  // QueueInsertHint): the streams family is opened without it.
  rocksdb::Options streams_options = o;
  o.memtable_insert_with_hint_prefix_extractor =
      std::make_shared<QueueInsertHint>();
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  if (options_.rocksdb_env != nullptr) {
    o.env = static_cast<rocksdb::Env*>(options_.rocksdb_env);
  } else if (options_.in_memory) {
    if (mem_env_ == nullptr) {
      mem_env_.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    }
    o.env = mem_env_.get();
  }
  write_options_.sync = false;
  sync_write_options_.sync = true;

  // The default column family holds the queues and the key-value table;
  // "streams" the stream records (created in a database written before it
  // existed, format version 1).
  std::vector<std::string> families;
  bool has_streams = false;
  if (rocksdb::DB::ListColumnFamilies(o, options_.path, &families).ok()) {
    has_streams = std::find(families.begin(), families.end(),
                            rc::kStreamsColumnFamily) != families.end();
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(o)}};
  if (has_streams) {
    descriptors.push_back({rc::kStreamsColumnFamily,
                           rocksdb::ColumnFamilyOptions(streams_options)});
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(o), options_.path,
                                        descriptors, &handles, &raw);
  if (s.ok()) {
    delete handles[0];  // the default family: db_ uses it implicitly
    rocksdb::ColumnFamilyHandle* streams = has_streams ? handles[1] : nullptr;
    if (!has_streams) {
      s = raw->CreateColumnFamily(rocksdb::ColumnFamilyOptions(streams_options),
                                  rc::kStreamsColumnFamily, &streams);
      if (!s.ok()) {
        raw->Close().PermitUncheckedError();
        delete raw;
        raw = nullptr;
      }
    }
    streams_cf_.reset(streams);
  }
  if (!s.ok()) {
    if (s.IsIOError() && (s.ToString().find("lock") != std::string::npos ||
                          s.ToString().find("LOCK") != std::string::npos)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "rocksdb backend: ", options_.path,
          " is already open (by this or another process): ", s.ToString()));
    }
    return ToStatus(s, absl::StrCat("open ", options_.path));
  }
  {
    std::unique_lock<std::shared_mutex> db_lock(db_mu_);
    db_.reset(raw);
  }

  // Format version.
  std::string value;
  s = db_->Get(rocksdb::ReadOptions(), S(rc::TagKey(rc::kFormatTag)), &value);
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) {
      return absl::FailedPreconditionError(
          absl::StrCat("rocksdb backend: ", options_.path,
                       " holds data but no ferry format version"));
    }
    std::string v;
    rc::PutFixed32BE(&v, rc::kFormatVersion);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    FERRY_RDB_RETURN_IF_ERROR(ToStatus(
        db_->Put(wo, S(rc::TagKey(rc::kFormatTag)), S(v)), "write version"));
  } else if (!s.ok()) {
    return ToStatus(s, "read version");
  } else {
    if (value.size() != 4) return Corrupt("format version");
    uint32_t version = rc::GetFixed32BE(value.data());
    if (version == 1) {
      // Version 1 lacked the streams column family, created above; the
      // version records that it exists, so an older build refuses it.
      std::string v;
      rc::PutFixed32BE(&v, rc::kFormatVersion);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      FERRY_RDB_RETURN_IF_ERROR(
          ToStatus(db_->Put(wo, S(rc::TagKey(rc::kFormatTag)), S(v)),
                   "upgrade version"));
    } else if (version != rc::kFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "rocksdb backend: ", options_.path, " has on-disk format version ",
          version, "; this build reads version ", rc::kFormatVersion));
    }
  }

  return absl::OkStatus();
}

absl::Status RocksDbBackend::LoadCatalogLocked() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                               S(rc::TagKey(rc::kNextQueueIdTag)), &value);
  if (s.ok()) {
    if (value.size() != 8) return Corrupt("next queue id");
    next_queue_id_ = rc::GetFixed64BE(value.data());
  } else if (!s.IsNotFound()) {
    return ToStatus(s, "read next queue id");
  }
  rocksdb::Slice lo, hi;
  std::string lower = rc::TagKey(rc::kQueueTag);
  std::string upper = Successor(lower);
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto q = std::make_unique<Queue>();
    if (!rc::DecodeQueueRecord(
            std::string_view(it->value().data(), it->value().size()),
            &q->record)) {
      return Corrupt("queue record");
    }
    FERRY_RDB_RETURN_IF_ERROR(LoadQueueLocked(q.get()));
    by_key_[q->record.key] = q->record.id;
    QueueId id = q->record.id;
    queues_[id] = std::move(q);
  }
  return ToStatus(it->status(), "scan queues");
}

// Rebuilds a queue's in-memory state from the database.
absl::Status RocksDbBackend::LoadQueueLocked(Queue* q) {
  const QueueId id = q->record.id;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                               S(rc::QueueKey(rc::kNextSeqTag, id)), &value);
  if (s.ok()) {
    if (value.size() != 8) return Corrupt("next sequence");
    // Sequences below the reservation may have been used before a crash.
    q->next_seq = q->reserved_seq = rc::GetFixed64BE(value.data());
  } else if (!s.IsNotFound()) {
    return ToStatus(s, "read next sequence");
  }
  q->leased.clear();
  q->by_deadline.clear();
  rocksdb::Slice lo, hi;
  {
    std::string lower = rc::QueueKey(rc::kStateTag, id);
    const std::string upper = Successor(lower);
    std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      QueueId qid;
      uint64_t seq;
      LeaseState st;
      if (!rc::ParseSeqKey(std::string_view(it->key().data(), it->key().size()),
                           rc::kStateTag, &qid, &seq) ||
          !rc::DecodeLeaseState(
              std::string_view(it->value().data(), it->value().size()), &st)) {
        return Corrupt("lease state");
      }
      q->SetLease(seq, st);
    }
    FERRY_RDB_RETURN_IF_ERROR(ToStatus(it->status(), "scan leases"));
  }
  {
    std::string lower = rc::QueueKey(rc::kMessageTag, id);
    const std::string upper = Successor(lower);
    std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
    it->SeekToFirst();
    q->head_seq = q->next_seq;
    if (it->Valid()) {
      QueueId qid;
      uint64_t seq;
      if (!rc::ParseSeqKey(std::string_view(it->key().data(), it->key().size()),
                           rc::kMessageTag, &qid, &seq)) {
        return Corrupt("message key");
      }
      q->head_seq = seq;
    }
    FERRY_RDB_RETURN_IF_ERROR(ToStatus(it->status(), "scan messages"));
  }
  {
    std::string lower = rc::QueueKey(rc::kReadyTag, id);
    const std::string upper = Successor(lower);
    std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
    it->SeekToFirst();
    q->ready_floor = kNoFloor;
    if (it->Valid()) {
      QueueId qid;
      uint64_t t, seq;
      if (!rc::ParseReadyKey(
              std::string_view(it->key().data(), it->key().size()), &qid, &t,
              &seq)) {
        return Corrupt("ready key");
      }
      q->ready_floor = {t, seq};
    }
    FERRY_RDB_RETURN_IF_ERROR(ToStatus(it->status(), "scan ready index"));
  }
  return absl::OkStatus();
}

absl::Status RocksDbBackend::ReloadLocked(const std::vector<Queue*>& touched) {
  absl::Status result = absl::OkStatus();
  for (Queue* q : touched) {
    absl::Status s = LoadQueueLocked(q);
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

absl::Status RocksDbBackend::ResumeIfNeededLocked() {
  if (!needs_resume_) return absl::OkStatus();
  if (db_ != nullptr && db_->Resume().ok()) {
    needs_resume_ = false;
    return absl::OkStatus();
  }
  // Some failures (a failed WAL write) cannot be resumed: close and reopen,
  // which replays the WAL, and rebuild the in-memory state from the database.
  {
    std::unique_lock<std::shared_mutex> db_lock(db_mu_);
    streams_cf_.reset();
    if (db_ != nullptr) db_->Close().PermitUncheckedError();
    db_.reset();
  }
  queues_.clear();
  by_key_.clear();
  FERRY_RDB_RETURN_IF_ERROR(OpenDbLocked());
  FERRY_RDB_RETURN_IF_ERROR(LoadCatalogLocked());
  needs_resume_ = false;
  return absl::OkStatus();
}

absl::Status RocksDbBackend::CommitLocked(rocksdb::WriteBatch* batch,
                                          const std::vector<Queue*>& touched,
                                          uint64_t* ticket) {
  *ticket = 0;
  if (batch->Count() == 0) return absl::OkStatus();
  rocksdb::Status s = db_->Write(write_options_, batch);
  if (!s.ok()) {
    needs_resume_ = true;
    write_failed_.store(true, std::memory_order_release);
    ReloadLocked(touched).IgnoreError();
    return ToStatus(s, "write");
  }
  *ticket = written_.fetch_add(1, std::memory_order_acq_rel) + 1;
  return absl::OkStatus();
}

absl::Status RocksDbBackend::WaitDurable(uint64_t ticket) {
  if (!sync_ || ticket == 0) return absl::OkStatus();
  MutexLock lock(&sync_mu_);
  while (synced_ < ticket) {
    if (syncing_) {
      sync_cv_.Wait();
      continue;
    }
    syncing_ = true;
    const uint64_t target = written_.load(std::memory_order_acquire);
    sync_mu_.Unlock();
    rocksdb::Status s = rocksdb::Status::Aborted("database closed");
    {
      std::shared_lock<std::shared_mutex> db_lock(db_mu_);
      if (db_ == nullptr) {
        // Reopening after a failure; the caller sees an error.
      } else if (!write_failed_.load(std::memory_order_acquire) &&
                 !syncwal_unsupported_.load(std::memory_order_acquire) &&
                 !(s = db_->SyncWAL()).IsNotSupported()) {
        // SyncWAL() fsyncs the WAL without blocking writers, so the writes
        // made during this fsync are all covered by the next one.
      } else {
        // SyncWAL() is not supported by every Env (RocksDB's MemEnv).
        if (s.IsNotSupported()) {
          syncwal_unsupported_.store(true, std::memory_order_release);
        }
        // After a failed write: an empty batch written with sync=true goes
        // through RocksDB's write thread, which refuses it while the
        // database is stopped instead of syncing a log that a failed write
        // left behind (librocksdb 7.8 built with assertions aborts then).
        rocksdb::WriteBatch empty;
        s = db_->Write(sync_write_options_, &empty);
      }
    }
    if (!s.ok()) write_failed_.store(true, std::memory_order_release);
    sync_mu_.Lock();
    syncing_ = false;
    if (s.ok()) synced_ = std::max(synced_, target);
    sync_cv_.SignalAll();
    if (!s.ok()) return ToStatus(s, "sync");
  }
  return absl::OkStatus();
}

absl::Status RocksDbBackend::CheckDiskCapLocked() {
  if (options_.max_disk_bytes == 0) return absl::OkStatus();
  uint64_t sst = 0, wal = 0;
  db_->GetIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst);
  db_->GetIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &sst);
  uint64_t wal_size = 0;
  rocksdb::VectorLogPtr files;
  if (db_->GetSortedWalFiles(files).ok()) {
    for (const auto& f : files) wal_size += f->SizeFileBytes();
  }
  wal = wal_size;
  if (sst + wal > options_.max_disk_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rocksdb backend: disk cap reached (", sst + wal, " of ",
                     options_.max_disk_bytes, " bytes used)"));
  }
  return absl::OkStatus();
}

absl::Status RocksDbBackend::Reset() {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    rocksdb::WriteBatch b;
    // Everything but the format version and the queue id counter (ids are
    // never reused).
    for (char tag : {rc::kQueueTag, rc::kNextSeqTag, rc::kMessageTag,
                     rc::kStateTag, rc::kReadyTag, rc::kDedupTag, rc::kKvTag}) {
      std::string k = rc::TagKey(tag);
      b.DeleteRange(S(k), S(Successor(k)));
    }
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {}, &ticket));
    queues_.clear();
    by_key_.clear();
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return streams_.Reset();
}

// ---- StreamDbHost
// ------------------------------------------------------------

absl::Status RocksDbBackend::WithDb(
    absl::FunctionRef<absl::Status(rocksdb::DB&, rocksdb::ColumnFamilyHandle&)>
        fn) {
  std::shared_lock<std::shared_mutex> db_lock(db_mu_);
  if (db_ == nullptr || streams_cf_ == nullptr) {
    return absl::UnavailableError("rocksdb backend: database is reopening");
  }
  return fn(*db_, *streams_cf_);
}

absl::Status RocksDbBackend::Commit(
    bool adds_data,
    absl::FunctionRef<void(rocksdb::WriteBatch&, rocksdb::ColumnFamilyHandle*)>
        fill,
    uint64_t* ticket) {
  MutexLock lock(&mu_);
  FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
  if (adds_data) FERRY_RDB_RETURN_IF_ERROR(CheckDiskCapLocked());
  rocksdb::WriteBatch b;
  fill(b, streams_cf_.get());
  return CommitLocked(&b, {}, ticket);
}

void RocksDbBackend::CompactStreamRange(const std::string& begin,
                                        const std::string& end) {
  std::shared_lock<std::shared_mutex> db_lock(db_mu_);
  if (db_ == nullptr || streams_cf_ == nullptr) return;
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForceOptimized;
  o.exclusive_manual_compaction = false;
  const rocksdb::Slice b(begin), e(end);
  // Best effort, as CompactQueueRanges.
  db_->CompactRange(o, streams_cf_.get(), &b, &e).PermitUncheckedError();
}

// ---- catalog ---------------------------------------------------------------

absl::StatusOr<QueueRecord> RocksDbBackend::CreateQueue(
    const CreateQueueParams& p) {
  uint64_t ticket = 0;
  QueueRecord record;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    if (by_key_.count(p.key) > 0) {
      return absl::AlreadyExistsError("queue exists");
    }
    FERRY_RDB_RETURN_IF_ERROR(CheckDiskCapLocked());
    record = {next_queue_id_, std::string(p.key), p.fifo, std::string(p.config),
              1};
    rocksdb::WriteBatch b;
    std::string next;
    rc::PutFixed64BE(&next, next_queue_id_ + 1);
    b.Put(S(rc::TagKey(rc::kNextQueueIdTag)), S(next));
    b.Put(S(rc::QueueKey(rc::kQueueTag, record.id)),
          S(rc::EncodeQueueRecord(record)));
    std::string seq;
    rc::PutFixed64BE(&seq, 1);
    b.Put(S(rc::QueueKey(rc::kNextSeqTag, record.id)), S(seq));
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {}, &ticket));
    ++next_queue_id_;
    auto q = std::make_unique<Queue>();
    q->record = record;
    q->ready_floor = kNoFloor;
    by_key_[record.key] = record.id;
    queues_[record.id] = std::move(q);
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return record;
}

absl::StatusOr<QueueRecord> RocksDbBackend::GetQueue(std::string_view key) {
  MutexLock lock(&mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return absl::NotFoundError("no such queue");
  return FindLocked(it->second)->record;
}

absl::StatusOr<uint64_t> RocksDbBackend::UpdateQueueConfig(
    const UpdateQueueParams& p) {
  uint64_t ticket = 0, version = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(p.queue);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    if (q->record.config_version != p.expected_version) {
      return absl::AbortedError("config version mismatch");
    }
    QueueRecord r = q->record;
    r.config = std::string(p.config);
    ++r.config_version;
    rocksdb::WriteBatch b;
    b.Put(S(rc::QueueKey(rc::kQueueTag, r.id)), S(rc::EncodeQueueRecord(r)));
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {}, &ticket));
    q->record = std::move(r);
    version = q->record.config_version;
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return version;
}

absl::Status RocksDbBackend::DeleteQueue(QueueId queue) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(queue);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    rocksdb::WriteBatch b;
    DeleteQueueContents(&b, queue);
    b.Delete(S(rc::QueueKey(rc::kQueueTag, queue)));
    b.Delete(S(rc::QueueKey(rc::kNextSeqTag, queue)));
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {}, &ticket));
    by_key_.erase(q->record.key);
    queues_.erase(queue);
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  CompactQueueRanges(queue);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<QueueRecord>> RocksDbBackend::ListQueues(
    const ListQueuesParams& p) {
  MutexLock lock(&mu_);
  std::vector<QueueRecord> out;
  auto it = p.start_after.empty() ? by_key_.lower_bound(p.key_prefix)
                                  : by_key_.upper_bound(p.start_after);
  for (; it != by_key_.end() && out.size() < p.limit; ++it) {
    const std::string& k = it->first;
    if (k.compare(0, p.key_prefix.size(), p.key_prefix) != 0) {
      if (k > p.key_prefix) break;
      continue;
    }
    out.push_back(FindLocked(it->second)->record);
  }
  return out;
}

// ---- messages --------------------------------------------------------------

void RocksDbBackend::AppendLocked(Queue* q, StoredMessage m,
                                  rocksdb::WriteBatch* b, AppendOutcome* o) {
  const uint64_t seq = q->next_seq++;
  if (q->record.fifo) m.sequence_number = seq;
  o->duplicate = false;
  o->message_id = m.message_id;
  o->sequence_number = q->record.fifo ? seq : 0;
  const QueueId id = q->record.id;
  b->Put(S(rc::SeqKey(rc::kMessageTag, id, seq)), S(rc::EncodeMessage(m)));
  if (!q->record.fifo) {
    const uint64_t t = rc::OrderedTime(m.visible_at);
    b->Put(S(rc::ReadyKey(id, t, seq)), rocksdb::Slice());
    q->ready_floor = std::min(q->ready_floor, {t, seq});
  }
  if (q->next_seq > q->reserved_seq) {
    q->reserved_seq = q->next_seq + kSeqReservation;
    std::string next;
    rc::PutFixed64BE(&next, q->reserved_seq);
    b->Put(S(rc::QueueKey(rc::kNextSeqTag, id)), S(next));
  }
}

void RocksDbBackend::RemoveMessageLocked(Queue* q, uint64_t seq,
                                         const StoredMessage& m, bool leased,
                                         rocksdb::WriteBatch* b) {
  const QueueId id = q->record.id;
  b->SingleDelete(S(rc::SeqKey(rc::kMessageTag, id, seq)));
  if (leased) {
    b->Delete(S(rc::SeqKey(rc::kStateTag, id, seq)));
    q->EraseLease(seq);
  } else if (!q->record.fifo) {
    b->SingleDelete(S(rc::ReadyKey(id, rc::OrderedTime(m.visible_at), seq)));
  }
}

absl::Status RocksDbBackend::GetMessageLocked(Queue* q, uint64_t seq,
                                              StoredMessage* m, bool* found) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(),
               S(rc::SeqKey(rc::kMessageTag, q->record.id, seq)), &value);
  if (s.IsNotFound()) {
    *found = false;
    return absl::OkStatus();
  }
  FERRY_RDB_RETURN_IF_ERROR(ToStatus(s, "read message"));
  if (!rc::DecodeMessage(value, m)) return Corrupt("message");
  *found = true;
  return absl::OkStatus();
}

template <typename Fn>
absl::Status RocksDbBackend::ScanMessagesLocked(Queue* q, bool times_only,
                                                Fn fn) {
  const QueueId id = q->record.id;
  std::string lower = rc::SeqKey(rc::kMessageTag, id, q->head_seq);
  std::string upper = rc::QueueKey(rc::kMessageTag, id + 1);
  rocksdb::Slice lo, hi;
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
  bool first = true;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Loaded l;
    QueueId qid;
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    if (!rc::ParseSeqKey(key, rc::kMessageTag, &qid, &l.seq)) {
      return Corrupt("message key");
    }
    if (first) {
      q->head_seq = l.seq;
      first = false;
    }
    bool ok = times_only
                  ? rc::DecodeMessageTimes(value, &l.message.enqueue_time,
                                           &l.message.visible_at)
                  : rc::DecodeMessage(value, &l.message);
    if (!ok) return Corrupt("message");
    auto lease = q->leased.find(l.seq);
    if (lease != q->leased.end()) {
      l.lease = &lease->second;
      ApplyLease(lease->second, &l.message);
    }
    if (!fn(l)) return absl::OkStatus();
  }
  if (first) q->head_seq = q->next_seq;
  return ToStatus(it->status(), "scan messages");
}

absl::StatusOr<absl::Time> RocksDbBackend::FirstReadyAfterLocked(
    Queue* q, absl::Time now) {
  const QueueId id = q->record.id;
  uint64_t from = rc::OrderedTime(now) + 1;
  if (from == 0) return absl::InfiniteFuture();
  std::pair<uint64_t, uint64_t> start =
      std::max(std::pair<uint64_t, uint64_t>{from, 0}, q->ready_floor);
  std::string lower = rc::ReadyKey(id, start.first, start.second);
  std::string upper = rc::QueueKey(rc::kReadyTag, id + 1);
  rocksdb::Slice lo, hi;
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
  it->SeekToFirst();
  if (it->Valid()) {
    QueueId qid;
    uint64_t t, seq;
    if (!rc::ParseReadyKey(std::string_view(it->key().data(), it->key().size()),
                           &qid, &t, &seq)) {
      return Corrupt("ready key");
    }
    return rc::FromOrderedTime(t);
  }
  FERRY_RDB_RETURN_IF_ERROR(ToStatus(it->status(), "scan ready index"));
  return absl::InfiniteFuture();
}

absl::Status RocksDbBackend::Append(const AppendParams& p) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    std::vector<Queue*> touched;
    for (const AppendEntry& e : p.entries) {
      Queue* q = FindLocked(e.queue);
      if (q == nullptr) return absl::NotFoundError("no such queue");
      if (std::find(touched.begin(), touched.end(), q) == touched.end()) {
        touched.push_back(q);
      }
    }
    FERRY_RDB_RETURN_IF_ERROR(CheckDiskCapLocked());
    rocksdb::WriteBatch b;
    // Deduplication keys written by earlier entries of this call.
    std::map<std::pair<QueueId, std::string>, DedupRecord> pending;
    for (size_t i = 0; i < p.entries.size(); ++i) {
      AppendEntry& e = p.entries[i];
      Queue* q = FindLocked(e.queue);
      AppendOutcome& o = p.outcomes[i];
      if (!e.dedup_key.empty()) {
        std::optional<DedupRecord> existing;
        auto pit = pending.find({e.queue, e.dedup_key});
        if (pit != pending.end()) {
          existing = pit->second;
        } else {
          std::string value;
          rocksdb::Status s =
              db_->Get(rocksdb::ReadOptions(),
                       S(rc::DedupKey(e.queue, e.dedup_key)), &value);
          if (s.ok()) {
            DedupRecord d;
            if (!rc::DecodeDedup(value, &d)) return Corrupt("dedup record");
            existing = d;
          } else if (!s.IsNotFound()) {
            return ToStatus(s, "read dedup");
          }
        }
        if (existing.has_value() && existing->expires_at > p.now) {
          o = {.duplicate = true, .message_id = existing->message_id};
          continue;
        }
        DedupRecord d{e.dedup_expires_at, e.message.message_id};
        pending[{e.queue, e.dedup_key}] = d;
        b.Put(S(rc::DedupKey(e.queue, e.dedup_key)), S(rc::EncodeDedup(d)));
      }
      AppendLocked(q, std::move(e.message), &b, &o);
    }
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, touched, &ticket));
  }
  return WaitDurable(ticket);
}

absl::StatusOr<QueueStore::LeaseResult> RocksDbBackend::Lease(
    const LeaseParams& p) {
  uint64_t ticket = 0;
  LeaseResult result;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(p.queue);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    Queue* dlq = nullptr;
    if (p.max_receive_count > 0) dlq = FindLocked(p.dead_letter_queue);
    std::vector<Queue*> touched = {q};
    if (dlq != nullptr && dlq != q) touched.push_back(dlq);
    const QueueId id = q->record.id;
    rocksdb::WriteBatch b;
    const size_t max = static_cast<size_t>(std::max(p.max_messages, 0));

    int64_t in_flight = 0;
    if (p.max_in_flight > 0) {
      for (auto it = q->by_deadline.upper_bound(
               {p.now, std::numeric_limits<uint64_t>::max()});
           it != q->by_deadline.end(); ++it) {
        ++in_flight;
      }
    }
    bool any_eligible = false;
    absl::Time next_change = absl::InfiniteFuture();

    // Handles one visible message; returns false to stop leasing.
    auto take = [&](uint64_t seq, StoredMessage& m, bool leased) -> bool {
      if (m.enqueue_time + p.retention <= p.now) {
        RemoveMessageLocked(q, seq, m, leased, &b);
        return true;
      }
      any_eligible = true;
      if (p.max_receive_count > 0 &&
          m.receive_count + 1 > p.max_receive_count && dlq != nullptr) {
        RemoveMessageLocked(q, seq, m, leased, &b);
        m.dead_letter_source_arn = std::string(p.source_key);
        if (p.dead_letter_is_fifo) {
          m.deduplication_id = m.message_id.ToString();
          m.enqueue_time = p.now;
        }
        AppendOutcome ignored;
        AppendLocked(dlq, std::move(m), &b, &ignored);
        ++result.moved_to_dead_letter;
        return true;
      }
      if (p.max_in_flight > 0 && in_flight >= p.max_in_flight) return false;
      ++in_flight;
      LeaseState st;
      auto old = q->leased.find(seq);
      if (old != q->leased.end()) st = old->second;
      st.receive_count = m.receive_count + 1;
      st.first_receive_time = m.first_receive_time == absl::InfinitePast()
                                  ? p.now
                                  : m.first_receive_time;
      st.invisible_until = p.invisible_until;
      st.last_receive = p.now;
      ++st.lease_number;
      if (!leased && !q->record.fifo) {
        b.SingleDelete(S(rc::ReadyKey(id, rc::OrderedTime(m.visible_at), seq)));
      }
      b.Put(S(rc::SeqKey(rc::kStateTag, id, seq)), S(rc::EncodeLeaseState(st)));
      q->SetLease(seq, st);
      ApplyLease(st, &m);
      result.leases.push_back(
          {std::move(m), rc::MakeReceipt(id, seq, st.lease_number)});
      return true;
    };

    if (!q->record.fifo) {
      // 1. Leases that ended: the message is visible again.
      std::vector<uint64_t> expired;
      for (auto it = q->by_deadline.begin();
           it != q->by_deadline.end() && it->first <= p.now; ++it) {
        expired.push_back(it->second);
      }
      bool stop = false;
      for (uint64_t seq : expired) {
        if (result.leases.size() >= max) break;
        StoredMessage m;
        bool found = false;
        FERRY_RDB_RETURN_IF_ERROR(GetMessageLocked(q, seq, &m, &found));
        if (!found) return Corrupt("lease without message");
        ApplyLease(q->leased[seq], &m);
        if (!take(seq, m, true)) {
          stop = true;
          break;
        }
      }
      // 2. Never-received messages whose delay has ended, by visibility time.
      if (!stop && result.leases.size() < max &&
          q->ready_floor.first <= rc::OrderedTime(p.now)) {
        std::string lower =
            rc::ReadyKey(id, q->ready_floor.first, q->ready_floor.second);
        std::string upper = rc::ReadyKey(id, rc::OrderedTime(p.now) + 1, 0);
        rocksdb::Slice lo, hi;
        std::unique_ptr<rocksdb::Iterator> it =
            NewIterator(lower, upper, &lo, &hi);
        // The first entry not consumed yet.
        std::pair<uint64_t, uint64_t> next = q->ready_floor;
        bool exhausted = true;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
          if (result.leases.size() >= max) {
            exhausted = false;
            break;
          }
          QueueId qid;
          uint64_t t, seq;
          if (!rc::ParseReadyKey(
                  std::string_view(it->key().data(), it->key().size()), &qid,
                  &t, &seq)) {
            return Corrupt("ready key");
          }
          next = {t, seq};
          StoredMessage m;
          bool found = false;
          FERRY_RDB_RETURN_IF_ERROR(GetMessageLocked(q, seq, &m, &found));
          if (!found) return Corrupt("ready entry without message");
          if (!take(seq, m, false)) {
            exhausted = false;
            break;
          }
          next = {t, seq + 1};
        }
        FERRY_RDB_RETURN_IF_ERROR(ToStatus(it->status(), "scan ready index"));
        // Every entry below `next` is gone; below now+1 too if exhausted.
        q->ready_floor = exhausted
                             ? std::max(next,
                                        std::pair<uint64_t, uint64_t>{
                                            rc::OrderedTime(p.now) + 1, 0})
                             : next;
      }
      if (!any_eligible && p.max_in_flight > 0 &&
          in_flight >= p.max_in_flight) {
        // Are there visible messages that could not be leased?
        any_eligible = !expired.empty();
      }
    } else {
      // FIFO: per group, the visible messages before its first unavailable
      // one; whole groups in the order of their first message.
      std::vector<std::string> group_order;
      std::map<std::string, std::vector<Loaded>> groups;
      std::set<std::string> blocked;
      std::vector<std::pair<uint64_t, StoredMessage>> expired;
      FERRY_RDB_RETURN_IF_ERROR(
          ScanMessagesLocked(q, false, [&](Loaded& l) -> bool {
            if (l.message.enqueue_time + p.retention <= p.now) {
              expired.emplace_back(l.seq, std::move(l.message));
              return true;
            }
            const std::string& g = l.message.message_group_id;
            if (!groups.count(g) && !blocked.count(g)) {
              group_order.push_back(g);
              groups[g];
            }
            if (blocked.count(g)) return true;
            if (StateOf(l.message.enqueue_time, l.message.visible_at, l.lease,
                        p.now, p.retroactive_delay) == MessageState::kVisible) {
              groups[g].push_back(std::move(l));
            } else {
              blocked.insert(g);
            }
            return true;
          }));
      for (auto& [seq, m] : expired) {
        RemoveMessageLocked(q, seq, m, q->leased.count(seq) > 0, &b);
      }
      for (const std::string& g : group_order) {
        bool stop = false;
        for (Loaded& l : groups[g]) {
          if (result.leases.size() >= max) {
            stop = true;
            break;
          }
          if (!take(l.seq, l.message, l.lease != nullptr)) {
            stop = true;
            break;
          }
        }
        if (stop) break;
      }
      if (!any_eligible) {
        for (const std::string& g : group_order) {
          if (!groups[g].empty()) any_eligible = true;
        }
      }
    }

    if (result.leases.empty() && p.max_in_flight > 0 &&
        in_flight >= p.max_in_flight && any_eligible) {
      FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, touched, &ticket));
      return absl::ResourceExhaustedError("too many messages in flight");
    }
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, touched, &ticket));

    // The next moment something may become visible.
    auto after = q->by_deadline.upper_bound(
        {p.now, std::numeric_limits<uint64_t>::max()});
    if (after != q->by_deadline.end()) next_change = after->first;
    if (!q->record.fifo) {
      absl::StatusOr<absl::Time> t = FirstReadyAfterLocked(q, p.now);
      if (!t.ok()) return t.status();
      next_change = std::min(next_change, *t);
    } else {
      FERRY_RDB_RETURN_IF_ERROR(
          ScanMessagesLocked(q, true, [&](Loaded& l) -> bool {
            if (l.lease == nullptr) {
              absl::Time t = VisibleAt(l.message, p.retroactive_delay);
              if (t > p.now) next_change = std::min(next_change, t);
            }
            return true;
          }));
    }
    result.next_change = next_change;
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return result;
}

ReceiptStatus RocksDbBackend::ResolveLocked(Queue* q, std::string_view receipt,
                                            absl::Time now, bool require_live,
                                            uint64_t* seq) {
  QueueId queue;
  uint64_t lease;
  if (!rc::ParseReceipt(receipt, &queue, seq, &lease) || lease == 0) {
    return ReceiptStatus::kMalformed;
  }
  if (queue != q->record.id) return ReceiptStatus::kWrongQueue;
  if (*seq >= q->next_seq) return ReceiptStatus::kMalformed;
  auto it = q->leased.find(*seq);
  if (it == q->leased.end()) return ReceiptStatus::kGone;
  if (lease > it->second.lease_number) return ReceiptStatus::kMalformed;
  if (require_live &&
      (lease != it->second.lease_number || it->second.invisible_until <= now)) {
    return ReceiptStatus::kExpired;
  }
  return ReceiptStatus::kOk;
}

absl::Status RocksDbBackend::Ack(const AckParams& p) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(p.queue);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    rocksdb::WriteBatch b;
    for (size_t i = 0; i < p.receipts.size(); ++i) {
      uint64_t seq = 0;
      p.statuses[i] =
          ResolveLocked(q, p.receipts[i], p.now, p.require_live_lease, &seq);
      if (p.statuses[i] != ReceiptStatus::kOk) continue;
      b.SingleDelete(S(rc::SeqKey(rc::kMessageTag, q->record.id, seq)));
      b.Delete(S(rc::SeqKey(rc::kStateTag, q->record.id, seq)));
      q->EraseLease(seq);
    }
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {q}, &ticket));
  }
  return WaitDurable(ticket);
}

absl::Status RocksDbBackend::ChangeVisibility(const ChangeVisibilityParams& p) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(p.queue);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    rocksdb::WriteBatch b;
    for (size_t i = 0; i < p.changes.size(); ++i) {
      uint64_t seq = 0;
      ReceiptStatus s = ResolveLocked(q, p.changes[i].receipt, p.now,
                                      p.require_live_lease, &seq);
      if (s == ReceiptStatus::kOk) {
        LeaseState st = q->leased[seq];
        if (p.changes[i].invisible_until - st.last_receive >
            p.max_since_receive) {
          s = ReceiptStatus::kBeyondLimit;
        } else {
          st.invisible_until = p.changes[i].invisible_until;
          b.Put(S(rc::SeqKey(rc::kStateTag, q->record.id, seq)),
                S(rc::EncodeLeaseState(st)));
          q->SetLease(seq, st);
        }
      }
      p.statuses[i] = s;
    }
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {q}, &ticket));
  }
  return WaitDurable(ticket);
}

absl::StatusOr<QueueStore::QueueCounts> RocksDbBackend::Count(
    const CountParams& p) {
  MutexLock lock(&mu_);
  FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
  Queue* q = FindLocked(p.queue);
  if (q == nullptr) return absl::NotFoundError("no such queue");
  QueueCounts c;
  FERRY_RDB_RETURN_IF_ERROR(ScanMessagesLocked(q, true, [&](Loaded& l) {
    if (l.message.enqueue_time + p.retention <= p.now) return true;
    switch (StateOf(l.message.enqueue_time, l.message.visible_at, l.lease,
                    p.now, p.retroactive_delay)) {
      case MessageState::kVisible:
        ++c.visible;
        break;
      case MessageState::kInFlight:
        ++c.in_flight;
        break;
      case MessageState::kDelayed:
        ++c.delayed;
        break;
    }
    return true;
  }));
  return c;
}

absl::Status RocksDbBackend::Purge(QueueId queue) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(queue);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    rocksdb::WriteBatch b;
    DeleteQueueContents(&b, queue);
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {q}, &ticket));
    q->leased.clear();
    q->by_deadline.clear();
    q->head_seq = q->next_seq;
    q->ready_floor = kNoFloor;
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  CompactQueueRanges(queue);
  return absl::OkStatus();
}

void RocksDbBackend::CompactQueueRanges(QueueId queue) {
  std::shared_lock<std::shared_mutex> db_lock(db_mu_);
  if (db_ == nullptr) return;
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForceOptimized;
  // Automatic compactions keep running meanwhile, so writes to other queues
  // are not stalled (by L0 files piling up) for as long as this takes.
  o.exclusive_manual_compaction = false;
  for (char tag : rc::kQueueContentTags) {
    const std::string begin = rc::QueueKey(tag, queue);
    const std::string end = rc::QueueKey(tag, queue + 1);
    const rocksdb::Slice b(begin), e(end);
    // Best effort: a failure (a full disk) leaves the space to RocksDB's own
    // compactions; the purge itself is already durable.
    db_->CompactRange(o, &b, &e).PermitUncheckedError();
  }
}

absl::StatusOr<std::vector<QueueStore::PeekedMessage>> RocksDbBackend::Peek(
    const PeekParams& p) {
  MutexLock lock(&mu_);
  FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
  Queue* q = FindLocked(p.queue);
  if (q == nullptr) return absl::NotFoundError("no such queue");
  std::vector<PeekedMessage> out;
  FERRY_RDB_RETURN_IF_ERROR(ScanMessagesLocked(q, false, [&](Loaded& l) {
    if (out.size() >= p.limit) return false;
    if (l.message.enqueue_time + p.retention <= p.now) return true;
    MessageState state = StateOf(l.message.enqueue_time, l.message.visible_at,
                                 l.lease, p.now, p.retroactive_delay);
    absl::Time until = state == MessageState::kInFlight
                           ? l.lease->invisible_until
                           : VisibleAt(l.message, p.retroactive_delay);
    out.push_back({std::move(l.message), state, until});
    return true;
  }));
  return out;
}

absl::StatusOr<int64_t> RocksDbBackend::Move(const MoveParams& p) {
  uint64_t ticket = 0;
  int64_t moved = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    Queue* q = FindLocked(p.source);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    std::vector<Loaded> candidates;
    std::vector<std::pair<uint64_t, StoredMessage>> expired;
    const size_t max = static_cast<size_t>(std::max(p.max_messages, 0));
    FERRY_RDB_RETURN_IF_ERROR(ScanMessagesLocked(q, false, [&](Loaded& l) {
      if (candidates.size() >= max) return false;
      if (l.message.enqueue_time + p.retention <= p.now) {
        expired.emplace_back(l.seq, std::move(l.message));
        return true;
      }
      if (StateOf(l.message.enqueue_time, l.message.visible_at, l.lease, p.now,
                  std::nullopt) == MessageState::kVisible) {
        candidates.push_back(std::move(l));
      }
      return true;
    }));
    rocksdb::WriteBatch b;
    std::vector<Queue*> touched = {q};
    for (auto& [seq, m] : expired) {
      RemoveMessageLocked(q, seq, m, q->leased.count(seq) > 0, &b);
    }
    for (Loaded& l : candidates) {
      StoredMessage m = l.message;
      QueueId dest_id = 0;
      if (!p.plan(m, &dest_id).ok()) break;
      Queue* dest = FindLocked(dest_id);
      if (dest == nullptr) break;
      // Remove with the stored copy: its visible_at names the ready entry.
      bool leased = q->leased.count(l.seq) > 0;
      RemoveMessageLocked(q, l.seq, l.message, leased, &b);
      if (std::find(touched.begin(), touched.end(), dest) == touched.end()) {
        touched.push_back(dest);
      }
      AppendOutcome ignored;
      AppendLocked(dest, std::move(m), &b, &ignored);
      ++moved;
    }
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, touched, &ticket));
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return moved;
}

// ---- key-value -------------------------------------------------------------

absl::StatusOr<std::optional<KeyValueStore::Entry>> RocksDbBackend::Get(
    std::string_view table, std::string_view key) {
  MutexLock lock(&mu_);
  FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), S(rc::KvKey(table, key)), &value);
  if (s.IsNotFound()) return std::optional<Entry>();
  FERRY_RDB_RETURN_IF_ERROR(ToStatus(s, "kv get"));
  Entry e;
  if (!rc::DecodeKvValue(value, &e.version, &e.value)) {
    return Corrupt("kv entry");
  }
  return std::optional<Entry>(std::move(e));
}

absl::StatusOr<uint64_t> RocksDbBackend::CompareAndSwap(
    std::string_view table, std::string_view key, uint64_t expected_version,
    std::string_view value) {
  uint64_t ticket = 0, version = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    std::string k = rc::KvKey(table, key), current;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), S(k), &current);
    uint64_t current_version = 0;
    if (s.ok()) {
      std::string ignored;
      if (!rc::DecodeKvValue(current, &current_version, &ignored)) {
        return Corrupt("kv entry");
      }
    } else if (!s.IsNotFound()) {
      return ToStatus(s, "kv get");
    }
    if (current_version != expected_version) {
      return absl::AbortedError("version mismatch");
    }
    version = current_version + 1;
    rocksdb::WriteBatch b;
    b.Put(S(k), S(rc::EncodeKvValue(version, value)));
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {}, &ticket));
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return version;
}

absl::StatusOr<bool> RocksDbBackend::Delete(std::string_view table,
                                            std::string_view key,
                                            uint64_t expected_version) {
  uint64_t ticket = 0;
  {
    MutexLock lock(&mu_);
    FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
    std::string k = rc::KvKey(table, key), current;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), S(k), &current);
    if (s.IsNotFound()) return false;
    FERRY_RDB_RETURN_IF_ERROR(ToStatus(s, "kv get"));
    uint64_t current_version = 0;
    std::string ignored;
    if (!rc::DecodeKvValue(current, &current_version, &ignored)) {
      return Corrupt("kv entry");
    }
    if (expected_version != 0 && current_version != expected_version) {
      return absl::AbortedError("version mismatch");
    }
    rocksdb::WriteBatch b;
    b.Delete(S(k));
    FERRY_RDB_RETURN_IF_ERROR(CommitLocked(&b, {}, &ticket));
  }
  FERRY_RDB_RETURN_IF_ERROR(WaitDurable(ticket));
  return true;
}

absl::StatusOr<std::vector<std::pair<std::string, KeyValueStore::Entry>>>
RocksDbBackend::Scan(std::string_view table, std::string_view prefix,
                     std::string_view start_after, size_t limit) {
  MutexLock lock(&mu_);
  FERRY_RDB_RETURN_IF_ERROR(ResumeIfNeededLocked());
  std::vector<std::pair<std::string, Entry>> out;
  const std::string table_prefix = rc::KvKey(table, "");
  std::string lower = rc::KvKey(table, prefix);
  std::string upper = Successor(lower);
  if (upper.empty()) upper = Successor(table_prefix);
  if (!start_after.empty()) {
    std::string after = rc::KvKey(table, start_after);
    after.push_back('\0');  // the smallest key after start_after
    if (after > lower) lower = after;
  }
  rocksdb::Slice lo, hi;
  std::unique_ptr<rocksdb::Iterator> it = NewIterator(lower, upper, &lo, &hi);
  for (it->SeekToFirst(); it->Valid() && out.size() < limit; it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    Entry e;
    if (!rc::DecodeKvValue(
            std::string_view(it->value().data(), it->value().size()),
            &e.version, &e.value)) {
      return Corrupt("kv entry");
    }
    out.emplace_back(std::string(k.substr(table_prefix.size())), std::move(e));
  }
  FERRY_RDB_RETURN_IF_ERROR(ToStatus(it->status(), "kv scan"));
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> OpenRocksDbBackend(
    const RocksDbBackendOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("rocksdb backend: empty path");
  }
  auto backend = std::make_unique<RocksDbBackend>(options);
  FERRY_RDB_RETURN_IF_ERROR(backend->Open());
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace ferry
