#include "engine.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "digest.h"
#include "sqs_errors.h"
#include "sqs_names.h"
#include "status_macros.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

constexpr std::string_view kDeletedQueuesTable = "sqs.deleted-queues";
constexpr std::string_view kPurgesTable = "sqs.purges";
constexpr absl::Duration kMaxTotalVisibility =
    absl::Seconds(kMaxVisibilityTimeout);
constexpr absl::Duration kReceiveAttemptWindow = absl::Minutes(5);

}  // namespace

// ---- ConsumerRegistry
// ---------------------------------------------------------

bool ConsumerRegistry::Add(Member* member) {
  MutexLock lock(&mu_);
  if (closed_) return false;
  members_.push_back(member);
  return true;
}

void ConsumerRegistry::Remove(Member* member) {
  MutexLock lock(&mu_);
  members_.erase(std::remove(members_.begin(), members_.end(), member),
                 members_.end());
}

void ConsumerRegistry::StopAll() {
  // Members stop under the lock, so none can be destroyed meanwhile.
  MutexLock lock(&mu_);
  closed_ = true;
  for (Member* m : members_) m->StopAndJoin();
  members_.clear();
}

// ---- QueueState
// --------------------------------------------------------------

QueueState::QueueState(Engine* engine, std::string account, std::string region,
                       std::string name, QueueRecord record, QueueConfig config)
    : engine_(engine),
      account_(std::move(account)),
      region_(std::move(region)),
      name_(std::move(name)),
      arn_(record.key),
      id_(record.id),
      fifo_(record.fifo) {
  MutexLock lock(&update_mu_);
  PublishConfig(std::move(config), record.config_version);
}

void QueueState::InvalidateAttemptOf(std::string_view receipt) {
  MutexLock lock(&attempts_mu_);
  auto it = attempt_of_receipt_.find(AsAbsl(receipt));
  if (it == attempt_of_receipt_.end()) return;
  auto attempt = attempts_.find(it->second);
  if (attempt != attempts_.end()) attempt->second.invalidated = true;
  attempt_of_receipt_.erase(it);
}

void QueueState::PublishConfig(QueueConfig config, uint64_t version) {
  configs_.push_back(std::make_unique<const QueueConfig>(std::move(config)));
  config_.store(configs_.back().get(), std::memory_order_release);
  config_version_ = version;
}

// Publishes only when a long poll is waiting, so that a send does not write
// a cache line every receive reads. A Dekker handshake with Engine::Receive,
// a seq_cst fence on each side: the waiter increments `waiters_`, fences,
// then asks the store; the notifier changed the store, fences, then reads
// `waiters_`. Either the notifier sees the waiter (and bumps the sequence
// and signals under `wait_mu_`, which the waiter re-checks under the same
// mutex before it sleeps), or the waiter's lease sees the change.
void QueueState::Notify() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  NotifyAfterFence();
}

void QueueState::NotifyAfterFence() {
  if (waiters_.load(std::memory_order_relaxed) > 0) {
    notify_seq_.fetch_add(1, std::memory_order_seq_cst);
    MutexLock lock(&wait_mu_);
    wait_cv_.SignalAll();
  }
}

// ---- Engine
// ------------------------------------------------------------------

Engine::Engine(const BrokerOptions& options, std::unique_ptr<Backend> backend)
    : options_(options),
      clock_(options.clock != nullptr ? *options.clock : Clock::Real()),
      ids_(options.ids != nullptr ? *options.ids : IdSource::Random()),
      executor_(options.executor != nullptr ? *options.executor
                                            : InlineExecutor()),
      backend_(std::move(backend)),
      store_(backend_->queues()),
      sqs_(this) {}

Engine::~Engine() { Shutdown(); }

Engine::CallGuard::CallGuard(Engine& engine) : engine_(engine) {
  MutexLock lock(&engine_.calls_mu_);
  cancelled_ = engine_.shutting_down();
  ++engine_.active_calls_;
}

Engine::CallGuard::~CallGuard() {
  MutexLock lock(&engine_.calls_mu_);
  if (--engine_.active_calls_ == 0) engine_.calls_cv_.SignalAll();
}

