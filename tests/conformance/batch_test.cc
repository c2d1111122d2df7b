// SendMessageBatch, DeleteMessageBatch and ChangeMessageVisibilityBatch:
// whole-request errors (checked before anything happens) and per-entry
// results.
// Reference: sqs.md §1.1, §1.4 (the batch operations), §1.9.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

constexpr char kBadIdText[] =
    "A batch entry id can only contain alphanumeric characters, hyphens and "
    "underscores. It can be at most 80 letters long.";

auto FailedEntry(const std::string& id, const std::string& code,
                 testing::Matcher<const std::string&> message) {
  return AllOf(Field(&ferry::BatchResultErrorEntry::id, id),
               Field(&ferry::BatchResultErrorEntry::code, code),
               Field(&ferry::BatchResultErrorEntry::message, message),
               Field(&ferry::BatchResultErrorEntry::sender_fault, true));
}

class BatchTest : public ConformanceTest {
 protected:
  absl::StatusOr<ferry::SendMessageBatchResult> SendBatch(
      const std::string& url,
      std::vector<ferry::SendMessageBatchRequestEntry> entries) {
    return sqs().SendMessageBatch(
        ctx_, {.queue_url = url, .entries = std::move(entries)});
  }

  static std::vector<ferry::SendMessageBatchRequestEntry> Entries(int n) {
    std::vector<ferry::SendMessageBatchRequestEntry> entries;
    for (int i = 0; i < n; ++i) {
      entries.push_back({.id = absl::StrCat("message-", i),
                         .message_body = absl::StrCat("messageBody-", i)});
    }
    return entries;
  }

  // Sends n messages and receives them all (VisibilityTimeout 30).
  absl::StatusOr<std::vector<ferry::Message>> SendAndReceive(
      const std::string& url, int n) {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<ferry::SendMessageResult> sent =
          Send(url, absl::StrCat("m", i));
      if (!sent.ok()) return sent.status();
    }
    std::vector<ferry::Message> all;
    while (all.size() < static_cast<size_t>(n)) {
      absl::StatusOr<std::vector<ferry::Message>> got = Receive(url, 10);
      if (!got.ok()) return got.status();
      if (got->empty()) return absl::InternalError("too few messages");
      all.insert(all.end(), got->begin(), got->end());
    }
    return all;
  }

  absl::StatusOr<ferry::DeleteMessageBatchResult> DeleteBatch(
      const std::string& url,
      std::vector<ferry::DeleteMessageBatchRequestEntry> entries) {
    return sqs().DeleteMessageBatch(
        ctx_, {.queue_url = url, .entries = std::move(entries)});
  }

  absl::StatusOr<ferry::ChangeMessageVisibilityBatchResult> ChangeBatch(
      const std::string& url,
      std::vector<ferry::ChangeMessageVisibilityBatchRequestEntry> entries) {
    return sqs().ChangeMessageVisibilityBatch(
        ctx_, {.queue_url = url, .entries = std::move(entries)});
  }
};

// ---- SendMessageBatch -------------------------------------------------------

TEST_P(BatchTest, SendBatchSendsEveryEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageBatchResult result,
      SendBatch(url, {{.id = "1", .message_body = "message-0"},
                      {.id = "2", .message_body = "message-1"},
                      {.id = "3", .message_body = "a"}}));
  EXPECT_THAT(result.failed, IsEmpty());
  ASSERT_THAT(result.successful, SizeIs(3));
  std::vector<std::string> ids;
  for (const ferry::SendMessageBatchResultEntry& e : result.successful) {
    ids.push_back(e.id);
    EXPECT_FALSE(e.message_id.empty());
    EXPECT_EQ(e.md5_of_message_attributes, "");
    EXPECT_EQ(e.sequence_number, "");
    if (e.id == "3") {
      EXPECT_EQ(e.md5_of_message_body, "0cc175b9c0f1b6a831c399e269772661");
    }
  }
  EXPECT_THAT(ids, UnorderedElementsAre("1", "2", "3"));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
  std::vector<std::string> received_ids;
  std::vector<std::string> sent_ids;
  for (const ferry::Message& m : got) received_ids.push_back(m.message_id);
  for (const auto& e : result.successful) sent_ids.push_back(e.message_id);
  EXPECT_THAT(received_ids, UnorderedElementsAreArray(sent_ids));
  EXPECT_THAT(Bodies(got), UnorderedElementsAre("message-0", "message-1", "a"));
}

