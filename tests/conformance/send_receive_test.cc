// SendMessage and ReceiveMessage: body rules, size accounting, MD5 digests,
// message attributes, system attributes, and the receive parameters.
// Reference: sqs.md §1.1, §1.4 (SendMessage, ReceiveMessage), §1.5, §2.4.

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
using ::testing::Key;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kTraceHeader[] =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
    "Sampled=1";

class SendReceiveTest : public ConformanceTest {
 protected:
  absl::StatusOr<ferry::SendMessageResult> SendWithAttributes(
      const std::string& url, const std::string& body,
      ferry::MessageAttributeMap attributes) {
    return sqs().SendMessage(ctx_, {.queue_url = url,
                                    .message_body = body,
                                    .message_attributes = attributes});
  }

  // Receives one message with VisibilityTimeout=0, so it can be received
  // again, returning the given message attributes and system attributes.
  absl::StatusOr<ferry::Message> ReceiveOne(
      const std::string& url, std::vector<std::string> message_attribute_names,
      std::vector<std::string> system_attribute_names = {}) {
    absl::StatusOr<ferry::ReceiveMessageResult> result = sqs().ReceiveMessage(
        ctx_,
        {.queue_url = url,
         .message_system_attribute_names = std::move(system_attribute_names),
         .message_attribute_names = std::move(message_attribute_names),
         .max_number_of_messages = 1,
         .visibility_timeout = 0,
         .wait_time_seconds = 0});
    if (!result.ok()) return result.status();
    if (result->messages.size() != 1) {
      return absl::InternalError(
          absl::StrCat("received ", result->messages.size(), " messages"));
    }
    return result->messages[0];
  }
};

// ---- Bodies and their digests -----------------------------------------------

TEST_P(SendReceiveTest, SendReturnsMessageIdAndMd5OfBody) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                             Send(url, "message"));
  EXPECT_FALSE(sent.message_id.empty());
  EXPECT_EQ(sent.md5_of_message_body, "78e731027d8fd50ed642340b7c9a63b3");
  EXPECT_EQ(sent.md5_of_message_attributes, "");
  EXPECT_EQ(sent.md5_of_message_system_attributes, "");
  EXPECT_EQ(sent.sequence_number, "");
}

TEST_P(SendReceiveTest, ReceiveReturnsTheSentMessage) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                             Send(url, "message"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
  ASSERT_EQ(got.size(), 1);
  EXPECT_EQ(got[0].message_id, sent.message_id);
  EXPECT_EQ(got[0].body, "message");
  EXPECT_EQ(got[0].md5_of_body, "78e731027d8fd50ed642340b7c9a63b3");
  EXPECT_FALSE(got[0].receipt_handle.empty());
  EXPECT_THAT(got[0].attributes, IsEmpty());
  EXPECT_THAT(got[0].message_attributes, IsEmpty());
  EXPECT_EQ(got[0].md5_of_message_attributes, "");
}

TEST_P(SendReceiveTest, MessageIdsAreDistinct) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                               Send(url, "same"));
    ids.insert(sent.message_id);
  }
  EXPECT_EQ(ids.size(), 20);
}

TEST_P(SendReceiveTest, MessageGoesOnlyToItsQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string q0, CreateQueue("q0"));
  FERRY_ASSERT_OK_AND_ASSIGN(std::string q1, CreateQueue("q1"));
  FERRY_ASSERT_OK(Send(q0, "message"));
  EXPECT_THAT(ReceiveBodies(q1), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(ReceiveBodies(q0), IsOkAndHolds(ElementsAre("message")));
}

TEST_P(SendReceiveTest, Md5OfBodyIsTakenOverUtf8Bytes) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const std::string body =
      "h\xc3\xa9llo w\xc3\xb6rld \xe2\x98\x83 \xf0\x9d\x84\x9e";
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent, Send(url, body));
  EXPECT_EQ(sent.md5_of_message_body, "12c36d0850d09b898716b38967ebdee4");
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
  ASSERT_EQ(got.size(), 1);
  EXPECT_EQ(got[0].body, body);
  EXPECT_EQ(got[0].md5_of_body, sent.md5_of_message_body);
}

