// SNS's Query protocol as the gateway serves it (gateway/src/sns_service.h),
// driven with raw form-encoded requests as botocore writes them: every
// operation, the XML result elements of botocore's model, errors with their
// Code/Type/HTTP status, XML escaping, `.entry.N` maps and `.member.N` lists,
// PublishBatch partial failures, delivery to a queue of the same broker,
// routing (IsSnsRequest), SigV4 checks, injected faults and recording. No
// sockets; time is a ManualClock.
#include "sns_service.h"

#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aws_wire.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/sqs.h"
#include "ferry/testing/manual_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ferry::gateway_internal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Params = std::vector<std::pair<std::string, std::string>>;

constexpr char kNs[] = "http://sns.amazonaws.com/doc/2010-03-31/";

std::string FormEncode(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    for (const std::string* s : {&k, &v}) {
      for (unsigned char c : *s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out.push_back(static_cast<char>(c));
        } else {
          absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
        }
      }
      if (s == &k) out.push_back('=');
    }
  }
  return out;
}

// The text of every <tag> element of `xml`, in order (XML entities left as
// they are).
std::vector<std::string> All(std::string_view xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = absl::StrCat("<", tag, ">");
  const std::string close = absl::StrCat("</", tag, ">");
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t start = pos + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.emplace_back(xml.substr(start, end - start));
    pos = end + close.size();
  }
  return out;
}
std::string First(std::string_view xml, const std::string& tag) {
  std::vector<std::string> all = All(xml, tag);
  return all.empty() ? "" : all.front();
}

class SnsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerOptions bo;
    bo.clock = &clock_;
    broker_ = *Broker::Open(bo, NewMemoryBackend());
    Make();
  }

  void Make() {
    service_ = std::make_unique<SnsService>(
        broker_->sns(), options_, &faults_,
        [this](RecordedRequest r) { records_.push_back(std::move(r)); });
  }

  static HttpRequest Request(const std::string& action, Params params) {
    params.insert(params.begin(), {"Version", "2010-03-31"});
    params.insert(params.begin(), {"Action", action});
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers["host"] = "localhost:4566";
    r.headers["content-type"] =
        "application/x-www-form-urlencoded; charset=utf-8";
    r.headers["authorization"] =
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, Signature=00";
    r.headers["x-amz-date"] = "20260101T000000Z";
    r.body = FormEncode(params);
    return r;
  }

  HttpResponse Run(HttpRequest request) {
    PreparedCall call = service_->Prepare(std::move(request));
    EXPECT_FALSE(call.may_block);
    return std::move(call.run)();
  }

  HttpResponse Call(const std::string& action, Params params = {}) {
    return Run(Request(action, std::move(params)));
  }

  // Calls and expects success; returns the body.
  std::string Ok(const std::string& action, Params params = {}) {
    HttpResponse r = Call(action, std::move(params));
    EXPECT_EQ(r.status, 200) << action << ": " << r.body;
    EXPECT_EQ(r.content_type, "text/xml");
    EXPECT_THAT(r.body, HasSubstr(absl::StrCat("<", action, "Response xmlns=\"",
                                               kNs, "\">")));
    EXPECT_THAT(r.body, HasSubstr("<ResponseMetadata><RequestId>"));
    return r.body;
  }

  // Calls and expects an error; checks the envelope.
  void Error(const std::string& action, Params params, int status,
             const std::string& code, const std::string& message,
             const std::string& type = "Sender") {
    HttpResponse r = Call(action, std::move(params));
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.error_code, code);
    std::string escaped;
    AppendXmlEscaped(message, &escaped);
    EXPECT_THAT(r.body, HasSubstr(absl::StrCat(
                            "<ErrorResponse xmlns=\"", kNs, "\"><Error><Type>",
                            type, "</Type><Code>", code, "</Code><Message>",
                            escaped, "</Message>")))
        << r.body;
    EXPECT_THAT(r.body, HasSubstr("<RequestId>"));
  }

  std::string CreateTopic(const std::string& name, Params extra = {}) {
    extra.insert(extra.begin(), {"Name", name});
    return First(Ok("CreateTopic", std::move(extra)), "TopicArn");
  }

  // A queue of the broker; returns its ARN.
  std::string CreateQueue(const std::string& name,
                          AttributeMap attributes = {}) {
    RequestContext ctx;
    ctx.region = "us-east-1";
    auto url = broker_->sqs().CreateQueue(
        ctx, {.queue_name = name, .attributes = std::move(attributes)});
    EXPECT_TRUE(url.ok()) << url.status();
    urls_[name] = url->queue_url;
    auto a = broker_->sqs().GetQueueAttributes(
        ctx, {.queue_url = url->queue_url, .attribute_names = {"QueueArn"}});
    return a->attributes["QueueArn"];
  }

  std::vector<Message> Receive(const std::string& queue) {
    RequestContext ctx;
    ctx.region = "us-east-1";
    auto r =
        broker_->sqs().ReceiveMessage(ctx, {.queue_url = urls_[queue],
                                            .attribute_names = {"All"},
                                            .message_attribute_names = {"All"},
                                            .max_number_of_messages = 10});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->messages : std::vector<Message>{};
  }

  ferry_testing::ManualClock clock_;
  std::unique_ptr<Broker> broker_;
  GatewayOptions options_;
  FaultQueue faults_{1};
  std::vector<RecordedRequest> records_;
  std::unique_ptr<SnsService> service_;
  std::map<std::string, std::string> urls_;
};

