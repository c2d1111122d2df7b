#include "ferry/errors.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_macros.h"
#include "tests/testing/status_matchers.h"

namespace ferry {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::ferry_testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

struct Expected {
  AwsService service;
  const char* shape;
  const char* query_code;
  int http_status;
  absl::StatusCode code;
};

class AwsErrorTableTest : public ::testing::TestWithParam<Expected> {};

TEST_P(AwsErrorTableTest, RoundTripsThroughStatus) {
  const Expected& e = GetParam();
  std::optional<AwsErrorInfo> info = FindAwsError(e.service, e.shape);
  ASSERT_TRUE(info.has_value()) << e.shape;
  EXPECT_EQ(info->shape, e.shape);
  EXPECT_EQ(info->query_code, e.query_code);
  EXPECT_EQ(info->http_status, e.http_status);
  EXPECT_EQ(info->sender_fault, e.http_status < 500);

  absl::Status status = AwsError(e.service, e.shape, "some text");
  EXPECT_EQ(status.code(), e.code) << e.shape;
  EXPECT_EQ(status.message(), "some text");
  std::optional<AwsErrorInfo> back = GetAwsError(status);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->service, e.service);
  EXPECT_EQ(back->shape, e.shape);
  EXPECT_EQ(back->query_code, e.query_code);
  EXPECT_EQ(back->http_status, e.http_status);
}

constexpr auto kSqs = AwsService::kSqs;
constexpr auto kSns = AwsService::kSns;
constexpr auto kKinesis = AwsService::kKinesis;
using C = absl::StatusCode;

INSTANTIATE_TEST_SUITE_P(
    Sqs, AwsErrorTableTest,
    ::testing::Values(
        Expected{kSqs, "QueueDoesNotExist",
                 "AWS.SimpleQueueService.NonExistentQueue", 400, C::kNotFound},
        Expected{kSqs, "QueueNameExists", "QueueAlreadyExists", 400,
                 C::kAlreadyExists},
        Expected{kSqs, "PurgeQueueInProgress",
                 "AWS.SimpleQueueService.PurgeQueueInProgress", 403,
                 C::kResourceExhausted},
        Expected{kSqs, "OverLimit", "OverLimit", 403, C::kResourceExhausted},
        Expected{kSqs, "ResourceNotFoundException", "ResourceNotFoundException",
                 404, C::kNotFound},
        Expected{kSqs, "MissingRequiredParameterException", "MissingParameter",
                 400, C::kInvalidArgument},
        Expected{kSqs, "InvalidParameterValueException",
                 "InvalidParameterValue", 400, C::kInvalidArgument},
        Expected{kSqs, "InvalidAttributeName", "InvalidAttributeName", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "InvalidAttributeValue", "InvalidAttributeValue", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "InvalidMessageContents", "InvalidMessageContents", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "TooManyEntriesInBatchRequest",
                 "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "EmptyBatchRequest",
                 "AWS.SimpleQueueService.EmptyBatchRequest", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "BatchEntryIdsNotDistinct",
                 "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "InvalidBatchEntryId",
                 "AWS.SimpleQueueService.InvalidBatchEntryId", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "BatchRequestTooLong",
                 "AWS.SimpleQueueService.BatchRequestTooLong", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "MessageNotInflight",
                 "AWS.SimpleQueueService.MessageNotInflight", 400,
                 C::kFailedPrecondition},
        Expected{kSqs, "UnsupportedOperation",
                 "AWS.SimpleQueueService.UnsupportedOperation", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "QueueDeletedRecently",
                 "AWS.SimpleQueueService.QueueDeletedRecently", 400,
                 C::kFailedPrecondition},
        Expected{kSqs, "RequestThrottled", "RequestThrottled", 400,
                 C::kResourceExhausted},
        Expected{kSqs, "InvalidAddress", "InvalidAddress", 400,
                 C::kInvalidArgument},
        Expected{kSqs, "InvalidSecurity", "InvalidSecurity", 400,
                 C::kPermissionDenied},
        Expected{kSqs, "InternalFailure", "InternalFailure", 500, C::kInternal},
        Expected{kSqs, "ServiceUnavailable", "ServiceUnavailable", 503,
                 C::kUnavailable},
        Expected{kSqs, "AccessDenied", "AccessDenied", 403,
                 C::kPermissionDenied}));