void Engine::Shutdown() {
  {
    MutexLock lock(&calls_mu_);
    if (shutting_down_.exchange(true)) return;
  }
  consumers_->StopAll();
  std::vector<std::shared_ptr<QueueState>> queues;
  {
    MutexLock lock(&mu_);
    for (auto& [arn, q] : queues_) queues.push_back(q);
  }
  MutexLock lock(&calls_mu_);
  while (active_calls_ > 0) {
    // Wake every long poll until all have left; each re-checks shutdown.
    calls_mu_.Unlock();
    for (auto& q : queues) q->Notify();
    calls_mu_.Lock();
    if (active_calls_ > 0) {
      clock_.WaitUntil(calls_cv_, clock_.Now() + absl::Milliseconds(10));
    }
  }
}

void Engine::Log(LogSeverity severity, std::string_view message) {
  if (options_.log) options_.log(severity, message);
}

absl::StatusOr<std::shared_ptr<QueueState>> Engine::LoadQueue(
    std::string_view arn) {
  {
    MutexLock lock(&mu_);
    auto it = queues_.find(AsAbsl(arn));
    if (it != queues_.end() && !it->second->deleted()) return it->second;
  }
  absl::StatusOr<QueueRecord> record = store_.GetQueue(arn);
  if (!record.ok()) {
    if (absl::IsNotFound(record.status())) return QueueDoesNotExist();
    return record.status();
  }
  FERRY_ASSIGN_OR_RETURN(QueueConfig config, DecodeQueueConfig(record->config));
  QueueName name;
  if (!ParseQueueArn(arn, &name)) {
    return absl::DataLossError(absl::StrCat("bad queue key ", AsAbsl(arn)));
  }
  auto state =
      std::make_shared<QueueState>(this, name.account, name.region, name.name,
                                   *std::move(record), std::move(config));
  MutexLock lock(&mu_);
  auto [it, inserted] = queues_.try_emplace(std::string(arn), state);
  if (!inserted) {
    if (it->second->deleted() || it->second->id() != state->id()) {
      it->second = state;
    }
  }
  return it->second;
}

absl::StatusOr<std::shared_ptr<QueueState>> Engine::FindQueue(
    std::string_view account, std::string_view region, std::string_view name) {
  return LoadQueue(QueueArn(region, account, name));
}

absl::StatusOr<std::shared_ptr<QueueState>> Engine::FindQueueByArn(
    std::string_view arn) {
  QueueName name;
  if (!ParseQueueArn(arn, &name)) return QueueDoesNotExist();
  return LoadQueue(arn);
}

std::optional<DeadLetterTarget> Engine::LookupDeadLetter(std::string_view arn) {
  absl::StatusOr<std::shared_ptr<QueueState>> q = FindQueueByArn(arn);
  if (!q.ok()) return std::nullopt;
  const QueueConfig& c = (*q)->config();
  return DeadLetterTarget{.fifo = (*q)->fifo(),
                          .redrive_permission = c.redrive_permission,
                          .source_arns = c.redrive_source_arns};
}

