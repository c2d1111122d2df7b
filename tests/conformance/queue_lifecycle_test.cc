// CreateQueue, GetQueueUrl, ListQueues and DeleteQueue: idempotent creation,
// queue-name rules, URL and ARN formats, and (account, region) scoping.
// Reference: sqs.md §1.1, §1.2, §1.4.

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
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

constexpr char kBadNameText[] =
    "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
    "80 in length";

class QueueLifecycleTest : public ConformanceTest {
 protected:
  absl::StatusOr<std::vector<std::string>> ListAll(
      const ferry::RequestContext& ctx, const std::string& prefix = "") {
    absl::StatusOr<ferry::ListQueuesResult> result =
        sqs().ListQueues(ctx, {.queue_name_prefix = prefix});
    if (!result.ok()) return result.status();
    return result->queue_urls;
  }
};

// ---- URLs and ARNs ----------------------------------------------------------

TEST_P(QueueLifecycleTest, CreateQueueReturnsUrlOfEndpointAccountAndName) {
  EXPECT_THAT(CreateQueue("orders"),
              IsOkAndHolds("http://localhost:4566/123456789012/orders"));
}

TEST_P(QueueLifecycleTest, EmptyEndpointGivesAwsUrlForm) {
  ferry::RequestContext aws_ctx = ctx_;
  aws_ctx.endpoint = "";
  EXPECT_THAT(sqs().CreateQueue(aws_ctx, {.queue_name = "orders"}),
              IsOkAndHolds(testing::Field(
                  &ferry::CreateQueueResult::queue_url,
                  "https://sqs.us-east-1.amazonaws.com/123456789012/orders")));
}

TEST_P(QueueLifecycleTest, QueueArnNamesRegionAccountAndName) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  EXPECT_THAT(QueueArn(url),
              IsOkAndHolds("arn:aws:sqs:us-east-1:123456789012:orders"));
}

TEST_P(QueueLifecycleTest, FifoQueueUrlAndArnKeepTheFifoSuffix) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("jobs.fifo"));
  EXPECT_EQ(url, "http://localhost:4566/123456789012/jobs.fifo");
  EXPECT_THAT(QueueArn(url),
              IsOkAndHolds("arn:aws:sqs:us-east-1:123456789012:jobs.fifo"));
}

TEST_P(QueueLifecycleTest, QueueUrlOfAnyHostNamesTheSameQueue) {
  // The queue is named by the account and name in the URL's path; the AWS
  // form and the legacy form are both accepted.
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  FERRY_ASSERT_OK(Send(
      "https://sqs.us-east-1.amazonaws.com/123456789012/orders", "aws-form"));
  FERRY_ASSERT_OK(
      Send("https://us-east-1.queue.amazonaws.com/123456789012/orders",
           "legacy-form"));
  EXPECT_THAT(ReceiveBodies(url),
              IsOkAndHolds(UnorderedElementsAre("aws-form", "legacy-form")));
}

// ---- Idempotent creation ----------------------------------------------------

TEST_P(QueueLifecycleTest, CreateQueueTwiceWithoutAttributesReturnsSameUrl) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  EXPECT_THAT(CreateQueue("orders"), IsOkAndHolds(url));
}

TEST_P(QueueLifecycleTest, CreateQueueWithSameAttributesReturnsSameUrl) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateQueue("orders", {{"VisibilityTimeout", "69"}}));
  EXPECT_THAT(CreateQueue("orders", {{"VisibilityTimeout", "69"}}),
              IsOkAndHolds(url));
}

TEST_P(QueueLifecycleTest, CreateQueueWithoutAttributesMatchesCustomizedQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("orders", {{"VisibilityTimeout", "69"},
                             {"ReceiveMessageWaitTimeSeconds", "1"}}));
  EXPECT_THAT(CreateQueue("orders"), IsOkAndHolds(url));
}

TEST_P(QueueLifecycleTest, CreateQueueWithExplicitDefaultMatchesDefaultQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  EXPECT_THAT(CreateQueue("orders", {{"VisibilityTimeout", "30"}}),
              IsOkAndHolds(url));
}

