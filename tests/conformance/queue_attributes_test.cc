// GetQueueAttributes and SetQueueAttributes (and attributes on CreateQueue):
// defaults, ranges, the exact `All` listings, names and their errors, FIFO-only
// attributes, SSE exclusivity, timestamps, and the approximate counters.
// Reference: sqs.md §1.3.

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
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

class QueueAttributesTest : public ConformanceTest {};

// ---- Listings ---------------------------------------------------------------

TEST_P(QueueAttributesTest, AllOnStandardQueueListsExactlyAwsAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  const std::string now = absl::StrCat(NowSeconds());
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(UnorderedElementsAre(
                  Pair("ApproximateNumberOfMessages", "0"),
                  Pair("ApproximateNumberOfMessagesDelayed", "0"),
                  Pair("ApproximateNumberOfMessagesNotVisible", "0"),
                  Pair("CreatedTimestamp", now), Pair("DelaySeconds", "0"),
                  Pair("LastModifiedTimestamp", now),
                  Pair("MaximumMessageSize", "1048576"),
                  Pair("MessageRetentionPeriod", "345600"),
                  Pair("QueueArn", ArnOf("std")),
                  Pair("ReceiveMessageWaitTimeSeconds", "0"),
                  Pair("SqsManagedSseEnabled", "true"),
                  Pair("VisibilityTimeout", "30"))));
}

TEST_P(QueueAttributesTest, AllOnFifoQueueAddsTheFifoAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  const std::string now = absl::StrCat(NowSeconds());
  EXPECT_THAT(
      GetAttributes(url, {"All"}),
      IsOkAndHolds(UnorderedElementsAre(
          Pair("ApproximateNumberOfMessages", "0"),
          Pair("ApproximateNumberOfMessagesDelayed", "0"),
          Pair("ApproximateNumberOfMessagesNotVisible", "0"),
          Pair("ContentBasedDeduplication", "false"),
          Pair("CreatedTimestamp", now), Pair("DeduplicationScope", "queue"),
          Pair("DelaySeconds", "0"), Pair("FifoQueue", "true"),
          Pair("FifoThroughputLimit", "perQueue"),
          Pair("LastModifiedTimestamp", now),
          Pair("MaximumMessageSize", "1048576"),
          Pair("MessageRetentionPeriod", "345600"),
          Pair("QueueArn", ArnOf("q.fifo")),
          Pair("ReceiveMessageWaitTimeSeconds", "0"),
          Pair("SqsManagedSseEnabled", "true"),
          Pair("VisibilityTimeout", "30"))));
}

TEST_P(QueueAttributesTest, NoAttributeNamesReturnsNoAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(GetAttributes(url, {}), IsOkAndHolds(IsEmpty()));
}

TEST_P(QueueAttributesTest, NamedAttributesReturnOnlyThoseAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(
      GetAttributes(url, {"QueueArn", "VisibilityTimeout"}),
      IsOkAndHolds(UnorderedElementsAre(Pair("QueueArn", ArnOf("std")),
                                        Pair("VisibilityTimeout", "30"))));
}

TEST_P(QueueAttributesTest, UnsetOptionalAttributesAreNotReturned) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(
      GetAttributes(url, {"Policy", "RedrivePolicy", "RedriveAllowPolicy",
                          "KmsMasterKeyId", "FifoQueue"}),
      IsOkAndHolds(IsEmpty()));
}

TEST_P(QueueAttributesTest, UnknownAttributeNameInGetIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(
      GetAttributes(url, {"Foobar"}),
      AwsErrorIs("InvalidAttributeName", Eq("Unknown Attribute Foobar.")));
}

TEST_P(QueueAttributesTest, AttributesOfCreateQueueAreReturned) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("std", {{"MessageRetentionPeriod", "604800"},
                          {"ReceiveMessageWaitTimeSeconds", "10"},
                          {"VisibilityTimeout", "20"}}));
  EXPECT_THAT(GetAttributes(
                  url, {"MessageRetentionPeriod",
                        "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout"}),
              IsOkAndHolds(UnorderedElementsAre(
                  Pair("MessageRetentionPeriod", "604800"),
                  Pair("ReceiveMessageWaitTimeSeconds", "10"),
                  Pair("VisibilityTimeout", "20"))));
}

