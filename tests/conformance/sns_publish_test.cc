// SNS Publish and PublishBatch: validation texts, the 256 KiB limit, the JSON
// envelope (fields, order, signature), raw delivery, MessageStructure=json,
// FIFO topics, MessageGroupId on standard topics, filter policies per entry.
// Reference: sns.md §1.7, §1.10, §1.11, §3.1, §3.2, §3.6.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <regex>
#include <string>
#include <vector>

#include "tests/conformance/sns_fixture.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;
using OJson = nlohmann::ordered_json;

std::vector<std::string> KeysOf(const std::string& body) {
  std::vector<std::string> keys;
  OJson j = OJson::parse(body);
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

bool VerifySignature(const std::string& text, const std::string& sig_base64,
                     const std::string& version) {
  std::string pem = ferry::Sns::SigningCertificatePem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return false;
  EVP_PKEY* key = X509_get_pubkey(cert);
  std::string sig(sig_base64.size(), '\0');
  int len =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(sig.data()),
                      reinterpret_cast<const unsigned char*>(sig_base64.data()),
                      static_cast<int>(sig_base64.size()));
  size_t pad = 0;
  if (!sig_base64.empty() && sig_base64.back() == '=') ++pad;
  if (sig_base64.size() > 1 && sig_base64[sig_base64.size() - 2] == '=') ++pad;
  sig.resize(static_cast<size_t>(len) - pad);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr,
                                 version == "2" ? EVP_sha256() : EVP_sha1(),
                                 nullptr, key) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(sig.data()),
                sig.size(), reinterpret_cast<const unsigned char*>(text.data()),
                text.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  return ok;
}

class SnsPublishTest : public SnsTest {
 protected:
  void SetUp() override {
    SnsTest::SetUp();
    FERRY_ASSERT_OK_AND_ASSIGN(topic_, CreateTopic("t"));
  }
  absl::StatusOr<ferry::SnsPublishResult> PublishReq(ferry::PublishRequest r) {
    if (r.topic_arn.empty() && r.target_arn.empty() && r.phone_number.empty()) {
      r.topic_arn = topic_;
    }
    return sns().Publish(ctx_, r);
  }
  std::string topic_;
};

TEST_P(SnsPublishTest, ValidationTexts) {
  EXPECT_THAT(PublishReq({.message = "m", .subject = ""}),
              AwsErrorIs("InvalidParameter", "Invalid parameter: Subject"));
  EXPECT_THAT(PublishReq({.message = "m", .subject = std::string(101, 's')}),
              AwsErrorIs("InvalidParameter", "Invalid parameter: Subject"));
  EXPECT_THAT(PublishReq({.message = "m", .subject = "a\nb"}),
              AwsErrorIs("InvalidParameter", "Invalid parameter: Subject"));
  EXPECT_THAT(PublishReq({.message = "m", .subject = std::string(100, 's')}),
              IsOk());
  EXPECT_THAT(
      PublishReq({.message = ""}),
      AwsErrorIs("InvalidParameter", "Invalid parameter: Empty message"));
  EXPECT_THAT(PublishReq({.phone_number = "invalid", .message = "m"}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: PhoneNumber Reason: invalid is "
                         "not valid to publish to"));
  EXPECT_THAT(PublishReq({.topic_arn = TopicArnOf("missing"), .message = "m"}),
              AwsErrorIs("NotFound", "Topic does not exist"));
  EXPECT_THAT(PublishReq({.message = "m", .message_structure = "xml"}),
              AwsErrorIs("InvalidParameter"));
  EXPECT_THAT(
      PublishReq(
          {.message = R"({"default": "x"} })", .message_structure = "json"}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Message Structure - JSON message body "
                 "failed to parse"));
  EXPECT_THAT(
      PublishReq({.message = R"({"default": {"object":"test"}})",
                  .message_structure = "json"}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: Message Structure - No default entry in "
                 "JSON message body"));
  EXPECT_THAT(PublishReq({.message = "m", .message_deduplication_id = "d"}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: MessageDeduplicationId Reason: "
                         "The request includes MessageDeduplicationId "
                         "parameter that is not valid for this topic type"));
}