TEST_P(SendReceiveTest, QuotesAndCarriageReturnsRoundTripExactly) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  for (const std::string& body :
       {std::string("\"&quot;&quot;\r"),
        std::string(
            "{\r\n\"machineID\" : \"d357006e26ff47439e1ef894225d4307\"}")}) {
    FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent, Send(url, body));
    FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
    ASSERT_EQ(got.size(), 1);
    EXPECT_EQ(got[0].body, body);
    EXPECT_EQ(got[0].md5_of_body, sent.md5_of_message_body);
    FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  }
}

TEST_P(SendReceiveTest, EmptyBodyIsAMissingParameter) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  absl::StatusOr<ferry::SendMessageResult> sent = Send(url, "");
  EXPECT_THAT(sent, AwsErrorIs("MissingParameter",
                               Eq("The request must contain the parameter "
                                  "MessageBody.")));
  std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(sent.status());
  ASSERT_TRUE(aws.has_value());
  EXPECT_EQ(aws->shape, "MissingRequiredParameterException");
  EXPECT_EQ(aws->query_code, "MissingParameter");
  EXPECT_EQ(aws->http_status, 400);
}

TEST_P(SendReceiveTest, BodyWithCharactersOutsideXmlIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const std::string bad[] = {
      std::string("Invalid-\0-x", 11),  // NUL
      "Invalid-\x08-x",                 // backspace
      "Invalid-\x13-x",                 // chr(19)
      "Invalid-\x01",                   // chr(1)
      "Invalid-\xef\xbf\xbf",           // U+FFFF
      "Invalid-\xef\xbf\xbe",           // U+FFFE
      "Invalid-\xed\xa0\x80",           // a UTF-16 surrogate
      "Invalid-\xff",                   // not UTF-8
  };
  for (const std::string& body : bad) {
    SCOPED_TRACE(testing::PrintToString(body));
    EXPECT_THAT(Send(url, body), AwsErrorIs("InvalidMessageContents"));
  }
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(SendReceiveTest, BodyWithEveryAllowedCharacterRangeIsAccepted) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const std::string body =
      "\t\n\r x~"
      "\xed\x9f\xbf"       // U+D7FF
      "\xee\x80\x80"       // U+E000
      "\xef\xbf\xbd"       // U+FFFD
      "\xf0\x90\x80\x80"   // U+10000
      "\xf4\x8f\xbf\xbf";  // U+10FFFF
  FERRY_ASSERT_OK(Send(url, body));
  EXPECT_THAT(ReceiveBodies(url), IsOkAndHolds(ElementsAre(body)));
}

// ---- Size -------------------------------------------------------------------

TEST_P(SendReceiveTest, BodyOfExactlyOneMebibyteIsAccepted) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, std::string(1048576, 'a')));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<ferry::Message> got, Receive(url));
  ASSERT_EQ(got.size(), 1);
  EXPECT_EQ(got[0].body.size(), 1048576);
}

TEST_P(SendReceiveTest, BodyOneByteOverOneMebibyteIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(Send(url, std::string(1048577, 'a')),
              AwsErrorIs("InvalidParameterValue",
                         Eq("One or more parameters are invalid. Reason: "
                            "Message must be shorter than 1048576 bytes.")));
}

TEST_P(SendReceiveTest, SizeCountsAttributeNamesTypesAndValues) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  // "k" + "String" + "x" = 8 bytes.
  const ferry::MessageAttributeMap attrs = {{"k", StringAttr("x")}};
  FERRY_EXPECT_OK(
      SendWithAttributes(url, std::string(1048576 - 8, 'a'), attrs));
  EXPECT_THAT(SendWithAttributes(url, std::string(1048576 - 8 + 1, 'a'), attrs),
              AwsErrorIs("InvalidParameterValue",
                         Eq("One or more parameters are invalid. Reason: "
                            "Message must be shorter than 1048576 bytes.")));
}

