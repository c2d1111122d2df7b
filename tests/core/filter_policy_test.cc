// SNS subscription filter policies (reference/sns.md §2): every worked
// example of §2.7, every row of the §2.8 error catalogue (first line), the
// complexity formulas (§2.6), our own choices where §5 leaves a point open,
// and a differential test of FilterIndex against a loop over Matches.
#include "filter_policy.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ferry/errors.h"
#include "ferry/message.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::internal {
namespace {

using ::testing::UnorderedElementsAreArray;

constexpr FilterPolicyScope kAttrs = FilterPolicyScope::kMessageAttributes;
constexpr FilterPolicyScope kBody = FilterPolicyScope::kMessageBody;

struct Attr {
  std::string name;
  std::string type;
  std::string value;
};

MessageAttributeMap Attrs(std::vector<Attr> list) {
  MessageAttributeMap map;
  for (Attr& a : list) {
    MessageAttributeValue v;
    v.data_type = a.type;
    if (a.type.starts_with("Binary")) {
      v.binary_value = a.value;
    } else {
      v.string_value = a.value;
    }
    map[a.name] = v;
  }
  return map;
}

FilterPolicy MustCompile(std::string_view policy, FilterPolicyScope scope) {
  absl::StatusOr<FilterPolicy> p = FilterPolicy::Compile(policy, scope);
  EXPECT_TRUE(p.ok()) << policy << ": " << p.status();
  if (!p.ok()) std::abort();
  return *std::move(p);
}

bool MatchAttrs(std::string_view policy, std::vector<Attr> attrs,
                std::string_view body = "message") {
  FilterPolicy p = MustCompile(policy, kAttrs);
  MessageAttributeMap map = Attrs(std::move(attrs));
  FilterMessage m(map, body);
  return p.Matches(m);
}

bool MatchBody(std::string_view policy, std::string_view body) {
  FilterPolicy p = MustCompile(policy, kBody);
  MessageAttributeMap none;
  FilterMessage m(none, body);
  return p.Matches(m);
}

// The first line of the error message (sns.md §2.8), or "OK".
std::string ErrorOf(std::string_view policy, FilterPolicyScope scope = kAttrs) {
  absl::StatusOr<FilterPolicy> p = FilterPolicy::Compile(policy, scope);
  if (p.ok()) return "OK";
  std::optional<AwsErrorInfo> aws = GetAwsError(p.status());
  EXPECT_TRUE(aws.has_value());
  if (aws.has_value()) {
    EXPECT_EQ(aws->service, AwsService::kSns);
    EXPECT_EQ(aws->query_code, "InvalidParameter");
    EXPECT_EQ(aws->http_status, 400);
  }
  std::string text(p.status().message());
  return text.substr(0, text.find('\n'));
}

// ---- sns.md §2.7 worked examples ------------------------------------------

TEST(FilterPolicyExamplesTest, ExactStrings1To5) {
  const char* p = R"({"customer_interests":["rugby","tennis"]})";
  EXPECT_TRUE(MatchAttrs(p, {{"customer_interests", "String", "rugby"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"customer_interests", "String", "baseball"}}));
  EXPECT_TRUE(MatchAttrs(
      p, {{"customer_interests", "String.Array", R"(["rugby","tennis"])"}}));
  EXPECT_FALSE(MatchAttrs(
      p, {{"customer_interests", "String.Array", R"(["baseball"])"}}));
  EXPECT_TRUE(MatchBody(p, R"({"customer_interests":"rugby"})"));
}

TEST(FilterPolicyExamplesTest, Prefix6) {
  const char* p = R"({"customer_interests":[{"prefix":"bas"}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"customer_interests", "String", "baseball"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"customer_interests", "String", "basketball"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"customer_interests", "String", "rugby"}}));
}

TEST(FilterPolicyExamplesTest, AnythingButList7To9) {
  const char* p =
      R"({"customer_interests":[{"anything-but":["rugby","tennis"]}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"customer_interests", "String", "baseball"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"customer_interests", "String", "football"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"customer_interests", "String", "rugby"}}));
  // #8, sns.md §5.1 CONFLICT: we follow DG22 (any element not listed).
  EXPECT_TRUE(MatchAttrs(
      p, {{"customer_interests", "String.Array", R"(["rugby","baseball"])"}}));
  EXPECT_FALSE(MatchAttrs(
      p, {{"customer_interests", "String.Array", R"(["rugby","tennis"])"}}));
  EXPECT_FALSE(MatchBody(p, R"({"customer_interests":["rugby"]})"));
}

TEST(FilterPolicyExamplesTest, AnythingButPrefix10) {
  const char* p = R"({"event":[{"anything-but":{"prefix":"order-"}}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"event", "String", "data-entry"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"event", "String", "order_number"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"event", "String", "order-cancelled"}}));
}

TEST(FilterPolicyExamplesTest, NumericEquals11) {
  const char* p = R"({"price_usd":[{"numeric":["=",301.5]}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"price_usd", "Number", "301.5"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"price_usd", "Number", "3.015e2"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"price_usd", "Number", "301.6"}}));
}

TEST(FilterPolicyExamplesTest, AnythingButNumbers12And13) {
  const char* p = R"({"price":[{"anything-but":[100,500]}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"price", "Number", "101"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"price", "Number", "100.1"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"price", "Number", "100"}}));
  EXPECT_TRUE(MatchBody(p, R"({"price":[100,50]})"));
  EXPECT_FALSE(MatchBody(p, R"({"price":[100,500]})"));
}

TEST(FilterPolicyExamplesTest, NumericRange14And15) {
  const char* p = R"({"price_usd":[{"numeric":[">",0,"<=",150]}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"price_usd", "Number", "150"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"price_usd", "Number", "0"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"price_usd", "Number", "151"}}));
  const char* q = R"({"attr1":[{"numeric":[">",0,"<=",100]}]})";
  EXPECT_TRUE(MatchAttrs(q, {{"attr1", "Number", "99"}}));
  EXPECT_FALSE(MatchAttrs(q, {{"attr1", "Number", "111"}}));
}

TEST(FilterPolicyExamplesTest, NullOrAnythingButWithoutAttributes16) {
  EXPECT_FALSE(
      MatchAttrs(R"({"attr1":[null,{"anything-but":"whatever"}]})", {}));
}

TEST(FilterPolicyExamplesTest, Exists17To19) {
  const char* t = R"({"store":[{"exists":true}]})";
  EXPECT_TRUE(
      MatchAttrs(t, {{"store", "Number", "99"}, {"def", "Number", "99"}}));
  EXPECT_FALSE(MatchAttrs(t, {{"attr1", "Number", "111"}}));
  const char* f = R"({"store":[{"exists":false}]})";
  EXPECT_TRUE(MatchAttrs(f, {{"def", "Number", "99"}}));
  EXPECT_FALSE(
      MatchAttrs(f, {{"store", "Number", "99"}, {"def", "Number", "99"}}));
  EXPECT_FALSE(MatchAttrs(f, {}));  // #19: no attributes at all
}

TEST(FilterPolicyExamplesTest, StringArrayPerElement20) {
  const char* p = R"({"store":["value1"]})";
  EXPECT_TRUE(MatchAttrs(p, {{"store", "String", "value1"}}));
  EXPECT_TRUE(
      MatchAttrs(p, {{"store", "String.Array", R"(["value1","value2"])"}}));
  EXPECT_FALSE(
      MatchAttrs(p, {{"store", "String.Array", R"(["value2","value3"])"}}));
}

TEST(FilterPolicyExamplesTest, CidrV4_21) {
  const char* p = R"({"source_ip":[{"cidr":"10.0.0.0/24"}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"source_ip", "String", "10.0.0.0"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"source_ip", "String", "10.0.0.255"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"source_ip", "String", "10.1.1.0"}}));
}

TEST(FilterPolicyExamplesTest, NestedOrCidrV4V6_22) {
  const char* p =
      R"({"detail":{"$or":[{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]},)"
      R"({"sourceIPAddressV6":[{"cidr":"2001:db8:1234:1a00::/64"}]}]}})";
  EXPECT_TRUE(MatchBody(p, R"({"detail":{"sourceIPAddress":"10.0.0.255"}})"));
  EXPECT_FALSE(MatchBody(p, R"({"detail":{"sourceIPAddress":"10.0.0.256"}})"));
  EXPECT_TRUE(MatchBody(
      p,
      R"({"detail":{"sourceIPAddressV6":"2001:0db8:1234:1a00:0000:0000:0000:0000"}})"));
  EXPECT_FALSE(MatchBody(
      p, R"({"detail":{"sourceIPAddressV6":"2001:0db8:123f:1a01:0:0:0:0"}})"));
}

TEST(FilterPolicyExamplesTest, AndAcrossKeys23) {
  const char* p =
      R"({"customer_interests":["rugby"],"price_usd":[{"numeric":[">",100]}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"customer_interests", "String", "rugby"},
                             {"price_usd", "Number", "101"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"customer_interests", "String", "rugby"},
                              {"price_usd", "Number", "100"}}));
}

