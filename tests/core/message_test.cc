// The shared message values of ferry/message.h: SharedString (inline up to
// kInline bytes, one refcounted block above) and SharedAttributes.
#include "ferry/message.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace ferry {
namespace {

TEST(SharedStringTest, EmptyByDefault) {
  SharedString s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s, "");
  EXPECT_EQ(std::string_view(s), "");
}

TEST(SharedStringTest, ShortAndLongValuesRoundTrip) {
  for (size_t n : {size_t{1}, SharedString::kInline, SharedString::kInline + 1,
                   size_t{64}, size_t{300000}}) {
    std::string v(n, 'x');
    v[0] = 'a';
    v[n - 1] = 'z';
    SharedString s = v;
    EXPECT_EQ(s.size(), n);
    EXPECT_EQ(s, v);
    EXPECT_EQ(s.str(), v);
    SharedString copy = s;
    EXPECT_EQ(copy, v);
    SharedString moved = std::move(s);
    EXPECT_EQ(moved, v);
    EXPECT_TRUE(s.empty());  // NOLINT: a moved-from value is empty
  }
}

TEST(SharedStringTest, CopiesOfALongValueShareItsBytes) {
  SharedString a = std::string(100, 'q');
  SharedString b = a;
  EXPECT_EQ(a.data(), b.data());
  SharedString c = std::string(5, 'q');
  SharedString d = c;
  EXPECT_NE(c.data(), d.data());  // inline: each copy has its own bytes
  EXPECT_EQ(c, d);
}

TEST(SharedStringTest, AssignmentReplacesOnlyThisCopy) {
  SharedString a = std::string(100, 'a');
  SharedString b = a;
  b = "short";
  EXPECT_EQ(a, std::string(100, 'a'));
  EXPECT_EQ(b, "short");
  b = std::string(40, 'b');
  EXPECT_EQ(b, std::string(40, 'b'));
  b = std::string_view("view");
  EXPECT_EQ(b, "view");
  a.clear();
  EXPECT_TRUE(a.empty());
  b.swap(a);
  EXPECT_EQ(a, "view");
  EXPECT_TRUE(b.empty());
}

TEST(SharedStringTest, HoldsAnyBytes) {
  const std::string bytes("a\0b\xff", 4);
  SharedString s = bytes;
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s, bytes);
  EXPECT_FALSE(s == std::string("a"));
}

TEST(SharedStringTest, CopiesLiveAndDieOnOtherThreads) {
  SharedString s = std::string(1000, 'm');
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = s] {
      for (int i = 0; i < 1000; ++i) {
        SharedString again = copy;
        ASSERT_EQ(again.size(), 1000u);
      }
    });
  }
  s = "gone";
  for (auto& t : threads) t.join();
  EXPECT_EQ(s, "gone");
}

TEST(SharedAttributesTest, EmptyAndFilled) {
  SharedAttributes none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.begin(), none.end());
  EXPECT_EQ(none, MessageAttributeMap());

  MessageAttributeMap m{{"a", {.data_type = "String", .string_value = "1"}},
                        {"b", {.data_type = "Number", .string_value = "2"}}};
  SharedAttributes s = m;
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s, m);
  EXPECT_EQ(s.at("b").string_value, "2");
  EXPECT_EQ(s.count("a"), 1u);
  EXPECT_TRUE(s.contains("a"));
  EXPECT_EQ(s.find("c"), s.end());
  const MessageAttributeMap& view = s;
  EXPECT_EQ(view, m);

  SharedAttributes copy = s;
  EXPECT_EQ(&copy.map(), &s.map());  // shared
  copy =
      MessageAttributeMap{{"c", {.data_type = "String", .string_value = "3"}}};
  EXPECT_EQ(s, m);
  EXPECT_EQ(copy.size(), 1u);
  EXPECT_FALSE(copy == s);
  copy.clear();
  EXPECT_TRUE(copy.empty());
  SharedAttributes moved = std::move(s);
  EXPECT_EQ(moved, m);
}

TEST(StoredMessageTest, CopiesShareBodyAndAttributes) {
  StoredMessage a;
  a.body = std::string(200, 'b');
  a.attributes =
      MessageAttributeMap{{"k", {.data_type = "String", .string_value = "v"}}};
  StoredMessage b = a;
  EXPECT_EQ(a.body.data(), b.body.data());
  EXPECT_EQ(&a.attributes.map(), &b.attributes.map());
  b.body = "changed";
  EXPECT_EQ(a.body, std::string(200, 'b'));
}

}  // namespace
}  // namespace ferry
