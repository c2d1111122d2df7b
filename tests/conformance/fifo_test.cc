// FIFO queues: required ids and their validation, ordering within a group,
// group blocking (the prefix rule), deduplication, ReceiveRequestAttemptId,
// sequence numbers, and the FIFO parameters on standard queues.
// Reference: sqs.md §1.4 (SendMessage), §1.5 (system attributes), §1.7.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::string BadIdText(const std::string& value, const std::string& parameter) {
  return absl::StrCat("Value ", value, " for parameter ", parameter,
                      " is invalid. Reason: ", parameter,
                      " can only include alphanumeric and punctuation "
                      "characters. 1 to 128 in length.");
}

// The group of a body named "g<group>-m<n>".
std::string GroupOf(const std::string& body) {
  return body.substr(0, body.find('-'));
}

// True if, within each group, `bodies` keep the order they have in `sent`.
::testing::AssertionResult KeepsGroupOrder(
    const std::vector<std::string>& bodies,
    const std::vector<std::string>& sent) {
  std::map<std::string, std::vector<std::string>> got_by_group;
  std::map<std::string, std::vector<std::string>> sent_by_group;
  for (const std::string& b : bodies) got_by_group[GroupOf(b)].push_back(b);
  for (const std::string& b : sent) sent_by_group[GroupOf(b)].push_back(b);
  for (const auto& [group, got] : got_by_group) {
    const std::vector<std::string>& order = sent_by_group[group];
    size_t next = 0;
    for (const std::string& b : got) {
      while (next < order.size() && order[next] != b) ++next;
      if (next == order.size()) {
        return ::testing::AssertionFailure()
               << b << " is out of order in " << testing::PrintToString(bodies);
      }
      ++next;
    }
  }
  return ::testing::AssertionSuccess();
}

class FifoTest : public ConformanceTest {
 protected:
  // A FIFO queue with content-based deduplication.
  absl::StatusOr<std::string> CreateCbdQueue(
      const std::string& name, ferry::AttributeMap attributes = {}) {
    attributes["ContentBasedDeduplication"] = "true";
    return CreateFifoQueue(name, std::move(attributes));
  }

  // Sends bodies named "g<group>-m<n>" to group "g<group>" (content-based
  // deduplication).
  absl::Status SendAll(const std::string& url,
                       const std::vector<std::string>& bodies) {
    for (const std::string& body : bodies) {
      absl::StatusOr<ferry::SendMessageResult> sent =
          sqs().SendMessage(ctx_, {.queue_url = url,
                                   .message_body = body,
                                   .message_group_id = GroupOf(body)});
      if (!sent.ok()) return sent.status();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ferry::ReceiveMessageResult> ReceiveAttempt(
      const std::string& url, const std::string& attempt_id, int max = 10,
      std::optional<int> visibility_timeout = std::nullopt) {
    return sqs().ReceiveMessage(ctx_,
                                {.queue_url = url,
                                 .max_number_of_messages = max,
                                 .visibility_timeout = visibility_timeout,
                                 .wait_time_seconds = 0,
                                 .receive_request_attempt_id = attempt_id});
  }

  static std::vector<std::string> Handles(
      const std::vector<ferry::Message>& messages) {
    std::vector<std::string> handles;
    for (const ferry::Message& m : messages)
      handles.push_back(m.receipt_handle);
    return handles;
  }
  static std::vector<std::string> Ids(
      const std::vector<ferry::Message>& messages) {
    std::vector<std::string> ids;
    for (const ferry::Message& m : messages) ids.push_back(m.message_id);
    return ids;
  }
};

// ---- Required and valid ids -------------------------------------------------

TEST_P(FifoTest, MessageGroupIdIsRequired) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                       .message_body = "test",
                                       .message_deduplication_id = "dedup"}),
              AwsErrorIs("MissingParameter",
                         Eq("The request must contain the parameter "
                            "MessageGroupId.")));
}

TEST_P(FifoTest, DeduplicationIdIsRequiredWithoutContentBasedDeduplication) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  EXPECT_THAT(
      sqs().SendMessage(ctx_, {.queue_url = url,
                               .message_body = "test",
                               .message_group_id = "group"}),
      AwsErrorIs("InvalidParameterValue",
                 Eq("The queue should either have ContentBasedDeduplication "
                    "enabled or MessageDeduplicationId provided explicitly")));
}