TEST_F(SnsServiceTest, TopicLifecycle) {
  std::string body =
      Ok("CreateTopic", {{"Name", "orders"},
                         {"Attributes.entry.1.key", "DisplayName"},
                         {"Attributes.entry.1.value", "Orders & Co"},
                         {"Tags.member.1.Key", "team"},
                         {"Tags.member.1.Value", "red"}});
  const std::string arn = First(body, "TopicArn");
  EXPECT_EQ(arn, "arn:aws:sns:us-east-1:000000000000:orders");
  EXPECT_THAT(body, HasSubstr("<CreateTopicResult><TopicArn>"));
  // Idempotent with the same attributes.
  EXPECT_EQ(
      CreateTopic("orders", {{"Attributes.entry.1.key", "DisplayName"},
                             {"Attributes.entry.1.value", "Orders & Co"}}),
      arn);

  body = Ok("GetTopicAttributes", {{"TopicArn", arn}});
  EXPECT_THAT(body, HasSubstr("<GetTopicAttributesResult><Attributes><entry>"));
  EXPECT_THAT(body, HasSubstr("<entry><key>DisplayName</key><value>Orders "
                              "&amp; Co</value></entry>"));
  EXPECT_THAT(body, HasSubstr(absl::StrCat("<key>TopicArn</key><value>", arn,
                                           "</value>")));

  body = Ok("SetTopicAttributes", {{"TopicArn", arn},
                                   {"AttributeName", "DisplayName"},
                                   {"AttributeValue", "<new>"}});
  EXPECT_THAT(body, Not(HasSubstr("SetTopicAttributesResult")));
  EXPECT_THAT(Ok("GetTopicAttributes", {{"TopicArn", arn}}),
              HasSubstr("<value>&lt;new&gt;</value>"));

  CreateTopic("second");
  body = Ok("ListTopics");
  EXPECT_THAT(
      body,
      HasSubstr(absl::StrCat("<ListTopicsResult><Topics><member><TopicArn>")));
  EXPECT_EQ(All(body, "TopicArn").size(), 2u);
  EXPECT_THAT(All(body, "TopicArn"), ::testing::Contains(arn));

  Ok("DeleteTopic", {{"TopicArn", arn}});
  EXPECT_EQ(All(Ok("ListTopics"), "TopicArn").size(), 1u);
  Error("GetTopicAttributes", {{"TopicArn", arn}}, 404, "NotFound",
        "Topic does not exist");
}