TEST(FilterPolicyExamplesTest, TopLevelOr24) {
  const char* p =
      R"({"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},)"
      R"({"namespace":["AWS/EC2"]}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"source", "String", "aws.cloudwatch"},
                             {"metricName", "String", "CPUUtilization"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"source", "String", "aws.cloudwatch"},
                             {"namespace", "String", "AWS/EC2"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"metricName", "String", "CPUUtilization"}}));
}

TEST(FilterPolicyExamplesTest, NestedOrInBody25) {
  const char* p =
      R"({"$or":[{"metricName":["CPUUtilization","ReadLatency"]},)"
      R"({"namespace":["AWS/EC2","AWS/ES"]}],"detail":{"scope":["Service"],)"
      R"("$or":[{"source":["aws.cloudwatch"]},)"
      R"({"type":["CloudWatch Alarm State Change"]}]}})";
  const std::pair<const char*, bool> cases[] = {
      {R"({"metricName":"CPUUtilization","detail":{"scope":"Service","source":"aws.cloudwatch"}})",
       true},
      {R"({"metricName":"CPUUtilization","detail":{"scope":"Service","type":"CloudWatch Alarm State Change"}})",
       true},
      {R"({"metricName":"ReadLatency","detail":{"scope":"Service","source":"aws.cloudwatch"}})",
       true},
      {R"({"namespace":"AWS/EC2","detail":{"scope":"Service","source":"aws.cloudwatch"}})",
       true},
      {R"({"namespace":"AWS/ES","detail":{"scope":"Service","source":"aws.cloudwatch"}})",
       true},
      {R"({"metricName":"CPUUtilization","detail":{"scope":"Wrong","source":"aws.cloudwatch"}})",
       false},
      {R"({"metricName":"CPUUtilization","detail":{"scope":"Service","type":"CPUUtilization"}})",
       false},
      {R"({"metricName":"CPUUtilization","detail":{"source":"aws.cloudwatch"}})",
       false},
      {R"({"metricName":"CPUUtilization","detail":{"scope":"Service"}})",
       false},
      {R"({"metricName":"CPUUtilization","scope":"Service","detail":{"source":"aws.cloudwatch"}})",
       false},
      {R"({"metricName":"AWS/EC2","detail":{"scope":"Service","source":"aws.cloudwatch"}})",
       false},
      {R"({"namespace":"CPUUtilization","detail":{"scope":"Service","source":"aws.cloudwatch"}})",
       false},
  };
  int delivered = 0;
  for (const auto& [body, want] : cases) {
    const bool got = MatchBody(p, body);
    EXPECT_EQ(got, want) << body;
    delivered += got ? 1 : 0;
  }
  EXPECT_EQ(delivered, 5);
}

TEST(FilterPolicyExamplesTest, NestedPrefixAndExistsFalse26) {
  const char* p =
      R"({"object":{"key":[{"prefix":"auto-"},"hardcodedvalue"],)"
      R"("nested_key":[{"exists":false}]},"test":[{"exists":false}]})";
  EXPECT_TRUE(MatchBody(p, R"({"object":{"key":"auto-test"}})"));
  EXPECT_TRUE(MatchBody(p, R"({"object":{"key":"hardcodedvalue"}})"));
  EXPECT_FALSE(MatchBody(p, R"({"object":{"key":"test-auto"}})"));
  EXPECT_FALSE(
      MatchBody(p, R"({"object":{"key":"auto-test"},"test":"just-exists"})"));
  EXPECT_FALSE(MatchBody(
      p, R"({"object":{"key":"auto-test","nested_key":"just-exists"}})"));
  EXPECT_FALSE(MatchBody(p, R"({"object":{"test":"auto-test"}})"));
  EXPECT_FALSE(MatchBody(p, R"({"test":"auto-test"})"));
  EXPECT_FALSE(MatchBody(p, "Regular string message"));
  EXPECT_FALSE(MatchBody(p, R"("Regular string message")"));
}

TEST(FilterPolicyExamplesTest, DottedKeys27) {
  const char* p = R"({"object.nested":["string.value"]})";
  EXPECT_TRUE(MatchBody(p, R"({"object":{"nested":"string.value"}})"));
  EXPECT_TRUE(MatchBody(p, R"({"object.nested":"string.value"})"));
  EXPECT_FALSE(MatchBody(p, R"({"object":{"nested":"test-auto"}})"));
  // sns.md §2.4: every way of splitting the dots matches.
  const char* q = R"({"object.nested.test":["string.value"]})";
  EXPECT_TRUE(MatchBody(q, R"({"object":{"nested":{"test":"string.value"}}})"));
  EXPECT_TRUE(MatchBody(q, R"({"object.nested.test":"string.value"})"));
  EXPECT_TRUE(MatchBody(q, R"({"object.nested":{"test":"string.value"}})"));
  EXPECT_TRUE(MatchBody(q, R"({"object":{"nested.test":"string.value"}})"));
}

TEST(FilterPolicyExamplesTest, ArrayValuesInBody28) {
  const char* p = R"({"headers":{"route-to":["queue1"]}})";
  EXPECT_FALSE(MatchBody(p, R"({"headers":{"route-to":["queue3"]}})"));
  EXPECT_TRUE(MatchBody(p, R"({"headers":{"route-to":["queue1"]}})"));
  EXPECT_FALSE(MatchBody(p, R"({"headers":{"route-to":["queue2"]}})"));
  EXPECT_TRUE(MatchBody(p, R"({"headers":{"route-to":["queue1","queue2"]}})"));
}

