// Dead-letter queues: redrive at receive time, what a moved message keeps,
// RedrivePolicy and RedriveAllowPolicy, ListDeadLetterSourceQueues, and the
// message move tasks (driven with RunMaintenance() and clock advances).
// Reference: sqs.md §1.3 (RedrivePolicy), §1.4 (move tasks,
// ListDeadLetterSourceQueues), §1.7 (DLQ), §1.8.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::AnyOf;
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

std::string RedrivePolicy(const std::string& dlq_arn, int max_receive_count) {
  return nlohmann::json{{"deadLetterTargetArn", dlq_arn},
                        {"maxReceiveCount", max_receive_count}}
      .dump();
}

// sqs.md §5: the texts (and, for these, the exact error) were never recorded
// from AWS. Either invalid-value error is accepted.
auto IsInvalidValue() {
  return AnyOf(AwsErrorIs("InvalidParameterValue"),
               AwsErrorIs("InvalidAttributeValue"));
}

class DlqTest : public ConformanceTest {
 protected:
  // Creates `name` with a redrive policy to the queue at `dlq_url`.
  absl::StatusOr<std::string> CreateSource(
      const std::string& name, const std::string& dlq_url,
      int max_receive_count, ferry::AttributeMap attributes = {}) {
    absl::StatusOr<std::string> dlq_arn = QueueArn(dlq_url);
    if (!dlq_arn.ok()) return dlq_arn.status();
    attributes["RedrivePolicy"] = RedrivePolicy(*dlq_arn, max_receive_count);
    return CreateQueue(name, std::move(attributes));
  }

  // Receives with VisibilityTimeout=0 and the given system attributes.
  absl::StatusOr<std::vector<ferry::Message>> ReceiveNow(
      const std::string& url, int max = 10,
      std::vector<std::string> system_attributes = {}) {
    absl::StatusOr<ferry::ReceiveMessageResult> result = sqs().ReceiveMessage(
        ctx_, {.queue_url = url,
               .message_system_attribute_names = std::move(system_attributes),
               .message_attribute_names = {"All"},
               .max_number_of_messages = max,
               .visibility_timeout = 0,
               .wait_time_seconds = 0});
    if (!result.ok()) return result.status();
    return result->messages;
  }

  // Sends `bodies` to `source` (maxReceiveCount=1) and receives twice so that
  // every one of them moves to the dead-letter queue.
  void SendAndDeadLetter(const std::string& source,
                         const std::vector<std::string>& bodies) {
    for (const std::string& body : bodies) {
      ASSERT_THAT(Send(source, body), IsOk());
    }
    ASSERT_THAT(ReceiveNow(source), IsOkAndHolds(SizeIs(bodies.size())));
    ASSERT_THAT(ReceiveNow(source), IsOkAndHolds(IsEmpty()));
  }

  absl::StatusOr<ferry::ListMessageMoveTasksResultEntry> LatestTask(
      const std::string& source_arn) {
    absl::StatusOr<ferry::ListMessageMoveTasksResult> list =
        sqs().ListMessageMoveTasks(ctx_, {.source_arn = source_arn});
    if (!list.ok()) return list.status();
    if (list->results.empty()) return absl::NotFoundError("no task");
    return list->results.front();
  }

  // Runs maintenance, advancing the clock a second at a time, until the
  // latest task of `source_arn` is no longer RUNNING (at most 100 seconds).
  // Returns how many seconds it advanced.
  absl::StatusOr<int> DriveMoveTask(const std::string& source_arn) {
    for (int seconds = 0; seconds <= 100; ++seconds) {
      absl::Status maintained = broker().RunMaintenance();
      if (!maintained.ok()) return maintained;
      absl::StatusOr<ferry::ListMessageMoveTasksResultEntry> task =
          LatestTask(source_arn);
      if (!task.ok()) return task.status();
      if (task->status != "RUNNING") return seconds;
      AdvanceSeconds(1);
    }
    return absl::DeadlineExceededError("the move task never finished");
  }

  // Receives and deletes everything in `url`; returns the messages.
  absl::StatusOr<std::vector<ferry::Message>> Drain(const std::string& url) {
    std::vector<ferry::Message> all;
    for (;;) {
      absl::StatusOr<ferry::ReceiveMessageResult> result =
          sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                      .message_system_attribute_names = {"All"},
                                      .message_attribute_names = {"All"},
                                      .max_number_of_messages = 10,
                                      .wait_time_seconds = 0});
      if (!result.ok()) return result.status();
      if (result->messages.empty()) return all;
      for (const ferry::Message& m : result->messages) {
        absl::Status deleted = Delete(url, m.receipt_handle);
        if (!deleted.ok()) return deleted;
        all.push_back(m);
      }
    }
  }
};

// ---- Redrive at receive time ------------------------------------------------

