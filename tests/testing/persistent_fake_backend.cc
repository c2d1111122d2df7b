#include "tests/testing/persistent_fake_backend.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/testing/hex.h"
#include "tests/testing/persistent_fake_stream_store.h"

namespace ferry_testing {
namespace {

using ferry::QueueId;
using ferry::QueueRecord;
using ferry::QueueStore;
using ferry::ReceiptStatus;
using ferry::StoredMessage;
using Json = nlohmann::json;

int64_t Ns(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixNanos(t);
}
absl::Time FromNs(int64_t ns) {
  if (ns == INT64_MIN) return absl::InfinitePast();
  if (ns == INT64_MAX) return absl::InfiniteFuture();
  return absl::FromUnixNanos(ns);
}

struct Slot {
  StoredMessage message;
  bool leased = false;  // received at least once and not made fresh again
  absl::Time invisible_until = absl::InfinitePast();
  absl::Time last_receive = absl::InfinitePast();
  uint64_t lease_number = 0;
};

struct FakeQueue {
  QueueRecord record;
  uint64_t next_seq = 1;
  std::map<uint64_t, Slot> messages;  // by sequence: the queue's total order
  std::map<std::string, std::pair<absl::Time, ferry::Uuid>> dedup;
};

Json ToJson(const StoredMessage& m) {
  Json attrs = Json::object();
  for (const auto& [name, v] : m.attributes) {
    attrs[Hex(name)] = {Hex(v.data_type), Hex(v.string_value),
                        Hex(v.binary_value)};
  }
  return {{"id", {m.message_id.hi, m.message_id.lo}},
          {"body", Hex(m.body)},
          {"attrs", attrs},
          {"group", Hex(m.message_group_id)},
          {"dedup", Hex(m.deduplication_id)},
          {"trace", Hex(m.trace_header)},
          {"sender", Hex(m.sender_id)},
          {"dlsrc", Hex(m.dead_letter_source_arn)},
          {"sent", Ns(m.sent_time)},
          {"enq", Ns(m.enqueue_time)},
          {"vis", Ns(m.visible_at)},
          {"rc", m.receive_count},
          {"frt", Ns(m.first_receive_time)},
          {"seq", m.sequence_number}};
}

StoredMessage MessageFromJson(const Json& j) {
  StoredMessage m;
  m.message_id = {j["id"][0].get<uint64_t>(), j["id"][1].get<uint64_t>()};
  m.body = Unhex(j["body"]);
  ferry::MessageAttributeMap attributes;
  for (auto& [name, v] : j["attrs"].items()) {
    attributes[Unhex(name)] = {Unhex(v[0]), Unhex(v[1]), Unhex(v[2])};
  }
  m.attributes = std::move(attributes);
  m.message_group_id = Unhex(j["group"]);
  m.deduplication_id = Unhex(j["dedup"]);
  m.trace_header = Unhex(j["trace"]);
  m.sender_id = Unhex(j["sender"]);
  m.dead_letter_source_arn = Unhex(j["dlsrc"]);
  m.sent_time = FromNs(j["sent"]);
  m.enqueue_time = FromNs(j["enq"]);
  m.visible_at = FromNs(j["vis"]);
  m.receive_count = j["rc"];
  m.first_receive_time = FromNs(j["frt"]);
  m.sequence_number = j["seq"];
  return m;
}

class FakeBackend final : public ferry::Backend,
                          public QueueStore,
                          public ferry::KeyValueStore {
 public:
  explicit FakeBackend(std::string path) : path_(std::move(path)) {}

  std::string_view Name() const override { return "persistent_fake"; }
  QueueStore& queues() override { return *this; }
  ferry::KeyValueStore& kv() override { return *this; }
  ferry::StreamStore& streams() override { return *streams_; }

  absl::Status Reset() override {
    if (absl::Status s = streams_->Reset(); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    queues_.clear();
    kv_.clear();
    return SaveLocked();
  }

  absl::Status Load() {
    // Streams live in a file of their own beside the queues'.
    absl::StatusOr<std::unique_ptr<PersistentFakeStreamStore>> streams =
        PersistentFakeStreamStore::Open(path_.empty() ? std::string()
                                                      : path_ + ".streams");
    if (!streams.ok()) return streams.status();
    streams_ = *std::move(streams);
    if (path_.empty()) return absl::OkStatus();
    std::ifstream in(path_);
    if (!in) return absl::OkStatus();  // a new store
    std::stringstream buffer;
    buffer << in.rdbuf();
    Json j = Json::parse(buffer.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", 0) != 1) {
      return absl::DataLossError(absl::StrCat("cannot parse ", path_));
    }
    next_queue_id_ = j["next_queue_id"];
    for (const Json& q : j["queues"]) {
      FakeQueue fq;
      fq.record.id = q["id"];
      fq.record.key = Unhex(q["key"]);
      fq.record.fifo = q["fifo"];
      fq.record.config = Unhex(q["config"]);
      fq.record.config_version = q["version"];
      fq.next_seq = q["next_seq"];
      for (const Json& s : q["messages"]) {
        Slot slot;
        slot.message = MessageFromJson(s["m"]);
        slot.leased = s["leased"];
        slot.invisible_until = FromNs(s["until"]);
        slot.last_receive = FromNs(s["last"]);
        slot.lease_number = s["lease"];
        fq.messages[s["k"].get<uint64_t>()] = std::move(slot);
      }
      for (const Json& d : q["dedup"]) {
        fq.dedup[Unhex(d[0])] = {FromNs(d[1]), ferry::Uuid{d[2], d[3]}};
      }
      queues_[fq.record.id] = std::move(fq);
    }
    for (auto& [table, entries] : j["kv"].items()) {
      for (const Json& e : entries) {
        kv_[Unhex(table)][Unhex(e[0])] = {Unhex(e[1]), e[2].get<uint64_t>()};
      }
    }
    return absl::OkStatus();
  }

  // ---- catalog ----
  absl::StatusOr<QueueRecord> CreateQueue(const CreateQueueParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (FindByKeyLocked(p.key) != nullptr) {
      return absl::AlreadyExistsError("queue exists");
    }
    FakeQueue q;
    q.record = {next_queue_id_++, std::string(p.key), p.fifo,
                std::string(p.config), 1};
    QueueRecord record = q.record;
    queues_[record.id] = std::move(q);
    if (absl::Status s = SaveLocked(); !s.ok()) return s;
    return record;
  }

  absl::StatusOr<QueueRecord> GetQueue(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    FakeQueue* q = FindByKeyLocked(key);
    if (q == nullptr) return absl::NotFoundError("no such queue");
    return q->record;
  }

  absl::StatusOr<uint64_t> UpdateQueueConfig(
      const UpdateQueueParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    if (it->second.record.config_version != p.expected_version) {
      return absl::AbortedError("config version mismatch");
    }
    it->second.record.config = std::string(p.config);
    uint64_t v = ++it->second.record.config_version;
    if (absl::Status s = SaveLocked(); !s.ok()) return s;
    return v;
  }

  absl::Status DeleteQueue(QueueId queue) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (queues_.erase(queue) == 0) return absl::NotFoundError("no such queue");
    return SaveLocked();
  }

  absl::StatusOr<std::vector<QueueRecord>> ListQueues(
      const ListQueuesParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<QueueRecord> out;
    for (auto& [id, q] : queues_) {
      const std::string& k = q.record.key;
      if (k.compare(0, p.key_prefix.size(), p.key_prefix) != 0) continue;
      if (!p.start_after.empty() && k <= p.start_after) continue;
      out.push_back(q.record);
    }
    std::sort(out.begin(), out.end(),
              [](const QueueRecord& a, const QueueRecord& b) {
                return a.key < b.key;
              });
    if (out.size() > p.limit) out.resize(p.limit);
    return out;
  }

  // ---- messages ----
  absl::Status Append(const AppendParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const AppendEntry& e : p.entries) {
      if (queues_.count(e.queue) == 0)
        return absl::NotFoundError("no such queue");
    }
    for (size_t i = 0; i < p.entries.size(); ++i) {
      AppendEntry& e = p.entries[i];
      FakeQueue& q = queues_[e.queue];
      AppendOutcome& o = p.outcomes[i];
      if (!e.dedup_key.empty()) {
        auto d = q.dedup.find(e.dedup_key);
        if (d != q.dedup.end() && d->second.first > p.now) {
          o = {.duplicate = true, .message_id = d->second.second};
          continue;
        }
        q.dedup[e.dedup_key] = {e.dedup_expires_at, e.message.message_id};
      }
      AppendLocked(q, std::move(e.message), &o);
    }
    return SaveLocked();
  }

