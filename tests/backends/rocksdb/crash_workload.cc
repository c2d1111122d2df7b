#include "tests/backends/rocksdb/crash_workload.h"

#include <random>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ferry/broker.h"
#include "ferry/kinesis.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "ferry/testing/manual_executor.h"

namespace ferry_crash {

std::string ArnOf(const std::string& name) {
  return absl::StrCat("arn:aws:sqs:", kRegion, ":", kAccount, ":", name);
}

namespace {

std::string UrlOf(const std::string& name) {
  return absl::StrCat("http://localhost:4566/", kAccount, "/", name);
}

// Receives up to `max` messages with a 10 s lease and reports each receipt
// ("R <body> <receive count>") before the caller acts on any of them.
absl::StatusOr<ferry::ReceiveMessageResult> ReceiveAndReport(
    ferry::Sqs& sqs, const ferry::RequestContext& ctx, const std::string& url,
    int max, const std::function<void(const std::string&)>& report) {
  auto got =
      sqs.ReceiveMessage(ctx, {.queue_url = url,
                               .attribute_names = {"ApproximateReceiveCount"},
                               .max_number_of_messages = max,
                               .visibility_timeout = 10,
                               .wait_time_seconds = 0});
  if (!got.ok()) return got;
  for (const ferry::Message& m : got->messages) {
    report(absl::StrCat("R ", m.body, " ",
                        m.attributes.at("ApproximateReceiveCount")));
  }
  return got;
}

void StandardLoop(ferry::Sqs& sqs, const ferry::RequestContext& ctx,
                  ferry_testing::ManualClock& clock, int generation,
                  uint64_t seed, int max_ops,
                  const std::function<void(const std::string&)>& report,
                  const std::atomic<bool>* stop) {
  std::mt19937_64 rng(seed);
  int n = 0;
  for (int op = 0; op < max_ops && !stop->load(); ++op) {
    int r = static_cast<int>(rng() % 100);
    if (r < 35) {
      std::string body = absl::StrCat("s", generation, "-", n++);
      if (sqs.SendMessage(ctx,
                          {.queue_url = UrlOf(kStandard), .message_body = body})
              .ok()) {
        report(absl::StrCat("S ", body));
      }
    } else if (r < 90) {
      std::string url = r < 80 ? UrlOf(kStandard) : UrlOf(kDeadLetter);
      auto got = ReceiveAndReport(sqs, ctx, url, 5, report);
      if (!got.ok()) continue;
      for (const ferry::Message& m : got->messages) {
        int what = static_cast<int>(rng() % 100);
        if (what < 45) {
          report(absl::StrCat("X ", m.body));
          if (sqs.DeleteMessage(ctx, {.queue_url = url,
                                      .receipt_handle = m.receipt_handle})
                  .ok()) {
            report(absl::StrCat("D ", m.body));
          }
        } else if (what < 65) {
          (void)sqs.ChangeMessageVisibility(
              ctx, {.queue_url = url,
                    .receipt_handle = m.receipt_handle,
                    .visibility_timeout = static_cast<int>(rng() % 20)});
        }
        // Otherwise the lease runs out: the receive count grows until the
        // redrive moves it to the dead-letter queue.
      }
    } else {
      clock.Advance(absl::Seconds(11));
      report(absl::StrCat("T ", absl::ToUnixSeconds(clock.Now())));
    }
  }
}

void FifoLoop(ferry::Sqs& sqs, const ferry::RequestContext& ctx, int generation,
              uint64_t seed, int max_ops,
              const std::function<void(const std::string&)>& report,
              const std::atomic<bool>* stop) {
  std::mt19937_64 rng(seed ^ 0x5bd1e995);
  int n = 0;
  for (int op = 0; op < max_ops && !stop->load(); ++op) {
    if (rng() % 100 < 50) {
      std::string body = absl::StrCat("f", generation, "-", n);
      std::string group = absl::StrCat("g", n % 4);
      ++n;
      if (sqs.SendMessage(ctx, {.queue_url = UrlOf(kFifo),
                                .message_body = body,
                                .message_deduplication_id = body,
                                .message_group_id = group})
              .ok()) {
        report(absl::StrCat("S ", body));
      }
    } else {
      auto got = ReceiveAndReport(sqs, ctx, UrlOf(kFifo), 10, report);
      if (!got.ok()) continue;
      for (const ferry::Message& m : got->messages) {
        if (rng() % 100 < 20) break;  // leave the rest of the group in flight
        report(absl::StrCat("X ", m.body));
        if (!sqs.DeleteMessage(ctx, {.queue_url = UrlOf(kFifo),
                                     .receipt_handle = m.receipt_handle})
                 .ok()) {
          break;
        }
        report(absl::StrCat("D ", m.body));
      }
    }
  }
}

// PutRecords batches of 1-20 records to a 2-shard stream; data is
// "k<generation>-<n>", so that each shard's records must appear in
// increasing (generation, n) order.
void StreamLoop(ferry::Kinesis& kinesis, const ferry::RequestContext& ctx,
                int generation, uint64_t seed, int max_ops,
                const std::function<void(const std::string&)>& report,
                const std::atomic<bool>* stop) {
  std::mt19937_64 rng(seed ^ 0x9e3779b9);
  int n = 0;
  for (int op = 0; op < max_ops && !stop->load(); ++op) {
    ferry::PutRecordsRequest request{.stream_name = kStream};
    const int count = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < count; ++i) {
      request.records.push_back(
          {.data = absl::StrCat("k", generation, "-", n++),
           .partition_key = absl::StrCat("p", rng() % 16)});
    }
    auto put = kinesis.PutRecords(ctx, request);
    if (!put.ok()) continue;
    for (size_t i = 0; i < put->records.size(); ++i) {
      if (put->records[i].sequence_number.has_value()) {
        report(absl::StrCat("K ", request.records[i].data));
      }
    }
  }
}

}  // namespace