TEST_F(SnsServiceTest, ErrorsCarryCodeTypeAndStatus) {
  Error("GetTopicAttributes", {{"TopicArn", "randomstring"}}, 400,
        "InvalidParameter",
        "Invalid parameter: TopicArn Reason: An ARN must have at least 6 "
        "elements, not 1");
  Error("Publish",
        {{"TopicArn", "arn:aws:sns:us-east-1:000000000000:none"},
         {"Message", "x"}},
        404, "NotFound", "Topic does not exist");
  Error("Subscribe", {{"Protocol", "sqs"}}, 400, "ValidationError",
        "1 validation error detected: Value null at 'topicArn' failed to "
        "satisfy constraint: Member must not be null");
  Error("NoSuchThing", {}, 400, "InvalidAction",
        "Could not find operation NoSuchThing for version 2010-03-31");

  HttpRequest no_action = Request("x", {});
  no_action.body = "Version=2010-03-31";
  HttpResponse r = Run(std::move(no_action));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_code, "MissingAction");

  HttpRequest malformed = Request("ListTopics", {});
  malformed.body += "&bad=%zz";
  r = Run(std::move(malformed));
  EXPECT_EQ(r.error_code, "MalformedQueryString");
  EXPECT_THAT(r.body, HasSubstr("<Type>Sender</Type>"));

  // A Receiver error: injected InternalError (SNS's table: 500).
  faults_.Inject({.operation = "ListTopics", .error = "InternalError"}, 1);
  Error("ListTopics", {}, 500, "InternalError",
        "Injected by the ferry gateway.", "Receiver");
  Ok("ListTopics");
  // Throttled is SNS's 429.
  faults_.Inject({.error = "Throttled", .message = "slow <down>"}, 1);
  Error("CreateTopic", {{"Name", "t"}}, 429, "Throttled", "slow <down>");
}

TEST_F(SnsServiceTest, FaultsDelayAndDrop) {
  faults_.Inject({.operation = "Publish", .drop_connection = true}, 1);
  faults_.Inject({.latency = absl::Milliseconds(250)}, 1);
  PreparedCall call = service_->Prepare(Request("ListTopics", {}));
  EXPECT_EQ(call.delay, absl::Milliseconds(250));
  EXPECT_EQ(std::move(call.run)().status, 200);
  std::string arn = CreateTopic("t");
  HttpResponse r = Call("Publish", {{"TopicArn", arn}, {"Message", "m"}});
  EXPECT_TRUE(r.drop_connection);
  EXPECT_TRUE(faults_.Faults().empty());
}