TEST(FilterPolicyExamplesTest, ArraysOfObjects29) {
  const char* p = R"({"Records":{"s3":{"object":{"key":[{"prefix":"auto-"}]}},)"
                  R"("eventName":[{"prefix":"ObjectCreated:"}]}})";
  EXPECT_TRUE(MatchBody(
      p,
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"auto-insurance-2314.xml"}}}]})"));
  EXPECT_FALSE(MatchBody(
      p,
      R"({"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"auto-insurance-2314.xml"}}}]})"));
  EXPECT_FALSE(MatchBody(
      p,
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"home-insurance-2314.xml"}}}]})"));
  EXPECT_TRUE(MatchBody(
      p,
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":[[{"key":"auto-insurance-2314.xml"}]]}},)"
      R"({"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"home-insurance-2314.xml"}}}]})"));
}

TEST(FilterPolicyExamplesTest, EmptyArrayElsewhere30) {
  EXPECT_TRUE(MatchBody(
      R"({"detail":{"eventVersion":[""]}})",
      R"({"version":"0","resources":[],"detail":{"eventVersion":"","responseElements":null}})"));
}

TEST(FilterPolicyExamplesTest, LargeComplexPayload31) {
  std::string filler;
  for (int i = 0; i < 400; ++i) {
    absl::StrAppend(&filler, i == 0 ? "" : ",", R"({"id":)", i,
                    R"(,"name":"item-)", i, R"(","tags":["a","b"],"n":{"x":)",
                    i, "}}");
  }
  const std::string body = absl::StrCat(
      R"({"source":"test","detail":{"items":[)", filler,
      R"(],"payload":{"nested":{"another-level":{"deep":{"inside-list":)",
      R"(["x-1",{"ignored":"y"},"q-test-7"]}}}}}})");
  ASSERT_GT(body.size(), 20000u);
  EXPECT_TRUE(MatchBody(
      R"({"detail":{"payload.nested.another-level.deep":{"inside-list":[{"prefix":"q-test"}]}}})",
      body));
  EXPECT_FALSE(MatchBody(
      R"({"detail":{"payload.nested.another-level.deep":{"inside-list":[{"prefix":"z-test"}]}}})",
      body));
}

TEST(FilterPolicyExamplesTest, DeveloperGuideExample32And33) {
  const char* p32 =
      R"({"store":["example_corp"],"event":[{"anything-but":"order_cancelled"}],)"
      R"("customer_interests":["rugby","football","baseball"],)"
      R"("price_usd":[{"numeric":[">=",100]}]})";
  const char* p33 =
      R"({"store":["example_corp"],"event":["order_cancelled"],"encrypted":[false],)"
      R"("customer_interests":["basketball","baseball"]})";
  std::vector<Attr> attrs = {{"customer_interests", "String.Array",
                              R"(["soccer", "rugby", "hockey"])"},
                             {"store", "String", "example_corp"},
                             {"event", "String", "order_placed"},
                             {"price_usd", "Number", "210.75"}};
  const char* body =
      R"({"store":"example_corp","event":"order_placed",)"
      R"("customer_interests":["soccer","rugby","hockey"],"price_usd":210.75,)"
      R"("encrypted":false})";
  EXPECT_TRUE(MatchAttrs(p32, attrs));
  EXPECT_TRUE(MatchBody(p32, body));
  EXPECT_FALSE(MatchAttrs(p33, attrs));
  EXPECT_FALSE(MatchBody(p33, body));
}

TEST(FilterPolicyExamplesTest, SuffixAndEqualsIgnoreCase34And35) {
  EXPECT_TRUE(MatchAttrs(R"({"filter":[{"suffix":"pe1"}]})",
                         {{"filter", "String", "type1"}}));
  EXPECT_TRUE(MatchAttrs(R"({"filter":[{"equals-ignore-case":"TYPE1"}]})",
                         {{"filter", "String", "type1"}}));
  EXPECT_TRUE(MatchAttrs(
      R"({"filter":[{"equals-ignore-case":"RuGbY"}]})",
      {{"filter", "String.Array", R"(["soccer","rugby","hockey"])"}}));
}

TEST(FilterPolicyExamplesTest, NumberVsStringTyping36) {
  const char* p = R"({"price":[100]})";
  EXPECT_FALSE(MatchAttrs(p, {{"price", "String", "100"}}));
  EXPECT_FALSE(MatchBody(p, R"({"price":"100"})"));
  EXPECT_TRUE(MatchAttrs(p, {{"price", "String.Array", "[100, 50]"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"price", "Number", "100"}}));
  EXPECT_TRUE(MatchBody(p, R"({"price":100.0})"));
}

TEST(FilterPolicyExamplesTest, TwoAnythingButsAreOred37) {
  const char* p =
      R"({"filter":[{"anything-but":"type1"},{"anything-but":"type2"}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"filter", "String", "type2"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"filter", "String", "type1"}}));
}

// ---- sns.md §2.8 error catalogue
// -----------------------------------------------

TEST(FilterPolicyErrorsTest, Catalogue) {
  const std::pair<const char*, const char*> rows[] = {
      {R"([["value"]])",
       "FilterPolicy: Match value must be String, number, true, false, or "
       "null"},
      {R"([{"wrong-operator":true}])",
       "FilterPolicy: Unrecognized match type wrong-operator"},
      {R"([{"suffix":"value","prefix":"value2"}])",
       "FilterPolicy: Only one key allowed in match expression"},
      {R"([])", "FilterPolicy: Empty arrays are not allowed"},
      {R"([{"suffix":100}])",
       "FilterPolicy: suffix match pattern must be a string"},
      {R"([{"suffix":null}])",
       "FilterPolicy: suffix match pattern must be a string"},
      {R"([{"suffix":[]}])",
       "FilterPolicy: suffix match pattern must be a string"},
      {R"([{"suffix":["a","b"]}])",
       "FilterPolicy: suffix match pattern must be a string"},
      {R"([{"prefix":100}])",
       "FilterPolicy: prefix match pattern must be a string"},
      {R"([{"equals-ignore-case":100}])",
       "FilterPolicy: equals-ignore-case match pattern must be a string"},
      {R"({"suffix":"value"})",
       "FilterPolicy: \"suffix\" must be an object or an array"},
      {R"({"not-an-operator":"value"})",
       "FilterPolicy: \"not-an-operator\" must be an object or an array"},
      {R"([{"cidr":["bad-filter"]}])",
       "FilterPolicy: prefix match pattern must be a string"},
      {R"([{"cidr":"bad-filter"}])",
       "FilterPolicy: Malformed CIDR, one '/' required"},
      {R"([{"cidr":"bad-filter/64"}])",
       "FilterPolicy: Nonstandard IP address: bad-filter"},
      {R"([{"cidr":"xx.11.xx/8"}])",
       "FilterPolicy: Nonstandard IP address: xx.11.xx"},
      {R"([{"cidr":"xxxx:db8:1234:1a00::/64"}])",
       "FilterPolicy: Nonstandard IP address: xxxx:db8:1234:1a00::"},
      {R"([{"cidr":"bad-/64filter"}])",
       "FilterPolicy: Malformed CIDR, mask bits must be an integer"},
      {R"([{"numeric":[]}])",
       "FilterPolicy: Invalid member in numeric match: ]"},
      {R"([{"numeric":["operator"]}])",
       "FilterPolicy: Unrecognized numeric range operator: operator"},
      {R"([{"numeric":[1,"<="]}])",
       "FilterPolicy: Invalid member in numeric match: 1"},
      {R"([{"numeric":["=","000"]}])",
       "FilterPolicy: Value of equals must be numeric"},
      {R"([{"numeric":[">="]}])", "FilterPolicy: Value of >= must be numeric"},
      {R"([{"numeric":["<",100,">",10]}])",
       "FilterPolicy: Too many elements in numeric expression"},
      {R"([{"numeric":[">=",1,">",2]}])",
       "FilterPolicy: Bad numeric range operator: >"},
      {R"([{"numeric":[">",3,"<",1]}])",
       "FilterPolicy: Bottom must be less than top"},
      {R"([{"numeric":[">",20,"<="]}])",
       "FilterPolicy: Value of <= must be numeric"},
      {R"([{"numeric":[">",20,30]}])",
       "FilterPolicy: Bad value in numeric range: 30"},
      {R"([{"numeric":[">",20,"test"]}])",
       "FilterPolicy: Bad numeric range operator: test"},
      {R"([{"numeric":[">","20","<","30"]}])",
       "FilterPolicy: Value of > must be numeric"},
      {R"([{"numeric":[">",20,"<","30"]}])",
       "FilterPolicy: Value of < must be numeric"},
      {R"([{"numeric":[">",20,"<",30,"<",50]}])",
       "FilterPolicy: Too many terms in numeric range expression"},
      {R"([{"exists":null}])",
       "FilterPolicy: exists match pattern must be either true or false."},
      {R"([{"exists":"no"}])",
       "FilterPolicy: exists match pattern must be either true or false."},
      {R"([{"anything-but":{"wrong-operator":null}}])",
       "FilterPolicy: Unsupported anything-but pattern: wrong-operator"},
      {R"([{"anything-but":{"suffix":"test"}}])",
       "FilterPolicy: Unsupported anything-but pattern: suffix"},
      {R"([{"anything-but":{"exists":false}}])",
       "FilterPolicy: Unsupported anything-but pattern: exists"},
      {R"([{"anything-but":{"prefix":false}}])",
       "FilterPolicy: prefix match pattern must be a string"},
  };
  for (const auto& [value, want] : rows) {
    const std::string policy = absl::StrCat(R"({"key":)", value, "}");
    EXPECT_EQ(ErrorOf(policy, kAttrs), want) << policy;
    EXPECT_EQ(ErrorOf(policy, kBody), want) << policy;
  }
}