TEST_P(BatchTest, SendBatchOfTenEntriesIsAllowed) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(SendBatch(url, Entries(10)),
              IsOkAndHolds(Field(&ferry::SendMessageBatchResult::successful,
                                 SizeIs(10))));
}

TEST_P(BatchTest, SendBatchReturnsDigestsPerEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageBatchResult result,
      SendBatch(url, {{.id = "1",
                       .message_body = "a",
                       .message_attributes = {{"k", StringAttr("x")}}},
                      {.id = "2", .message_body = "a"}}));
  ASSERT_THAT(result.successful, SizeIs(2));
  for (const ferry::SendMessageBatchResultEntry& e : result.successful) {
    EXPECT_EQ(e.md5_of_message_body, "0cc175b9c0f1b6a831c399e269772661");
    EXPECT_EQ(e.md5_of_message_attributes,
              e.id == "1" ? "a45daa70926828a2f0a1db3418e6feb4" : "");
  }
}

TEST_P(BatchTest, SendBatchEntryDelayAppliesToThatEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SendBatch(
      url, {{.id = "now", .message_body = "now"},
            {.id = "later", .message_body = "later", .delay_seconds = 5}}));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("now")));
  AdvanceSeconds(5);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("later")));
}

TEST_P(BatchTest, EmptyBatchIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  absl::StatusOr<ferry::SendMessageBatchResult> sent = SendBatch(url, {});
  EXPECT_THAT(sent, AwsErrorIs("EmptyBatchRequest"));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(sent.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->query_code, "AWS.SimpleQueueService.EmptyBatchRequest");
  EXPECT_EQ(aws->http_status, 400);

  EXPECT_THAT(DeleteBatch(url, {}), AwsErrorIs("EmptyBatchRequest"));
  EXPECT_THAT(ChangeBatch(url, {}), AwsErrorIs("EmptyBatchRequest"));
}

TEST_P(BatchTest, ElevenSendEntriesAreTooMany) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  absl::StatusOr<ferry::SendMessageBatchResult> sent =
      SendBatch(url, Entries(11));
  EXPECT_THAT(sent, AwsErrorIs("TooManyEntriesInBatchRequest",
                               Eq("Maximum number of entries per request are "
                                  "10. You have sent 11.")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(sent.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->query_code,
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest");
  EXPECT_THAT(SendBatch(url, Entries(20)),
              AwsErrorIs("TooManyEntriesInBatchRequest",
                         Eq("Maximum number of entries per request are 10. "
                            "You have sent 20.")));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(BatchTest, ElevenDeleteOrVisibilityEntriesAreTooMany) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             SendAndReceive(url, 11));
  std::vector<ferry::DeleteMessageBatchRequestEntry> deletes;
  std::vector<ferry::ChangeMessageVisibilityBatchRequestEntry> changes;
  for (size_t i = 0; i < got.size(); ++i) {
    deletes.push_back(
        {.id = absl::StrCat(i), .receipt_handle = got[i].receipt_handle});
    changes.push_back({.id = absl::StrCat(i),
                       .receipt_handle = got[i].receipt_handle,
                       .visibility_timeout = 0});
  }
  const auto too_many = AwsErrorIs(
      "TooManyEntriesInBatchRequest",
      Eq("Maximum number of entries per request are 10. You have sent 11."));
  EXPECT_THAT(ChangeBatch(url, changes), too_many);
  EXPECT_THAT(DeleteBatch(url, deletes), too_many);
  // Neither request did anything.
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 11, 0}));
}