TEST_P(QueueLifecycleTest, CreateQueueComparesOnlyTheSuppliedAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("orders", {{"ReceiveMessageWaitTimeSeconds", "1"},
                             {"DelaySeconds", "1"}}));
  EXPECT_THAT(CreateQueue("orders", {{"DelaySeconds", "1"}}),
              IsOkAndHolds(url));
}

TEST_P(QueueLifecycleTest, CreateQueueWithDifferentAttributeFails) {
  FERRY_ASSERT_OK(CreateQueue("orders", {{"ReceiveMessageWaitTimeSeconds", "1"},
                                         {"DelaySeconds", "1"}}));
  absl::StatusOr<std::string> again = CreateQueue(
      "orders",
      {{"ReceiveMessageWaitTimeSeconds", "1"}, {"DelaySeconds", "2"}});
  EXPECT_THAT(again, AwsErrorIs("QueueNameExists",
                                Eq("A queue already exists with the same name "
                                   "and a different value for attribute "
                                   "DelaySeconds")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(again.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->shape, "QueueNameExists");
  EXPECT_EQ(aws->query_code, "QueueAlreadyExists");
  EXPECT_EQ(aws->http_status, 400);
  EXPECT_TRUE(aws->sender_fault);
}

TEST_P(QueueLifecycleTest, CreateQueueComparesAgainstCurrentValues) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url,
      CreateQueue("orders", {{"ReceiveMessageWaitTimeSeconds", "1"},
                             {"DelaySeconds", "1"}}));
  FERRY_ASSERT_OK(SetAttributes(url, {{"DelaySeconds", "2"}}));

  EXPECT_THAT(CreateQueue("orders", {{"ReceiveMessageWaitTimeSeconds", "1"},
                                     {"DelaySeconds", "2"}}),
              IsOkAndHolds(url));
  EXPECT_THAT(CreateQueue("orders", {{"ReceiveMessageWaitTimeSeconds", "1"},
                                     {"DelaySeconds", "1"}}),
              AwsErrorIs("QueueAlreadyExists",
                         HasSubstr("different value for attribute "
                                   "DelaySeconds")));
}

TEST_P(QueueLifecycleTest, CreateFifoQueueTwiceWithSameAttributesSucceeds) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateFifoQueue("jobs.fifo"));
  EXPECT_THAT(CreateFifoQueue("jobs.fifo"), IsOkAndHolds(url));
}

TEST_P(QueueLifecycleTest, CreateFifoQueueWithDifferentDeduplicationFails) {
  FERRY_ASSERT_OK(
      CreateFifoQueue("jobs.fifo", {{"ContentBasedDeduplication", "true"}}));
  EXPECT_THAT(
      CreateFifoQueue("jobs.fifo", {{"ContentBasedDeduplication", "false"}}),
      AwsErrorIs("QueueNameExists"));
}

TEST_P(QueueLifecycleTest, CreateQueueAfterMessagesChangeCountersSucceeds) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  FERRY_ASSERT_OK(Send(url, "a"));
  FERRY_ASSERT_OK(sqs().SendMessage(
      ctx_, {.queue_url = url, .message_body = "b", .delay_seconds = 5}));
  EXPECT_THAT(CreateQueue("orders"), IsOkAndHolds(url));
}

// ---- Queue names ------------------------------------------------------------

TEST_P(QueueLifecycleTest, NameOfAlphanumericsHyphensAndUnderscoresIsValid) {
  EXPECT_THAT(CreateQueue("Az09_-queue"), IsOk());
  EXPECT_THAT(CreateQueue("q"), IsOk());
}

TEST_P(QueueLifecycleTest, NameOfEightyCharactersIsValid) {
  EXPECT_THAT(CreateQueue(std::string(80, 'a')), IsOk());
}

TEST_P(QueueLifecycleTest, NameOfEightyOneCharactersIsInvalid) {
  EXPECT_THAT(CreateQueue(std::string(81, 'a')),
              AwsErrorIs("InvalidParameterValue", HasSubstr(kBadNameText)));
}

TEST_P(QueueLifecycleTest, NameWithOtherCharactersIsInvalid) {
  for (const char* name : {"bad name", "bad.name", "bad/name", "bad:name",
                           "b\xc3\xa4"
                           "d",
                           "queue*"}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(CreateQueue(name),
                AwsErrorIs("InvalidParameterValue", HasSubstr(kBadNameText)));
  }
}

