// -----------------------------------------------------------------------------
// File: ferry/sns.h
// -----------------------------------------------------------------------------
//
// `ferry::Sns` is the AWS-shaped level of ferry's topics: one method per SNS
// operation, taking a request struct and returning a result struct with the
// members of the AWS API (snake_case), string attribute maps, ARNs, and AWS's
// exact validation, error codes and error texts (reference/sns.md). Obtain
// it from `Broker::sns()`. Every call takes the `RequestContext` of
// ferry/sqs.h (account, region, caller).
//
// Delivery: `sqs` subscriptions (queues of the same broker) are delivered
// synchronously inside Publish as one atomic append; `lambda` subscriptions
// reach functions registered with `Broker::RegisterFunction` through the
// broker's executor; `email`, `email-json`, `sms` and `application`
// (platform endpoints) go to a pluggable `DeliverySink`, by default one that
// records them (`RecordedDeliveries`). See docs/user-guide.md.
//
// Thread safety: all methods are safe to call concurrently.
// Errors: statuses carry AWS's error (GetAwsError in ferry/errors.h), e.g.
// NotFound "Topic does not exist", InvalidParameter "Invalid parameter:
// TopicArn". PublishBatch reports per-entry failures in the result.
#ifndef FERRY_SNS_H_
#define FERRY_SNS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ferry/export.h"
#include "ferry/message.h"
#include "ferry/sqs.h"

