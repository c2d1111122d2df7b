// -----------------------------------------------------------------------------
// File: ferry/broker.h
// -----------------------------------------------------------------------------
//
// `ferry::Broker` is the in-process message broker: it owns a backend, the
// clock, the id source and the executor, and hands out queue handles (native
// level, ferry/queue.h) and the AWS-shaped operation layer (ferry/sqs.h).
// Every identifier is scoped by (account, region); the native level uses the
// broker's defaults, the AWS-shaped level the request's context.
//
// Thread safety: all methods are safe to call concurrently. Destroying the
// broker while consumers are blocked in long polls returns them promptly with
// kCancelled; no call may start after destruction begins.
// Errors: as ferry/queue.h; `Open` fails with the backend's error.
//
// Example:
//   absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
//       ferry::Broker::Open({}, ferry::NewMemoryBackend());
#ifndef FERRY_BROKER_H_
#define FERRY_BROKER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/clock.h"
#include "ferry/executor.h"
#include "ferry/export.h"
#include "ferry/faults.h"
#include "ferry/ids.h"
#include "ferry/queue.h"
#include "ferry/stream.h"
#include "ferry/topic.h"

namespace ferry {

class Sqs;
class Sns;
class Kinesis;
namespace internal {
class Engine;
class SnsEngine;
class StreamEngine;
}  // namespace internal

// AWS's waits and quotas. Off by default (DESIGN.md principle 8): validation
// and per-request limits are always AWS's; these apply only when enabled.
struct StrictModeOptions {
  bool enabled = false;
  // CreateQueue of a name deleted less than this ago: QueueDeletedRecently.
  absl::Duration queue_recreate_wait = absl::Seconds(60);
  // A second PurgeQueue within this: PurgeQueueInProgress.
  absl::Duration purge_interval = absl::Seconds(60);
  // In-flight messages per queue; a short-poll receive beyond it: OverLimit.
  int64_t max_in_flight_standard = 120000;
  int64_t max_in_flight_fifo = 120000;
  // Kinesis: per-shard write and read quotas (ProvisionedThroughputExceeded),
  // the account's shard quota and consumers per stream (LimitExceeded), and
  // how long a stream stays CREATING / UPDATING (0: ACTIVE at once).
  int64_t kinesis_shard_write_records = 1000;   // per second
  int64_t kinesis_shard_write_bytes = 1 << 20;  // per second
  int64_t kinesis_shard_read_calls = 5;         // GetRecords per second
  int64_t kinesis_shard_read_bytes = 2 << 20;   // per second
  int64_t kinesis_account_shard_limit = 500;
  int64_t kinesis_consumers_per_stream = 20;
  absl::Duration kinesis_status_delay = absl::ZeroDuration();
};

enum class LogSeverity { kInfo, kWarning, kError };
// Receives ferry's log lines. Called from any thread, never under a lock
// ferry holds on the message path. Must not call back into the broker.
using LogSink = std::function<void(LogSeverity, std::string_view)>;

struct BrokerOptions {
  // nullptr: Clock::Real(). REQUIRES: outlives the broker.
  Clock* clock = nullptr;
  // nullptr: IdSource::Random(). REQUIRES: outlives the broker.
  IdSource* ids = nullptr;
  // Runs push-consumer handlers. nullptr: InlineExecutor().
  // REQUIRES: outlives the broker.
  Executor* executor = nullptr;
  std::string default_account = "000000000000";
  std::string default_region = "us-east-1";
  // The base of queue URLs on the native level; "" gives AWS's form,
  // https://sqs.<region>.amazonaws.com.
  std::string default_endpoint{};
  StrictModeOptions strict{};
  // The injected faults every AWS-shaped operation consults (ferry/faults.h).
  // nullptr: the broker's own, seeded with `fault_seed` (0: a fixed default
  // seed). REQUIRES: outlives the broker.
  FaultInjector* faults = nullptr;
  uint64_t fault_seed = 0;
  // nullptr-equivalent (empty): log lines are dropped.
  LogSink log{};
};

class FERRY_EXPORT Broker {
 public:
  // Opens a broker over `backend`. On error returns a non-OK status.
  static absl::StatusOr<std::unique_ptr<Broker>> Open(
      const BrokerOptions& options, std::unique_ptr<Backend> backend);

  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;
  // Cancels long polls and stops consumers; see the thread-safety note.
  ~Broker();

  // Creates the queue in the default account and region, or returns the
  // existing one when every given option matches (QueueAlreadyExists if not).
  absl::StatusOr<Queue> CreateQueue(std::string_view name,
                                    const QueueOptions& options = {});
  // QueueDoesNotExist if absent.
  absl::StatusOr<Queue> GetQueue(std::string_view name);
  absl::Status DeleteQueue(std::string_view name);
  // Names of the default account's queues in the default region.
  absl::StatusOr<std::vector<std::string>> ListQueues(
      std::string_view prefix = "");

  // The AWS-shaped operation layer over the same queues.
  Sqs& sqs();

  // Topics (SNS) in the default account and region; see ferry/topic.h.
  // CreateTopic is idempotent when the options match.
  absl::StatusOr<Topic> CreateTopic(std::string_view name,
                                    const TopicOptions& options = {});
  // NotFound if absent.
  absl::StatusOr<Topic> GetTopic(std::string_view name);
  // Idempotent, as SNS's DeleteTopic.
  absl::Status DeleteTopic(std::string_view name);
  absl::StatusOr<std::vector<std::string>> ListTopics();
  // Registers (or replaces) the in-process function that `lambda`
  // subscriptions to arn:aws:lambda:<region>:<account>:function:<name> reach.
  absl::Status RegisterFunction(std::string_view name, TopicFunction function);
  // The AWS-shaped operation layer over the same topics.
  Sns& sns();

  // Kinesis streams in the default account and region (ferry/stream.h), and
  // the AWS-shaped layer over them (ferry/kinesis.h).
  absl::StatusOr<Stream> CreateStream(std::string_view name,
                                      const StreamOptions& options = {});
  absl::StatusOr<Stream> GetStream(std::string_view name);
  absl::Status DeleteStream(std::string_view name);
  absl::StatusOr<std::vector<std::string>> ListStreams();
  Kinesis& kinesis();

  // Work that moves on its own (message move tasks), run now on the caller's
  // thread. Expiry of visibility, delay and retention is lazy and needs no
  // call.
  absl::Status RunMaintenance();

  // Test support: deletes every queue and message and forgets all state.
  absl::Status Reset();

  Clock& clock();
  std::string_view backend_name() const;

  // Test support: the faults the AWS-shaped layers (sqs(), sns(),
  // kinesis()) and a gateway over this broker inject; see ferry/faults.h.
  // Reset() does not clear them.
  FaultInjector& faults();

 private:
  Broker(std::unique_ptr<FaultInjector> own_faults,
         std::unique_ptr<internal::Engine> engine);
  std::unique_ptr<FaultInjector> own_faults_{};  // outlives engine_
  std::unique_ptr<internal::Engine> engine_{};
  std::unique_ptr<internal::SnsEngine> sns_{};  // destroyed before engine_
  std::unique_ptr<internal::StreamEngine> streams_{};
};

}  // namespace ferry

#endif  // FERRY_BROKER_H_
