// TagQueue, UntagQueue, ListQueueTags, AddPermission, RemovePermission and
// the Policy attribute they maintain.
// Reference: sqs.md §1.1 (tags, policy limits), §1.4 (tags, permissions).

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/conformance/backends.h"

namespace ferry_conformance {
namespace {

using ::ferry_testing::AwsErrorIs;
using ::ferry_testing::IsOk;
using ::ferry_testing::IsOkAndHolds;
using ::testing::Contains;
using ::testing::Eq;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Not;

using Json = nlohmann::json;

class TagsPermissionsTest : public ConformanceTest {
 protected:
  absl::StatusOr<ferry::TagMap> ListTags(const std::string& url) {
    absl::StatusOr<ferry::ListQueueTagsResult> result =
        sqs().ListQueueTags(ctx_, {.queue_url = url});
    if (!result.ok()) return result.status();
    return result->tags;
  }
  absl::Status Tag(const std::string& url, ferry::TagMap tags) {
    return sqs().TagQueue(ctx_, {.queue_url = url, .tags = std::move(tags)});
  }
  absl::Status Untag(const std::string& url, std::vector<std::string> keys) {
    return sqs().UntagQueue(ctx_,
                            {.queue_url = url, .tag_keys = std::move(keys)});
  }

  absl::Status AddPermission(const std::string& url, const std::string& label,
                             std::vector<std::string> accounts,
                             std::vector<std::string> actions) {
    return sqs().AddPermission(ctx_, {.queue_url = url,
                                      .label = label,
                                      .aws_account_ids = std::move(accounts),
                                      .actions = std::move(actions)});
  }
  absl::Status RemovePermission(const std::string& url,
                                const std::string& label) {
    return sqs().RemovePermission(ctx_, {.queue_url = url, .label = label});
  }

  // The Policy attribute, parsed; null when the queue has none.
  absl::StatusOr<Json> Policy(const std::string& url) {
    absl::StatusOr<ferry::AttributeMap> attributes =
        GetAttributes(url, {"Policy"});
    if (!attributes.ok()) return attributes.status();
    auto it = attributes->find("Policy");
    if (it == attributes->end()) return Json();
    Json parsed = Json::parse(it->second, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return absl::InternalError("Policy is not JSON: " + it->second);
    }
    return parsed;
  }

  static Json Statement(const std::string& label, Json principal, Json action) {
    return Json{{"Sid", label},
                {"Effect", "Allow"},
                {"Principal", {{"AWS", std::move(principal)}}},
                {"Action", std::move(action)},
                {"Resource", ArnOf("q")}};
  }
  static Json PolicyOf(std::vector<Json> statements) {
    return Json{{"Version", "2008-10-17"},
                {"Id", ArnOf("q") + "/SQSDefaultPolicy"},
                {"Statement", std::move(statements)}};
  }
};

// ---- Tags -------------------------------------------------------------------

TEST_P(TagsPermissionsTest, QueueWithoutTagsListsNone) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(ListTags(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(TagsPermissionsTest, TagsCanBeAddedListedAndRemoved) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::TagMap tags = {
      {"tag1", "value1"}, {"tag2", "value2"}, {"tag3", ""}};
  FERRY_ASSERT_OK(Tag(url, tags));
  EXPECT_THAT(ListTags(url), IsOkAndHolds(Eq(tags)));

  FERRY_ASSERT_OK(Untag(url, {"tag1", "tag3"}));
  EXPECT_THAT(ListTags(url),
              IsOkAndHolds(Eq(ferry::TagMap{{"tag2", "value2"}})));

  FERRY_ASSERT_OK(Untag(url, {"tag2"}));
  EXPECT_THAT(ListTags(url), IsOkAndHolds(IsEmpty()));
}

TEST_P(TagsPermissionsTest, TagKeysAreCaseSensitive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::TagMap tags = {{"MyTag", "value1"}, {"mytag", "value2"}};
  FERRY_ASSERT_OK(Tag(url, tags));
  EXPECT_THAT(ListTags(url), IsOkAndHolds(Eq(tags)));
}

TEST_P(TagsPermissionsTest, UntaggingAMissingKeyIsIgnored) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Tag(url, {{"tag1", "value1"}, {"tag2", "value2"}}));
  FERRY_ASSERT_OK(Untag(url, {"tag1", "tag3"}));
  EXPECT_THAT(ListTags(url),
              IsOkAndHolds(Eq(ferry::TagMap{{"tag2", "value2"}})));
}

TEST_P(TagsPermissionsTest, TaggingAnExistingKeyOverwritesIt) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Tag(url, {{"tag1", "value1"}, {"tag2", "value2"}}));
  FERRY_ASSERT_OK(Tag(url, {{"tag1", "VALUE1"}, {"tag3", "value3"}}));
  EXPECT_THAT(
      ListTags(url),
      IsOkAndHolds(Eq(ferry::TagMap{
          {"tag1", "VALUE1"}, {"tag2", "value2"}, {"tag3", "value3"}})));
}

TEST_P(TagsPermissionsTest, TagsCanBeGivenToCreateQueue) {
  const ferry::TagMap tags = {{"tag1", "value1"}, {"tag2", "value2"}};
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q", {}, tags));
  EXPECT_THAT(ListTags(url), IsOkAndHolds(Eq(tags)));
}