namespace ferry {

namespace internal {
class SnsEngine;
}  // namespace internal

struct SnsTag {
  std::string key{};
  std::string value{};
};

struct CreateTopicRequest {
  std::string name{};
  AttributeMap attributes{};
  std::vector<SnsTag> tags{};
};
struct CreateTopicResult {
  std::string topic_arn{};
};
struct DeleteTopicRequest {
  std::string topic_arn{};
};
struct ListTopicsRequest {
  std::string next_token{};
};
struct ListTopicsResult {
  std::vector<std::string> topic_arns{};
  std::string next_token{};  // empty when there are no more
};
struct GetTopicAttributesRequest {
  std::string topic_arn{};
};
struct GetTopicAttributesResult {
  AttributeMap attributes{};
};
struct SetTopicAttributesRequest {
  std::string topic_arn{};
  std::string attribute_name{};
  std::string attribute_value{};
};

struct SubscribeRequest {
  std::string topic_arn{};
  std::string protocol{};
  std::string endpoint{};
  AttributeMap attributes{};
  bool return_subscription_arn = false;
};
struct SubscribeResult {
  // "pending confirmation" until confirmed, unless return_subscription_arn.
  std::string subscription_arn{};
};
struct ConfirmSubscriptionRequest {
  std::string topic_arn{};
  std::string token{};
  std::optional<std::string> authenticate_on_unsubscribe{};
};
struct ConfirmSubscriptionResult {
  std::string subscription_arn{};
};
struct UnsubscribeRequest {
  std::string subscription_arn{};
};
struct SubscriptionSummary {
  std::string subscription_arn{};  // "PendingConfirmation" while pending
  std::string owner{};
  std::string protocol{};
  std::string endpoint{};
  std::string topic_arn{};
};
struct ListSubscriptionsRequest {
  std::string next_token{};
};
struct ListSubscriptionsByTopicRequest {
  std::string topic_arn{};
  std::string next_token{};
};
struct ListSubscriptionsResult {
  std::vector<SubscriptionSummary> subscriptions{};
  std::string next_token{};
};
struct GetSubscriptionAttributesRequest {
  std::string subscription_arn{};
};
struct GetSubscriptionAttributesResult {
  AttributeMap attributes{};
};
struct SetSubscriptionAttributesRequest {
  std::string subscription_arn{};
  std::string attribute_name{};
  std::string attribute_value{};
};

struct PublishRequest {
  // Exactly one of topic_arn, target_arn, phone_number.
  std::string topic_arn{};
  std::string target_arn{};
  std::string phone_number{};
  std::string message{};
  std::optional<std::string> subject{};
  std::optional<std::string> message_structure{};  // "json"
  MessageAttributeMap message_attributes{};
  std::optional<std::string> message_deduplication_id{};
  std::optional<std::string> message_group_id{};
};
struct SnsPublishResult {
  std::string message_id{};
  std::string sequence_number{};  // FIFO topics only
};
struct PublishBatchRequestEntry {
  std::string id{};
  std::string message{};
  std::optional<std::string> subject{};
  std::optional<std::string> message_structure{};
  MessageAttributeMap message_attributes{};
  std::optional<std::string> message_deduplication_id{};
  std::optional<std::string> message_group_id{};
};
struct PublishBatchRequest {
  std::string topic_arn{};
  std::vector<PublishBatchRequestEntry> entries{};
};
struct PublishBatchResultEntry {
  std::string id{};
  std::string message_id{};
  std::string sequence_number{};
};
struct PublishBatchResult {
  std::vector<PublishBatchResultEntry> successful{};
  std::vector<BatchResultErrorEntry> failed{};
};

struct CreatePlatformApplicationRequest {
  std::string name{};
  std::string platform{};
  std::optional<AttributeMap> attributes{};  // required
};
struct CreatePlatformApplicationResult {
  std::string platform_application_arn{};
};
struct PlatformApplication {
  std::string platform_application_arn{};
  AttributeMap attributes{};
};
struct ListPlatformApplicationsRequest {
  std::string next_token{};
};
struct ListPlatformApplicationsResult {
  std::vector<PlatformApplication> platform_applications{};
  std::string next_token{};
};
struct GetPlatformApplicationAttributesRequest {
  std::string platform_application_arn{};
};
struct GetPlatformApplicationAttributesResult {
  AttributeMap attributes{};
};
struct SetPlatformApplicationAttributesRequest {
  std::string platform_application_arn{};
  AttributeMap attributes{};
};
struct DeletePlatformApplicationRequest {
  std::string platform_application_arn{};
};
struct CreatePlatformEndpointRequest {
  std::string platform_application_arn{};
  std::string token{};
  std::optional<std::string> custom_user_data{};
  AttributeMap attributes{};
};
struct CreatePlatformEndpointResult {
  std::string endpoint_arn{};
};
struct PlatformEndpoint {
  std::string endpoint_arn{};
  AttributeMap attributes{};
};
struct ListEndpointsByPlatformApplicationRequest {
  std::string platform_application_arn{};
  std::string next_token{};
};
struct ListEndpointsByPlatformApplicationResult {
  std::vector<PlatformEndpoint> endpoints{};
  std::string next_token{};
};
struct GetEndpointAttributesRequest {
  std::string endpoint_arn{};
};
struct GetEndpointAttributesResult {
  AttributeMap attributes{};
};
struct SetEndpointAttributesRequest {
  std::string endpoint_arn{};
  AttributeMap attributes{};
};
struct DeleteEndpointRequest {
  std::string endpoint_arn{};
};

struct TagResourceRequest {
  std::string resource_arn{};
  std::vector<SnsTag> tags{};
};
struct UntagResourceRequest {
  std::string resource_arn{};
  std::vector<std::string> tag_keys{};
};
struct ListTagsForResourceRequest {
  std::string resource_arn{};
};
struct ListTagsForResourceResult {
  std::vector<SnsTag> tags{};  // in key order
};

struct SnsAddPermissionRequest {
  std::string topic_arn{};
  std::string label{};
  std::vector<std::string> aws_account_ids{};
  std::vector<std::string> action_names{};
};
struct SnsRemovePermissionRequest {
  std::string topic_arn{};
  std::string label{};
};

// One delivery to an email, email-json, sms or application endpoint (or a
// subscription confirmation sent to an email address).
struct SinkDelivery {
  std::string protocol{};          // email | email-json | sms | application
  std::string endpoint{};          // address, phone number or endpoint ARN
  std::string subscription_arn{};  // empty for direct publishes
  std::string topic_arn{};         // empty for direct publishes
  // "Notification" or "SubscriptionConfirmation".
  std::string type{};
  std::string message_id{};
  std::string subject{};
  // What the endpoint gets: the message text (email, sms), the JSON
  // envelope (email-json, confirmations), the platform payload (application).
  std::string body{};
  MessageAttributeMap attributes{};
  // SubscriptionConfirmation only: the token ConfirmSubscription takes.
  std::string token{};
  absl::Time time{};
};

// Where email, email-json, sms and application deliveries go. Called through
// the broker's executor, never under a ferry lock. A non-OK status counts as
// a failed delivery.
class FERRY_EXPORT DeliverySink {
 public:
  virtual ~DeliverySink() = default;
  virtual absl::Status Deliver(const SinkDelivery& delivery) = 0;
};

// One HTTP POST of an http/https delivery (a notification or a
// subscription confirmation), with AWS's headers (x-amz-sns-message-type,
// x-amz-sns-message-id, x-amz-sns-topic-arn, ...).
struct HttpPost {
  std::string url{};
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  absl::Duration timeout = absl::Seconds(15);
};

// Sends http/https deliveries; ferry's core has no HTTP client of its own.
// Called through the broker's executor, never under a ferry lock. Returns
// the HTTP status of the answer; a non-OK status means no answer (timeout,
// connection refused). 5xx and no answer are failures, retried per the
// subscription's (or topic's) delivery policy on the broker's clock.
class FERRY_EXPORT HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual absl::StatusOr<int> Post(const HttpPost& post) = 0;
};

class FERRY_EXPORT Sns {
 public:
  Sns(const Sns&) = delete;
  Sns& operator=(const Sns&) = delete;

