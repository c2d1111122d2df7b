// The native level: Queue, AckHandle and Consumer over the engine.
#include "ferry/queue.h"

#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine.h"
#include "sqs_errors.h"
#include "sqs_names.h"
#include "status_macros.h"

namespace ferry {
namespace {

using internal::QueueState;

absl::Status InvalidHandle() {
  return absl::FailedPreconditionError("the Queue handle is not valid");
}

int64_t WholeSeconds(absl::Duration d) {
  return absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
}

internal::OutgoingMessage Outgoing(std::string_view body,
                                   const SendOptions& options) {
  internal::OutgoingMessage m;
  m.body = body;
  m.attributes = &options.attributes;
  if (options.delay.has_value()) m.delay_seconds = WholeSeconds(*options.delay);
  if (!options.message_group_id.empty()) {
    m.message_group_id = options.message_group_id;
  }
  if (!options.deduplication_id.empty()) {
    m.deduplication_id = options.deduplication_id;
  }
  return m;
}

// Fills `r` (default-constructed) in place: no temporary to move and destroy.
void ToReceived(QueueStore::LeasedMessage&& lease, ReceivedMessage& r) {
  StoredMessage& s = lease.message;
  r.message_id = s.message_id;
  r.body.assign(s.body.data(), s.body.size());
  r.receipt = std::move(lease.receipt);
  if (!s.attributes.empty()) r.attributes = s.attributes.map();
  r.receive_count = s.receive_count;
  r.sent_time = s.sent_time;
  r.first_receive_time = s.first_receive_time;
  r.message_group_id = std::move(s.message_group_id);
  r.deduplication_id = std::move(s.deduplication_id);
  r.sequence_number = s.sequence_number;
  r.dead_letter_source_arn = std::move(s.dead_letter_source_arn);
}

}  // namespace

const std::string& Queue::name() const {
  static const std::string* empty = new std::string();
  return state_ ? state_->name() : *empty;
}
const std::string& Queue::arn() const {
  static const std::string* empty = new std::string();
  return state_ ? state_->arn() : *empty;
}
std::string Queue::url() const {
  if (!state_) return "";
  return internal::QueueUrl(state_->engine()->options().default_endpoint,
                            state_->region(), state_->account(),
                            state_->name());
}
bool Queue::fifo() const { return state_ && state_->fifo(); }

absl::StatusOr<SendResult> Queue::Send(std::string_view body,
                                       const SendOptions& options) {
  if (!state_) return InvalidHandle();
  internal::OutgoingMessage m = Outgoing(body, options);
  absl::Status status;
  internal::SendOutcome outcome;
  FERRY_RETURN_IF_ERROR(state_->engine()->Send(
      *state_, {&m, 1}, state_->account(), {&status, 1}, {&outcome, 1}));
  FERRY_RETURN_IF_ERROR(status);
  return SendResult{outcome.message_id, outcome.sequence_number,
                    outcome.duplicate};
}

absl::StatusOr<std::vector<SendResult>> Queue::SendBatch(
    std::span<const std::string> bodies, const SendOptions& options) {
  if (!state_) return InvalidHandle();
  if (bodies.empty() || bodies.size() > 10) {
    return internal::SqsError(
        bodies.empty() ? "EmptyBatchRequest" : "TooManyEntriesInBatchRequest",
        absl::StrCat("A batch holds 1 to 10 messages; got ", bodies.size(),
                     "."));
  }
  internal::OutgoingMessage messages[10];
  absl::Status statuses[10];
  internal::SendOutcome outcomes[10];
  const size_t n = bodies.size();
  for (size_t i = 0; i < n; ++i) messages[i] = Outgoing(bodies[i], options);
  // All or nothing: validate everything before storing anything.
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    total += internal::MessageSize(messages[i].body, messages[i].attributes);
  }
  if (total > 1048576) {
    return internal::SqsError(
        "BatchRequestTooLong",
        absl::StrCat("Batch requests cannot be longer than 1048576 bytes. You "
                     "have sent ",
                     total, " bytes."));
  }
  for (size_t i = 0; i < n; ++i) {
    FERRY_RETURN_IF_ERROR(
        internal::ValidateOutgoing(state_->config(), messages[i]));
    messages[i].validated = true;
  }
  FERRY_RETURN_IF_ERROR(state_->engine()->Send(
      *state_, {messages, n}, state_->account(), {statuses, n}, {outcomes, n}));
  std::vector<SendResult> results;
  results.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    FERRY_RETURN_IF_ERROR(statuses[i]);
    results.push_back({outcomes[i].message_id, outcomes[i].sequence_number,
                       outcomes[i].duplicate});
  }
  return results;
}