void RunWorkload(std::unique_ptr<ferry::Backend> backend, int generation,
                 absl::Time start, uint64_t seed, int max_ops,
                 const std::function<void(const std::string&)>& report,
                 const std::atomic<bool>* stop) {
  ferry_testing::ManualClock clock(start);
  ferry_testing::ManualExecutor executor;
  ferry::BrokerOptions options;
  options.clock = &clock;
  options.executor = &executor;
  options.default_account = kAccount;
  options.default_region = kRegion;
  auto broker = ferry::Broker::Open(options, std::move(backend));
  if (!broker.ok()) return;
  ferry::Sqs& sqs = (*broker)->sqs();
  ferry::RequestContext ctx{.account = kAccount,
                            .region = kRegion,
                            .endpoint = "http://localhost:4566"};
  const std::string retention = "1209600";  // 14 days
  if (!sqs.CreateQueue(ctx,
                       {.queue_name = kDeadLetter,
                        .attributes = {{"MessageRetentionPeriod", retention}}})
           .ok() ||
      !sqs.CreateQueue(
              ctx,
              {.queue_name = kStandard,
               .attributes = {{"MessageRetentionPeriod", retention},
                              {"RedrivePolicy",
                               absl::StrCat("{\"deadLetterTargetArn\":\"",
                                            ArnOf(kDeadLetter),
                                            "\",\"maxReceiveCount\":3}")}}})
           .ok() ||
      !sqs.CreateQueue(ctx,
                       {.queue_name = kFifo,
                        .attributes = {{"FifoQueue", "true"},
                                       {"MessageRetentionPeriod", retention}}})
           .ok()) {
    return;
  }
  ferry::Kinesis& kinesis = (*broker)->kinesis();
  absl::Status created =
      kinesis.CreateStream(ctx, {.stream_name = kStream, .shard_count = 2});
  if (!created.ok() && !absl::IsAlreadyExists(created)) return;
  if (created.ok() &&
      !kinesis
           .IncreaseStreamRetentionPeriod(
               ctx, {.stream_name = kStream, .retention_period_hours = 8760})
           .ok()) {
    return;
  }
  std::thread fifo(
      [&] { FifoLoop(sqs, ctx, generation, seed, max_ops, report, stop); });
  std::thread stream([&] {
    StreamLoop(kinesis, ctx, generation, seed, max_ops, report, stop);
  });
  StandardLoop(sqs, ctx, clock, generation, seed, max_ops, report, stop);
  fifo.join();
  stream.join();
}

void Ledger::Apply(const std::string& line) {
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  if (parts.size() < 2) return;
  if (parts[0] == "S") {
    sent_.insert(parts[1]);
  } else if (parts[0] == "X") {
    delete_attempted_.insert(parts[1]);
  } else if (parts[0] == "K") {
    records_.insert(parts[1]);
  } else if (parts[0] == "D") {
    deleted_.insert(parts[1]);
  } else if (parts[0] == "R" && parts.size() == 3) {
    int64_t count = 0;
    if (absl::SimpleAtoi(parts[2], &count)) {
      int64_t& best = max_receive_count_[parts[1]];
      best = std::max(best, count);
    }
  } else if (parts[0] == "T") {
    int64_t secs = 0;
    if (absl::SimpleAtoi(parts[1], &secs)) {
      latest_ = std::max(latest_, absl::FromUnixSeconds(secs));
    }
  }
}