TEST_P(SendReceiveTest, SizeCountsUtf8BytesOfTheBody) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateQueue("q", {{"MaximumMessageSize", "1024"}}));
  std::string body;
  for (int i = 0; i < 512; ++i) body += "\xc3\xa9";  // 2 bytes each
  FERRY_EXPECT_OK(Send(url, body));
  EXPECT_THAT(
      Send(url, body + "a"),
      AwsErrorIs("InvalidParameterValue",
                 HasSubstr("Message must be shorter than 1024 bytes.")));
}

TEST_P(SendReceiveTest, SizeCountsRawBytesOfBinaryAttributes) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateQueue("q", {{"MaximumMessageSize", "1024"}}));
  // "b" + "Binary" + 10 raw bytes = 17 bytes.
  const ferry::MessageAttributeMap attrs = {
      {"b", BinaryAttr(
                std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10))}};
  FERRY_EXPECT_OK(SendWithAttributes(url, std::string(1024 - 17, 'a'), attrs));
  EXPECT_THAT(
      SendWithAttributes(url, std::string(1024 - 17 + 1, 'a'), attrs),
      AwsErrorIs("InvalidParameterValue",
                 HasSubstr("Message must be shorter than 1024 bytes.")));
}

TEST_P(SendReceiveTest, MaximumMessageSizeChangesApplyToLaterSends) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SetAttributes(url, {{"MaximumMessageSize", "1024"}}));
  FERRY_EXPECT_OK(Send(url, std::string(1024, 'a')));
  EXPECT_THAT(SendWithAttributes(url, std::string(1024 - 8 + 1, 'a'),
                                 {{"k", StringAttr("x")}}),
              AwsErrorIs("InvalidParameterValue",
                         Eq("One or more parameters are invalid. Reason: "
                            "Message must be shorter than 1024 bytes.")));

  FERRY_ASSERT_OK(SetAttributes(url, {{"MaximumMessageSize", "2048"}}));
  FERRY_EXPECT_OK(Send(url, std::string(2048, 'a')));
  EXPECT_THAT(
      Send(url, std::string(2049, 'a')),
      AwsErrorIs("InvalidParameterValue",
                 HasSubstr("Message must be shorter than 2048 bytes.")));
}

TEST_P(SendReceiveTest, SystemAttributesDoNotCountTowardTheSize) {
  FERRY_ASSERT_OK_AND_ASSIGN(
      std::string url, CreateQueue("q", {{"MaximumMessageSize", "1024"}}));
  EXPECT_THAT(
      sqs().SendMessage(
          ctx_, {.queue_url = url,
                 .message_body = std::string(1024, 'a'),
                 .message_system_attributes = {{"AWSTraceHeader",
                                                StringAttr(kTraceHeader)}}}),
      IsOk());
}

// ---- Message attributes -----------------------------------------------------

struct Md5Vector {
  const char* name;
  ferry::MessageAttributeValue value;
  const char* md5;
};

// Recorded from AWS (sqs.md §2.4).
const Md5Vector kMd5Vectors[] = {
    {"Foo", StringAttr("Bar"), "ae7155c6026991b6d54b11589678bf9c"},
    {"MyAttribute", StringAttr("foobar"), "adb59cd4678ea5a855436b949cd07ab6"},
    {"k", StringAttr("x"), "a45daa70926828a2f0a1db3418e6feb4"},
    {"timestamp", NumberAttr("1493147359900"),
     "235c5c510d26fb653d073faed50ae77c"},
    {"attr1",
     BinaryAttr("traceparent\x1e"
                "00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01"),
     "8cbe4db156db8a94db8b801b7addb984"},
};