TEST_F(SnsServiceTest, SubscriptionsAndFilteredDeliveryToAQueue) {
  const std::string topic = CreateTopic("events");
  const std::string queue = CreateQueue("inbox");
  std::string body =
      Ok("Subscribe", {{"TopicArn", topic},
                       {"Protocol", "sqs"},
                       {"Endpoint", queue},
                       {"Attributes.entry.1.key", "FilterPolicy"},
                       {"Attributes.entry.1.value", R"({"color":["red"]})"},
                       {"ReturnSubscriptionArn", "true"}});
  const std::string sub = First(body, "SubscriptionArn");
  EXPECT_TRUE(absl::StartsWith(sub, topic + ":")) << body;

  body = Ok("GetSubscriptionAttributes", {{"SubscriptionArn", sub}});
  EXPECT_THAT(body, HasSubstr("<key>FilterPolicy</key><value>{&quot;color&quot;"
                              ":[&quot;red&quot;]}</value>"));
  body = Ok("ListSubscriptionsByTopic", {{"TopicArn", topic}});
  EXPECT_THAT(body, HasSubstr(absl::StrCat(
                        "<Subscriptions><member><SubscriptionArn>", sub,
                        "</SubscriptionArn><Owner>000000000000</Owner>"
                        "<Protocol>sqs</Protocol><Endpoint>",
                        queue, "</Endpoint><TopicArn>", topic,
                        "</TopicArn></member></Subscriptions>")));
  EXPECT_EQ(All(Ok("ListSubscriptions"), "SubscriptionArn"),
            std::vector<std::string>{sub});

  // Matching and non-matching publishes; attributes of every type.
  body = Ok("Publish", {{"TopicArn", topic},
                        {"Message", "a <red> one\r\n"},
                        {"Subject", "hello"},
                        {"MessageAttributes.entry.1.Name", "color"},
                        {"MessageAttributes.entry.1.Value.DataType", "String"},
                        {"MessageAttributes.entry.1.Value.StringValue", "red"},
                        {"MessageAttributes.entry.2.Name", "bin"},
                        {"MessageAttributes.entry.2.Value.DataType", "Binary"},
                        {"MessageAttributes.entry.2.Value.BinaryValue",
                         Base64Encode(std::string("\x00\x01", 2))}});
  const std::string id = First(body, "MessageId");
  EXPECT_EQ(id.size(), 36u) << body;
  Ok("Publish", {{"TopicArn", topic},
                 {"Message", "a blue one"},
                 {"MessageAttributes.entry.1.Name", "color"},
                 {"MessageAttributes.entry.1.Value.DataType", "String"},
                 {"MessageAttributes.entry.1.Value.StringValue", "blue"}});
  std::vector<Message> got = Receive("inbox");
  ASSERT_EQ(got.size(), 1u);
  nlohmann::json envelope = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(envelope["Type"], "Notification");
  EXPECT_EQ(envelope["MessageId"], id);
  EXPECT_EQ(envelope["TopicArn"], topic);
  EXPECT_EQ(envelope["Subject"], "hello");
  EXPECT_EQ(envelope["Message"], "a <red> one\r\n");
  EXPECT_EQ(envelope["MessageAttributes"]["color"]["Value"], "red");
  EXPECT_EQ(envelope["MessageAttributes"]["bin"]["Type"], "Binary");
  EXPECT_EQ(envelope["MessageAttributes"]["bin"]["Value"],
            Base64Encode(std::string("\x00\x01", 2)));

  // Raw delivery: the body itself, attributes as message attributes.
  Ok("SetSubscriptionAttributes", {{"SubscriptionArn", sub},
                                   {"AttributeName", "RawMessageDelivery"},
                                   {"AttributeValue", "true"}});
  Ok("Publish", {{"TopicArn", topic},
                 {"Message", "raw & red"},
                 {"MessageAttributes.entry.1.Name", "color"},
                 {"MessageAttributes.entry.1.Value.DataType", "String"},
                 {"MessageAttributes.entry.1.Value.StringValue", "red"}});
  got = Receive("inbox");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "raw & red");
  EXPECT_EQ(got[0].message_attributes["color"].string_value, "red");

  // The envelope's UnsubscribeURL, with the gateway as its host: a GET that
  // routing sends to SNS.
  const std::string unsubscribe = envelope["UnsubscribeURL"];
  HttpRequest get;
  get.method = "GET";
  get.target = unsubscribe.substr(unsubscribe.find("/?"));
  EXPECT_TRUE(SnsService::IsSnsRequest(get)) << get.target;
  HttpResponse r = Run(std::move(get));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("<UnsubscribeResponse"));
  EXPECT_TRUE(All(Ok("ListSubscriptions"), "SubscriptionArn").empty());
  Error("GetSubscriptionAttributes", {{"SubscriptionArn", sub}}, 404,
        "NotFound", "Subscription does not exist");
}

TEST_F(SnsServiceTest, MessageAttributeErrors) {
  const std::string topic = CreateTopic("t");
  Error("Publish",
        {{"TopicArn", topic},
         {"Message", "m"},
         {"MessageAttributes.entry.1.Name", "attr1"},
         {"MessageAttributes.entry.1.Value.StringValue", "v"}},
        400, "ValidationError",
        "1 validation error detected: Value null at "
        "'messageAttributes.attr1.member.dataType' failed to satisfy "
        "constraint: Member must not be null");
  Error("Publish",
        {{"TopicArn", topic},
         {"Message", "m"},
         {"MessageAttributes.entry.1.Name", "attr1"},
         {"MessageAttributes.entry.1.Value.DataType", "InvalidType"},
         {"MessageAttributes.entry.1.Value.StringValue", "v"}},
        400, "ParameterValueInvalid",
        "The message attribute 'attr1' has an invalid message attribute "
        "type, the set of supported type prefixes is Binary, Number, and "
        "String.");
  Error("Publish",
        {{"TopicArn", topic},
         {"Message", "m"},
         {"MessageAttributes.entry.1.Name", "b"},
         {"MessageAttributes.entry.1.Value.DataType", "Binary"},
         {"MessageAttributes.entry.1.Value.BinaryValue", "!!not base64"}},
        400, "ParameterValueInvalid",
        "The message attribute 'b' has an invalid binary value: it is not "
        "base64-encoded.");
  Error("Publish", {{"TopicArn", topic}, {"Message", ""}}, 400,
        "InvalidParameter", "Invalid parameter: Empty message");
  Error("Subscribe",
        {{"TopicArn", topic},
         {"Protocol", "sqs"},
         {"Endpoint", "arn:aws:sqs:us-east-1:000000000000:q"},
         {"ReturnSubscriptionArn", "maybe"}},
        400, "InvalidParameter", "Invalid parameter: ReturnSubscriptionArn");
}

