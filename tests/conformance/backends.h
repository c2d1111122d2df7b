// The backends every conformance test runs on, and the fixture they share.
//
// Every SQS rule is stated once, as a TEST_P over `AllBackends()`; a backend
// is done when the whole suite passes on it unchanged. Each test file ends
// with
//
//   INSTANTIATE_TEST_SUITE_P(AllBackends, MyTest,
//                            testing::ValuesIn(AllBackends()), BackendName);
//
// The fixture opens a `ferry::Broker` over a fresh backend with a manual
// clock, sequential ids and a manual executor, so every test is deterministic
// and never sleeps: time moves only through `Advance()`, and long polls are
// driven with `clock_.BlockUntilWaiters(n)`.
#ifndef FERRY_TESTS_CONFORMANCE_BACKENDS_H_
#define FERRY_TESTS_CONFORMANCE_BACKENDS_H_

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/broker.h"
#include "ferry/errors.h"
#include "ferry/memory_backend.h"
#include "ferry/queue.h"
#if FERRY_TEST_ROCKSDB
#include "ferry/rocksdb_backend.h"
#endif
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "ferry/testing/manual_executor.h"
#include "ferry/testing/sequential_ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/persistent_fake_backend.h"
#include "tests/testing/status_matchers.h"

namespace ferry_conformance {

// One backend under test: a name for test names and logs, and a factory that
// makes a fresh, empty instance.
struct BackendFactory {
  std::string name;
  std::function<std::unique_ptr<ferry::Backend>()> make;
};

inline void PrintTo(const BackendFactory& factory, std::ostream* os) {
  *os << factory.name;
}

// A backend that removes its directory (database or files) when it is
// destroyed.
class TempDirBackend final : public ferry::Backend {
 public:
  TempDirBackend(std::unique_ptr<ferry::Backend> inner, std::string dir)
      : inner_(std::move(inner)), dir_(std::move(dir)) {}
  ~TempDirBackend() override {
    inner_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string_view Name() const override { return inner_->Name(); }
  ferry::QueueStore& queues() override { return inner_->queues(); }
  ferry::KeyValueStore& kv() override { return inner_->kv(); }
  ferry::StreamStore& streams() override { return inner_->streams(); }
  absl::Status Reset() override { return inner_->Reset(); }

 private:
  std::unique_ptr<ferry::Backend> inner_;
  std::string dir_;
};

// A fresh, empty directory for one backend of this process. A name is never
// reused within the process, and it is emptied first because another process
// with the same pid may have left it behind.
inline std::string FreshTestDir(const char* kind) {
  static std::atomic<int> counter{0};
  std::string dir = absl::StrCat(testing::TempDir(), "/ferry_", kind, "_",
                                 ::getpid(), "_", counter.fetch_add(1));
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  std::filesystem::create_directories(dir, ignored);
  return dir;
}

#if FERRY_TEST_ROCKSDB

// A RocksDB backend over a fresh temporary directory, in sync mode (the
// default) with small memtables so that each test stays cheap. Its files
// live in memory (RocksDB's MemEnv) unless FERRY_ROCKSDB_CONFORMANCE_DISK=1:
// on disk each test pays ~100 ms of fsyncs for opening the database; the
// reopen, crash and power-loss tests in tests/backends/rocksdb use the disk.
inline std::unique_ptr<ferry::Backend> NewTemporaryRocksDbBackend() {
  std::string dir = FreshTestDir("rocksdb");
  ferry::RocksDbBackendOptions options;
  options.path = dir;
  options.write_buffer_bytes = 1 << 20;
  options.block_cache_bytes = 1 << 20;
  const char* disk = std::getenv("FERRY_ROCKSDB_CONFORMANCE_DISK");
  options.in_memory = disk == nullptr || std::string(disk) != "1";
  auto backend = ferry::OpenRocksDbBackend(options);
  if (!backend.ok()) {
    ADD_FAILURE() << backend.status();
    return nullptr;
  }
  return std::make_unique<TempDirBackend>(*std::move(backend), dir);
}
#endif

// Every backend the conformance suite runs on.
inline std::vector<BackendFactory> AllBackends() {
  return {
    {"Memory", [] { return ferry::NewMemoryBackend(); }},
        // The file-backed reference store (tests/testing): shows that every
        // rule lives in core and that the store interface fits a store that
        // persists each transition. Its files (the queues' and the streams')
        // live in a directory removed with the backend.
        {"PersistentFake",
         []() -> std::unique_ptr<ferry::Backend> {
           std::string dir = FreshTestDir("fake");
           return std::make_unique<TempDirBackend>(
               *ferry_testing::OpenPersistentFakeBackend(
                   {.path = dir + "/store.json"}),
               dir);
         }},
#if FERRY_TEST_ROCKSDB
        {"RocksDb", [] { return NewTemporaryRocksDbBackend(); }},
#endif
  };
}

// The test-name suffix of a parameter: the backend's name.
inline std::string BackendName(
    const testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

// Runs `fn` on its own thread. The destructor never hangs on a call that is
// still blocked in a long poll: it keeps advancing the manual clock until the
// call returns, then joins. Use Join() to wait for the result in a test.
template <typename T>
class AsyncCall {
 public:
  AsyncCall(ferry_testing::ManualClock* clock, std::function<T()> fn)
      : clock_(clock), thread_([this, fn = std::move(fn)] {
          result_.emplace(fn());
          done_.store(true, std::memory_order_release);
        }) {}
  AsyncCall(const AsyncCall&) = delete;
  AsyncCall& operator=(const AsyncCall&) = delete;
  ~AsyncCall() {
    if (!thread_.joinable()) return;
    while (!done_.load(std::memory_order_acquire)) {
      clock_->Advance(absl::Seconds(30));
      std::this_thread::yield();
    }
    thread_.join();
  }

  bool done() const { return done_.load(std::memory_order_acquire); }

  // Waits for the call to return and gives its result.
  T& Join() {
    if (thread_.joinable()) thread_.join();
    return *result_;
  }

 private:
  ferry_testing::ManualClock* const clock_;
  std::optional<T> result_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Yields until `predicate` holds or `limit` of real time has passed; returns
// whether it holds. Real time only bounds a test that would otherwise hang;
// no test relies on it for semantics.
inline bool Eventually(const std::function<bool()>& predicate,
                       absl::Duration limit = absl::Seconds(10)) {
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(limit);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    std::this_thread::yield();
  }
  return true;
}

inline std::vector<std::string> Bodies(
    const std::vector<ferry::Message>& messages) {
  std::vector<std::string> bodies;
  for (const ferry::Message& m : messages) bodies.push_back(m.body);
  return bodies;
}

inline std::vector<std::string> Bodies(
    const std::vector<ferry::ReceivedMessage>& messages) {
  std::vector<std::string> bodies;
  for (const ferry::ReceivedMessage& m : messages) bodies.push_back(m.body);
  return bodies;
}

inline int64_t ToInt(const std::string& text) {
  int64_t value = -1;
  EXPECT_TRUE(absl::SimpleAtoi(text, &value)) << "not a number: " << text;
  return value;
}

inline ferry::MessageAttributeValue StringAttr(std::string value) {
  return {.data_type = "String", .string_value = std::move(value)};
}
inline ferry::MessageAttributeValue NumberAttr(std::string value) {
  return {.data_type = "Number", .string_value = std::move(value)};
}
inline ferry::MessageAttributeValue BinaryAttr(std::string bytes) {
  return {.data_type = "Binary", .binary_value = std::move(bytes)};
}

class ConformanceTest : public testing::TestWithParam<BackendFactory> {
 protected:
  static constexpr char kAccount[] = "123456789012";
  static constexpr char kRegion[] = "us-east-1";
  static constexpr char kEndpoint[] = "http://localhost:4566";

  void SetUp() override { OpenBroker(); }
  void TearDown() override { broker_.reset(); }

  // (Re)opens the broker over a fresh backend. The native level shares the
  // AWS-shaped level's account and region, so both see the same queues.
  void OpenBroker(ferry::StrictModeOptions strict = {}) {
    broker_.reset();
    ferry::BrokerOptions options;
    options.clock = &clock_;
    options.ids = &ids_;
    options.executor = &executor_;
    options.default_account = kAccount;
    options.default_region = kRegion;
    options.strict = strict;
    absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
        ferry::Broker::Open(options, GetParam().make());
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = *std::move(broker);
  }

  ferry::Sqs& sqs() { return broker_->sqs(); }
  ferry::Broker& broker() { return *broker_; }

  // The request context of every call unless a test says otherwise.
  ferry::RequestContext ctx_{
      .account = kAccount, .region = kRegion, .endpoint = kEndpoint};

  // ---- Time ----------------------------------------------------------------

  void Advance(absl::Duration d) { clock_.Advance(d); }
  void AdvanceSeconds(int64_t s) { clock_.Advance(absl::Seconds(s)); }
  absl::Time Now() { return clock_.Now(); }
  int64_t NowMillis() { return absl::ToUnixMillis(clock_.Now()); }
  int64_t NowSeconds() { return absl::ToUnixSeconds(clock_.Now()); }

  // ---- Names ---------------------------------------------------------------

  static std::string UrlOf(const std::string& name) {
    return absl::StrCat(kEndpoint, "/", kAccount, "/", name);
  }
  static std::string ArnOf(const std::string& name) {
    return absl::StrCat("arn:aws:sqs:", kRegion, ":", kAccount, ":", name);
  }

  // ---- Queues --------------------------------------------------------------

  absl::StatusOr<std::string> CreateQueue(const std::string& name,
                                          ferry::AttributeMap attributes = {},
                                          ferry::TagMap tags = {}) {
    absl::StatusOr<ferry::CreateQueueResult> result =
        sqs().CreateQueue(ctx_, {.queue_name = name,
                                 .attributes = std::move(attributes),
                                 .tags = std::move(tags)});
    if (!result.ok()) return result.status();
    return result->queue_url;
  }

  // `name` must end in ".fifo"; adds FifoQueue=true.
  absl::StatusOr<std::string> CreateFifoQueue(
      const std::string& name, ferry::AttributeMap attributes = {}) {
    attributes["FifoQueue"] = "true";
    return CreateQueue(name, std::move(attributes));
  }

  absl::StatusOr<ferry::AttributeMap> GetAttributes(
      const std::string& url, std::vector<std::string> names) {
    absl::StatusOr<ferry::GetQueueAttributesResult> result =
        sqs().GetQueueAttributes(
            ctx_, {.queue_url = url, .attribute_names = std::move(names)});
    if (!result.ok()) return result.status();
    return result->attributes;
  }

  // One attribute; kNotFound when the queue does not return it.
  absl::StatusOr<std::string> GetAttribute(const std::string& url,
                                           const std::string& name) {
    absl::StatusOr<ferry::AttributeMap> attributes = GetAttributes(url, {name});
    if (!attributes.ok()) return attributes.status();
    auto it = attributes->find(name);
    if (it == attributes->end()) {
      return absl::NotFoundError(absl::StrCat("no attribute ", name));
    }
    return it->second;
  }

  absl::Status SetAttributes(const std::string& url,
                             ferry::AttributeMap attributes) {
    return sqs().SetQueueAttributes(
        ctx_, {.queue_url = url, .attributes = std::move(attributes)});
  }

  absl::StatusOr<std::string> QueueArn(const std::string& url) {
    return GetAttribute(url, "QueueArn");
  }

  // ApproximateNumberOfMessages / ...NotVisible / ...Delayed as numbers
  // (exact whenever the test is quiescent).
  struct Counts {
    int64_t visible = -1;
    int64_t not_visible = -1;
    int64_t delayed = -1;
    friend bool operator==(const Counts&, const Counts&) = default;
    friend std::ostream& operator<<(std::ostream& os, const Counts& c) {
      return os << "{visible=" << c.visible << ", not_visible=" << c.not_visible
                << ", delayed=" << c.delayed << "}";
    }
  };
  absl::StatusOr<Counts> GetCounts(const std::string& url) {
    absl::StatusOr<ferry::AttributeMap> attributes =
        GetAttributes(url, {"ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible",
                            "ApproximateNumberOfMessagesDelayed"});
    if (!attributes.ok()) return attributes.status();
    Counts counts;
    counts.visible = ToInt((*attributes)["ApproximateNumberOfMessages"]);
    counts.not_visible =
        ToInt((*attributes)["ApproximateNumberOfMessagesNotVisible"]);
    counts.delayed = ToInt((*attributes)["ApproximateNumberOfMessagesDelayed"]);
    return counts;
  }

  // ---- Messages ------------------------------------------------------------

  absl::StatusOr<ferry::SendMessageResult> Send(const std::string& url,
                                                const std::string& body) {
    return sqs().SendMessage(ctx_, {.queue_url = url, .message_body = body});
  }

  // A FIFO send with an explicit deduplication id (the body when unset).
  absl::StatusOr<ferry::SendMessageResult> SendFifo(
      const std::string& url, const std::string& body, const std::string& group,
      std::optional<std::string> dedup = std::nullopt) {
    return sqs().SendMessage(
        ctx_, {.queue_url = url,
               .message_body = body,
               .message_deduplication_id = dedup.has_value() ? *dedup : body,
               .message_group_id = group});
  }

  // A short-poll receive (WaitTimeSeconds=0 explicitly, so it never blocks).
  absl::StatusOr<std::vector<ferry::Message>> Receive(
      const std::string& url, int max = 10,
      std::optional<int> visibility_timeout = std::nullopt) {
    absl::StatusOr<ferry::ReceiveMessageResult> result =
        sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                    .max_number_of_messages = max,
                                    .visibility_timeout = visibility_timeout,
                                    .wait_time_seconds = 0});
    if (!result.ok()) return result.status();
    return result->messages;
  }

  absl::StatusOr<std::vector<std::string>> ReceiveBodies(
      const std::string& url, int max = 10,
      std::optional<int> visibility_timeout = std::nullopt) {
    absl::StatusOr<std::vector<ferry::Message>> messages =
        Receive(url, max, visibility_timeout);
    if (!messages.ok()) return messages.status();
    return Bodies(*messages);
  }

  absl::Status Delete(const std::string& url, const std::string& receipt) {
    return sqs().DeleteMessage(ctx_,
                               {.queue_url = url, .receipt_handle = receipt});
  }

  absl::Status ChangeVisibility(const std::string& url,
                                const std::string& receipt, int seconds) {
    return sqs().ChangeMessageVisibility(ctx_, {.queue_url = url,
                                                .receipt_handle = receipt,
                                                .visibility_timeout = seconds});
  }

  // Declared before the broker, so they outlive it.
  ferry_testing::ManualClock clock_;
  ferry_testing::SequentialIdSource ids_;
  ferry_testing::ManualExecutor executor_;
  std::unique_ptr<ferry::Broker> broker_;
};

}  // namespace ferry_conformance

#endif  // FERRY_TESTS_CONFORMANCE_BACKENDS_H_