TEST_P(QueueLifecycleTest, EmptyNameIsRejected) {
  EXPECT_THAT(CreateQueue(""), Not(IsOk()));
}

TEST_P(QueueLifecycleTest, NamesAreCaseSensitive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string lower, CreateQueue("orders"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string upper, CreateQueue("Orders"));
  EXPECT_NE(lower, upper);
  FERRY_ASSERT_OK(Send(upper, "for-upper"));
  EXPECT_THAT(ReceiveBodies(lower), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "ORDERS"}),
              AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(QueueLifecycleTest, FifoNameOfEightyCharactersIncludingSuffixIsValid) {
  EXPECT_THAT(CreateFifoQueue(std::string(75, 'a') + ".fifo"), IsOk());
}

TEST_P(QueueLifecycleTest, FifoSuffixCountsTowardTheEightyCharacters) {
  EXPECT_THAT(CreateFifoQueue(std::string(76, 'a') + ".fifo"),
              AwsErrorIs("InvalidParameterValue"));
}

TEST_P(QueueLifecycleTest, FifoQueueWithoutFifoSuffixIsInvalid) {
  EXPECT_THAT(CreateQueue("jobs", {{"FifoQueue", "true"}}),
              AwsErrorIs("InvalidParameterValue"));
}

TEST_P(QueueLifecycleTest, StandardQueueWithFifoSuffixIsInvalid) {
  EXPECT_THAT(CreateQueue("jobs.fifo"), AwsErrorIs("InvalidParameterValue"));
}

// ---- GetQueueUrl ------------------------------------------------------------

TEST_P(QueueLifecycleTest, GetQueueUrlReturnsTheCreatedUrl) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "orders"}),
              IsOkAndHolds(Field(&ferry::GetQueueUrlResult::queue_url, url)));
}

TEST_P(QueueLifecycleTest, GetQueueUrlOfMissingQueueFails) {
  absl::StatusOr<ferry::GetQueueUrlResult> result =
      sqs().GetQueueUrl(ctx_, {.queue_name = "nothing"});
  EXPECT_THAT(result, AwsErrorIs("QueueDoesNotExist",
                                 HasSubstr("The specified queue does not "
                                           "exist")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(result.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->query_code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(aws->http_status, 400);
}

TEST_P(QueueLifecycleTest, GetQueueUrlWithOwnerFindsAnotherAccountsQueue) {
  ferry::RequestContext other = ctx_;
  other.account = "210987654321";
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::CreateQueueResult created,
      sqs().CreateQueue(other, {.queue_name = "shared"}));
  EXPECT_EQ(created.queue_url, "http://localhost:4566/210987654321/shared");

  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "shared"}),
              AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(
      sqs().GetQueueUrl(ctx_, {.queue_name = "shared",
                               .queue_owner_aws_account_id = "210987654321"}),
      IsOkAndHolds(
          Field(&ferry::GetQueueUrlResult::queue_url, created.queue_url)));
}

// ---- ListQueues -------------------------------------------------------------

TEST_P(QueueLifecycleTest, ListQueuesWithNoQueuesIsEmpty) {
  EXPECT_THAT(ListAll(ctx_), IsOkAndHolds(IsEmpty()));
}

TEST_P(QueueLifecycleTest, ListQueuesFiltersByCaseSensitivePrefix) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string a1, CreateQueue("a-queue-1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string a2, CreateQueue("a-queue-2"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string b1, CreateQueue("b-queue-1"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string upper, CreateQueue("A-queue-3"));

  EXPECT_THAT(ListAll(ctx_, "a-queue-"),
              IsOkAndHolds(UnorderedElementsAre(a1, a2)));
  EXPECT_THAT(ListAll(ctx_, "b-"), IsOkAndHolds(ElementsAre(b1)));
  EXPECT_THAT(ListAll(ctx_, "A-"), IsOkAndHolds(ElementsAre(upper)));
  EXPECT_THAT(ListAll(ctx_),
              IsOkAndHolds(UnorderedElementsAre(a1, a2, b1, upper)));
  EXPECT_THAT(ListAll(ctx_, "c"), IsOkAndHolds(IsEmpty()));
}

