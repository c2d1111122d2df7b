// The semantics engine behind both API levels: it resolves queues, applies
// SQS's rules and turns them into store transitions, and runs long polls.
// `Broker`, `Queue` and `Sqs` are thin façades over it.
//
// Thread safety: every method is safe to call concurrently.
// Errors: SQS errors with AWS's texts; store errors pass through.
#ifndef FERRY_CORE_SRC_ENGINE_H_
#define FERRY_CORE_SRC_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/broker.h"
#include "ferry/sqs.h"
#include "ferry/sync.h"
#include "message_rules.h"
#include "queue_config.h"

namespace ferry::internal {

class Engine;

// Push consumers register here so that shutting the broker down stops and
// joins their threads before the engine goes away. Shared with the consumers,
// which may outlive the engine.
class ConsumerRegistry {
 public:
  class Member {
   public:
    virtual ~Member() = default;
    // Stops the member's polling thread and joins it. Idempotent.
    virtual void StopAndJoin() = 0;
  };
  // Returns false when the registry is closed (the broker is shutting down).
  bool Add(Member* member);
  void Remove(Member* member);
  // Closes the registry and stops every member.
  void StopAll();

 private:
  Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Member*> members_ ABSL_GUARDED_BY(mu_);
};

// Runtime state of one queue incarnation. Handles share it; once the queue is
// deleted it stays marked deleted and every call through it fails.
class QueueState {
 public:
  QueueState(Engine* engine, std::string account, std::string region,
             std::string name, QueueRecord record, QueueConfig config);

  Engine* engine() const { return engine_; }
  const std::string& account() const { return account_; }
  const std::string& region() const { return region_; }
  const std::string& name() const { return name_; }
  const std::string& arn() const { return arn_; }
  QueueId id() const { return id_; }
  bool fifo() const { return fifo_; }
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }
  void MarkDeleted() { deleted_.store(true, std::memory_order_release); }

  // The current attributes. Lock-free: superseded configurations are kept
  // until the state dies, since attribute changes are rare.
  const QueueConfig& config() const {
    return *config_.load(std::memory_order_acquire);
  }
  // Serialises attribute updates of this queue.
  Mutex& update_mutex() ABSL_LOCK_RETURNED(update_mu_) { return update_mu_; }
  // The store version of config(); read under update_mutex(), which every
  // update holds while it compares and swaps against it.
  uint64_t config_version() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(update_mu_) {
    return config_version_;
  }
  void PublishConfig(QueueConfig config, uint64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(update_mu_);

  // Long polls. Senders call Notify after every store change that may make
  // a message visible; waiters re-check after each wake-up.
  void Notify();
  // Notify without its fence, for a caller that notifies several queues
  // after one store change: REQUIRES a std::atomic_thread_fence(seq_cst)
  // after the change and before this call.
  void NotifyAfterFence();
  uint64_t notify_sequence() const {
    return notify_seq_.load(std::memory_order_seq_cst);
  }

 private:
  friend class Engine;
  Engine* const engine_;
  const std::string account_;
  const std::string region_;
  const std::string name_;
  const std::string arn_;
  const QueueId id_;
  const bool fifo_;
  std::atomic<bool> deleted_{false};

  Mutex update_mu_;
  std::atomic<const QueueConfig*> config_{nullptr};
  std::vector<std::unique_ptr<const QueueConfig>> configs_
      ABSL_GUARDED_BY(update_mu_);
  uint64_t config_version_ ABSL_GUARDED_BY(update_mu_) = 0;

  Mutex wait_mu_;
  CondVar wait_cv_{&wait_mu_};
  std::atomic<int> waiters_{0};
  std::atomic<uint64_t> notify_seq_{0};

  // ReceiveRequestAttemptId cache of FIFO queues.
  struct Attempt {
    absl::Time expires;
    std::vector<QueueStore::LeasedMessage> leases;
    bool invalidated = false;
  };
  // A delete or visibility change of `receipt` ends the retry window of the
  // receive attempt that returned it (a retried attempt must not return a
  // stale receipt).
  void InvalidateAttemptOf(std::string_view receipt)
      ABSL_LOCKS_EXCLUDED(attempts_mu_);
  Mutex attempts_mu_;
  absl::flat_hash_map<std::string, Attempt> attempts_
      ABSL_GUARDED_BY(attempts_mu_);
  absl::flat_hash_map<std::string, std::string> attempt_of_receipt_
      ABSL_GUARDED_BY(attempts_mu_);
};

// One message accepted by Send.
struct SendOutcome {
  Uuid message_id;
  uint64_t sequence_number = 0;
  bool duplicate = false;
};

struct ReceiveParams {
  int max_messages = 1;
  std::optional<int64_t> visibility_timeout;  // seconds; nullopt: queue's
  std::optional<absl::Duration> wait_time;    // nullopt: queue's
  std::optional<std::string> receive_request_attempt_id;  // FIFO only
  // When set and true, a waiting receive returns kCancelled (push consumers
  // stopping). The setter must call QueueState::Notify afterwards.
  const std::atomic<bool>* cancelled = nullptr;
};

class Engine {
 public:
  Engine(const BrokerOptions& options, std::unique_ptr<Backend> backend);
  ~Engine();

  // Starts shutdown: long polls return kCancelled; then waits for every call
  // in progress to leave.
  void Shutdown();