TEST_P(SnsPublishTest, AttributeValidationTexts) {
  auto with = [&](std::string name, ferry::MessageAttributeValue v) {
    return PublishReq({.message = "m", .message_attributes = {{name, v}}});
  };
  EXPECT_THAT(with(std::string(257, 'a'), StringAttr("v")),
              AwsErrorIs("ParameterValueInvalid",
                         "Length of message attribute name must be less than "
                         "256 bytes."));
  EXPECT_THAT(with("a^*?", StringAttr("v")),
              AwsErrorIs("ParameterValueInvalid",
                         "Invalid non-alphanumeric character '#x5E' was found "
                         "in the message attribute name. Can only include "
                         "alphanumeric characters, hyphens, underscores, or "
                         "dots."));
  EXPECT_THAT(with(".abc", StringAttr("v")),
              AwsErrorIs("ParameterValueInvalid",
                         "Invalid message attribute name starting with "
                         "character '.' was found."));
  EXPECT_THAT(with("abc.", StringAttr("v")),
              AwsErrorIs("ParameterValueInvalid",
                         "Invalid message attribute name ending with character "
                         "'.' was found."));
  EXPECT_THAT(with("a..bc", StringAttr("v")),
              AwsErrorIs("ParameterValueInvalid",
                         "Message attribute name can not have successive '.' "
                         "character."));
  for (std::string type : {"String.", "Stringprefixed", "InvalidType"}) {
    EXPECT_THAT(with("attr1", {.data_type = type, .string_value = "v"}),
                AwsErrorIs("ParameterValueInvalid",
                           "The message attribute 'attr1' has an invalid "
                           "message attribute type, the set of supported type "
                           "prefixes is Binary, Number, and String."));
  }
  EXPECT_THAT(
      with("attr1", {.data_type = "String.prefixed", .string_value = "v"}),
      IsOk());
  EXPECT_THAT(with("attr1", StringAttr("")),
              AwsErrorIs("ParameterValueInvalid",
                         "The message attribute 'attr1' must contain non-empty "
                         "message attribute value for message attribute type "
                         "'String'."));
  EXPECT_THAT(with("attr1", {.data_type = "Binary"}),
              AwsErrorIs("ParameterValueInvalid",
                         "The message attribute 'attr1' must contain non-empty "
                         "message attribute value for message attribute type "
                         "'Binary'."));
  EXPECT_THAT(with("attr1", {.data_type = "String", .binary_value = "b"}),
              AwsErrorIs("ParameterValueInvalid",
                         "The message attribute 'attr1' with type 'String' "
                         "must use field 'String'."));
  EXPECT_THAT(with("attr1", {.data_type = "Number", .binary_value = "b"}),
              AwsErrorIs("ParameterValueInvalid",
                         "The message attribute 'attr1' with type 'Number' "
                         "must use field 'String'."));
  EXPECT_THAT(with("attr1", {.data_type = "Binary", .string_value = "s"}),
              AwsErrorIs("ParameterValueInvalid",
                         "The message attribute 'attr1' with type 'Binary' "
                         "must use field 'Binary'."));
  EXPECT_THAT(with("attr1", {.string_value = "s"}),
              AwsErrorIs("ValidationError",
                         "1 validation error detected: Value null at "
                         "'messageAttributes.attr1.member.dataType' failed to "
                         "satisfy constraint: Member must not be null"));
}

TEST_P(SnsPublishTest, SizeLimitCountsAttributes) {
  // name "a" (1) + "String" (6) + value "v" (1) = 8 bytes.
  ferry::MessageAttributeMap attrs = {{"a", StringAttr("v")}};
  EXPECT_THAT(PublishReq({.message = std::string(262144 - 8, 'x'),
                          .message_attributes = attrs}),
              IsOk());
  EXPECT_THAT(
      PublishReq({.message = std::string(262144 - 7, 'x'),
                  .message_attributes = attrs}),
      AwsErrorIs("InvalidParameter", "Invalid parameter: Message too long"));
}