TEST_P(SendReceiveTest, Md5OfMessageAttributesMatchesAwsVectors) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  for (const Md5Vector& v : kMd5Vectors) {
    SCOPED_TRACE(v.name);
    const ferry::MessageAttributeMap attrs = {{v.name, v.value}};
    FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                               SendWithAttributes(url, "test", attrs));
    EXPECT_EQ(sent.md5_of_message_attributes, v.md5);

    FERRY_ASSERT_OK_AND_ASSIGN(
        ferry::ReceiveMessageResult result,
        sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                    .message_attribute_names = {"All"},
                                    .wait_time_seconds = 0}));
    const std::vector<ferry::Message>& got = result.messages;
    ASSERT_EQ(got.size(), 1);
    EXPECT_EQ(got[0].message_attributes, attrs);
    EXPECT_EQ(got[0].md5_of_message_attributes, v.md5);
    FERRY_ASSERT_OK(Delete(url, got[0].receipt_handle));
  }
}

TEST_P(SendReceiveTest, Md5OfMessageAttributesIncludesCustomTypeLabels) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::MessageAttributeMap attrs = {
      {"price", {.data_type = "Number.float", .string_value = "1.5"}},
      {"img",
       {.data_type = "Binary.png",
        .binary_value = std::string("\x89PNG\x00\xff", 6)}},
      {"who", {.data_type = "String.name", .string_value = "ferry"}},
  };
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                             SendWithAttributes(url, "test", attrs));
  // Computed with the algorithm of sqs.md §2.4, which reproduces every AWS
  // vector above.
  EXPECT_EQ(sent.md5_of_message_attributes, "c36de2a0ca0b01a18554f4d61701cad7");
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got, ReceiveOne(url, {"All"}));
  EXPECT_EQ(got.message_attributes, attrs);
  EXPECT_EQ(got.md5_of_message_attributes, "c36de2a0ca0b01a18554f4d61701cad7");
}

TEST_P(SendReceiveTest, ReceiveFiltersMessageAttributesAndTheirMd5) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::MessageAttributeMap attrs = {{"Help.Me", StringAttr("Me")},
                                            {"Hello", StringAttr("There")},
                                            {"General", StringAttr("Kenobi")}};
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult sent,
                             SendWithAttributes(url, "msg", attrs));
  EXPECT_EQ(sent.md5_of_message_attributes, "4c360f3fdafd970e05fae2f149d997f5");

  struct Case {
    std::vector<std::string> names;
    std::vector<std::string> returned;
    std::string md5;
  };
  const Case cases[] = {
      {{}, {}, ""},
      {{"All"},
       {"General", "Hello", "Help.Me"},
       "4c360f3fdafd970e05fae2f149d997f5"},
      {{".*"},
       {"General", "Hello", "Help.Me"},
       "4c360f3fdafd970e05fae2f149d997f5"},
      {{"*"},
       {"General", "Hello", "Help.Me"},
       "4c360f3fdafd970e05fae2f149d997f5"},
      {{"Foo", "Help"}, {}, ""},
      {{"Hello", "General"},
       {"General", "Hello"},
       "fca026605781cb4126a1e9044df24232"},
      {{"Foo", "Hello"}, {"Hello"}, "a311262e065454b75da111d535b8dacd"},
      {{"Hel.*"}, {"Hello", "Help.Me"}, "83fee93c1bcd8b9a5a923ffacdc636c7"},
      {{"AWS."}, {}, ""},
      {{"..foo"}, {}, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.names));
    FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got, ReceiveOne(url, c.names));
    std::vector<std::string> names;
    for (const auto& [name, value] : got.message_attributes) {
      names.push_back(name);
      EXPECT_EQ(value, attrs.at(name));
    }
    EXPECT_EQ(names, c.returned);
    EXPECT_EQ(got.md5_of_message_attributes, c.md5);
  }
}