TEST_P(BatchTest, DuplicateEntryIdsAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(SendBatch(url, {{.id = "same", .message_body = "a"},
                              {.id = "same", .message_body = "b"}}),
              AwsErrorIs("BatchEntryIdsNotDistinct"));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             SendAndReceive(url, 2));
  EXPECT_THAT(
      DeleteBatch(url, {{.id = "x", .receipt_handle = got[0].receipt_handle},
                        {.id = "x", .receipt_handle = got[1].receipt_handle}}),
      AwsErrorIs("BatchEntryIdsNotDistinct"));
  EXPECT_THAT(ChangeBatch(url, {{.id = "x",
                                 .receipt_handle = got[0].receipt_handle,
                                 .visibility_timeout = 0},
                                {.id = "x",
                                 .receipt_handle = got[1].receipt_handle,
                                 .visibility_timeout = 0}}),
              AwsErrorIs("BatchEntryIdsNotDistinct"));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 2, 0}));
}

TEST_P(BatchTest, InvalidEntryIdsAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  std::string long_id;
  for (int i = 0; i < 10; ++i) long_id += "testLongId";
  for (const std::string& id :
       {std::string(""), long_id, std::string("invalid:id"),
        std::string("bad id"), std::string("a.b"), std::string(81, 'a')}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(SendBatch(url, {{.id = id, .message_body = "m"}}),
                AwsErrorIs("InvalidBatchEntryId", Eq(kBadIdText)));
    EXPECT_THAT(DeleteBatch(url, {{.id = id, .receipt_handle = "testHandle1"}}),
                AwsErrorIs("InvalidBatchEntryId", Eq(kBadIdText)));
    EXPECT_THAT(ChangeBatch(url, {{.id = id,
                                   .receipt_handle = "testHandle1",
                                   .visibility_timeout = 0}}),
                AwsErrorIs("InvalidBatchEntryId", Eq(kBadIdText)));
  }
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(BatchTest, EntryIdOfEightyAllowedCharactersIsValid) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const std::string id = "Az09-_" + std::string(74, 'x');
  ASSERT_EQ(id.size(), 80);
  EXPECT_THAT(SendBatch(url, {{.id = id, .message_body = "m"}}), IsOk());
}

TEST_P(BatchTest, BatchLongerThanOneMebibyteIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  // One entry of exactly the maximum size (body plus "k" "String" "x") and
  // one of a single byte: 1048577 bytes in all.
  absl::StatusOr<ferry::SendMessageBatchResult> sent =
      SendBatch(url, {{.id = "1",
                       .message_body = std::string(1048576 - 8, 'a'),
                       .message_attributes = {{"k", StringAttr("x")}}},
                      {.id = "2", .message_body = "a"}});
  EXPECT_THAT(sent, AwsErrorIs("BatchRequestTooLong",
                               Eq("Batch requests cannot be longer than "
                                  "1048576 bytes. You have sent 1048577 "
                                  "bytes.")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(sent.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->query_code, "AWS.SimpleQueueService.BatchRequestTooLong");
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(BatchTest, BatchOfExactlyOneMebibyteIsAccepted) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(
      SendBatch(url, {{.id = "1", .message_body = std::string(524288, 'a')},
                      {.id = "2", .message_body = std::string(524288, 'b')}}),
      IsOkAndHolds(
          Field(&ferry::SendMessageBatchResult::successful, SizeIs(2))));
}

TEST_P(BatchTest, OversizedEntryFailsAlone) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateQueue("q", {{"MaximumMessageSize", "1024"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageBatchResult result,
      SendBatch(url, {{.id = "ok", .message_body = std::string(1024, 'a')},
                      {.id = "big", .message_body = std::string(1025, 'a')}}));
  EXPECT_THAT(
      result.successful,
      ElementsAre(Field(&ferry::SendMessageBatchResultEntry::id, "ok")));
  EXPECT_THAT(result.failed,
              ElementsAre(FailedEntry("big", "InvalidParameterValue",
                                      Eq("One or more parameters cannot be "
                                         "validated. Reason: Message must be "
                                         "shorter than 1024 bytes."))));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{1, 0, 0}));
}

TEST_P(BatchTest, EntryWithInvalidCharactersFailsAlone) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  std::vector<ferry::SendMessageBatchRequestEntry> entries;
  for (int i = 0; i < 9; ++i) {
    entries.push_back({.id = absl::StrCat(i), .message_body = absl::StrCat(i)});
  }
  entries.push_back({.id = "9", .message_body = "\x01"});
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageBatchResult result,
                             SendBatch(url, entries));
  EXPECT_THAT(result.successful, SizeIs(9));
  ASSERT_THAT(result.failed, SizeIs(1));
  EXPECT_EQ(result.failed[0].id, "9");
  EXPECT_EQ(result.failed[0].code, "InvalidMessageContents");
  EXPECT_TRUE(result.failed[0].sender_fault);
  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(UnorderedElementsAre("0", "1", "2", "3", "4", "5",
                                                "6", "7", "8")));
}