absl::StatusOr<std::shared_ptr<QueueState>> Engine::CreateQueue(
    std::string_view account, std::string_view region, std::string_view name,
    const StringMap& attributes, const StringMap& tags) {
  bool fifo = false;
  if (auto it = attributes.find("FifoQueue"); it != attributes.end()) {
    if (!ParseBool(it->second, &fifo))
      return InvalidAttributeValue("FifoQueue");
    if (!fifo) return UnknownAttribute("FifoQueue");
  }
  if (!IsValidQueueName(name, fifo)) {
    if (fifo) {
      return InvalidParameter(
          "The name of a FIFO queue can only include alphanumeric characters, "
          "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 "
          "in length.");
    }
    return InvalidParameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 "
        "to 80 in length");
  }
  std::string arn = QueueArn(region, account, name);
  absl::Time now = clock_.Now();

  // An existing queue: idempotent iff every supplied attribute matches.
  absl::StatusOr<std::shared_ptr<QueueState>> existing = LoadQueue(arn);
  if (existing.ok()) {
    const QueueConfig& current = (*existing)->config();
    QueueConfig wanted = current;
    if (attributes.count("FifoQueue") == 0 && current.fifo) {
      // A standard create of a FIFO name is rejected by the name rule above.
    }
    FERRY_RETURN_IF_ERROR(ApplyAttributes(
        attributes, /*creating=*/true, arn,
        [this](std::string_view a) { return LookupDeadLetter(a); }, &wanted));
    for (const auto& [key, value] : attributes) {
      if (key == "FifoQueue") continue;
      if (RenderAttribute(wanted, key) != RenderAttribute(current, key)) {
        return SqsError("QueueNameExists",
                        absl::StrCat("A queue already exists with the same "
                                     "name and a different value for "
                                     "attribute ",
                                     key));
      }
    }
    return *existing;
  } else if (!absl::IsNotFound(existing.status()) &&
             GetAwsError(existing.status()).value_or(AwsErrorInfo{}).shape !=
                 "QueueDoesNotExist") {
    return existing.status();
  }

  if (options_.strict.enabled) {
    FERRY_ASSIGN_OR_RETURN(auto tombstone,
                           backend_->kv().Get(kDeletedQueuesTable, arn));
    if (tombstone.has_value()) {
      int64_t deleted_ns = 0;
      ParseInt64(tombstone->value, &deleted_ns);
      if (now < absl::FromUnixNanos(deleted_ns) +
                    options_.strict.queue_recreate_wait) {
        return SqsError(
            "QueueDeletedRecently",
            absl::StrCat(
                "You must wait ",
                absl::ToInt64Seconds(options_.strict.queue_recreate_wait),
                " seconds after deleting a queue before you can "
                "create another with the same name."));
      }
    }
  }

  QueueConfig config;
  config.fifo = fifo;
  config.created = now;
  config.last_modified = now;
  FERRY_RETURN_IF_ERROR(ApplyAttributes(
      attributes, /*creating=*/true, arn,
      [this](std::string_view a) { return LookupDeadLetter(a); }, &config));
  for (const auto& [k, v] : tags) config.tags[k] = v;
  std::string encoded = EncodeQueueConfig(config);
  absl::StatusOr<QueueRecord> record =
      store_.CreateQueue({.key = arn, .fifo = fifo, .config = encoded});
  if (absl::IsAlreadyExists(record.status())) {
    // Lost a race with another creator: apply the idempotency rule to it.
    return CreateQueue(account, region, name, attributes, tags);
  }
  if (!record.ok()) return record.status();
  auto state = std::make_shared<QueueState>(
      this, std::string(account), std::string(region), std::string(name),
      *std::move(record), std::move(config));
  {
    MutexLock lock(&mu_);
    queues_[arn] = state;
  }
  Log(LogSeverity::kInfo, absl::StrCat("created queue ", arn));
  return state;
}