TEST_P(DlqTest, MessageMovesInsteadOfBeingReturnedAfterMaxReceiveCount) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent, Send(src, "test"));

  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(GetCounts(src), IsOkAndHolds(Counts{0, 0, 0}));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{1, 0, 0}));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> moved,
                             ReceiveNow(dlq));
  ASSERT_THAT(moved, SizeIs(1));
  EXPECT_EQ(moved[0].message_id, sent.message_id);
  EXPECT_EQ(moved[0].body, "test");
}

TEST_P(DlqTest, MovedMessageKeepsItsIdentityAndCountsOnFromTheSource) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  ferry::RequestContext traced = ctx_;
  traced.trace_header = "Root=1-5759e988-bd862e3fe1be46a994272793";
  const int64_t sent_ms = NowMillis();
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageResult sent,
      sqs().SendMessage(traced,
                        {.queue_url = src,
                         .message_body = "test",
                         .message_attributes = {{"Foo", StringAttr("Bar")}}}));
  AdvanceSeconds(5);
  FERRY_ASSERT_OK(ReceiveNow(src));
  AdvanceSeconds(5);
  FERRY_ASSERT_OK(ReceiveNow(src));
  AdvanceSeconds(5);

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> moved,
                             ReceiveNow(dlq, 10, {"All"}));
  ASSERT_THAT(moved, SizeIs(1));
  const ferry::Message& m = moved[0];
  EXPECT_EQ(m.message_id, sent.message_id);
  EXPECT_EQ(m.body, "test");
  EXPECT_THAT(m.message_attributes,
              ElementsAre(Pair("Foo", StringAttr("Bar"))));
  EXPECT_EQ(m.md5_of_message_attributes, "ae7155c6026991b6d54b11589678bf9c");
  // The receive that moved the message is not counted: 2 for maxReceiveCount 1.
  EXPECT_THAT(m.attributes, Contains(Pair("ApproximateReceiveCount", "2")));
  EXPECT_THAT(m.attributes,
              Contains(Pair("SentTimestamp", absl::StrCat(sent_ms))));
  EXPECT_THAT(m.attributes,
              Contains(Pair("DeadLetterQueueSourceArn", ArnOf("src"))));
  EXPECT_THAT(m.attributes,
              Contains(Pair("AWSTraceHeader", traced.trace_header)));
  EXPECT_THAT(m.attributes, Contains(Key("ApproximateFirstReceiveTimestamp")));
}

TEST_P(DlqTest, MessageMovesOnTheReceiveAfterTheLastAllowedOne) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 3));
  FERRY_ASSERT_OK(Send(src, "poison"));
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  }
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{1, 0, 0}));
}

TEST_P(DlqTest, VisibilityExpiryCountsAsAFailedReceive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK(Send(src, "poison"));
  EXPECT_THAT(ReceiveBodies(src), IsOkAndHolds(ElementsAre("poison")));
  AdvanceSeconds(30);
  EXPECT_THAT(ReceiveBodies(src), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(ReceiveBodies(dlq), IsOkAndHolds(ElementsAre("poison")));
}

TEST_P(DlqTest, DeletedMessageNeverMoves) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK(Send(src, "fine"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(src));
  ASSERT_THAT(got, SizeIs(1));
  FERRY_ASSERT_OK(Delete(src, got[0].receipt_handle));
  AdvanceSeconds(60);
  EXPECT_THAT(ReceiveBodies(src), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(DlqTest, MessagesOfAnUnredrivenQueueNeverMove) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateQueue("src"));
  FERRY_ASSERT_OK(Send(src, "m"));
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  }
}

TEST_P(DlqTest, StandardMoveKeepsTheOriginalRetentionClock) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string dlq, CreateQueue("dlq", {{"MessageRetentionPeriod", "120"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK(Send(src, "old"));
  AdvanceSeconds(100);
  FERRY_ASSERT_OK(ReceiveNow(src));
  FERRY_ASSERT_OK(ReceiveNow(src));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{1, 0, 0}));
  AdvanceSeconds(20);  // 120 seconds after the send
  EXPECT_THAT(ReceiveBodies(dlq), IsOkAndHolds(IsEmpty()));
}

TEST_P(DlqTest, FifoMoveRestartsTheRetentionClock) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string dlq,
      CreateFifoQueue("dlq.fifo", {{"MessageRetentionPeriod", "120"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string src,
      CreateSource("src.fifo", dlq, 1, {{"FifoQueue", "true"}}));
  FERRY_ASSERT_OK(SendFifo(src, "old", "g"));
  AdvanceSeconds(100);
  FERRY_ASSERT_OK(ReceiveNow(src));
  FERRY_ASSERT_OK(ReceiveNow(src));
  AdvanceSeconds(119);
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{1, 0, 0}));
  AdvanceSeconds(1);
  EXPECT_THAT(ReceiveBodies(dlq), IsOkAndHolds(IsEmpty()));
}