TEST_P(FifoTest, ContentBasedDeduplicationMakesDeduplicationIdOptional) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                       .message_body = "test",
                                       .message_group_id = "group"}),
              IsOk());
}

TEST_P(FifoTest, InvalidMessageGroupIdsAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  for (const std::string& id :
       {std::string(""), std::string("a b"), std::string(129, 'g'),
        std::string("caf\xc3\xa9"), std::string("Invalid-\x08")}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                         .message_body = "test",
                                         .message_group_id = id}),
                AwsErrorIs("InvalidParameterValue",
                           Eq(BadIdText(id, "MessageGroupId"))));
  }
}

TEST_P(FifoTest, InvalidDeduplicationIdsAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  for (const std::string& id :
       {std::string(""), std::string("a b"), std::string(129, 'd'),
        std::string("Invalid-\x08")}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                         .message_body = "test",
                                         .message_deduplication_id = id,
                                         .message_group_id = "1"}),
                AwsErrorIs("InvalidParameterValue",
                           Eq(BadIdText(id, "MessageDeduplicationId"))));
  }
}

TEST_P(FifoTest, IdsOfAlphanumericsAndPunctuationUpTo128AreValid) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  const std::string punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                       .message_body = "a",
                                       .message_deduplication_id = punctuation,
                                       .message_group_id = punctuation}),
              IsOk());
  EXPECT_THAT(sqs().SendMessage(
                  ctx_, {.queue_url = url,
                         .message_body = "b",
                         .message_deduplication_id = std::string(128, 'd'),
                         .message_group_id = std::string(128, 'g')}),
              IsOk());
  EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                       .message_body = "c",
                                       .message_deduplication_id = "Az09",
                                       .message_group_id = "Az09"}),
              IsOk());
}

// ---- Ordering ---------------------------------------------------------------

TEST_P(FifoTest, OneGroupIsReturnedInSendOrder) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  std::vector<std::string> sent;
  for (int i = 0; i < 4; ++i) {
    sent.push_back(absl::StrCat("message", i));
    FERRY_ASSERT_OK(SendFifo(url, sent.back(), "fifo_group",
                             absl::StrCat("deduplication", i)));
  }
  for (int i = 0; i < 4; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                               Receive(url, 1));
    ASSERT_THAT(got, SizeIs(1));
    EXPECT_EQ(got[0].body, sent[i]);
    FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  }
}

TEST_P(FifoTest, ReceiveTakesOneGroupBeforeTheNext) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g2-m1", "g1-m2", "g1-m3"}));
  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(ElementsAre("g1-m1", "g1-m2", "g1-m3", "g2-m1")));
}

TEST_P(FifoTest, ZeroVisibilityTimeoutKeepsGroupOrder) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  const std::vector<std::string> sent = {"g1-m1", "g2-m1", "g2-m2", "g3-m1",
                                         "g1-m2"};
  FERRY_ASSERT_OK(SendAll(url, sent));
  EXPECT_THAT(ReceiveBodies(url, 3, /*visibility_timeout=*/0),
              IsOkAndHolds(ElementsAre("g1-m1", "g1-m2", "g2-m1")));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> all,
                             ReceiveBodies(url, 10, /*visibility_timeout=*/0));
  EXPECT_THAT(all, UnorderedElementsAreArray(sent));
  EXPECT_TRUE(KeepsGroupOrder(all, sent));
}

TEST_P(FifoTest, ExpiredGroupIsRedeliveredInOrder) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateFifoQueue("q.fifo", {{"VisibilityTimeout", "1"}}));
  for (int i = 0; i < 3; ++i) {
    FERRY_ASSERT_OK(SendFifo(url, absl::StrCat("message-", i), "1"));
  }
  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(ElementsAre("message-0", "message-1", "message-2")));
  AdvanceSeconds(2);
  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(ElementsAre("message-0", "message-1", "message-2")));
}

// ---- Group blocking (the prefix rule) ---------------------------------------