TEST_P(SnsPublishTest, EnvelopeFieldsAndOrder) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, QueueSubscribedTo(topic_, "q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SnsPublishResult r,
      PublishReq({.message = "hello \"world\"",
                  .subject = "subj",
                  .message_attributes = {{"s", StringAttr("v")},
                                         {"n", NumberAttr("1.5")},
                                         {"b", BinaryAttr("\x02\x03\x04")}}}));
  absl::StatusOr<std::vector<ferry::Message>> got = Receive(url);
  ASSERT_TRUE(got.ok());
  ASSERT_THAT(*got, SizeIs(1));
  const ferry::Message& m = (*got)[0];
  EXPECT_THAT(m.message_attributes, IsEmpty());
  EXPECT_THAT(
      KeysOf(m.body),
      ElementsAre("Type", "MessageId", "TopicArn", "Subject", "Message",
                  "Timestamp", "SignatureVersion", "Signature",
                  "SigningCertURL", "UnsubscribeURL", "MessageAttributes"));
  Json e = Json::parse(m.body);
  EXPECT_EQ(e["Type"], "Notification");
  EXPECT_EQ(e["MessageId"], r.message_id);
  EXPECT_EQ(e["TopicArn"], topic_);
  EXPECT_EQ(e["Subject"], "subj");
  EXPECT_EQ(e["Message"], "hello \"world\"");
  EXPECT_TRUE(std::regex_match(
      e["Timestamp"].get<std::string>(),
      std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  EXPECT_EQ(e["SignatureVersion"], "1");
  EXPECT_TRUE(std::regex_match(
      e["SigningCertURL"].get<std::string>(),
      std::regex(
          R"(https://sns\.us-east-1\.amazonaws\.com/SimpleNotificationService-[0-9a-f]{32}\.pem)")));
  auto subs = sns().ListSubscriptionsByTopic(ctx_, {.topic_arn = topic_});
  ASSERT_TRUE(subs.ok());
  EXPECT_EQ(e["UnsubscribeURL"],
            absl::StrCat("https://sns.us-east-1.amazonaws.com/"
                         "?Action=Unsubscribe&SubscriptionArn=",
                         subs->subscriptions[0].subscription_arn));
  EXPECT_EQ(e["MessageAttributes"],
            Json::parse(R"({"b":{"Type":"Binary","Value":"AgME"},
                            "n":{"Type":"Number","Value":"1.5"},
                            "s":{"Type":"String","Value":"v"}})"));
  std::string canonical = absl::StrCat(
      "Message\n", e["Message"].get<std::string>(), "\nMessageId\n",
      r.message_id, "\nSubject\nsubj\nTimestamp\n",
      e["Timestamp"].get<std::string>(), "\nTopicArn\n", topic_,
      "\nType\nNotification\n");
  EXPECT_TRUE(VerifySignature(canonical, e["Signature"], "1"));

  // Without subject and attributes those keys are absent; version 2 signs
  // with SHA256.
  ASSERT_THAT(
      sns().SetTopicAttributes(ctx_, {.topic_arn = topic_,
                                      .attribute_name = "SignatureVersion",
                                      .attribute_value = "2"}),
      IsOk());
  FERRY_ASSERT_OK_AND_ASSIGN(r, PublishReq({.message = "plain"}));
  std::vector<Json> bodies = ReceiveJson(url);
  ASSERT_THAT(bodies, SizeIs(1));
  EXPECT_FALSE(bodies[0].contains("Subject"));
  EXPECT_FALSE(bodies[0].contains("MessageAttributes"));
  EXPECT_EQ(bodies[0]["SignatureVersion"], "2");
  canonical =
      absl::StrCat("Message\nplain\nMessageId\n", r.message_id, "\nTimestamp\n",
                   bodies[0]["Timestamp"].get<std::string>(), "\nTopicArn\n",
                   topic_, "\nType\nNotification\n");
  EXPECT_TRUE(VerifySignature(canonical, bodies[0]["Signature"], "2"));

  // Signing can be turned off (a ferry divergence, for speed).
  sns().SetMessageSigning(false);
  ASSERT_THAT(PublishReq({.message = "unsigned"}), IsOk());
  bodies = ReceiveJson(url);
  ASSERT_THAT(bodies, SizeIs(1));
  EXPECT_FALSE(bodies[0].contains("Signature"));
  EXPECT_TRUE(bodies[0].contains("UnsubscribeURL"));
}

TEST_P(SnsPublishTest, RawDeliveryMapsAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      QueueSubscribedTo(topic_, "raw", {{"RawMessageDelivery", "true"}}));
  ASSERT_THAT(PublishReq({.message = "body",
                          .message_attributes = {{"s", StringAttr("v")},
                                                 {"n", NumberAttr("7")},
                                                 {"b", BinaryAttr("xyz")}}}),
              IsOk());
  auto got = sqs().ReceiveMessage(
      ctx_, {.queue_url = url, .message_attribute_names = {"All"}});
  ASSERT_TRUE(got.ok());
  ASSERT_THAT(got->messages, SizeIs(1));
  EXPECT_EQ(got->messages[0].body, "body");
  ferry::MessageAttributeMap want = {
      {"s", StringAttr("v")}, {"n", NumberAttr("7")}, {"b", BinaryAttr("xyz")}};
  EXPECT_EQ(got->messages[0].message_attributes, want);
}