// ---- FIFO dead-letter queues ------------------------------------------------

TEST_P(DlqTest, FifoMessageMovesWithItsMessageIdAsDeduplicationId) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string dlq,
      CreateFifoQueue("dlq.fifo", {{"ContentBasedDeduplication", "true"},
                                   {"MessageRetentionPeriod", "1209600"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string src, CreateSource("src.fifo", dlq, 2,
                                    {{"FifoQueue", "true"},
                                     {"ContentBasedDeduplication", "true"},
                                     {"VisibilityTimeout", "60"}}));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageResult sent,
      sqs().SendMessage(ctx_, {.queue_url = src,
                               .message_body = "foobar",
                               .message_group_id = "1"}));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(IsEmpty()));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> moved,
                             ReceiveNow(dlq, 10, {"All"}));
  ASSERT_THAT(moved, SizeIs(1));
  EXPECT_EQ(moved[0].message_id, sent.message_id);
  EXPECT_EQ(moved[0].body, "foobar");
  EXPECT_THAT(moved[0].attributes,
              Contains(Pair("MessageDeduplicationId", sent.message_id)));
  EXPECT_THAT(moved[0].attributes, Contains(Pair("MessageGroupId", "1")));
}

TEST_P(DlqTest, FifoGroupUnblocksAfterItsHeadMoves) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateFifoQueue("dlq.fifo"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string src,
      CreateSource("src.fifo", dlq, 1, {{"FifoQueue", "true"}}));
  FERRY_ASSERT_OK(SendFifo(src, "m1", "g"));
  FERRY_ASSERT_OK(SendFifo(src, "m2", "g"));
  EXPECT_THAT(ReceiveNow(src, 1), IsOkAndHolds(SizeIs(1)));

  // m1 moves on the next attempt; m2, next in the group, becomes available.
  std::vector<std::string> bodies;
  for (int i = 0; i < 2 && bodies.empty(); ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                               ReceiveNow(src, 1));
    for (const ferry::Message& m : got) bodies.push_back(m.body);
  }
  EXPECT_THAT(bodies, ElementsAre("m2"));
  EXPECT_THAT(ReceiveBodies(dlq), IsOkAndHolds(ElementsAre("m1")));
}

// ---- RedrivePolicy ----------------------------------------------------------

TEST_P(DlqTest, RedrivePolicyIsReturnedAsJson) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 10));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string policy,
                             GetAttribute(src, "RedrivePolicy"));
  nlohmann::json parsed = nlohmann::json::parse(policy, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << policy;
  EXPECT_EQ(parsed.value("deadLetterTargetArn", ""), ArnOf("dlq"));
  ASSERT_TRUE(parsed.contains("maxReceiveCount")) << policy;
  EXPECT_EQ(parsed["maxReceiveCount"], 10) << policy;
  EXPECT_THAT(GetAttributes(src, {"All"}),
              IsOkAndHolds(Contains(Key("RedrivePolicy"))));
}

TEST_P(DlqTest, MaxReceiveCountMayBeAString) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string src,
      CreateQueue("src", {{"RedrivePolicy",
                           nlohmann::json{{"deadLetterTargetArn", ArnOf("dlq")},
                                          {"maxReceiveCount", "2"}}
                               .dump()}}));
  FERRY_ASSERT_OK(Send(src, "m"));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{1, 0, 0}));
}

TEST_P(DlqTest, RedrivePolicyCanBeSetOnAnExistingQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateQueue("src"));
  FERRY_ASSERT_OK(Send(src, "m"));
  FERRY_ASSERT_OK(
      SetAttributes(src, {{"RedrivePolicy", RedrivePolicy(ArnOf("dlq"), 1)}}));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(ReceiveBodies(dlq), IsOkAndHolds(ElementsAre("m")));
}

TEST_P(DlqTest, EmptyRedrivePolicyRemovesIt) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK(SetAttributes(src, {{"RedrivePolicy", ""}}));
  EXPECT_THAT(GetAttributes(src, {"All"}),
              IsOkAndHolds(Not(Contains(Key("RedrivePolicy")))));
  EXPECT_THAT(GetAttributes(src, {"RedrivePolicy"}), IsOkAndHolds(IsEmpty()));

  FERRY_ASSERT_OK(Send(src, "m"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(ReceiveNow(src), IsOkAndHolds(SizeIs(1)));
  }
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(DlqTest, RedrivePolicyWithoutTargetIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateQueue("src"));
  const std::string policy = R"({"maxReceiveCount":"1000"})";
  EXPECT_THAT(SetAttributes(src, {{"RedrivePolicy", policy}}),
              AwsErrorIs("InvalidParameterValue",
                         Eq(absl::StrCat("Value ", policy,
                                         " for parameter RedrivePolicy is "
                                         "invalid. Reason: Redrive policy does "
                                         "not contain mandatory attribute: "
                                         "deadLetterTargetArn."))));
}