TEST_F(SnsServiceTest, PublishBatchPartialFailure) {
  const std::string topic = CreateTopic("batch");
  const std::string queue = CreateQueue("sink");
  Ok("Subscribe", {{"TopicArn", topic},
                   {"Protocol", "sqs"},
                   {"Endpoint", queue},
                   {"Attributes.entry.1.key", "RawMessageDelivery"},
                   {"Attributes.entry.1.value", "true"}});
  std::string body = Ok(
      "PublishBatch",
      {{"TopicArn", topic},
       {"PublishBatchRequestEntries.member.1.Id", "one"},
       {"PublishBatchRequestEntries.member.1.Message", "first"},
       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name",
        "k"},
       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value."
        "DataType",
        "Number"},
       {"PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value."
        "StringValue",
        "42"},
       {"PublishBatchRequestEntries.member.2.Id", "two"},
       {"PublishBatchRequestEntries.member.2.Message", ""},
       {"PublishBatchRequestEntries.member.3.Id", "three"},
       {"PublishBatchRequestEntries.member.3.Message", "third"}});
  EXPECT_THAT(body, HasSubstr("<PublishBatchResult><Successful><member><Id>one"
                              "</Id><MessageId>"));
  EXPECT_EQ(All(First(body, "Successful"), "Id"),
            (std::vector<std::string>{"one", "three"}));
  EXPECT_THAT(body, HasSubstr("<Failed><member><Id>two</Id><Code>"
                              "InvalidParameter</Code><Message>Invalid "
                              "parameter: Empty message</Message><SenderFault>"
                              "true</SenderFault></member></Failed>"));
  std::vector<Message> got = Receive("sink");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, "first");
  EXPECT_EQ(got[0].message_attributes["k"].data_type, "Number");
  EXPECT_EQ(got[1].body, "third");

  // Whole-call errors.
  Params eleven = {{"TopicArn", topic}};
  for (int i = 1; i <= 11; ++i) {
    eleven.emplace_back(
        absl::StrCat("PublishBatchRequestEntries.member.", i, ".Id"),
        absl::StrCat("m", i));
    eleven.emplace_back(
        absl::StrCat("PublishBatchRequestEntries.member.", i, ".Message"), "x");
  }
  Error("PublishBatch", eleven, 400, "TooManyEntriesInBatchRequest",
        "The batch request contains more entries than permissible.");
  Error("PublishBatch",
        {{"TopicArn", topic},
         {"PublishBatchRequestEntries.member.1.Id", "a"},
         {"PublishBatchRequestEntries.member.1.Message", "x"},
         {"PublishBatchRequestEntries.member.2.Id", "a"},
         {"PublishBatchRequestEntries.member.2.Message", "y"}},
        400, "BatchEntryIdsNotDistinct",
        "Two or more batch entries in the request have the same Id.");
}

TEST_F(SnsServiceTest, FifoTopicToFifoQueue) {
  const std::string topic =
      CreateTopic("jobs.fifo", {{"Attributes.entry.1.key", "FifoTopic"},
                                {"Attributes.entry.1.value", "true"}});
  const std::string queue = CreateQueue("jobs.fifo", {{"FifoQueue", "true"}});
  Ok("Subscribe", {{"TopicArn", topic},
                   {"Protocol", "sqs"},
                   {"Endpoint", queue},
                   {"Attributes.entry.1.key", "RawMessageDelivery"},
                   {"Attributes.entry.1.value", "true"}});
  Error("Publish", {{"TopicArn", topic}, {"Message", "m"}}, 400,
        "InvalidParameter",
        "Invalid parameter: The MessageGroupId parameter is required for FIFO "
        "topics");
  std::string body = Ok("Publish", {{"TopicArn", topic},
                                    {"Message", "m1"},
                                    {"MessageGroupId", "g"},
                                    {"MessageDeduplicationId", "d1"}});
  const std::string seq = First(body, "SequenceNumber");
  EXPECT_FALSE(seq.empty()) << body;
  body = Ok("PublishBatch",
            {{"TopicArn", topic},
             {"PublishBatchRequestEntries.member.1.Id", "a"},
             {"PublishBatchRequestEntries.member.1.Message", "m2"},
             {"PublishBatchRequestEntries.member.1.MessageGroupId", "g"},
             {"PublishBatchRequestEntries.member.1."
              "MessageDeduplicationId",
              "d2"}});
  EXPECT_EQ(All(body, "SequenceNumber").size(), 1u) << body;
  std::vector<Message> got = Receive("jobs.fifo");
  ASSERT_GE(got.size(), 1u);
  EXPECT_EQ(got[0].body, "m1");
  EXPECT_EQ(got[0].attributes["MessageGroupId"], "g");
}