TEST_P(BatchTest, SendBatchToMissingQueueFails) {
  EXPECT_THAT(SendBatch(UrlOf("nothing"), Entries(1)),
              AwsErrorIs("QueueDoesNotExist"));
}

// ---- FIFO -------------------------------------------------------------------

TEST_P(BatchTest, FifoBatchIsEnqueuedInEntryOrder) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  std::vector<ferry::SendMessageBatchRequestEntry> entries;
  for (int i = 0; i < 10; ++i) {
    entries.push_back({.id = absl::StrCat("e", i),
                       .message_body = absl::StrCat("body-", i),
                       .message_deduplication_id = absl::StrCat("d", i),
                       .message_group_id = "g"});
  }
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageBatchResult result,
                             SendBatch(url, entries));
  ASSERT_THAT(result.successful, SizeIs(10));
  ASSERT_THAT(result.failed, IsEmpty());

  std::vector<std::string> sequence_numbers(10);
  for (const ferry::SendMessageBatchResultEntry& e : result.successful) {
    int index = -1;
    ASSERT_TRUE(absl::SimpleAtoi(e.id.substr(1), &index));
    ASSERT_GE(index, 0);
    ASSERT_LT(index, 10);
    sequence_numbers[index] = e.sequence_number;
  }
  for (int i = 1; i < 10; ++i) {
    const std::string& a = sequence_numbers[i - 1];
    const std::string& b = sequence_numbers[i];
    // Decimal strings: shorter is smaller, else compare lexically.
    EXPECT_TRUE(a.size() < b.size() || (a.size() == b.size() && a < b))
        << a << " !< " << b;
  }

  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(ElementsAre("body-0", "body-1", "body-2", "body-3",
                                       "body-4", "body-5", "body-6", "body-7",
                                       "body-8", "body-9")));
}

TEST_P(BatchTest, FifoBatchWithoutGroupIdFailsAsAWhole) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  EXPECT_THAT(SendBatch(url, {{.id = "a",
                               .message_body = "messageBody",
                               .message_deduplication_id = "dedup-a",
                               .message_group_id = "test-group"},
                              {.id = "b",
                               .message_body = "messageBody",
                               .message_deduplication_id = "dedup-b"}}),
              AwsErrorIs("InvalidParameterValue",
                         Eq("The request must contain the parameter "
                            "MessageGroupId.")));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(BatchTest, FifoBatchWithoutDeduplicationIdFailsAsAWhole) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  EXPECT_THAT(SendBatch(url, {{.id = "a",
                               .message_body = "messageBody",
                               .message_deduplication_id = "dedup-a",
                               .message_group_id = "test-group"},
                              {.id = "b",
                               .message_body = "messageBody",
                               .message_group_id = "test-group"}}),
              AwsErrorIs("InvalidParameterValue",
                         Eq("The queue should either have "
                            "ContentBasedDeduplication enabled or "
                            "MessageDeduplicationId provided explicitly")));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

// ---- DeleteMessageBatch -----------------------------------------------------

