// The memory backend: the catalog of queues, the message operations routed
// to the queues by id without a global lock, and the key-value store.
//
// Queue lifetime: the catalog owns every queue object ever created. Deleting a
// queue unlinks it from the id table and the key map and clears its messages
// (releasing their memory); the emptied object itself is retired until the
// backend is destroyed, so a concurrent operation that looked it up just
// before the delete still touches valid memory and finds it empty.

#include "ferry/memory_backend.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ferry/backend.h"
#include "ferry/sync.h"
#include "fifo_queue.h"
#include "kv_store.h"
#include "queue_base.h"
#include "standard_queue.h"
#include "stream_store.h"

namespace ferry {
namespace memory_internal {
namespace {

absl::Status QueueNotFound(QueueId id) {
  return absl::NotFoundError(absl::StrCat("queue ", id, " does not exist"));
}

class MemoryQueueStore final : public QueueStore {
 public:
  explicit MemoryQueueStore(size_t max_bytes) : ctx_(max_bytes) {}

  absl::StatusOr<QueueRecord> CreateQueue(const CreateQueueParams& p) override {
    MutexLock lock(&mu_);
    if (by_key_.contains(AsAbsl(p.key))) {
      return absl::AlreadyExistsError(
          absl::StrCat("queue ", AsAbsl(p.key), " already exists"));
    }
    const QueueId id = ctx_.next_id.load(std::memory_order_relaxed);
    if (id > QueueTable::kMaxId) {
      return absl::ResourceExhaustedError(
          absl::StrCat("more than ", QueueTable::kMaxId, " queues created"));
    }
    std::unique_ptr<QueueBase> q;
    if (p.fifo) {
      q = std::make_unique<FifoQueue>(&ctx_, id);
    } else {
      q = std::make_unique<StandardQueue>(&ctx_, id);
    }
    q->key.assign(p.key.data(), p.key.size());
    q->config.assign(p.config.data(), p.config.size());
    QueueBase* raw = q.get();
    all_.push_back(std::move(q));
    by_key_.emplace(raw->key, raw);
    ctx_.table.Set(id, raw);
    ctx_.next_id.store(id + 1, std::memory_order_release);
    return RecordOf(*raw);
  }

  absl::StatusOr<QueueRecord> GetQueue(std::string_view key) override {
    MutexLock lock(&mu_);
    auto it = by_key_.find(AsAbsl(key));
    if (it == by_key_.end()) {
      return absl::NotFoundError(
          absl::StrCat("queue ", AsAbsl(key), " does not exist"));
    }
    return RecordOf(*it->second);
  }

  absl::StatusOr<uint64_t> UpdateQueueConfig(
      const UpdateQueueParams& p) override {
    MutexLock lock(&mu_);
    QueueBase* q = ctx_.table.Get(p.queue);
    if (q == nullptr) return QueueNotFound(p.queue);
    if (q->config_version != p.expected_version) {
      return absl::AbortedError(
          absl::StrCat("config version of queue ", p.queue, " is ",
                       q->config_version, ", expected ", p.expected_version));
    }
    q->config.assign(p.config.data(), p.config.size());
    return ++q->config_version;
  }

