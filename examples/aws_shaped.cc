// The AWS-shaped level (ferry/sqs.h): one method per SQS operation, with the
// request and result members of the AWS API, string attributes, queue URLs
// and AWS's error codes. Code written against an AWS SDK ports to it line by
// line.
//
// The example works in account 123456789012, region eu-west-1, with queue
// URLs on http://localhost:4566 (all given by the RequestContext). It creates
// a queue with attributes and tags, sends a batch (one entry is invalid and
// fails alone), receives with every attribute, checks the MD5 digests
// against values recorded from AWS, deletes the batch, reads the queue's
// attributes, and finally asks for a queue that does not exist to show how an
// AWS error is read back with ferry::GetAwsError.
//
// Exit status: 0 when every result is as expected, 1 otherwise.

#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ferry/broker.h"
#include "ferry/errors.h"
#include "ferry/memory_backend.h"
#include "ferry/message.h"
#include "ferry/sqs.h"

namespace {

// MD5s that AWS returned for these inputs (docs/compatibility.md).
constexpr std::string_view kBody = "message";
constexpr std::string_view kMd5OfBody = "78e731027d8fd50ed642340b7c9a63b3";
constexpr std::string_view kMd5OfFooBar = "ae7155c6026991b6d54b11589678bf9c";

int failures = 0;

// Records a failed expectation; the example keeps going and fails at the end.
void Expect(bool condition, std::string_view what) {
  if (condition) return;
  std::cerr << "aws_shaped: expected " << what << "\n";
  ++failures;
}

int Fail(std::string_view what, const absl::Status& s) {
  std::cerr << "aws_shaped: " << what << ": " << s << "\n";
  return 1;
}

std::string Get(const std::map<std::string, std::string>& m,
                const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

int main() {
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
      ferry::Broker::Open({}, ferry::NewMemoryBackend());
  if (!broker.ok()) return Fail("Broker::Open", broker.status());
  ferry::Sqs& sqs = (*broker)->sqs();

  // What the gateway would read from a request's SigV4 scope and Host.
  const ferry::RequestContext ctx{.account = "123456789012",
                                  .region = "eu-west-1",
                                  .endpoint = "http://localhost:4566"};

  // CreateQueue with attributes and tags.
  absl::StatusOr<ferry::CreateQueueResult> created =
      sqs.CreateQueue(ctx, {.queue_name = "orders",
                            .attributes = {{"VisibilityTimeout", "60"},
                                           {"MessageRetentionPeriod", "86400"}},
                            .tags = {{"team", "payments"}}});
  if (!created.ok()) return Fail("CreateQueue", created.status());
  const std::string url = created->queue_url;
  std::cout << "CreateQueue -> " << url << "\n";
  Expect(url == "http://localhost:4566/123456789012/orders", "the queue URL");

  // SendMessageBatch: entry "bad" holds a control character, which SQS
  // rejects. It fails on its own; the other entries are sent.
  ferry::SendMessageBatchRequest batch{.queue_url = url};
  batch.entries.push_back({.id = "plain", .message_body = std::string(kBody)});
  batch.entries.push_back(
      {.id = "with-attributes",
       .message_body = "an order",
       .message_attributes = {
           {"Foo", {.data_type = "String", .string_value = "Bar"}}}});
  batch.entries.push_back(
      {.id = "no-delay", .message_body = "no delay", .delay_seconds = 0});
  batch.entries.push_back(
      {.id = "bad", .message_body = std::string("bell \x07 character")});
  absl::StatusOr<ferry::SendMessageBatchResult> sent =
      sqs.SendMessageBatch(ctx, batch);
  if (!sent.ok()) return Fail("SendMessageBatch", sent.status());
  std::map<std::string, ferry::SendMessageBatchResultEntry> sent_by_id;
  for (const ferry::SendMessageBatchResultEntry& e : sent->successful) {
    std::cout << "SendMessageBatch ok     " << e.id << " MessageId "
              << e.message_id << " MD5OfMessageBody " << e.md5_of_message_body
              << (e.md5_of_message_attributes.empty()
                      ? ""
                      : " MD5OfMessageAttributes " +
                            e.md5_of_message_attributes)
              << "\n";
    sent_by_id[e.id] = e;
  }
  for (const ferry::BatchResultErrorEntry& e : sent->failed) {
    std::cout << "SendMessageBatch failed " << e.id << " " << e.code
              << " (SenderFault " << (e.sender_fault ? "true" : "false")
              << "): " << e.message << "\n";
  }
  Expect(sent->successful.size() == 3, "3 entries sent");
  Expect(sent->failed.size() == 1 && sent->failed[0].id == "bad" &&
             sent->failed[0].code == "InvalidMessageContents",
         "entry \"bad\" to fail with InvalidMessageContents");
  Expect(sent_by_id["plain"].md5_of_message_body == kMd5OfBody,
         "MD5OfMessageBody of \"message\" to be AWS's");
  Expect(
      sent_by_id["with-attributes"].md5_of_message_attributes == kMd5OfFooBar,
      "MD5OfMessageAttributes of {Foo: String Bar} to be AWS's");

  // ReceiveMessage with every system and message attribute. Ferry's short
  // poll returns min(available, max) at once; the loop is what code written
  // for AWS (whose short polls sample) would do anyway.
  std::vector<ferry::Message> received;
  for (int attempt = 0; attempt < 5 && received.size() < 3; ++attempt) {
    absl::StatusOr<ferry::ReceiveMessageResult> r =
        sqs.ReceiveMessage(ctx, {.queue_url = url,
                                 .attribute_names = {"All"},
                                 .message_attribute_names = {"All"},
                                 .max_number_of_messages = 10});
    if (!r.ok()) return Fail("ReceiveMessage", r.status());
    for (ferry::Message& m : r->messages) received.push_back(std::move(m));
  }
  Expect(received.size() == 3, "3 messages received");
  for (const ferry::Message& m : received) {
    std::cout << "ReceiveMessage " << m.message_id << " \"" << m.body
              << "\" MD5OfBody " << m.md5_of_body << " ApproximateReceiveCount "
              << Get(m.attributes, "ApproximateReceiveCount") << " SenderId "
              << Get(m.attributes, "SenderId") << "\n";
    Expect(m.attributes.count("SentTimestamp") == 1 &&
               m.attributes.count("ApproximateFirstReceiveTimestamp") == 1 &&
               Get(m.attributes, "ApproximateReceiveCount") == "1",
           "the system attributes of AttributeNames=All");
    if (m.body == "an order") {
      Expect(m.message_attributes.size() == 1 &&
                 m.md5_of_message_attributes == kMd5OfFooBar,
             "the message attribute Foo and its MD5");
    } else {
      Expect(
          m.message_attributes.empty() && m.md5_of_message_attributes.empty(),
          "no message attributes (and no MD5) on " + m.body);
    }
    if (m.body == kBody) {
      Expect(m.md5_of_body == kMd5OfBody, "MD5OfBody of \"message\"");
    }
  }

  // DeleteMessageBatch by receipt handle.
  ferry::DeleteMessageBatchRequest deletes{.queue_url = url};
  for (size_t i = 0; i < received.size(); ++i) {
    deletes.entries.push_back({.id = absl::StrCat("m", i),
                               .receipt_handle = received[i].receipt_handle});
  }
  if (!deletes.entries.empty()) {
    absl::StatusOr<ferry::DeleteMessageBatchResult> deleted =
        sqs.DeleteMessageBatch(ctx, deletes);
    if (!deleted.ok()) return Fail("DeleteMessageBatch", deleted.status());
    std::cout << "DeleteMessageBatch: " << deleted->successful.size()
              << " deleted, " << deleted->failed.size() << " failed\n";
    Expect(deleted->successful.size() == received.size() &&
               deleted->failed.empty(),
           "every delete to succeed");
  }

  // GetQueueAttributes All.
  absl::StatusOr<ferry::GetQueueAttributesResult> attributes =
      sqs.GetQueueAttributes(ctx,
                             {.queue_url = url, .attribute_names = {"All"}});
  if (!attributes.ok()) return Fail("GetQueueAttributes", attributes.status());
  std::cout << "GetQueueAttributes All:\n";
  for (const auto& [name, value] : attributes->attributes) {
    std::cout << "  " << name << " = " << value << "\n";
  }
  Expect(Get(attributes->attributes, "QueueArn") ==
             "arn:aws:sqs:eu-west-1:123456789012:orders",
         "the queue ARN");
  Expect(Get(attributes->attributes, "VisibilityTimeout") == "60",
         "VisibilityTimeout 60");
  Expect(Get(attributes->attributes, "ApproximateNumberOfMessages") == "0" &&
             Get(attributes->attributes,
                 "ApproximateNumberOfMessagesNotVisible") == "0",
         "an empty queue");

  // An AWS error: queues are scoped by account and region, so "orders" does
  // not exist in us-west-2.
  ferry::RequestContext elsewhere = ctx;
  elsewhere.region = "us-west-2";
  absl::StatusOr<ferry::GetQueueUrlResult> missing =
      sqs.GetQueueUrl(elsewhere, {.queue_name = "orders"});
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(missing.status());
  if (missing.ok() || !aws.has_value()) {
    std::cerr << "aws_shaped: expected QueueDoesNotExist, got "
              << missing.status() << "\n";
    return 1;
  }
  std::cout << "GetQueueUrl orders in us-west-2: " << aws->shape
            << " (Query code " << aws->query_code << ", HTTP "
            << aws->http_status << ", "
            << (aws->sender_fault ? "Sender" : "Receiver")
            << "): " << missing.status().message() << "\n";
  Expect(aws->shape == "QueueDoesNotExist" &&
             aws->query_code == "AWS.SimpleQueueService.NonExistentQueue" &&
             aws->http_status == 400,
         "QueueDoesNotExist, AWS.SimpleQueueService.NonExistentQueue, 400");

  if (failures > 0) {
    std::cerr << "aws_shaped: " << failures << " unexpected result(s)\n";
    return 1;
  }
  std::cout << "OK\n";
  return 0;
}