absl::Status Engine::DeleteQueue(QueueState& queue) {
  if (queue.deleted()) return QueueDoesNotExist();
  absl::Status s = store_.DeleteQueue(queue.id());
  if (absl::IsNotFound(s)) return QueueDoesNotExist();
  FERRY_RETURN_IF_ERROR(s);
  queue.MarkDeleted();
  queue.Notify();
  Log(LogSeverity::kInfo, absl::StrCat("deleted queue ", queue.arn()));
  {
    MutexLock lock(&mu_);
    auto it = queues_.find(queue.arn());
    if (it != queues_.end() && it->second.get() == &queue) queues_.erase(it);
  }
  if (options_.strict.enabled) {
    std::string key = queue.arn();
    std::string value = std::to_string(absl::ToUnixNanos(clock_.Now()));
    for (int attempt = 0; attempt < 8; ++attempt) {
      FERRY_ASSIGN_OR_RETURN(auto old,
                             backend_->kv().Get(kDeletedQueuesTable, key));
      absl::StatusOr<uint64_t> v = backend_->kv().CompareAndSwap(
          kDeletedQueuesTable, key, old ? old->version : 0, value);
      if (v.ok() || !absl::IsAborted(v.status())) break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<QueueRecord>> Engine::ListQueueRecords(
    std::string_view account, std::string_view region, std::string_view prefix,
    std::string_view start_after, size_t limit) {
  std::string key_prefix =
      absl::StrCat(QueueArnPrefix(region, account), AsAbsl(prefix));
  std::string after;
  if (!start_after.empty()) after = QueueArn(region, account, start_after);
  return store_.ListQueues(
      {.key_prefix = key_prefix, .start_after = after, .limit = limit});
}

absl::Status Engine::UpdateConfig(
    QueueState& queue, absl::FunctionRef<absl::Status(QueueConfig&)> mutate) {
  MutexLock lock(&queue.update_mutex());
  for (int attempt = 0; attempt < 16; ++attempt) {
    if (queue.deleted()) return QueueDoesNotExist();
    QueueConfig next = queue.config();
    FERRY_RETURN_IF_ERROR(mutate(next));
    next.last_modified = clock_.Now();
    std::string encoded = EncodeQueueConfig(next);
    absl::StatusOr<uint64_t> version =
        store_.UpdateQueueConfig({.queue = queue.id(),
                                  .expected_version = queue.config_version(),
                                  .config = encoded});
    if (version.ok()) {
      queue.PublishConfig(std::move(next), *version);
      queue.Notify();
      return absl::OkStatus();
    }
    if (absl::IsNotFound(version.status())) {
      queue.MarkDeleted();
      return QueueDoesNotExist();
    }
    if (!absl::IsAborted(version.status())) return version.status();
    // Another broker changed it: reload and retry.
    FERRY_ASSIGN_OR_RETURN(QueueRecord record, store_.GetQueue(queue.arn()));
    FERRY_ASSIGN_OR_RETURN(QueueConfig fresh, DecodeQueueConfig(record.config));
    queue.PublishConfig(std::move(fresh), record.config_version);
  }
  return absl::AbortedError("queue attributes changed concurrently; retry");
}

absl::Status Engine::SetAttributes(QueueState& queue,
                                   const StringMap& attributes) {
  return UpdateConfig(queue, [&](QueueConfig& config) {
    return ApplyAttributes(
        attributes, /*creating=*/false, queue.arn(),
        [this](std::string_view a) { return LookupDeadLetter(a); }, &config);
  });
}

// ---- Messages
// ----------------------------------------------------------------

absl::Status Engine::PrepareAppend(QueueState& queue, const OutgoingMessage& m,
                                   std::string_view sender_id, absl::Time now,
                                   QueueStore::AppendEntry* entry) {
  const QueueConfig& config = queue.config();
  if (!m.validated) FERRY_RETURN_IF_ERROR(ValidateOutgoing(config, m));
  QueueStore::AppendEntry& e = *entry;
  StoredMessage& s = e.message;
  s.message_id = ids_.NewId();
  if (m.shared_body != nullptr) {
    s.body = *m.shared_body;
  } else {
    s.body = m.body;
  }
  if (m.shared_attributes != nullptr) {
    s.attributes = *m.shared_attributes;
  } else if (m.attributes != nullptr && !m.attributes->empty()) {
    s.attributes = *m.attributes;
  }
  if (m.message_group_id.has_value()) {
    s.message_group_id.assign(m.message_group_id->data(),
                              m.message_group_id->size());
  }
  s.trace_header.assign(m.trace_header.data(), m.trace_header.size());
  s.sender_id.assign(sender_id.data(), sender_id.size());
  s.sent_time = now;
  s.enqueue_time = now;
  int64_t delay = m.delay_seconds.value_or(config.delay_seconds);
  if (config.fifo) delay = config.delay_seconds;
  s.visible_at = now + absl::Seconds(delay);
  if (config.fifo) {
    s.deduplication_id = DeduplicationId(config, m);
    e.dedup_key =
        DeduplicationKey(config, s.message_group_id, s.deduplication_id);
    e.dedup_expires_at = now + kDeduplicationWindow;
  }
  e.queue = queue.id();
  return absl::OkStatus();
}

absl::Status Engine::Send(QueueState& queue,
                          std::span<const OutgoingMessage> messages,
                          std::string_view sender_id,
                          std::span<absl::Status> statuses,
                          std::span<SendOutcome> outcomes) {
  if (queue.deleted()) return QueueDoesNotExist();
  const absl::Time now = clock_.Now();
  // Only as many entries as there are messages: an AppendEntry holds a
  // whole StoredMessage, so building ten for one send costs more than the
  // send itself.
  absl::InlinedVector<QueueStore::AppendEntry, 10> entries;
  entries.reserve(messages.size());
  absl::InlinedVector<size_t, 10> index;
  index.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    QueueStore::AppendEntry& e = entries.emplace_back();
    statuses[i] = PrepareAppend(queue, messages[i], sender_id, now, &e);
    if (!statuses[i].ok()) {
      entries.pop_back();
      continue;
    }
    index.push_back(i);
  }
  const size_t n = entries.size();
  if (n == 0) return absl::OkStatus();
  absl::InlinedVector<QueueStore::AppendOutcome, 10> store_outcomes(n);
  absl::Status s = store_.Append({.entries = {entries.data(), n},
                                  .outcomes = {store_outcomes.data(), n},
                                  .now = now});
  if (!s.ok()) {
    if (absl::IsNotFound(s)) {
      queue.MarkDeleted();
      return QueueDoesNotExist();
    }
    return s;
  }
  for (size_t k = 0; k < n; ++k) {
    SendOutcome& o = outcomes[index[k]];
    o.message_id = store_outcomes[k].message_id;
    o.sequence_number = store_outcomes[k].sequence_number;
    o.duplicate = store_outcomes[k].duplicate;
  }
  queue.Notify();
  return absl::OkStatus();
}

QueueStore::LeaseParams Engine::LeaseParamsFor(QueueState& queue,
                                               absl::Time now, int max,
                                               int64_t visibility) {
  const QueueConfig& config = queue.config();
  QueueStore::LeaseParams p;
  p.queue = queue.id();
  p.now = now;
  p.max_messages = max;
  p.invisible_until = now + absl::Seconds(visibility);
  p.retention = absl::Seconds(config.message_retention_period);
  if (queue.fifo()) p.retroactive_delay = absl::Seconds(config.delay_seconds);
  if (config.max_receive_count > 0 && !config.dead_letter_target_arn.empty()) {
    absl::StatusOr<std::shared_ptr<QueueState>> dlq =
        FindQueueByArn(config.dead_letter_target_arn);
    if (dlq.ok()) {
      p.max_receive_count = config.max_receive_count;
      p.dead_letter_queue = (*dlq)->id();
      p.dead_letter_is_fifo = (*dlq)->fifo();
      p.source_key = queue.arn();
    }
  }
  if (options_.strict.enabled) {
    p.max_in_flight = queue.fifo() ? options_.strict.max_in_flight_fifo
                                   : options_.strict.max_in_flight_standard;
  }
  return p;
}

absl::StatusOr<std::vector<QueueStore::LeasedMessage>> Engine::Receive(
    QueueState& queue, const ReceiveParams& params) {
  if (queue.deleted()) return QueueDoesNotExist();
  const QueueConfig& config = queue.config();
  const int64_t visibility =
      params.visibility_timeout.value_or(config.visibility_timeout);
  const absl::Duration wait = params.wait_time.value_or(
      absl::Seconds(config.receive_message_wait_time_seconds));

  // FIFO retries with the same ReceiveRequestAttemptId get the same answer.
  const bool use_attempt =
      queue.fifo() && params.receive_request_attempt_id.has_value();
  if (use_attempt) {
    MutexLock lock(&queue.attempts_mu_);
    auto it = queue.attempts_.find(*params.receive_request_attempt_id);
    absl::Time now = clock_.Now();
    if (it != queue.attempts_.end() && it->second.expires > now) {
      if (it->second.invalidated) {
        return InvalidParameterValue(
            *params.receive_request_attempt_id, "ReceiveRequestAttemptId",
            "The receiveRequestAttemptId is not valid anymore since the "
            "receive call is not retryable.");
      }
      // Reset the visibility of the same leases.
      std::vector<QueueStore::VisibilityChange> changes;
      for (const auto& l : it->second.leases) {
        changes.push_back({l.receipt, now + absl::Seconds(visibility)});
      }
      std::vector<ReceiptStatus> st(changes.size());
      FERRY_RETURN_IF_ERROR(store_.ChangeVisibility({.queue = queue.id(),
                                                     .changes = changes,
                                                     .statuses = st,
                                                     .now = now}));
      return it->second.leases;
    }
  }

  absl::Time deadline = absl::InfinitePast();
  std::optional<CallGuard> guard;
  for (;;) {
    if (wait > absl::ZeroDuration()) {
      queue.waiters_.fetch_add(1, std::memory_order_seq_cst);
      // Pairs with the fence in QueueState::Notify.
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    const uint64_t seq = queue.notify_sequence();
    const absl::Time now = clock_.Now();
    if (deadline == absl::InfinitePast()) deadline = now + wait;
    absl::StatusOr<QueueStore::LeaseResult> result = store_.Lease(
        LeaseParamsFor(queue, now, params.max_messages, visibility));
    if (!result.ok() || !result->leases.empty() || now >= deadline ||
        wait <= absl::ZeroDuration()) {
      if (wait > absl::ZeroDuration()) queue.waiters_.fetch_sub(1);
      if (!result.ok()) {
        if (absl::IsNotFound(result.status())) {
          queue.MarkDeleted();
          return QueueDoesNotExist();
        }
        // AWS reports the in-flight quota only to short polls of standard
        // queues; FIFO queues and long polls just get nothing.
        if (absl::IsResourceExhausted(result.status()) && !queue.fifo() &&
            wait <= absl::ZeroDuration()) {
          return SqsError("OverLimit",
                          "Too many messages in flight for this queue.");
        }
        if (!absl::IsResourceExhausted(result.status())) return result.status();
        return std::vector<QueueStore::LeasedMessage>{};
      }
      if (result->moved_to_dead_letter > 0) {
        Log(LogSeverity::kInfo,
            absl::StrCat("moved ", result->moved_to_dead_letter,
                         " message(s) from ", queue.arn(),
                         " to its dead-letter queue ",
                         config.dead_letter_target_arn));
        // The dead-letter queue gained messages: wake its long polls.
        if (auto dlq = FindQueueByArn(config.dead_letter_target_arn);
            dlq.ok()) {
          (*dlq)->Notify();
        }
      }
      if (use_attempt && !result->leases.empty()) {
        MutexLock lock(&queue.attempts_mu_);
        for (auto it = queue.attempts_.begin(); it != queue.attempts_.end();) {
          if (it->second.expires <= now) {
            queue.attempts_.erase(it++);
          } else {
            ++it;
          }
        }
        auto& attempt = queue.attempts_[*params.receive_request_attempt_id];
        attempt = {.expires = now + kReceiveAttemptWindow,
                   .leases = result->leases,
                   .invalidated = false};
        for (const auto& l : result->leases) {
          queue.attempt_of_receipt_[l.receipt] =
              *params.receive_request_attempt_id;
        }
      }
      return std::move(result->leases);
    }
    // Nothing yet: wait for a notification, the next visibility change, or
    // the end of the poll.
    if (!guard.has_value()) guard.emplace(*this);
    auto cancelled = [&] {
      return params.cancelled != nullptr &&
             params.cancelled->load(std::memory_order_acquire);
    };
    if (guard->cancelled() || shutting_down() || cancelled()) {
      queue.waiters_.fetch_sub(1);
      return absl::CancelledError(cancelled() ? "the receive was cancelled"
                                              : "the broker is shutting down");
    }
    {
      MutexLock lock(&queue.wait_mu_);
      if (queue.notify_sequence() == seq && !shutting_down() &&
          !queue.deleted() && !cancelled()) {
        clock_.WaitUntil(queue.wait_cv_,
                         std::min(deadline, result->next_change));
      }
    }
    queue.waiters_.fetch_sub(1, std::memory_order_seq_cst);
    if (shutting_down())
      return absl::CancelledError("the broker is shutting down");
    if (cancelled()) return absl::CancelledError("the receive was cancelled");
    if (queue.deleted()) return QueueDoesNotExist();
  }
}

namespace {

absl::Status ReceiptError(ReceiptStatus status, std::string_view receipt,
                          bool for_visibility) {
  switch (status) {
    case ReceiptStatus::kOk:
      return absl::OkStatus();
    case ReceiptStatus::kMalformed:
      return SqsError(
          "ReceiptHandleIsInvalid",
          absl::StrCat("The input receipt handle \"", AsAbsl(receipt),
                       "\" is not a valid receipt handle."));
    case ReceiptStatus::kWrongQueue:
      return SqsError("ReceiptHandleIsInvalid",
                      absl::StrCat("The receipt handle \"", AsAbsl(receipt),
                                   "\" is not valid for this queue."));
    case ReceiptStatus::kGone:
      if (!for_visibility) return absl::OkStatus();
      return InvalidParameterValue(
          receipt, "ReceiptHandle",
          "Message does not exist or is not available for visibility timeout "
          "change.");
    case ReceiptStatus::kExpired:
      return InvalidParameterValue(receipt, "ReceiptHandle",
                                   "The receipt handle has expired.");
    case ReceiptStatus::kBeyondLimit:
      return absl::InternalError("unexpected receipt status");
  }
  return absl::InternalError("unknown receipt status");
}

}  // namespace

void Engine::Delete(QueueState& queue,
                    std::span<const std::string_view> receipts,
                    std::span<absl::Status> statuses) {
  if (queue.deleted()) {
    for (auto& s : statuses) s = QueueDoesNotExist();
    return;
  }
  ReceiptStatus buffer[10];
  std::vector<ReceiptStatus> heap;
  std::span<ReceiptStatus> store_statuses(buffer, receipts.size());
  if (receipts.size() > 10) {
    heap.resize(receipts.size());
    store_statuses = heap;
  }
  absl::Status s = store_.Ack({.queue = queue.id(),
                               .receipts = receipts,
                               .statuses = store_statuses,
                               .now = clock_.Now(),
                               .require_live_lease = queue.fifo()});
  if (!s.ok()) {
    if (absl::IsNotFound(s)) {
      queue.MarkDeleted();
      s = QueueDoesNotExist();
    }
    for (auto& st : statuses) st = s;
    return;
  }
  bool any_deleted = false;
  for (size_t i = 0; i < receipts.size(); ++i) {
    statuses[i] = ReceiptError(store_statuses[i], receipts[i], false);
    if (store_statuses[i] == ReceiptStatus::kOk) any_deleted = true;
  }
  if (queue.fifo() && any_deleted) {
    for (size_t i = 0; i < receipts.size(); ++i) {
      if (store_statuses[i] != ReceiptStatus::kOk) continue;
      queue.InvalidateAttemptOf(receipts[i]);
    }
    // Deleting in-flight FIFO messages can unblock their group.
    queue.Notify();
  }
}

void Engine::ChangeVisibility(QueueState& queue,
                              std::span<const std::string_view> receipts,
                              std::span<const int64_t> timeouts,
                              std::span<absl::Status> statuses) {
  if (queue.deleted()) {
    for (auto& s : statuses) s = QueueDoesNotExist();
    return;
  }
  const absl::Time now = clock_.Now();
  std::vector<QueueStore::VisibilityChange> changes;
  std::vector<size_t> index;
  for (size_t i = 0; i < receipts.size(); ++i) {
    if (timeouts[i] < 0 || timeouts[i] > kMaxVisibilityTimeout) {
      statuses[i] = InvalidParameterValue(
          std::to_string(timeouts[i]), "VisibilityTimeout",
          "VisibilityTimeout must be an integer between 0 and 43200");
      continue;
    }
    changes.push_back({receipts[i], now + absl::Seconds(timeouts[i])});
    index.push_back(i);
  }
  if (changes.empty()) return;
  std::vector<ReceiptStatus> store_statuses(changes.size());
  absl::Status s =
      store_.ChangeVisibility({.queue = queue.id(),
                               .changes = changes,
                               .statuses = store_statuses,
                               .now = now,
                               .max_since_receive = kMaxTotalVisibility,
                               .require_live_lease = queue.fifo()});
  if (!s.ok()) {
    if (absl::IsNotFound(s)) {
      queue.MarkDeleted();
      s = QueueDoesNotExist();
    }
    for (size_t k = 0; k < index.size(); ++k) statuses[index[k]] = s;
    return;
  }
  for (size_t k = 0; k < index.size(); ++k) {
    size_t i = index[k];
    if (store_statuses[k] == ReceiptStatus::kBeyondLimit) {
      statuses[i] = InvalidParameterValue(
          std::to_string(timeouts[i]), "VisibilityTimeout",
          "Total VisibilityTimeout for the message is beyond the limit [43200 "
          "seconds].");
      continue;
    }
    statuses[i] = ReceiptError(store_statuses[k], receipts[i], true);
    if (queue.fifo() && store_statuses[k] == ReceiptStatus::kOk) {
      queue.InvalidateAttemptOf(receipts[i]);
    }
  }
  queue.Notify();
}

absl::Status Engine::PurgeInProgress(std::string_view name) const {
  return SqsError(
      "PurgeQueueInProgress",
      absl::StrCat("Only one PurgeQueue operation on ", AsAbsl(name),
                   " is allowed every ",
                   absl::ToInt64Seconds(options_.strict.purge_interval),
                   " seconds."));
}

absl::Status Engine::Purge(QueueState& queue) {
  if (queue.deleted()) return QueueDoesNotExist();
  if (options_.strict.enabled) {
    absl::Time now = clock_.Now();
    FERRY_ASSIGN_OR_RETURN(auto last,
                           backend_->kv().Get(kPurgesTable, queue.arn()));
    if (last.has_value()) {
      int64_t ns = 0;
      ParseInt64(last->value, &ns);
      if (now < absl::FromUnixNanos(ns) + options_.strict.purge_interval) {
        return PurgeInProgress(queue.name());
      }
    }
    absl::StatusOr<uint64_t> v = backend_->kv().CompareAndSwap(
        kPurgesTable, queue.arn(), last ? last->version : 0,
        std::to_string(absl::ToUnixNanos(now)));
    if (absl::IsAborted(v.status())) return PurgeInProgress(queue.name());
    FERRY_RETURN_IF_ERROR(v.status());
  }
  absl::Status s = store_.Purge(queue.id());
  if (s.ok())
    Log(LogSeverity::kInfo, absl::StrCat("purged queue ", queue.arn()));
  if (absl::IsNotFound(s)) {
    queue.MarkDeleted();
    return QueueDoesNotExist();
  }
  return s;
}

absl::StatusOr<QueueStore::QueueCounts> Engine::Counts(QueueState& queue) {
  if (queue.deleted()) return QueueDoesNotExist();
  const QueueConfig& config = queue.config();
  QueueStore::CountParams p{
      .queue = queue.id(),
      .now = clock_.Now(),
      .retention = absl::Seconds(config.message_retention_period)};
  if (queue.fifo()) p.retroactive_delay = absl::Seconds(config.delay_seconds);
  absl::StatusOr<QueueStore::QueueCounts> counts = store_.Count(p);
  if (absl::IsNotFound(counts.status())) {
    queue.MarkDeleted();
    return QueueDoesNotExist();
  }
  return counts;
}

absl::StatusOr<std::vector<QueueStore::PeekedMessage>> Engine::Peek(
    QueueState& queue, size_t limit) {
  if (queue.deleted()) return QueueDoesNotExist();
  QueueStore::PeekParams p{
      .queue = queue.id(),
      .now = clock_.Now(),
      .limit = limit,
      .retention = absl::Seconds(queue.config().message_retention_period)};
  if (queue.fifo()) {
    p.retroactive_delay = absl::Seconds(queue.config().delay_seconds);
  }
  return store_.Peek(p);
}

absl::Status Engine::Reset() {
  {
    MutexLock lock(&mu_);
    for (auto& [arn, q] : queues_) {
      q->MarkDeleted();
      q->Notify();
    }
    queues_.clear();
  }
  return backend_->Reset();
}

}  // namespace ferry::internal
