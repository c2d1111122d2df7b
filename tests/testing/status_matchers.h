// gMock matchers and assertion macros for absl::Status and absl::StatusOr,
// shaped like Abseil's status_matchers.h (absent from the Abseil this project
// builds against), plus matchers for the AWS error a status carries.
//
//   EXPECT_THAT(queue.Send("m1"), IsOk());
//   EXPECT_THAT(store.GetQueue("k"), IsOkAndHolds(Field(&QueueRecord::fifo,
//   false))); EXPECT_THAT(store.GetQueue("x"),
//   StatusIs(absl::StatusCode::kNotFound)); EXPECT_THAT(s,
//   StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("10")));
//   EXPECT_THAT(s, AwsErrorIs("QueueDoesNotExist"));
//   FERRY_ASSERT_OK_AND_ASSIGN(QueueRecord q, store.CreateQueue({.key = "k"}));
//
// Every matcher accepts an absl::Status and any absl::StatusOr<T>.
//
// Thread safety: as gMock matchers.
// Errors: none.
#ifndef FERRY_TESTS_TESTING_STATUS_MATCHERS_H_
#define FERRY_TESTS_TESTING_STATUS_MATCHERS_H_

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ferry/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry_testing {
namespace status_internal {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

inline std::string MessageOf(const absl::Status& status) {
  return std::string(status.message());
}

// ---- IsOk() ----------------------------------------------------------------

template <typename T>
class IsOkMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  bool MatchAndExplain(T actual,
                       ::testing::MatchResultListener*) const override {
    return GetStatus(actual).ok();
  }
  void DescribeTo(std::ostream* os) const override { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK";
  }
};

class IsOkMatcher {
 public:
  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<T>(new IsOkMatcherImpl<T>());
  }
};

// ---- IsOkAndHolds(m) -------------------------------------------------------

template <typename StatusOrType>
class IsOkAndHoldsMatcherImpl
    : public ::testing::MatcherInterface<StatusOrType> {
 public:
  using StatusOrValue = std::remove_cv_t<std::remove_reference_t<StatusOrType>>;
  using ValueType = typename StatusOrValue::value_type;

  template <typename InnerMatcher>
  explicit IsOkAndHoldsMatcherImpl(InnerMatcher&& inner)
      : inner_(::testing::SafeMatcherCast<const ValueType&>(
            std::forward<InnerMatcher>(inner))) {}

  bool MatchAndExplain(
      StatusOrType actual,
      ::testing::MatchResultListener* listener) const override {
    if (!actual.ok()) {
      *listener << "which has status " << actual.status();
      return false;
    }
    ::testing::StringMatchResultListener inner_listener;
    const bool matches = inner_.MatchAndExplain(*actual, &inner_listener);
    const std::string explanation = inner_listener.str();
    if (!explanation.empty()) {
      *listener << "which contains a value " << explanation;
    }
    return matches;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK or has a value that ";
    inner_.DescribeNegationTo(os);
  }

 private:
  ::testing::Matcher<const ValueType&> inner_;
};

template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<const StatusOrType&>(inner_));
  }

 private:
  InnerMatcher inner_;
};

// ---- StatusIs(code[, message]) ---------------------------------------------