TEST_P(FifoTest, InFlightMessageBlocksTheRestOfItsGroup) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g1-m2", "g2-m1"}));
  EXPECT_THAT(ReceiveBodies(url, 1), IsOkAndHolds(ElementsAre("g1-m1")));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("g2-m1")));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(FifoTest, MessagesSentWhileTheGroupIsInFlightAreBlocked) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1"}));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("g1-m1")));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m2"}));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(FifoTest, VisibilityTimeoutIsSharedByTheGroup) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateCbdQueue("q.fifo", {{"VisibilityTimeout", "1"}}));
  const std::vector<std::string> sent = {"g1-m1", "g1-m2", "g1-m3",
                                         "g1-m4", "g2-m1", "g3-m1"};
  FERRY_ASSERT_OK(SendAll(url, sent));
  EXPECT_THAT(ReceiveBodies(url, 2),
              IsOkAndHolds(ElementsAre("g1-m1", "g1-m2")));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> next,
                             ReceiveBodies(url, 1));
  ASSERT_THAT(next, SizeIs(1));
  EXPECT_NE(GroupOf(next[0]), "g1");

  AdvanceSeconds(2);
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> all,
                             ReceiveBodies(url, 10, /*visibility_timeout=*/0));
  EXPECT_THAT(all, UnorderedElementsAreArray(sent));
  EXPECT_TRUE(KeepsGroupOrder(all, sent));
}

TEST_P(FifoTest, DeletingEveryInFlightMessageUnblocksTheGroup) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g2-m1", "g1-m2", "g2-m2", "g1-m2",
                                "g1-m3", "g1-m4", "g3-m1"}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 2));
  EXPECT_THAT(Bodies(got), ElementsAre("g1-m1", "g1-m2"));
  for (const ferry::Message& m : got)
    FERRY_ASSERT_OK(Delete(url, m.receipt_handle));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> rest, ReceiveBodies(url));
  // The second "g1-m2" was a duplicate (content-based deduplication).
  const std::vector<std::string> expected = {"g2-m1", "g2-m2", "g1-m3", "g1-m4",
                                             "g3-m1"};
  EXPECT_THAT(rest, UnorderedElementsAreArray(expected));
  EXPECT_TRUE(KeepsGroupOrder(rest, expected));
}

TEST_P(FifoTest, PartialDeleteLeavesTheGroupBlocked) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g2-m1", "g1-m2", "g2-m2", "g1-m2",
                                "g1-m3", "g1-m4", "g3-m1"}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 2));
  EXPECT_THAT(Bodies(got), ElementsAre("g1-m1", "g1-m2"));
  FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> rest, ReceiveBodies(url));
  EXPECT_THAT(rest, UnorderedElementsAre("g2-m1", "g2-m2", "g3-m1"));
  EXPECT_TRUE(KeepsGroupOrder(rest, {"g2-m1", "g2-m2", "g3-m1"}));
}

TEST_P(FifoTest, TerminatingVisibilityOfTheHeadReturnsOnlyTheHead) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g1-m2", "g2-m1"}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 2));
  ASSERT_THAT(Bodies(got), ElementsAre("g1-m1", "g1-m2"));
  FERRY_ASSERT_OK(ChangeVisibility(url, got[0].receipt_handle, 0));
  // g1-m1 is visible and before the first in-flight message (g1-m2).
  EXPECT_THAT(ReceiveBodies(url, 3),
              IsOkAndHolds(UnorderedElementsAre("g2-m1", "g1-m1")));
}

TEST_P(FifoTest, ShortenedVisibilityOfTheHeadReturnsOnlyTheHead) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateCbdQueue("q.fifo", {{"VisibilityTimeout", "30"}}));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g1-m2", "g2-m1"}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 2));
  ASSERT_THAT(Bodies(got), ElementsAre("g1-m1", "g1-m2"));
  FERRY_ASSERT_OK(ChangeVisibility(url, got[0].receipt_handle, 1));
  AdvanceSeconds(2);
  EXPECT_THAT(ReceiveBodies(url, 3),
              IsOkAndHolds(UnorderedElementsAre("g2-m1", "g1-m1")));
}

