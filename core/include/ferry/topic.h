// -----------------------------------------------------------------------------
// File: ferry/topic.h
// -----------------------------------------------------------------------------
//
// `ferry::Topic` is the native handle to one SNS-style topic of a
// `ferry::Broker`: publish once, deliver to every subscription whose filter
// policy matches. Subscriptions to queues of the same broker are delivered
// synchronously inside Publish, as one atomic append across every matching
// queue; subscriptions to in-process functions (registered by name with
// `Broker::RegisterFunction`) are invoked through the broker's executor,
// never under a ferry lock, and retried on failure per SNS's delivery policy
// as the broker's clock moves (lazily on later calls and in
// `Broker::RunMaintenance`). The AWS-shaped level is `ferry::Sns`
// (ferry/sns.h); both run the same engine.
//
// Thread safety: `Topic` is a cheap copyable handle; every method may be
// called concurrently from any thread.
// Errors: methods return `absl::Status[Or]` carrying SNS's error (see
// ferry/errors.h): NotFound once the topic is deleted, InvalidParameter and
// ParameterValueInvalid for bad input. No method throws.
//
// Example:
//   absl::StatusOr<ferry::Topic> t = broker->CreateTopic("orders");
//   absl::StatusOr<ferry::Queue> q = broker->CreateQueue("billing");
//   t->Subscribe(*q, {.raw_message_delivery = true,
//                     .filter_policy = R"({"kind":["paid"]})"});
//   t->Publish("order 42", {.attributes = {{"kind", {"String", "paid"}}}});
#ifndef FERRY_TOPIC_H_
#define FERRY_TOPIC_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/ids.h"
#include "ferry/message.h"
#include "ferry/queue.h"

namespace ferry {

namespace internal {
class TopicState;
class SnsEngine;
}  // namespace internal

// Attributes of a topic at creation. Unset fields take SNS's defaults.
struct TopicOptions {
  // FIFO topic: the name must end in ".fifo". Fixed at creation.
  bool fifo = false;
  // FIFO: deduplicate by SHA-256 of the body when no id is given.
  bool content_based_deduplication = false;
  std::string display_name{};
};

struct PublishOptions {
  MessageAttributeMap attributes{};
  // Copied into JSON envelopes; at most 100 characters, no line breaks.
  std::string subject{};
  // Required on FIFO topics; on standard topics passed on to standard queues.
  std::string message_group_id{};
  // FIFO: required unless the topic has content-based deduplication.
  std::string deduplication_id{};
};

struct PublishResult {
  Uuid message_id{};
  // FIFO topics: the 20-digit sequence number; empty otherwise.
  std::string sequence_number{};
};

// How a subscription filters and formats what it receives.
struct SubscribeOptions {
  // Queues: the published body and attributes as the SQS message instead of
  // SNS's JSON envelope.
  bool raw_message_delivery = false;
  // A filter policy (sns.md §2); empty: every message.
  std::string filter_policy{};
  // Apply the filter policy to the message body (a JSON object) instead of
  // the message attributes.
  bool filter_policy_on_body = false;
};

// What an in-process function subscriber receives: the fields of SNS's
// Lambda event record (Records[0].Sns).
struct TopicNotification {
  std::string type{};  // "Notification"
  std::string message_id{};
  std::string topic_arn{};
  std::string subscription_arn{};
  std::string subject{};  // empty when none was published
  std::string message{};
  absl::Time timestamp{};
  MessageAttributeMap attributes{};
  std::string message_group_id{};
  std::string sequence_number{};
  // 1 on the first invocation, then 2, 3, ... on retries.
  int attempt = 1;
};

// An in-process subscriber. A non-OK status is a failed delivery: it is
// retried per SNS's policy for AWS-managed endpoints (3 at once, 2 after
// 1 s, 10 backing off from 1 s to 20 s, then every 20 s), and when the
// subscription has a RedrivePolicy the message goes to its dead-letter
// queue after the last retry or when the function is no longer registered.
using TopicFunction = std::function<absl::Status(const TopicNotification&)>;

// Delivery counters of one topic since the broker opened.
struct TopicStats {
  int64_t published = 0;
  // Messages appended to subscribed queues / handed to functions and sinks.
  int64_t delivered_to_queues = 0;
  int64_t delivered_to_functions = 0;
  int64_t delivered_to_sinks = 0;
  // Deliveries a queue's Policy denied (including policies using constructs
  // outside the supported subset).
  int64_t denied_by_queue_policy = 0;
  // Deliveries that failed: a missing queue, a message the queue rejects, a
  // function failure (each attempt), a disabled endpoint.
  int64_t failed = 0;
  // Messages sent to a subscription's dead-letter queue.
  int64_t dead_lettered = 0;
};

class FERRY_EXPORT Topic {
 public:
  // An invalid handle; every call fails with kFailedPrecondition.
  Topic() = default;

  const std::string& name() const;
  const std::string& arn() const;
  bool fifo() const;

  absl::StatusOr<PublishResult> Publish(std::string_view message,
                                        const PublishOptions& options = {});

  // Subscribes `queue` (protocol sqs). Returns the subscription ARN. The same
  // queue with the same options returns the existing subscription.
  absl::StatusOr<std::string> Subscribe(const Queue& queue,
                                        const SubscribeOptions& options = {});
  // Subscribes the function registered under `function_name` (protocol
  // lambda, endpoint arn:aws:lambda:<region>:<account>:function:<name>).
  absl::StatusOr<std::string> SubscribeFunction(
      std::string_view function_name, const SubscribeOptions& options = {});
  // Idempotent.
  absl::Status Unsubscribe(std::string_view subscription_arn);

  absl::StatusOr<TopicStats> Stats() const;

 private:
  friend class Broker;
  friend class internal::SnsEngine;
  explicit Topic(std::shared_ptr<internal::TopicState> state)
      : state_(std::move(state)) {}
  std::shared_ptr<internal::TopicState> state_{};
};

}  // namespace ferry

#endif  // FERRY_TOPIC_H_