TEST(FilterPolicyErrorsTest, AcceptedAnythingButForms) {
  EXPECT_EQ(ErrorOf(R"({"key":[{"anything-but":{"prefix":"test-"}}]})"), "OK");
  EXPECT_EQ(ErrorOf(R"({"key":[{"anything-but":["test","test2"]}]})"), "OK");
  EXPECT_EQ(ErrorOf(R"({"key":[{"anything-but":"test"}]})"), "OK");
}

TEST(FilterPolicyErrorsTest, TooComplexAndTooManyKeys) {
  std::vector<std::string> values;
  for (int i = 0; i < 151; ++i) values.push_back(absl::StrCat("\"v", i, "\""));
  EXPECT_EQ(
      ErrorOf(absl::StrCat(R"({"key":[)", absl::StrJoin(values, ","), "]}")),
      "FilterPolicy: Filter policy is too complex");
  values.resize(150);
  EXPECT_EQ(
      ErrorOf(absl::StrCat(R"({"key":[)", absl::StrJoin(values, ","), "]}")),
      "OK");
  std::vector<std::string> v100(values.begin(), values.begin() + 100);
  std::vector<std::string> v51(values.begin(), values.begin() + 51);
  EXPECT_EQ(
      ErrorOf(absl::StrCat(R"({"key1":[)", absl::StrJoin(v100, ","),
                           R"(],"key2":[)", absl::StrJoin(v51, ","), "]}")),
      "FilterPolicy: Filter policy is too complex");
  EXPECT_EQ(
      ErrorOf(
          R"({"key1":["value1"],"key2":["value2"],"key3":["value3"],"key4":["value4"],"key5":["value5"],"key6":["value6"]})"),
      "FilterPolicy: Filter policy can not have more than 5 keys");
  EXPECT_EQ(
      ErrorOf(
          R"({"key1":["value1"],"key2":["value2"],"key3":["value3"],"key4":["value4"],"key5":["value5"]})"),
      "OK");
}

TEST(FilterPolicyErrorsTest, NestedPolicyInAttributesScope) {
  const char* p = R"({"object":{"key":[{"prefix":"auto-"}]}})";
  EXPECT_EQ(ErrorOf(p, kAttrs),
            "Filter policy scope MessageAttributes does not support nested "
            "filter policy");
  EXPECT_EQ(ErrorOf(p, kBody), "OK");
}

TEST(FilterPolicyErrorsTest, NotJson) {
  EXPECT_EQ(ErrorOf("invalid"),
            "FilterPolicy: failed to parse JSON. Unrecognized token 'invalid': "
            "was expecting (JSON String, Number, Array, Object or token "
            "'null', 'true' or 'false')");
  EXPECT_THAT(ErrorOf(R"({"a":["b"])"),
              ::testing::StartsWith("FilterPolicy: failed to parse JSON. "));
  EXPECT_THAT(ErrorOf(""),
              ::testing::StartsWith("FilterPolicy: failed to parse JSON. "));
  EXPECT_THAT(
      ErrorOf(R"({"a": [tru]})"),
      ::testing::StartsWith(
          "FilterPolicy: failed to parse JSON. Unrecognized token 'tru'"));
}

TEST(FilterPolicyErrorsTest, EventRulerTextsBeyondTheCatalogue) {
  EXPECT_EQ(ErrorOf(R"(["a"])"), "FilterPolicy: Filter is not an object");
  EXPECT_EQ(ErrorOf(R"({"a":{}})", kBody),
            "FilterPolicy: Empty objects are not allowed");
  EXPECT_EQ(ErrorOf(R"({"a":[{}]})"),
            "FilterPolicy: Match expression name not found");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":">"}]})"),
            "FilterPolicy: Value of numeric must be an array.");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":["=",1,2]}]})"),
            "FilterPolicy: Too many elements in numeric expression");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":["<",1],"x":1}]})"),
            "FilterPolicy: Too many elements in numeric expression");
  EXPECT_EQ(ErrorOf(R"({"a":[{"numeric":[true]}]})"),
            "FilterPolicy: Invalid member in numeric match: true");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":["a",1]}]})"),
            "FilterPolicy: Inside anything but list, either all values are "
            "number or string, mixed type is not supported");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":[]}]})"),
            "FilterPolicy: Inside anything but list, either all values are "
            "number or string, mixed type is not supported");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":[null]}]})"),
            "FilterPolicy: Inside anything but list, start|null|boolean is not "
            "supported.");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":true}]})"),
            "FilterPolicy: Value of anything-but must be an array or single "
            "string/number value.");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":{}}]})"),
            "FilterPolicy: Anything-But expression name not found");
  EXPECT_EQ(ErrorOf(R"({"a":[{"anything-but":{"prefix":""}}]})"),
            "FilterPolicy: Null prefix not allowed");
  EXPECT_EQ(ErrorOf(R"({"a":[{"wildcard":"a*b"}]})"),
            "FilterPolicy: Unrecognized match type wildcard");
  EXPECT_EQ(ErrorOf(R"({"a":[{"exists":true,"prefix":"x"}]})"),
            "FilterPolicy: Only one key allowed in match expression");
  EXPECT_EQ(ErrorOf(R"({"a":[{"cidr":"10.0.0.0/-1"}]})"),
            "FilterPolicy: Malformed CIDR, mask bits must not be negative");
  EXPECT_EQ(ErrorOf(R"({"a":[{"cidr":"10.0.0.0/33"}]})"),
            "FilterPolicy: IPv4 mask bits must be < 32");
  EXPECT_EQ(ErrorOf(R"({"a":[{"cidr":"::/129"}]})"),
            "FilterPolicy: IPv6 mask bits must be < 128");
  EXPECT_EQ(ErrorOf(R"({"a":[{"cidr":"10.0.0.0/"}]})"),
            "FilterPolicy: Malformed CIDR, one '/' required");
  EXPECT_EQ(ErrorOf(R"({"a":"b"})"),
            "FilterPolicy: \"a\" must be an object or an array");
}

