// An edge buffer that survives being killed, on the RocksDB backend.
//
// A sensor process writes readings to a durable queue; it is killed with
// SIGKILL in the middle of its work (as a power-cycled device would be).
// When the device comes back "online", a forwarder opens the same directory,
// drains the queue in batches (here it only counts what it would upload) and
// deletes what it forwarded. Every reading whose send was acknowledged before
// the kill arrives; in the default sync mode that holds after a power cut
// too.
//
// Exit status: 0 when every acknowledged reading was forwarded, 1 otherwise.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ferry/broker.h"
#include "ferry/rocksdb_backend.h"
#include "ferry/sqs.h"

namespace {

constexpr int kAcknowledgedBeforeKill = 500;

absl::StatusOr<std::unique_ptr<ferry::Broker>> OpenBuffer(
    const std::string& dir) {
  ferry::RocksDbBackendOptions options;
  options.path = dir;  // durability: kSync (the default)
  absl::StatusOr<std::unique_ptr<ferry::Backend>> backend =
      ferry::OpenRocksDbBackend(options);
  if (!backend.ok()) return backend.status();
  return ferry::Broker::Open({}, *std::move(backend));
}

// The sensor: sends readings until it is killed. It writes the number of
// acknowledged readings to `fd` as it goes.
[[noreturn]] void Sensor(const std::string& dir, int fd) {
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker = OpenBuffer(dir);
  if (!broker.ok()) _exit(2);
  ferry::Sqs& sqs = (*broker)->sqs();
  absl::StatusOr<ferry::CreateQueueResult> queue =
      sqs.CreateQueue({}, {.queue_name = "readings"});
  if (!queue.ok()) _exit(2);
  for (int i = 0;; ++i) {
    std::string reading = absl::StrCat("reading-", i, " temp=21.", i % 10);
    if (!sqs.SendMessage(
                {}, {.queue_url = queue->queue_url, .message_body = reading})
             .ok()) {
      _exit(2);
    }
    // Acknowledged: durable now. Tell the parent, which checks later.
    std::string line = absl::StrCat(i, "\n");
    if (write(fd, line.data(), line.size()) < 0) _exit(2);
    if (i + 1 == kAcknowledgedBeforeKill) raise(SIGKILL);  // power cycle
  }
}

}  // namespace

int main() {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           absl::StrCat("ferry_edge_buffer_", getpid()))
                              .string();
  std::filesystem::remove_all(dir);

  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    close(fds[0]);
    Sensor(dir, fds[1]);
  }
  close(fds[1]);
  std::string acks;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) {
    acks.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const int acknowledged =
      static_cast<int>(std::count(acks.begin(), acks.end(), '\n'));
  std::cout << "sensor killed (signal "
            << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ") after "
            << acknowledged << " acknowledged readings\n";

  // Back online: forward everything that is buffered.
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker = OpenBuffer(dir);
  if (!broker.ok()) {
    std::cerr << broker.status() << "\n";
    return 1;
  }
  ferry::Sqs& sqs = (*broker)->sqs();
  absl::StatusOr<ferry::GetQueueUrlResult> url =
      sqs.GetQueueUrl({}, {.queue_name = "readings"});
  if (!url.ok()) {
    std::cerr << url.status() << "\n";
    return 1;
  }
  std::set<std::string> forwarded;
  for (;;) {
    absl::StatusOr<ferry::ReceiveMessageResult> batch =
        sqs.ReceiveMessage({}, {.queue_url = url->queue_url,
                                .max_number_of_messages = 10,
                                .wait_time_seconds = 0});
    if (!batch.ok() || batch->messages.empty()) break;
    ferry::DeleteMessageBatchRequest done{.queue_url = url->queue_url};
    for (const ferry::Message& m : batch->messages) {
      forwarded.insert(m.body);  // "upload"
      done.entries.push_back(
          {.id = m.message_id, .receipt_handle = m.receipt_handle});
    }
    if (!sqs.DeleteMessageBatch({}, done).ok()) return 1;
  }
  std::cout << "forwarded " << forwarded.size() << " readings\n";
  broker->reset();
  std::filesystem::remove_all(dir);

  std::set<int> indexes;
  for (const std::string& body : forwarded) {
    int i = 0;
    size_t space = body.find(' ');
    if (absl::SimpleAtoi(body.substr(8, space - 8), &i)) indexes.insert(i);
  }
  int missing = 0;
  for (int i = 0; i < acknowledged; ++i) missing += indexes.count(i) == 0;
  std::cout << (missing == 0 ? "no acknowledged reading lost\n"
                             : absl::StrCat(missing, " readings lost\n"));
  return missing == 0 && acknowledged == kAcknowledgedBeforeKill ? 0 : 1;
}