TEST_P(SendReceiveTest, MessageAttributesSurviveRepeatedReceives) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::MessageAttributeMap attrs = {{"attr1", StringAttr("test1")}};
  FERRY_ASSERT_OK(SendWithAttributes(url, "test", attrs));
  FERRY_ASSERT_OK(ReceiveOne(url, {"All"}));
  FERRY_ASSERT_OK(ReceiveOne(url, {}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got, ReceiveOne(url, {"All"}));
  EXPECT_EQ(got.message_attributes, attrs);
}

TEST_P(SendReceiveTest, TenMessageAttributesAreAllowed) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  ferry::MessageAttributeMap attrs;
  for (int i = 0; i < 10; ++i) attrs[absl::StrCat("a", i)] = StringAttr("v");
  FERRY_EXPECT_OK(SendWithAttributes(url, "test", attrs));
}

TEST_P(SendReceiveTest, ElevenMessageAttributesAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  ferry::MessageAttributeMap attrs;
  for (int i = 0; i < 11; ++i) attrs[absl::StrCat("a", i)] = StringAttr("v");
  EXPECT_THAT(SendWithAttributes(url, "test", attrs),
              AwsErrorIs("InvalidParameterValue",
                         Eq("Number of message attributes [11] exceeds the "
                            "allowed maximum [10].")));
}

TEST_P(SendReceiveTest, InvalidAttributeNamesAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const std::string bad[] = {
      "AWS.x",
      "aWs.-Invalid-attr",
      "Amazon.x",
      "AMAZON.-Invalid-attr",
      ".-Invalid-attr",
      "Invalid.",
      "a..b",
      "bad name",
      "Invalid-!-attr",
      "Invalid-\"-attr",
      "Invalid-(-attr",
      "Invalid-?-attr",
      std::string(257, 'L'),
  };
  for (const std::string& name : bad) {
    SCOPED_TRACE(name);
    EXPECT_THAT(SendWithAttributes(url, "test", {{name, StringAttr("Valid")}}),
                AwsErrorIs("InvalidParameterValue"));
  }
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{0, 0, 0}));
}

TEST_P(SendReceiveTest, AttributeNamesMayUseLettersBeyondAscii) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  for (const std::string& name :
       {std::string("attr.1\xc3\xb8\xc3\x9f\xc3\xa4"), std::string("a-b_c.d"),
        std::string(256, 'L')}) {
    SCOPED_TRACE(name);
    EXPECT_THAT(SendWithAttributes(url, "test", {{name, StringAttr("Valida")}}),
                IsOk());
  }
}

TEST_P(SendReceiveTest, AttributeNamesAreCaseSensitive) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::MessageAttributeMap attrs = {{"name", StringAttr("lower")},
                                            {"Name", StringAttr("upper")}};
  FERRY_ASSERT_OK(SendWithAttributes(url, "test", attrs));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got, ReceiveOne(url, {"All"}));
  EXPECT_EQ(got.message_attributes, attrs);
}

TEST_P(SendReceiveTest, DataTypesWithCustomLabelsAreAccepted) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::MessageAttributeMap attrs = {
      {"s", {.data_type = "String", .string_value = "v"}},
      {"n", {.data_type = "Number", .string_value = "42"}},
      {"b", {.data_type = "Binary", .binary_value = "\x01\x02"}},
      {"sc", {.data_type = "String.custom", .string_value = "v"}},
      {"nf", {.data_type = "Number.float", .string_value = "4.2"}},
      {"bp", {.data_type = "Binary.png", .binary_value = "\x89PNG"}},
  };
  FERRY_ASSERT_OK(SendWithAttributes(url, "test", attrs));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got, ReceiveOne(url, {"All"}));
  EXPECT_EQ(got.message_attributes, attrs);
}

TEST_P(SendReceiveTest, UnknownOrTooLongDataTypesAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  for (const std::string& type :
       {std::string("Invalid"), std::string("Integer"), std::string(""),
        "Number." + std::string(256, 'L')}) {
    SCOPED_TRACE(type);
    EXPECT_THAT(
        SendWithAttributes(
            url, "test",
            {{"Attribute_name", {.data_type = type, .string_value = "Valid"}}}),
        AwsErrorIs("InvalidParameterValue"));
  }
}

