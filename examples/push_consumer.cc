// A push consumer: Queue::Consume calls a handler once per message, and the
// handler settles each message with its AckHandle. Ack deletes the message;
// Nack makes it visible again (here at once), so it is delivered again.
//
// The consumer polls on its own thread and hands each message to the
// broker's executor; the default executor runs the handler inline on that
// thread, after ferry has released its locks. A program that wants handlers
// on a thread pool passes its own ferry::Executor in BrokerOptions.
//
// The example sends ten events, fails the first delivery of one of them,
// waits (on the broker's clock) until all ten are acknowledged, stops the
// consumer and checks the counts.
//
// Exit status: 0 when every count is as expected, 1 otherwise.

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/clock.h"
#include "ferry/memory_backend.h"
#include "ferry/queue.h"
#include "ferry/sync.h"

namespace {

constexpr int kEvents = 10;
// The event whose first delivery fails.
constexpr std::string_view kFlaky = "event-3";

// What the handler saw, shared with main().
struct Progress {
  ferry::Mutex mu;
  ferry::CondVar changed{&mu};
  int acked ABSL_GUARDED_BY(mu) = 0;
  int nacked ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
};

int Fail(std::string_view what, const absl::Status& s) {
  std::cerr << "push_consumer: " << what << ": " << s << "\n";
  return 1;
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
      ferry::Broker::Open({}, ferry::NewMemoryBackend());
  if (!broker.ok()) return Fail("Broker::Open", broker.status());
  absl::StatusOr<ferry::Queue> events = (*broker)->CreateQueue("events");
  if (!events.ok()) return Fail("CreateQueue", events.status());

  for (int i = 0; i < kEvents; ++i) {
    absl::StatusOr<ferry::SendResult> sent =
        events->Send(absl::StrCat("event-", i));
    if (!sent.ok()) return Fail("Send", sent.status());
  }

  Progress progress;
  // Declared after the broker, so it stops before the broker is destroyed.
  absl::StatusOr<ferry::Consumer> consumer = events->Consume(
      [&progress](ferry::ReceivedMessage m, ferry::AckHandle ack) {
        // A transient failure: the first delivery of kFlaky is refused.
        const bool refuse = m.body == kFlaky && m.receive_count == 1;
        absl::Status s = refuse ? std::move(ack).Nack(absl::ZeroDuration())
                                : std::move(ack).Ack();
        ferry::MutexLock lock(&progress.mu);
        if (!s.ok()) {
          progress.errors.push_back(absl::StrCat(m.body, ": ", s.ToString()));
        } else if (refuse) {
          ++progress.nacked;
          std::cout << "  nack " << m.body << " (receive " << m.receive_count
                    << ")\n";
        } else {
          ++progress.acked;
          std::cout << "  ack  " << m.body << " (receive " << m.receive_count
                    << ")\n";
        }
        progress.changed.SignalAll();
      },
      // A short long-poll wait keeps Stop() prompt: Stop ends the consumer
      // once its current poll returns.
      {.max_messages = 10, .wait_time = absl::Milliseconds(100)});
  if (!consumer.ok()) return Fail("Consume", consumer.status());

  // Wait for every event to be acknowledged, with a deadline so that a bug
  // cannot hang the example.
  ferry::Clock& clock = (*broker)->clock();
  const absl::Time deadline = clock.Now() + absl::Seconds(10);
  int acked = 0;
  int nacked = 0;
  std::vector<std::string> errors;
  {
    ferry::MutexLock lock(&progress.mu);
    while (progress.acked < kEvents && progress.errors.empty()) {
      if (!clock.WaitUntil(progress.changed, deadline)) break;
    }
    acked = progress.acked;
    nacked = progress.nacked;
    errors = progress.errors;
  }
  consumer->Stop();

  absl::StatusOr<ferry::QueueCounts> left = events->Counts();
  if (!left.ok()) return Fail("Counts", left.status());
  std::cout << "push_consumer: " << consumer->delivered() << " deliveries, "
            << acked << " acked, " << nacked
            << " nacked; queue: " << left->visible << " visible, "
            << left->in_flight << " in flight\n";
  for (const std::string& e : errors) {
    std::cerr << "push_consumer: handler error: " << e << "\n";
  }

  const bool ok = errors.empty() && acked == kEvents && nacked == 1 &&
                  consumer->delivered() == kEvents + 1 && left->visible == 0 &&
                  left->in_flight == 0 && left->delayed == 0;
  if (!ok) {
    std::cerr << "push_consumer: unexpected counts (expected " << kEvents + 1
              << " deliveries, " << kEvents << " acked, 1 nacked, an empty "
              << "queue)\n";
    return 1;
  }
  std::cout << "OK\n";
  return 0;
}