INSTANTIATE_TEST_SUITE_P(
    Sns, AwsErrorTableTest,
    ::testing::Values(
        Expected{kSns, "NotFoundException", "NotFound", 404, C::kNotFound},
        Expected{kSns, "ResourceNotFoundException", "ResourceNotFound", 404,
                 C::kNotFound},
        Expected{kSns, "InvalidParameterException", "InvalidParameter", 400,
                 C::kInvalidArgument},
        Expected{kSns, "InvalidParameterValueException",
                 "ParameterValueInvalid", 400, C::kInvalidArgument},
        Expected{kSns, "AuthorizationErrorException", "AuthorizationError", 403,
                 C::kPermissionDenied},
        Expected{kSns, "InternalErrorException", "InternalError", 500,
                 C::kInternal},
        Expected{kSns, "EndpointDisabledException", "EndpointDisabled", 400,
                 C::kFailedPrecondition},
        Expected{kSns, "FilterPolicyLimitExceededException",
                 "FilterPolicyLimitExceeded", 403, C::kResourceExhausted},
        Expected{kSns, "SubscriptionLimitExceededException",
                 "SubscriptionLimitExceeded", 403, C::kResourceExhausted},
        Expected{kSns, "TopicLimitExceededException", "TopicLimitExceeded", 403,
                 C::kResourceExhausted},
        Expected{kSns, "ThrottledException", "Throttled", 429,
                 C::kResourceExhausted},
        Expected{kSns, "ValidationError", "ValidationError", 400,
                 C::kInvalidArgument},
        Expected{kSns, "ValidationException", "ValidationException", 400,
                 C::kInvalidArgument}));

INSTANTIATE_TEST_SUITE_P(
    Kinesis, AwsErrorTableTest,
    ::testing::Values(
        Expected{kKinesis, "ResourceNotFoundException",
                 "ResourceNotFoundException", 400, C::kNotFound},
        Expected{kKinesis, "ResourceInUseException", "ResourceInUseException",
                 400, C::kAlreadyExists},
        Expected{kKinesis, "InvalidArgumentException",
                 "InvalidArgumentException", 400, C::kInvalidArgument},
        Expected{kKinesis, "LimitExceededException", "LimitExceededException",
                 400, C::kResourceExhausted},
        Expected{kKinesis, "ProvisionedThroughputExceededException",
                 "ProvisionedThroughputExceededException", 400,
                 C::kResourceExhausted},
        Expected{kKinesis, "ExpiredIteratorException",
                 "ExpiredIteratorException", 400, C::kFailedPrecondition},
        Expected{kKinesis, "ExpiredNextTokenException",
                 "ExpiredNextTokenException", 400, C::kFailedPrecondition},
        Expected{kKinesis, "ValidationException", "ValidationException", 400,
                 C::kInvalidArgument},
        Expected{kKinesis, "AccessDeniedException", "AccessDeniedException",
                 400, C::kPermissionDenied},
        Expected{kKinesis, "ThrottlingException", "ThrottlingException", 400,
                 C::kResourceExhausted},
        Expected{kKinesis, "InternalFailure", "InternalFailure", 500,
                 C::kInternal}));

TEST(AwsErrorTest, SameShapeDiffersBetweenServices) {
  EXPECT_EQ(
      FindAwsError(AwsService::kSqs, "ResourceNotFoundException")->http_status,
      404);
  EXPECT_EQ(FindAwsError(AwsService::kKinesis, "ResourceNotFoundException")
                ->http_status,
            400);
  EXPECT_EQ(
      FindAwsError(AwsService::kSns, "ResourceNotFoundException")->query_code,
      "ResourceNotFound");
}

TEST(AwsErrorTest, UnknownShapeIsNotFound) {
  EXPECT_EQ(FindAwsError(AwsService::kSqs, "NoSuchError"), std::nullopt);
  EXPECT_EQ(FindAwsError(AwsService::kSqs, "ExpiredIteratorException"),
            std::nullopt);
  EXPECT_EQ(FindAwsError(AwsService::kKinesis, "QueueDoesNotExist"),
            std::nullopt);
}