TEST(FilterPolicyErrorsTest, SizeLimit) {
  std::string big = R"({"a":[")" + std::string(256 * 1024, 'x') + R"("]})";
  EXPECT_EQ(ErrorOf(big), "FilterPolicy: Filter policy is too large");
  std::string fits =
      R"({"a":[")" + std::string(256 * 1024 - 12, 'x') + R"("]})";
  EXPECT_EQ(ErrorOf(fits), "OK");
}

TEST(FilterPolicyErrorsTest, DeepNestingIsTooComplexNotACrash) {
  std::string deep;
  for (int i = 0; i < 40000; ++i) deep += R"({"a":)";
  deep += "[1]";
  for (int i = 0; i < 40000; ++i) deep += "}";
  EXPECT_EQ(ErrorOf(deep, kBody), "FilterPolicy: Filter policy is too complex");
}

// ---- Complexity (sns.md §2.6)
// ---------------------------------------------------

int64_t ComplexityOf(std::string_view policy, FilterPolicyScope scope) {
  absl::StatusOr<FilterPolicy> p = FilterPolicy::Compile(policy, scope);
  if (p.ok()) return p->complexity();
  return -1;
}

TEST(FilterPolicyComplexityTest, FlatIsTheProductOfLengths) {
  EXPECT_EQ(ComplexityOf(R"({"a":["1","2","3"],"b":[1,2],"c":[true]})", kAttrs),
            6);
}

TEST(FilterPolicyComplexityTest, NestedMultipliesDepthTimesLength) {
  // The documentation's example: 3x4 x 2x3 = 72.
  EXPECT_EQ(
      ComplexityOf(R"({"key_a":{"key_b":{"key_c":["v1","v2","v3","v4"]}},)"
                   R"("key_d":{"key_e":["v1","v2","v3"]}})",
                   kBody),
      72);
  // 3x4 x 2x3 x 1x3 = 216: rejected (AWS-recorded).
  EXPECT_EQ(
      ErrorOf(R"({"key_a":{"key_b":{"key_c":["v1","v2","v3","v4"]}},)"
              R"("key_d":{"key_e":["v1","v2","v3"]},"key_f":["v1","v2","v3"]})",
              kBody),
      "FilterPolicy: Filter policy is too complex");
}

TEST(FilterPolicyComplexityTest, OrSumsItsBranches) {
  // AWS-recorded (sns.md §2.6): 152 rejected, 160 rejected, 150 accepted.
  const char* p152 =
      R"({"source":["aws.cloudwatch","aws.events","aws.test","aws.test2"],)"
      R"("$or":[{"metricName":["CPUUtilization","ReadLatency","t1","t2","t3","t4"]},)"
      R"({"metricType":["MetricType","TestType","TestType2","TestType3"],)"
      R"("$or":[{"metricId":[1234,4321,5678,9012]},{"spaceId":[1,2,3,4]}]}]})";
  EXPECT_EQ(ErrorOf(p152, kAttrs),
            "FilterPolicy: Filter policy is too complex");
  const char* p160 =
      R"({"$or":[{"metricName":["CPUUtilization","ReadLatency","TestValue"]},)"
      R"({"namespace":["AWS/EC2","AWS/ES"]}],"detail":{"scope":["Service","Test"],)"
      R"("$or":[{"source":["aws.cloudwatch"]},)"
      R"({"type":["CloudWatch Alarm State Change","TestValue","TestValue2"]}]}})";
  EXPECT_EQ(ErrorOf(p160, kBody), "FilterPolicy: Filter policy is too complex");
  const char* p150 =
      R"({"source":["aws.cloudwatch","aws.events","aws.test"],)"
      R"("$or":[{"metricName":["CPUUtilization","ReadLatency","TestVal","TestVal2","TestVal3","TestVal4"]},)"
      R"({"metricType":["MetricType","TestType","TestType2","TestType3"],)"
      R"("$or":[{"metricId":[1234,4321,5678,9012]},{"spaceId":[1,2,3,4,5,6,7]}]}]})";
  EXPECT_EQ(ComplexityOf(p150, kAttrs), 150);
}

// ---- Our choices and further cases
// -------------------------------------------

TEST(FilterPolicyTest, EmptyPolicyMatchesEverything) {
  EXPECT_TRUE(MatchAttrs("{}", {}));
  EXPECT_TRUE(MatchBody("{}", "not json"));
  EXPECT_EQ(ComplexityOf("{}", kAttrs), 0);
}

TEST(FilterPolicyTest, BinaryAttributesAreIgnored) {
  EXPECT_FALSE(MatchAttrs(R"({"a":["x"]})", {{"a", "Binary", "x"}}));
  EXPECT_FALSE(
      MatchAttrs(R"({"a":[{"exists":true}]})", {{"a", "Binary", "x"}}));
  // A binary-only message still has attributes, so exists:false matches.
  EXPECT_TRUE(
      MatchAttrs(R"({"a":[{"exists":false}]})", {{"a", "Binary", "x"}}));
  EXPECT_FALSE(MatchAttrs(R"({"a":[{"anything-but":"y"}]})",
                          {{"a", "Binary.png", "x"}}));
}

TEST(FilterPolicyTest, AnythingButNeedsTheKey) {
  EXPECT_FALSE(
      MatchAttrs(R"({"a":[{"anything-but":"x"}]})", {{"b", "String", "y"}}));
  EXPECT_FALSE(MatchBody(R"({"a":[{"anything-but":"x"}]})", R"({"b":"y"})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"anything-but":"x"}]})", R"({"a":null})"));
  EXPECT_FALSE(
      MatchBody(R"({"a":[{"anything-but":{"prefix":"x"}}]})", R"({"b":"y"})"));
  // Other types than the listed ones are "anything but".
  EXPECT_TRUE(MatchBody(R"({"a":[{"anything-but":"x"}]})", R"({"a":5})"));
  EXPECT_TRUE(MatchBody(R"({"a":[{"anything-but":[5]}]})", R"({"a":"5"})"));
  EXPECT_TRUE(
      MatchAttrs(R"({"a":[{"anything-but":"x"}]})", {{"a", "Number", "1"}}));
}