TEST_P(FifoTest, ExtendingOneMessageBlocksEverythingAfterIt) {
  // sqs.md §1.7: extending the 1st / 2nd / 3rd message of a group and
  // letting the others expire returns [] / [foo] / [foo, bar].
  const std::vector<std::vector<std::string>> expected = {
      {}, {"foo"}, {"foo", "bar"}};
  for (int extended = 0; extended < 3; ++extended) {
    SCOPED_TRACE(extended);
    FERRY_ASSERT_OK_AND_ASSIGN(
        std::string url, CreateCbdQueue(absl::StrCat("q", extended, ".fifo")));
    for (const char* body : {"foo", "bar", "baz"}) {
      FERRY_ASSERT_OK(sqs().SendMessage(
          ctx_,
          {.queue_url = url, .message_body = body, .message_group_id = "g"}));
    }
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                               Receive(url, 10, /*visibility_timeout=*/10));
    ASSERT_THAT(Bodies(got), ElementsAre("foo", "bar", "baz"));
    FERRY_ASSERT_OK(ChangeVisibility(url, got[extended].receipt_handle, 100));
    AdvanceSeconds(10);
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(Eq(expected[extended])));
  }
}

// ---- Deduplication ----------------------------------------------------------

TEST_P(FifoTest, DuplicateIsAcceptedButNotDelivered) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_ASSERT_OK(SendFifo(url, "first", "g", "dedup-1"));
  FERRY_EXPECT_OK(SendFifo(url, "second", "g", "dedup-1"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("first")));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 1, 0}));
}

TEST_P(FifoTest, DeduplicationOutlivesDeletion) {
  for (bool content_based : {true, false}) {
    SCOPED_TRACE(content_based);
    const std::string name = content_based ? "cbd.fifo" : "explicit.fifo";
    FERRY_ASSERT_OK_AND_ASSIGN(std::string url, content_based
                                                    ? CreateCbdQueue(name)
                                                    : CreateFifoQueue(name));
    ferry::SendMessageRequest request = {.queue_url = url,
                                         .message_body = R"({"foo": "bar"})",
                                         .message_group_id = "group-1"};
    if (!content_based) request.message_deduplication_id = "dedup1";
    FERRY_ASSERT_OK(sqs().SendMessage(ctx_, request));
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
    ASSERT_THAT(got, SizeIs(1));
    FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));

    FERRY_ASSERT_OK(sqs().SendMessage(ctx_, request));
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  }
}

TEST_P(FifoTest, DuplicateInsideFiveMinutesIsDropped) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_ASSERT_OK(SendFifo(url, "first", "g", "dedup"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
  ASSERT_THAT(got, SizeIs(1));
  FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  AdvanceSeconds(299);
  FERRY_ASSERT_OK(SendFifo(url, "second", "g", "dedup"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(FifoTest, DeduplicationEndsAfterFiveMinutes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_ASSERT_OK(SendFifo(url, "first", "g", "dedup"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
  ASSERT_THAT(got, SizeIs(1));
  FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  AdvanceSeconds(301);
  FERRY_ASSERT_OK(SendFifo(url, "second", "g", "dedup"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("second")));
}

TEST_P(FifoTest, ContentBasedDeduplicationHashesTheBodyOnly) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(
      sqs().SendMessage(ctx_, {.queue_url = url,
                               .message_body = "same",
                               .message_attributes = {{"a", StringAttr("1")}},
                               .message_group_id = "g"}));
  FERRY_ASSERT_OK(
      sqs().SendMessage(ctx_, {.queue_url = url,
                               .message_body = "same",
                               .message_attributes = {{"a", StringAttr("2")}},
                               .message_group_id = "g"}));
  FERRY_ASSERT_OK(sqs().SendMessage(ctx_, {.queue_url = url,
                                           .message_body = "different",
                                           .message_group_id = "g"}));
  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(ElementsAre("same", "different")));
}

TEST_P(FifoTest, ExplicitDeduplicationIdOverridesContentBasedOne) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendFifo(url, "same", "g", "id-1"));
  FERRY_ASSERT_OK(SendFifo(url, "same", "g", "id-2"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("same", "same")));
}

TEST_P(FifoTest, QueueScopeDeduplicatesAcrossGroups) {
  for (bool content_based : {true, false}) {
    SCOPED_TRACE(content_based);
    const std::string name = content_based ? "cbd.fifo" : "explicit.fifo";
    FERRY_ASSERT_OK_AND_ASSIGN(std::string url, content_based
                                                    ? CreateCbdQueue(name)
                                                    : CreateFifoQueue(name));
    for (const char* group : {"group-1", "group-2"}) {
      ferry::SendMessageRequest request = {.queue_url = url,
                                           .message_body = R"({"foo": "bar"})",
                                           .message_group_id = group};
      if (!content_based) request.message_deduplication_id = "dedup1";
      FERRY_ASSERT_OK(sqs().SendMessage(ctx_, request));
    }
    EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(SizeIs(1)));
  }
}

TEST_P(FifoTest, MessageGroupScopeDeduplicatesWithinAGroupOnly) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateFifoQueue("q.fifo",
                      {{"DeduplicationScope", "messageGroup"},
                       {"FifoThroughputLimit", "perMessageGroupId"}}));
  FERRY_ASSERT_OK(SendFifo(url, "g1-a", "g1", "dedup"));
  FERRY_ASSERT_OK(SendFifo(url, "g1-b", "g1", "dedup"));
  FERRY_ASSERT_OK(SendFifo(url, "g2-a", "g2", "dedup"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("g1-a", "g2-a")));
}

