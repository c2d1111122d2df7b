// `ferry sqs ...`, `ferry sns ...`, `ferry kinesis ...` and `ferry stats`:
// AWS-CLI-shaped verbs against a data directory (the native API over the
// RocksDB backend, --data-dir DIR) or a running endpoint (--endpoint-url URL:
// SQS's JSON 1.0, SNS's Query protocol, Kinesis's JSON 1.1).
//
// Every verb builds its requests in AWS's JSON shapes (the member names of
// the JSON protocols; SNS's Query members as JSON) and runs them through an
// `Api`: `RemoteApi` sends them over HTTP, `LocalApi` maps them onto
// Broker::sqs(), sns() and kinesis(). Kinesis record data is base64 in those
// shapes, as on the wire; the verbs take and print it as text.
//
// Time: `kinesis tail` polls; between empty rounds it waits on
// ferry::Clock::Real() (never sleeps), and SIGINT ends it.
#include "verbs.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ferry/broker.h"
#include "ferry/clock.h"
#include "ferry/errors.h"
#include "ferry/kinesis.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/sqs.h"
#include "ferry/sync.h"
#include "nlohmann/json.hpp"
#include "remote.h"
#ifdef FERRY_HAVE_ROCKSDB
#include "ferry/rocksdb_backend.h"
#endif

namespace ferry_tools {
namespace {

using Json = nlohmann::json;
namespace http = boost::beast::http;

// Debian's Abseil has its own string_view.
absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

constexpr char kTarget[] =
    "  --data-dir DIR       act on the data directory of a stopped `ferry "
    "serve\n"
    "                       --data-dir DIR` (RocksDB), through the native API\n"
    "  --endpoint-url URL   act on a running server (default\n"
    "                       http://127.0.0.1:4566)\n"
    "  --output json|table  (default json)\n";

std::string SqsUsage() {
  return absl::StrCat(
      "usage: ferry sqs <verb> [options] [--data-dir DIR | --endpoint-url URL]"
      "\n\nverbs (queues by name, in the default account):\n"
      "  list-queues [--prefix P]\n"
      "  create-queue --queue-name N [--attribute NAME=VALUE]...\n"
      "  delete-queue --queue-name N\n"
      "  purge-queue --queue-name N\n"
      "  send-message --queue-name N --message-body B\n"
      "               [--message-attribute NAME=VALUE]...   (String values)\n"
      "               [--delay-seconds S] [--message-group-id G]\n"
      "               [--message-deduplication-id D]\n"
      "  receive-message --queue-name N [--max-number-of-messages K]\n"
      "                  [--wait-time-seconds S] [--delete]\n"
      "  stats        visible, in-flight and delayed messages of every queue"
      "\n\n",
      kTarget);
}

std::string SnsUsage() {
  return absl::StrCat(
      "usage: ferry sns <verb> [options] [--data-dir DIR | --endpoint-url URL]"
      "\n\nverbs (topics by name or ARN, in the default account):\n"
      "  list-topics\n"
      "  create-topic --name N [--attribute NAME=VALUE]...\n"
      "  publish (--topic-arn A | --topic-name N) --message M [--subject S]\n"
      "          [--message-attribute NAME=VALUE]...   (String values)\n"
      "  subscribe (--topic-arn A | --topic-name N) --protocol P\n"
      "            --notification-endpoint E [--attribute NAME=VALUE]...\n"
      "            (for sqs, E may be a queue's name)\n\n",
      kTarget);
}

std::string KinesisUsage() {
  return absl::StrCat(
      "usage: ferry kinesis <verb> [options] [--data-dir DIR | --endpoint-url "
      "URL]\n\nverbs (streams by name, in the default account):\n"
      "  list-streams\n"
      "  create-stream --stream-name N [--shard-count K | --on-demand]\n"
      "  describe-stream --stream-name N\n"
      "  put-record --stream-name N --partition-key K --data TEXT\n"
      "  get-records --stream-name N [--shard-id S] [--shard-iterator-type\n"
      "              TRIM_HORIZON|LATEST] [--limit L]   one read of each "
      "shard\n"
      "  tail --stream-name N [--from LATEST|TRIM_HORIZON] [--max-records K]\n"
      "       [--poll-interval-ms MS]   follows every shard (and the shards a\n"
      "       reshard opens, each after its parents are read to their end),\n"
      "       printing one record per line, until Ctrl-C or K records\n\n",
      kTarget);
}

std::string StatsUsage() {
  return absl::StrCat(
      "usage: ferry stats [--data-dir DIR | --endpoint-url URL]\n\n"
      "Queues (visible, in-flight, delayed messages), topics (subscriptions)"
      "\nand streams (status, open shards, retention) of the default "
      "account.\n\n",
      kTarget);
}

// ---- The two ways to run a call -------------------------------------------

class Api {
 public:
  virtual ~Api() = default;
  // AWS-shaped JSON in and out; prints the error and returns nullopt when
  // the call fails.
  virtual std::optional<Json> Sqs(const std::string& op, const Json& in) = 0;
  virtual std::optional<Json> Sns(const std::string& op, const Json& in) = 0;
  virtual std::optional<Json> Kinesis(const std::string& op,
                                      const Json& in) = 0;
};

void PrintFailure(const std::string& op, std::string_view detail) {
  std::cerr << "ferry: " << op << " failed: " << detail << "\n";
}

// ---- Over the wire ----------------------------------------------------------

std::string FormEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view e = s.substr(i + 1, semi - i - 1);
    if (e == "amp")
      out.push_back('&');
    else if (e == "lt")
      out.push_back('<');
    else if (e == "gt")
      out.push_back('>');
    else if (e == "quot")
      out.push_back('"');
    else if (e == "apos")
      out.push_back('\'');
    else if (e.size() > 1 && e[0] == '#') {
      uint32_t code = 0;
      bool ok = e[1] == 'x' ? absl::SimpleHexAtoi(AsAbsl(e.substr(2)), &code)
                            : absl::SimpleAtoi(AsAbsl(e.substr(1)), &code);
      if (ok && code < 128) out.push_back(static_cast<char>(code));
    }
    i = semi;
  }
  return out;
}

// The text of every <tag>...</tag> in `xml`, in order.
std::vector<std::string> XmlValues(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  const std::string open = absl::StrCat("<", AsAbsl(tag), ">");
  const std::string close = absl::StrCat("</", AsAbsl(tag), ">");
  size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    size_t start = at + open.size();
    size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    out.push_back(XmlUnescape(xml.substr(start, end - start)));
    at = end + close.size();
  }
  return out;
}

std::string XmlValue(std::string_view xml, std::string_view tag) {
  std::vector<std::string> v = XmlValues(xml, tag);
  return v.empty() ? "" : v.front();
}

class RemoteApi : public Api {
 public:
  explicit RemoteApi(Endpoint ep) : ep_(std::move(ep)) {}

