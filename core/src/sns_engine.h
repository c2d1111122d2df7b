// The SNS engine behind `ferry::Sns`, `ferry::Topic` and the broker's topic
// methods: the catalogue of topics, subscriptions, platform applications and
// endpoints (kept in the backend's KeyValueStore and cached here), SNS's
// validation with AWS's texts, and delivery: one atomic multi-queue append
// per publish for `sqs` subscriptions, in-process functions and delivery
// sinks through the broker's executor, with retries driven by the clock.
//
// Thread safety: every method is safe to call concurrently. User code
// (functions, sinks) is never called under a lock of this engine.
// Errors: SNS errors with AWS's texts (sns.md); store errors pass through.
#ifndef FERRY_CORE_SRC_SNS_ENGINE_H_
#define FERRY_CORE_SRC_SNS_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine.h"
#include "ferry/sns.h"
#include "ferry/sync.h"
#include "ferry/topic.h"
#include "filter_policy.h"

namespace ferry::internal {

class SnsEngine;

// One subscription as delivery sees it. Immutable once published in a topic
// snapshot; a change makes a new object. The caches are thread-safe.
struct Subscription {
  std::string arn;
  std::string topic_arn;
  std::string protocol;
  std::string endpoint;
  std::string owner;
  std::string principal;
  // Stored attributes as given (DeliveryPolicy, FilterPolicy,
  // FilterPolicyScope, RawMessageDelivery, RedrivePolicy, ...).
  StringMap attributes;
  bool pending = false;
  bool authenticated = true;
  std::string token;

  // Derived from the attributes.
  bool raw = false;
  std::shared_ptr<const FilterPolicy> filter;
  std::string dead_letter_arn;
  uint64_t key = 0;  // FilterIndex key

  // sqs: the resolved queue and the last policy decision for its config.
  mutable Mutex cache_mu;
  mutable std::shared_ptr<QueueState> queue ABSL_GUARDED_BY(cache_mu);
  mutable const QueueConfig* policy_config ABSL_GUARDED_BY(cache_mu) = nullptr;
  mutable int policy_decision ABSL_GUARDED_BY(cache_mu) = 0;
};
using SubscriptionPtr = std::shared_ptr<const Subscription>;

// What a publish reads: the confirmed subscriptions of a topic.
struct TopicSnapshot {
  std::vector<SubscriptionPtr> unfiltered;
  absl::flat_hash_map<uint64_t, SubscriptionPtr> filtered;
  FilterIndex index;
};

class TopicState : public std::enable_shared_from_this<TopicState> {
 public:
  TopicState(SnsEngine* engine, std::string account, std::string region,
             std::string name, bool fifo);

  SnsEngine* engine() const { return engine_; }
  const std::string& account() const { return account_; }
  const std::string& region() const { return region_; }
  const std::string& name() const { return name_; }
  const std::string& arn() const { return arn_; }
  bool fifo() const { return fifo_; }
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

  std::shared_ptr<const TopicSnapshot> snapshot() const {
    MutexLock lock(&mu_);
    return snapshot_;
  }

 private:
  friend class SnsEngine;
  SnsEngine* const engine_;
  const std::string account_;
  const std::string region_;
  const std::string name_;
  const std::string arn_;
  const bool fifo_;
  std::atomic<bool> deleted_{false};

  mutable Mutex mu_;
  StringMap attributes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> tags_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, SubscriptionPtr> subscriptions_ ABSL_GUARDED_BY(mu_);
  int64_t subscriptions_deleted_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const TopicSnapshot> snapshot_ ABSL_GUARDED_BY(mu_);

  // FIFO: deduplication window and sequence numbers.
  Mutex fifo_mu_;
  struct Dedup {
    absl::Time expires;
    std::string message_id;
    std::string sequence_number;
  };
  absl::flat_hash_map<std::string, Dedup> dedup_ ABSL_GUARDED_BY(fifo_mu_);
  uint64_t last_sequence_ ABSL_GUARDED_BY(fifo_mu_) = 0;

 public:
  struct Counters {
    std::atomic<int64_t> published{0};
    std::atomic<int64_t> to_queues{0};
    std::atomic<int64_t> to_functions{0};
    std::atomic<int64_t> to_sinks{0};
    std::atomic<int64_t> denied{0};
    std::atomic<int64_t> failed{0};
    std::atomic<int64_t> dead_lettered{0};
  };
  Counters counters;
};

// One message to publish, validated.
struct PublishInput {
  std::string_view message;
  // MessageStructure=json: the per-protocol messages; "default" always set.
  const std::map<std::string, std::string>* structured = nullptr;
  std::string_view subject;
  bool has_subject = false;
  const MessageAttributeMap* attributes = nullptr;
  std::string_view group_id;
  std::string_view dedup_id;
};
struct PublishOutput {
  std::string message_id;
  std::string sequence_number;
};

class SnsEngine {
 public:
  explicit SnsEngine(Engine* engine);
  ~SnsEngine();

