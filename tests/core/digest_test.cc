#include "digest.h"

#include <string>

#include "ferry/message.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ferry::internal {
namespace {

MessageAttributeMap One(const std::string& name, const std::string& type,
                        const std::string& value) {
  MessageAttributeValue v;
  v.data_type = type;
  if (type.rfind("Binary", 0) == 0) {
    v.binary_value = value;
  } else {
    v.string_value = value;
  }
  return {{name, v}};
}

TEST(Md5Test, BodyDigest) {
  EXPECT_EQ(Md5Hex("message"), "78e731027d8fd50ed642340b7c9a63b3");
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The vectors of sqs.md §2.4, recorded from AWS.
TEST(Md5OfMessageAttributesTest, AwsVectors) {
  EXPECT_EQ(Md5OfMessageAttributes(One("Foo", "String", "Bar")),
            "ae7155c6026991b6d54b11589678bf9c");
  EXPECT_EQ(Md5OfMessageAttributes(One("MyAttribute", "String", "foobar")),
            "adb59cd4678ea5a855436b949cd07ab6");
  EXPECT_EQ(Md5OfMessageAttributes(One("k", "String", "x")),
            "a45daa70926828a2f0a1db3418e6feb4");
  EXPECT_EQ(Md5OfMessageAttributes(One("timestamp", "Number", "1493147359900")),
            "235c5c510d26fb653d073faed50ae77c");
  EXPECT_EQ(Md5OfMessageAttributes(
                One("attr1", "Binary",
                    "traceparent\x1e"
                    "00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01")),
            "8cbe4db156db8a94db8b801b7addb984");
}

TEST(Md5OfMessageAttributesTest, EmptyMapHasNoDigest) {
  EXPECT_EQ(Md5OfMessageAttributes({}), "");
}

TEST(Md5OfMessageAttributesTest, CustomTypeLabelIsPartOfTheDigest) {
  EXPECT_NE(Md5OfMessageAttributes(One("a", "String", "v")),
            Md5OfMessageAttributes(One("a", "String.label", "v")));
  EXPECT_NE(Md5OfMessageAttributes(One("a", "Binary", "v")),
            Md5OfMessageAttributes(One("a", "Binary.png", "v")));
  // A "Binary.x" type hashes the binary value, tag 2.
  EXPECT_NE(Md5OfMessageAttributes(One("a", "Binary.png", "v")),
            Md5OfMessageAttributes(One("a", "String.png", "v")));
}

TEST(Md5OfMessageAttributesTest, MultipleAttributesInNameOrder) {
  MessageAttributeMap both = One("b", "String", "2");
  both.merge(One("a", "Number", "1"));
  // Computed by hand: the concatenation for "a" then "b".
  std::string buffer;
  auto put = [&](const std::string& s) {
    buffer.push_back(0);
    buffer.push_back(0);
    buffer.push_back(0);
    buffer.push_back(static_cast<char>(s.size()));
    buffer += s;
  };
  put("a");
  put("Number");
  buffer.push_back(1);
  put("1");
  put("b");
  put("String");
  buffer.push_back(1);
  put("2");
  EXPECT_EQ(Md5OfMessageAttributes(both), Md5Hex(buffer));
}

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Base64Test, DecodesWhatItEncodes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string in = all.substr(0, n);
    std::string out;
    ASSERT_TRUE(Base64Decode(Base64Encode(in), &out)) << n;
    EXPECT_EQ(out, in);
  }
  std::string out;
  ASSERT_TRUE(Base64Decode("Zm9vYmE=", &out));
  EXPECT_EQ(out, "fooba");
  ASSERT_TRUE(Base64Decode("Zg==", &out));
  EXPECT_EQ(out, "f");
}

TEST(Base64Test, RejectsMalformedInput) {
  std::string out;
  EXPECT_FALSE(Base64Decode("Zg=", &out));     // length not a multiple of 4
  EXPECT_FALSE(Base64Decode("Zm9vY", &out));   // ditto
  EXPECT_FALSE(Base64Decode("Zm9v\n", &out));  // whitespace
  EXPECT_FALSE(Base64Decode("Zm 9", &out));
  EXPECT_FALSE(Base64Decode("Zm-_", &out));  // URL alphabet
  EXPECT_FALSE(Base64Decode("Z===", &out));  // too much padding
  EXPECT_FALSE(Base64Decode("====", &out));
  EXPECT_FALSE(Base64Decode("Zg==Zg==", &out));  // padding in the middle
  EXPECT_FALSE(Base64Decode("Z=g=", &out));
}

}  // namespace
}  // namespace ferry::internal