TEST(FilterPolicyTest, StringPoliciesDoNotMatchNumbers) {
  EXPECT_FALSE(MatchAttrs(R"({"a":["100"]})", {{"a", "Number", "100"}}));
  EXPECT_FALSE(MatchBody(R"({"a":["100"]})", R"({"a":100})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"prefix":"1"}]})", R"({"a":100})"));
  EXPECT_FALSE(
      MatchAttrs(R"({"a":[{"numeric":[">",1]}]})", {{"a", "String", "5"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":[{"numeric":[">",1]}]})",
                         {{"a", "String.Array", R"(["x",5])"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":[100]})", {{"a", "Number.custom", "1e2"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":["x"]})", {{"a", "String.custom", "x"}}));
}

TEST(FilterPolicyTest, LiteralsMatchTypedValues) {
  EXPECT_TRUE(MatchBody(R"({"a":[true]})", R"({"a":true})"));
  EXPECT_FALSE(MatchBody(R"({"a":[true]})", R"({"a":"true"})"));
  EXPECT_TRUE(MatchBody(R"({"a":[false]})", R"({"a":[1,false]})"));
  EXPECT_TRUE(MatchBody(R"({"a":[null]})", R"({"a":null})"));
  EXPECT_FALSE(MatchBody(R"({"a":[null]})", R"({"b":1})"));
  EXPECT_TRUE(MatchAttrs(R"({"a":[true]})", {{"a", "String.Array", "[true]"}}));
  EXPECT_FALSE(MatchAttrs(R"({"a":[true]})", {{"a", "String", "true"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":[null]})", {{"a", "String.Array", "[null]"}}));
}

TEST(FilterPolicyTest, NumbersCompareAfterRounding) {
  EXPECT_TRUE(MatchBody(R"({"a":[301.5]})", R"({"a":3.015e2})"));
  EXPECT_TRUE(MatchBody(R"({"a":[0.3]})", R"({"a":0.30000000000000004})"));
  EXPECT_TRUE(MatchBody(R"({"a":[1]})", R"({"a":1.0000001})"));
  EXPECT_FALSE(MatchBody(R"({"a":[1]})", R"({"a":1.00001})"));
  EXPECT_TRUE(MatchBody(R"({"a":[-0]})", R"({"a":0})"));
  // Beyond +-1e9 (sns.md §5.3): accepted and compared.
  EXPECT_TRUE(MatchBody(R"({"a":[{"numeric":[">",1000000001]}]})",
                        R"({"a":5000000000})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"numeric":[">",1000000001]}]})",
                         R"({"a":1000000000})"));
  EXPECT_TRUE(
      MatchAttrs(R"({"a":[{"numeric":["<",0]}]})", {{"a", "Number", "-1.5"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":[{"numeric":[">=",1,"<",2]}]})",
                         {{"a", "Number", "1"}}));
  EXPECT_FALSE(MatchAttrs(R"({"a":[{"numeric":[">=",1,"<",2]}]})",
                          {{"a", "Number", "2"}}));
  EXPECT_FALSE(MatchAttrs(R"({"a":[1]})", {{"a", "Number", "one"}}));
}

TEST(FilterPolicyTest, CidrIPv6AndEdges) {
  const char* p = R"({"ip":[{"cidr":"2001:db8::/32"}]})";
  EXPECT_TRUE(MatchAttrs(p, {{"ip", "String", "2001:db8::1"}}));
  EXPECT_TRUE(MatchAttrs(
      p, {{"ip", "String", "2001:0DB8:ffff:ffff:ffff:ffff:ffff:ffff"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"ip", "String", "2001:db9::"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"ip", "String", "10.0.0.1"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"ip", "String", "not an ip"}}));
  EXPECT_TRUE(MatchAttrs(R"({"ip":[{"cidr":"10.0.0.7/32"}]})",
                         {{"ip", "String", "10.0.0.7"}}));
  EXPECT_FALSE(MatchAttrs(R"({"ip":[{"cidr":"10.0.0.7/32"}]})",
                          {{"ip", "String", "10.0.0.8"}}));
  EXPECT_TRUE(MatchAttrs(R"({"ip":[{"cidr":"0.0.0.0/0"}]})",
                         {{"ip", "String", "255.255.255.255"}}));
  EXPECT_FALSE(MatchAttrs(R"({"ip":[{"cidr":"10.0.0.0/8"}]})",
                          {{"ip", "Number", "10"}}));
}

TEST(FilterPolicyTest, OrIsOnlyAnOrWhenItLooksLikeOne) {
  // Reserved keywords inside: a plain key named "$or" (sns.md §2.2).
  EXPECT_EQ(ErrorOf(R"({"$or":[{"prefix":"abc"},{"suffix":"x"}]})"), "OK");
  EXPECT_TRUE(MatchAttrs(R"({"$or":[{"prefix":"abc"},{"suffix":"x"}]})",
                         {{"$or", "String", "abcd"}}));
  EXPECT_FALSE(MatchAttrs(R"({"$or":[{"prefix":"abc"},{"suffix":"x"}]})",
                          {{"prefix", "String", "abc"}}));
  // One object only: plain key too.
  EXPECT_TRUE(MatchAttrs(R"({"$or":["x"]})", {{"$or", "String", "x"}}));
  EXPECT_EQ(ErrorOf(R"({"$or":[{"a":["x"]}]})"),
            "FilterPolicy: Unrecognized match type a");
  // A real one, nested and in body scope.
  const char* p =
      R"({"$or":[{"a":["1"]},{"$or":[{"b":["2"]},{"c":{"d":["3"]}}]}]})";
  EXPECT_TRUE(MatchBody(p, R"({"a":"1"})"));
  EXPECT_TRUE(MatchBody(p, R"({"b":"2"})"));
  EXPECT_TRUE(MatchBody(p, R"({"c":{"d":"3"}})"));
  EXPECT_FALSE(MatchBody(p, R"({"c":{"d":"4"},"a":"2"})"));
  EXPECT_EQ(ErrorOf(p, kAttrs),
            "Filter policy scope MessageAttributes does not support nested "
            "filter policy");
}

TEST(FilterPolicyTest, KeysAreCountedPerOrBranchAtTheLeaves) {
  // 3 + max(3, 2) leaves = 6 > 5.
  EXPECT_EQ(
      ErrorOf(
          R"({"a":[1],"b":[1],"c":[1],"$or":[{"d":[1],"e":[1],"f":[1]},{"g":[1],"h":[1]}]})"),
      "FilterPolicy: Filter policy can not have more than 5 keys");
  EXPECT_EQ(
      ErrorOf(
          R"({"a":[1],"b":[1],"c":[1],"$or":[{"d":[1],"e":[1]},{"g":[1],"h":[1]}]})"),
      "OK");
  EXPECT_EQ(
      ErrorOf(R"({"n":{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}})",
              kBody),
      "FilterPolicy: Filter policy can not have more than 5 keys");
}

TEST(FilterPolicyTest, ExistsInBody) {
  EXPECT_TRUE(MatchBody(R"({"a":[{"exists":true}]})", R"({"a":"x"})"));
  EXPECT_TRUE(MatchBody(R"({"a":[{"exists":true}]})", R"({"a":[1,2]})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":true}]})", R"({"a":null})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":true}]})", R"({"a":{"b":1}})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":true}]})", R"({"a":[]})"));
  EXPECT_TRUE(MatchBody(R"({"a":[{"exists":false}]})", R"({})"));
  EXPECT_TRUE(MatchBody(R"({"a":[{"exists":false}]})", R"({"a":{"b":1}})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":false}]})", "[1]"));
  EXPECT_TRUE(
      MatchBody(R"({"a":{"b":[{"exists":true}]}})", R"({"a":[{"b":0}]})"));
}

TEST(FilterPolicyTest, StringArrayEdgeCases) {
  const char* p = R"({"a":["x"]})";
  EXPECT_FALSE(MatchAttrs(p, {{"a", "String.Array", "['x']"}}));  // not JSON
  EXPECT_FALSE(MatchAttrs(p, {{"a", "String.Array", R"(["x")"}}));
  EXPECT_TRUE(MatchAttrs(p, {{"a", "String.Array", R"("x")"}}));  // scalar
  EXPECT_TRUE(
      MatchAttrs(p, {{"a", "String.Array", R"([["x"], {"k":"x"}, "x"])"}}));
  EXPECT_FALSE(MatchAttrs(p, {{"a", "String.Array", R"([["x"], {"k":"x"}])"}}));
  EXPECT_TRUE(
      MatchAttrs(R"({"a":["q\"x"]})", {{"a", "String.Array", R"(["q\"x"])"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":["\u00e9"]})",
                         {{"a", "String.Array", R"(["\u00e9"])"}}));
  EXPECT_TRUE(
      MatchAttrs(R"({"a":[{"exists":true}]})", {{"a", "String.Array", "[]"}}));
  EXPECT_TRUE(MatchAttrs(R"({"a":[{"exists":true}]})",
                         {{"a", "String.Array", "not json"}}));
}