TEST_P(TagsPermissionsTest, TagsOfMissingQueueFail) {
  EXPECT_THAT(ListTags(UrlOf("nothing")), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(Tag(UrlOf("nothing"), {{"a", "b"}}),
              AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(Untag(UrlOf("nothing"), {"a"}), AwsErrorIs("QueueDoesNotExist"));
}

TEST_P(TagsPermissionsTest, TagsAreNotQueueAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Tag(url, {{"team", "ferry"}}));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(Not(Contains(Key("team")))));
}

// ---- Permissions ------------------------------------------------------------

TEST_P(TagsPermissionsTest, QueueHasNoPolicyByDefault) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(Policy(url), IsOkAndHolds(Json()));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(Not(Contains(Key("Policy")))));
}

TEST_P(TagsPermissionsTest, AddPermissionWritesAnAwsShapedPolicy) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(AddPermission(url, "crossaccountpermission",
                                {kAccount, "668614515564"},
                                {"ReceiveMessage"}));
  EXPECT_THAT(Policy(url), IsOkAndHolds(Eq(PolicyOf({Statement(
                               "crossaccountpermission",
                               Json::array({"arn:aws:iam::123456789012:root",
                                            "arn:aws:iam::668614515564:root"}),
                               "SQS:ReceiveMessage")}))));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(Contains(Key("Policy"))));
}

TEST_P(TagsPermissionsTest, OnePrincipalIsAStringAndSeveralActionsAnArray) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(AddPermission(url, "senders", {"668614515564"},
                                {"SendMessage", "DeleteMessage"}));
  EXPECT_THAT(Policy(url),
              IsOkAndHolds(Eq(PolicyOf({Statement(
                  "senders", "arn:aws:iam::668614515564:root",
                  Json::array({"SQS:SendMessage", "SQS:DeleteMessage"}))}))));
}

TEST_P(TagsPermissionsTest, DuplicateLabelIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(AddPermission(url, "crossaccountpermission", {kAccount},
                                {"ReceiveMessage"}));
  EXPECT_THAT(AddPermission(url, "crossaccountpermission", {"668614515564"},
                            {"ReceiveMessage"}),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Value crossaccountpermission for parameter Label "
                            "is invalid. Reason: Already exists.")));
  EXPECT_THAT(Policy(url),
              IsOkAndHolds(Eq(PolicyOf({Statement(
                  "crossaccountpermission", "arn:aws:iam::123456789012:root",
                  "SQS:ReceiveMessage")}))));
}

TEST_P(TagsPermissionsTest, PermissionsAreStatementsRemovedByLabel) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(AddPermission(url, "crossaccountpermission", {kAccount},
                                {"ReceiveMessage"}));
  FERRY_ASSERT_OK(AddPermission(url, "crossaccountpermission2", {kAccount},
                                {"ReceiveMessage"}));
  const Json first =
      Statement("crossaccountpermission", "arn:aws:iam::123456789012:root",
                "SQS:ReceiveMessage");
  const Json second =
      Statement("crossaccountpermission2", "arn:aws:iam::123456789012:root",
                "SQS:ReceiveMessage");
  EXPECT_THAT(Policy(url), IsOkAndHolds(Eq(PolicyOf({first, second}))));

  FERRY_ASSERT_OK(RemovePermission(url, "crossaccountpermission"));
  EXPECT_THAT(Policy(url), IsOkAndHolds(Eq(PolicyOf({second}))));

  // Removing the last statement removes the Policy attribute.
  FERRY_ASSERT_OK(RemovePermission(url, "crossaccountpermission2"));
  EXPECT_THAT(Policy(url), IsOkAndHolds(Json()));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(Not(Contains(Key("Policy")))));
}

TEST_P(TagsPermissionsTest, RemovingAnUnknownLabelFails) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(RemovePermission(url, "crossaccountpermission2"),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Value crossaccountpermission2 for parameter Label "
                            "is invalid. Reason: can't find label.")));
  FERRY_ASSERT_OK(AddPermission(url, "present", {kAccount}, {"SendMessage"}));
  EXPECT_THAT(RemovePermission(url, "absent"),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Value absent for parameter Label is invalid. "
                            "Reason: can't find label.")));
}

TEST_P(TagsPermissionsTest, PolicyAttributeCanBeSetAndCleared) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const Json policy = {{"Version", "2012-10-17"},
                       {"Statement",
                        {{{"Effect", "Allow"},
                          {"Principal", {{"AWS", "*"}}},
                          {"Action", "sqs:SendMessage"},
                          {"Resource", ArnOf("q")}}}}};
  FERRY_ASSERT_OK(SetAttributes(url, {{"Policy", policy.dump()}}));
  EXPECT_THAT(Policy(url), IsOkAndHolds(Eq(policy)));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::AttributeMap all,
                             GetAttributes(url, {"All"}));
  EXPECT_EQ(Json::parse(all["Policy"], nullptr, false), policy);

  FERRY_ASSERT_OK(SetAttributes(url, {{"Policy", ""}}));
  EXPECT_THAT(Policy(url), IsOkAndHolds(Json()));
  EXPECT_THAT(GetAttributes(url, {"All"}),
              IsOkAndHolds(Not(Contains(Key("Policy")))));
}

TEST_P(TagsPermissionsTest, PermissionsOfMissingQueueFail) {
  EXPECT_THAT(AddPermission(UrlOf("nothing"), "l", {kAccount}, {"SendMessage"}),
              AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(RemovePermission(UrlOf("nothing"), "l"),
              AwsErrorIs("QueueDoesNotExist"));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, TagsPermissionsTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