TEST_P(DlqTest, RedrivePolicyWithoutMaxReceiveCountIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateQueue("src"));
  const std::string policy =
      nlohmann::json{{"deadLetterTargetArn", ArnOf("dlq")}}.dump();
  EXPECT_THAT(SetAttributes(src, {{"RedrivePolicy", policy}}),
              AwsErrorIs("InvalidParameterValue",
                         Eq(absl::StrCat("Value ", policy,
                                         " for parameter RedrivePolicy is "
                                         "invalid. Reason: Redrive policy does "
                                         "not contain mandatory attribute: "
                                         "maxReceiveCount."))));
}

TEST_P(DlqTest, RedrivePolicyToMissingQueueIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateQueue("src"));
  EXPECT_THAT(
      SetAttributes(src,
                    {{"RedrivePolicy", RedrivePolicy(ArnOf("nothing"), 3)}}),
      AwsErrorIs("InvalidParameterValue",
                 HasSubstr("for parameter RedrivePolicy is invalid. Reason: "
                           "Dead letter target does not exist.")));
  EXPECT_THAT(CreateSource("src2", UrlOf("src"), 3), IsOk());
  EXPECT_THAT(CreateQueue("src3", {{"RedrivePolicy",
                                    RedrivePolicy(ArnOf("nothing"), 3)}}),
              AwsErrorIs("InvalidParameterValue",
                         HasSubstr("Dead letter target does not exist.")));
}

TEST_P(DlqTest, RedrivePolicyWithMalformedArnIsRejected) {
  const std::string policy =
      R"({"deadLetterTargetArn": "dummy", "maxReceiveCount": 42})";
  EXPECT_THAT(CreateQueue("src", {{"RedrivePolicy", policy}}),
              AwsErrorIs("InvalidParameterValue",
                         Eq(absl::StrCat("Value ", policy,
                                         " for parameter RedrivePolicy is "
                                         "invalid. Reason: Invalid value for "
                                         "deadLetterTargetArn."))));
}

TEST_P(DlqTest, DeadLetterQueueMustShareAccountAndRegion) {
  // A queue of the same name in another region and in another account.
  ferry::RequestContext other_region = ctx_;
  other_region.region = "eu-west-1";
  ferry::RequestContext other_account = ctx_;
  other_account.account = "210987654321";
  FERRY_ASSERT_OK(sqs().CreateQueue(other_region, {.queue_name = "dlq"}));
  FERRY_ASSERT_OK(sqs().CreateQueue(other_account, {.queue_name = "dlq"}));
  for (const std::string& arn :
       {std::string("arn:aws:sqs:eu-west-1:") + kAccount + ":dlq",
        absl::StrCat("arn:aws:sqs:", kRegion, ":210987654321:dlq")}) {
    SCOPED_TRACE(arn);
    EXPECT_THAT(CreateQueue("src", {{"RedrivePolicy", RedrivePolicy(arn, 3)}}),
                AwsErrorIs("InvalidParameterValue",
                           HasSubstr("Dead letter target does not exist.")));
  }
}

TEST_P(DlqTest, MaxReceiveCountIsOneToOneThousand) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateQueue("src"));
  FERRY_EXPECT_OK(
      SetAttributes(src, {{"RedrivePolicy", RedrivePolicy(ArnOf("dlq"), 1)}}));
  FERRY_EXPECT_OK(SetAttributes(
      src, {{"RedrivePolicy", RedrivePolicy(ArnOf("dlq"), 1000)}}));
  EXPECT_THAT(
      SetAttributes(src, {{"RedrivePolicy", RedrivePolicy(ArnOf("dlq"), 0)}}),
      IsInvalidValue());
  EXPECT_THAT(SetAttributes(
                  src, {{"RedrivePolicy", RedrivePolicy(ArnOf("dlq"), 1001)}}),
              IsInvalidValue());
  EXPECT_THAT(
      SetAttributes(src, {{"RedrivePolicy",
                           nlohmann::json{{"deadLetterTargetArn", ArnOf("dlq")},
                                          {"maxReceiveCount", "invalid"}}
                               .dump()}}),
      IsInvalidValue());
}

TEST_P(DlqTest, FifoQueueNeedsAFifoDeadLetterQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string standard_dlq, CreateQueue("dlq"));
  EXPECT_THAT(
      CreateSource("src.fifo", standard_dlq, 1, {{"FifoQueue", "true"}}),
      IsInvalidValue());
}