TEST_P(SendReceiveTest, EmptyStringAttributeValueIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(
      SendWithAttributes(url, "test", {{"ErrorDetails", StringAttr("")}}),
      AwsErrorIs("InvalidParameterValue",
                 Eq("Message (user) attribute 'ErrorDetails' must "
                    "contain a non-empty value of type 'String'.")));
}

TEST_P(SendReceiveTest, EmptyNumberAndBinaryAttributeValuesAreRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(SendWithAttributes(url, "test", {{"n", NumberAttr("")}}),
              AwsErrorIs("InvalidParameterValue",
                         HasSubstr("must contain a non-empty value")));
  EXPECT_THAT(SendWithAttributes(url, "test", {{"b", BinaryAttr("")}}),
              AwsErrorIs("InvalidParameterValue",
                         HasSubstr("must contain a non-empty value")));
}

TEST_P(SendReceiveTest,
       StringAttributeWithInvalidCharactersIsInvalidParameter) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(SendWithAttributes(url, "test",
                                 {{"attr1", StringAttr("Invalid-\x08,\x0b")}}),
              AwsErrorIs("InvalidParameterValue"));
}

// ---- System attributes ------------------------------------------------------

TEST_P(SendReceiveTest, SystemAttributesAreReturnedOnlyWhenRequested) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "msg"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got, ReceiveOne(url, {}, {}));
  EXPECT_THAT(got.attributes, IsEmpty());
}

TEST_P(SendReceiveTest, AllSystemAttributesOfStandardQueue) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const int64_t sent_ms = NowMillis();
  FERRY_ASSERT_OK(Send(url, "msg"));
  AdvanceSeconds(3);
  const int64_t first_ms = NowMillis();

  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message first,
                             ReceiveOne(url, {}, {"All"}));
  EXPECT_THAT(
      first.attributes,
      UnorderedElementsAre(
          Pair("ApproximateFirstReceiveTimestamp", absl::StrCat(first_ms)),
          Pair("ApproximateReceiveCount", "1"), Pair("SenderId", kAccount),
          Pair("SentTimestamp", absl::StrCat(sent_ms))));

  AdvanceSeconds(2);
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message second,
                             ReceiveOne(url, {}, {"All"}));
  EXPECT_THAT(
      second.attributes,
      UnorderedElementsAre(
          Pair("ApproximateFirstReceiveTimestamp", absl::StrCat(first_ms)),
          Pair("ApproximateReceiveCount", "2"), Pair("SenderId", kAccount),
          Pair("SentTimestamp", absl::StrCat(sent_ms))));
}

TEST_P(SendReceiveTest, DeprecatedAttributeNamesAreHonoured) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "msg"));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::ReceiveMessageResult result,
      sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                  .attribute_names = {"All"},
                                  .wait_time_seconds = 0}));
  ASSERT_EQ(result.messages.size(), 1);
  EXPECT_THAT(result.messages[0].attributes,
              UnorderedElementsAre(Key("ApproximateFirstReceiveTimestamp"),
                                   Key("ApproximateReceiveCount"),
                                   Key("SenderId"), Key("SentTimestamp")));
}

TEST_P(SendReceiveTest, SystemAttributesCanBeRequestedByName) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "msg"));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message one,
                             ReceiveOne(url, {}, {"SenderId"}));
  EXPECT_THAT(one.attributes, ElementsAre(Pair("SenderId", kAccount)));
  // SequenceNumber exists only on FIFO queues.
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::Message two, ReceiveOne(url, {}, {"SenderId", "SequenceNumber"}));
  EXPECT_THAT(two.attributes, ElementsAre(Pair("SenderId", kAccount)));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::Message three,
      ReceiveOne(url, {}, {"ApproximateReceiveCount", "SentTimestamp"}));
  EXPECT_THAT(three.attributes,
              UnorderedElementsAre(Pair("ApproximateReceiveCount", "3"),
                                   Key("SentTimestamp")));
}