TEST_P(QueueLifecycleTest, ListQueuesWithoutMaxResultsHasNoNextToken) {
  for (int i = 0; i < 3; ++i) {
    FERRY_ASSERT_OK(CreateQueue(absl::StrCat("q", i)));
  }
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListQueuesResult result,
                             sqs().ListQueues(ctx_, {}));
  EXPECT_EQ(result.queue_urls.size(), 3);
  EXPECT_EQ(result.next_token, "");
}

TEST_P(QueueLifecycleTest, ListQueuesPagesWithMaxResultsAndNextToken) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(std::string url,
                               CreateQueue(absl::StrCat("page-", i)));
    created.push_back(url);
  }
  FERRY_ASSERT_OK(CreateQueue("other"));

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    FERRY_ASSERT_OK_AND_ASSIGN(
        ferry::ListQueuesResult page,
        sqs().ListQueues(ctx_, {.queue_name_prefix = "page-",
                                .max_results = 2,
                                .next_token = token}));
    EXPECT_LE(page.queue_urls.size(), 2);
    seen.insert(seen.end(), page.queue_urls.begin(), page.queue_urls.end());
    token = page.next_token;
    ASSERT_LT(++pages, 10) << "pagination does not end";
  } while (!token.empty());

  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, UnorderedElementsAreArray(created));
}