TEST_P(FifoTest, MessageGroupScopeWorksWithoutPerGroupThroughput) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateFifoQueue("q.fifo", {{"DeduplicationScope", "messageGroup"}}));
  FERRY_ASSERT_OK(SendFifo(url, "g1-a", "g1", "dedup"));
  FERRY_ASSERT_OK(SendFifo(url, "g2-a", "g2", "dedup"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("g1-a", "g2-a")));
}

// ---- ReceiveRequestAttemptId ------------------------------------------------

TEST_P(FifoTest, RetriedReceiveReturnsTheSameMessagesAndHandles) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g1-m2", "g2-m1"}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult first,
                             ReceiveAttempt(url, "attempt-1", 2));
  ASSERT_THAT(first.messages, SizeIs(2));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult retry,
                             ReceiveAttempt(url, "attempt-1", 2));
  EXPECT_EQ(Ids(retry.messages), Ids(first.messages));
  EXPECT_EQ(Handles(retry.messages), Handles(first.messages));
  EXPECT_EQ(Bodies(retry.messages), Bodies(first.messages));
}

TEST_P(FifoTest, RetriedReceiveRestartsTheVisibilityTimeout) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1"}));
  FERRY_ASSERT_OK(
      ReceiveAttempt(url, "attempt-1", 10, /*visibility_timeout=*/10));
  AdvanceSeconds(8);
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::ReceiveMessageResult retry,
      ReceiveAttempt(url, "attempt-1", 10, /*visibility_timeout=*/10));
  ASSERT_THAT(retry.messages, SizeIs(1));
  AdvanceSeconds(8);  // 16 s after the first receive, 8 s after the retry
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  AdvanceSeconds(2);
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("g1-m1")));
}

TEST_P(FifoTest, AnotherAttemptIdIsANewReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g1-m2"}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult first,
                             ReceiveAttempt(url, "attempt-1", 1));
  ASSERT_THAT(first.messages, SizeIs(1));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult other,
                             ReceiveAttempt(url, "attempt-2", 1));
  EXPECT_THAT(other.messages, IsEmpty());  // the group is in flight
}

TEST_P(FifoTest, RetryAfterADeleteIsRefused) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateCbdQueue("q.fifo"));
  FERRY_ASSERT_OK(SendAll(url, {"g1-m1", "g1-m2"}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult first,
                             ReceiveAttempt(url, "attempt-1", 2));
  ASSERT_THAT(first.messages, SizeIs(2));
  FERRY_ASSERT_OK(Delete(url, first.messages[0].receipt_handle));
  EXPECT_THAT(ReceiveAttempt(url, "attempt-1", 2),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Value attempt-1 for parameter "
                            "ReceiveRequestAttemptId is invalid. Reason: The "
                            "receiveRequestAttemptId is not valid anymore "
                            "since the receive call is not retryable.")));
}