TEST_P(DlqTest, StandardQueueNeedsAStandardDeadLetterQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string fifo_dlq, CreateFifoQueue("dlq.fifo"));
  EXPECT_THAT(CreateSource("src", fifo_dlq, 1), IsInvalidValue());
}

// ---- RedriveAllowPolicy -----------------------------------------------------

TEST_P(DlqTest, RedriveAllowPolicyDenyAllRefusesEverySource) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string dlq,
      CreateQueue("dlq", {{"RedriveAllowPolicy",
                           R"({"redrivePermission":"denyAll"})"}}));
  EXPECT_THAT(CreateSource("src", dlq, 1), IsInvalidValue());
}

TEST_P(DlqTest, RedriveAllowPolicyByQueueAllowsOnlyTheListedSources) {
  const std::string allow = nlohmann::json{
      {"redrivePermission", "byQueue"},
      {"sourceQueueArns",
       {ArnOf("allowed")}}}.dump();
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string dlq, CreateQueue("dlq", {{"RedriveAllowPolicy", allow}}));
  EXPECT_THAT(CreateSource("allowed", dlq, 1), IsOk());
  EXPECT_THAT(CreateSource("other", dlq, 1), IsInvalidValue());
  FERRY_ASSERT_OK_AND_ASSIGN(std::string returned,
                             GetAttribute(dlq, "RedriveAllowPolicy"));
  EXPECT_EQ(nlohmann::json::parse(returned, nullptr, false),
            nlohmann::json::parse(allow));
}

TEST_P(DlqTest, RedriveAllowPolicyAllowAllIsTheDefault) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  EXPECT_THAT(CreateSource("a", dlq, 1), IsOk());
  FERRY_ASSERT_OK(SetAttributes(
      dlq, {{"RedriveAllowPolicy", R"({"redrivePermission":"allowAll"})"}}));
  EXPECT_THAT(CreateSource("b", dlq, 1), IsOk());
}

TEST_P(DlqTest, InvalidRedriveAllowPoliciesAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  std::vector<std::string> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(ArnOf(absl::StrCat("s", i)));
  for (const std::string& policy :
       {std::string(R"({"redrivePermission":"sometimes"})"),
        std::string("not json"),
        nlohmann::json{{"redrivePermission", "byQueue"},
                       {"sourceQueueArns", eleven}}
            .dump()}) {
    SCOPED_TRACE(policy);
    EXPECT_THAT(SetAttributes(dlq, {{"RedriveAllowPolicy", policy}}),
                IsInvalidValue());
  }
}

// ---- ListDeadLetterSourceQueues ---------------------------------------------

TEST_P(DlqTest, ListDeadLetterSourceQueuesListsEverySource) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string s1, CreateSource("s1", dlq, 50));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string s2, CreateSource("s2", dlq, 50));
  FERRY_ASSERT_OK(CreateQueue("unrelated"));
  EXPECT_THAT(sqs().ListDeadLetterSourceQueues(ctx_, {.queue_url = dlq}),
              IsOkAndHolds(testing::Field(
                  &ferry::ListDeadLetterSourceQueuesResult::queue_urls,
                  UnorderedElementsAre(s1, s2))));
}

TEST_P(DlqTest, ListDeadLetterSourceQueuesOfAPlainQueueIsEmpty) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string q, CreateQueue("q"));
  EXPECT_THAT(
      sqs().ListDeadLetterSourceQueues(ctx_, {.queue_url = q}),
      IsOkAndHolds(testing::Field(
          &ferry::ListDeadLetterSourceQueuesResult::queue_urls, IsEmpty())));
  EXPECT_THAT(
      sqs().ListDeadLetterSourceQueues(ctx_, {.queue_url = UrlOf("nothing")}),
      AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(DlqTest, ListDeadLetterSourceQueuesPages) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  std::vector<std::string> sources;
  for (int i = 0; i < 3; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::string s,
                               CreateSource(absl::StrCat("s", i), dlq, 5));
    sources.push_back(s);
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    FERRY_ASSERT_OK_AND_ASSIGN(
        ferry::ListDeadLetterSourceQueuesResult page,
        sqs().ListDeadLetterSourceQueues(
            ctx_, {.queue_url = dlq, .max_results = 2, .next_token = token}));
    EXPECT_LE(page.queue_urls.size(), 2);
    seen.insert(seen.end(), page.queue_urls.begin(), page.queue_urls.end());
    token = page.next_token;
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(seen, UnorderedElementsAreArray(sources));
}

TEST_P(DlqTest, RemovedRedrivePolicyIsNoLongerASource) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string s1, CreateSource("s1", dlq, 5));
  FERRY_ASSERT_OK(SetAttributes(s1, {{"RedrivePolicy", ""}}));
  EXPECT_THAT(
      sqs().ListDeadLetterSourceQueues(ctx_, {.queue_url = dlq}),
      IsOkAndHolds(testing::Field(
          &ferry::ListDeadLetterSourceQueuesResult::queue_urls, IsEmpty())));
}