std::vector<std::string> Ledger::Check(ferry::Backend& backend) const {
  std::vector<std::string> problems;
  std::map<std::string, std::pair<std::string, int64_t>> present;
  // FIFO: the (generation, index) of each group's messages in queue order.
  for (const char* name : {kStandard, kDeadLetter, kFifo}) {
    auto q = backend.queues().GetQueue(ArnOf(name));
    if (!q.ok()) {
      if (!sent_.empty()) {
        problems.push_back(absl::StrCat("queue ", name, " missing"));
      }
      continue;
    }
    ferry::QueueStore::PeekParams p;
    p.queue = q->id;
    p.now = latest_ + absl::Hours(1);
    p.limit = 1 << 30;
    auto peeked = backend.queues().Peek(p);
    if (!peeked.ok()) {
      problems.push_back(
          absl::StrCat("peek ", name, ": ", peeked.status().ToString()));
      continue;
    }
    std::map<std::string, std::pair<int64_t, int64_t>> last_in_group;
    const std::pair<int64_t, int64_t> kNone{-1, -1};
    for (const auto& pm : *peeked) {
      const std::string body = pm.message.body.str();
      if (present.count(body) > 0) {
        problems.push_back(absl::StrCat("duplicate ", body));
      }
      present[body] = {name, pm.message.receive_count};
      if (std::string(name) == kFifo) {
        std::vector<std::string> gi = absl::StrSplit(body.substr(1), '-');
        int64_t g = 0, i = 0;
        if (gi.size() != 2 || !absl::SimpleAtoi(gi[0], &g) ||
            !absl::SimpleAtoi(gi[1], &i)) {
          problems.push_back(absl::StrCat("bad body ", body));
          continue;
        }
        auto& last =
            last_in_group.try_emplace(pm.message.message_group_id, kNone)
                .first->second;
        std::pair<int64_t, int64_t> here{g, i};
        if (here <= last) {
          problems.push_back(absl::StrCat("FIFO order broken at ", body));
        }
        last = here;
      }
    }
  }
  for (const std::string& body : sent_) {
    if (delete_attempted_.count(body) == 0 && present.count(body) == 0) {
      problems.push_back(absl::StrCat("acknowledged send lost: ", body));
    }
  }
  for (const std::string& body : deleted_) {
    if (present.count(body) > 0) {
      problems.push_back(absl::StrCat("deleted message came back: ", body));
    }
  }
  for (const auto& [body, where] : present) {
    auto it = max_receive_count_.find(body);
    if (it != max_receive_count_.end() && where.second < it->second) {
      problems.push_back(absl::StrCat("receive count of ", body,
                                      " went back from ", it->second, " to ",
                                      where.second));
    }
  }
  // The stream: every acknowledged record is there, and each shard holds its
  // records in the order they were written.
  auto stream = backend.streams().GetStream(absl::StrCat(
      "arn:aws:kinesis:", kRegion, ":", kAccount, ":stream/", kStream));
  if (!stream.ok()) {
    if (!records_.empty()) problems.push_back("stream missing");
  } else {
    std::set<std::string> stored;
    auto shards = backend.streams().ListShards(stream->id);
    if (!shards.ok()) {
      problems.push_back(
          absl::StrCat("list shards: ", shards.status().ToString()));
    } else {
      for (const ferry::ShardState& shard : *shards) {
        std::pair<int64_t, int64_t> last{-1, -1};
        uint64_t from = 0;
        while (true) {
          auto read = backend.streams().Read({.stream = stream->id,
                                              .shard = shard.shard,
                                              .from_sequence = from,
                                              .max_records = 10000});
          if (!read.ok()) {
            problems.push_back(
                absl::StrCat("read: ", read.status().ToString()));
            break;
          }
          if (read->records.empty()) break;
          for (const auto& r : read->records) {
            std::vector<std::string> gi = absl::StrSplit(r.data.substr(1), '-');
            int64_t g = 0, i = 0;
            if (gi.size() != 2 || !absl::SimpleAtoi(gi[0], &g) ||
                !absl::SimpleAtoi(gi[1], &i)) {
              problems.push_back(absl::StrCat("bad record ", r.data));
              continue;
            }
            if (std::make_pair(g, i) <= last) {
              problems.push_back(
                  absl::StrCat("stream order broken at ", r.data));
            }
            last = {g, i};
            if (!stored.insert(r.data).second) {
              problems.push_back(absl::StrCat("duplicate record ", r.data));
            }
          }
          from = read->next_sequence;
        }
      }
    }
    for (const std::string& data : records_) {
      if (stored.count(data) == 0) {
        problems.push_back(absl::StrCat("acknowledged record lost: ", data));
      }
    }
  }
  if (problems.size() > 20) problems.resize(20);
  return problems;
}

}  // namespace ferry_crash
