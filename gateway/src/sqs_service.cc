// SQS's two wire protocols over one table of operations.
//
// Both protocols are decoded into one intermediate form, a JSON object shaped
// as the JSON protocol's request (a Query request's flattened names, e.g.
// `MessageAttribute.1.Value.DataType`, are folded into it first). Results are
// built as the JSON protocol's response object and written either as JSON or,
// for Query, as XML with the Query model's element names. Member and element
// names follow botocore's SQS service models (service-2.json: the JSON model
// and the last Query model).
#include "sqs_service.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aws_wire.h"
#include "ferry/errors.h"
#include "nlohmann/json.hpp"
#include "service_support.h"

namespace ferry::gateway_internal {
namespace {

using Json = nlohmann::json;
using OJson = nlohmann::ordered_json;

constexpr std::string_view kXmlNamespace =
    "http://queue.amazonaws.com/doc/2012-11-05/";
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";

enum class Protocol { kJson, kQuery };

// ---- Errors ----------------------------------------------------------------

absl::Status SqsError(std::string_view shape, std::string_view message) {
  return AwsError(AwsService::kSqs, shape, message);
}

absl::Status InvalidValue(std::string_view member, std::string_view reason) {
  return SqsError("InvalidParameterValueException",
                  absl::StrCat("Value for parameter ", AsAbsl(member),
                               " is invalid. Reason: ", AsAbsl(reason), "."));
}

// Shapes AWS's JSON protocol names in the coral namespace.
bool IsCoralShape(std::string_view shape) {
  return shape == "InvalidParameterValueException" ||
         shape == "MissingRequiredParameterException" ||
         shape == "InvalidAction" || shape == "InternalFailure" ||
         shape == "ServiceUnavailable" || shape == "AccessDeniedException" ||
         shape == "ValidationException" || shape == "InvalidClientTokenId" ||
         shape == "SignatureDoesNotMatch" ||
         shape == "MissingAuthenticationToken" ||
         shape == "IncompleteSignature";
}

HttpResponse ErrorResponse(Protocol protocol, const std::string& request_id,
                           WireError e) {
  if (protocol == Protocol::kQuery) {
    if (e.shape == "QueueDoesNotExist") {
      // The Query protocol's text for it.
      e.message = "The specified queue does not exist for this wsdl version.";
    }
    return QueryErrorResponse(kXmlNamespace, request_id, e);
  }
  HttpResponse r;
  r.status = e.status;
  r.error_code = e.code;
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.content_type = std::string(kJsonContentType);
  r.headers.emplace_back(
      "x-amzn-query-error",
      absl::StrCat(e.code, ";", e.sender ? "Sender" : "Receiver"));
  OJson body;
  body["__type"] =
      absl::StrCat(IsCoralShape(e.shape) ? "com.amazon.coral.service#"
                                         : "com.amazonaws.sqs#",
                   e.shape);
  body["message"] = e.message;
  r.body = body.dump(-1, ' ', false, OJson::error_handler_t::replace);
  return r;
}

// ---- Decoding: Query parameters -> the JSON request shape -------------------

struct ParamNode {
  std::optional<std::string> value;
  std::map<std::string, ParamNode> children;
};

struct FlatMap {
  std::string_view query_name;
  std::string_view json_name;
  std::string_view key_field;
};
constexpr FlatMap kFlatMaps[] = {
    {"Attribute", "Attributes", "Name"},
    {"Attributes", "Attributes", "Name"},
    {"Tag", "Tags", "Key"},
    {"Tags", "Tags", "Key"},
    {"MessageAttribute", "MessageAttributes", "Name"},
    {"MessageAttributes", "MessageAttributes", "Name"},
    {"MessageSystemAttribute", "MessageSystemAttributes", "Name"},
    {"MessageSystemAttributes", "MessageSystemAttributes", "Name"},
};

struct FlatList {
  std::string_view query_name;
  std::string_view json_name;
};
constexpr FlatList kFlatLists[] = {
    {"AttributeName", "AttributeNames"},
    {"AttributeNames", "AttributeNames"},
    {"MessageAttributeName", "MessageAttributeNames"},
    {"MessageAttributeNames", "MessageAttributeNames"},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames"},
    {"MessageSystemAttributeNames", "MessageSystemAttributeNames"},
    {"TagKey", "TagKeys"},
    {"TagKeys", "TagKeys"},
    {"AWSAccountId", "AWSAccountIds"},
    {"AWSAccountIds", "AWSAccountIds"},
    {"ActionName", "Actions"},
    {"Actions", "Actions"},
    {"SendMessageBatchRequestEntry", "Entries"},
    {"DeleteMessageBatchRequestEntry", "Entries"},
    {"ChangeMessageVisibilityBatchRequestEntry", "Entries"},
    {"Entries", "Entries"},
};

// The children of a flattened list or map in index order (1, 2, ..., 10).
std::vector<const ParamNode*> Indexed(const ParamNode& node) {
  std::vector<std::pair<int64_t, const ParamNode*>> items;
  for (const auto& [key, child] : node.children) {
    int64_t i;
    if (absl::SimpleAtoi(key, &i)) items.emplace_back(i, &child);
  }
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const ParamNode*> out;
  for (const auto& [i, child] : items) out.push_back(child);
  return out;
}

Json ToJson(const ParamNode& node);

Json Leaf(const ParamNode& node) {
  if (node.children.empty()) return node.value.value_or("");
  return ToJson(node);
}

Json ToJson(const ParamNode& node) {
  Json out = Json::object();
  for (const auto& [name, child] : node.children) {
    const FlatMap* map = nullptr;
    for (const FlatMap& m : kFlatMaps) {
      if (m.query_name == name) map = &m;
    }
    const FlatList* list = nullptr;
    for (const FlatList& l : kFlatLists) {
      if (l.query_name == name) list = &l;
    }
    if (map != nullptr && !child.children.empty()) {
      Json& target = out[std::string(map->json_name)];
      if (!target.is_object()) target = Json::object();
      for (const ParamNode* entry : Indexed(child)) {
        auto key = entry->children.find(std::string(map->key_field));
        auto value = entry->children.find("Value");
        if (key == entry->children.end() || !key->second.value.has_value()) {
          continue;
        }
        target[*key->second.value] =
            value == entry->children.end() ? Json("") : Leaf(value->second);
      }
    } else if (list != nullptr && !child.children.empty()) {
      Json& target = out[std::string(list->json_name)];
      if (!target.is_array()) target = Json::array();
      const ParamNode* items = &child;
      // Also accept the `.member.N` form of other Query services.
      if (auto m = child.children.find("member"); m != child.children.end()) {
        items = &m->second;
      }
      for (const ParamNode* entry : Indexed(*items)) {
        target.push_back(Leaf(*entry));
      }
    } else {
      out[name] = Leaf(child);
    }
  }
  return out;
}

// SQS's deepest parameter is
// SendMessageBatchRequestEntry.N.MessageAttribute.M.Value.StringValue (6
// parts); deeper names are refused, which also bounds the recursion below.
constexpr int kMaxParamDepth = 8;

absl::StatusOr<Json> QueryParamsToJson(
    const std::vector<std::pair<std::string, std::string>>& params) {
  ParamNode root;
  for (const auto& [key, value] : params) {
    if (std::count(key.begin(), key.end(), '.') >= kMaxParamDepth) {
      return SqsError("InvalidParameterValueException",
                      absl::StrCat("The parameter name ", key.substr(0, 256),
                                   " is not valid."));
    }
    ParamNode* node = &root;
    size_t pos = 0;
    while (true) {
      size_t dot = key.find('.', pos);
      node = &node->children[key.substr(
          pos, dot == std::string::npos ? std::string::npos : dot - pos)];
      if (dot == std::string::npos) break;
      pos = dot + 1;
    }
    node->value = value;
  }
  return ToJson(root);
}

// ---- Decoding: the JSON request shape -> ferry/sqs.h structs ---------------

class Decoder {
 public:
  absl::Status status() const { return status_; }