TEST(FilterPolicyTest, BodyEdgeCases) {
  EXPECT_FALSE(MatchBody(R"({"a":["x"]})", ""));
  EXPECT_FALSE(MatchBody(R"({"a":["x"]})", R"({"a":"x"} trailing)"));
  EXPECT_TRUE(MatchBody(R"({"a":["x"]})", R"( {"a" : "x"} )"));
  EXPECT_TRUE(
      MatchBody(R"({"a":{"b":["x"]}})", R"({"a":[[[{"b":["y",["x"]]}]]]})"));
  EXPECT_FALSE(MatchBody(R"({"a":["x"]})", R"({"A":"x"})"));
  // The body scanner: escapes in keys and values, numbers, invalid JSON.
  EXPECT_TRUE(MatchBody(R"({"a.b":["x\"y"]})", R"({"a\u002eb":"x\"y"})"));
  EXPECT_TRUE(MatchBody(R"({"a":["\u00e9"]})", R"({"a":"\u00e9"})"));
  EXPECT_TRUE(
      MatchBody(R"({"a":["\ud83d\ude00"]})", R"({"a":"\ud83d\ude00"})"));
  EXPECT_TRUE(MatchBody(R"({"a":[-1.5e3]})", R"({"a":-1500})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":false}]})", R"({"a":1,})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":false}]})", R"({"a":01})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":false}]})", R"({"a":"\x"})"));
  EXPECT_FALSE(
      MatchBody(R"({"a":[{"exists":false}]})", R"({"a":"unterminated})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":false}]})", R"({"b" 1})"));
  EXPECT_FALSE(MatchBody(R"({"a":[{"exists":false}]})", "{\"b\":\"\x01\"}"));
  EXPECT_TRUE(MatchBody(R"({"a":[{"exists":false}]})", " {\n\t\"b\" : [ ] } "));
  // Attributes are not looked at in body scope.
  FilterPolicy p = MustCompile(R"({"a":["x"]})", kBody);
  MessageAttributeMap attrs = Attrs({{"a", "String", "x"}});
  FilterMessage m(attrs, R"({"b":"x"})");
  EXPECT_FALSE(p.Matches(m));
}

TEST(FilterPolicyTest, FilterMessageParsesTheBodyOnce) {
  MessageAttributeMap none;
  FilterMessage m(none, R"({"a":{"b":[1,2]}})");
  const FilterMessage::Parsed* first = m.parsed_body();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(m.parsed_body(), first);
  FilterMessage not_object(none, "[1]");
  EXPECT_EQ(not_object.parsed_body(), nullptr);
}

// ---- FilterIndex
// --------------------------------------------------------------

std::shared_ptr<const FilterPolicy> Shared(std::string_view policy,
                                           FilterPolicyScope scope) {
  return std::make_shared<const FilterPolicy>(MustCompile(policy, scope));
}

std::vector<FilterIndex::Key> IndexMatch(const FilterIndex& index,
                                         const MessageAttributeMap& attrs,
                                         std::string_view body) {
  FilterMessage m(attrs, body);
  std::vector<FilterIndex::Key> out;
  index.Match(m, &out);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FilterIndexTest, AddReplaceRemoveAndCopy) {
  FilterIndex index;
  index.Add(1, Shared(R"({"t":["a"]})", kAttrs));
  index.Add(2, Shared(R"({"t":["a","b"],"n":[{"numeric":[">",5]}]})", kAttrs));
  index.Add(3, Shared(R"({"t":[{"anything-but":"a"}]})", kAttrs));
  index.Add(4, Shared(R"({"t":["a"]})", kBody));
  index.Add(5, Shared("{}", kAttrs));
  EXPECT_EQ(index.size(), 5u);
  MessageAttributeMap a = Attrs({{"t", "String", "a"}, {"n", "Number", "6"}});
  EXPECT_EQ(IndexMatch(index, a, R"({"t":"a"})"),
            (std::vector<FilterIndex::Key>{1, 2, 4, 5}));
  MessageAttributeMap b = Attrs({{"t", "String", "b"}});
  EXPECT_EQ(IndexMatch(index, b, "x"), (std::vector<FilterIndex::Key>{3, 5}));

  FilterIndex copy = index;
  index.Add(1, Shared(R"({"t":["b"]})", kAttrs));  // replace
  index.Remove(3);
  index.Remove(42);  // absent: no-op
  EXPECT_EQ(index.size(), 4u);
  EXPECT_EQ(IndexMatch(index, b, "x"), (std::vector<FilterIndex::Key>{1, 5}));
  // The copy is unaffected.
  EXPECT_EQ(IndexMatch(copy, b, "x"), (std::vector<FilterIndex::Key>{3, 5}));
  FilterIndex moved = std::move(copy);
  EXPECT_EQ(moved.size(), 5u);
  copy = index;
  EXPECT_EQ(IndexMatch(copy, b, "x"), (std::vector<FilterIndex::Key>{1, 5}));
}

TEST(FilterIndexTest, EachKeyOnceEvenWhenReachedManyWays) {
  FilterIndex index;
  index.Add(
      7, Shared(R"({"$or":[{"a":["x"]},{"b":["x",{"prefix":"x"}]}]})", kBody));
  MessageAttributeMap none;
  EXPECT_EQ(IndexMatch(index, none, R"({"a":["x","x"],"b":"x"})"),
            (std::vector<FilterIndex::Key>{7}));
}

TEST(FilterIndexTest, PoliciesOnManyDistinctKeys) {
  FilterIndex index;
  for (int i = 0; i < 1000; ++i) {
    index.Add(i, Shared(absl::StrCat(R"({"k)", i, R"(":["x"]})"), kAttrs));
    index.Add(1000 + i,
              Shared(absl::StrCat(R"({"b":{"k)", i, R"(":["x"]}})"), kBody));
  }
  MessageAttributeMap attrs = Attrs({{"k5", "String", "x"}});
  EXPECT_EQ(IndexMatch(index, attrs, R"({"b":{"k7":"x","k8":"y"}})"),
            (std::vector<FilterIndex::Key>{5, 1007}));
}