TEST_P(QueueLifecycleTest, ListQueuesLastPageHasNoNextToken) {
  FERRY_ASSERT_OK(CreateQueue("q1"));
  FERRY_ASSERT_OK(CreateQueue("q2"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::ListQueuesResult page,
                             sqs().ListQueues(ctx_, {.max_results = 5}));
  EXPECT_EQ(page.queue_urls.size(), 2);
  EXPECT_EQ(page.next_token, "");
}

TEST_P(QueueLifecycleTest, ListQueuesMaxResultsMustBeOneToOneThousand) {
  EXPECT_THAT(sqs().ListQueues(ctx_, {.max_results = 1000}), IsOk());
  EXPECT_THAT(sqs().ListQueues(ctx_, {.max_results = 0}),
              AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(sqs().ListQueues(ctx_, {.max_results = 1001}),
              AwsErrorIs("InvalidParameterValue"));
}

// ---- DeleteQueue ------------------------------------------------------------

TEST_P(QueueLifecycleTest, DeletedQueueNoLongerExists) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  FERRY_ASSERT_OK(Send(url, "pending"));
  FERRY_ASSERT_OK(Receive(url, 1));
  FERRY_ASSERT_OK(Send(url, "visible"));

  FERRY_ASSERT_OK(sqs().DeleteQueue(ctx_, {.queue_url = url}));

  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "orders"}),
              AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(Send(url, "late"), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(Receive(url), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(GetAttributes(url, {"All"}), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(ListAll(ctx_), IsOkAndHolds(IsEmpty()));
}

TEST_P(QueueLifecycleTest, DeleteQueueOfMissingQueueFails) {
  EXPECT_THAT(sqs().DeleteQueue(ctx_, {.queue_url = UrlOf("nothing")}),
              AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(QueueLifecycleTest, RecreatedQueueStartsEmptyWhenNotStrict) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  FERRY_ASSERT_OK(Send(url, "old"));
  FERRY_ASSERT_OK(sqs().DeleteQueue(ctx_, {.queue_url = url}));

  EXPECT_THAT(CreateQueue("orders"), IsOkAndHolds(url));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(QueueLifecycleTest, ReceiptOfDeletedQueueIsInvalidForItsSuccessor) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("orders"));
  FERRY_ASSERT_OK(Send(url, "old"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url, 1));
  ASSERT_EQ(got.size(), 1);
  FERRY_ASSERT_OK(sqs().DeleteQueue(ctx_, {.queue_url = url}));
  FERRY_ASSERT_OK(CreateQueue("orders"));

  EXPECT_THAT(Delete(url, got[0].receipt_handle),
              AwsErrorIs("ReceiptHandleIsInvalid"));
}

// ---- Account and region scoping ---------------------------------------------

TEST_P(QueueLifecycleTest, SameNameInTwoRegionsGivesIndependentQueues) {
  ferry::RequestContext west = ctx_;
  west.region = "eu-central-1";
  FERRY_ASSERT_OK_AND_ASSIGN(std::string east_url, CreateQueue("orders"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::CreateQueueResult west_created,
                             sqs().CreateQueue(west, {.queue_name = "orders"}));
  const std::string& west_url = west_created.queue_url;

  FERRY_ASSERT_OK(Send(east_url, "east"));
  FERRY_ASSERT_OK(
      sqs().SendMessage(west, {.queue_url = west_url, .message_body = "west"}));

  EXPECT_THAT(ReceiveBodies(east_url), IsOkAndHolds(ElementsAre("east")));
  EXPECT_THAT(
      sqs().ReceiveMessage(west, {.queue_url = west_url,
                                  .max_number_of_messages = 10,
                                  .wait_time_seconds = 0}),
      IsOkAndHolds(Field(&ferry::ReceiveMessageResult::messages,
                         ElementsAre(Field(&ferry::Message::body, "west")))));

  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::GetQueueAttributesResult west_attrs,
      sqs().GetQueueAttributes(
          west, {.queue_url = west_url, .attribute_names = {"QueueArn"}}));
  EXPECT_EQ(west_attrs.attributes["QueueArn"],
            "arn:aws:sqs:eu-central-1:123456789012:orders");
  EXPECT_THAT(QueueArn(east_url),
              IsOkAndHolds("arn:aws:sqs:us-east-1:123456789012:orders"));
}

TEST_P(QueueLifecycleTest, QueuesOfOneRegionAreNotListedInAnother) {
  ferry::RequestContext west = ctx_;
  west.region = "eu-central-1";
  FERRY_ASSERT_OK_AND_ASSIGN(std::string east_url, CreateQueue("east-only"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::CreateQueueResult west_created,
      sqs().CreateQueue(west, {.queue_name = "west-only"}));

  EXPECT_THAT(ListAll(ctx_), IsOkAndHolds(ElementsAre(east_url)));
  EXPECT_THAT(ListAll(west), IsOkAndHolds(ElementsAre(west_created.queue_url)));
  EXPECT_THAT(sqs().GetQueueUrl(west, {.queue_name = "east-only"}),
              AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(QueueLifecycleTest, SameNameInTwoAccountsGivesIndependentQueues) {
  ferry::RequestContext other = ctx_;
  other.account = "210987654321";
  FERRY_ASSERT_OK_AND_ASSIGN(std::string mine, CreateQueue("orders"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::CreateQueueResult theirs,
      sqs().CreateQueue(other, {.queue_name = "orders"}));
  EXPECT_NE(mine, theirs.queue_url);

  FERRY_ASSERT_OK(sqs().SendMessage(
      other, {.queue_url = theirs.queue_url, .message_body = "theirs"}));
  EXPECT_THAT(ReceiveBodies(mine), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(ListAll(ctx_), IsOkAndHolds(ElementsAre(mine)));
  EXPECT_THAT(ListAll(other), IsOkAndHolds(ElementsAre(theirs.queue_url)));

  FERRY_ASSERT_OK(sqs().DeleteQueue(other, {.queue_url = theirs.queue_url}));
  EXPECT_THAT(sqs().GetQueueUrl(ctx_, {.queue_name = "orders"}),
              IsOkAndHolds(Field(&ferry::GetQueueUrlResult::queue_url, mine)));
}

TEST_P(QueueLifecycleTest, EmptyContextUsesTheBrokerDefaults) {
  // The fixture's broker defaults to the fixture's account and region.
  ferry::RequestContext defaults;
  defaults.endpoint = kEndpoint;
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::CreateQueueResult created,
      sqs().CreateQueue(defaults, {.queue_name = "dflt"}));
  EXPECT_EQ(created.queue_url, UrlOf("dflt"));
  EXPECT_THAT(QueueArn(created.queue_url), IsOkAndHolds(ArnOf("dflt")));
}

TEST_P(QueueLifecycleTest, NativeAndAwsShapedLevelsShareQueues) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("shared"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Queue queue, broker().GetQueue("shared"));
  EXPECT_EQ(queue.arn(), ArnOf("shared"));
  FERRY_ASSERT_OK(queue.Send("native"));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre("native")));
  EXPECT_THAT(broker().ListQueues(), IsOkAndHolds(ElementsAre("shared")));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, QueueLifecycleTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
