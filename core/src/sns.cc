// The AWS-shaped level of topics: fills the request context's defaults and
// forwards to the SNS engine.
#include "ferry/sns.h"

#include "fault_hook.h"
#include "sns_engine.h"
#include "sns_rules.h"
#include "status_macros.h"

namespace ferry {
namespace {

RequestContext Fill(internal::SnsEngine& engine, const RequestContext& ctx) {
  RequestContext c = ctx;
  if (c.account.empty())
    c.account = std::string(engine.engine().DefaultAccount());
  if (c.region.empty()) c.region = std::string(engine.engine().DefaultRegion());
  return c;
}

}  // namespace

absl::StatusOr<CreateTopicResult> Sns::CreateTopic(
    const Ctx& ctx, const CreateTopicRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<internal::TopicState> topic,
                         engine_->CreateTopic(Fill(*engine_, ctx), req));
  return CreateTopicResult{topic->arn()};
}
absl::Status Sns::DeleteTopic(const Ctx& ctx, const DeleteTopicRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->DeleteTopic(Fill(*engine_, ctx), req.topic_arn);
}
absl::StatusOr<ListTopicsResult> Sns::ListTopics(const Ctx& ctx,
                                                 const ListTopicsRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ListTopics(Fill(*engine_, ctx), req);
}
absl::StatusOr<GetTopicAttributesResult> Sns::GetTopicAttributes(
    const Ctx& ctx, const GetTopicAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->GetTopicAttributes(Fill(*engine_, ctx), req);
}
absl::Status Sns::SetTopicAttributes(const Ctx& ctx,
                                     const SetTopicAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->SetTopicAttributes(Fill(*engine_, ctx), req);
}
absl::StatusOr<SubscribeResult> Sns::Subscribe(const Ctx& ctx,
                                               const SubscribeRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->Subscribe(Fill(*engine_, ctx), req);
}
absl::StatusOr<ConfirmSubscriptionResult> Sns::ConfirmSubscription(
    const Ctx& ctx, const ConfirmSubscriptionRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ConfirmSubscription(Fill(*engine_, ctx), req);
}
absl::Status Sns::Unsubscribe(const Ctx& ctx, const UnsubscribeRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->Unsubscribe(Fill(*engine_, ctx), req.subscription_arn);
}
absl::StatusOr<ListSubscriptionsResult> Sns::ListSubscriptions(
    const Ctx& ctx, const ListSubscriptionsRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ListSubscriptions(Fill(*engine_, ctx), "", false,
                                    req.next_token);
}
absl::StatusOr<ListSubscriptionsResult> Sns::ListSubscriptionsByTopic(
    const Ctx& ctx, const ListSubscriptionsByTopicRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ListSubscriptions(Fill(*engine_, ctx), req.topic_arn, true,
                                    req.next_token);
}
absl::StatusOr<GetSubscriptionAttributesResult> Sns::GetSubscriptionAttributes(
    const Ctx& ctx, const GetSubscriptionAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->GetSubscriptionAttributes(Fill(*engine_, ctx), req);
}
absl::Status Sns::SetSubscriptionAttributes(
    const Ctx& ctx, const SetSubscriptionAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->SetSubscriptionAttributes(Fill(*engine_, ctx), req);
}
absl::StatusOr<SnsPublishResult> Sns::Publish(const Ctx& ctx,
                                              const PublishRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->Publish(Fill(*engine_, ctx), req);
}
absl::StatusOr<PublishBatchResult> Sns::PublishBatch(
    const Ctx& ctx, const PublishBatchRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->PublishBatch(Fill(*engine_, ctx), req);
}
absl::StatusOr<CreatePlatformApplicationResult> Sns::CreatePlatformApplication(
    const Ctx& ctx, const CreatePlatformApplicationRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->CreatePlatformApplication(Fill(*engine_, ctx), req);
}
absl::StatusOr<ListPlatformApplicationsResult> Sns::ListPlatformApplications(
    const Ctx& ctx, const ListPlatformApplicationsRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ListPlatformApplications(Fill(*engine_, ctx), req);
}
absl::StatusOr<GetPlatformApplicationAttributesResult>
Sns::GetPlatformApplicationAttributes(
    const Ctx& ctx, const GetPlatformApplicationAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  FERRY_ASSIGN_OR_RETURN(
      AttributeMap a, engine_->GetPlatformApplicationAttributes(
                          Fill(*engine_, ctx), req.platform_application_arn));
  return GetPlatformApplicationAttributesResult{std::move(a)};
}
absl::Status Sns::SetPlatformApplicationAttributes(
    const Ctx& ctx, const SetPlatformApplicationAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->SetPlatformApplicationAttributes(Fill(*engine_, ctx), req);
}
absl::Status Sns::DeletePlatformApplication(
    const Ctx& ctx, const DeletePlatformApplicationRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->DeletePlatformApplication(Fill(*engine_, ctx),
                                            req.platform_application_arn);
}
absl::StatusOr<CreatePlatformEndpointResult> Sns::CreatePlatformEndpoint(
    const Ctx& ctx, const CreatePlatformEndpointRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->CreatePlatformEndpoint(Fill(*engine_, ctx), req);
}
absl::StatusOr<ListEndpointsByPlatformApplicationResult>
Sns::ListEndpointsByPlatformApplication(
    const Ctx& ctx, const ListEndpointsByPlatformApplicationRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ListEndpointsByPlatformApplication(Fill(*engine_, ctx), req);
}
absl::StatusOr<GetEndpointAttributesResult> Sns::GetEndpointAttributes(
    const Ctx& ctx, const GetEndpointAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  FERRY_ASSIGN_OR_RETURN(
      AttributeMap a,
      engine_->GetEndpointAttributes(Fill(*engine_, ctx), req.endpoint_arn));
  return GetEndpointAttributesResult{std::move(a)};
}
absl::Status Sns::SetEndpointAttributes(
    const Ctx& ctx, const SetEndpointAttributesRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->SetEndpointAttributes(Fill(*engine_, ctx), req);
}
absl::Status Sns::DeleteEndpoint(const Ctx& ctx,
                                 const DeleteEndpointRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->DeleteEndpoint(Fill(*engine_, ctx), req.endpoint_arn);
}
absl::Status Sns::TagResource(const Ctx& ctx, const TagResourceRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->TagResource(Fill(*engine_, ctx), req);
}
absl::Status Sns::UntagResource(const Ctx& ctx,
                                const UntagResourceRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->UntagResource(Fill(*engine_, ctx), req);
}
absl::StatusOr<ListTagsForResourceResult> Sns::ListTagsForResource(
    const Ctx& ctx, const ListTagsForResourceRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->ListTagsForResource(Fill(*engine_, ctx), req.resource_arn);
}
absl::Status Sns::AddPermission(const Ctx& ctx,
                                const SnsAddPermissionRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->AddPermission(Fill(*engine_, ctx), req);
}
absl::Status Sns::RemovePermission(const Ctx& ctx,
                                   const SnsRemovePermissionRequest& req) {
  FERRY_INJECTED_FAULTS(engine_->engine().options(), engine_->engine().clock(),
                        AwsService::kSns, ctx);
  return engine_->RemovePermission(Fill(*engine_, ctx), req);
}
void Sns::SetDeliverySink(std::shared_ptr<DeliverySink> sink) {
  engine_->SetDeliverySink(std::move(sink));
}
std::vector<SinkDelivery> Sns::RecordedDeliveries() const {
  return engine_->RecordedDeliveries();
}
void Sns::ClearRecordedDeliveries() { engine_->ClearRecordedDeliveries(); }
void Sns::SetMessageSigning(bool enabled) {
  engine_->SetMessageSigning(enabled);
}
void Sns::SetHttpTransport(std::shared_ptr<HttpTransport> transport) {
  engine_->SetHttpTransport(std::move(transport));
}
std::string Sns::SigningCertificatePem() {
  return internal::SigningCertificatePem();
}

}  // namespace ferry