  Sns& sns() { return sns_; }
  Engine& engine() { return *engine_; }

  // ---- AWS-shaped operations (sns.cc forwards to these) ---------------------
  using Ctx = RequestContext;
  absl::StatusOr<std::shared_ptr<TopicState>> CreateTopic(
      const Ctx& ctx, const CreateTopicRequest& req);
  absl::Status DeleteTopic(const Ctx& ctx, std::string_view topic_arn);
  absl::StatusOr<ListTopicsResult> ListTopics(const Ctx& ctx,
                                              const ListTopicsRequest& req);
  absl::StatusOr<GetTopicAttributesResult> GetTopicAttributes(
      const Ctx& ctx, const GetTopicAttributesRequest& req);
  absl::Status SetTopicAttributes(const Ctx& ctx,
                                  const SetTopicAttributesRequest& req);
  absl::StatusOr<SubscribeResult> Subscribe(const Ctx& ctx,
                                            const SubscribeRequest& req);
  absl::StatusOr<ConfirmSubscriptionResult> ConfirmSubscription(
      const Ctx& ctx, const ConfirmSubscriptionRequest& req);
  absl::Status Unsubscribe(const Ctx& ctx, std::string_view arn);
  absl::StatusOr<ListSubscriptionsResult> ListSubscriptions(
      const Ctx& ctx, std::string_view topic_arn, bool by_topic,
      std::string_view next_token);
  absl::StatusOr<GetSubscriptionAttributesResult> GetSubscriptionAttributes(
      const Ctx& ctx, const GetSubscriptionAttributesRequest& req);
  absl::Status SetSubscriptionAttributes(
      const Ctx& ctx, const SetSubscriptionAttributesRequest& req);
  absl::StatusOr<SnsPublishResult> Publish(const Ctx& ctx,
                                           const PublishRequest& req);
  absl::StatusOr<PublishBatchResult> PublishBatch(
      const Ctx& ctx, const PublishBatchRequest& req);

  absl::StatusOr<CreatePlatformApplicationResult> CreatePlatformApplication(
      const Ctx& ctx, const CreatePlatformApplicationRequest& req);
  absl::StatusOr<ListPlatformApplicationsResult> ListPlatformApplications(
      const Ctx& ctx, const ListPlatformApplicationsRequest& req);
  absl::StatusOr<AttributeMap> GetPlatformApplicationAttributes(
      const Ctx& ctx, std::string_view arn);
  absl::Status SetPlatformApplicationAttributes(
      const Ctx& ctx, const SetPlatformApplicationAttributesRequest& req);
  absl::Status DeletePlatformApplication(const Ctx& ctx, std::string_view arn);
  absl::StatusOr<CreatePlatformEndpointResult> CreatePlatformEndpoint(
      const Ctx& ctx, const CreatePlatformEndpointRequest& req);
  absl::StatusOr<ListEndpointsByPlatformApplicationResult>
  ListEndpointsByPlatformApplication(
      const Ctx& ctx, const ListEndpointsByPlatformApplicationRequest& req);
  absl::StatusOr<AttributeMap> GetEndpointAttributes(const Ctx& ctx,
                                                     std::string_view arn);
  absl::Status SetEndpointAttributes(const Ctx& ctx,
                                     const SetEndpointAttributesRequest& req);
  absl::Status DeleteEndpoint(const Ctx& ctx, std::string_view arn);

  absl::Status TagResource(const Ctx& ctx, const TagResourceRequest& req);
  absl::Status UntagResource(const Ctx& ctx, const UntagResourceRequest& req);
  absl::StatusOr<ListTagsForResourceResult> ListTagsForResource(
      const Ctx& ctx, std::string_view arn);
  absl::Status AddPermission(const Ctx& ctx,
                             const SnsAddPermissionRequest& req);
  absl::Status RemovePermission(const Ctx& ctx,
                                const SnsRemovePermissionRequest& req);

  // ---- Native level ---------------------------------------------------------
  Ctx DefaultContext() const;
  absl::StatusOr<std::shared_ptr<TopicState>> FindTopic(std::string_view arn);
  // Publishes validated messages to one topic; outputs[i] for inputs[i].
  absl::Status PublishToTopic(TopicState& topic,
                              std::span<const PublishInput> inputs,
                              std::span<PublishOutput> outputs);
  // Topic::Publish: the rules of Publish without resolving an ARN.
  absl::StatusOr<PublishOutput> PublishNative(TopicState& topic,
                                              std::string_view message,
                                              const PublishOptions& options);
  absl::Status RegisterFunction(std::string_view name, TopicFunction fn);

