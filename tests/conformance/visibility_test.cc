// Visibility timeouts, ChangeMessageVisibility and receipt handles.
// Reference: sqs.md §1.4 (ChangeMessageVisibility), §1.6, §5 (stale handles).

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class VisibilityTest : public ConformanceTest {
 protected:
  // Sends `body` and receives it; returns the receipt handle.
  absl::StatusOr<std::string> SendAndReceive(
      const std::string& url, const std::string& body,
      std::optional<int> visibility_timeout = std::nullopt) {
    absl::StatusOr<ferry::SendMessageResult> sent = Send(url, body);
    if (!sent.ok()) return sent.status();
    return ReceiveHandle(url, visibility_timeout);
  }

  // Receives exactly one message; returns its receipt handle.
  absl::StatusOr<std::string> ReceiveHandle(
      const std::string& url,
      std::optional<int> visibility_timeout = std::nullopt) {
    absl::StatusOr<std::vector<ferry::Message>> got =
        Receive(url, 1, visibility_timeout);
    if (!got.ok()) return got.status();
    if (got->size() != 1) {
      return absl::InternalError(absl::StrCat("received ", got->size()));
    }
    return (*got)[0].receipt_handle;
  }
};

// ---- Timeouts ---------------------------------------------------------------

TEST_P(VisibilityTest, ReceivedMessageIsHiddenForTheDefaultThirtySeconds) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SendAndReceive(url, "m1"));
  AdvanceSeconds(29);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(1);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, QueueVisibilityTimeoutApplies) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url,
                             CreateQueue("q", {{"VisibilityTimeout", "10"}}));
  FERRY_ASSERT_OK(SendAndReceive(url, "m1"));
  AdvanceSeconds(9);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(1);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, ChangedQueueVisibilityTimeoutAppliesToLaterReceives) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"VisibilityTimeout", "5"}}));
  FERRY_ASSERT_OK(SendAndReceive(url, "m1"));
  AdvanceSeconds(5);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, ReceiveVisibilityTimeoutOverridesQueueValueOnce) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SendAndReceive(url, "m1", /*visibility_timeout=*/5));
  AdvanceSeconds(4);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(1);
  // This receive uses the queue's 30 seconds again.
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
  AdvanceSeconds(29);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(1);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, ReceiveWithZeroVisibilityTimeoutLeavesMessageVisible) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string first, SendAndReceive(url, "m1", /*visibility_timeout=*/0));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string second, ReceiveHandle(url));
  EXPECT_NE(first, second);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(VisibilityTest, QueueWithZeroVisibilityTimeoutRedeliversAtOnce) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url,
                             CreateQueue("q", {{"VisibilityTimeout", "0"}}));
  FERRY_ASSERT_OK(Send(url, "m1"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, DeletedMessageIsNeverRedelivered) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "m1"));
  FERRY_ASSERT_OK(Delete(url, handle));
  AdvanceSeconds(24 * 3600);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

// ---- ChangeMessageVisibility ------------------------------------------------

TEST_P(VisibilityTest, ChangeVisibilityCountsFromTheCall) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "m1"));
  AdvanceSeconds(20);
  FERRY_ASSERT_OK(ChangeVisibility(url, handle, 30));
  AdvanceSeconds(29);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(1);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, ChangeVisibilityCanShortenTheTimeout) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string handle,
      SendAndReceive(url, "m1", /*visibility_timeout=*/600));
  FERRY_ASSERT_OK(ChangeVisibility(url, handle, 5));
  AdvanceSeconds(5);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, ChangeVisibilityToZeroMakesMessageVisibleAtOnce) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent, Send(url, "m1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, ReceiveHandle(url));
  FERRY_ASSERT_OK(ChangeVisibility(url, handle, 0));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> again, Receive(url));
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_EQ(again[0].message_id, sent.message_id);
  // The change is not permanent: this receive hid the message again.
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(VisibilityTest, ChangedVisibilityIsNotRememberedForLaterReceives) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "m1"));
  FERRY_ASSERT_OK(ChangeVisibility(url, handle, 100));
  AdvanceSeconds(100);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
  AdvanceSeconds(30);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("m1")));
}

