// -----------------------------------------------------------------------------
// File: ferry/provision.h
// -----------------------------------------------------------------------------
//
// Pre-provisioning: creates the queues a JSON document describes, so that a
// test (or `ferry serve --config FILE`) starts from a known set of queues.
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
//     ]
//   }
//
// * "attributes" are CreateQueue's attributes (names and rules as SQS's).
//   A value may be a string, a number or a boolean (sent as its text); the
//   JSON-valued attributes (RedrivePolicy, RedriveAllowPolicy, Policy) may
//   also be objects.
// * A RedrivePolicy's deadLetterTargetArn may be an ARN or the name of a
//   queue in the same account and region. Queues are created in dependency
//   order (a dead-letter queue before the queues that redrive to it), so the
//   order in the file does not matter; a redrive cycle is an error. A
//   dead-letter queue not in the document must already exist.
// * Creating a queue that exists with the same attributes is not an error
//   (CreateQueue's rule), so a document can be applied again, e.g. after a
//   reset or to a durable broker at each start.
//
// Validation is strict: malformed JSON, an unknown key, a value of the wrong
// type, a duplicate queue, a cycle, or a key for what this build cannot
// provision yet ("topics", "subscriptions", "streams") fail before anything
// is created, with kInvalidArgument and a message naming the place (e.g.
// `queues[2].attributes.VisibilityTimeout: expected a string, number or
// boolean`). A CreateQueue that fails stops the run with that error (its AWS
// error kept), prefixed with the queue's place; queues created before it
// stay.
//
// Thread safety: as the broker's; concurrent callers may create the same
// queues.
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

// Creates the queues `json` describes, in dependency order, and returns them
// in the order they were created. `endpoint` is the base of the returned
// queue URLs (e.g. "http://127.0.0.1:4566"); empty: the broker's default.
FERRY_EXPORT absl::StatusOr<std::vector<ProvisionedQueue>> ProvisionFromJson(
    Broker& broker, std::string_view json, std::string_view endpoint = {});

// Checks `json` as ProvisionFromJson does, without creating anything.
FERRY_EXPORT absl::Status ValidateProvisionJson(std::string_view json);

}  // namespace ferry

#endif  // FERRY_PROVISION_H_