  Clock& clock() { return clock_; }
  IdSource& ids() { return ids_; }
  Executor& executor() { return executor_; }
  Backend& backend() { return *backend_; }
  const BrokerOptions& options() const { return options_; }
  Sqs& sqs() { return sqs_; }
  const std::shared_ptr<ConsumerRegistry>& consumers() { return consumers_; }

  std::string_view DefaultAccount() const { return options_.default_account; }
  std::string_view DefaultRegion() const { return options_.default_region; }

  // ---- Queues --------------------------------------------------------------
  absl::StatusOr<std::shared_ptr<QueueState>> CreateQueue(
      std::string_view account, std::string_view region, std::string_view name,
      const StringMap& attributes, const StringMap& tags);
  // QueueDoesNotExist if absent.
  absl::StatusOr<std::shared_ptr<QueueState>> FindQueue(
      std::string_view account, std::string_view region, std::string_view name);
  absl::StatusOr<std::shared_ptr<QueueState>> FindQueueByArn(
      std::string_view arn);
  absl::Status DeleteQueue(QueueState& queue);
  absl::StatusOr<std::vector<QueueRecord>> ListQueueRecords(
      std::string_view account, std::string_view region,
      std::string_view prefix, std::string_view start_after, size_t limit);
  // Applies attribute changes (SetQueueAttributes, tags, permissions) with
  // the store's compare-and-swap; `mutate` edits a copy of the config.
  absl::Status UpdateConfig(
      QueueState& queue, absl::FunctionRef<absl::Status(QueueConfig&)> mutate);
  absl::Status SetAttributes(QueueState& queue, const StringMap& attributes);

  // ---- Messages ------------------------------------------------------------
  // Sends validated-or-not messages; per-message validation failures go to
  // `statuses` (same size as `messages`) and the rest are appended together.
  // Returns an error only when nothing could be stored.
  absl::Status Send(QueueState& queue,
                    std::span<const OutgoingMessage> messages,
                    std::string_view sender_id,
                    std::span<absl::Status> statuses,
                    std::span<SendOutcome> outcomes);
  // The one place a message becomes a store entry: validates `message`
  // against the queue's rules (unless already validated) and fills `entry`
  // (id, delay, FIFO group and deduplication). Send and SNS fan-out use it.
  absl::Status PrepareAppend(QueueState& queue, const OutgoingMessage& message,
                             std::string_view sender_id, absl::Time now,
                             QueueStore::AppendEntry* entry);
  absl::StatusOr<std::vector<QueueStore::LeasedMessage>> Receive(
      QueueState& queue, const ReceiveParams& params);
  // Deletes; returns SQS's error for the receipt (see sqs.md §1.6).
  void Delete(QueueState& queue, std::span<const std::string_view> receipts,
              std::span<absl::Status> statuses);
  void ChangeVisibility(QueueState& queue,
                        std::span<const std::string_view> receipts,
                        std::span<const int64_t> timeouts,
                        std::span<absl::Status> statuses);
  absl::Status Purge(QueueState& queue);
  absl::StatusOr<QueueStore::QueueCounts> Counts(QueueState& queue);
  absl::StatusOr<std::vector<QueueStore::PeekedMessage>> Peek(QueueState& queue,
                                                              size_t limit);

  // ---- Move tasks ----------------------------------------------------------
  absl::StatusOr<std::string> StartMoveTask(const RequestContext& ctx,
                                            std::string_view source_arn,
                                            std::string_view destination_arn,
                                            std::optional<int> rate);
  absl::StatusOr<int64_t> CancelMoveTask(std::string_view handle);
  absl::StatusOr<std::vector<ListMessageMoveTasksResultEntry>> ListMoveTasks(
      std::string_view source_arn, int max_results);
  absl::Status RunMaintenance();

  absl::Status Reset();
  void Log(LogSeverity severity, std::string_view message);

  // Guards a public call against shutdown: calls run between Enter and Leave.
  class CallGuard {
   public:
    explicit CallGuard(Engine& engine);
    ~CallGuard();
    bool cancelled() const { return cancelled_; }

   private:
    Engine& engine_;
    bool cancelled_;
  };
  bool shutting_down() const {
    return shutting_down_.load(std::memory_order_acquire);
  }

 private:
  absl::StatusOr<std::shared_ptr<QueueState>> LoadQueue(std::string_view arn);
  std::optional<DeadLetterTarget> LookupDeadLetter(std::string_view arn);
  QueueStore::LeaseParams LeaseParamsFor(QueueState& queue, absl::Time now,
                                         int max, int64_t visibility);
  absl::Status AdvanceMoveTasks(absl::Time now);
  absl::Status PurgeInProgress(std::string_view queue_name) const;

  BrokerOptions options_;
  Clock& clock_;
  IdSource& ids_;
  Executor& executor_;
  std::unique_ptr<Backend> backend_;
  QueueStore& store_;
  Sqs sqs_;

  Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<QueueState>> queues_
      ABSL_GUARDED_BY(mu_);

  std::shared_ptr<ConsumerRegistry> consumers_ =
      std::make_shared<ConsumerRegistry>();
  std::atomic<bool> shutting_down_{false};
  Mutex calls_mu_;
  CondVar calls_cv_{&calls_mu_};
  int active_calls_ ABSL_GUARDED_BY(calls_mu_) = 0;
};

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_ENGINE_H_