TEST_P(VisibilityTest, RepeatedExtensionsKeepMessageHidden) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url,
                             CreateQueue("q", {{"VisibilityTimeout", "2"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "test"));
  for (int i = 0; i < 4; ++i) {
    AdvanceSeconds(1);
    FERRY_ASSERT_OK(ChangeVisibility(url, handle, 2));
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  }
  AdvanceSeconds(2);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("test")));
}

TEST_P(VisibilityTest, TotalVisibilityIsCappedAtTwelveHoursFromTheReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "m1"));
  FERRY_EXPECT_OK(ChangeVisibility(url, handle, 43200));

  AdvanceSeconds(10);
  // Extending does not restart the 12 hours.
  FERRY_EXPECT_OK(ChangeVisibility(url, handle, 43190));
  EXPECT_THAT(ChangeVisibility(url, handle, 43191),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Value 43191 for parameter VisibilityTimeout is "
                            "invalid. Reason: Total VisibilityTimeout for the "
                            "message is beyond the limit [43200 seconds].")));
}

TEST_P(VisibilityTest, TwelveHourCapStartsAgainWithEachReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SendAndReceive(url, "m1", /*visibility_timeout=*/10));
  AdvanceSeconds(100);
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, ReceiveHandle(url));
  FERRY_EXPECT_OK(ChangeVisibility(url, handle, 43200));
}

TEST_P(VisibilityTest, ChangeVisibilityOutOfRangeIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "m1"));
  EXPECT_THAT(ChangeVisibility(url, handle, 43201),
              AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(ChangeVisibility(url, handle, -1),
              AwsErrorIs("InvalidParameterValue"));
}

TEST_P(VisibilityTest, ChangeVisibilityAfterTimeoutExpiredSucceeds) {
  // MessageNotInflight is never returned (sqs.md §5).
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string handle, SendAndReceive(url, "m1", /*visibility_timeout=*/5));
  AdvanceSeconds(6);
  EXPECT_THAT(ChangeVisibility(url, handle, 10), IsOk());
}

TEST_P(VisibilityTest, ChangeVisibilityOfDeletedMessageFails) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "foo"));
  FERRY_ASSERT_OK(ChangeVisibility(url, handle, 42));
  FERRY_ASSERT_OK(Delete(url, handle));
  EXPECT_THAT(ChangeVisibility(url, handle, 42),
              AwsErrorIs("InvalidParameterValue",
                         Eq(absl::StrCat("Value ", handle,
                                         " for parameter ReceiptHandle is "
                                         "invalid. Reason: Message does not "
                                         "exist or is not available for "
                                         "visibility timeout change."))));
}

// ---- Receipt handles --------------------------------------------------------

TEST_P(VisibilityTest, EveryReceiveIssuesANewReceiptHandle) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url,
                             CreateQueue("q", {{"VisibilityTimeout", "1"}}));
  std::set<std::string> handles;
  FERRY_ASSERT_OK(Send(url, "foobar"));
  for (int i = 0; i < 5; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, ReceiveHandle(url));
    EXPECT_LE(handle.size(), 1024);
    handles.insert(handle);
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
    AdvanceSeconds(1);
  }
  EXPECT_EQ(handles.size(), 5);
}

TEST_P(VisibilityTest, StandardDeleteWithExpiredHandleDeletesTheMessage) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string handle,
      SendAndReceive(url, "test", /*visibility_timeout=*/1));
  AdvanceSeconds(2);
  FERRY_ASSERT_OK(Delete(url, handle));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(VisibilityTest, StandardDeleteWithSupersededHandleDeletesTheMessage) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string old_handle,
      SendAndReceive(url, "test", /*visibility_timeout=*/5));
  AdvanceSeconds(5);
  FERRY_ASSERT_OK_AND_ASSIGN(std::string new_handle, ReceiveHandle(url, 30));
  EXPECT_NE(old_handle, new_handle);

  FERRY_ASSERT_OK(Delete(url, old_handle));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
  AdvanceSeconds(30);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  // The newer handle still "deletes" the already deleted message.
  EXPECT_THAT(Delete(url, new_handle), IsOk());
}