  absl::StatusOr<LeaseResult> Lease(const LeaseParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    FakeQueue& q = it->second;
    ExpireLocked(q, p.now, p.retention);
    LeaseResult result;
    int64_t in_flight = 0;
    for (auto& [seq, slot] : q.messages) {
      if (StateOf(slot, p.now, p.retroactive_delay) ==
          MessageState::kInFlight) {
        ++in_flight;
      }
    }
    std::vector<uint64_t> order = EligibleLocked(q, p.now, p.retroactive_delay);
    std::vector<uint64_t> to_move;
    for (uint64_t seq : order) {
      if (result.leases.size() >= static_cast<size_t>(p.max_messages)) break;
      Slot& slot = q.messages[seq];
      if (p.max_receive_count > 0 &&
          slot.message.receive_count + 1 > p.max_receive_count &&
          queues_.count(p.dead_letter_queue) > 0) {
        to_move.push_back(seq);
        continue;
      }
      if (p.max_in_flight > 0 && in_flight >= p.max_in_flight) break;
      ++in_flight;
      ++slot.message.receive_count;
      if (slot.message.first_receive_time == absl::InfinitePast()) {
        slot.message.first_receive_time = p.now;
      }
      slot.leased = true;
      slot.invisible_until = p.invisible_until;
      slot.last_receive = p.now;
      ++slot.lease_number;
      result.leases.push_back(
          {slot.message,
           absl::StrCat("fk", q.record.id, "-", seq, "-", slot.lease_number)});
    }
    for (uint64_t seq : to_move) {
      StoredMessage m = std::move(q.messages[seq].message);
      q.messages.erase(seq);
      m.dead_letter_source_arn = std::string(p.source_key);
      if (p.dead_letter_is_fifo) {
        m.deduplication_id = m.message_id.ToString();
        m.enqueue_time = p.now;
      }
      AppendOutcome ignored;
      AppendLocked(queues_[p.dead_letter_queue], std::move(m), &ignored);
      ++result.moved_to_dead_letter;
    }
    if (result.leases.empty() && p.max_in_flight > 0 &&
        in_flight >= p.max_in_flight && !order.empty()) {
      return absl::ResourceExhaustedError("too many messages in flight");
    }
    for (auto& [seq, slot] : q.messages) {
      absl::Time t = slot.leased ? slot.invisible_until
                                 : VisibleAt(slot, p.retroactive_delay);
      if (t > p.now) result.next_change = std::min(result.next_change, t);
    }
    if (absl::Status s = SaveLocked(); !s.ok()) return s;
    return result;
  }

