// -----------------------------------------------------------------------------
// File: ferry/provision.h
// -----------------------------------------------------------------------------
//
// Pre-provisioning: creates the queues, topics, subscriptions and streams a
// JSON document describes, so that a test (or `ferry serve --config FILE`)
// starts from a known set of resources.
//
// The document:
//
//   {
//     "account": "000000000000",   // optional; default: the broker's
//     "region": "us-east-1",       // optional; default: the broker's
//     "queues": [
//       {"name": "jobs-dlq"},
//       {"name": "jobs",
//        "attributes": {"VisibilityTimeout": 60,
//                       "RedrivePolicy": {"deadLetterTargetArn": "jobs-dlq",
//                                         "maxReceiveCount": 3}},
//        "tags": {"team": "payments"}},
//       {"name": "orders.fifo",
//        "attributes": {"FifoQueue": true, "ContentBasedDeduplication": true},
//        "account": "111122223333", "region": "eu-west-1"}
//     ],
//     "topics": [
//       {"name": "events", "attributes": {"DisplayName": "Events"},
//        "tags": {"team": "payments"}}
//     ],
//     "subscriptions": [
//       {"topic": "events", "protocol": "sqs", "endpoint": "jobs",
//        "attributes": {"RawMessageDelivery": true,
//                       "FilterPolicy": {"kind": ["order"]}}}
//     ],
//     "streams": [
//       {"name": "clicks", "shard_count": 4, "retention_hours": 48},
//       {"name": "audit", "on_demand": true, "tags": {"team": "sec"}}
//     ]
//   }
//
// Every entry may carry its own "account" and "region" (default: the
// document's, else the broker's).
// * queues: "attributes" are CreateQueue's attributes (names and rules as
//   SQS's). A value may be a string, a number or a boolean (sent as its
//   text); the JSON-valued attributes (RedrivePolicy, RedriveAllowPolicy,
//   Policy) may also be objects. A RedrivePolicy's deadLetterTargetArn may be
//   an ARN or the name of a queue in the same account and region. Queues are
//   created in dependency order (a dead-letter queue before the queues that
//   redrive to it), so the order in the file does not matter; a redrive
//   cycle is an error. A dead-letter queue not in the document must already
//   exist.
// * topics: "name" (".fifo" names need "FifoTopic": true), CreateTopic's
//   "attributes" (Policy, DeliveryPolicy and DataProtectionPolicy may be
//   objects) and "tags".
// * subscriptions: "topic" (a topic's name, of the document or existing, in
//   the subscription's account and region; or an ARN), "protocol" and
//   "endpoint" as Subscribe's; for "sqs" the endpoint may be a queue's name
//   (in the subscription's account and region) instead of its ARN.
//   "attributes" are Subscribe's (RawMessageDelivery, FilterPolicy,
//   FilterPolicyScope, RedrivePolicy, DeliveryPolicy; FilterPolicy,
//   RedrivePolicy and DeliveryPolicy may be objects). Subscriptions of sqs
//   and lambda endpoints are confirmed at once; http/https ones wait for
//   their confirmation as SNS's do.
// * streams: "name", "shard_count" (1 to 100000; default 1), "on_demand"
//   (boolean; then no shard_count), "retention_hours" (24 to 8760; default
//   24) and "tags". A stream that exists already is kept as it is.
// Resources are created in dependency order: queues, topics, subscriptions,
// streams.
// * Creating a queue or topic that exists with the same attributes is not
//   an error (CreateQueue's and CreateTopic's rule), nor is subscribing the
//   same endpoint again with the same attributes, so a document can be
//   applied again, e.g. after a reset or to a durable broker at each start.
// * Injected faults (ferry/faults.h) do not apply to provisioning.
//
// Validation is strict: malformed JSON, an unknown key, a value of the wrong
// type or out of range, a duplicate queue, topic or stream, or a redrive
// cycle fail before anything is created, with kInvalidArgument and a message
// naming the place (e.g. `queues[2].attributes.VisibilityTimeout: expected a
// string, number or boolean`, `streams[0].shard_count: expected an integer
// from 1 to 100000, got 0`). A creation that fails stops the run with that
// error (its AWS error kept), prefixed with the entry's place; what was
// created before it stays. A subscription whose topic is neither in the
// document nor in the broker fails with kInvalidArgument naming
// `subscriptions[i].topic`.
//
// Thread safety: as the broker's; concurrent callers may create the same
// resources.
#ifndef FERRY_PROVISION_H_
#define FERRY_PROVISION_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ferry/broker.h"
#include "ferry/export.h"

namespace ferry {

struct ProvisionedQueue {
  std::string name{};
  std::string account{};  // as in the document; empty: the broker's default
  std::string region{};
  std::string queue_url{};
};

struct ProvisionedTopic {
  std::string name{};
  std::string account{};  // as in the document; empty: the broker's default
  std::string region{};
  std::string topic_arn{};
};

struct ProvisionedSubscription {
  std::string topic_arn{};
  std::string protocol{};
  std::string endpoint{};  // as subscribed (a queue's ARN for sqs)
  std::string subscription_arn{};
};

struct ProvisionedStream {
  std::string name{};
  std::string account{};
  std::string region{};
  std::string stream_arn{};
  int shard_count = 0;   // open shards
  bool existed = false;  // it existed already and was kept as it was
};

// What a document created (or found), in creation order.
struct ProvisionResult {
  std::vector<ProvisionedQueue> queues{};
  std::vector<ProvisionedTopic> topics{};
  std::vector<ProvisionedSubscription> subscriptions{};
  std::vector<ProvisionedStream> streams{};
};

// Creates what `json` describes, in dependency order. `endpoint` is the base
// of the returned queue URLs (e.g. "http://127.0.0.1:4566"); empty: the
// broker's default.
FERRY_EXPORT absl::StatusOr<ProvisionResult> Provision(
    Broker& broker, std::string_view json, std::string_view endpoint = {});

// Provision(), returning only the queues, in the order they were created.
FERRY_EXPORT absl::StatusOr<std::vector<ProvisionedQueue>> ProvisionFromJson(
    Broker& broker, std::string_view json, std::string_view endpoint = {});

// Checks `json` as ProvisionFromJson does, without creating anything.
FERRY_EXPORT absl::Status ValidateProvisionJson(std::string_view json);

}  // namespace ferry

#endif  // FERRY_PROVISION_H_