template <typename T>
class StatusIsMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  StatusIsMatcherImpl(absl::StatusCode code,
                      ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  bool MatchAndExplain(
      T actual, ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(actual);
    if (status.code() != code_) {
      *listener << "whose status is " << status;
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(MessageOf(status), &inner)) {
      *listener << "whose message \"" << status.message()
                << "\" does not match";
      if (!inner.str().empty()) *listener << ", " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has status code " << absl::StatusCodeToString(code_)
        << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a status code other than " << absl::StatusCodeToString(code_)
        << " or a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code,
                  ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT
    return ::testing::Matcher<T>(new StatusIsMatcherImpl<T>(code_, message_));
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

// ---- AwsErrorIs(shape[, message]) ------------------------------------------

template <typename T>
class AwsErrorIsMatcherImpl : public ::testing::MatcherInterface<T> {
 public:
  AwsErrorIsMatcherImpl(std::string shape,
                        ::testing::Matcher<const std::string&> message)
      : shape_(std::move(shape)), message_(std::move(message)) {}

  bool MatchAndExplain(
      T actual, ::testing::MatchResultListener* listener) const override {
    const absl::Status& status = GetStatus(actual);
    std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(status);
    if (!aws.has_value()) {
      *listener << "whose status " << status << " carries no AWS error";
      return false;
    }
    if (aws->shape != shape_ && aws->query_code != shape_) {
      *listener << "whose AWS error is " << aws->shape << " ("
                << aws->query_code << "): " << status.message();
      return false;
    }
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(MessageOf(status), &inner)) {
      *listener << "whose message \"" << status.message()
                << "\" does not match";
      if (!inner.str().empty()) *listener << ", " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "carries AWS error " << shape_ << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not carry AWS error " << shape_ << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  std::string shape_;
  ::testing::Matcher<const std::string&> message_;
};

class AwsErrorIsMatcher {
 public:
  AwsErrorIsMatcher(std::string shape,
                    ::testing::Matcher<const std::string&> message)
      : shape_(std::move(shape)), message_(std::move(message)) {}

  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT
    return ::testing::Matcher<T>(
        new AwsErrorIsMatcherImpl<T>(shape_, message_));
  }

 private:
  std::string shape_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace status_internal

// Matches an OK absl::Status or absl::StatusOr<T>.
inline status_internal::IsOkMatcher IsOk() { return {}; }

// Matches an OK absl::StatusOr<T> whose value matches `inner` (a matcher or a
// value).
template <typename InnerMatcher>
status_internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(
    InnerMatcher&& inner) {
  return status_internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

// Matches a status (or a StatusOr's status) with this code and, optionally, a
// message matching `message` (a string matcher or a string).
inline status_internal::StatusIsMatcher StatusIs(absl::StatusCode code) {
  return status_internal::StatusIsMatcher(code,
                                          ::testing::A<const std::string&>());
}
template <typename MessageMatcher>
status_internal::StatusIsMatcher StatusIs(absl::StatusCode code,
                                          MessageMatcher&& message) {
  return status_internal::StatusIsMatcher(
      code, ::testing::MatcherCast<const std::string&>(
                std::forward<MessageMatcher>(message)));
}

// Matches a status whose AWS error (ferry::GetAwsError) has this shape, e.g.
// "QueueDoesNotExist". The legacy Query code names the same error, so
// AwsErrorIs("AWS.SimpleQueueService.NonExistentQueue") matches too.
inline status_internal::AwsErrorIsMatcher AwsErrorIs(std::string_view shape) {
  return status_internal::AwsErrorIsMatcher(std::string(shape),
                                            ::testing::A<const std::string&>());
}
template <typename MessageMatcher>
status_internal::AwsErrorIsMatcher AwsErrorIs(std::string_view shape,
                                              MessageMatcher&& message) {
  return status_internal::AwsErrorIsMatcher(
      std::string(shape), ::testing::MatcherCast<const std::string&>(
                              std::forward<MessageMatcher>(message)));
}

}  // namespace ferry_testing

#define FERRY_TESTING_CONCAT_INNER_(a, b) a##b
#define FERRY_TESTING_CONCAT_(a, b) FERRY_TESTING_CONCAT_INNER_(a, b)

// Assert / expect that an absl::Status or absl::StatusOr<T> is OK.
#define FERRY_ASSERT_OK(expr) ASSERT_THAT((expr), ::ferry_testing::IsOk())
#define FERRY_EXPECT_OK(expr) EXPECT_THAT((expr), ::ferry_testing::IsOk())

// Evaluates `rexpr` (an absl::StatusOr<T>), asserts that it is OK and moves
// its value into `lhs`, which may declare a variable. Expands to several
// statements: use it only at statement level in a test body.
#define FERRY_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  FERRY_ASSERT_OK_AND_ASSIGN_IMPL_(            \
      FERRY_TESTING_CONCAT_(_ferry_status_or_, __LINE__), lhs, rexpr)
#define FERRY_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                     \
  ASSERT_TRUE(statusor.ok()) << statusor.status();             \
  lhs = *std::move(statusor)

#endif  // FERRY_TESTS_TESTING_STATUS_MATCHERS_H_