TEST_P(QueueAttributesTest, SetQueueAttributesChangesOnlyTheGivenAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateQueue("std", {{"MessageRetentionPeriod", "604800"},
                                           {"VisibilityTimeout", "20"}}));
  FERRY_ASSERT_OK(SetAttributes(url, {{"MaximumMessageSize", "2048"},
                                      {"VisibilityTimeout", "69"},
                                      {"DelaySeconds", "420"}}));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(testing::AllOf(
                  Contains(Pair("MaximumMessageSize", "2048")),
                  Contains(Pair("VisibilityTimeout", "69")),
                  Contains(Pair("DelaySeconds", "420")),
                  Contains(Pair("MessageRetentionPeriod", "604800")),
                  Contains(Pair("ReceiveMessageWaitTimeSeconds", "0")))));
}

TEST_P(QueueAttributesTest, SetOnMissingQueueFails) {
  EXPECT_THAT(SetAttributes(UrlOf("nothing"), {{"VisibilityTimeout", "5"}}),
              AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(GetAttributes(UrlOf("nothing"), {"All"}),
              AwsErrorIs("QueueDoesNotExist"));
}

// ---- Names ------------------------------------------------------------------

TEST_P(QueueAttributesTest, UnknownAttributeNameInSetIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(url, {{"Foo", "1"}}),
              AwsErrorIs("InvalidAttributeName", Eq("Unknown Attribute Foo.")));
}

TEST_P(QueueAttributesTest, UnknownAttributeNameInCreateIsRejected) {
  EXPECT_THAT(CreateQueue("std", {{"Foo", "1"}}),
              AwsErrorIs("InvalidAttributeName", Eq("Unknown Attribute Foo.")));
  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "std"}),
              AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(QueueAttributesTest, AttributeNamesAreCaseSensitive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(url, {{"visibilitytimeout", "5"}}),
              AwsErrorIs("InvalidAttributeName",
                         Eq("Unknown Attribute visibilitytimeout.")));
}

TEST_P(QueueAttributesTest, ReadOnlyAttributesCannotBeSet) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  for (const char* name : {"QueueArn", "ApproximateNumberOfMessages",
                           "ApproximateNumberOfMessagesNotVisible",
                           "ApproximateNumberOfMessagesDelayed",
                           "CreatedTimestamp", "LastModifiedTimestamp"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(SetAttributes(url, {{name, "1"}}),
                AwsErrorIs("InvalidAttributeName",
                           Eq(absl::StrCat("Unknown Attribute ", name, "."))));
  }
}

// ---- Ranges -----------------------------------------------------------------

struct Range {
  const char* name;
  const char* min;
  const char* max;
  const char* below;
  const char* above;
};

constexpr Range kRanges[] = {
    {"VisibilityTimeout", "0", "43200", "-1", "43201"},
    {"MessageRetentionPeriod", "60", "1209600", "59", "1209601"},
    {"DelaySeconds", "0", "900", "-1", "901"},
    {"MaximumMessageSize", "1024", "1048576", "1023", "1048577"},
    {"ReceiveMessageWaitTimeSeconds", "0", "20", "-1", "21"},
};

TEST_P(QueueAttributesTest, AttributeBoundsAreAcceptedBySet) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  for (const Range& r : kRanges) {
    SCOPED_TRACE(r.name);
    FERRY_EXPECT_OK(SetAttributes(url, {{r.name, r.min}}));
    EXPECT_THAT(GetAttribute(url, r.name), IsOkAndHolds(r.min));
    FERRY_EXPECT_OK(SetAttributes(url, {{r.name, r.max}}));
    EXPECT_THAT(GetAttribute(url, r.name), IsOkAndHolds(r.max));
  }
}