TEST_F(SnsServiceTest, TagsAndPermissions) {
  const std::string topic = CreateTopic("tagged");
  std::string body = Ok("TagResource", {{"ResourceArn", topic},
                                        {"Tags.member.1.Key", "b"},
                                        {"Tags.member.1.Value", "2"},
                                        {"Tags.member.2.Key", "a"},
                                        {"Tags.member.2.Value", "1 & 1"}});
  EXPECT_THAT(body, HasSubstr("<TagResourceResult></TagResourceResult>"));
  body = Ok("ListTagsForResource", {{"ResourceArn", topic}});
  EXPECT_THAT(body, HasSubstr("<ListTagsForResourceResult><Tags><member><Key>a"
                              "</Key><Value>1 &amp; 1</Value></member><member>"
                              "<Key>b</Key><Value>2</Value></member></Tags>"));
  Ok("UntagResource", {{"ResourceArn", topic}, {"TagKeys.member.1", "a"}});
  EXPECT_EQ(All(Ok("ListTagsForResource", {{"ResourceArn", topic}}), "Key"),
            std::vector<std::string>{"b"});

  Ok("AddPermission", {{"TopicArn", topic},
                       {"Label", "pub"},
                       {"AWSAccountId.member.1", "111122223333"},
                       {"ActionName.member.1", "Publish"}});
  EXPECT_THAT(Ok("GetTopicAttributes", {{"TopicArn", topic}}),
              HasSubstr("pub"));
  Ok("RemovePermission", {{"TopicArn", topic}, {"Label", "pub"}});
  Error("AddPermission", {{"TopicArn", topic}, {"Label", "x"}}, 400,
        "ValidationError",
        "1 validation error detected: Value null at 'aWSAccountId' failed to "
        "satisfy constraint: Member must not be null");
}

TEST_F(SnsServiceTest, PlatformApplicationsAndEndpoints) {
  std::string body = Ok("CreatePlatformApplication",
                        {{"Name", "app"},
                         {"Platform", "GCM"},
                         {"Attributes.entry.1.key", "PlatformCredential"},
                         {"Attributes.entry.1.value", "secret"}});
  const std::string app = First(body, "PlatformApplicationArn");
  EXPECT_EQ(app, "arn:aws:sns:us-east-1:000000000000:app/GCM/app");
  body = Ok("ListPlatformApplications");
  EXPECT_THAT(body,
              HasSubstr(absl::StrCat(
                  "<PlatformApplications><member><PlatformApplicationArn>", app,
                  "</PlatformApplicationArn><Attributes>")));
  Ok("SetPlatformApplicationAttributes",
     {{"PlatformApplicationArn", app},
      {"Attributes.entry.1.key", "EventEndpointCreated"},
      {"Attributes.entry.1.value", "arn:aws:sns:us-east-1:000000000000:x"}});
  EXPECT_THAT(
      Ok("GetPlatformApplicationAttributes", {{"PlatformApplicationArn", app}}),
      HasSubstr("<key>EventEndpointCreated</key>"));

  body = Ok("CreatePlatformEndpoint", {{"PlatformApplicationArn", app},
                                       {"Token", "device-token"},
                                       {"CustomUserData", "user 1"}});
  const std::string endpoint = First(body, "EndpointArn");
  EXPECT_TRUE(absl::StartsWith(
      endpoint, "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/"))
      << body;
  body = Ok("ListEndpointsByPlatformApplication",
            {{"PlatformApplicationArn", app}});
  EXPECT_THAT(body, HasSubstr(absl::StrCat("<Endpoints><member><EndpointArn>",
                                           endpoint, "</EndpointArn>")));
  EXPECT_THAT(body, HasSubstr("<key>Token</key><value>device-token</value>"));
  EXPECT_THAT(Ok("GetEndpointAttributes", {{"EndpointArn", endpoint}}),
              HasSubstr("<key>CustomUserData</key><value>user 1</value>"));

  // A direct publish reaches the (recording) sink; disabled endpoints refuse.
  Ok("Publish", {{"TargetArn", endpoint}, {"Message", "push"}});
  Ok("SetEndpointAttributes", {{"EndpointArn", endpoint},
                               {"Attributes.entry.1.key", "Enabled"},
                               {"Attributes.entry.1.value", "false"}});
  Error("Publish", {{"TargetArn", endpoint}, {"Message", "push"}}, 400,
        "EndpointDisabled", "Endpoint is disabled");

  Ok("DeleteEndpoint", {{"EndpointArn", endpoint}});
  Ok("DeletePlatformApplication", {{"PlatformApplicationArn", app}});
  EXPECT_TRUE(
      All(Ok("ListPlatformApplications"), "PlatformApplicationArn").empty());
  Error("CreatePlatformApplication", {{"Name", "x"}, {"Platform", "GCM"}}, 400,
        "ValidationError",
        "1 validation error detected: Value null at 'attributes' failed to "
        "satisfy constraint: Member must not be null");
}