absl::StatusOr<std::vector<ReceivedMessage>> Queue::Receive(
    const ReceiveOptions& options) {
  if (!state_) return InvalidHandle();
  if (options.max_messages < 1 || options.max_messages > 10) {
    return internal::InvalidParameterValue(
        std::to_string(options.max_messages), "MaxNumberOfMessages",
        "Must be between 1 and 10, if provided.");
  }
  internal::ReceiveParams p;
  p.max_messages = options.max_messages;
  if (options.visibility_timeout.has_value()) {
    int64_t v = WholeSeconds(*options.visibility_timeout);
    if (v < 0 || v > internal::kMaxVisibilityTimeout) {
      return internal::InvalidParameterValue(
          std::to_string(v), "VisibilityTimeout",
          "Must be >= 0 and <= 43200, if provided.");
    }
    p.visibility_timeout = v;
  }
  if (options.wait_time.has_value()) {
    if (*options.wait_time < absl::ZeroDuration() ||
        *options.wait_time > absl::Seconds(20)) {
      return internal::InvalidParameterValue(
          absl::FormatDuration(*options.wait_time), "WaitTimeSeconds",
          "Must be >= 0 and <= 20, if provided.");
    }
    p.wait_time = *options.wait_time;
  }
  FERRY_ASSIGN_OR_RETURN(std::vector<QueueStore::LeasedMessage> leases,
                         state_->engine()->Receive(*state_, p));
  std::vector<ReceivedMessage> out;
  out.reserve(leases.size());
  for (QueueStore::LeasedMessage& l : leases) {
    ToReceived(std::move(l), out.emplace_back());
  }
  return out;
}

absl::Status Queue::Delete(std::string_view receipt) {
  if (!state_) return InvalidHandle();
  absl::Status status;
  state_->engine()->Delete(*state_, {&receipt, 1}, {&status, 1});
  return status;
}

absl::Status Queue::DeleteBatch(std::span<const std::string> receipts) {
  if (!state_) return InvalidHandle();
  if (receipts.size() > 10) {
    return internal::SqsError(
        "TooManyEntriesInBatchRequest",
        absl::StrCat("Maximum number of entries per request are 10. You have "
                     "sent ",
                     receipts.size(), "."));
  }
  std::string_view views[10];
  absl::Status statuses[10];
  for (size_t i = 0; i < receipts.size(); ++i) views[i] = receipts[i];
  state_->engine()->Delete(*state_, {views, receipts.size()},
                           {statuses, receipts.size()});
  for (size_t i = 0; i < receipts.size(); ++i) {
    FERRY_RETURN_IF_ERROR(statuses[i]);
  }
  return absl::OkStatus();
}

absl::Status Queue::ChangeVisibility(std::string_view receipt,
                                     absl::Duration timeout) {
  if (!state_) return InvalidHandle();
  int64_t seconds = WholeSeconds(timeout);
  absl::Status status;
  state_->engine()->ChangeVisibility(*state_, {&receipt, 1}, {&seconds, 1},
                                     {&status, 1});
  return status;
}

absl::Status Queue::Purge() {
  if (!state_) return InvalidHandle();
  return state_->engine()->Purge(*state_);
}

absl::StatusOr<QueueCounts> Queue::Counts() {
  if (!state_) return InvalidHandle();
  FERRY_ASSIGN_OR_RETURN(QueueStore::QueueCounts c,
                         state_->engine()->Counts(*state_));
  return QueueCounts{c.visible, c.in_flight, c.delayed};
}

absl::StatusOr<std::vector<PeekedMessage>> Queue::Peek(size_t limit) {
  if (!state_) return InvalidHandle();
  FERRY_ASSIGN_OR_RETURN(std::vector<QueueStore::PeekedMessage> peeked,
                         state_->engine()->Peek(*state_, limit));
  std::vector<PeekedMessage> out;
  for (QueueStore::PeekedMessage& p : peeked) {
    PeekedMessage m;
    ToReceived({std::move(p.message), ""}, m.message);
    m.state = p.state == QueueStore::MessageState::kVisible
                  ? PeekedMessage::State::kVisible
              : p.state == QueueStore::MessageState::kInFlight
                  ? PeekedMessage::State::kInFlight
                  : PeekedMessage::State::kDelayed;
    m.invisible_until = p.invisible_until;
    out.push_back(std::move(m));
  }
  return out;
}