TEST_P(QueueAttributesTest, AttributesOutOfRangeAreRejectedBySet) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  for (const Range& r : kRanges) {
    SCOPED_TRACE(r.name);
    const std::string text =
        absl::StrCat("Invalid value for the parameter ", r.name, ".");
    for (const char* bad : {r.below, r.above, "abc", "1.5"}) {
      SCOPED_TRACE(bad);
      EXPECT_THAT(SetAttributes(url, {{r.name, bad}}),
                  AwsErrorIs("InvalidAttributeValue", HasSubstr(text)));
    }
  }
  // Nothing changed.
  EXPECT_THAT(GetAttribute(url, "VisibilityTimeout"), IsOkAndHolds("30"));
  EXPECT_THAT(GetAttribute(url, "MaximumMessageSize"), IsOkAndHolds("1048576"));
}

TEST_P(QueueAttributesTest, AttributesOutOfRangeAreRejectedByCreate) {
  for (const Range& r : kRanges) {
    SCOPED_TRACE(r.name);
    EXPECT_THAT(CreateQueue("std", {{r.name, r.above}}),
                AwsErrorIs("InvalidAttributeValue",
                           HasSubstr(absl::StrCat(
                               "Invalid value for the parameter ", r.name))));
  }
  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "std"}),
              AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(QueueAttributesTest, FailedSetChangesNothing) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(
                  url, {{"VisibilityTimeout", "60"}, {"DelaySeconds", "901"}}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(GetAttribute(url, "VisibilityTimeout"), IsOkAndHolds("30"));
}

TEST_P(QueueAttributesTest, KmsDataKeyReusePeriodRangeIsSixtyToOneDay) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_EXPECT_OK(SetAttributes(url, {{"KmsMasterKeyId", "alias/ferry"},
                                      {"KmsDataKeyReusePeriodSeconds", "60"}}));
  FERRY_EXPECT_OK(
      SetAttributes(url, {{"KmsDataKeyReusePeriodSeconds", "86400"}}));
  EXPECT_THAT(SetAttributes(url, {{"KmsDataKeyReusePeriodSeconds", "59"}}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(SetAttributes(url, {{"KmsDataKeyReusePeriodSeconds", "86401"}}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(GetAttribute(url, "KmsDataKeyReusePeriodSeconds"),
              IsOkAndHolds("86400"));
}

// ---- FIFO-only attributes and the queue type --------------------------------

TEST_P(QueueAttributesTest, ContentBasedDeduplicationIsUnknownOnStandardQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(url, {{"ContentBasedDeduplication", "true"}}),
              AwsErrorIs("InvalidAttributeName",
                         Eq("Unknown Attribute ContentBasedDeduplication.")));
}

TEST_P(QueueAttributesTest, DeduplicationScopeRequiresFifoQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(url, {{"DeduplicationScope", "messageGroup"}}),
              AwsErrorIs("InvalidAttributeName",
                         Eq("You can specify the DeduplicationScope only when "
                            "FifoQueue is set to true.")));
  EXPECT_THAT(CreateQueue("std2", {{"DeduplicationScope", "queue"}}),
              AwsErrorIs("InvalidAttributeName"));
}

TEST_P(QueueAttributesTest, FifoThroughputLimitRequiresFifoQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(url, {{"FifoThroughputLimit", "perQueue"}}),
              AwsErrorIs("InvalidAttributeName",
                         Eq("You can specify the FifoThroughputLimit only when "
                            "FifoQueue is set to true.")));
  EXPECT_THAT(CreateQueue("std2", {{"FifoThroughputLimit", "perQueue"}}),
              AwsErrorIs("InvalidAttributeName"));
}

TEST_P(QueueAttributesTest, FifoQueueAttributeIsUnknownOnStandardQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  for (const char* value : {"true", "false"}) {
    SCOPED_TRACE(value);
    EXPECT_THAT(
        SetAttributes(url, {{"FifoQueue", value}}),
        AwsErrorIs("InvalidAttributeName", Eq("Unknown Attribute FifoQueue.")));
  }
}

TEST_P(QueueAttributesTest, CreatingStandardQueueWithFifoQueueFalseIsRejected) {
  EXPECT_THAT(
      CreateQueue("std", {{"FifoQueue", "false"}}),
      AwsErrorIs("InvalidAttributeName", Eq("Unknown Attribute FifoQueue.")));
}