TEST_F(SnsServiceTest, EmailConfirmationFlow) {
  const std::string topic = CreateTopic("mail");
  std::string body = Ok("Subscribe", {{"TopicArn", topic},
                                      {"Protocol", "email"},
                                      {"Endpoint", "a@example.com"}});
  EXPECT_EQ(First(body, "SubscriptionArn"), "pending confirmation");
  std::vector<SinkDelivery> sent = broker_->sns().RecordedDeliveries();
  ASSERT_EQ(sent.size(), 1u);
  body = Ok("ConfirmSubscription",
            {{"TopicArn", topic}, {"Token", sent[0].token}});
  EXPECT_TRUE(absl::StartsWith(First(body, "SubscriptionArn"), topic + ":"));
  Error("ConfirmSubscription", {{"TopicArn", topic}, {"Token", "nope"}}, 400,
        "InvalidParameter", "Invalid token");
}

TEST_F(SnsServiceTest, RoutingByScopeVersionOrAction) {
  HttpRequest signed_sns = Request("ListTopics", {});
  EXPECT_TRUE(SnsService::IsSnsRequest(signed_sns));
  HttpRequest signed_sqs = signed_sns;
  signed_sqs.headers["authorization"] =
      "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, "
      "SignedHeaders=host, Signature=00";
  EXPECT_FALSE(SnsService::IsSnsRequest(signed_sqs));

  HttpRequest unsigned_req;
  unsigned_req.method = "POST";
  unsigned_req.target = "/";
  unsigned_req.body = "Action=CreateTopic&Name=x";
  EXPECT_TRUE(SnsService::IsSnsRequest(unsigned_req));
  unsigned_req.body = "Action=AddPermission&Label=x";  // SQS's too
  EXPECT_FALSE(SnsService::IsSnsRequest(unsigned_req));
  unsigned_req.body = "Action=AddPermission&Version=2010-03-31";
  EXPECT_TRUE(SnsService::IsSnsRequest(unsigned_req));
  unsigned_req.body = "Action=SendMessage&Version=2012-11-05";
  EXPECT_FALSE(SnsService::IsSnsRequest(unsigned_req));
  unsigned_req.method = "GET";
  unsigned_req.body.clear();
  unsigned_req.target = "/?Action=ListTopics";
  EXPECT_TRUE(SnsService::IsSnsRequest(unsigned_req));
  unsigned_req.target = "/?Action=ListTopics";
  unsigned_req.headers["content-type"] = "application/x-amz-json-1.0";
  EXPECT_FALSE(SnsService::IsSnsRequest(unsigned_req));

  // A GET with the parameters in the query string is served too.
  HttpRequest get;
  get.method = "GET";
  get.target = "/?Action=ListTopics&Version=2010-03-31";
  HttpResponse r = Run(std::move(get));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(SnsServiceTest, ServesTheSigningCertificate) {
  HttpRequest get;
  get.method = "GET";
  get.target = "/SimpleNotificationService-0123abcd.pem";
  EXPECT_TRUE(SnsService::IsSnsRequest(get));
  HttpResponse r = Run(std::move(get));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Sns::SigningCertificatePem());
  EXPECT_THAT(r.body, HasSubstr("BEGIN CERTIFICATE"));
}