TEST_P(BatchTest, DeleteBatchDeletesEveryEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             SendAndReceive(url, 10));
  std::vector<ferry::DeleteMessageBatchRequestEntry> entries;
  std::vector<std::string> ids;
  for (const ferry::Message& m : got) {
    entries.push_back({.id = m.message_id, .receipt_handle = m.receipt_handle});
    ids.push_back(m.message_id);
  }
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::DeleteMessageBatchResult result,
                             DeleteBatch(url, entries));
  EXPECT_THAT(result.failed, IsEmpty());
  std::vector<std::string> deleted;
  for (const auto& e : result.successful) deleted.push_back(e.id);
  EXPECT_THAT(deleted, UnorderedElementsAreArray(ids));
  AdvanceSeconds(30);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(BatchTest, DeleteBatchReportsInvalidHandlesPerEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             SendAndReceive(url, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::DeleteMessageBatchResult result,
      DeleteBatch(url, {{.id = "good", .receipt_handle = got[0].receipt_handle},
                        {.id = "bad", .receipt_handle = "garbage"}}));
  EXPECT_THAT(
      result.successful,
      ElementsAre(Field(&ferry::DeleteMessageBatchResultEntry::id, "good")));
  EXPECT_THAT(result.failed,
              ElementsAre(FailedEntry("bad", "ReceiptHandleIsInvalid",
                                      Eq("The input receipt handle \"garbage\" "
                                         "is not a valid receipt handle."))));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(BatchTest, FifoDeleteBatchReportsExpiredHandlesPerEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateFifoQueue("q.fifo", {{"VisibilityTimeout", "5"}}));
  FERRY_ASSERT_OK(SendFifo(url, "m1", "g1"));
  FERRY_ASSERT_OK(SendFifo(url, "m2", "g2"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> first,
                             Receive(url, 1));
  ASSERT_THAT(first, SizeIs(1));
  AdvanceSeconds(4);
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> second,
                             Receive(url, 1));
  ASSERT_THAT(second, SizeIs(1));
  AdvanceSeconds(1);  // the first receive's handle has expired

  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::DeleteMessageBatchResult result,
      DeleteBatch(
          url, {{.id = "expired", .receipt_handle = first[0].receipt_handle},
                {.id = "live", .receipt_handle = second[0].receipt_handle}}));
  EXPECT_THAT(
      result.successful,
      ElementsAre(Field(&ferry::DeleteMessageBatchResultEntry::id, "live")));
  EXPECT_THAT(result.failed,
              ElementsAre(FailedEntry(
                  "expired", "InvalidParameterValue",
                  testing::HasSubstr("The receipt handle has expired."))));
}

// ---- ChangeMessageVisibilityBatch -------------------------------------------

TEST_P(BatchTest, ChangeVisibilityBatchAppliesEveryEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             SendAndReceive(url, 2));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::ChangeMessageVisibilityBatchResult result,
      ChangeBatch(url, {{.id = "a",
                         .receipt_handle = got[0].receipt_handle,
                         .visibility_timeout = 0},
                        {.id = "b",
                         .receipt_handle = got[1].receipt_handle,
                         .visibility_timeout = 100}}));
  EXPECT_THAT(result.failed, IsEmpty());
  EXPECT_THAT(result.successful, SizeIs(2));
  EXPECT_THAT(ReceiveBodies(url, 10, /*visibility_timeout=*/600),
              IsOkAndHolds(ElementsAre(got[0].body)));
  AdvanceSeconds(100);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre(got[1].body)));
}

TEST_P(BatchTest, ChangeVisibilityBatchReportsFailuresPerEntry) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             SendAndReceive(url, 3));
  FERRY_ASSERT_OK(Delete(url, got[2].receipt_handle));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::ChangeMessageVisibilityBatchResult result,
      ChangeBatch(url, {{.id = "good",
                         .receipt_handle = got[0].receipt_handle,
                         .visibility_timeout = 60},
                        {.id = "garbage",
                         .receipt_handle = "garbage",
                         .visibility_timeout = 60},
                        {.id = "too-long",
                         .receipt_handle = got[1].receipt_handle,
                         .visibility_timeout = 43201},
                        {.id = "deleted",
                         .receipt_handle = got[2].receipt_handle,
                         .visibility_timeout = 60}}));
  EXPECT_THAT(
      result.successful,
      ElementsAre(
          Field(&ferry::ChangeMessageVisibilityBatchResultEntry::id, "good")));
  EXPECT_THAT(
      result.failed,
      UnorderedElementsAre(
          FailedEntry("garbage", "ReceiptHandleIsInvalid",
                      Eq("The input receipt handle \"garbage\" is not a valid "
                         "receipt handle.")),
          FailedEntry("too-long", "InvalidParameterValue", testing::_),
          FailedEntry("deleted", "InvalidParameterValue",
                      testing::HasSubstr("Message does not exist or is not "
                                         "available for visibility timeout "
                                         "change."))));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, BatchTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
