// A queue worker with a dead-letter queue, on the native API.
//
// The worker long-polls `jobs` (Queue::Receive with a wait time), processes
// each message and deletes it. A message it cannot process is handed back
// with ChangeVisibility(receipt, 0), so it is redelivered at once instead of
// after its visibility timeout; after `max_receive_count` failed receives the
// next receive moves it to `jobs-dlq` instead of returning it. The worker
// stops when a long poll finds nothing for a moment, prints a summary and
// checks the counts.
//
// Runs in milliseconds on the real clock: nothing waits for a timeout except
// the final empty long poll.
//
// Exit status: 0 when every count is as expected, 1 otherwise.

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/queue.h"

namespace {

constexpr int kMaxReceiveCount = 3;

struct Tally {
  int64_t processed = 0;
  int64_t sum = 0;
  int64_t failed_attempts = 0;
  int rounds = 0;
};

// The "work": a job is an integer to add up. Anything else is poison.
absl::Status Process(absl::string_view body, Tally& tally) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(body, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a number: \"", body, "\""));
  }
  tally.sum += value;
  ++tally.processed;
  return absl::OkStatus();
}

// Receives until a long poll of `idle` finds nothing. `max_rounds` bounds the
// loop so that a bug cannot make the example spin forever.
absl::Status Work(ferry::Queue& jobs, absl::Duration idle, int max_rounds,
                  Tally& tally) {
  while (tally.rounds < max_rounds) {
    ++tally.rounds;
    absl::StatusOr<std::vector<ferry::ReceivedMessage>> batch =
        jobs.Receive({.max_messages = 10, .wait_time = idle});
    if (!batch.ok()) return batch.status();
    if (batch->empty()) return absl::OkStatus();  // idle: no more work
    for (const ferry::ReceivedMessage& m : *batch) {
      if (absl::Status s = Process(m.body, tally); !s.ok()) {
        ++tally.failed_attempts;
        // Hand it back now rather than after its visibility timeout.
        if (absl::Status c =
                jobs.ChangeVisibility(m.receipt, absl::ZeroDuration());
            !c.ok()) {
          return c;
        }
        continue;
      }
      if (absl::Status d = jobs.Delete(m.receipt); !d.ok()) return d;
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("still receiving after ", max_rounds, " rounds"));
}

int Fail(std::string_view what, const absl::Status& s) {
  std::cerr << "sqs_worker: " << what << ": " << s << "\n";
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
      ferry::Broker::Open({}, ferry::NewMemoryBackend());
  if (!broker.ok()) return Fail("Broker::Open", broker.status());

  // The dead-letter queue must exist before a queue names it.
  absl::StatusOr<ferry::Queue> dlq = (*broker)->CreateQueue("jobs-dlq");
  if (!dlq.ok()) return Fail("CreateQueue jobs-dlq", dlq.status());
  absl::StatusOr<ferry::Queue> jobs =
      (*broker)->CreateQueue("jobs", {.visibility_timeout = absl::Seconds(30),
                                      .dead_letter_queue = "jobs-dlq",
                                      .max_receive_count = kMaxReceiveCount});
  if (!jobs.ok()) return Fail("CreateQueue jobs", jobs.status());

  // Ten good jobs (1..10, sum 55) and two poison ones, in batches of <= 10.
  const std::vector<std::string> first = {"1", "2", "3", "not-a-number",
                                          "4", "5", "6", "7"};
  const std::vector<std::string> second = {"8", "{\"broken\":", "9", "10"};
  for (const std::vector<std::string>* bodies : {&first, &second}) {
    absl::StatusOr<std::vector<ferry::SendResult>> sent =
        jobs->SendBatch(*bodies);
    if (!sent.ok()) return Fail("SendBatch", sent.status());
  }
  constexpr int64_t kGood = 10;
  constexpr int64_t kPoison = 2;
  constexpr int64_t kExpectedSum = 55;

  Tally tally;
  if (absl::Status s = Work(*jobs, absl::Milliseconds(100), 100, tally);
      !s.ok()) {
    return Fail("worker", s);
  }

  absl::StatusOr<ferry::QueueCounts> left = jobs->Counts();
  if (!left.ok()) return Fail("Counts jobs", left.status());
  absl::StatusOr<ferry::QueueCounts> dead = dlq->Counts();
  if (!dead.ok()) return Fail("Counts jobs-dlq", dead.status());

  std::cout << "sqs_worker: " << kGood + kPoison << " jobs sent (" << kPoison
            << " poison), maxReceiveCount=" << kMaxReceiveCount << "\n"
            << "  processed " << tally.processed << " jobs (sum " << tally.sum
            << ") in " << tally.rounds << " receives, " << tally.failed_attempts
            << " failed attempts\n"
            << "  jobs:     " << left->visible << " visible, "
            << left->in_flight << " in flight\n"
            << "  jobs-dlq: " << dead->visible << " visible\n";

  // What reached the dead-letter queue, as a triage tool would see it.
  absl::StatusOr<std::vector<ferry::ReceivedMessage>> poison =
      dlq->Receive({.max_messages = 10, .wait_time = absl::ZeroDuration()});
  if (!poison.ok()) return Fail("Receive jobs-dlq", poison.status());
  bool sources_ok = true;
  for (const ferry::ReceivedMessage& m : *poison) {
    std::cout << "  dead letter \"" << m.body << "\" from "
              << m.dead_letter_source_arn << ", receive count "
              << m.receive_count << "\n";
    sources_ok = sources_ok && m.dead_letter_source_arn == jobs->arn();
  }

  const bool ok = tally.processed == kGood && tally.sum == kExpectedSum &&
                  tally.failed_attempts == kPoison * kMaxReceiveCount &&
                  left->visible == 0 && left->in_flight == 0 &&
                  left->delayed == 0 && dead->visible == kPoison &&
                  static_cast<int64_t>(poison->size()) == kPoison && sources_ok;
  if (!ok) {
    std::cerr << "sqs_worker: unexpected counts (expected " << kGood
              << " processed, sum " << kExpectedSum << ", "
              << kPoison * kMaxReceiveCount << " failed attempts, " << kPoison
              << " dead letters from " << jobs->arn() << ")\n";
    return 1;
  }
  std::cout << "OK\n";
  return 0;
}