TEST_F(SnsServiceTest, CredentialsAndRecording) {
  options_.credentials = {{.access_key_id = "AKID",
                           .secret_access_key = "secret",
                           .account = "123456789012"}};
  Make();
  Error("ListTopics", {}, 403, "InvalidClientTokenId",
        "The security token included in the request is invalid.");
  HttpRequest unsigned_req = Request("ListTopics", {});
  unsigned_req.headers.erase("authorization");
  HttpResponse r = Run(std::move(unsigned_req));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_code, "MissingAuthenticationToken");
  ASSERT_EQ(records_.size(), 2u);
  EXPECT_EQ(records_[0].service, "sns");
  EXPECT_EQ(records_[0].protocol, "query");
  EXPECT_EQ(records_[0].operation, "ListTopics");
  EXPECT_EQ(records_[0].http_status, 403);
  EXPECT_EQ(records_[0].error_code, "InvalidClientTokenId");
  EXPECT_EQ(records_[0].access_key_id, "test");
}

TEST_F(SnsServiceTest, AccountAndRegionFromTheScope) {
  HttpRequest req = Request("CreateTopic", {{"Name", "t"}});
  req.headers["authorization"] =
      "AWS4-HMAC-SHA256 Credential=111122223333/20260101/eu-west-1/sns/"
      "aws4_request, SignedHeaders=host, Signature=00";
  HttpResponse r = Run(std::move(req));
  EXPECT_EQ(First(r.body, "TopicArn"), "arn:aws:sns:eu-west-1:111122223333:t");
  ASSERT_FALSE(records_.empty());
  EXPECT_EQ(records_.back().account, "111122223333");
  EXPECT_EQ(records_.back().region, "eu-west-1");
}

TEST_F(SnsServiceTest, Metrics) {
  const std::string topic = CreateTopic("m");
  Ok("Publish", {{"TopicArn", topic}, {"Message", "x"}});
  Ok("PublishBatch", {{"TopicArn", topic},
                      {"PublishBatchRequestEntries.member.1.Id", "a"},
                      {"PublishBatchRequestEntries.member.1.Message", "x"},
                      {"PublishBatchRequestEntries.member.2.Id", "b"},
                      {"PublishBatchRequestEntries.member.2.Message", "y"}});
  Call("GetTopicAttributes", {{"TopicArn", topic + "x"}});
  std::string text = service_->MetricsText();
  EXPECT_THAT(text, HasSubstr("ferry_gateway_requests_total{service=\"sns\","
                              "operation=\"Publish\",status=\"200\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("ferry_gateway_requests_total{service=\"sns\","
                              "operation=\"GetTopicAttributes\",status=\"404\"}"
                              " 1\n"));
  EXPECT_THAT(text,
              HasSubstr("sns_NumberOfMessagesPublished_total{account=\"0000000"
                        "00000\",region=\"us-east-1\",topic=\"m\"} 3\n"));
  service_->ResetCounters();
  EXPECT_THAT(service_->MetricsText(), Not(HasSubstr("operation=")));
}

TEST_F(SnsServiceTest, DeepAndOddParametersAreRefusedOrIgnored) {
  Error("ListTopics", {{"a.b.c.d.e.f.g.h.i.j.k", "x"}}, 400, "InvalidParameter",
        "Invalid parameter: a.b.c.d.e.f.g.h.i.j.k");
  // Map entries without a key and list items out of order.
  const std::string topic =
      CreateTopic("odd", {{"Attributes.entry.2.value", "no key"},
                          {"Tags.member.2.Key", "z"},
                          {"Tags.member.2.Value", "26"},
                          {"Tags.member.1.Key", "y"},
                          {"Tags.member.1.Value", "25"}});
  EXPECT_EQ(All(Ok("ListTagsForResource", {{"ResourceArn", topic}}), "Key"),
            (std::vector<std::string>{"y", "z"}));
}

}  // namespace
}  // namespace ferry::gateway_internal