// ---- Message move tasks -----------------------------------------------------

TEST_P(DlqTest, MoveTaskSourceMustBeADeadLetterQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string source, CreateQueue("source"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dest, CreateQueue("dest"));
  EXPECT_THAT(
      sqs().StartMessageMoveTask(ctx_, {.source_arn = ArnOf("source"),
                                        .destination_arn = ArnOf("dest")}),
      AwsErrorIs("InvalidParameterValue",
                 Eq("Source queue must be configured as a Dead Letter "
                    "Queue.")));
}

TEST_P(DlqTest, MoveTaskDestinationMustExist) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK(CreateSource("src", dlq, 1));
  absl::StatusOr<ferry::StartMessageMoveTaskResult> started =
      sqs().StartMessageMoveTask(ctx_,
                                 {.source_arn = ArnOf("dlq"),
                                  .destination_arn = ArnOf("destdoesntexist")});
  EXPECT_THAT(started, AwsErrorIs("ResourceNotFoundException",
                                  Eq("The resource that you specified for the "
                                     "DestinationArn parameter doesn't "
                                     "exist.")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(started.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->http_status, 404);
}

TEST_P(DlqTest, MoveTaskMovesEveryMessageToTheDestination) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dest, CreateQueue("dest"));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(src, {"message-1", "message-2"}));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> before,
                             ReceiveNow(dlq));
  std::set<std::string> old_ids;
  for (const ferry::Message& m : before) old_ids.insert(m.message_id);

  const int64_t started_ms = NowMillis();
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::StartMessageMoveTaskResult started,
      sqs().StartMessageMoveTask(ctx_, {.source_arn = ArnOf("dlq"),
                                        .destination_arn = ArnOf("dest")}));
  EXPECT_FALSE(started.task_handle.empty());
  FERRY_ASSERT_OK(DriveMoveTask(ArnOf("dlq")));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> moved, Drain(dest));
  EXPECT_THAT(Bodies(moved), UnorderedElementsAre("message-1", "message-2"));
  for (const ferry::Message& m : moved) {
    // Redriven messages are new messages.
    EXPECT_EQ(old_ids.count(m.message_id), 0) << m.message_id;
  }
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{0, 0, 0}));

  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListMessageMoveTasksResultEntry task,
                             LatestTask(ArnOf("dlq")));
  EXPECT_EQ(task.status, "COMPLETED");
  EXPECT_EQ(task.source_arn, ArnOf("dlq"));
  EXPECT_EQ(task.destination_arn, ArnOf("dest"));
  EXPECT_EQ(task.approximate_number_of_messages_moved, 2);
  EXPECT_EQ(task.approximate_number_of_messages_to_move, 2);
  EXPECT_EQ(task.started_timestamp, started_ms);
  EXPECT_EQ(task.task_handle, "");  // only RUNNING tasks show their handle
  EXPECT_EQ(task.failure_reason, "");
}

TEST_P(DlqTest, MoveTaskWithoutDestinationReturnsMessagesToTheirSources) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string s1, CreateSource("s1", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string s2, CreateSource("s2", dlq, 1));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(s1, {"s1-a", "s1-b"}));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(s2, {"s2-a", "s2-b"}));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{4, 0, 0}));

  FERRY_ASSERT_OK(
      sqs().StartMessageMoveTask(ctx_, {.source_arn = ArnOf("dlq")}));
  FERRY_ASSERT_OK(DriveMoveTask(ArnOf("dlq")));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> back1, Drain(s1));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> back2, Drain(s2));
  EXPECT_THAT(Bodies(back1), UnorderedElementsAre("s1-a", "s1-b"));
  EXPECT_THAT(Bodies(back2), UnorderedElementsAre("s2-a", "s2-b"));
  EXPECT_THAT(GetCounts(dlq), IsOkAndHolds(Counts{0, 0, 0}));

  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListMessageMoveTasksResultEntry task,
                             LatestTask(ArnOf("dlq")));
  EXPECT_EQ(task.status, "COMPLETED");
  EXPECT_EQ(task.destination_arn, "");
  EXPECT_EQ(task.approximate_number_of_messages_moved, 4);
  EXPECT_EQ(task.approximate_number_of_messages_to_move, 4);
}

