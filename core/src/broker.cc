#include "ferry/broker.h"

#include "absl/strings/str_cat.h"
#include "engine.h"
#include "ferry/sqs.h"
#include "sns_engine.h"
#include "sqs_names.h"
#include "status_macros.h"
#include "stream_engine.h"

namespace ferry {

absl::StatusOr<std::unique_ptr<Broker>> Broker::Open(
    const BrokerOptions& options, std::unique_ptr<Backend> backend) {
  if (backend == nullptr) {
    return absl::InvalidArgumentError("Broker::Open needs a backend");
  }
  if (options.default_account.empty() || options.default_region.empty()) {
    return absl::InvalidArgumentError(
        "default_account and default_region must not be empty");
  }
  BrokerOptions with_faults = options;
  std::unique_ptr<FaultInjector> own_faults;
  if (with_faults.faults == nullptr) {
    own_faults = std::make_unique<FaultInjector>(options.fault_seed);
    with_faults.faults = own_faults.get();
  }
  return std::unique_ptr<Broker>(new Broker(
      std::move(own_faults),
      std::make_unique<internal::Engine>(with_faults, std::move(backend))));
}

Broker::Broker(std::unique_ptr<FaultInjector> own_faults,
               std::unique_ptr<internal::Engine> engine)
    : own_faults_(std::move(own_faults)),
      engine_(std::move(engine)),
      sns_(std::make_unique<internal::SnsEngine>(engine_.get())),
      streams_(std::make_unique<internal::StreamEngine>(
          engine_->clock(), engine_->backend(), engine_->options())) {}

Broker::~Broker() { engine_->Shutdown(); }

namespace {

internal::StringMap ToAttributes(const QueueOptions& o) {
  internal::StringMap a;
  auto seconds = [](absl::Duration d) {
    return std::to_string(
        absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1))));
  };
  if (o.fifo) a["FifoQueue"] = "true";
  if (o.visibility_timeout)
    a["VisibilityTimeout"] = seconds(*o.visibility_timeout);
  if (o.retention) a["MessageRetentionPeriod"] = seconds(*o.retention);
  if (o.delivery_delay) a["DelaySeconds"] = seconds(*o.delivery_delay);
  if (o.receive_wait_time) {
    a["ReceiveMessageWaitTimeSeconds"] = seconds(*o.receive_wait_time);
  }
  if (o.maximum_message_size) {
    a["MaximumMessageSize"] = std::to_string(*o.maximum_message_size);
  }
  if (o.content_based_deduplication) a["ContentBasedDeduplication"] = "true";
  return a;
}

}  // namespace

absl::StatusOr<Queue> Broker::CreateQueue(std::string_view name,
                                          const QueueOptions& options) {
  internal::StringMap attributes = ToAttributes(options);
  if (!options.dead_letter_queue.empty() || options.max_receive_count > 0) {
    if (options.dead_letter_queue.empty()) {
      return absl::InvalidArgumentError(
          "max_receive_count needs a dead_letter_queue");
    }
    attributes["RedrivePolicy"] = absl::StrCat(
        "{\"deadLetterTargetArn\":\"",
        internal::QueueArn(engine_->DefaultRegion(), engine_->DefaultAccount(),
                           options.dead_letter_queue),
        "\",\"maxReceiveCount\":", options.max_receive_count, "}");
  }
  FERRY_ASSIGN_OR_RETURN(
      std::shared_ptr<internal::QueueState> state,
      engine_->CreateQueue(engine_->DefaultAccount(), engine_->DefaultRegion(),
                           name, attributes, {}));
  return Queue(std::move(state));
}

absl::StatusOr<Queue> Broker::GetQueue(std::string_view name) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<internal::QueueState> state,
                         engine_->FindQueue(engine_->DefaultAccount(),
                                            engine_->DefaultRegion(), name));
  return Queue(std::move(state));
}

absl::Status Broker::DeleteQueue(std::string_view name) {
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<internal::QueueState> state,
                         engine_->FindQueue(engine_->DefaultAccount(),
                                            engine_->DefaultRegion(), name));
  return engine_->DeleteQueue(*state);
}

absl::StatusOr<std::vector<std::string>> Broker::ListQueues(
    std::string_view prefix) {
  FERRY_ASSIGN_OR_RETURN(
      std::vector<QueueRecord> records,
      engine_->ListQueueRecords(engine_->DefaultAccount(),
                                engine_->DefaultRegion(), prefix, "", 1000000));
  std::vector<std::string> names;
  for (const QueueRecord& r : records) {
    internal::QueueName n;
    if (internal::ParseQueueArn(r.key, &n)) names.push_back(n.name);
  }
  return names;
}

Sqs& Broker::sqs() { return engine_->sqs(); }
absl::Status Broker::RunMaintenance() {
  FERRY_RETURN_IF_ERROR(sns_->RunMaintenance());
  FERRY_RETURN_IF_ERROR(streams_->RunMaintenance());
  return engine_->RunMaintenance();
}
absl::Status Broker::Reset() {
  absl::Status s = engine_->Reset();
  sns_->ForgetCache();
  streams_->Reset().IgnoreError();
  return s;
}
Clock& Broker::clock() { return engine_->clock(); }
FaultInjector& Broker::faults() { return *engine_->options().faults; }
std::string_view Broker::backend_name() const {
  return engine_->backend().Name();
}

}  // namespace ferry
