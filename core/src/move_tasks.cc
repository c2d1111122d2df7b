// Message move tasks (StartMessageMoveTask and friends): redrive from a
// dead-letter queue back to its sources or to a chosen queue. Tasks live in
// the backend's key-value store, so they survive restarts on durable
// backends; RunMaintenance (and ListMessageMoveTasks) advance them lazily at
// their rate, measured on the broker's clock.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "digest.h"
#include "engine.h"
#include "nlohmann/json.hpp"
#include "sqs_errors.h"
#include "sqs_names.h"
#include "status_macros.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

using Json = nlohmann::json;
constexpr std::string_view kMoveTasksTable = "sqs.move-tasks";
// Without a rate AWS picks a system-optimised one; this is ferry's.
constexpr int64_t kDefaultMoveRate = 500;
constexpr int kMaxMovesPerStep = 1000;

struct MoveTask {
  std::string id;
  std::string source_arn;
  std::string destination_arn;
  std::optional<int> rate;
  std::string status = "RUNNING";
  int64_t moved = 0;
  int64_t to_move = 0;
  std::string failure_reason;
  int64_t started_ms = 0;
};

// Keys sort by start time, then by the order tasks were started within one
// millisecond, so listings are newest first even under a manual clock.
std::string TaskKey(const MoveTask& t, size_t ordinal) {
  return absl::StrCat(t.source_arn, "\x1f",
                      absl::StrFormat("%020d", t.started_ms), "\x1f",
                      absl::StrFormat("%010d", ordinal), "\x1f", t.id);
}

std::string Encode(const MoveTask& t) {
  Json j = {{"id", t.id},
            {"source", t.source_arn},
            {"dest", t.destination_arn},
            {"status", t.status},
            {"moved", t.moved},
            {"to_move", t.to_move},
            {"failure", t.failure_reason},
            {"started_ms", t.started_ms}};
  if (t.rate) j["rate"] = *t.rate;
  return j.dump();
}