  std::string Str(const Json& o, const char* name) {
    return OptStr(o, name).value_or("");
  }
  std::optional<std::string> OptStr(const Json& o, const char* name) {
    const Json* v = Find(o, name);
    if (v == nullptr) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    if (v->is_number() || v->is_boolean()) return v->dump();
    Fail(name, "must be a string");
    return std::nullopt;
  }
  std::optional<int> Int(const Json& o, const char* name) {
    const Json* v = Find(o, name);
    if (v == nullptr) return std::nullopt;
    int64_t n = 0;
    bool ok = false;
    if (v->is_number_integer()) {
      n = v->get<int64_t>();
      ok = true;
    } else if (v->is_string()) {
      ok = absl::SimpleAtoi(v->get<std::string>(), &n);
    }
    if (!ok || n < std::numeric_limits<int>::min() ||
        n > std::numeric_limits<int>::max()) {
      Fail(name, "must be an integer");
      return std::nullopt;
    }
    return static_cast<int>(n);
  }
  std::vector<std::string> StrList(const Json& o, const char* name) {
    std::vector<std::string> out;
    const Json* v = Find(o, name);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      Fail(name, "must be a list of strings");
      return out;
    }
    for (const Json& e : *v) {
      if (!e.is_string()) {
        Fail(name, "must be a list of strings");
        return out;
      }
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  std::map<std::string, std::string> StrMap(const Json& o, const char* name) {
    std::map<std::string, std::string> out;
    const Json* v = Find(o, name);
    if (v == nullptr) return out;
    if (!v->is_object()) {
      Fail(name, "must be a map of strings");
      return out;
    }
    for (const auto& [k, e] : v->items()) {
      if (e.is_string()) {
        out[k] = e.get<std::string>();
      } else if (e.is_number() || e.is_boolean()) {
        out[k] = e.dump();
      } else {
        Fail(name, "must be a map of strings");
        return out;
      }
    }
    return out;
  }
  MessageAttributeMap Attributes(const Json& o, const char* name) {
    MessageAttributeMap out;
    const Json* v = Find(o, name);
    if (v == nullptr) return out;
    if (!v->is_object()) {
      Fail(name, "must be a map of message attribute values");
      return out;
    }
    for (const auto& [k, e] : v->items()) {
      if (!e.is_object()) {
        Fail(name, "must be a map of message attribute values");
        return out;
      }
      MessageAttributeValue a;
      a.data_type = Str(e, "DataType");
      a.string_value = Str(e, "StringValue");
      if (std::optional<std::string> b = OptStr(e, "BinaryValue")) {
        std::optional<std::string> raw = Base64Decode(*b);
        if (!raw.has_value()) {
          Fail(absl::StrCat(name, ".", k, ".BinaryValue"),
               "must be base64-encoded");
          return out;
        }
        a.binary_value = *std::move(raw);
      }
      out.emplace(k, std::move(a));
    }
    return out;
  }
  // Objects of a list member (batch entries).
  std::vector<const Json*> Objects(const Json& o, const char* name) {
    std::vector<const Json*> out;
    const Json* v = Find(o, name);
    if (v == nullptr) return out;
    if (!v->is_array()) {
      Fail(name, "must be a list");
      return out;
    }
    for (const Json& e : *v) {
      if (!e.is_object()) {
        Fail(name, "must be a list of structures");
        return {};
      }
      out.push_back(&e);
    }
    return out;
  }

 private:
  static const Json* Find(const Json& o, const char* name) {
    if (!o.is_object()) return nullptr;
    auto it = o.find(name);
    if (it == o.end() || it->is_null()) return nullptr;
    return &*it;
  }
  void Fail(std::string_view member, std::string_view reason) {
    if (status_.ok()) status_ = InvalidValue(member, reason);
  }

  absl::Status status_;
};

// ---- Encoding helpers -----------------------------------------------------

OJson AttributesJson(const MessageAttributeMap& attributes) {
  OJson out = OJson::object();
  for (const auto& [name, a] : attributes) {
    OJson v = OJson::object();
    if (absl::StartsWith(a.data_type, "Binary")) {
      v["BinaryValue"] = Base64Encode(a.binary_value);
    } else {
      v["StringValue"] = a.string_value;
    }
    v["DataType"] = a.data_type;
    out[name] = std::move(v);
  }
  return out;
}

OJson StringMapJson(const std::map<std::string, std::string>& m) {
  OJson out = OJson::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

OJson BatchErrorsJson(const std::vector<BatchResultErrorEntry>& failed) {
  OJson out = OJson::array();
  for (const BatchResultErrorEntry& e : failed) {
    OJson j;
    j["Id"] = e.id;
    j["SenderFault"] = e.sender_fault;
    j["Code"] = e.code;
    j["Message"] = e.message;
    out.push_back(std::move(j));
  }
  return out;
}

void PutIfNotEmpty(OJson& out, const char* name, const std::string& value) {
  if (!value.empty()) out[name] = value;
}

// ---- The operations ---------------------------------------------------------

using Ctx = RequestContext;
using Handler = absl::Status (*)(Sqs&, const Ctx&, const Json&, Decoder&,
                                 OJson*);

absl::Status CreateQueue(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                         OJson* out) {
  CreateQueueRequest req;
  req.queue_name = d.Str(in, "QueueName");
  req.attributes = d.StrMap(in, "Attributes");
  req.tags = d.StrMap(in, "tags");
  for (auto& [k, v] : d.StrMap(in, "Tags")) req.tags[k] = v;
  if (!d.status().ok()) return d.status();
  absl::StatusOr<CreateQueueResult> r = sqs.CreateQueue(ctx, req);
  if (!r.ok()) return r.status();
  (*out)["QueueUrl"] = r->queue_url;
  return absl::OkStatus();
}

absl::Status GetQueueUrl(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                         OJson* out) {
  GetQueueUrlRequest req;
  req.queue_name = d.Str(in, "QueueName");
  req.queue_owner_aws_account_id = d.Str(in, "QueueOwnerAWSAccountId");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<GetQueueUrlResult> r = sqs.GetQueueUrl(ctx, req);
  if (!r.ok()) return r.status();
  (*out)["QueueUrl"] = r->queue_url;
  return absl::OkStatus();
}

absl::Status ListQueues(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                        OJson* out) {
  ListQueuesRequest req;
  req.queue_name_prefix = d.Str(in, "QueueNamePrefix");
  req.max_results = d.Int(in, "MaxResults");
  req.next_token = d.Str(in, "NextToken");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<ListQueuesResult> r = sqs.ListQueues(ctx, req);
  if (!r.ok()) return r.status();
  if (!r->queue_urls.empty()) (*out)["QueueUrls"] = r->queue_urls;
  PutIfNotEmpty(*out, "NextToken", r->next_token);
  return absl::OkStatus();
}

absl::Status DeleteQueue(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                         OJson*) {
  DeleteQueueRequest req{d.Str(in, "QueueUrl")};
  if (!d.status().ok()) return d.status();
  return sqs.DeleteQueue(ctx, req);
}

absl::Status GetQueueAttributes(Sqs& sqs, const Ctx& ctx, const Json& in,
                                Decoder& d, OJson* out) {
  GetQueueAttributesRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.attribute_names = d.StrList(in, "AttributeNames");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<GetQueueAttributesResult> r = sqs.GetQueueAttributes(ctx, req);
  if (!r.ok()) return r.status();
  if (!r->attributes.empty()) {
    (*out)["Attributes"] = StringMapJson(r->attributes);
  }
  return absl::OkStatus();
}

absl::Status SetQueueAttributes(Sqs& sqs, const Ctx& ctx, const Json& in,
                                Decoder& d, OJson*) {
  SetQueueAttributesRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.attributes = d.StrMap(in, "Attributes");
  if (!d.status().ok()) return d.status();
  return sqs.SetQueueAttributes(ctx, req);
}

absl::Status PurgeQueue(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                        OJson*) {
  PurgeQueueRequest req{d.Str(in, "QueueUrl")};
  if (!d.status().ok()) return d.status();
  return sqs.PurgeQueue(ctx, req);
}

void PutSendDigests(OJson& o, const std::string& md5_body,
                    const std::string& md5_attributes,
                    const std::string& md5_system, const std::string& id,
                    const std::string& sequence) {
  o["MD5OfMessageBody"] = md5_body;
  PutIfNotEmpty(o, "MD5OfMessageAttributes", md5_attributes);
  PutIfNotEmpty(o, "MD5OfMessageSystemAttributes", md5_system);
  o["MessageId"] = id;
  PutIfNotEmpty(o, "SequenceNumber", sequence);
}

absl::Status SendMessage(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                         OJson* out) {
  SendMessageRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.message_body = d.Str(in, "MessageBody");
  req.delay_seconds = d.Int(in, "DelaySeconds");
  req.message_attributes = d.Attributes(in, "MessageAttributes");
  req.message_system_attributes = d.Attributes(in, "MessageSystemAttributes");
  req.message_deduplication_id = d.OptStr(in, "MessageDeduplicationId");
  req.message_group_id = d.OptStr(in, "MessageGroupId");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<SendMessageResult> r = sqs.SendMessage(ctx, req);
  if (!r.ok()) return r.status();
  PutSendDigests(*out, r->md5_of_message_body, r->md5_of_message_attributes,
                 r->md5_of_message_system_attributes, r->message_id,
                 r->sequence_number);
  return absl::OkStatus();
}

absl::Status SendMessageBatch(Sqs& sqs, const Ctx& ctx, const Json& in,
                              Decoder& d, OJson* out) {
  SendMessageBatchRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  for (const Json* e : d.Objects(in, "Entries")) {
    SendMessageBatchRequestEntry entry;
    entry.id = d.Str(*e, "Id");
    entry.message_body = d.Str(*e, "MessageBody");
    entry.delay_seconds = d.Int(*e, "DelaySeconds");
    entry.message_attributes = d.Attributes(*e, "MessageAttributes");
    entry.message_system_attributes =
        d.Attributes(*e, "MessageSystemAttributes");
    entry.message_deduplication_id = d.OptStr(*e, "MessageDeduplicationId");
    entry.message_group_id = d.OptStr(*e, "MessageGroupId");
    req.entries.push_back(std::move(entry));
  }
  if (!d.status().ok()) return d.status();
  absl::StatusOr<SendMessageBatchResult> r = sqs.SendMessageBatch(ctx, req);
  if (!r.ok()) return r.status();
  OJson ok = OJson::array();
  for (const SendMessageBatchResultEntry& e : r->successful) {
    OJson j;
    j["Id"] = e.id;
    PutSendDigests(j, e.md5_of_message_body, e.md5_of_message_attributes,
                   e.md5_of_message_system_attributes, e.message_id,
                   e.sequence_number);
    ok.push_back(std::move(j));
  }
  (*out)["Successful"] = std::move(ok);
  (*out)["Failed"] = BatchErrorsJson(r->failed);
  return absl::OkStatus();
}

absl::Status ReceiveMessage(Sqs& sqs, const Ctx& ctx, const Json& in,
                            Decoder& d, OJson* out) {
  ReceiveMessageRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.attribute_names = d.StrList(in, "AttributeNames");
  req.message_system_attribute_names =
      d.StrList(in, "MessageSystemAttributeNames");
  req.message_attribute_names = d.StrList(in, "MessageAttributeNames");
  req.max_number_of_messages = d.Int(in, "MaxNumberOfMessages");
  req.visibility_timeout = d.Int(in, "VisibilityTimeout");
  req.wait_time_seconds = d.Int(in, "WaitTimeSeconds");
  req.receive_request_attempt_id = d.OptStr(in, "ReceiveRequestAttemptId");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<ReceiveMessageResult> r = sqs.ReceiveMessage(ctx, req);
  if (!r.ok()) {
    // A long poll ended by the gateway's Stop: an empty answer, as when the
    // wait ends with nothing.
    if (absl::IsCancelled(r.status()) && ctx.cancellation != nullptr &&
        ctx.cancellation->cancelled()) {
      return absl::OkStatus();
    }
    return r.status();
  }
  if (r->messages.empty()) return absl::OkStatus();
  OJson messages = OJson::array();
  for (const Message& m : r->messages) {
    OJson j;
    j["MessageId"] = m.message_id;
    j["ReceiptHandle"] = m.receipt_handle;
    j["MD5OfBody"] = m.md5_of_body;
    j["Body"] = m.body;
    if (!m.attributes.empty()) j["Attributes"] = StringMapJson(m.attributes);
    PutIfNotEmpty(j, "MD5OfMessageAttributes", m.md5_of_message_attributes);
    if (!m.message_attributes.empty()) {
      j["MessageAttributes"] = AttributesJson(m.message_attributes);
    }
    messages.push_back(std::move(j));
  }
  (*out)["Messages"] = std::move(messages);
  return absl::OkStatus();
}

absl::Status DeleteMessage(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                           OJson*) {
  DeleteMessageRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.receipt_handle = d.Str(in, "ReceiptHandle");
  if (!d.status().ok()) return d.status();
  return sqs.DeleteMessage(ctx, req);
}

template <typename Result>
void PutBatchIds(const Result& r, OJson* out) {
  OJson ok = OJson::array();
  for (const auto& e : r.successful) {
    OJson j;
    j["Id"] = e.id;
    ok.push_back(std::move(j));
  }
  (*out)["Successful"] = std::move(ok);
  (*out)["Failed"] = BatchErrorsJson(r.failed);
}

absl::Status DeleteMessageBatch(Sqs& sqs, const Ctx& ctx, const Json& in,
                                Decoder& d, OJson* out) {
  DeleteMessageBatchRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  for (const Json* e : d.Objects(in, "Entries")) {
    req.entries.push_back({d.Str(*e, "Id"), d.Str(*e, "ReceiptHandle")});
  }
  if (!d.status().ok()) return d.status();
  absl::StatusOr<DeleteMessageBatchResult> r = sqs.DeleteMessageBatch(ctx, req);
  if (!r.ok()) return r.status();
  PutBatchIds(*r, out);
  return absl::OkStatus();
}

absl::Status ChangeMessageVisibility(Sqs& sqs, const Ctx& ctx, const Json& in,
                                     Decoder& d, OJson*) {
  ChangeMessageVisibilityRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.receipt_handle = d.Str(in, "ReceiptHandle");
  req.visibility_timeout = d.Int(in, "VisibilityTimeout");
  if (!d.status().ok()) return d.status();
  return sqs.ChangeMessageVisibility(ctx, req);
}

absl::Status ChangeMessageVisibilityBatch(Sqs& sqs, const Ctx& ctx,
                                          const Json& in, Decoder& d,
                                          OJson* out) {
  ChangeMessageVisibilityBatchRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  for (const Json* e : d.Objects(in, "Entries")) {
    req.entries.push_back({d.Str(*e, "Id"), d.Str(*e, "ReceiptHandle"),
                           d.Int(*e, "VisibilityTimeout")});
  }
  if (!d.status().ok()) return d.status();
  absl::StatusOr<ChangeMessageVisibilityBatchResult> r =
      sqs.ChangeMessageVisibilityBatch(ctx, req);
  if (!r.ok()) return r.status();
  PutBatchIds(*r, out);
  return absl::OkStatus();
}

absl::Status TagQueue(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                      OJson*) {
  TagQueueRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.tags = d.StrMap(in, "Tags");
  if (!d.status().ok()) return d.status();
  return sqs.TagQueue(ctx, req);
}

absl::Status UntagQueue(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                        OJson*) {
  UntagQueueRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.tag_keys = d.StrList(in, "TagKeys");
  if (!d.status().ok()) return d.status();
  return sqs.UntagQueue(ctx, req);
}

absl::Status ListQueueTags(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                           OJson* out) {
  ListQueueTagsRequest req{d.Str(in, "QueueUrl")};
  if (!d.status().ok()) return d.status();
  absl::StatusOr<ListQueueTagsResult> r = sqs.ListQueueTags(ctx, req);
  if (!r.ok()) return r.status();
  if (!r->tags.empty()) (*out)["Tags"] = StringMapJson(r->tags);
  return absl::OkStatus();
}

absl::Status ListDeadLetterSourceQueues(Sqs& sqs, const Ctx& ctx,
                                        const Json& in, Decoder& d,
                                        OJson* out) {
  ListDeadLetterSourceQueuesRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.max_results = d.Int(in, "MaxResults");
  req.next_token = d.Str(in, "NextToken");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<ListDeadLetterSourceQueuesResult> r =
      sqs.ListDeadLetterSourceQueues(ctx, req);
  if (!r.ok()) return r.status();
  (*out)["queueUrls"] = r->queue_urls;
  PutIfNotEmpty(*out, "NextToken", r->next_token);
  return absl::OkStatus();
}

absl::Status AddPermission(Sqs& sqs, const Ctx& ctx, const Json& in, Decoder& d,
                           OJson*) {
  AddPermissionRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.label = d.Str(in, "Label");
  req.aws_account_ids = d.StrList(in, "AWSAccountIds");
  req.actions = d.StrList(in, "Actions");
  if (!d.status().ok()) return d.status();
  return sqs.AddPermission(ctx, req);
}

absl::Status RemovePermission(Sqs& sqs, const Ctx& ctx, const Json& in,
                              Decoder& d, OJson*) {
  RemovePermissionRequest req;
  req.queue_url = d.Str(in, "QueueUrl");
  req.label = d.Str(in, "Label");
  if (!d.status().ok()) return d.status();
  return sqs.RemovePermission(ctx, req);
}

absl::Status StartMessageMoveTask(Sqs& sqs, const Ctx& ctx, const Json& in,
                                  Decoder& d, OJson* out) {
  StartMessageMoveTaskRequest req;
  req.source_arn = d.Str(in, "SourceArn");
  req.destination_arn = d.Str(in, "DestinationArn");
  req.max_number_of_messages_per_second =
      d.Int(in, "MaxNumberOfMessagesPerSecond");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<StartMessageMoveTaskResult> r =
      sqs.StartMessageMoveTask(ctx, req);
  if (!r.ok()) return r.status();
  (*out)["TaskHandle"] = r->task_handle;
  return absl::OkStatus();
}

absl::Status CancelMessageMoveTask(Sqs& sqs, const Ctx& ctx, const Json& in,
                                   Decoder& d, OJson* out) {
  CancelMessageMoveTaskRequest req{d.Str(in, "TaskHandle")};
  if (!d.status().ok()) return d.status();
  absl::StatusOr<CancelMessageMoveTaskResult> r =
      sqs.CancelMessageMoveTask(ctx, req);
  if (!r.ok()) return r.status();
  (*out)["ApproximateNumberOfMessagesMoved"] =
      r->approximate_number_of_messages_moved;
  return absl::OkStatus();
}

absl::Status ListMessageMoveTasks(Sqs& sqs, const Ctx& ctx, const Json& in,
                                  Decoder& d, OJson* out) {
  ListMessageMoveTasksRequest req;
  req.source_arn = d.Str(in, "SourceArn");
  req.max_results = d.Int(in, "MaxResults");
  if (!d.status().ok()) return d.status();
  absl::StatusOr<ListMessageMoveTasksResult> r =
      sqs.ListMessageMoveTasks(ctx, req);
  if (!r.ok()) return r.status();
  OJson results = OJson::array();
  for (const ListMessageMoveTasksResultEntry& e : r->results) {
    OJson j;
    PutIfNotEmpty(j, "TaskHandle", e.task_handle);
    j["Status"] = e.status;
    j["SourceArn"] = e.source_arn;
    PutIfNotEmpty(j, "DestinationArn", e.destination_arn);
    if (e.max_number_of_messages_per_second.has_value()) {
      j["MaxNumberOfMessagesPerSecond"] = *e.max_number_of_messages_per_second;
    }
    j["ApproximateNumberOfMessagesMoved"] =
        e.approximate_number_of_messages_moved;
    j["ApproximateNumberOfMessagesToMove"] =
        e.approximate_number_of_messages_to_move;
    PutIfNotEmpty(j, "FailureReason", e.failure_reason);
    j["StartedTimestamp"] = e.started_timestamp;
    results.push_back(std::move(j));
  }
  (*out)["Results"] = std::move(results);
  return absl::OkStatus();
}

// WaitTimeSeconds is given, and 0.
bool AsksNoWait(const Json& in) {
  Decoder d;
  std::optional<int> wait = d.Int(in, "WaitTimeSeconds");
  return d.status().ok() && wait.has_value() && *wait == 0;
}

struct Operation {
  Handler handler;
  // The Query response has an <OpResult> element.
  bool has_result;
  // The request names a queue by QueueUrl (which may also come from the
  // request path, or be a bare queue name).
  bool takes_queue_url;
  bool may_block;
};

const absl::flat_hash_map<std::string, Operation>& Operations() {
  static const auto* ops = new absl::flat_hash_map<std::string, Operation>{
      {"CreateQueue", {CreateQueue, true, false, false}},
      {"GetQueueUrl", {GetQueueUrl, true, false, false}},
      {"ListQueues", {ListQueues, true, false, false}},
      {"DeleteQueue", {DeleteQueue, false, true, false}},
      {"GetQueueAttributes", {GetQueueAttributes, true, true, false}},
      {"SetQueueAttributes", {SetQueueAttributes, false, true, false}},
      {"PurgeQueue", {PurgeQueue, false, true, false}},
      {"SendMessage", {SendMessage, true, true, false}},
      {"SendMessageBatch", {SendMessageBatch, true, true, false}},
      {"ReceiveMessage", {ReceiveMessage, true, true, true}},
      {"DeleteMessage", {DeleteMessage, false, true, false}},
      {"DeleteMessageBatch", {DeleteMessageBatch, true, true, false}},
      {"ChangeMessageVisibility",
       {ChangeMessageVisibility, false, true, false}},
      {"ChangeMessageVisibilityBatch",
       {ChangeMessageVisibilityBatch, true, true, false}},
      {"TagQueue", {TagQueue, false, true, false}},
      {"UntagQueue", {UntagQueue, false, true, false}},
      {"ListQueueTags", {ListQueueTags, true, true, false}},
      {"ListDeadLetterSourceQueues",
       {ListDeadLetterSourceQueues, true, true, false}},
      {"AddPermission", {AddPermission, false, true, false}},
      {"RemovePermission", {RemovePermission, false, true, false}},
      {"StartMessageMoveTask", {StartMessageMoveTask, true, false, false}},
      {"CancelMessageMoveTask", {CancelMessageMoveTask, true, false, false}},
      {"ListMessageMoveTasks", {ListMessageMoveTasks, true, false, false}},
  };
  return *ops;
}

// ---- Encoding: the JSON result shape -> Query XML ---------------------------

// The element of one item of a flattened list member.
std::string ListItemElement(std::string_view op, const std::string& key) {
  if (key == "QueueUrls" || key == "queueUrls") return "QueueUrl";
  if (key == "Messages") return "Message";
  if (key == "Successful") return absl::StrCat(AsAbsl(op), "ResultEntry");
  if (key == "Failed") return "BatchResultErrorEntry";
  if (key == "Results") return "ListMessageMoveTasksResultEntry";
  return key;
}

void AppendXml(std::string_view op, const std::string& key, const OJson& v,
               std::string* out);

void AppendScalar(const OJson& v, std::string* out) {
  if (v.is_string()) {
    AppendXmlEscaped(v.get_ref<const std::string&>(), out);
  } else if (v.is_boolean()) {
    out->append(v.get<bool>() ? "true" : "false");
  } else {
    out->append(v.dump());
  }
}

void AppendXml(std::string_view op, const std::string& key, const OJson& v,
               std::string* out) {
  // Flattened maps.
  std::string_view entry, key_name;
  if (key == "Attributes") {
    entry = "Attribute";
    key_name = "Name";
  } else if (key == "Tags") {
    entry = "Tag";
    key_name = "Key";
  } else if (key == "MessageAttributes") {
    entry = "MessageAttribute";
    key_name = "Name";
  }
  if (!entry.empty() && v.is_object()) {
    for (const auto& [k, value] : v.items()) {
      absl::StrAppend(out, "<", AsAbsl(entry), "><", AsAbsl(key_name), ">");
      AppendXmlEscaped(k, out);
      absl::StrAppend(out, "</", AsAbsl(key_name), "><Value>");
      if (value.is_object()) {
        for (const auto& [field, fv] : value.items()) {
          AppendXml(op, field, fv, out);
        }
      } else {
        AppendScalar(value, out);
      }
      absl::StrAppend(out, "</Value></", AsAbsl(entry), ">");
    }
    return;
  }
  if (v.is_array()) {
    std::string element = ListItemElement(op, key);
    for (const OJson& item : v) AppendXml(op, element, item, out);
    return;
  }
  absl::StrAppend(out, "<", key, ">");
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) AppendXml(op, k, child, out);
  } else {
    AppendScalar(v, out);
  }
  absl::StrAppend(out, "</", key, ">");
}

HttpResponse SuccessResponse(Protocol protocol, std::string_view op,
                             const Operation& operation,
                             const std::string& request_id,
                             const OJson& result) {
  HttpResponse r;
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  if (protocol == Protocol::kJson) {
    r.content_type = std::string(kJsonContentType);
    r.body = result.empty()
                 ? "{}"
                 : result.dump(-1, ' ', false, OJson::error_handler_t::replace);
    return r;
  }
  r.content_type = "text/xml";
  std::string& b = r.body;
  b = absl::StrCat("<?xml version=\"1.0\"?><", AsAbsl(op), "Response xmlns=\"",
                   AsAbsl(kXmlNamespace), "\">");
  if (operation.has_result) {
    absl::StrAppend(&b, "<", AsAbsl(op), "Result>");
    for (const auto& [k, v] : result.items()) AppendXml(op, k, v, &b);
    absl::StrAppend(&b, "</", AsAbsl(op), "Result>");
  }
  absl::StrAppend(&b, "<ResponseMetadata><RequestId>", request_id,
                  "</RequestId></ResponseMetadata></", AsAbsl(op), "Response>");
  return r;
}

}  // namespace

bool SqsService::IsJson(const HttpRequest& request) {
  return absl::StartsWithIgnoreCase(AsAbsl(request.Header("content-type")),
                                    "application/x-amz-json");
}

HttpResponse SqsService::RefusedResponse(const HttpRequest& headers_only,
                                         int http_status, std::string_view code,
                                         std::string_view message) {
  return ErrorResponse(
      IsJson(headers_only) ? Protocol::kJson : Protocol::kQuery, NewRequestId(),
      {std::string(code), std::string(code), http_status, http_status < 500,
       std::string(message)});
}

PreparedCall SqsService::Prepare(HttpRequest request) {
  return PrepareRecorded(request, "sqs", recorder_,
                         [this](HttpRequest& r, RecordedRequest* record) {
                           return PrepareCall(r, record);
                         });
}

PreparedCall SqsService::PrepareCall(HttpRequest& request,
                                     RecordedRequest* record) {
  const Protocol protocol =
      IsJson(request) ? Protocol::kJson : Protocol::kQuery;
  if (record != nullptr) {
    record->protocol = protocol == Protocol::kJson ? "json" : "query";
  }
  std::string request_id = NewRequestId();
  auto fail = [&](const absl::Status& s) {
    return ImmediateCall(
        ErrorResponse(protocol, request_id, WireErrorFromStatus(s)));
  };

  if (!options_.credentials.empty()) {
    if (absl::Status s = AuthenticateRequest(request, options_.credentials,
                                             AwsService::kSqs);
        !s.ok()) {
      return fail(s);
    }
  }
  // The request context: account and region from the SigV4 scope, queue
  // URLs from the Host header.
  RequestContext ctx =
      RequestContextFor(request, options_.credentials, cancellation_, record);

  std::string op;
  Json in;
  if (protocol == Protocol::kJson) {
    std::string_view target = request.Header("x-amz-target");
    constexpr std::string_view kPrefix = "AmazonSQS.";
    if (!absl::StartsWith(AsAbsl(target), AsAbsl(kPrefix))) {
      return fail(SqsError(
          "InvalidAction",
          target.empty()
              ? "The request must contain the header X-Amz-Target."
              : absl::StrCat("The action ", AsAbsl(target), " is not valid.")));
    }
    op = std::string(target.substr(kPrefix.size()));
    if (request.body.empty()) {
      in = Json::object();
    } else {
      in = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
      if (in.is_discarded() || !in.is_object()) {
        return fail(SqsError("InvalidParameterValueException",
                             "The request body is not a valid JSON object."));
      }
    }
  } else {
    std::optional<std::vector<std::pair<std::string, std::string>>> params =
        ParseForm(TargetQuery(request.target));
    std::optional<std::vector<std::pair<std::string, std::string>>> form;
    if (request.method == "POST") form = ParseForm(request.body);
    if (!params.has_value() || (request.method == "POST" && !form)) {
      return fail(SqsError("InvalidParameterValueException",
                           "The request's form encoding is malformed."));
    }
    if (form.has_value()) {
      params->insert(params->end(), form->begin(), form->end());
    }
    std::vector<std::pair<std::string, std::string>> members;
    for (auto& [k, v] : *params) {
      if (k == "Action") {
        op = v;
      } else if (k != "Version" && !absl::StartsWith(k, "X-Amz-")) {
        members.emplace_back(k, v);
      }
    }
    if (op.empty()) {
      return fail(SqsError("MissingRequiredParameterException",
                           "The request must contain the parameter Action."));
    }
    absl::StatusOr<Json> params_json = QueryParamsToJson(members);
    if (!params_json.ok()) return fail(params_json.status());
    in = *std::move(params_json);
  }

  if (record != nullptr) record->operation = op;
  auto it = Operations().find(op);
  if (it == Operations().end()) {
    return fail(SqsError("InvalidAction", absl::StrCat("The action ", op,
                                                       " is not valid for "
                                                       "this endpoint.")));
  }
  const Operation& operation = it->second;
  absl::Duration delay;
  if (std::optional<PreparedCall> faulted = CallForInjectedFault(
          &faults_, op, AwsService::kSqs,
          [&](const WireError& e) {
            return ImmediateCall(ErrorResponse(protocol, request_id, e));
          },
          &delay)) {
    return *std::move(faulted);
  }
  // The queue may be named by the request path (/<account>/<name>), as the
  // Java SDK v1 and the Query protocol's documentation do.
  std::string_view path = TargetPath(request.target);
  if (operation.takes_queue_url && path.size() > 1 &&
      (!in.contains("QueueUrl") || !in["QueueUrl"].is_string() ||
       in["QueueUrl"].get_ref<const std::string&>().empty())) {
    std::optional<std::string> decoded = UrlDecode(path, false);
    in["QueueUrl"] =
        absl::StrCat(ctx.endpoint.empty() ? "http://localhost" : ctx.endpoint,
                     decoded.value_or(std::string(path)));
  }

  PreparedCall call;
  // A receive that asks for no wait (WaitTimeSeconds 0: a short poll)
  // returns at once whatever the queue's default wait: it runs on the event
  // loop like any other call, without a trip to the blocking pool.
  call.may_block = operation.may_block && !AsksNoWait(in);
  call.delay = delay;
  call.run = [this, protocol, op = std::move(op), operation,
              request_id = std::move(request_id), ctx = std::move(ctx),
              in = std::move(in)]() mutable -> HttpResponse {
    // A bare queue name as QueueUrl is resolved as GetQueueUrl would.
    if (operation.takes_queue_url && in.contains("QueueUrl") &&
        in["QueueUrl"].is_string()) {
      const std::string& url = in["QueueUrl"].get_ref<const std::string&>();
      if (!url.empty() && url.find('/') == std::string::npos) {
        absl::StatusOr<GetQueueUrlResult> r =
            sqs_.GetQueueUrl(ctx, {.queue_name = url});
        if (!r.ok()) {
          return ErrorResponse(protocol, request_id,
                               WireErrorFromStatus(r.status()));
        }
        in["QueueUrl"] = r->queue_url;
      }
    }
    Decoder decoder;
    OJson result = OJson::object();
    absl::Status s = operation.handler(sqs_, ctx, in, decoder, &result);
    std::string queue_url;
    if (in.contains("QueueUrl") && in["QueueUrl"].is_string()) {
      queue_url = in["QueueUrl"].get<std::string>();
    }
    if (!s.ok()) {
      HttpResponse error =
          ErrorResponse(protocol, request_id, WireErrorFromStatus(s));
      Count(op, error.status, ctx, queue_url, {});
      return error;
    }
    QueueCounters delta;
    auto size_of = [&](const char* member) -> int64_t {
      return result.contains(member) ? result[member].size() : 0;
    };
    if (op == "SendMessage") delta.sent = 1;
    if (op == "SendMessageBatch") delta.sent = size_of("Successful");
    if (op == "ReceiveMessage") {
      delta.received = size_of("Messages");
      delta.empty_receives = delta.received == 0 ? 1 : 0;
    }
    if (op == "DeleteMessage") delta.deleted = 1;
    if (op == "DeleteMessageBatch") delta.deleted = size_of("Successful");
    Count(op, 200, ctx, queue_url, delta);
    return SuccessResponse(protocol, op, operation, request_id, result);
  };
  return call;
}

void SqsService::InjectFault(const InjectedFault& fault, int times) {
  faults_.Inject(fault, times);
}

std::vector<std::pair<InjectedFault, int>> SqsService::Faults() {
  return faults_.Faults();
}

void SqsService::ClearFaults() { faults_.Clear(); }

void SqsService::ResetCounters() {
  MutexLock lock(&metrics_mu_);
  counters_.clear();
  scopes_.clear();
  requests_.clear();
}

void SqsService::Count(const std::string& op, int status,
                       const RequestContext& ctx, const std::string& queue_url,
                       const QueueCounters& delta) {
  // The queue's account and name are the last two segments of its URL.
  std::string_view path = queue_url;
  size_t scheme = path.find("://");
  if (scheme != std::string_view::npos) {
    path = path.substr(scheme + 3);
    size_t slash = path.find('/');
    path = slash == std::string_view::npos ? std::string_view()
                                           : path.substr(slash);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t last = path.rfind('/');
  QueueKey key;
  if (last != std::string_view::npos && last > 0) {
    std::string_view owner = path.substr(0, last);
    owner = owner.substr(owner.rfind('/') + 1);
    key = {ctx.region, std::string(owner), std::string(path.substr(last + 1))};
  }
  MutexLock lock(&metrics_mu_);
  ++requests_[op][status];
  // Looked up first: emplace would build (and drop) a node every time.
  if (scopes_.find({ctx.account, ctx.region}) == scopes_.end()) {
    scopes_.emplace(ctx.account, ctx.region);
  }
  if (key.name.empty() || (delta.sent == 0 && delta.received == 0 &&
                           delta.deleted == 0 && delta.empty_receives == 0)) {
    return;
  }
  QueueCounters& c = counters_[key];
  c.sent += delta.sent;
  c.received += delta.received;
  c.deleted += delta.deleted;
  c.empty_receives += delta.empty_receives;
}

namespace {

std::string QueueLabels(std::string_view account, std::string_view region,
                        std::string_view queue) {
  return absl::StrCat("{account=\"", PrometheusLabelValue(account),
                      "\",region=\"", PrometheusLabelValue(region),
                      "\",queue=\"", PrometheusLabelValue(queue), "\"}");
}

}  // namespace

std::string SqsService::MetricsText() {
  std::map<std::string, std::map<int, int64_t>> requests;
  std::map<QueueKey, QueueCounters> counters;
  std::set<std::pair<std::string, std::string>> scopes = {{"", ""}};
  {
    MutexLock lock(&metrics_mu_);
    requests = requests_;
    counters = counters_;
    scopes.insert(scopes_.begin(), scopes_.end());
  }
  // Gauges: every queue of every (account, region) requests came from.
  struct Gauge {
    std::string account, region, queue;
    std::string visible, not_visible, delayed;
  };
  std::vector<Gauge> gauges;
  std::map<QueueKey, std::string> region_of;  // counters' "" region -> real
  for (const auto& [account, region] : scopes) {
    RequestContext ctx;
    ctx.account = account;
    ctx.region = region;
    ctx.endpoint = "http://metrics";
    absl::StatusOr<ListQueuesResult> list = sqs_.ListQueues(ctx, {});
    if (!list.ok()) continue;
    for (const std::string& url : list->queue_urls) {
      absl::StatusOr<GetQueueAttributesResult> a = sqs_.GetQueueAttributes(
          ctx, {.queue_url = url,
                .attribute_names = {"QueueArn", "ApproximateNumberOfMessages",
                                    "ApproximateNumberOfMessagesNotVisible",
                                    "ApproximateNumberOfMessagesDelayed"}});
      if (!a.ok()) continue;
      // arn:aws:sqs:REGION:ACCOUNT:NAME
      std::vector<std::string> arn =
          absl::StrSplit(a->attributes["QueueArn"], ':');
      if (arn.size() != 6) continue;
      gauges.push_back({arn[4], arn[3], arn[5],
                        a->attributes["ApproximateNumberOfMessages"],
                        a->attributes["ApproximateNumberOfMessagesNotVisible"],
                        a->attributes["ApproximateNumberOfMessagesDelayed"]});
      region_of[{region, arn[4], arn[5]}] = arn[3];
    }
  }
  std::string out;
  auto header = [&](std::string_view name, std::string_view type,
                    std::string_view help) {
    absl::StrAppend(&out, "# HELP ", AsAbsl(name), " ", AsAbsl(help), "\n",
                    "# TYPE ", AsAbsl(name), " ", AsAbsl(type), "\n");
  };
  struct GaugeField {
    const char* name;
    std::string Gauge::*field;
    const char* help;
  };
  for (const GaugeField& g :
       {GaugeField{"sqs_ApproximateNumberOfMessagesVisible", &Gauge::visible,
                   "Messages available for retrieval (CloudWatch "
                   "ApproximateNumberOfMessagesVisible)."},
        GaugeField{"sqs_ApproximateNumberOfMessagesNotVisible",
                   &Gauge::not_visible,
                   "Messages in flight (CloudWatch "
                   "ApproximateNumberOfMessagesNotVisible)."},
        GaugeField{"sqs_ApproximateNumberOfMessagesDelayed", &Gauge::delayed,
                   "Delayed messages (CloudWatch "
                   "ApproximateNumberOfMessagesDelayed)."}}) {
    header(g.name, "gauge", g.help);
    for (const Gauge& q : gauges) {
      absl::StrAppend(&out, g.name, QueueLabels(q.account, q.region, q.queue),
                      " ", q.*(g.field), "\n");
    }
  }
  struct CounterField {
    const char* name;
    int64_t QueueCounters::*field;
    const char* help;
  };
  for (const CounterField& c :
       {CounterField{"sqs_NumberOfMessagesSent_total", &QueueCounters::sent,
                     "Messages sent through this gateway (CloudWatch "
                     "NumberOfMessagesSent)."},
        CounterField{"sqs_NumberOfMessagesReceived_total",
                     &QueueCounters::received,
                     "Messages returned by ReceiveMessage through this "
                     "gateway (CloudWatch NumberOfMessagesReceived)."},
        CounterField{"sqs_NumberOfMessagesDeleted_total",
                     &QueueCounters::deleted,
                     "Messages deleted through this gateway (CloudWatch "
                     "NumberOfMessagesDeleted)."},
        CounterField{"sqs_NumberOfEmptyReceives_total",
                     &QueueCounters::empty_receives,
                     "ReceiveMessage calls that returned no message "
                     "(CloudWatch NumberOfEmptyReceives)."}}) {
    header(c.name, "counter", c.help);
    for (const auto& [key, counts] : counters) {
      std::string region = key.region;
      if (auto it = region_of.find(key); it != region_of.end()) {
        region = it->second;
      }
      absl::StrAppend(&out, c.name, QueueLabels(key.account, region, key.name),
                      " ", counts.*(c.field), "\n");
    }
  }
  header("ferry_gateway_requests_total", "counter",
         "Requests the gateway answered, by operation and HTTP status.");
  for (const auto& [op, by_status] : requests) {
    for (const auto& [status, n] : by_status) {
      absl::StrAppend(&out,
                      "ferry_gateway_requests_total{service=\"sqs\","
                      "operation=\"",
                      PrometheusLabelValue(op), "\",status=\"", status, "\"} ",
                      n, "\n");
    }
  }
  return out;
}

}  // namespace ferry::gateway_internal