TEST_P(FifoTest, AttemptIdIsIgnoredOnStandardQueues) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK(Send(url, "a"));
  FERRY_ASSERT_OK(Send(url, "b"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult first,
                             ReceiveAttempt(url, "attempt-1", 1));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ReceiveMessageResult second,
                             ReceiveAttempt(url, "attempt-1", 1));
  ASSERT_THAT(first.messages, SizeIs(1));
  ASSERT_THAT(second.messages, SizeIs(1));
  EXPECT_NE(first.messages[0].message_id, second.messages[0].message_id);
}

// ---- Sequence numbers and system attributes ---------------------------------

TEST_P(FifoTest, SequenceNumbersIncreaseWithinAGroup) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  std::vector<std::string> numbers;
  for (int i = 1; i <= 3; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                               SendFifo(url, absl::StrCat("message-", i),
                                        "group", absl::StrCat("m", i)));
    ASSERT_FALSE(sent.sequence_number.empty());
    EXPECT_LE(sent.sequence_number.size(), 40);  // a 128-bit decimal
    EXPECT_EQ(sent.sequence_number.find_first_not_of("0123456789"),
              std::string::npos);
    numbers.push_back(sent.sequence_number);
  }
  for (size_t i = 1; i < numbers.size(); ++i) {
    const std::string& a = numbers[i - 1];
    const std::string& b = numbers[i];
    EXPECT_TRUE(a.size() < b.size() || (a.size() == b.size() && a < b))
        << a << " !< " << b;
  }
}

TEST_P(FifoTest, AllSystemAttributesOfFifoQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateCbdQueue("q.fifo", {{"VisibilityTimeout", "0"},
                                {"DeduplicationScope", "messageGroup"},
                                {"FifoThroughputLimit", "perMessageGroupId"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageResult sent,
      SendFifo(url, "message-body-1", "group-1", "dedup-1"));
  EXPECT_EQ(sent.md5_of_message_body, "19c9e282d65f9733bc6b35d50062c7ee");

  for (const char* count : {"1", "2"}) {
    SCOPED_TRACE(count);
    FERRY_ASSERT_OK_AND_ASSIGN(
        ferry::ReceiveMessageResult result,
        sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                    .attribute_names = {"All"},
                                    .wait_time_seconds = 0}));
    ASSERT_THAT(result.messages, SizeIs(1));
    EXPECT_THAT(
        result.messages[0].attributes,
        UnorderedElementsAre(Key("ApproximateFirstReceiveTimestamp"),
                             Pair("ApproximateReceiveCount", count),
                             Pair("MessageDeduplicationId", "dedup-1"),
                             Pair("MessageGroupId", "group-1"),
                             Pair("SenderId", kAccount), Key("SentTimestamp"),
                             Pair("SequenceNumber", sent.sequence_number)));
  }
}

// ---- FIFO parameters on standard queues -------------------------------------

TEST_P(FifoTest, StandardQueueAcceptsAndEchoesMessageGroupId) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageResult sent,
      sqs().SendMessage(ctx_, {.queue_url = url,
                               .message_body = "fair",
                               .message_group_id = "tenant-1"}));
  EXPECT_EQ(sent.sequence_number, "");
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::ReceiveMessageResult result,
      sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                  .message_system_attribute_names = {"All"},
                                  .wait_time_seconds = 0}));
  ASSERT_THAT(result.messages, SizeIs(1));
  EXPECT_THAT(result.messages[0].attributes,
              Contains(Pair("MessageGroupId", "tenant-1")));
  EXPECT_THAT(result.messages[0].attributes,
              Not(Contains(Key("SequenceNumber"))));
  EXPECT_THAT(result.messages[0].attributes,
              Not(Contains(Key("MessageDeduplicationId"))));
}

TEST_P(FifoTest, StandardQueueValidatesMessageGroupId) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                       .message_body = "fair",
                                       .message_group_id = "a b"}),
              AwsErrorIs("InvalidParameterValue",
                         Eq(BadIdText("a b", "MessageGroupId"))));
}

TEST_P(FifoTest, StandardQueueRejectsMessageDeduplicationId) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(sqs().SendMessage(ctx_, {.queue_url = url,
                                       .message_body = "m",
                                       .message_deduplication_id = "dedup"}),
              AwsErrorIs("InvalidParameterValue",
                         HasSubstr("The request includes a parameter that is "
                                   "not valid for this queue type.")));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, FifoTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