  absl::Status Ack(const AckParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    for (size_t i = 0; i < p.receipts.size(); ++i) {
      Slot* slot = nullptr;
      uint64_t seq = 0;
      p.statuses[i] = Resolve(it->second, p.receipts[i], p.now,
                              p.require_live_lease, &slot, &seq);
      if (p.statuses[i] == ReceiptStatus::kOk) it->second.messages.erase(seq);
    }
    return SaveLocked();
  }

  absl::Status ChangeVisibility(const ChangeVisibilityParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    for (size_t i = 0; i < p.changes.size(); ++i) {
      Slot* slot = nullptr;
      uint64_t seq = 0;
      ReceiptStatus s = Resolve(it->second, p.changes[i].receipt, p.now,
                                p.require_live_lease, &slot, &seq);
      if (s == ReceiptStatus::kOk) {
        if (p.changes[i].invisible_until - slot->last_receive >
            p.max_since_receive) {
          s = ReceiptStatus::kBeyondLimit;
        } else {
          slot->leased = true;
          slot->invisible_until = p.changes[i].invisible_until;
        }
      }
      p.statuses[i] = s;
    }
    return SaveLocked();
  }

  absl::StatusOr<QueueCounts> Count(const CountParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    ExpireLocked(it->second, p.now, p.retention);
    QueueCounts c;
    for (auto& [seq, slot] : it->second.messages) {
      switch (StateOf(slot, p.now, p.retroactive_delay)) {
        case MessageState::kVisible:
          ++c.visible;
          break;
        case MessageState::kInFlight:
          ++c.in_flight;
          break;
        case MessageState::kDelayed:
          ++c.delayed;
          break;
      }
    }
    return c;
  }

  absl::Status Purge(QueueId queue) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    it->second.messages.clear();
    it->second.dedup.clear();
    return SaveLocked();
  }

