#include "text_rules.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::internal {
namespace {

// UTF-8 of one code point (no validation: may produce surrogates).
std::string Encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

bool XmlAllows(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, long enough for the fast path"));
  EXPECT_TRUE(IsValidUtf8("attr.1\xc3\xb8\xc3\x9f\xc3\xa4"));  // attr.1øßä
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));                    // €
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));                // 😀
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));                // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("\0", 1)));  // valid UTF-8, not XML
}

TEST(Utf8Test, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("abc\xe2\x82"));       // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3("));         // bad continuation
  EXPECT_FALSE(IsValidUtf8("12345678\x80"));  // after the fast path
}

TEST(XmlTextTest, MatchesTheXmlCharacterRangesForEveryCodePoint) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // not encodable
    // Put each code point on both the fast (8-byte) and slow paths.
    std::string s = Encode(cp);
    ASSERT_EQ(IsXmlText(s), XmlAllows(cp)) << std::hex << cp;
    if (cp < 0x300 || (cp & 0xFFF) == 0xFFF || cp % 997 == 0) {
      std::string padded = "abcdefgh" + s + "ijklmnopqrstuvw";
      ASSERT_EQ(IsXmlText(padded), XmlAllows(cp)) << std::hex << cp;
    }
  }
}

TEST(XmlTextTest, AwsRejectedBodies) {
  // The characters of LocalStack's AWS-validated invalid-payload test.
  EXPECT_FALSE(IsXmlText(std::string("a\0b", 3)));
  EXPECT_FALSE(IsXmlText("a\x08z"));
  EXPECT_FALSE(IsXmlText("a\x13z"));
  EXPECT_FALSE(IsXmlText("a\xef\xbf\xbfz"));  // U+FFFF
  EXPECT_FALSE(IsXmlText("a\xef\xbf\xbez"));  // U+FFFE
  EXPECT_FALSE(IsXmlText("\xed\xa0\x80"));    // surrogate
  EXPECT_FALSE(IsXmlText("valid prefix, then invalid UTF-8: \xc3"));
  EXPECT_TRUE(IsXmlText(""));
  EXPECT_TRUE(IsXmlText("tab\tnewline\ncr\r and \x7f del"));
  EXPECT_TRUE(IsXmlText("{\"json\": [1, 2, 3], \"k\": \"\xc3\xa9\"}"));
  std::string long_ascii(1000, 'x');
  EXPECT_TRUE(IsXmlText(long_ascii));
  for (size_t pos : {0, 7, 8, 500, 999}) {
    std::string bad = long_ascii;
    bad[pos] = '\x1f';
    EXPECT_FALSE(IsXmlText(bad)) << pos;
    bad[pos] = '\x80';
    EXPECT_FALSE(IsXmlText(bad)) << pos;
  }
}

TEST(ParseInt64Test, AcceptsStrictDecimal) {
  int64_t v = 0;
  ASSERT_TRUE(ParseInt64("0", &v));
  EXPECT_EQ(v, 0);
  ASSERT_TRUE(ParseInt64("30", &v));
  EXPECT_EQ(v, 30);
  ASSERT_TRUE(ParseInt64("-5", &v));
  EXPECT_EQ(v, -5);
  ASSERT_TRUE(ParseInt64("007", &v));
  EXPECT_EQ(v, 7);
  ASSERT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, RejectsEverythingElse) {
  int64_t v = 42;
  for (const char* bad :
       {"", "-", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "--1", "1-",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999",
        "abc"}) {
    EXPECT_FALSE(ParseInt64(bad, &v)) << bad;
  }
  EXPECT_EQ(v, 42);
}

TEST(ParseBoolTest, TrueAndFalseInAnyCase) {
  bool b = false;
  ASSERT_TRUE(ParseBool("true", &b));
  EXPECT_TRUE(b);
  ASSERT_TRUE(ParseBool("FALSE", &b));
  EXPECT_FALSE(b);
  ASSERT_TRUE(ParseBool("True", &b));
  EXPECT_TRUE(b);
  for (const char* bad : {"", "1", "0", "yes", "tru", "truee", " true"}) {
    EXPECT_FALSE(ParseBool(bad, &b)) << bad;
  }
}

TEST(EpochFormatTest, SecondsAndMillis) {
  absl::Time t = absl::FromUnixMillis(1767225600123);
  EXPECT_EQ(FormatEpochSeconds(t), "1767225600");
  EXPECT_EQ(FormatEpochMillis(t), "1767225600123");
  EXPECT_EQ(FormatEpochMillis(t + absl::Microseconds(999)), "1767225600123");
  EXPECT_EQ(FormatEpochSeconds(absl::UnixEpoch()), "0");
}

}  // namespace
}  // namespace ferry::internal