TEST_P(QueueAttributesTest, FifoQueueTypeCannotBeChanged) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_EXPECT_OK(SetAttributes(url, {{"FifoQueue", "true"}}));
  EXPECT_THAT(SetAttributes(url, {{"FifoQueue", "false"}}),
              AwsErrorIs("InvalidAttributeValue",
                         Eq("Invalid value for the parameter FifoQueue. "
                            "Reason: Modifying queue type is not supported.")));
  EXPECT_THAT(GetAttribute(url, "FifoQueue"), IsOkAndHolds("true"));
}

TEST_P(QueueAttributesTest, ContentBasedDeduplicationIsMutableOnFifoQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateFifoQueue("q.fifo", {{"ContentBasedDeduplication", "true"}}));
  EXPECT_THAT(GetAttribute(url, "ContentBasedDeduplication"),
              IsOkAndHolds("true"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"ContentBasedDeduplication", "false"}}));
  EXPECT_THAT(GetAttribute(url, "ContentBasedDeduplication"),
              IsOkAndHolds("false"));
}

TEST_P(QueueAttributesTest, FifoAttributesAcceptOnlyTheirValues) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  EXPECT_THAT(SetAttributes(url, {{"DeduplicationScope", "everything"}}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(SetAttributes(url, {{"FifoThroughputLimit", "fast"}}),
              AwsErrorIs("InvalidAttributeValue"));
  EXPECT_THAT(SetAttributes(url, {{"ContentBasedDeduplication", "yes"}}),
              AwsErrorIs("InvalidAttributeValue"));
}

TEST_P(QueueAttributesTest, HighThroughputFifoAttributesAreAccepted) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateFifoQueue("q.fifo",
                      {{"DeduplicationScope", "messageGroup"},
                       {"FifoThroughputLimit", "perMessageGroupId"}}));
  EXPECT_THAT(GetAttributes(url, {"DeduplicationScope", "FifoThroughputLimit"}),
              IsOkAndHolds(UnorderedElementsAre(
                  Pair("DeduplicationScope", "messageGroup"),
                  Pair("FifoThroughputLimit", "perMessageGroupId"))));
}

TEST_P(QueueAttributesTest, PerMessageGroupThroughputNeedsMessageGroupScope) {
  EXPECT_THAT(
      CreateFifoQueue("q.fifo", {{"DeduplicationScope", "queue"},
                                 {"FifoThroughputLimit", "perMessageGroupId"}}),
      AwsErrorIs("InvalidAttributeValue"));
}

TEST_P(QueueAttributesTest, DeduplicationScopeCanBeChangedAfterCreation) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_EXPECT_OK(
      SetAttributes(url, {{"DeduplicationScope", "messageGroup"},
                          {"FifoThroughputLimit", "perMessageGroupId"}}));
  EXPECT_THAT(GetAttribute(url, "DeduplicationScope"),
              IsOkAndHolds("messageGroup"));
}

// ---- Server-side encryption -------------------------------------------------

TEST_P(QueueAttributesTest, SqsManagedSseCanBeTurnedOff) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"SqsManagedSseEnabled", "false"}}));
  EXPECT_THAT(GetAttribute(url, "SqsManagedSseEnabled"), IsOkAndHolds("false"));
}

TEST_P(QueueAttributesTest, KmsKeyReplacesSqsManagedSse) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"KmsMasterKeyId", "testKeyId"},
                                      {"KmsDataKeyReusePeriodSeconds", "6000"},
                                      {"SqsManagedSseEnabled", "false"}}));
  EXPECT_THAT(
      GetAttributes(url, {"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
                          "SqsManagedSseEnabled"}),
      IsOkAndHolds(
          UnorderedElementsAre(Pair("KmsMasterKeyId", "testKeyId"),
                               Pair("KmsDataKeyReusePeriodSeconds", "6000"),
                               Pair("SqsManagedSseEnabled", "false"))));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(Contains(Pair("KmsMasterKeyId", "testKeyId"))));
}

TEST_P(QueueAttributesTest, SettingKmsKeyAloneTurnsSqsManagedSseOff) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"KmsMasterKeyId", "alias/ferry"}}));
  EXPECT_THAT(GetAttribute(url, "SqsManagedSseEnabled"), IsOkAndHolds("false"));
}