  using Ctx = RequestContext;
  absl::StatusOr<CreateTopicResult> CreateTopic(const Ctx&,
                                                const CreateTopicRequest&);
  absl::Status DeleteTopic(const Ctx&, const DeleteTopicRequest&);
  absl::StatusOr<ListTopicsResult> ListTopics(const Ctx&,
                                              const ListTopicsRequest&);
  absl::StatusOr<GetTopicAttributesResult> GetTopicAttributes(
      const Ctx&, const GetTopicAttributesRequest&);
  absl::Status SetTopicAttributes(const Ctx&, const SetTopicAttributesRequest&);

  absl::StatusOr<SubscribeResult> Subscribe(const Ctx&,
                                            const SubscribeRequest&);
  absl::StatusOr<ConfirmSubscriptionResult> ConfirmSubscription(
      const Ctx&, const ConfirmSubscriptionRequest&);
  absl::Status Unsubscribe(const Ctx&, const UnsubscribeRequest&);
  absl::StatusOr<ListSubscriptionsResult> ListSubscriptions(
      const Ctx&, const ListSubscriptionsRequest&);
  absl::StatusOr<ListSubscriptionsResult> ListSubscriptionsByTopic(
      const Ctx&, const ListSubscriptionsByTopicRequest&);
  absl::StatusOr<GetSubscriptionAttributesResult> GetSubscriptionAttributes(
      const Ctx&, const GetSubscriptionAttributesRequest&);
  absl::Status SetSubscriptionAttributes(
      const Ctx&, const SetSubscriptionAttributesRequest&);

  absl::StatusOr<SnsPublishResult> Publish(const Ctx&, const PublishRequest&);
  absl::StatusOr<PublishBatchResult> PublishBatch(const Ctx&,
                                                  const PublishBatchRequest&);

  absl::StatusOr<CreatePlatformApplicationResult> CreatePlatformApplication(
      const Ctx&, const CreatePlatformApplicationRequest&);
  absl::StatusOr<ListPlatformApplicationsResult> ListPlatformApplications(
      const Ctx&, const ListPlatformApplicationsRequest&);
  absl::StatusOr<GetPlatformApplicationAttributesResult>
  GetPlatformApplicationAttributes(
      const Ctx&, const GetPlatformApplicationAttributesRequest&);
  absl::Status SetPlatformApplicationAttributes(
      const Ctx&, const SetPlatformApplicationAttributesRequest&);
  absl::Status DeletePlatformApplication(
      const Ctx&, const DeletePlatformApplicationRequest&);
  absl::StatusOr<CreatePlatformEndpointResult> CreatePlatformEndpoint(
      const Ctx&, const CreatePlatformEndpointRequest&);
  absl::StatusOr<ListEndpointsByPlatformApplicationResult>
  ListEndpointsByPlatformApplication(
      const Ctx&, const ListEndpointsByPlatformApplicationRequest&);
  absl::StatusOr<GetEndpointAttributesResult> GetEndpointAttributes(
      const Ctx&, const GetEndpointAttributesRequest&);
  absl::Status SetEndpointAttributes(const Ctx&,
                                     const SetEndpointAttributesRequest&);
  absl::Status DeleteEndpoint(const Ctx&, const DeleteEndpointRequest&);

  absl::Status TagResource(const Ctx&, const TagResourceRequest&);
  absl::Status UntagResource(const Ctx&, const UntagResourceRequest&);
  absl::StatusOr<ListTagsForResourceResult> ListTagsForResource(
      const Ctx&, const ListTagsForResourceRequest&);
  absl::Status AddPermission(const Ctx&, const SnsAddPermissionRequest&);
  absl::Status RemovePermission(const Ctx&, const SnsRemovePermissionRequest&);

  // ---- ferry extensions -----------------------------------------------------
  // Replaces the sink of email, email-json, sms and application deliveries;
  // nullptr restores the default recording sink.
  void SetDeliverySink(std::shared_ptr<DeliverySink> sink);
  // What the default sink has recorded, oldest first.
  std::vector<SinkDelivery> RecordedDeliveries() const;
  void ClearRecordedDeliveries();
  // Signs JSON envelopes (SignatureVersion 1/2 with a key ferry generates;
  // `SigningCertificatePem` returns its certificate). On by default; off
  // saves an RSA signature per delivered envelope and omits the signature
  // fields.
  void SetMessageSigning(bool enabled);
  // Sends http/https deliveries through `transport`; nullptr (the default)
  // sends them to the delivery sink instead.
  void SetHttpTransport(std::shared_ptr<HttpTransport> transport);
  static std::string SigningCertificatePem();

 private:
  friend class internal::SnsEngine;
  explicit Sns(internal::SnsEngine* engine) : engine_(engine) {}
  internal::SnsEngine* engine_;
};

}  // namespace ferry

#endif  // FERRY_SNS_H_
