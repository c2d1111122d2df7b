// The Kinesis wire's building blocks: the CBOR subset (gateway/src/cbor.h)
// and the AWS event-stream framing (gateway/src/event_stream.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cbor.h"
#include "event_stream.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ferry::gateway_internal {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

// A binary value's bytes (comparing the nlohmann container directly is
// ambiguous under clang).
std::vector<uint8_t> Bin(const Json& v) {
  const auto& b = v.get_binary();
  return std::vector<uint8_t>(b.begin(), b.end());
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(CborTest, DecodesScalarsMapsAndArrays) {
  // {"a": 1, "b": [-1, "x", true, false, null], "c": h'0102'}
  std::optional<Json> v =
      DecodeCbor(Bytes({0xA3, 0x61, 'a', 0x01, 0x61, 'b', 0x85, 0x20, 0x61, 'x',
                        0xF5, 0xF4, 0xF6, 0x61, 'c', 0x42, 0x01, 0x02}));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)["a"], 1);
  EXPECT_EQ((*v)["b"], Json::parse(R"([-1,"x",true,false,null])"));
  ASSERT_TRUE((*v)["c"].is_binary());
  EXPECT_EQ(Bin((*v)["c"]), std::vector<uint8_t>({1, 2}));
}

TEST(CborTest, DecodesIndefiniteLengthsAndFloats) {
  // {_ "s": (_ "ab" "c"), "d": (_ h'01' h'02'), "l": [_ 1, 2], "h": 1.5
  // (half), "f": 0.25 (single), "g": 2.5 (double)}
  std::optional<Json> v = DecodeCbor(
      Bytes({0xBF, 0x61, 's',  0x7F, 0x62, 'a',  'b',  0x61, 'c',  0xFF,
             0x61, 'd',  0x5F, 0x41, 0x01, 0x41, 0x02, 0xFF, 0x61, 'l',
             0x9F, 0x01, 0x02, 0xFF, 0x61, 'h',  0xF9, 0x3E, 0x00, 0x61,
             'f',  0xFA, 0x3E, 0x80, 0x00, 0x00, 0x61, 'g',  0xFB, 0x40,
             0x04, 0,    0,    0,    0,    0,    0,    0xFF}));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)["s"], "abc");
  EXPECT_EQ(Bin((*v)["d"]), std::vector<uint8_t>({1, 2}));
  EXPECT_EQ((*v)["l"], Json::parse("[1,2]"));
  EXPECT_DOUBLE_EQ((*v)["h"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ((*v)["f"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ((*v)["g"].get<double>(), 2.5);
}

TEST(CborTest, TagOneIntegerIsJavaMillisAndFloatIsSeconds) {
  // 1(1785732980986) as the Java SDK writes it: milliseconds.
  std::optional<Json> ms = DecodeCbor(
      Bytes({0xC1, 0x1B, 0x00, 0x00, 0x01, 0x9F, 0xC5, 0xFA, 0xE0, 0xFA}));
  ASSERT_TRUE(ms.has_value());
  EXPECT_DOUBLE_EQ(ms->get<double>(), 1785732980986 / 1000.0) << ms->dump();
  // 1(1.5e9) as RFC 8949 means it: seconds.
  std::optional<Json> s = DecodeCbor(
      Bytes({0xC1, 0xFB, 0x41, 0xD6, 0x5A, 0x0B, 0xC0, 0x00, 0x00, 0x00}));
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->get<double>(), 1.5e9);
  // Other tags are skipped.
  EXPECT_EQ(DecodeCbor(Bytes({0xD8, 0x20, 0x61, 'u'})), Json("u"));
}

TEST(CborTest, RejectsMalformedInput) {
  EXPECT_FALSE(DecodeCbor("").has_value());
  EXPECT_FALSE(DecodeCbor(Bytes({0x62, 'a'})).has_value());         // truncated
  EXPECT_FALSE(DecodeCbor(Bytes({0x01, 0x02})).has_value());        // trailing
  EXPECT_FALSE(DecodeCbor(Bytes({0xA1, 0x01, 0x02})).has_value());  // key
  EXPECT_FALSE(DecodeCbor(Bytes({0xFF})).has_value());        // stray break
  EXPECT_FALSE(DecodeCbor(Bytes({0x9F, 0x01})).has_value());  // no break
  EXPECT_FALSE(
      DecodeCbor(Bytes({0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}))
          .has_value());  // a huge array with no items
  std::string deep(100, static_cast<char>(0x81));
  deep.push_back(0x01);
  EXPECT_FALSE(DecodeCbor(deep).has_value());
}

TEST(CborTest, EncodesTimestampsAsTaggedMillisAndRoundTrips) {
  OJson v;
  v["Data"] = OJson::binary({0, 1, 255});
  v["N"] = -500;
  v["Big"] = uint64_t{1} << 40;
  v["T"] = 1785732980.986;
  v["L"] = OJson::array({"x", true, nullptr});
  std::string bytes = EncodeCbor(v);
  // The timestamp: tag 1, then the integer 1785732980986.
  EXPECT_NE(bytes.find(Bytes(
                {0xC1, 0x1B, 0x00, 0x00, 0x01, 0x9F, 0xC5, 0xFA, 0xE0, 0xFA})),
            std::string::npos);
  std::optional<Json> back = DecodeCbor(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(Bin((*back)["Data"]), std::vector<uint8_t>({0, 1, 255}));
  EXPECT_EQ((*back)["N"], -500);
  EXPECT_EQ((*back)["Big"], uint64_t{1} << 40);
  EXPECT_DOUBLE_EQ((*back)["T"].get<double>(), 1785732980.986);
  EXPECT_EQ((*back)["L"], Json::parse(R"(["x",true,null])"));
}

TEST(EventStreamTest, Crc32MatchesTheCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(EventStreamTest, EncodesAndDecodesMessages) {
  std::string bytes = EncodeEvent("SubscribeToShardEvent", "application/json",
                                  R"({"Records":[]})");
  bytes += EncodeException("ResourceNotFoundException", "application/json",
                           R"({"message":"gone"})");
  bool error = false;
  std::optional<EventStreamMessage> m =
      DecodeEventStreamMessage(&bytes, &error);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->Header(":message-type"), "event");
  EXPECT_EQ(m->Header(":event-type"), "SubscribeToShardEvent");
  EXPECT_EQ(m->Header(":content-type"), "application/json");
  EXPECT_EQ(m->payload, R"({"Records":[]})");
  m = DecodeEventStreamMessage(&bytes, &error);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->Header(":message-type"), "exception");
  EXPECT_EQ(m->Header(":exception-type"), "ResourceNotFoundException");
  EXPECT_TRUE(bytes.empty());
  EXPECT_FALSE(DecodeEventStreamMessage(&bytes, &error).has_value());
  EXPECT_FALSE(error);
}

TEST(EventStreamTest, PartialAndCorruptMessages) {
  const std::string whole = EncodeEvent("initial-response", "x", "{}");
  bool error = false;
  std::string part = whole.substr(0, whole.size() - 1);
  EXPECT_FALSE(DecodeEventStreamMessage(&part, &error).has_value());
  EXPECT_FALSE(error);
  std::string bad = whole;
  bad[bad.size() - 5] ^= 1;  // payload byte: the message CRC fails
  EXPECT_FALSE(DecodeEventStreamMessage(&bad, &error).has_value());
  EXPECT_TRUE(error);
  bad = whole;
  bad[1] ^= 1;  // length: the prelude CRC fails
  EXPECT_FALSE(DecodeEventStreamMessage(&bad, &error).has_value());
  EXPECT_TRUE(error);
}

}  // namespace
}  // namespace ferry::gateway_internal