  std::optional<Json> Sqs(const std::string& op, const Json& in) override {
    return JsonCall(op, "application/x-amz-json-1.0", "AmazonSQS." + op, in);
  }
  std::optional<Json> Kinesis(const std::string& op, const Json& in) override {
    return JsonCall(op, "application/x-amz-json-1.1", "Kinesis_20131202." + op,
                    in);
  }

  std::optional<Json> Sns(const std::string& op, const Json& in) override {
    std::string body = absl::StrCat("Action=", op, "&Version=2010-03-31");
    auto add = [&body](const std::string& k, const std::string& v) {
      absl::StrAppend(&body, "&", FormEncode(k), "=", FormEncode(v));
    };
    for (auto& [k, v] : in.items()) {
      if (k == "Attributes") {
        int n = 1;
        for (auto& [name, value] : v.items()) {
          add(absl::StrCat("Attributes.entry.", n, ".key"), name);
          add(absl::StrCat("Attributes.entry.", n, ".value"),
              value.get<std::string>());
          ++n;
        }
      } else if (k == "MessageAttributes") {
        int n = 1;
        for (auto& [name, value] : v.items()) {
          const std::string p = absl::StrCat("MessageAttributes.entry.", n);
          add(p + ".Name", name);
          add(p + ".Value.DataType", value.value("DataType", "String"));
          add(p + ".Value.StringValue", value.value("StringValue", ""));
          ++n;
        }
      } else if (v.is_boolean()) {
        add(k, v.get<bool>() ? "true" : "false");
      } else if (v.is_string()) {
        add(k, v.get<std::string>());
      }
    }
    std::string error;
    std::optional<Reply> r = Call(
        ep_, http::verb::post, "/",
        {{"Content-Type", "application/x-www-form-urlencoded"}}, body, &error);
    if (!r) {
      PrintFailure(op, absl::StrCat("cannot reach ", ep_.host, ":", ep_.port,
                                    ": ", error));
      return std::nullopt;
    }
    if (r->status != 200) {
      PrintFailure(
          op, absl::StrCat("HTTP ", r->status, " ", XmlValue(r->body, "Code"),
                           ": ", XmlValue(r->body, "Message")));
      return std::nullopt;
    }
    Json out = Json::object();
    if (op == "CreateTopic") out["TopicArn"] = XmlValue(r->body, "TopicArn");
    if (op == "Publish") out["MessageId"] = XmlValue(r->body, "MessageId");
    if (op == "Subscribe") {
      out["SubscriptionArn"] = XmlValue(r->body, "SubscriptionArn");
    }
    if (op == "ListTopics") {
      Json topics = Json::array();
      for (const std::string& arn : XmlValues(r->body, "TopicArn")) {
        topics.push_back({{"TopicArn", arn}});
      }
      out["Topics"] = topics;
      std::string next = XmlValue(r->body, "NextToken");
      if (!next.empty()) out["NextToken"] = next;
    }
    if (op == "ListSubscriptionsByTopic") {
      Json subs = Json::array();
      for (const std::string& m : XmlValues(r->body, "member")) {
        subs.push_back({{"SubscriptionArn", XmlValue(m, "SubscriptionArn")},
                        {"Protocol", XmlValue(m, "Protocol")},
                        {"Endpoint", XmlValue(m, "Endpoint")}});
      }
      out["Subscriptions"] = subs;
      std::string next = XmlValue(r->body, "NextToken");
      if (!next.empty()) out["NextToken"] = next;
    }
    return out;
  }

 private:
  std::optional<Json> JsonCall(const std::string& op,
                               const std::string& content_type,
                               const std::string& target, const Json& in) {
    std::string error;
    std::optional<Reply> r =
        Call(ep_, http::verb::post, "/",
             {{"Content-Type", content_type}, {"X-Amz-Target", target}},
             in.dump(), &error);
    if (!r) {
      PrintFailure(op, absl::StrCat("cannot reach ", ep_.host, ":", ep_.port,
                                    ": ", error));
      return std::nullopt;
    }
    Json out = Json::parse(r->body, nullptr, false);
    if (r->status != 200) {
      std::string type = out.is_object() ? out.value("__type", "") : "";
      size_t hash = type.find('#');
      if (hash != std::string::npos) type = type.substr(hash + 1);
      std::string message;
      if (out.is_object()) {
        message = out.value("message", out.value("Message", r->body));
      } else {
        message = r->body;
      }
      PrintFailure(op,
                   absl::StrCat("HTTP ", r->status, " ", type, ": ", message));
      return std::nullopt;
    }
    return out.is_discarded() ? Json::object() : out;
  }

  Endpoint ep_;
};

// ---- In process, on a data directory ----------------------------------------

double EpochSeconds(absl::Time t) { return absl::ToUnixMillis(t) / 1000.0; }

Json ShardJson(const ferry::KinesisShard& s) {
  Json j = {{"ShardId", s.shard_id},
            {"HashKeyRange",
             {{"StartingHashKey", s.hash_key_range.starting_hash_key},
              {"EndingHashKey", s.hash_key_range.ending_hash_key}}},
            {"SequenceNumberRange",
             {{"StartingSequenceNumber",
               s.sequence_number_range.starting_sequence_number}}}};
  if (s.sequence_number_range.ending_sequence_number.has_value()) {
    j["SequenceNumberRange"]["EndingSequenceNumber"] =
        *s.sequence_number_range.ending_sequence_number;
  }
  if (s.parent_shard_id.has_value()) j["ParentShardId"] = *s.parent_shard_id;
  if (s.adjacent_parent_shard_id.has_value()) {
    j["AdjacentParentShardId"] = *s.adjacent_parent_shard_id;
  }
  return j;
}