TEST_P(DlqTest, RedrivenMessageStartsOverAsANewMessage) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageResult sent,
      sqs().SendMessage(ctx_,
                        {.queue_url = src,
                         .message_body = "again",
                         .message_attributes = {{"Foo", StringAttr("Bar")}}}));
  FERRY_ASSERT_OK(ReceiveNow(src));
  FERRY_ASSERT_OK(ReceiveNow(src));
  FERRY_ASSERT_OK(
      sqs().StartMessageMoveTask(ctx_, {.source_arn = ArnOf("dlq")}));
  FERRY_ASSERT_OK(DriveMoveTask(ArnOf("dlq")));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> back,
                             ReceiveNow(src, 10, {"All"}));
  ASSERT_THAT(back, SizeIs(1));
  EXPECT_NE(back[0].message_id, sent.message_id);
  EXPECT_EQ(back[0].body, "again");
  EXPECT_THAT(back[0].message_attributes,
              ElementsAre(Pair("Foo", StringAttr("Bar"))));
  EXPECT_THAT(back[0].attributes,
              Contains(Pair("ApproximateReceiveCount", "1")));
}

TEST_P(DlqTest, MoveTaskRespectsItsRate) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dest, CreateQueue("dest"));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(
      src, {"message-0", "message-1", "message-2", "message-3"}));
  FERRY_ASSERT_OK(sqs().StartMessageMoveTask(
      ctx_, {.source_arn = ArnOf("dlq"),
             .destination_arn = ArnOf("dest"),
             .max_number_of_messages_per_second = 1}));

  FERRY_ASSERT_OK_AND_ASSIGN(int seconds, DriveMoveTask(ArnOf("dlq")));
  // One message a second: the last of four moves at least 3 seconds in.
  EXPECT_GE(seconds, 3);
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> moved, Drain(dest));
  EXPECT_THAT(Bodies(moved), UnorderedElementsAre("message-0", "message-1",
                                                  "message-2", "message-3"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListMessageMoveTasksResultEntry task,
                             LatestTask(ArnOf("dlq")));
  EXPECT_EQ(task.status, "COMPLETED");
  EXPECT_EQ(task.max_number_of_messages_per_second, 1);
}

TEST_P(DlqTest, RunningTaskIsListedWithItsHandle) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK(CreateQueue("dest"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back(absl::StrCat("message-", i));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(src, bodies));

  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::StartMessageMoveTaskResult started,
      sqs().StartMessageMoveTask(ctx_,
                                 {.source_arn = ArnOf("dlq"),
                                  .destination_arn = ArnOf("dest"),
                                  .max_number_of_messages_per_second = 1}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListMessageMoveTasksResultEntry task,
                             LatestTask(ArnOf("dlq")));
  EXPECT_EQ(task.status, "RUNNING");
  EXPECT_EQ(task.task_handle, started.task_handle);
  EXPECT_EQ(task.approximate_number_of_messages_to_move, 10);
  EXPECT_EQ(task.max_number_of_messages_per_second, 1);
}

TEST_P(DlqTest, OnlyOneTaskMayRunPerSource) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK(CreateQueue("dest"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back(absl::StrCat("message-", i));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(src, bodies));
  const ferry::StartMessageMoveTaskRequest request = {
      .source_arn = ArnOf("dlq"),
      .destination_arn = ArnOf("dest"),
      .max_number_of_messages_per_second = 1};
  FERRY_ASSERT_OK(sqs().StartMessageMoveTask(ctx_, request));
  EXPECT_THAT(sqs().StartMessageMoveTask(ctx_, request),
              AwsErrorIs("InvalidParameterValue",
                         Eq("There is already a task running. Only one active "
                            "task is allowed for a source queue arn at a given "
                            "time.")));
}

TEST_P(DlqTest, CancelledTaskStopsMovingAndKeepsWhatItMoved) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dest, CreateQueue("dest"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back(absl::StrCat("message-", i));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(src, bodies));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::StartMessageMoveTaskResult started,
      sqs().StartMessageMoveTask(ctx_,
                                 {.source_arn = ArnOf("dlq"),
                                  .destination_arn = ArnOf("dest"),
                                  .max_number_of_messages_per_second = 1}));
  for (int i = 0; i < 2; ++i) {
    FERRY_ASSERT_OK(broker().RunMaintenance());
    AdvanceSeconds(1);
  }
  FERRY_ASSERT_OK(broker().RunMaintenance());

  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::CancelMessageMoveTaskResult cancelled,
      sqs().CancelMessageMoveTask(ctx_, {.task_handle = started.task_handle}));
  EXPECT_GE(cancelled.approximate_number_of_messages_moved, 0);
  EXPECT_LT(cancelled.approximate_number_of_messages_moved, 10);
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListMessageMoveTasksResultEntry task,
                             LatestTask(ArnOf("dlq")));
  EXPECT_THAT(task.status, AnyOf("CANCELLING", "CANCELLED"));

  for (int i = 0; i < 20; ++i) {
    FERRY_ASSERT_OK(broker().RunMaintenance());
    AdvanceSeconds(1);
  }
  FERRY_ASSERT_OK_AND_ASSIGN(task, LatestTask(ArnOf("dlq")));
  EXPECT_EQ(task.status, "CANCELLED");
  FERRY_ASSERT_OK_AND_ASSIGN(Counts at_dest, GetCounts(dest));
  FERRY_ASSERT_OK_AND_ASSIGN(Counts at_dlq, GetCounts(dlq));
  EXPECT_EQ(at_dest.visible, task.approximate_number_of_messages_moved);
  EXPECT_EQ(at_dest.visible + at_dlq.visible, 10);
  EXPECT_GT(at_dlq.visible, 0);  // moved messages are not reverted, rest stay
}