TEST_P(SendReceiveTest, SystemAndMessageAttributesAreReturnedTogether) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(SendWithAttributes(url, "msg", {{"Foo", StringAttr("Bar")}}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got,
                             ReceiveOne(url, {"All"}, {"All"}));
  EXPECT_THAT(got.attributes, SizeIs(4));
  EXPECT_EQ(got.md5_of_message_attributes, "ae7155c6026991b6d54b11589678bf9c");
}

TEST_P(SendReceiveTest, SenderIdIsTheCaller) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  ferry::RequestContext caller = ctx_;
  caller.caller = "AIDAEXAMPLEUSERID1234";
  FERRY_ASSERT_OK(
      sqs().SendMessage(caller, {.queue_url = url, .message_body = "msg"}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got,
                             ReceiveOne(url, {}, {"SenderId"}));
  EXPECT_THAT(got.attributes,
              ElementsAre(Pair("SenderId", "AIDAEXAMPLEUSERID1234")));
}

TEST_P(SendReceiveTest, TraceHeaderFromSystemAttributesIsReturned) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  const ferry::MessageAttributeMap attrs = {
      {"timestamp", NumberAttr("1493147359900")}};
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::SendMessageResult plain,
                             SendWithAttributes(url, "test", attrs));
  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::SendMessageResult traced,
      sqs().SendMessage(ctx_,
                        {.queue_url = url,
                         .message_body = "test",
                         .message_attributes = attrs,
                         .message_system_attributes = {
                             {"AWSTraceHeader", StringAttr(kTraceHeader)}}}));
  // The system attributes have their own digest and leave the other alone.
  EXPECT_EQ(plain.md5_of_message_attributes, traced.md5_of_message_attributes);
  EXPECT_EQ(plain.md5_of_message_system_attributes, "");
  EXPECT_EQ(traced.md5_of_message_system_attributes,
            "5ae4d5d7636402d80f4eb6d213245a88");

  FERRY_ASSERT_OK_AND_ASSIGN(
      ferry::ReceiveMessageResult result,
      sqs().ReceiveMessage(
          ctx_, {.queue_url = url,
                 .message_system_attribute_names = {"AWSTraceHeader"},
                 .max_number_of_messages = 10,
                 .wait_time_seconds = 0}));
  const std::vector<ferry::Message>& got = result.messages;
  ASSERT_EQ(got.size(), 2);
  for (const ferry::Message& m : got) {
    if (m.message_id == traced.message_id) {
      EXPECT_THAT(m.attributes,
                  ElementsAre(Pair("AWSTraceHeader", kTraceHeader)));
    } else {
      EXPECT_THAT(m.attributes, IsEmpty());
    }
  }
}

TEST_P(SendReceiveTest, TraceHeaderOfTheRequestContextIsRecorded) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  ferry::RequestContext traced = ctx_;
  traced.trace_header = kTraceHeader;
  FERRY_ASSERT_OK(
      sqs().SendMessage(traced, {.queue_url = url, .message_body = "msg"}));
  FERRY_ASSERT_OK_AND_ASSIGN(ferry::Message got,
                             ReceiveOne(url, {}, {"AWSTraceHeader"}));
  EXPECT_THAT(got.attributes,
              ElementsAre(Pair("AWSTraceHeader", kTraceHeader)));
}

TEST_P(SendReceiveTest, OnlyTraceHeaderIsAcceptedAsSystemAttribute) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(
      sqs().SendMessage(
          ctx_,
          {.queue_url = url,
           .message_body = "msg",
           .message_system_attributes = {{"SenderId", StringAttr("me")}}}),
      AwsErrorIs("InvalidParameterValue"));
}

// ---- Receive parameters -----------------------------------------------------