  absl::StatusOr<std::vector<PeekedMessage>> Peek(
      const PeekParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.queue);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    ExpireLocked(it->second, p.now, p.retention);
    std::vector<PeekedMessage> out;
    for (auto& [seq, slot] : it->second.messages) {
      if (out.size() >= p.limit) break;
      MessageState state = StateOf(slot, p.now, p.retroactive_delay);
      out.push_back({slot.message, state,
                     state == MessageState::kInFlight
                         ? slot.invisible_until
                         : VisibleAt(slot, p.retroactive_delay)});
    }
    return out;
  }

  absl::StatusOr<int64_t> Move(const MoveParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(p.source);
    if (it == queues_.end()) return absl::NotFoundError("no such queue");
    FakeQueue& q = it->second;
    ExpireLocked(q, p.now, p.retention);
    int64_t moved = 0;
    std::vector<uint64_t> seqs;
    for (auto& [seq, slot] : q.messages) {
      if (StateOf(slot, p.now, std::nullopt) == MessageState::kVisible) {
        seqs.push_back(seq);
      }
    }
    for (uint64_t seq : seqs) {
      if (moved >= p.max_messages) break;
      StoredMessage m = q.messages[seq].message;
      QueueId dest = 0;
      if (!p.plan(m, &dest).ok() || queues_.count(dest) == 0) break;
      q.messages.erase(seq);
      AppendOutcome ignored;
      AppendLocked(queues_[dest], std::move(m), &ignored);
      ++moved;
    }
    if (absl::Status s = SaveLocked(); !s.ok()) return s;
    return moved;
  }

  // ---- key-value ----
  absl::StatusOr<std::optional<Entry>> Get(std::string_view table,
                                           std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto t = kv_.find(std::string(table));
    if (t == kv_.end()) return std::optional<Entry>();
    auto e = t->second.find(std::string(key));
    if (e == t->second.end()) return std::optional<Entry>();
    return std::optional<Entry>(e->second);
  }

  absl::StatusOr<uint64_t> CompareAndSwap(std::string_view table,
                                          std::string_view key,
                                          uint64_t expected_version,
                                          std::string_view value) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& entries = kv_[std::string(table)];
    auto e = entries.find(std::string(key));
    uint64_t current = e == entries.end() ? 0 : e->second.version;
    if (current != expected_version)
      return absl::AbortedError("version mismatch");
    entries[std::string(key)] = {std::string(value), current + 1};
    if (absl::Status s = SaveLocked(); !s.ok()) return s;
    return current + 1;
  }

  absl::StatusOr<bool> Delete(std::string_view table, std::string_view key,
                              uint64_t expected_version) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& entries = kv_[std::string(table)];
    auto e = entries.find(std::string(key));
    if (e == entries.end()) return false;
    if (expected_version != 0 && e->second.version != expected_version) {
      return absl::AbortedError("version mismatch");
    }
    entries.erase(e);
    if (absl::Status s = SaveLocked(); !s.ok()) return s;
    return true;
  }

  absl::StatusOr<std::vector<std::pair<std::string, Entry>>> Scan(
      std::string_view table, std::string_view prefix,
      std::string_view start_after, size_t limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::string, Entry>> out;
    auto t = kv_.find(std::string(table));
    if (t == kv_.end()) return out;
    for (auto& [k, e] : t->second) {
      if (out.size() >= limit) break;
      if (k.compare(0, prefix.size(), prefix) != 0) continue;
      if (!start_after.empty() && k <= start_after) continue;
      out.push_back({k, e});
    }
    return out;
  }

 private:
  using MessageState = QueueStore::MessageState;

  static absl::Time VisibleAt(const Slot& slot,
                              const std::optional<absl::Duration>& retro) {
    if (retro.has_value()) return slot.message.enqueue_time + *retro;
    return slot.message.visible_at;
  }

  static MessageState StateOf(const Slot& slot, absl::Time now,
                              const std::optional<absl::Duration>& retro) {
    if (slot.leased) {
      return slot.invisible_until > now ? MessageState::kInFlight
                                        : MessageState::kVisible;
    }
    return VisibleAt(slot, retro) > now ? MessageState::kDelayed
                                        : MessageState::kVisible;
  }

  FakeQueue* FindByKeyLocked(std::string_view key) {
    for (auto& [id, q] : queues_) {
      if (q.record.key == key) return &q;
    }
    return nullptr;
  }

  static void AppendLocked(FakeQueue& q, StoredMessage m, AppendOutcome* o) {
    uint64_t seq = q.next_seq++;
    if (q.record.fifo) m.sequence_number = seq;
    m.receive_count = m.receive_count;  // carried over by DLQ moves
    o->duplicate = false;
    o->message_id = m.message_id;
    o->sequence_number = q.record.fifo ? seq : 0;
    Slot slot;
    slot.message = std::move(m);
    q.messages[seq] = std::move(slot);
  }

  static void ExpireLocked(FakeQueue& q, absl::Time now,
                           absl::Duration retention) {
    for (auto it = q.messages.begin(); it != q.messages.end();) {
      if (it->second.message.enqueue_time + retention <= now) {
        it = q.messages.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = q.dedup.begin(); it != q.dedup.end();) {
      if (it->second.first <= now) {
        it = q.dedup.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Sequences leasable now, in delivery order. FIFO: per group, the visible
  // messages before the group's first unavailable one; whole groups in the
  // order of their first message.
  static std::vector<uint64_t> EligibleLocked(
      FakeQueue& q, absl::Time now,
      const std::optional<absl::Duration>& retro) {
    std::vector<uint64_t> out;
    if (!q.record.fifo) {
      for (auto& [seq, slot] : q.messages) {
        if (StateOf(slot, now, retro) == MessageState::kVisible)
          out.push_back(seq);
      }
      return out;
    }
    std::vector<std::string> group_order;
    std::map<std::string, std::vector<uint64_t>> groups;
    std::map<std::string, bool> blocked;
    for (auto& [seq, slot] : q.messages) {
      const std::string& g = slot.message.message_group_id;
      if (!groups.count(g) && !blocked.count(g)) group_order.push_back(g);
      if (blocked[g]) continue;
      if (StateOf(slot, now, retro) == MessageState::kVisible) {
        groups[g].push_back(seq);
      } else {
        blocked[g] = true;
      }
    }
    for (const std::string& g : group_order) {
      for (uint64_t seq : groups[g]) out.push_back(seq);
    }
    return out;
  }

  ReceiptStatus Resolve(FakeQueue& q, std::string_view receipt, absl::Time now,
                        bool require_live, Slot** slot, uint64_t* seq) {
    std::vector<std::string> parts =
        absl::StrSplit(absl::string_view(receipt.data(), receipt.size()), '-');
    uint64_t queue_id = 0, lease = 0;
    if (parts.size() != 3 || parts[0].size() < 3 ||
        parts[0].substr(0, 2) != "fk" ||
        !absl::SimpleAtoi(parts[0].substr(2), &queue_id) ||
        !absl::SimpleAtoi(parts[1], seq) ||
        !absl::SimpleAtoi(parts[2], &lease)) {
      return ReceiptStatus::kMalformed;
    }
    if (queue_id != q.record.id) return ReceiptStatus::kWrongQueue;
    auto it = q.messages.find(*seq);
    if (it == q.messages.end()) return ReceiptStatus::kGone;
    if (lease == 0 || lease > it->second.lease_number) {
      return ReceiptStatus::kMalformed;
    }
    if (require_live &&
        (lease != it->second.lease_number || !it->second.leased ||
         it->second.invisible_until <= now)) {
      return ReceiptStatus::kExpired;
    }
    *slot = &it->second;
    return ReceiptStatus::kOk;
  }

  absl::Status SaveLocked() {
    if (path_.empty()) return absl::OkStatus();
    Json j = {{"format", 1}, {"next_queue_id", next_queue_id_}};
    j["queues"] = Json::array();
    for (auto& [id, q] : queues_) {
      Json jq = {{"id", q.record.id},
                 {"key", Hex(q.record.key)},
                 {"fifo", q.record.fifo},
                 {"config", Hex(q.record.config)},
                 {"version", q.record.config_version},
                 {"next_seq", q.next_seq}};
      jq["messages"] = Json::array();
      for (auto& [seq, slot] : q.messages) {
        jq["messages"].push_back({{"k", seq},
                                  {"m", ToJson(slot.message)},
                                  {"leased", slot.leased},
                                  {"until", Ns(slot.invisible_until)},
                                  {"last", Ns(slot.last_receive)},
                                  {"lease", slot.lease_number}});
      }
      jq["dedup"] = Json::array();
      for (auto& [key, d] : q.dedup) {
        jq["dedup"].push_back(
            {Hex(key), Ns(d.first), d.second.hi, d.second.lo});
      }
      j["queues"].push_back(std::move(jq));
    }
    j["kv"] = Json::object();
    for (auto& [table, entries] : kv_) {
      Json rows = Json::array();
      for (auto& [k, e] : entries)
        rows.push_back({Hex(k), Hex(e.value), e.version});
      j["kv"][Hex(table)] = std::move(rows);
    }
    std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << j.dump();
      if (!out)
        return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot rename ", tmp));
    }
    return absl::OkStatus();
  }

  const std::string path_;
  std::mutex mu_;
  QueueId next_queue_id_ = 1;
  std::map<QueueId, FakeQueue> queues_;
  std::map<std::string, std::map<std::string, Entry>> kv_;
  std::unique_ptr<PersistentFakeStreamStore> streams_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ferry::Backend>> OpenPersistentFakeBackend(
    const PersistentFakeOptions& options) {
  auto backend = std::make_unique<FakeBackend>(options.path);
  if (absl::Status s = backend->Load(); !s.ok()) return s;
  return std::unique_ptr<ferry::Backend>(std::move(backend));
}

}  // namespace ferry_testing