ferry::AttributeMap AttributesOf(const Json& in) {
  ferry::AttributeMap out;
  if (in.contains("Attributes")) {
    for (auto& [k, v] : in["Attributes"].items()) {
      out[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  return out;
}

std::string Str(const Json& in, const char* key) {
  return in.contains(key) && in[key].is_string() ? in[key].get<std::string>()
                                                 : "";
}

// The strings of array member `key` (e.g. AttributeNames).
std::vector<std::string> Strings(const Json& in, const char* key) {
  std::vector<std::string> out;
  if (in.contains(key) && in[key].is_array()) {
    for (const Json& v : in[key]) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

// MessageAttributes in the JSON shape ({"name": {"DataType": ...,
// "StringValue": ...}}); the verbs send String values only.
ferry::MessageAttributeMap MessageAttributesOf(const Json& in) {
  ferry::MessageAttributeMap out;
  if (in.contains("MessageAttributes")) {
    for (auto& [k, v] : in["MessageAttributes"].items()) {
      out[k] = {.data_type = v.value("DataType", "String"),
                .string_value = v.value("StringValue", "")};
    }
  }
  return out;
}

class LocalApi : public Api {
 public:
  explicit LocalApi(std::unique_ptr<ferry::Broker> broker)
      : broker_(std::move(broker)) {}

  std::optional<Json> Sqs(const std::string& op, const Json& in) override {
    ferry::Sqs& sqs = broker_->sqs();
    const std::string url = Str(in, "QueueUrl");
    if (op == "ListQueues") {
      return Done(op,
                  sqs.ListQueues(
                      ctx_, {.queue_name_prefix = Str(in, "QueueNamePrefix")}),
                  [](const auto& r) {
                    return Json{{"QueueUrls", r.queue_urls}};
                  });
    }
    if (op == "CreateQueue") {
      return Done(op,
                  sqs.CreateQueue(ctx_, {.queue_name = Str(in, "QueueName"),
                                         .attributes = AttributesOf(in)}),
                  [](const auto& r) {
                    return Json{{"QueueUrl", r.queue_url}};
                  });
    }
    if (op == "DeleteQueue" || op == "PurgeQueue") {
      absl::Status s = op == "DeleteQueue"
                           ? sqs.DeleteQueue(ctx_, {.queue_url = url})
                           : sqs.PurgeQueue(ctx_, {.queue_url = url});
      if (!s.ok()) return Failed(op, s);
      return Json::object();
    }
    if (op == "SendMessage") {
      ferry::SendMessageRequest request{
          .queue_url = url,
          .message_body = Str(in, "MessageBody"),
          .message_attributes = MessageAttributesOf(in)};
      if (in.contains("DelaySeconds")) {
        request.delay_seconds = in["DelaySeconds"].get<int>();
      }
      if (in.contains("MessageGroupId")) {
        request.message_group_id = Str(in, "MessageGroupId");
      }
      if (in.contains("MessageDeduplicationId")) {
        request.message_deduplication_id = Str(in, "MessageDeduplicationId");
      }
      return Done(op, sqs.SendMessage(ctx_, request), [](const auto& r) {
        Json out = {{"MessageId", r.message_id},
                    {"MD5OfMessageBody", r.md5_of_message_body}};
        if (!r.md5_of_message_attributes.empty()) {
          out["MD5OfMessageAttributes"] = r.md5_of_message_attributes;
        }
        if (!r.sequence_number.empty()) {
          out["SequenceNumber"] = r.sequence_number;
        }
        return out;
      });
    }
    if (op == "ReceiveMessage") {
      ferry::ReceiveMessageRequest request{
          .queue_url = url,
          .attribute_names = Strings(in, "AttributeNames"),
          .message_attribute_names = Strings(in, "MessageAttributeNames")};
      if (in.contains("MaxNumberOfMessages")) {
        request.max_number_of_messages = in["MaxNumberOfMessages"].get<int>();
      }
      if (in.contains("WaitTimeSeconds")) {
        request.wait_time_seconds = in["WaitTimeSeconds"].get<int>();
      }
      return Done(op, sqs.ReceiveMessage(ctx_, request), [](const auto& r) {
        Json out = Json::object();  // no Messages member when none came
        for (const ferry::Message& m : r.messages) {
          Json j = {{"MessageId", m.message_id},
                    {"ReceiptHandle", m.receipt_handle},
                    {"MD5OfBody", m.md5_of_body},
                    {"Body", m.body}};
          if (!m.attributes.empty()) j["Attributes"] = m.attributes;
          if (!m.md5_of_message_attributes.empty()) {
            j["MD5OfMessageAttributes"] = m.md5_of_message_attributes;
          }
          if (!m.message_attributes.empty()) {
            Json attrs = Json::object();
            for (const auto& [name, v] : m.message_attributes) {
              Json a = {{"DataType", v.data_type}};
              if (v.data_type.rfind("Binary", 0) == 0) {
                a["BinaryValue"] = absl::Base64Escape(v.binary_value);
              } else {
                a["StringValue"] = v.string_value;
              }
              attrs[name] = a;
            }
            j["MessageAttributes"] = attrs;
          }
          out["Messages"].push_back(j);
        }
        return out;
      });
    }
    if (op == "DeleteMessage") {
      absl::Status s = sqs.DeleteMessage(
          ctx_, {.queue_url = url, .receipt_handle = Str(in, "ReceiptHandle")});
      if (!s.ok()) return Failed(op, s);
      return Json::object();
    }
    if (op == "GetQueueUrl") {
      return Done(op,
                  sqs.GetQueueUrl(ctx_, {.queue_name = Str(in, "QueueName")}),
                  [](const auto& r) {
                    return Json{{"QueueUrl", r.queue_url}};
                  });
    }
    if (op == "GetQueueAttributes") {
      return Done(op,
                  sqs.GetQueueAttributes(
                      ctx_, {.queue_url = url,
                             .attribute_names = Strings(in, "AttributeNames")}),
                  [](const auto& r) {
                    return Json{{"Attributes", r.attributes}};
                  });
    }
    return Unsupported(op);
  }

  std::optional<Json> Sns(const std::string& op, const Json& in) override {
    ferry::Sns& sns = broker_->sns();
    if (op == "ListTopics") {
      return Done(op,
                  sns.ListTopics(ctx_, {.next_token = Str(in, "NextToken")}),
                  [](const auto& r) {
                    Json topics = Json::array();
                    for (const std::string& arn : r.topic_arns) {
                      topics.push_back({{"TopicArn", arn}});
                    }
                    Json out = {{"Topics", topics}};
                    if (!r.next_token.empty()) out["NextToken"] = r.next_token;
                    return out;
                  });
    }
    if (op == "CreateTopic") {
      return Done(op,
                  sns.CreateTopic(ctx_, {.name = Str(in, "Name"),
                                         .attributes = AttributesOf(in)}),
                  [](const auto& r) {
                    return Json{{"TopicArn", r.topic_arn}};
                  });
    }
    if (op == "Publish") {
      ferry::PublishRequest request{.topic_arn = Str(in, "TopicArn"),
                                    .message = Str(in, "Message")};
      if (in.contains("Subject")) request.subject = Str(in, "Subject");
      request.message_attributes = MessageAttributesOf(in);
      return Done(op, sns.Publish(ctx_, request), [](const auto& r) {
        return Json{{"MessageId", r.message_id}};
      });
    }
    if (op == "Subscribe") {
      return Done(op,
                  sns.Subscribe(ctx_, {.topic_arn = Str(in, "TopicArn"),
                                       .protocol = Str(in, "Protocol"),
                                       .endpoint = Str(in, "Endpoint"),
                                       .attributes = AttributesOf(in),
                                       .return_subscription_arn = in.value(
                                           "ReturnSubscriptionArn", false)}),
                  [](const auto& r) {
                    return Json{{"SubscriptionArn", r.subscription_arn}};
                  });
    }
    if (op == "ListSubscriptionsByTopic") {
      return Done(
          op,
          sns.ListSubscriptionsByTopic(ctx_,
                                       {.topic_arn = Str(in, "TopicArn"),
                                        .next_token = Str(in, "NextToken")}),
          [](const auto& r) {
            Json subs = Json::array();
            for (const ferry::SubscriptionSummary& s : r.subscriptions) {
              subs.push_back({{"SubscriptionArn", s.subscription_arn},
                              {"Protocol", s.protocol},
                              {"Endpoint", s.endpoint}});
            }
            Json out = {{"Subscriptions", subs}};
            if (!r.next_token.empty()) out["NextToken"] = r.next_token;
            return out;
          });
    }
    return Unsupported(op);
  }

  std::optional<Json> Kinesis(const std::string& op, const Json& in) override {
    ferry::Kinesis& k = broker_->kinesis();
    const std::string name = Str(in, "StreamName");
    if (op == "ListStreams") {
      return Done(op, k.ListStreams(ctx_, {}), [](const auto& r) {
        return Json{{"StreamNames", r.stream_names},
                    {"HasMoreStreams", r.has_more_streams}};
      });
    }
    if (op == "CreateStream") {
      ferry::CreateStreamRequest request{.stream_name = name};
      if (in.contains("ShardCount")) {
        request.shard_count = in["ShardCount"].get<int>();
      }
      if (in.contains("StreamModeDetails")) {
        request.stream_mode = in["StreamModeDetails"].value("StreamMode", "");
      }
      absl::Status s = k.CreateStream(ctx_, request);
      if (!s.ok()) return Failed(op, s);
      return Json::object();
    }
    if (op == "DescribeStream") {
      return Done(
          op, k.DescribeStream(ctx_, {.stream_name = name}), [](const auto& r) {
            const ferry::StreamDescription& d = r.stream_description;
            Json shards = Json::array();
            for (const ferry::KinesisShard& s : d.shards) {
              shards.push_back(ShardJson(s));
            }
            return Json{
                {"StreamDescription",
                 {{"StreamName", d.stream_name},
                  {"StreamARN", d.stream_arn},
                  {"StreamStatus", d.stream_status},
                  {"StreamModeDetails", {{"StreamMode", d.stream_mode}}},
                  {"Shards", shards},
                  {"HasMoreShards", d.has_more_shards},
                  {"RetentionPeriodHours", d.retention_period_hours},
                  {"StreamCreationTimestamp",
                   EpochSeconds(d.stream_creation_timestamp)},
                  {"EncryptionType", d.encryption_type}}}};
          });
    }
    if (op == "DescribeStreamSummary") {
      return Done(
          op, k.DescribeStreamSummary(ctx_, {.stream_name = name}),
          [](const auto& r) {
            const ferry::StreamDescriptionSummary& d =
                r.stream_description_summary;
            return Json{
                {"StreamDescriptionSummary",
                 {{"StreamName", d.stream_name},
                  {"StreamARN", d.stream_arn},
                  {"StreamStatus", d.stream_status},
                  {"StreamModeDetails", {{"StreamMode", d.stream_mode}}},
                  {"RetentionPeriodHours", d.retention_period_hours},
                  {"OpenShardCount", d.open_shard_count},
                  {"ConsumerCount", d.consumer_count}}}};
          });
    }
    if (op == "PutRecord") {
      std::string data;
      if (!absl::Base64Unescape(Str(in, "Data"), &data)) {
        return Failed(op, absl::InvalidArgumentError("Data is not base64"));
      }
      return Done(op,
                  k.PutRecord(ctx_, {.stream_name = name,
                                     .data = data,
                                     .partition_key = Str(in, "PartitionKey")}),
                  [](const auto& r) {
                    return Json{{"ShardId", r.shard_id},
                                {"SequenceNumber", r.sequence_number}};
                  });
    }
    if (op == "ListShards") {
      ferry::ListShardsRequest request{.stream_name = name};
      if (in.contains("NextToken")) {
        request = {.next_token = Str(in, "NextToken")};
      }
      return Done(op, k.ListShards(ctx_, request), [](const auto& r) {
        Json shards = Json::array();
        for (const ferry::KinesisShard& s : r.shards) {
          shards.push_back(ShardJson(s));
        }
        Json out = {{"Shards", shards}};
        if (r.next_token.has_value()) out["NextToken"] = *r.next_token;
        return out;
      });
    }
    if (op == "GetShardIterator") {
      return Done(op,
                  k.GetShardIterator(ctx_, {.stream_name = name,
                                            .shard_id = Str(in, "ShardId"),
                                            .shard_iterator_type =
                                                Str(in, "ShardIteratorType")}),
                  [](const auto& r) {
                    return Json{{"ShardIterator", r.shard_iterator}};
                  });
    }
    if (op == "GetRecords") {
      ferry::GetRecordsRequest request{.shard_iterator =
                                           Str(in, "ShardIterator")};
      if (in.contains("Limit")) request.limit = in["Limit"].get<int>();
      return Done(op, k.GetRecords(ctx_, request), [](const auto& r) {
        Json records = Json::array();
        for (const ferry::KinesisRecord& rec : r.records) {
          records.push_back({{"SequenceNumber", rec.sequence_number},
                             {"ApproximateArrivalTimestamp",
                              EpochSeconds(rec.approximate_arrival_timestamp)},
                             {"Data", absl::Base64Escape(rec.data)},
                             {"PartitionKey", rec.partition_key}});
        }
        Json out = {{"Records", records},
                    {"MillisBehindLatest", r.millis_behind_latest}};
        if (r.next_shard_iterator.has_value()) {
          out["NextShardIterator"] = *r.next_shard_iterator;
        }
        return out;
      });
    }
    return Unsupported(op);
  }

 private:
  template <typename T, typename F>
  std::optional<Json> Done(const std::string& op,
                           const absl::StatusOr<T>& result, F to_json) {
    if (!result.ok()) return Failed(op, result.status());
    return to_json(*result);
  }

  std::optional<Json> Failed(const std::string& op, const absl::Status& s) {
    std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(s);
    PrintFailure(
        op, absl::StrCat(aws.has_value() ? std::string(aws->shape)
                                         : absl::StatusCodeToString(s.code()),
                         ": ", s.message()));
    return std::nullopt;
  }

  std::optional<Json> Unsupported(const std::string& op) {
    PrintFailure(op, "not available on a data directory");
    return std::nullopt;
  }

  std::unique_ptr<ferry::Broker> broker_;
  const ferry::RequestContext ctx_{};
};

// The Api the common options name; nullptr after printing why not.
std::unique_ptr<Api> OpenApi(const Args& args, const std::string& usage,
                             bool* table, int* status) {
  if (!OutputOption(args, usage, table, status)) return nullptr;
  if (args.Has("data-dir")) {
    if (args.Has("endpoint-url")) {
      *status =
          UsageError(usage, "give --data-dir or --endpoint-url, not both");
      return nullptr;
    }
#ifdef FERRY_HAVE_ROCKSDB
    ferry::RocksDbBackendOptions options;
    options.path = args.Get("data-dir");
    absl::StatusOr<std::unique_ptr<ferry::Backend>> backend =
        ferry::OpenRocksDbBackend(options);
    if (!backend.ok()) {
      std::cerr << "ferry: cannot open " << options.path << ": "
                << backend.status() << "\n";
      *status = 1;
      return nullptr;
    }
    absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
        ferry::Broker::Open({}, *std::move(backend));
    if (!broker.ok()) {
      std::cerr << "ferry: cannot open a broker: " << broker.status() << "\n";
      *status = 1;
      return nullptr;
    }
    return std::make_unique<LocalApi>(*std::move(broker));
#else
    *status = UsageError(usage, "this build has no RocksDB backend");
    return nullptr;
#endif
  }
  Endpoint ep;
  if (!EndpointOption(args, usage, &ep, status)) return nullptr;
  return std::make_unique<RemoteApi>(ep);
}

// "NAME=VALUE" options into an object; false for one without '='.
bool Pairs(const Args& args, const std::string& key, Json* out) {
  *out = Json::object();
  for (auto [it, end] = args.values.equal_range(key); it != end; ++it) {
    size_t eq = it->second.find('=');
    if (eq == std::string::npos) return false;
    (*out)[it->second.substr(0, eq)] = it->second.substr(eq + 1);
  }
  return true;
}

// --`key` NAME=VALUE options as String message attributes in the JSON
// shape; false for one without '='.
bool StringMessageAttributes(const Args& args, const std::string& key,
                             Json* out) {
  Json pairs;
  if (!Pairs(args, key, &pairs)) return false;
  *out = Json::object();
  for (auto& [k, v] : pairs.items()) {
    (*out)[k] = {{"DataType", "String"}, {"StringValue", v}};
  }
  return true;
}

// ---- sqs ----------------------------------------------------------------

std::string NameOf(const std::string& url) {
  size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

// Every queue URL, following NextToken.
std::optional<std::vector<std::string>> AllQueueUrls(Api& api,
                                                     Json in = Json::object()) {
  std::vector<std::string> urls;
  while (true) {
    std::optional<Json> r = api.Sqs("ListQueues", in);
    if (!r) return std::nullopt;
    for (const Json& u : r->value("QueueUrls", Json::array())) {
      urls.push_back(u.get<std::string>());
    }
    if (!r->contains("NextToken") || !(*r)["NextToken"].is_string() ||
        (*r)["NextToken"].get<std::string>().empty()) {
      return urls;
    }
    in["NextToken"] = (*r)["NextToken"];
  }
}

// Per queue {Name, Visible, InFlight, Delayed}: `ferry sqs stats` and the
// queues of `ferry stats`.
std::optional<Json> QueueCounts(Api& api) {
  std::optional<std::vector<std::string>> urls = AllQueueUrls(api);
  if (!urls) return std::nullopt;
  Json queues = Json::array();
  for (const std::string& url : *urls) {
    std::optional<Json> a = api.Sqs("GetQueueAttributes",
                                    {{"QueueUrl", url},
                                     {"AttributeNames",
                                      {"ApproximateNumberOfMessages",
                                       "ApproximateNumberOfMessagesNotVisible",
                                       "ApproximateNumberOfMessagesDelayed"}}});
    if (!a) return std::nullopt;
    auto count = [&a](const char* name) -> int64_t {
      int64_t n = 0;
      const Json& attrs = (*a)["Attributes"];
      if (attrs.contains(name) && attrs[name].is_string()) {
        (void)absl::SimpleAtoi(attrs[name].get<std::string>(), &n);
      }
      return n;
    };
    queues.push_back(
        {{"Name", NameOf(url)},
         {"Visible", count("ApproximateNumberOfMessages")},
         {"InFlight", count("ApproximateNumberOfMessagesNotVisible")},
         {"Delayed", count("ApproximateNumberOfMessagesDelayed")}});
  }
  return queues;
}

int SqsVerb(Api& api, const std::string& verb, const Args& args, bool table) {
  const std::string usage = SqsUsage();
  if (verb == "list-queues") {
    Json in = Json::object();
    if (args.Has("prefix")) in["QueueNamePrefix"] = args.Get("prefix");
    std::optional<std::vector<std::string>> urls = AllQueueUrls(api, in);
    if (!urls) return 1;
    Json rows = Json::array();
    for (const std::string& u : *urls) {
      rows.push_back({{"Name", NameOf(u)}, {"QueueUrl", u}});
    }
    PrintOutput(Json{{"QueueUrls", *urls}}, rows, {"Name", "QueueUrl"}, table);
    return 0;
  }
  if (verb == "stats") {
    std::optional<Json> queues = QueueCounts(api);
    if (!queues) return 1;
    PrintOutput(Json{{"Queues", *queues}}, *queues,
                {"Name", "Visible", "InFlight", "Delayed"}, table);
    return 0;
  }
  if (verb != "create-queue" && verb != "delete-queue" &&
      verb != "purge-queue" && verb != "send-message" &&
      verb != "receive-message") {
    return UsageError(usage, absl::StrCat("unknown verb '", verb, "'"));
  }
  if (!args.Has("queue-name")) {
    return UsageError(usage, "--queue-name is required");
  }
  const std::string name = args.Get("queue-name");
  if (verb == "create-queue") {
    Json attrs;
    if (!Pairs(args, "attribute", &attrs)) {
      return UsageError(usage, "--attribute needs NAME=VALUE");
    }
    Json in = {{"QueueName", name}};
    if (!attrs.empty()) in["Attributes"] = attrs;
    std::optional<Json> r = api.Sqs("CreateQueue", in);
    if (!r) return 1;
    PrintOutput(*r, Json::array({*r}), {"QueueUrl"}, table);
    return 0;
  }
  // Checked before the queue is looked up.
  Json send = Json::object();
  int max = 1, wait = 0;
  if (verb == "send-message") {
    if (!args.Has("message-body")) {
      return UsageError(usage, "--message-body is required");
    }
    Json attrs;
    if (!StringMessageAttributes(args, "message-attribute", &attrs)) {
      return UsageError(usage, "--message-attribute needs NAME=VALUE");
    }
    send["MessageBody"] = args.Get("message-body");
    if (!attrs.empty()) send["MessageAttributes"] = attrs;
    if (args.Has("delay-seconds")) {
      int delay = 0;
      if (!absl::SimpleAtoi(args.Get("delay-seconds"), &delay)) {
        return UsageError(usage, "--delay-seconds takes a whole number");
      }
      send["DelaySeconds"] = delay;
    }
    for (const auto& [option, member] :
         {std::pair{"message-group-id", "MessageGroupId"},
          std::pair{"message-deduplication-id", "MessageDeduplicationId"}}) {
      if (args.Has(option)) send[member] = args.Get(option);
    }
  }
  if (verb == "receive-message" &&
      (!absl::SimpleAtoi(args.Get("max-number-of-messages", "1"), &max) ||
       !absl::SimpleAtoi(args.Get("wait-time-seconds", "0"), &wait))) {
    return UsageError(usage,
                      "--max-number-of-messages and --wait-time-seconds take "
                      "whole numbers");
  }
  std::optional<Json> found = api.Sqs("GetQueueUrl", {{"QueueName", name}});
  if (!found) return 1;
  const std::string url = found->value("QueueUrl", "");
  if (verb == "delete-queue" || verb == "purge-queue") {
    if (!api.Sqs(verb == "delete-queue" ? "DeleteQueue" : "PurgeQueue",
                 {{"QueueUrl", url}})) {
      return 1;
    }
    Json out = {{"QueueUrl", url}};
    PrintOutput(out, Json::array({out}), {"QueueUrl"}, table);
    return 0;
  }
  if (verb == "send-message") {
    send["QueueUrl"] = url;
    std::optional<Json> r = api.Sqs("SendMessage", send);
    if (!r) return 1;
    PrintOutput(*r, Json::array({*r}), {"MessageId", "MD5OfMessageBody"},
                table);
    return 0;
  }
  // receive-message
  std::optional<Json> r =
      api.Sqs("ReceiveMessage", {{"QueueUrl", url},
                                 {"MaxNumberOfMessages", max},
                                 {"WaitTimeSeconds", wait},
                                 {"AttributeNames", {"All"}},
                                 {"MessageAttributeNames", {"All"}}});
  if (!r) return 1;
  Json messages = r->value("Messages", Json::array());
  if (args.Has("delete")) {
    for (const Json& m : messages) {
      if (!api.Sqs("DeleteMessage", {{"QueueUrl", url},
                                     {"ReceiptHandle", m["ReceiptHandle"]}})) {
        return 1;
      }
    }
  }
  PrintOutput(*r, messages, {"MessageId", "Body"}, table);
  return 0;
}

// ---- sns ----------------------------------------------------------------

// Every topic ARN, following NextToken.
std::optional<std::vector<std::string>> AllTopics(Api& api) {
  std::vector<std::string> arns;
  Json in = Json::object();
  while (true) {
    std::optional<Json> r = api.Sns("ListTopics", in);
    if (!r) return std::nullopt;
    for (const Json& t : (*r)["Topics"]) arns.push_back(t["TopicArn"]);
    if (!r->contains("NextToken")) return arns;
    in["NextToken"] = (*r)["NextToken"];
  }
}

// --topic-arn, or the ARN of --topic-name.
std::optional<std::string> TopicArnOf(Api& api, const Args& args) {
  if (args.Has("topic-arn")) return args.Get("topic-arn");
  const std::string name = args.Get("topic-name");
  std::optional<std::vector<std::string>> all = AllTopics(api);
  if (!all) return std::nullopt;
  for (const std::string& arn : *all) {
    if (arn.size() > name.size() &&
        arn.compare(arn.size() - name.size() - 1, std::string::npos,
                    ":" + name) == 0) {
      return arn;
    }
  }
  std::cerr << "ferry: no topic named '" << name << "'\n";
  return std::nullopt;
}

int SnsVerb(Api& api, const std::string& verb, const Args& args, bool table) {
  const std::string usage = SnsUsage();
  if (verb == "list-topics") {
    std::optional<std::vector<std::string>> all = AllTopics(api);
    if (!all) return 1;
    Json topics = Json::array();
    for (const std::string& arn : *all) topics.push_back({{"TopicArn", arn}});
    PrintOutput(Json{{"Topics", topics}}, topics, {"TopicArn"}, table);
    return 0;
  }
  if (verb == "create-topic") {
    if (!args.Has("name")) return UsageError(usage, "--name is required");
    Json attrs;
    if (!Pairs(args, "attribute", &attrs)) {
      return UsageError(usage, "--attribute needs NAME=VALUE");
    }
    Json in = {{"Name", args.Get("name")}};
    if (!attrs.empty()) in["Attributes"] = attrs;
    std::optional<Json> r = api.Sns("CreateTopic", in);
    if (!r) return 1;
    PrintOutput(*r, Json::array({*r}), {"TopicArn"}, table);
    return 0;
  }
  if (verb != "publish" && verb != "subscribe") {
    return UsageError(usage, absl::StrCat("unknown verb '", verb, "'"));
  }
  if (!args.Has("topic-arn") && !args.Has("topic-name")) {
    return UsageError(usage, "--topic-arn or --topic-name is required");
  }
  if (verb == "publish") {
    if (!args.Has("message")) return UsageError(usage, "--message is required");
    Json attrs;
    if (!StringMessageAttributes(args, "message-attribute", &attrs)) {
      return UsageError(usage, "--message-attribute needs NAME=VALUE");
    }
    std::optional<std::string> arn = TopicArnOf(api, args);
    if (!arn) return 1;
    Json in = {{"TopicArn", *arn}, {"Message", args.Get("message")}};
    if (args.Has("subject")) in["Subject"] = args.Get("subject");
    if (!attrs.empty()) in["MessageAttributes"] = attrs;
    std::optional<Json> r = api.Sns("Publish", in);
    if (!r) return 1;
    PrintOutput(*r, Json::array({*r}), {"MessageId"}, table);
    return 0;
  }
  // subscribe
  if (!args.Has("protocol") || !args.Has("notification-endpoint")) {
    return UsageError(usage,
                      "--protocol and --notification-endpoint are required");
  }
  Json attrs;
  if (!Pairs(args, "attribute", &attrs)) {
    return UsageError(usage, "--attribute needs NAME=VALUE");
  }
  std::optional<std::string> arn = TopicArnOf(api, args);
  if (!arn) return 1;
  std::string endpoint = args.Get("notification-endpoint");
  if (args.Get("protocol") == "sqs" && endpoint.rfind("arn:", 0) != 0) {
    std::optional<Json> url = api.Sqs("GetQueueUrl", {{"QueueName", endpoint}});
    if (!url) return 1;
    std::optional<Json> a = api.Sqs(
        "GetQueueAttributes",
        {{"QueueUrl", (*url)["QueueUrl"]}, {"AttributeNames", {"QueueArn"}}});
    if (!a) return 1;
    endpoint = (*a)["Attributes"]["QueueArn"].get<std::string>();
  }
  Json in = {{"TopicArn", *arn},
             {"Protocol", args.Get("protocol")},
             {"Endpoint", endpoint},
             {"ReturnSubscriptionArn", true}};
  if (!attrs.empty()) in["Attributes"] = attrs;
  std::optional<Json> r = api.Sns("Subscribe", in);
  if (!r) return 1;
  PrintOutput(*r, Json::array({*r}), {"SubscriptionArn"}, table);
  return 0;
}

// ---- kinesis --------------------------------------------------------------

std::optional<std::vector<Json>> AllShards(Api& api, const std::string& name) {
  std::vector<Json> shards;
  Json in = {{"StreamName", name}};
  while (true) {
    std::optional<Json> r = api.Kinesis("ListShards", in);
    if (!r) return std::nullopt;
    for (const Json& s : (*r)["Shards"]) shards.push_back(s);
    if (!r->contains("NextToken")) return shards;
    in = {{"NextToken", (*r)["NextToken"]}};
  }
}

// A record as printed: its data as text.
Json RecordRow(const std::string& shard_id, const Json& record) {
  std::string data;
  if (!absl::Base64Unescape(record.value("Data", ""), &data)) data.clear();
  return {{"ShardId", shard_id},
          {"SequenceNumber", record.value("SequenceNumber", "")},
          {"PartitionKey", record.value("PartitionKey", "")},
          {"Data", data}};
}

std::atomic<bool> g_interrupted{false};
extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

// One shard as `tail` follows it. A shard is read only once each of its
// parents (ParentShardId, AdjacentParentShardId) has been read to its end,
// so that, per partition key, records come out in the order they were
// written across splits and merges, as the KCL reads them.
struct TailedShard {
  enum State { kWaiting, kReading, kDone };
  State state = kWaiting;
  std::vector<std::string> parents;
  std::string start;  // iterator type when reading begins
  std::string iterator;
};

// Prints one record as a JSON line or (table) columns.
void PrintTailRow(const Json& row, bool table) {
  if (table) {
    std::cout << row["ShardId"].get<std::string>() << "  "
              << row["SequenceNumber"].get<std::string>() << "  "
              << row["PartitionKey"].get<std::string>() << "  "
              << row["Data"].get<std::string>() << "\n";
  } else {
    std::cout << row.dump() << "\n";
  }
  std::cout.flush();
}

int Tail(Api& api, const Args& args, bool table) {
  const std::string usage = KinesisUsage();
  const std::string name = args.Get("stream-name");
  const std::string from = args.Get("from", "LATEST");
  if (from != "LATEST" && from != "TRIM_HORIZON") {
    return UsageError(usage, "--from must be LATEST or TRIM_HORIZON");
  }
  int64_t max_records = -1, poll_ms = 1000;
  if (!absl::SimpleAtoi(args.Get("max-records", "-1"), &max_records) ||
      !absl::SimpleAtoi(args.Get("poll-interval-ms", "1000"), &poll_ms) ||
      poll_ms < 0) {
    return UsageError(usage,
                      "--max-records and --poll-interval-ms take numbers");
  }
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  std::map<std::string, TailedShard> shards;  // by id: parents sort first
  bool first = true;
  int64_t printed = 0;
  if (table) std::cout << "ShardId  SequenceNumber  PartitionKey  Data\n";
  while (!g_interrupted.load()) {
    if (max_records == 0) return 0;
    std::optional<std::vector<Json>> listed = AllShards(api, name);
    if (!listed) return 1;
    for (const Json& s : *listed) {
      const std::string id = s["ShardId"];
      if (shards.count(id)) continue;
      TailedShard& t = shards[id];
      for (const char* key : {"ParentShardId", "AdjacentParentShardId"}) {
        if (s.contains(key) && s[key].is_string()) t.parents.push_back(s[key]);
      }
      // At the start, LATEST reads only open shards; shards that come later
      // (a reshard's children) are read from their start.
      t.start = first ? from : "TRIM_HORIZON";
      if (first && from == "LATEST" &&
          s["SequenceNumberRange"].contains("EndingSequenceNumber")) {
        t.state = TailedShard::kDone;
      }
    }
    first = false;
    // Progress: records printed, or a shard started or finished (its
    // children may be readable now).
    bool progress = false;
    for (auto& [id, t] : shards) {
      if (t.state != TailedShard::kWaiting) continue;
      bool ready = true;
      for (const std::string& parent : t.parents) {
        auto p = shards.find(parent);
        // A parent no longer listed (past retention) has nothing to read.
        ready = ready &&
                (p == shards.end() || p->second.state == TailedShard::kDone);
      }
      if (!ready) continue;
      std::optional<Json> it =
          api.Kinesis("GetShardIterator", {{"StreamName", name},
                                           {"ShardId", id},
                                           {"ShardIteratorType", t.start}});
      if (!it) return 1;
      t.iterator = (*it)["ShardIterator"];
      t.state = TailedShard::kReading;
      progress = true;
    }
    for (auto& [id, t] : shards) {
      if (t.state != TailedShard::kReading) continue;
      std::optional<Json> r = api.Kinesis(
          "GetRecords", {{"ShardIterator", t.iterator}, {"Limit", 1000}});
      if (!r) return 1;
      for (const Json& record : (*r)["Records"]) {
        PrintTailRow(RecordRow(id, record), table);
        progress = true;
        if (max_records >= 0 && ++printed >= max_records) return 0;
      }
      if (r->contains("NextShardIterator") &&
          (*r)["NextShardIterator"].is_string()) {
        t.iterator = (*r)["NextShardIterator"];
      } else {
        t.state = TailedShard::kDone;  // a closed shard read to its end
        progress = true;
      }
    }
    if (progress || g_interrupted.load()) continue;
    // Nothing new: wait a poll interval on the real clock (in slices, so
    // that Ctrl-C ends the wait promptly).
    ferry::Clock& clock = ferry::Clock::Real();
    const absl::Time until = clock.Now() + absl::Milliseconds(poll_ms);
    ferry::Mutex mu;
    ferry::CondVar cv(&mu);
    ferry::MutexLock lock(&mu);
    while (!g_interrupted.load() && clock.Now() < until) {
      clock.WaitUntil(cv,
                      std::min(until, clock.Now() + absl::Milliseconds(100)));
    }
  }
  return 0;
}

int KinesisVerb(Api& api, const std::string& verb, const Args& args,
                bool table) {
  const std::string usage = KinesisUsage();
  if (verb == "list-streams") {
    std::optional<Json> r = api.Kinesis("ListStreams", Json::object());
    if (!r) return 1;
    Json rows = Json::array();
    for (const Json& n : (*r)["StreamNames"])
      rows.push_back({{"StreamName", n}});
    PrintOutput(Json{{"StreamNames", (*r)["StreamNames"]}}, rows,
                {"StreamName"}, table);
    return 0;
  }
  if (!args.Has("stream-name")) {
    return UsageError(usage, "--stream-name is required");
  }
  const std::string name = args.Get("stream-name");
  if (verb == "create-stream") {
    Json in = {{"StreamName", name}};
    if (args.Has("on-demand")) {
      in["StreamModeDetails"] = {{"StreamMode", "ON_DEMAND"}};
    } else {
      int shards = 1;
      if (!absl::SimpleAtoi(args.Get("shard-count", "1"), &shards)) {
        return UsageError(usage, "--shard-count takes a number");
      }
      in["ShardCount"] = shards;
    }
    if (!api.Kinesis("CreateStream", in)) return 1;
    Json out = {{"StreamName", name}};
    PrintOutput(out, Json::array({out}), {"StreamName"}, table);
    return 0;
  }
  if (verb == "describe-stream") {
    std::optional<Json> r =
        api.Kinesis("DescribeStream", {{"StreamName", name}});
    if (!r) return 1;
    Json rows = Json::array();
    for (const Json& s : (*r)["StreamDescription"]["Shards"]) {
      rows.push_back({{"ShardId", s["ShardId"]},
                      {"StartingHashKey", s["HashKeyRange"]["StartingHashKey"]},
                      {"EndingHashKey", s["HashKeyRange"]["EndingHashKey"]},
                      {"Open", !s["SequenceNumberRange"].contains(
                                   "EndingSequenceNumber")}});
    }
    PrintOutput(*r, rows,
                {"ShardId", "StartingHashKey", "EndingHashKey", "Open"}, table);
    return 0;
  }
  if (verb == "put-record") {
    if (!args.Has("partition-key") || !args.Has("data")) {
      return UsageError(usage, "--partition-key and --data are required");
    }
    std::optional<Json> r = api.Kinesis(
        "PutRecord", {{"StreamName", name},
                      {"PartitionKey", args.Get("partition-key")},
                      {"Data", absl::Base64Escape(args.Get("data"))}});
    if (!r) return 1;
    PrintOutput(*r, Json::array({*r}), {"ShardId", "SequenceNumber"}, table);
    return 0;
  }
  if (verb == "get-records") {
    const std::string type = args.Get("shard-iterator-type", "TRIM_HORIZON");
    int limit = 1000;
    if (!absl::SimpleAtoi(args.Get("limit", "1000"), &limit)) {
      return UsageError(usage, "--limit takes a number");
    }
    std::vector<std::string> ids;
    if (args.Has("shard-id")) {
      ids.push_back(args.Get("shard-id"));
    } else {
      std::optional<std::vector<Json>> shards = AllShards(api, name);
      if (!shards) return 1;
      for (const Json& s : *shards) ids.push_back(s["ShardId"]);
    }
    Json rows = Json::array();
    for (const std::string& id : ids) {
      std::optional<Json> it = api.Kinesis(
          "GetShardIterator",
          {{"StreamName", name}, {"ShardId", id}, {"ShardIteratorType", type}});
      if (!it) return 1;
      std::optional<Json> r = api.Kinesis(
          "GetRecords",
          {{"ShardIterator", (*it)["ShardIterator"]}, {"Limit", limit}});
      if (!r) return 1;
      for (const Json& record : (*r)["Records"]) {
        rows.push_back(RecordRow(id, record));
      }
    }
    PrintOutput(Json{{"Records", rows}}, rows,
                {"ShardId", "SequenceNumber", "PartitionKey", "Data"}, table);
    return 0;
  }
  if (verb == "tail") return Tail(api, args, table);
  return UsageError(usage, absl::StrCat("unknown verb '", verb, "'"));
}

// ---- stats ----------------------------------------------------------------

int Stats(Api& api, bool table) {
  Json rows = Json::array();
  Json topics = Json::array(), streams = Json::array();
  std::optional<Json> queues = QueueCounts(api);
  if (!queues) return 1;
  for (const Json& q : *queues) {
    rows.push_back(
        {{"Kind", "queue"},
         {"Name", q["Name"]},
         {"Detail", absl::StrCat("visible=", q["Visible"].dump(),
                                 " in-flight=", q["InFlight"].dump(),
                                 " delayed=", q["Delayed"].dump())}});
  }
  std::optional<std::vector<std::string>> arns = AllTopics(api);
  if (!arns) return 1;
  for (const std::string& arn : *arns) {
    int64_t subs = 0;
    Json in = {{"TopicArn", arn}};
    while (true) {
      std::optional<Json> r = api.Sns("ListSubscriptionsByTopic", in);
      if (!r) return 1;
      subs += static_cast<int64_t>((*r)["Subscriptions"].size());
      if (!r->contains("NextToken")) break;
      in["NextToken"] = (*r)["NextToken"];
    }
    topics.push_back({{"TopicArn", arn}, {"Subscriptions", subs}});
    rows.push_back({{"Kind", "topic"},
                    {"Name", arn.substr(arn.rfind(':') + 1)},
                    {"Detail", absl::StrCat("subscriptions=", subs)}});
  }
  std::optional<Json> names = api.Kinesis("ListStreams", Json::object());
  if (!names) return 1;
  for (const Json& n : (*names)["StreamNames"]) {
    std::optional<Json> d =
        api.Kinesis("DescribeStreamSummary", {{"StreamName", n}});
    if (!d) return 1;
    const Json& s = (*d)["StreamDescriptionSummary"];
    Json row = {{"StreamName", n},
                {"Status", s.value("StreamStatus", "")},
                {"OpenShards", s.value("OpenShardCount", 0)},
                {"RetentionHours", s.value("RetentionPeriodHours", 24)}};
    streams.push_back(row);
    rows.push_back(
        {{"Kind", "stream"},
         {"Name", n},
         {"Detail",
          absl::StrCat(row["Status"].get<std::string>(),
                       " open-shards=", row["OpenShards"].dump(),
                       " retention-hours=", row["RetentionHours"].dump())}});
  }
  PrintOutput(
      Json{{"Queues", *queues}, {"Topics", topics}, {"Streams", streams}}, rows,
      {"Kind", "Name", "Detail"}, table);
  return 0;
}

// Parses the arguments after the verb and runs `run`.
template <typename F>
int Dispatch(int argc, char** argv, const std::string& usage,
             const std::vector<std::string>& flags, bool takes_verb, F run) {
  if (takes_verb && (argc < 1 || std::string_view(argv[0]) == "--help")) {
    std::cout << usage;
    return argc < 1 ? 2 : 0;
  }
  const int skip = takes_verb ? 1 : 0;
  if (!takes_verb && argc > 0 && std::string_view(argv[0]) == "--help") {
    std::cout << usage;
    return 0;
  }
  Args args;
  std::string error;
  if (!ParseArgs(argc - skip, argv + skip, flags, &args, &error)) {
    return UsageError(usage, error);
  }
  if (!args.positional.empty()) {
    return UsageError(
        usage, absl::StrCat("unexpected argument '", args.positional[0], "'"));
  }
  bool table = false;
  int status = 0;
  std::unique_ptr<Api> api = OpenApi(args, usage, &table, &status);
  if (api == nullptr) return status;
  return run(*api, takes_verb ? std::string(argv[0]) : std::string(), args,
             table);
}

}  // namespace

int RunSqs(int argc, char** argv) {
  return Dispatch(argc, argv, SqsUsage(), {"delete"}, true, SqsVerb);
}

int RunSns(int argc, char** argv) {
  return Dispatch(argc, argv, SnsUsage(), {}, true, SnsVerb);
}

int RunKinesis(int argc, char** argv) {
  return Dispatch(argc, argv, KinesisUsage(), {"on-demand"}, true, KinesisVerb);
}

int RunStats(int argc, char** argv) {
  return Dispatch(argc, argv, StatsUsage(), {}, false,
                  [](Api& api, const std::string&, const Args&, bool table) {
                    return Stats(api, table);
                  });
}

}  // namespace ferry_tools