// A random policy over a small vocabulary, so that random messages match
// some of them. Returns "" when the generated text is invalid.
class RandomPolicies {
 public:
  explicit RandomPolicies(uint32_t seed) : rng_(seed) {}

  int Int(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  std::string Key() {
    static const char* kKeys[] = {"a", "b", "c", "d.e", "d"};
    return kKeys[Int(5)];
  }
  std::string Str() { return absl::StrCat("v", Int(6)); }
  std::string Num() { return absl::StrCat(Int(10)); }

  std::string Condition() {
    switch (Int(14)) {
      case 0:
      case 1:
      case 2:
        return absl::StrCat("\"", Str(), "\"");
      case 3:
        return Num();
      case 4:
        return absl::StrCat(R"({"prefix":"v)", Int(3), "\"}");
      case 5:
        return absl::StrCat(R"({"suffix":")", Int(6), "\"}");
      case 6:
        return absl::StrCat(R"({"equals-ignore-case":"V)", Int(6), "\"}");
      case 7:
        return absl::StrCat(R"({"anything-but":[")", Str(), "\",\"", Str(),
                            "\"]}");
      case 8:
        return absl::StrCat(R"({"anything-but":)", Num(), "}");
      case 9: {
        int lo = Int(9);
        return absl::StrCat(R"({"numeric":[">=",)", lo, R"(,"<",)",
                            lo + 1 + Int(4), "]}");
      }
      case 10:
        return absl::StrCat(R"({"numeric":["<",)", Int(10), "]}");
      case 11:
        return Int(2) ? R"({"exists":true})" : R"({"exists":false})";
      case 12:
        return Int(2) ? "true" : "null";
      default:
        return R"({"anything-but":{"prefix":"v1"}})";
    }
  }

  std::string Leaf() {
    std::vector<std::string> conds;
    const int n = 1 + Int(3);
    for (int i = 0; i < n; ++i) conds.push_back(Condition());
    return absl::StrCat("[", absl::StrJoin(conds, ","), "]");
  }

  std::string Object(bool body, int level) {
    std::vector<std::string> members;
    std::set<std::string> used;
    const int n = 1 + Int(3);
    for (int i = 0; i < n; ++i) {
      std::string key = Key();
      if (!used.insert(key).second) continue;
      if (body && level < 2 && Int(5) == 0) {
        members.push_back(
            absl::StrCat("\"", key, "\":", Object(body, level + 1)));
      } else {
        members.push_back(absl::StrCat("\"", key, "\":", Leaf()));
      }
    }
    if (level < 2 && Int(4) == 0) {
      members.push_back(absl::StrCat(R"("$or":[)", Object(body, level + 1), ",",
                                     Object(body, level + 1), "]"));
    }
    return absl::StrCat("{", absl::StrJoin(members, ","), "}");
  }

  MessageAttributeMap Attributes() {
    MessageAttributeMap map;
    const int n = Int(4);
    for (int i = 0; i < n; ++i) {
      static const char* kNames[] = {"a", "b", "c", "d", "d.e"};
      MessageAttributeValue v;
      switch (Int(4)) {
        case 0:
          v.data_type = "Number";
          v.string_value = Num();
          break;
        case 1:
          v.data_type = "String.Array";
          v.string_value =
              absl::StrCat("[\"", Str(), "\",", Num(), ",\"", Str(), "\"]");
          break;
        case 2:
          v.data_type = "Binary";
          v.binary_value = Str();
          break;
        default:
          v.data_type = "String";
          v.string_value = Int(3) == 0 ? absl::StrCat("V", Int(6)) : Str();
      }
      map[kNames[Int(5)]] = v;
    }
    return map;
  }

  std::string BodyValue(int level) {
    switch (Int(level < 2 ? 7 : 5)) {
      case 0:
        return Num();
      case 1:
        return "null";
      case 2:
        return "true";
      case 3:
      case 4:
        return absl::StrCat("\"", Int(3) == 0 ? "V" : "v", Int(6), "\"");
      case 5:
        return absl::StrCat("[", BodyValue(level + 1), ",",
                            BodyValue(level + 1), "]");
      default: {
        std::vector<std::string> members;
        const int n = 1 + Int(3);
        for (int i = 0; i < n; ++i) {
          members.push_back(
              absl::StrCat("\"", Key(), "\":", BodyValue(level + 1)));
        }
        return absl::StrCat("{", absl::StrJoin(members, ","), "}");
      }
    }
  }

  std::string Body() {
    if (Int(20) == 0) return "not json";
    std::vector<std::string> members;
    const int n = Int(5);
    for (int i = 0; i < n; ++i) {
      members.push_back(absl::StrCat("\"", Key(), "\":", BodyValue(0)));
    }
    return absl::StrCat("{", absl::StrJoin(members, ","), "}");
  }

 private:
  std::mt19937 rng_;
};

TEST(FilterIndexTest, MatchEqualsLoopOverMatchesOnRandomPolicies) {
  RandomPolicies gen(20261129);
  std::vector<std::shared_ptr<const FilterPolicy>> policies;
  FilterIndex index;
  int compiled = 0;
  for (int i = 0; policies.size() < 3000 && i < 20000; ++i) {
    const bool body = gen.Int(2) == 0;
    const std::string text = gen.Object(body, 0);
    absl::StatusOr<FilterPolicy> p =
        FilterPolicy::Compile(text, body ? kBody : kAttrs);
    if (!p.ok()) continue;
    ++compiled;
    policies.push_back(std::make_shared<const FilterPolicy>(*std::move(p)));
    index.Add(policies.size() - 1, policies.back());
  }
  ASSERT_EQ(policies.size(), 3000u);
  // Replace and remove some, so that the index is exercised after changes.
  for (int i = 0; i < 300; ++i) {
    const FilterIndex::Key k = static_cast<FilterIndex::Key>(gen.Int(3000));
    if (i % 2 == 0) {
      index.Remove(k);
      policies[k] = nullptr;
    } else if (policies[k] != nullptr) {
      index.Add(k, policies[(k + 1) % policies.size()] != nullptr
                       ? policies[(k + 1) % policies.size()]
                       : policies[k]);
      policies[k] = policies[(k + 1) % policies.size()] != nullptr
                        ? policies[(k + 1) % policies.size()]
                        : policies[k];
    }
  }
  int total_matches = 0;
  for (int m = 0; m < 2000; ++m) {
    MessageAttributeMap attrs = gen.Attributes();
    const std::string body = gen.Body();
    FilterMessage message(attrs, body);
    std::vector<FilterIndex::Key> want;
    for (size_t k = 0; k < policies.size(); ++k) {
      if (policies[k] != nullptr && policies[k]->Matches(message)) {
        want.push_back(k);
      }
    }
    std::vector<FilterIndex::Key> got;
    index.Match(message, &got);
    ASSERT_THAT(got, UnorderedElementsAreArray(want))
        << "attributes: " << attrs.size() << " body: " << body;
    total_matches += static_cast<int>(want.size());
  }
  // The generator must produce matches for the comparison to mean much.
  EXPECT_GT(total_matches, 2000);
}

}  // namespace
}  // namespace ferry::internal