TEST_P(QueueAttributesTest, KmsAndSqsManagedSseAreMutuallyExclusive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(SetAttributes(url, {{"KmsMasterKeyId", "testKeyId"},
                                  {"SqsManagedSseEnabled", "true"}}),
              AwsErrorIs("InvalidAttributeName",
                         Eq("You can use one type of server-side encryption "
                            "(SSE) at one time. You can either enable KMS SSE "
                            "or SQS SSE.")));
  EXPECT_THAT(GetAttributes(url, {"KmsMasterKeyId"}), IsOkAndHolds(IsEmpty()));
}

TEST_P(QueueAttributesTest, UnsetKmsAttributesAreNotReturned) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"SqsManagedSseEnabled", "true"}}));
  EXPECT_THAT(
      GetAttributes(url, {"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
                          "SqsManagedSseEnabled"}),
      IsOkAndHolds(UnorderedElementsAre(Pair("SqsManagedSseEnabled", "true"))));
}

// ---- Timestamps -------------------------------------------------------------

TEST_P(QueueAttributesTest, TimestampsAreEpochSeconds) {
  AdvanceSeconds(7);
  const int64_t created = NowSeconds();
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(GetAttribute(url, "CreatedTimestamp"),
              IsOkAndHolds(absl::StrCat(created)));
  EXPECT_THAT(GetAttribute(url, "LastModifiedTimestamp"),
              IsOkAndHolds(absl::StrCat(created)));
}

TEST_P(QueueAttributesTest, SetQueueAttributesUpdatesLastModifiedOnly) {
  const int64_t created = NowSeconds();
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  AdvanceSeconds(100);
  FERRY_ASSERT_OK(SetAttributes(url, {{"VisibilityTimeout", "45"}}));
  EXPECT_THAT(GetAttributes(url, {"CreatedTimestamp", "LastModifiedTimestamp"}),
              IsOkAndHolds(UnorderedElementsAre(
                  Pair("CreatedTimestamp", absl::StrCat(created)),
                  Pair("LastModifiedTimestamp", absl::StrCat(created + 100)))));
}

// ---- Counters ---------------------------------------------------------------

TEST_P(QueueAttributesTest, CountersAreExactWhenQuiescent) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));

  FERRY_ASSERT_OK(Send(url, "a"));
  FERRY_ASSERT_OK(Send(url, "b"));
  FERRY_ASSERT_OK(Send(url, "c"));
  FERRY_ASSERT_OK(sqs().SendMessage(
      ctx_, {.queue_url = url, .message_body = "later", .delay_seconds = 10}));
  // A delayed message is counted only as delayed.
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{3, 0, 1}));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got,
                             Receive(url, 1, /*visibility_timeout=*/30));
  ASSERT_EQ(got.size(), 1);
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{2, 1, 1}));

  AdvanceSeconds(10);
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{3, 1, 0}));

  FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{3, 0, 0}));
}

TEST_P(QueueAttributesTest, ExpiredVisibilityMovesCountBackToVisible) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("std"));
  FERRY_ASSERT_OK(Send(url, "a"));
  FERRY_ASSERT_OK(Receive(url, 1, /*visibility_timeout=*/5));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 1, 0}));
  AdvanceSeconds(5);
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{1, 0, 0}));
}

TEST_P(QueueAttributesTest, FifoCountersCountBlockedMessagesAsVisible) {
  // A message behind an in-flight one of its group is not in flight itself.
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("q.fifo"));
  FERRY_ASSERT_OK(SendFifo(url, "g1-m1", "1"));
  FERRY_ASSERT_OK(SendFifo(url, "g1-m2", "1"));
  FERRY_ASSERT_OK(SendFifo(url, "g1-m3", "1"));
  FERRY_ASSERT_OK(SendFifo(url, "g2-m1", "2"));
  FERRY_ASSERT_OK(SendFifo(url, "g3-m1", "3"));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{5, 0, 0}));

  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 4));
  ASSERT_EQ(got.size(), 4);
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{1, 4, 0}));
  for (const ferry::Message& m : got) {
    FERRY_ASSERT_OK(Delete(url, m.receipt_handle));
  }
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{1, 0, 0}));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, QueueAttributesTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