// ---- AckHandle
// ---------------------------------------------------------------

absl::Status AckHandle::Ack() && {
  if (!state_) return absl::FailedPreconditionError("empty AckHandle");
  Queue q(std::move(state_));
  return q.Delete(receipt_);
}

absl::Status AckHandle::Nack(absl::Duration delay) && {
  if (!state_) return absl::FailedPreconditionError("empty AckHandle");
  Queue q(std::move(state_));
  return q.ChangeVisibility(receipt_, delay);
}

// ---- Consumer
// ----------------------------------------------------------------

struct Consumer::Impl : internal::ConsumerRegistry::Member {
  std::shared_ptr<QueueState> state;
  std::shared_ptr<internal::ConsumerRegistry> registry;
  // Shared with scheduled calls, which may run after the consumer stops.
  std::shared_ptr<Queue::Handler> handler;
  ConsumeOptions options;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> delivered{0};
  std::mutex join_mu;
  std::thread thread;

  void StopAndJoin() override {
    stop.store(true, std::memory_order_release);
    state->Notify();
    std::lock_guard<std::mutex> lock(join_mu);
    if (thread.joinable()) thread.join();
  }

  void Run() {
    Executor& executor = state->engine()->executor();
    while (!stop.load(std::memory_order_acquire)) {
      internal::ReceiveParams params;
      params.max_messages = options.max_messages;
      if (options.visibility_timeout.has_value()) {
        params.visibility_timeout = WholeSeconds(*options.visibility_timeout);
      }
      params.wait_time = options.wait_time;
      params.cancelled = &stop;
      absl::StatusOr<std::vector<QueueStore::LeasedMessage>> leases =
          state->engine()->Receive(*state, params);
      absl::StatusOr<std::vector<ReceivedMessage>> batch;
      if (leases.ok()) {
        batch.emplace();
        batch->reserve(leases->size());
        for (auto& l : *leases) ToReceived(std::move(l), batch->emplace_back());
      } else {
        batch = leases.status();
      }
      if (!batch.ok()) {
        if (absl::IsCancelled(batch.status()) || state->deleted() ||
            stop.load(std::memory_order_acquire)) {
          return;
        }
        state->engine()->Log(LogSeverity::kWarning,
                             absl::StrCat("consumer of ", state->name(), ": ",
                                          batch.status().ToString()));
        return;
      }
      for (ReceivedMessage& m : *batch) {
        AckHandle ack;
        ack.state_ = state;
        ack.receipt_ = m.receipt;
        delivered.fetch_add(1, std::memory_order_relaxed);
        executor.Schedule([handler = handler, m = std::move(m),
                           ack = std::move(ack)]() mutable {
          (*handler)(std::move(m), std::move(ack));
        });
      }
    }
  }
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&& other) noexcept {
  if (this != &other) {
    Stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Consumer::~Consumer() { Stop(); }

void Consumer::Stop() {
  if (!impl_) return;
  impl_->registry->Remove(impl_.get());
  impl_->StopAndJoin();
}

int64_t Consumer::delivered() const {
  return impl_ ? impl_->delivered.load(std::memory_order_relaxed) : 0;
}

absl::StatusOr<Consumer> Queue::Consume(Handler handler,
                                        const ConsumeOptions& options) {
  if (!state_) return InvalidHandle();
  if (options.max_messages < 1 || options.max_messages > 10) {
    return internal::InvalidParameterValue(
        std::to_string(options.max_messages), "MaxNumberOfMessages",
        "Must be between 1 and 10, if provided.");
  }
  auto impl = std::make_unique<Consumer::Impl>();
  impl->state = state_;
  impl->registry = state_->engine()->consumers();
  impl->handler = std::make_shared<Handler>(std::move(handler));
  impl->options = options;
  Consumer::Impl* raw = impl.get();
  {
    std::lock_guard<std::mutex> lock(raw->join_mu);
    if (!raw->registry->Add(raw)) {
      return absl::CancelledError("the broker is shutting down");
    }
    raw->thread = std::thread([raw] { raw->Run(); });
  }
  return Consumer(std::move(impl));
}

}  // namespace ferry
