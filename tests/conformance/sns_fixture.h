// The fixture the SNS conformance tests share: ConformanceTest plus helpers
// for topics, subscriptions and publishes through the AWS-shaped level.
#ifndef FERRY_TESTS_CONFORMANCE_SNS_FIXTURE_H_
#define FERRY_TESTS_CONFORMANCE_SNS_FIXTURE_H_

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "ferry/sns.h"
#include "ferry/topic.h"
#include "nlohmann/json.hpp"
#include "tests/conformance/backends.h"

namespace ferry_conformance {

class SnsTest : public ConformanceTest {
 protected:
  using Json = nlohmann::json;

  ferry::Sns& sns() { return broker_->sns(); }

  static std::string TopicArnOf(const std::string& name) {
    return absl::StrCat("arn:aws:sns:", kRegion, ":", kAccount, ":", name);
  }

  absl::StatusOr<std::string> CreateTopic(
      const std::string& name, ferry::AttributeMap attributes = {},
      std::vector<ferry::SnsTag> tags = {}) {
    absl::StatusOr<ferry::CreateTopicResult> r =
        sns().CreateTopic(ctx_, {.name = name,
                                 .attributes = std::move(attributes),
                                 .tags = std::move(tags)});
    if (!r.ok()) return r.status();
    return r->topic_arn;
  }

  absl::StatusOr<ferry::AttributeMap> TopicAttributes(const std::string& arn) {
    absl::StatusOr<ferry::GetTopicAttributesResult> r =
        sns().GetTopicAttributes(ctx_, {.topic_arn = arn});
    if (!r.ok()) return r.status();
    return r->attributes;
  }

  absl::StatusOr<std::string> Subscribe(const std::string& topic_arn,
                                        const std::string& protocol,
                                        const std::string& endpoint,
                                        ferry::AttributeMap attributes = {},
                                        bool return_arn = false) {
    absl::StatusOr<ferry::SubscribeResult> r =
        sns().Subscribe(ctx_, {.topic_arn = topic_arn,
                               .protocol = protocol,
                               .endpoint = endpoint,
                               .attributes = std::move(attributes),
                               .return_subscription_arn = return_arn});
    if (!r.ok()) return r.status();
    return r->subscription_arn;
  }

  // Creates queue `name` and subscribes it; returns the queue URL.
  absl::StatusOr<std::string> QueueSubscribedTo(
      const std::string& topic_arn, const std::string& name,
      ferry::AttributeMap sub_attributes = {},
      ferry::AttributeMap queue_attributes = {}) {
    if (absl::EndsWith(name, ".fifo")) queue_attributes["FifoQueue"] = "true";
    absl::StatusOr<std::string> url = CreateQueue(name, queue_attributes);
    if (!url.ok()) return url.status();
    absl::StatusOr<std::string> sub =
        Subscribe(topic_arn, "sqs", ArnOf(name), std::move(sub_attributes));
    if (!sub.ok()) return sub.status();
    return url;
  }

  absl::StatusOr<ferry::SnsPublishResult> Publish(
      const std::string& topic_arn, const std::string& message,
      ferry::MessageAttributeMap attributes = {}) {
    return sns().Publish(ctx_, {.topic_arn = topic_arn,
                                .message = message,
                                .message_attributes = std::move(attributes)});
  }

  // The JSON bodies of the messages now in `url` (received and deleted).
  std::vector<Json> ReceiveJson(const std::string& url) {
    std::vector<Json> out;
    absl::StatusOr<std::vector<ferry::Message>> m = Receive(url, 10);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return out;
    for (const ferry::Message& msg : *m) {
      out.push_back(Json::parse(msg.body, nullptr, false));
      EXPECT_TRUE(Delete(url, msg.receipt_handle).ok());
    }
    return out;
  }
};

}  // namespace ferry_conformance

#endif  // FERRY_TESTS_CONFORMANCE_SNS_FIXTURE_H_