std::optional<MoveTask> Decode(std::string_view s) {
  Json j = Json::parse(s.begin(), s.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  try {
    MoveTask t;
    t.id = j.at("id");
    t.source_arn = j.at("source");
    t.destination_arn = j.at("dest");
    t.status = j.at("status");
    t.moved = j.at("moved");
    t.to_move = j.at("to_move");
    t.failure_reason = j.at("failure");
    t.started_ms = j.at("started_ms");
    if (j.contains("rate")) t.rate = j.at("rate").get<int>();
    return t;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::string TaskHandle(const MoveTask& t) {
  Json j = {{"taskId", t.id}, {"sourceArn", t.source_arn}};
  return Base64Encode(j.dump());
}

bool ParseTaskHandle(std::string_view handle, std::string* id,
                     std::string* source) {
  std::string raw;
  if (!Base64Decode(handle, &raw)) return false;
  Json j = Json::parse(raw, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("taskId") ||
      !j.contains("sourceArn") || !j["taskId"].is_string() ||
      !j["sourceArn"].is_string()) {
    return false;
  }
  *id = j["taskId"].get<std::string>();
  *source = j["sourceArn"].get<std::string>();
  return true;
}

}  // namespace

absl::StatusOr<std::string> Engine::StartMoveTask(
    const RequestContext& ctx, std::string_view source_arn,
    std::string_view destination_arn, std::optional<int> rate) {
  if (source_arn.empty()) return MissingParameter("SourceArn");
  if (rate.has_value() && (*rate < 1 || *rate > 500)) {
    return InvalidParameterValue(
        std::to_string(*rate), "MaxNumberOfMessagesPerSecond",
        "MaxNumberOfMessagesPerSecond must be between 1 and 500.");
  }
  absl::StatusOr<std::shared_ptr<QueueState>> source =
      FindQueueByArn(source_arn);
  if (!source.ok()) {
    return SqsError("ResourceNotFoundException",
                    "The resource that you specified for the SourceArn "
                    "parameter doesn't exist.");
  }
  // The source must be some queue's dead-letter queue.
  bool is_dead_letter = false;
  QueueName src;
  ParseQueueArn(source_arn, &src);
  FERRY_ASSIGN_OR_RETURN(
      std::vector<QueueRecord> all,
      ListQueueRecords(src.account, src.region, "", "", 100000));
  for (const QueueRecord& r : all) {
    absl::StatusOr<QueueConfig> c = DecodeQueueConfig(r.config);
    if (c.ok() && c->dead_letter_target_arn == source_arn) {
      is_dead_letter = true;
      break;
    }
  }
  if (!is_dead_letter) {
    return InvalidParameter(
        "Source queue must be configured as a Dead Letter Queue.");
  }
  if (!destination_arn.empty() && !FindQueueByArn(destination_arn).ok()) {
    return SqsError("ResourceNotFoundException",
                    "The resource that you specified for the DestinationArn "
                    "parameter doesn't exist.");
  }
  const std::string prefix = absl::StrCat(AsAbsl(source_arn), "\x1f");
  FERRY_ASSIGN_OR_RETURN(
      auto existing, backend_->kv().Scan(kMoveTasksTable, prefix, "", 1000));
  for (const auto& [key, entry] : existing) {
    std::optional<MoveTask> t = Decode(entry.value);
    if (t && t->status == "RUNNING") {
      return InvalidParameter(
          "There is already a task running. Only one active task is allowed "
          "for a source queue arn at a given time.");
    }
  }
  FERRY_ASSIGN_OR_RETURN(QueueStore::QueueCounts counts, Counts(**source));
  MoveTask task;
  task.id = ids_.NewId().ToString();
  task.source_arn = std::string(source_arn);
  task.destination_arn = std::string(destination_arn);
  task.rate = rate;
  task.to_move = counts.visible + counts.in_flight + counts.delayed;
  task.started_ms = absl::ToUnixMillis(clock_.Now());
  FERRY_RETURN_IF_ERROR(backend_->kv()
                            .CompareAndSwap(kMoveTasksTable,
                                            TaskKey(task, existing.size()), 0,
                                            Encode(task))
                            .status());
  FERRY_RETURN_IF_ERROR(AdvanceMoveTasks(clock_.Now()));
  return TaskHandle(task);
}

absl::StatusOr<int64_t> Engine::CancelMoveTask(std::string_view handle) {
  std::string id, source;
  if (handle.empty()) return MissingParameter("TaskHandle");
  if (!ParseTaskHandle(handle, &id, &source)) {
    return InvalidParameter("Value for parameter TaskHandle is invalid.");
  }
  FERRY_RETURN_IF_ERROR(AdvanceMoveTasks(clock_.Now()));
  const std::string prefix = absl::StrCat(source, "\x1f");
  FERRY_ASSIGN_OR_RETURN(
      auto tasks, backend_->kv().Scan(kMoveTasksTable, prefix, "", 1000));
  for (const auto& [key, entry] : tasks) {
    std::optional<MoveTask> t = Decode(entry.value);
    if (!t || t->id != id) continue;
    if (t->status != "RUNNING") break;
    t->status = "CANCELLED";
    FERRY_RETURN_IF_ERROR(
        backend_->kv()
            .CompareAndSwap(kMoveTasksTable, key, entry.version, Encode(*t))
            .status());
    return t->moved;
  }
  return SqsError("ResourceNotFoundException", "Task does not exist.");
}

absl::StatusOr<std::vector<ListMessageMoveTasksResultEntry>>
Engine::ListMoveTasks(std::string_view source_arn, int max_results) {
  if (source_arn.empty()) return MissingParameter("SourceArn");
  if (max_results < 1 || max_results > 10) {
    return InvalidParameterValue(std::to_string(max_results), "MaxResults",
                                 "MaxResults must be between 1 and 10.");
  }
  if (!FindQueueByArn(source_arn).ok()) {
    return SqsError("ResourceNotFoundException",
                    "The resource that you specified for the SourceArn "
                    "parameter doesn't exist.");
  }
  FERRY_RETURN_IF_ERROR(AdvanceMoveTasks(clock_.Now()));
  const std::string prefix = absl::StrCat(AsAbsl(source_arn), "\x1f");
  FERRY_ASSIGN_OR_RETURN(
      auto tasks, backend_->kv().Scan(kMoveTasksTable, prefix, "", 100000));
  std::vector<ListMessageMoveTasksResultEntry> out;
  // Most recent first.
  for (auto it = tasks.rbegin();
       it != tasks.rend() && out.size() < static_cast<size_t>(max_results);
       ++it) {
    std::optional<MoveTask> t = Decode(it->second.value);
    if (!t) continue;
    ListMessageMoveTasksResultEntry e;
    if (t->status == "RUNNING") e.task_handle = TaskHandle(*t);
    e.status = t->status;
    e.source_arn = t->source_arn;
    e.destination_arn = t->destination_arn;
    e.max_number_of_messages_per_second = t->rate;
    e.approximate_number_of_messages_moved = t->moved;
    e.approximate_number_of_messages_to_move = t->to_move;
    e.failure_reason = t->failure_reason;
    e.started_timestamp = t->started_ms;
    out.push_back(std::move(e));
  }
  return out;
}

absl::Status Engine::RunMaintenance() { return AdvanceMoveTasks(clock_.Now()); }

absl::Status Engine::AdvanceMoveTasks(absl::Time now) {
  FERRY_ASSIGN_OR_RETURN(auto tasks,
                         backend_->kv().Scan(kMoveTasksTable, "", "", 100000));
  for (const auto& [key, entry] : tasks) {
    std::optional<MoveTask> t = Decode(entry.value);
    if (!t || t->status != "RUNNING") continue;
    absl::StatusOr<std::shared_ptr<QueueState>> source =
        FindQueueByArn(t->source_arn);
    MoveTask next = *t;
    if (!source.ok()) {
      next.status = "FAILED";
      next.failure_reason = "AWS.SimpleQueueService.NonExistentQueue";
    } else {
      // How many the rate allows by now.
      const int64_t rate = t->rate.value_or(kDefaultMoveRate);
      const absl::Duration elapsed = now - absl::FromUnixMillis(t->started_ms);
      int64_t allowed =
          static_cast<int64_t>(absl::ToDoubleSeconds(elapsed) * rate) + rate -
          t->moved;
      allowed = std::min<int64_t>(allowed, kMaxMovesPerStep);
      const QueueConfig& config = (*source)->config();
      std::string failure;
      std::vector<std::shared_ptr<QueueState>> touched;
      // Resolve every possible destination first: `plan` runs inside the
      // store's transition and must not call back into the store.
      absl::flat_hash_map<std::string, std::shared_ptr<QueueState>> targets;
      if (!t->destination_arn.empty()) {
        if (auto q = FindQueueByArn(t->destination_arn); q.ok()) {
          targets[t->destination_arn] = *q;
        }
      } else {
        QueueName src;
        ParseQueueArn(t->source_arn, &src);
        FERRY_ASSIGN_OR_RETURN(
            std::vector<QueueRecord> all,
            ListQueueRecords(src.account, src.region, "", "", 1000000));
        for (const QueueRecord& r : all) {
          if (auto q = FindQueueByArn(r.key); q.ok()) targets[r.key] = *q;
        }
      }
      if (allowed > 0) {
        absl::StatusOr<int64_t> moved = store_.Move(
            {.source = (*source)->id(),
             .now = now,
             .max_messages = static_cast<int>(allowed),
             .retention = absl::Seconds(config.message_retention_period),
             .plan = [&](StoredMessage& m, QueueId* dest) -> absl::Status {
               const std::string& target = t->destination_arn.empty()
                                               ? m.dead_letter_source_arn
                                               : t->destination_arn;
               auto q = targets.find(target);
               if (q == targets.end()) {
                 failure = "AWS.SimpleQueueService.NonExistentQueue";
                 return absl::NotFoundError("destination gone");
               }
               // A redriven message is a new message.
               m.message_id = ids_.NewId();
               m.sent_time = now;
               m.enqueue_time = now;
               m.visible_at = now;
               m.receive_count = 0;
               m.first_receive_time = absl::InfinitePast();
               m.dead_letter_source_arn.clear();
               if (q->second->fifo() && m.deduplication_id.empty()) {
                 m.deduplication_id = m.message_id.ToString();
               }
               if (!q->second->fifo()) m.deduplication_id.clear();
               *dest = q->second->id();
               touched.push_back(q->second);
               return absl::OkStatus();
             }});
        if (moved.ok()) next.moved += *moved;
      }
      for (auto& q : touched) q->Notify();
      if (!failure.empty()) {
        next.status = "FAILED";
        next.failure_reason = failure;
      } else {
        absl::StatusOr<QueueStore::QueueCounts> left = Counts(**source);
        if (left.ok() && left->visible == 0 &&
            (next.moved >= next.to_move ||
             left->in_flight + left->delayed == 0)) {
          next.status = "COMPLETED";
        }
      }
    }
    if (next.status != t->status || next.moved != t->moved) {
      absl::StatusOr<uint64_t> v = backend_->kv().CompareAndSwap(
          kMoveTasksTable, key, entry.version, Encode(next));
      if (!v.ok() && !absl::IsAborted(v.status())) return v.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace ferry::internal