TEST_P(SendReceiveTest, EmptyQueueReturnsNoMessages) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  EXPECT_THAT(
      sqs().ReceiveMessage(ctx_, {.queue_url = url,
                                  .max_number_of_messages = 10,
                                  .wait_time_seconds = 0}),
      IsOkAndHolds(Field(&ferry::ReceiveMessageResult::messages, IsEmpty())));
}

TEST_P(SendReceiveTest, ReceiveReturnsOneMessageByDefault) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  for (int i = 0; i < 3; ++i) FERRY_ASSERT_OK(Send(url, absl::StrCat("m", i)));
  EXPECT_THAT(
      sqs().ReceiveMessage(ctx_, {.queue_url = url, .wait_time_seconds = 0}),
      IsOkAndHolds(Field(&ferry::ReceiveMessageResult::messages, SizeIs(1))));
}

TEST_P(SendReceiveTest, ReceiveReturnsUpToMaxNumberOfMessages) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  std::set<std::string> sent;
  for (int i = 0; i < 15; ++i) {
    sent.insert(absl::StrCat("m", i));
    FERRY_ASSERT_OK(Send(url, absl::StrCat("m", i)));
  }
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> first,
                             ReceiveBodies(url, 10));
  FERRY_ASSERT_OK_AND_ASSIGN(std::vector<std::string> second,
                             ReceiveBodies(url, 10));
  EXPECT_EQ(first.size(), 10);
  EXPECT_EQ(second.size(), 5);
  std::set<std::string> got(first.begin(), first.end());
  got.insert(second.begin(), second.end());
  EXPECT_EQ(got, sent);
  EXPECT_THAT(ReceiveBodies(url, 10), IsOkAndHolds(IsEmpty()));
}

TEST_P(SendReceiveTest, MaxNumberOfMessagesOutsideOneToTenIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "message"));
  for (int max : {0, 11, -1}) {
    SCOPED_TRACE(max);
    EXPECT_THAT(Receive(url, max),
                AwsErrorIs("InvalidParameterValue",
                           Eq(absl::StrCat(
                               "Value ", max,
                               " for parameter MaxNumberOfMessages is invalid. "
                               "Reason: Must be between 1 and 10, if "
                               "provided."))));
  }
  EXPECT_THAT(GetCounts(url), IsOkAndHolds(Counts{1, 0, 0}));
}

TEST_P(SendReceiveTest, WaitTimeSecondsOutsideZeroToTwentyIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  for (int wait : {21, -1}) {
    SCOPED_TRACE(wait);
    EXPECT_THAT(
        sqs().ReceiveMessage(ctx_,
                             {.queue_url = url, .wait_time_seconds = wait}),
        AwsErrorIs("InvalidParameterValue",
                   Eq(absl::StrCat("Value ", wait,
                                   " for parameter WaitTimeSeconds is invalid. "
                                   "Reason: Must be >= 0 and <= 20, if "
                                   "provided."))));
  }
}

TEST_P(SendReceiveTest, ReceiveVisibilityTimeoutOutOfRangeIsRejected) {
  FERRY_ASSERT_OK_AND_ASSIGN(std::string url, CreateQueue("q"));
  FERRY_ASSERT_OK(Send(url, "message"));
  EXPECT_THAT(Receive(url, 1, 43201), AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(Receive(url, 1, -1), AwsErrorIs("InvalidParameterValue"));
  EXPECT_THAT(Receive(url, 1, 43200), IsOkAndHolds(SizeIs(1)));
}

TEST_P(SendReceiveTest, SendAndReceiveOnMissingQueueFail) {
  EXPECT_THAT(Send(UrlOf("nothing"), "m"), AwsErrorIs("QueueDoesNotExist"));
  EXPECT_THAT(Receive(UrlOf("nothing")), AwsErrorIs("QueueDoesNotExist"));
}

INSTANTIATE_TEST_SUITE_P(AllBackends, SendReceiveTest,
                         testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace ferry_conformance