TEST(AwsErrorTest, QueryCodeFindsTheSameError) {
  std::optional<AwsErrorInfo> info =
      FindAwsError(AwsService::kSqs, "AWS.SimpleQueueService.NonExistentQueue");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->shape, "QueueDoesNotExist");
  EXPECT_EQ(FindAwsError(AwsService::kSns, "NotFound")->shape,
            "NotFoundException");
  EXPECT_THAT(AwsError(AwsService::kSqs, "MissingParameter", "m"),
              AwsErrorIs("MissingRequiredParameterException"));
}

TEST(AwsErrorTest, StatusWithoutAwsErrorHasNone) {
  EXPECT_EQ(GetAwsError(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(GetAwsError(absl::NotFoundError("x")), std::nullopt);
  absl::Status garbage = absl::InternalError("x");
  garbage.SetPayload("ferry.dev/aws-error", absl::Cord("nonsense"));
  EXPECT_EQ(GetAwsError(garbage), std::nullopt);
}

TEST(AwsErrorTest, UnknownShapeBecomesInternalFailure) {
  absl::Status status = AwsError(AwsService::kSqs, "NoSuchError", "boom");
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kInternal, HasSubstr("NoSuchError")));
  EXPECT_THAT(status, AwsErrorIs("InternalFailure"));
}

TEST(AwsErrorTest, MatchersDescribeAwsErrors) {
  absl::Status status = AwsError(AwsService::kSqs, "QueueDoesNotExist",
                                 "The specified queue does not exist.");
  EXPECT_THAT(status, AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(status, AwsErrorIs("AWS.SimpleQueueService.NonExistentQueue"));
  EXPECT_THAT(status, AwsErrorIs("QueueDoesNotExist", HasSubstr("does not")));
  EXPECT_THAT(status, Not(AwsErrorIs("QueueDoesNotExist", "other")));
  EXPECT_THAT(status, Not(AwsErrorIs("QueueNameExists")));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(absl::NotFoundError("x"), Not(AwsErrorIs("QueueDoesNotExist")));
  absl::StatusOr<int> status_or = status;
  EXPECT_THAT(status_or, AwsErrorIs("QueueDoesNotExist"));
}

// ---- The status matchers and macros themselves. ---------------------------

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  FERRY_ASSIGN_OR_RETURN(int half, Half(x));
  FERRY_ASSIGN_OR_RETURN(half, Half(half));
  return half;
}

absl::Status CheckEven(int x) {
  FERRY_RETURN_IF_ERROR(Half(x));
  FERRY_RETURN_IF_ERROR(absl::OkStatus());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PropagateErrorsAndValues) {
  EXPECT_THAT(Quarter(8), IsOkAndHolds(2));
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, "odd"));
  EXPECT_THAT(CheckEven(4), IsOk());
  EXPECT_THAT(CheckEven(3), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(StatusMatchersTest, MatchStatusAndStatusOr) {
  FERRY_EXPECT_OK(absl::OkStatus());
  FERRY_ASSERT_OK(Half(2));
  FERRY_ASSERT_OK_AND_ASSIGN(int half, Half(10));
  EXPECT_EQ(half, 5);
  FERRY_ASSERT_OK_AND_ASSIGN(auto moved, absl::StatusOr<std::string>("s"));
  EXPECT_EQ(moved, "s");
  EXPECT_THAT(Half(3), Not(IsOk()));
  EXPECT_THAT(Half(4), IsOkAndHolds(::testing::Gt(1)));
  EXPECT_THAT(Half(4), Not(IsOkAndHolds(3)));
  EXPECT_THAT(Half(3), Not(IsOkAndHolds(::testing::_)));
  EXPECT_THAT(absl::NotFoundError("gone"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("go")));
  EXPECT_THAT(absl::NotFoundError("gone"),
              Not(StatusIs(absl::StatusCode::kNotFound, "other")));
  EXPECT_THAT(Half(3), Not(StatusIs(absl::StatusCode::kNotFound)));
}

}  // namespace
}  // namespace ferry
