// A Kinesis stream in-process: a producer writes click events, a consumer
// group of two workers shares the shards and checkpoints what it processed,
// and a replay reads everything again from a timestamp.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/consumer_group.h"
#include "ferry/kinesis.h"
#include "ferry/memory_backend.h"
#include "ferry/stream.h"

namespace {

// Counts clicks per user; checkpoints after every batch.
class ClickCounter : public ferry::RecordProcessor {
 public:
  explicit ClickCounter(std::map<std::string, int>* counts) : counts_(counts) {}
  void ProcessRecords(const std::vector<ferry::ConsumerRecord>& records,
                      ferry::Checkpointer& checkpointer) override {
    for (const ferry::ConsumerRecord& r : records)
      ++(*counts_)[r.partition_key];
    if (absl::Status s = checkpointer.Checkpoint(); !s.ok()) {
      std::cerr << "checkpoint: " << s << "\n";
    }
  }
  void ShardEnded(ferry::Checkpointer& checkpointer) override {
    (void)checkpointer.Checkpoint();
  }

 private:
  std::map<std::string, int>* const counts_;
};

absl::Status Run() {
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
      ferry::Broker::Open({}, ferry::NewMemoryBackend());
  if (!broker.ok()) return broker.status();
  const absl::Time start = (*broker)->clock().Now();

  // Producer.
  absl::StatusOr<ferry::Stream> clicks =
      (*broker)->CreateStream("clicks", {.shard_count = 2});
  if (!clicks.ok()) return clicks.status();
  std::vector<ferry::StreamRecordInput> batch;
  std::vector<std::string> users;
  for (int i = 0; i < 100; ++i) users.push_back(absl::StrCat("user-", i % 7));
  for (const std::string& user : users) {
    batch.push_back({.partition_key = user, .data = "click"});
  }
  if (absl::Status s = clicks->Put(batch); !s.ok()) return s;

  // A consumer group of two workers.
  std::map<std::string, int> counts;
  std::vector<std::unique_ptr<ferry::ConsumerGroupWorker>> workers;
  for (const char* id : {"worker-a", "worker-b"}) {
    absl::StatusOr<std::unique_ptr<ferry::ConsumerGroupWorker>> w =
        ferry::ConsumerGroupWorker::Create(
            (*broker)->kinesis(),
            {.group = "click-counter",
             .worker_id = id,
             .stream_name = "clicks"},
            [&counts] { return std::make_unique<ClickCounter>(&counts); });
    if (!w.ok()) return w.status();
    workers.push_back(*std::move(w));
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& w : workers) {
      if (absl::Status s = w->RunOnce(); !s.ok()) return s;
    }
  }
  int total = 0;
  for (const auto& [user, n] : counts) total += n;
  std::cout << "group counted " << total << " clicks from " << counts.size()
            << " users; worker-a owns " << workers[0]->OwnedShards().size()
            << " shard(s), worker-b " << workers[1]->OwnedShards().size()
            << "\n";
  if (total != 100) return absl::InternalError("the group lost records");
  for (auto& w : workers) {
    if (absl::Status s = w->Shutdown(); !s.ok()) return s;
  }

  // Replay shard 0 from a timestamp through the AWS-shaped level.
  ferry::Kinesis& kinesis = (*broker)->kinesis();
  ferry::RequestContext ctx;
  absl::StatusOr<ferry::GetShardIteratorResult> it =
      kinesis.GetShardIterator(ctx, {.stream_name = "clicks",
                                     .shard_id = "shardId-000000000000",
                                     .shard_iterator_type = "AT_TIMESTAMP",
                                     .timestamp = start});
  if (!it.ok()) return it.status();
  absl::StatusOr<ferry::GetRecordsResult> replay =
      kinesis.GetRecords(ctx, {.shard_iterator = it->shard_iterator});
  if (!replay.ok()) return replay.status();
  std::cout << "replayed " << replay->records.size()
            << " records of shard 0 from the start\n";
  return absl::OkStatus();
}

}  // namespace

int main() {
  if (absl::Status s = Run(); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  return 0;
}