TEST_P(VisibilityTest, DeletingTwiceSucceeds) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(url, "foo"));
  FERRY_EXPECT_OK(Delete(url, handle));
  FERRY_EXPECT_OK(Delete(url, handle));
  FERRY_EXPECT_OK(Delete(url, handle));
}

TEST_P(VisibilityTest, StandardChangeVisibilityWithSupersededHandleApplies) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string first, SendAndReceive(url, "test", /*visibility_timeout=*/0));
  FERRY_ASSERT_OK(ReceiveHandle(url, 3));
  FERRY_ASSERT_OK(ChangeVisibility(url, first, 0));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("test")));
}

TEST_P(VisibilityTest, GarbageReceiptHandleIsInvalid) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  absl::Status deleted = Delete(url, "garbage");
  EXPECT_THAT(deleted, AwsErrorIs("ReceiptHandleIsInvalid",
                                  Eq("The input receipt handle \"garbage\" is "
                                     "not a valid receipt handle.")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(deleted);
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->query_code, "ReceiptHandleIsInvalid");
  EXPECT_EQ(aws->http_status, 400);

  EXPECT_THAT(ChangeVisibility(url, "INVALID", 60),
              AwsErrorIs("ReceiptHandleIsInvalid"));
}

TEST_P(VisibilityTest, ReceiptHandleOfAnotherQueueIsInvalid) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string q1, CreateQueue("q1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string q2, CreateQueue("q2"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, SendAndReceive(q1, "m1"));
  EXPECT_THAT(Delete(q2, handle),
              AwsErrorIs("ReceiptHandleIsInvalid",
                         Eq(absl::StrCat("The receipt handle \"", handle,
                                         "\" is not valid for this queue."))));
  EXPECT_THAT(GetCounts(q1), IsOkAndHolds(Counts{0, 1, 0}));
}

TEST_P(VisibilityTest, DeleteOnMissingQueueFails) {
  EXPECT_THAT(Delete(UrlOf("nothing"), "garbage"),
              AwsErrorIs("QueueDoesNotExist"));
}

// ---- FIFO receipt handles ---------------------------------------------------

TEST_P(VisibilityTest, FifoDeleteAfterVisibilityTimeoutFails) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateFifoQueue("q.fifo", {{"VisibilityTimeout", "1"},
                                 {"ContentBasedDeduplication", "true"}}));
  FERRY_ASSERT_OK(SendFifo(url, "g1-m1", "1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, ReceiveHandle(url));
  AdvanceSeconds(2);
  EXPECT_THAT(Delete(url, handle),
              AwsErrorIs("InvalidParameterValue",
                         Eq(absl::StrCat("Value ", handle,
                                         " for parameter ReceiptHandle is "
                                         "invalid. Reason: The receipt handle "
                                         "has expired."))));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("g1-m1")));
}

TEST_P(VisibilityTest, FifoDeleteWithinExtendedVisibilitySucceeds) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateFifoQueue("q.fifo", {{"VisibilityTimeout", "1"}}));
  FERRY_ASSERT_OK(SendFifo(url, "g1-m1", "1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string handle, ReceiveHandle(url));
  FERRY_ASSERT_OK(ChangeVisibility(url, handle, 10));
  AdvanceSeconds(2);
  FERRY_EXPECT_OK(Delete(url, handle));
  AdvanceSeconds(10);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(VisibilityTest, FifoDeleteWithSupersededHandleFails) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateFifoQueue("q.fifo", {{"VisibilityTimeout", "1"}}));
  FERRY_ASSERT_OK(SendFifo(url, "g1-m1", "1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string old_handle, ReceiveHandle(url));
  AdvanceSeconds(1);
  FERRY_ASSERT_OK_AND_ASSIGN(std::string new_handle, ReceiveHandle(url, 30));
  EXPECT_THAT(
      Delete(url, old_handle),
      AwsErrorIs("InvalidParameterValue",
                 testing::HasSubstr("The receipt handle has expired.")));
  FERRY_EXPECT_OK(Delete(url, new_handle));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, VisibilityTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