TEST_P(DlqTest, CancelWithMalformedHandleFails) {
  EXPECT_THAT(sqs().CancelMessageMoveTask(ctx_, {.task_handle = "foobared"}),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Value for parameter TaskHandle is invalid.")));
}

TEST_P(DlqTest, CancelOfUnknownTaskFails) {
  // A well-formed handle for this source, made by another broker: no task of
  // this broker has it.
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK(CreateSource("src", dlq, 1));
  std::string foreign_handle;
  {
    ferry_testing::SequentialIdSource ids(1000);
    ferry_testing::ManualExecutor executor;
    ferry::BrokerOptions options;
    options.clock = &clock_;
    options.ids = &ids;
    options.executor = &executor;
    options.default_account = kAccount;
    options.default_region = kRegion;
    FERRY_ASSERT_OK_AND_ASSIGN(std::unique_ptr<ferry::Broker> other,
                               ferry::Broker::Open(options, GetParam().make()));
    FERRY_ASSERT_OK(other->sqs().CreateQueue(ctx_, {.queue_name = "dlq"}));
    FERRY_ASSERT_OK(other->sqs().CreateQueue(
        ctx_,
        {.queue_name = "src",
         .attributes = {{"RedrivePolicy", RedrivePolicy(ArnOf("dlq"), 1)}}}));
    FERRY_ASSERT_OK_AND_ASSIGN(
        ferry::StartMessageMoveTaskResult started,
        other->sqs().StartMessageMoveTask(ctx_, {.source_arn = ArnOf("dlq")}));
    foreign_handle = started.task_handle;
  }
  absl::StatusOr<ferry::CancelMessageMoveTaskResult> cancelled =
      sqs().CancelMessageMoveTask(ctx_, {.task_handle = foreign_handle});
  EXPECT_THAT(cancelled, AwsErrorIs("ResourceNotFoundException",
                                    Eq("Task does not exist.")));
  std::optional<ferry::AwsErrorInfo> aws =
      ferry::GetAwsError(cancelled.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->http_status, 404);
}

TEST_P(DlqTest, DeletingTheDestinationFailsTheTask) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string src, CreateSource("src", dlq, 1));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dest, CreateQueue("dest"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back(absl::StrCat("message-", i));
  ASSERT_NO_FATAL_FAILURE(SendAndDeadLetter(src, bodies));
  FERRY_ASSERT_OK(sqs().StartMessageMoveTask(
      ctx_, {.source_arn = ArnOf("dlq"),
             .destination_arn = ArnOf("dest"),
             .max_number_of_messages_per_second = 1}));
  FERRY_ASSERT_OK(broker().RunMaintenance());
  FERRY_ASSERT_OK(sqs().DeleteQueue(ctx_, {.queue_url = dest}));

  FERRY_ASSERT_OK(DriveMoveTask(ArnOf("dlq")));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListMessageMoveTasksResultEntry task,
                             LatestTask(ArnOf("dlq")));
  EXPECT_EQ(task.status, "FAILED");
  EXPECT_EQ(task.failure_reason, "AWS.SimpleQueueService.NonExistentQueue");
  FERRY_ASSERT_OK_AND_ASSIGN(Counts left, GetCounts(dlq));
  EXPECT_GT(left.visible, 0);
}

TEST_P(DlqTest, MoveTaskRateIsAtMostFiveHundred) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string dlq, CreateQueue("dlq"));
  FERRY_ASSERT_OK(CreateSource("src", dlq, 1));
  EXPECT_THAT(sqs().StartMessageMoveTask(
                  ctx_, {.source_arn = ArnOf("dlq"),
                         .max_number_of_messages_per_second = 501}),
              AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(sqs().StartMessageMoveTask(
                  ctx_, {.source_arn = ArnOf("dlq"),
                         .max_number_of_messages_per_second = 500}),
              IsOk());
}

TEST_P(DlqTest, MoveTaskOfMissingSourceFails) {
  EXPECT_THAT(
      sqs().StartMessageMoveTask(ctx_, {.source_arn = ArnOf("nothing")}),
      AwsErrorIs("ResourceNotFoundException", HasSubstr("SourceArn")));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, DlqTest, testing::ValuesIn(AllBackends()),
                         BackendName);

}  // namespace
}  // namespace ferry_conformance