TEST_P(SnsPublishTest, MessageStructureJsonPicksTheProtocolKey) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, QueueSubscribedTo(topic_, "q"));
  ASSERT_THAT(
      PublishReq(
          {.message = R"({"default":"default field","sqs":{"field":"value"}})",
           .message_structure = "json"}),
      IsOk());
  ASSERT_THAT(
      PublishReq(
          {.message = R"({"default":"d","sqs":"{\"field\": \"value\"}"})",
           .message_structure = "json"}),
      IsOk());
  std::vector<Json> bodies = ReceiveJson(url);
  ASSERT_THAT(bodies, SizeIs(2));
  std::vector<std::string> messages = {bodies[0]["Message"],
                                       bodies[1]["Message"]};
  EXPECT_THAT(messages, testing::UnorderedElementsAre("default field",
                                                      R"({"field": "value"})"));
}

TEST_P(SnsPublishTest, NotDeliveredToLaterSubscribers) {
  ASSERT_THAT(PublishReq({.message = "before"}), IsOk());
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, QueueSubscribedTo(topic_, "q"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(SnsPublishTest, FilterPoliciesSelectSubscribers) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string rugby,
      QueueSubscribedTo(topic_, "rugby",
                        {{"RawMessageDelivery", "true"},
                         {"FilterPolicy", R"({"sport":["rugby"]})"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string body_scope,
      QueueSubscribedTo(
          topic_, "cheap",
          {{"RawMessageDelivery", "true"},
           {"FilterPolicyScope", "MessageBody"},
           {"FilterPolicy", R"({"price":[{"numeric":["<",10]}]})"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string all, QueueSubscribedTo(topic_, "all"));
  ASSERT_THAT(
      PublishReq({.message = R"({"price":5})",
                  .message_attributes = {{"sport", StringAttr("rugby")}}}),
      IsOk());
  ASSERT_THAT(
      PublishReq({.message = R"({"price":50})",
                  .message_attributes = {{"sport", StringAttr("golf")}}}),
      IsOk());
  EXPECT_THAT(ReceiveBodies(rugby),
              IsOkAndHolds(ElementsAre(R"({"price":5})")));
  EXPECT_THAT(ReceiveBodies(body_scope),
              IsOkAndHolds(ElementsAre(R"({"price":5})")));
  EXPECT_THAT(ReceiveBodies(all), IsOkAndHolds(SizeIs(2)));
}

TEST_P(SnsPublishTest, FifoTopicToFifoQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string fifo,
                             CreateTopic("f.fifo", {{"FifoTopic", "true"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url,
                             QueueSubscribedTo(fifo, "q.fifo"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string std_url,
                             QueueSubscribedTo(fifo, "plain"));
  EXPECT_THAT(PublishReq({.topic_arn = fifo, .message = "m"}),
              AwsErrorIs("InvalidParameter",
                         "Invalid parameter: The MessageGroupId parameter is "
                         "required for FIFO topics"));
  EXPECT_THAT(
      PublishReq({.topic_arn = fifo, .message = "m", .message_group_id = "g"}),
      AwsErrorIs("InvalidParameter",
                 "Invalid parameter: The topic should either have "
                 "ContentBasedDeduplication enabled or "
                 "MessageDeduplicationId provided explicitly"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SnsPublishResult first,
                             PublishReq({.topic_arn = fifo,
                                         .message = "m1",
                                         .message_deduplication_id = "d1",
                                         .message_group_id = "g"}));
  EXPECT_EQ(first.sequence_number.size(), 20u);
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SnsPublishResult second,
                             PublishReq({.topic_arn = fifo,
                                         .message = "m2",
                                         .message_deduplication_id = "d2",
                                         .message_group_id = "g"}));
  EXPECT_GT(second.sequence_number, first.sequence_number);
  // A duplicate inside 5 minutes is accepted and not delivered.
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SnsPublishResult dup,
                             PublishReq({.topic_arn = fifo,
                                         .message = "m1 again",
                                         .message_deduplication_id = "d1",
                                         .message_group_id = "g"}));
  EXPECT_EQ(dup.message_id, first.message_id);

  auto got = sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                         .attribute_names = {"All"},
                                         .max_number_of_messages = 10});
  ASSERT_TRUE(got.ok());
  ASSERT_THAT(got->messages, SizeIs(2));
  Json e = Json::parse(got->messages[0].body);
  EXPECT_THAT(KeysOf(got->messages[0].body),
              ElementsAre("Type", "MessageId", "SequenceNumber", "TopicArn",
                          "Message", "Timestamp", "UnsubscribeURL"));
  EXPECT_EQ(e["Message"], "m1");
  EXPECT_EQ(e["SequenceNumber"], first.sequence_number);
  EXPECT_EQ(got->messages[0].attributes["MessageGroupId"], "g");
  EXPECT_EQ(got->messages[0].attributes["MessageDeduplicationId"], "d1");
  EXPECT_EQ(Json::parse(got->messages[1].body)["Message"], "m2");
  EXPECT_THAT(ReceiveJson(std_url), SizeIs(2));

  // After the window the same id is delivered again.
  AdvanceSeconds(301);
  ASSERT_THAT(PublishReq({.topic_arn = fifo,
                          .message = "m1 later",
                          .message_deduplication_id = "d1",
                          .message_group_id = "g"}),
              IsOk());
  EXPECT_THAT(ReceiveBodies(std_url), IsOkAndHolds(SizeIs(1)));
}

TEST_P(SnsPublishTest, FifoContentBasedDeduplicationUsesTheBody) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string fifo,
      CreateTopic("c.fifo", {{"FifoTopic", "true"},
                             {"ContentBasedDeduplication", "true"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      QueueSubscribedTo(fifo, "q.fifo", {{"RawMessageDelivery", "true"}}));
  ASSERT_THAT(
      PublishReq(
          {.topic_arn = fifo, .message = "same", .message_group_id = "g"}),
      IsOk());
  ASSERT_THAT(PublishReq({.topic_arn = fifo,
                          .message = "same",
                          .message_attributes = {{"x", StringAttr("y")}},
                          .message_group_id = "g"}),
              IsOk());
  auto got = sqs().ReceiveMessage(
      ctx_, {.queue_url = url, .attribute_names = {"MessageDeduplicationId"}});
  ASSERT_TRUE(got.ok());
  ASSERT_THAT(got->messages, SizeIs(1));
  EXPECT_EQ(got->messages[0].attributes["MessageDeduplicationId"].size(), 64u);
}

TEST_P(SnsPublishTest, MessageGroupIdPassesToStandardQueues) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      QueueSubscribedTo(topic_, "q", {{"RawMessageDelivery", "true"}}));
  ASSERT_THAT(PublishReq({.message = "m", .message_group_id = "my-group-id-1"}),
              IsOk());
  auto got = sqs().ReceiveMessage(
      ctx_, {.queue_url = url, .attribute_names = {"All"}});
  ASSERT_TRUE(got.ok());
  ASSERT_THAT(got->messages, SizeIs(1));
  EXPECT_EQ(got->messages[0].attributes["MessageGroupId"], "my-group-id-1");
}

TEST_P(SnsPublishTest, QueueRulesApplyToDeliveries) {
  // The destination queue's MaximumMessageSize applies to the delivery.
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string small,
      QueueSubscribedTo(topic_, "small", {{"RawMessageDelivery", "true"}},
                        {{"MaximumMessageSize", "1024"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string big,
      QueueSubscribedTo(topic_, "big", {{"RawMessageDelivery", "true"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string delayed,
      QueueSubscribedTo(topic_, "delayed", {{"RawMessageDelivery", "true"}},
                        {{"DelaySeconds", "10"}}));
  ASSERT_THAT(PublishReq({.message = std::string(2000, 'x')}), IsOk());
  EXPECT_THAT(ReceiveBodies(small), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(ReceiveBodies(big), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveBodies(delayed), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(10);
  EXPECT_THAT(ReceiveBodies(delayed), IsOkAndHolds(SizeIs(1)));
  absl::StatusOr<ferry::Topic> t = broker().GetTopic("t");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Stats()->failed, 1);
  EXPECT_EQ(t->Stats()->delivered_to_queues, 2);
}

TEST_P(SnsPublishTest, PublishBatch) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      QueueSubscribedTo(topic_, "q",
                        {{"RawMessageDelivery", "true"},
                         {"FilterPolicy", R"({"k":["yes"]})"}}));
  auto batch = [&](std::vector<ferry::PublishBatchRequestEntry> entries) {
    return sns().PublishBatch(ctx_, {.topic_arn = topic_, .entries = entries});
  };
  EXPECT_THAT(batch({}), AwsErrorIs("EmptyBatchRequest"));
  std::vector<ferry::PublishBatchRequestEntry> eleven(11);
  for (int i = 0; i < 11; ++i)
    eleven[i] = {.id = absl::StrCat(i), .message = "m"};
  EXPECT_THAT(batch(eleven),
              AwsErrorIs("TooManyEntriesInBatchRequest",
                         "The batch request contains more entries than "
                         "permissible."));
  EXPECT_THAT(batch({{.id = "a", .message = "m"}, {.id = "a", .message = "m"}}),
              AwsErrorIs("BatchEntryIdsNotDistinct",
                         "Two or more batch entries in the request have the "
                         "same Id."));
  EXPECT_THAT(batch({{.id = "message.id", .message = "m"}}),
              AwsErrorIs("InvalidBatchEntryId"));
  EXPECT_THAT(batch({{.id = std::string(81, 'a'), .message = "m"}}),
              AwsErrorIs("InvalidBatchEntryId"));
  EXPECT_THAT(batch({{.id = std::string(80, 'a'), .message = "m"}}), IsOk());
  EXPECT_THAT(batch({{.id = "a", .message = std::string(200000, 'x')},
                     {.id = "b", .message = std::string(70000, 'x')}}),
              AwsErrorIs("BatchRequestTooLong",
                         "The length of all the messages put together is more "
                         "than the limit."));
  EXPECT_THAT(
      batch({{.id = "a",
              .message = "m",
              .message_attributes =
                  {{"bad", {.data_type = "Nope", .string_value = "v"}}}}}),
      AwsErrorIs("ParameterValueInvalid"));
  EXPECT_THAT(
      sns().PublishBatch(ctx_, {.topic_arn = TopicArnOf("x"),
                                .entries = {{.id = "a", .message = "m"}}}),
      AwsErrorIs("NotFound", "Topic does not exist"));

  absl::StatusOr<ferry::PublishBatchResult> r =
      batch({{.id = "ok1",
              .message = "one",
              .message_attributes = {{"k", StringAttr("yes")}}},
             {.id = "bad", .message = ""},
             {.id = "ok2",
              .message = "two",
              .message_attributes = {{"k", StringAttr("no")}}}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(r->successful, SizeIs(2));
  EXPECT_EQ(r->successful[0].id, "ok1");
  EXPECT_EQ(r->successful[1].id, "ok2");
  ASSERT_THAT(r->failed, SizeIs(1));
  EXPECT_EQ(r->failed[0].id, "bad");
  EXPECT_EQ(r->failed[0].code, "InvalidParameter");
  EXPECT_TRUE(r->failed[0].sender_fault);
  EXPECT_EQ(r->failed[0].message, "Invalid parameter: Empty message");
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("one")));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SnsPublishTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