  absl::Status DeleteQueue(QueueId queue) override {
    QueueBase* q;
    {
      MutexLock lock(&mu_);
      q = ctx_.table.Get(queue);
      if (q == nullptr) return QueueNotFound(queue);
      by_key_.erase(AsAbsl(q->key));
      ctx_.table.Set(queue, nullptr);
    }
    q->Clear();
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<QueueRecord>> ListQueues(
      const ListQueuesParams& p) override {
    std::vector<QueueRecord> out;
    MutexLock lock(&mu_);
    const std::string_view from = std::max(p.key_prefix, p.start_after);
    for (auto it = by_key_.lower_bound(AsAbsl(from));
         it != by_key_.end() && out.size() < p.limit; ++it) {
      if (!absl::StartsWith(it->first, AsAbsl(p.key_prefix))) break;
      if (!p.start_after.empty() && it->first == p.start_after) continue;
      out.push_back(RecordOf(*it->second));
    }
    return out;
  }

  absl::Status Append(const AppendParams& p) override {
    const size_t n = p.entries.size();
    if (n == 0) return absl::OkStatus();
    // Resolve every queue first: nothing is stored unless all exist.
    QueueBase* stack[16];
    std::unique_ptr<QueueBase*[]> heap;
    QueueBase** queues = stack;
    if (n > 16) {
      heap = std::make_unique<QueueBase*[]>(n);
      queues = heap.get();
    }
    for (size_t i = 0; i < n; ++i) {
      const QueueId id = p.entries[i].queue;
      queues[i] = i > 0 && id == p.entries[i - 1].queue ? queues[i - 1]
                                                        : ctx_.table.Get(id);
      if (queues[i] == nullptr) return QueueNotFound(id);
    }
    if (ctx_.accounting()) {
      int64_t total = 0;
      for (const AppendEntry& e : p.entries) {
        total += static_cast<int64_t>(EstimateBytes(e.message));
      }
      if (!ctx_.TryCharge(total)) {
        return absl::ResourceExhaustedError(
            absl::StrCat("memory cap of ", ctx_.max_bytes, " bytes reached"));
      }
    }
    for (size_t begin = 0; begin < n;) {
      size_t end = begin + 1;
      while (end < n && queues[end] == queues[begin]) ++end;
      queues[begin]->Append(p.entries.subspan(begin, end - begin),
                            p.outcomes.subspan(begin, end - begin), p.now);
      begin = end;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<LeaseResult> Lease(const LeaseParams& p) override {
    QueueBase* q = ctx_.table.Get(p.queue);
    if (q == nullptr) return QueueNotFound(p.queue);
    QueueBase* dead_letter =
        p.max_receive_count > 0 ? ctx_.table.Get(p.dead_letter_queue) : nullptr;
    LeaseResult result;
    absl::Status s = q->Lease(p, dead_letter, &result);
    if (!s.ok()) return s;
    return result;
  }

  absl::Status Ack(const AckParams& p) override {
    QueueBase* q = ctx_.table.Get(p.queue);
    if (q == nullptr) return QueueNotFound(p.queue);
    q->Ack(p);
    return absl::OkStatus();
  }

  absl::Status ChangeVisibility(const ChangeVisibilityParams& p) override {
    QueueBase* q = ctx_.table.Get(p.queue);
    if (q == nullptr) return QueueNotFound(p.queue);
    q->ChangeVisibility(p);
    return absl::OkStatus();
  }

  absl::StatusOr<QueueCounts> Count(const CountParams& p) override {
    QueueBase* q = ctx_.table.Get(p.queue);
    if (q == nullptr) return QueueNotFound(p.queue);
    return q->Count(p);
  }

  absl::Status Purge(QueueId queue) override {
    QueueBase* q = ctx_.table.Get(queue);
    if (q == nullptr) return QueueNotFound(queue);
    q->Purge();
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<PeekedMessage>> Peek(
      const PeekParams& p) override {
    QueueBase* q = ctx_.table.Get(p.queue);
    if (q == nullptr) return QueueNotFound(p.queue);
    return q->Peek(p);
  }

  absl::StatusOr<int64_t> Move(const MoveParams& p) override {
    QueueBase* source = ctx_.table.Get(p.source);
    if (source == nullptr) return QueueNotFound(p.source);
    std::vector<MoveCandidate> taken;
    source->TakeForMove(p.now, p.max_messages, p.retention, &taken);
    int64_t moved = 0;
    absl::Status error;
    size_t i = 0;
    for (; i < taken.size(); ++i) {
      // The plan runs without any lock of this store held.
      QueueId destination_id = 0;
      error = p.plan(taken[i].message, &destination_id);
      QueueBase* destination = nullptr;
      if (error.ok()) {
        destination = ctx_.table.Get(destination_id);
        if (destination == nullptr) error = QueueNotFound(destination_id);
      }
      if (!error.ok()) break;
      if (source->FinishMove(taken[i], /*success=*/true)) {
        destination->AppendMoved(std::move(taken[i].message), p.now);
        ++moved;
      }
    }
    for (; i < taken.size(); ++i)
      source->FinishMove(taken[i], /*success=*/false);
    if (!error.ok() && moved == 0) return error;
    return moved;
  }

  // The byte accounting shared with the stream store.
  Context* context() { return &ctx_; }

  // Removes every queue (ids keep counting: they are never reused).
  void Reset() {
    std::vector<QueueBase*> live;
    {
      MutexLock lock(&mu_);
      for (auto& [key, q] : by_key_) {
        ctx_.table.Set(q->id(), nullptr);
        live.push_back(q);
      }
      by_key_.clear();
    }
    for (QueueBase* q : live) q->Clear();
  }

 private:
  static QueueRecord RecordOf(const QueueBase& q) {
    return QueueRecord{.id = q.id(),
                       .key = q.key,
                       .fifo = q.fifo(),
                       .config = q.config,
                       .config_version = q.config_version};
  }

  Context ctx_;
  Mutex mu_;
  absl::btree_map<std::string, QueueBase*> by_key_ ABSL_GUARDED_BY(mu_);
  // Every queue ever created, live or retired.
  std::vector<std::unique_ptr<QueueBase>> all_ ABSL_GUARDED_BY(mu_);
};

class MemoryBackend final : public Backend {
 public:
  explicit MemoryBackend(const MemoryBackendOptions& options)
      : queues_(options.max_bytes) {}

  std::string_view Name() const override { return "memory"; }
  QueueStore& queues() override { return queues_; }
  KeyValueStore& kv() override { return kv_; }
  StreamStore& streams() override { return streams_; }
  absl::Status Reset() override {
    queues_.Reset();
    streams_.Reset();
    kv_.Clear();
    return absl::OkStatus();
  }

 private:
  MemoryQueueStore queues_;
  MemoryKeyValueStore kv_;
  MemoryStreamStore streams_{queues_.context()};
};

}  // namespace
}  // namespace memory_internal

std::unique_ptr<Backend> NewMemoryBackend(const MemoryBackendOptions& options) {
  return std::make_unique<memory_internal::MemoryBackend>(options);
}

}  // namespace ferry

// ThreadSanitizer does not model std::atomic_thread_fence (GCC says so with
// -Wtsan), and moodycamel::ConcurrentQueue synchronises through fences, so
// TSan reports races inside the queue's own code. This backend passes only
// 8-byte handles through the queue and reads every message under its shard's
// mutex after taking the handle, so none of its data depends on those fences.
// The suppression matches moodycamel's frames only. It lives in this file
// because a program that uses the memory backend always links it, and it is
// weak, so a program's own __tsan_default_suppressions takes precedence.
#if defined(__SANITIZE_THREAD__)
#define FERRY_MEMORY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FERRY_MEMORY_TSAN 1
#endif
#endif
#ifdef FERRY_MEMORY_TSAN
extern "C" __attribute__((weak, visibility("default"), used)) const char*
__tsan_default_suppressions() {
  return "race:moodycamel::ConcurrentQueue\n";
}
#endif