  // ---- Delivery sinks -------------------------------------------------------
  void SetDeliverySink(std::shared_ptr<DeliverySink> sink);
  std::vector<SinkDelivery> RecordedDeliveries() const;
  void ClearRecordedDeliveries();
  void SetMessageSigning(bool enabled) { signing_.store(enabled); }
  void SetHttpTransport(std::shared_ptr<HttpTransport> transport) {
    MutexLock lock(&sink_mu_);
    http_ = std::move(transport);
  }

  // Retries whose time has come; forgets the cache on Reset.
  absl::Status RunMaintenance();
  void ForgetCache();

 private:
  struct Retry;
  absl::Status EnsureLoaded();
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<TopicState>> ResolveTopic(
      const Ctx& ctx, std::string_view arn, std::string_view param);
  absl::StatusOr<SubscriptionPtr> BuildSubscription(
      const Subscription& base, const StringMap& attributes);
  void PublishSnapshot(TopicState& topic)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(topic.mu_);
  void UpdateSnapshot(TopicState& topic, const SubscriptionPtr& removed,
                      const SubscriptionPtr& added)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(topic.mu_);
  absl::Status SaveTopic(TopicState& topic)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(topic.mu_);
  absl::Status SaveSubscription(const Subscription& sub);
  absl::StatusOr<SubscriptionPtr> FindSubscription(
      std::string_view arn, std::shared_ptr<TopicState>* topic);
  absl::Status Put(std::string_view table, std::string_view key,
                   std::string_view value);
  absl::Status Erase(std::string_view table, std::string_view key);
  // Delivery helpers (sns_delivery.cc).
  int EvaluateQueuePolicy(const Subscription& sub, QueueState& queue);
  void Invoke(std::shared_ptr<Retry> retry);
  void ScheduleRetry(std::shared_ptr<Retry> retry);
  void DeadLetter(const Retry& retry);
  absl::Status RunDueRetries(absl::Time now);
  std::string SigningCertUrl(std::string_view region) const;
  // The signed envelope of a SubscriptionConfirmation or
  // UnsubscribeConfirmation: both carry the subscription's token and a
  // SubscribeURL that confirms it.
  std::string ConfirmationEnvelope(const TopicState& topic,
                                   const Subscription& sub,
                                   std::string_view type,
                                   std::string_view message_id,
                                   std::string_view message,
                                   absl::Time now) const;
  void SendConfirmation(const TopicState& topic, const Subscription& sub);
  // http/https with a transport only; never dead-lettered (sns.md §3.3).
  void SendUnsubscribeConfirmation(const TopicState& topic,
                                   const Subscription& sub);
  // Pending http/https deliveries in the key-value store.
  absl::Status SavePendingHttp(const Retry& retry, absl::Time due);
  absl::Status LoadPendingHttp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An http/https delivery through the transport, or nullptr when there is
  // no transport (the sink takes it then).
  std::shared_ptr<Retry> MakeHttpRetry(const TopicState& topic,
                                       const Subscription& sub,
                                       std::string_view type,
                                       std::string_view message_id,
                                       std::string body, bool raw);
  // A delivery outside any topic (direct publishes to a phone number or a
  // platform endpoint).
  void DeliverToSink(SinkDelivery delivery);
  // Platform endpoints (sns_platform.cc): whether `arn` exists and is
  // enabled, and the application's platform.
  absl::StatusOr<bool> EndpointEnabled(std::string_view arn,
                                       std::string* platform);
  absl::StatusOr<SnsPublishResult> PublishToEndpoint(
      const Ctx& ctx, const PublishRequest& req,
      const std::map<std::string, std::string>* structured);

  friend class DeliveryRun;

  Engine* const engine_;
  Sns sns_;

  Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, std::shared_ptr<TopicState>> topics_
      ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> next_key_{1};

  Mutex functions_mu_;
  absl::flat_hash_map<std::string, TopicFunction> functions_
      ABSL_GUARDED_BY(functions_mu_);

  mutable Mutex sink_mu_;
  std::shared_ptr<DeliverySink> sink_ ABSL_GUARDED_BY(sink_mu_);
  std::shared_ptr<DeliverySink> recorder_;
  std::shared_ptr<HttpTransport> http_ ABSL_GUARDED_BY(sink_mu_);

  Mutex retry_mu_;
  std::multimap<absl::Time, std::shared_ptr<Retry>> retries_
      ABSL_GUARDED_BY(retry_mu_);
  std::atomic<bool> has_retries_{false};
  std::atomic<bool> signing_{true};
  // Scheduled callbacks hold a weak reference: they do nothing once the
  // engine is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_SNS_ENGINE_H_
