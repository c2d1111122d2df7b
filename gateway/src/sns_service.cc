// SNS's Query protocol over one table of operations.
//
// A request's parameters (query string and form body) are folded into a tree
// by their dotted names (`PublishBatchRequestEntries.member.2.Message`), each
// operation reads its ferry/sns.h request from the tree and writes its result
// element's XML directly. Names follow botocore's SNS model.
#include "sns_service.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
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

namespace ferry::gateway_internal {
namespace {

constexpr std::string_view kXmlNamespace =
    "http://sns.amazonaws.com/doc/2010-03-31/";
constexpr std::string_view kApiVersion = "2010-03-31";

absl::Status SnsError(std::string_view shape, std::string_view message) {
  return AwsError(AwsService::kSns, shape, message);
}

// ---- Decoding: the parameter tree ------------------------------------------

struct ParamNode {
  std::optional<std::string> value;
  std::map<std::string, ParamNode, std::less<>> children;

  const ParamNode* Child(std::string_view name) const {
    auto it = children.find(name);
    return it == children.end() ? nullptr : &it->second;
  }
};

// SNS's deepest parameter is
// PublishBatchRequestEntries.member.N.MessageAttributes.entry.M.Value.
// StringValue (8 parts); deeper names are refused, which also bounds the
// recursion of the tree's destructor.
constexpr int kMaxParamDepth = 10;

// The children of a list's `member` or a map's `entry` node in index order
// (1, 2, ..., 10; AWS starts at 1, gaps are allowed).
std::vector<const ParamNode*> Indexed(const ParamNode* node) {
  std::vector<const ParamNode*> out;
  if (node == nullptr) return out;
  std::vector<std::pair<int64_t, const ParamNode*>> items;
  for (const auto& [key, child] : node->children) {
    int64_t i;
    if (absl::SimpleAtoi(key, &i)) items.emplace_back(i, &child);
  }
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [i, child] : items) out.push_back(child);
  return out;
}

class Decoder {
 public:
  absl::Status status() const { return status_; }

  static std::optional<std::string> OptStr(const ParamNode& n,
                                           std::string_view name) {
    const ParamNode* c = n.Child(name);
    if (c == nullptr || !c->value.has_value()) return std::nullopt;
    return c->value;
  }
  static std::string Str(const ParamNode& n, std::string_view name) {
    return OptStr(n, name).value_or("");
  }
  bool Bool(const ParamNode& n, std::string_view name) {
    std::optional<std::string> v = OptStr(n, name);
    if (!v.has_value()) return false;
    if (absl::EqualsIgnoreCase(*v, "true")) return true;
    if (!absl::EqualsIgnoreCase(*v, "false")) {
      Fail(SnsError("InvalidParameterException",
                    absl::StrCat("Invalid parameter: ", AsAbsl(name))));
    }
    return false;
  }
  // `Name.member.N` items.
  static std::vector<const ParamNode*> Members(const ParamNode& n,
                                               std::string_view name) {
    const ParamNode* list = n.Child(name);
    return Indexed(list == nullptr ? nullptr : list->Child("member"));
  }
  static std::vector<std::string> StrList(const ParamNode& n,
                                          std::string_view name) {
    std::vector<std::string> out;
    for (const ParamNode* m : Members(n, name)) {
      out.push_back(m->value.value_or(""));
    }
    return out;
  }
  // `Name.entry.N.key` / `.value` (any capitalisation of key/value).
  static std::optional<AttributeMap> OptMap(const ParamNode& n,
                                            std::string_view name) {
    const ParamNode* map = n.Child(name);
    if (map == nullptr) return std::nullopt;
    AttributeMap out;
    for (const ParamNode* e : Indexed(map->Child("entry"))) {
      std::optional<std::string> key = OptStr(*e, "key");
      if (!key.has_value()) key = OptStr(*e, "Key");
      if (!key.has_value()) continue;
      std::optional<std::string> value = OptStr(*e, "value");
      if (!value.has_value()) value = OptStr(*e, "Value");
      out[*key] = value.value_or("");
    }
    return out;
  }
  static AttributeMap Map(const ParamNode& n, std::string_view name) {
    return OptMap(n, name).value_or(AttributeMap());
  }
  // `Tags.member.N.Key` / `.Value`.
  static std::vector<SnsTag> Tags(const ParamNode& n, std::string_view name) {
    std::vector<SnsTag> out;
    for (const ParamNode* m : Members(n, name)) {
      out.push_back({Str(*m, "Key"), Str(*m, "Value")});
    }
    return out;
  }
  // `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.StringValue` /
  // `.BinaryValue` (base64).
  MessageAttributeMap Attributes(const ParamNode& n, std::string_view name) {
    MessageAttributeMap out;
    const ParamNode* map = n.Child(name);
    if (map == nullptr) return out;
    for (const ParamNode* e : Indexed(map->Child("entry"))) {
      std::optional<std::string> key = OptStr(*e, "Name");
      if (!key.has_value()) continue;
      MessageAttributeValue a;
      if (const ParamNode* v = e->Child("Value"); v != nullptr) {
        a.data_type = Str(*v, "DataType");
        a.string_value = Str(*v, "StringValue");
        if (std::optional<std::string> b = OptStr(*v, "BinaryValue")) {
          std::optional<std::string> raw = Base64Decode(*b);
          if (!raw.has_value()) {
            Fail(SnsError(
                "InvalidParameterValueException",
                absl::StrCat("The message attribute '", *key,
                             "' has an invalid binary value: it is not "
                             "base64-encoded.")));
            return out;
          }
          a.binary_value = *std::move(raw);
        }
      }
      out.emplace(*key, std::move(a));
    }
    return out;
  }

 private:
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }
  absl::Status status_;
};

// ---- Encoding
// ----------------------------------------------------------------

class Xml {
 public:
  explicit Xml(std::string* out) : out_(out) {}
  void Open(std::string_view name) {
    absl::StrAppend(out_, "<", AsAbsl(name), ">");
  }
  void Close(std::string_view name) {
    absl::StrAppend(out_, "</", AsAbsl(name), ">");
  }
  void Text(std::string_view name, std::string_view text) {
    Open(name);
    AppendXmlEscaped(text, out_);
    Close(name);
  }
  void TextIfNotEmpty(std::string_view name, std::string_view text) {
    if (!text.empty()) Text(name, text);
  }
  // <Name><entry><key>K</key><value>V</value></entry>...</Name>
  void Map(std::string_view name, const AttributeMap& m) {
    Open(name);
    for (const auto& [k, v] : m) {
      out_->append("<entry>");
      Text("key", k);
      Text("value", v);
      out_->append("</entry>");
    }
    Close(name);
  }

 private:
  std::string* out_;
};

// ---- The operations ---------------------------------------------------------

using Ctx = RequestContext;

// What a handler tells the service beyond its XML: the topic it acted on and
// the messages it published (for /metrics).
struct CallInfo {
  std::string topic_arn;
  int64_t published = 0;
};

using Handler = absl::Status (*)(Sns&, const Ctx&, const ParamNode&, Decoder&,
                                 Xml&, CallInfo*);

#define FERRY_SNS_HANDLER(name)                                                \
  absl::Status name(Sns& sns, const Ctx& ctx, const ParamNode& in, Decoder& d, \
                    [[maybe_unused]] Xml& xml,                                 \
                    [[maybe_unused]] CallInfo* info)

// Returns the status of `expr` (a StatusOr) when it failed; else binds `r`.
#define FERRY_SNS_CALL(r, expr) \
  auto r = (expr);              \
  if (!r.ok()) return r.status()

FERRY_SNS_HANDLER(CreateTopic) {
  CreateTopicRequest req;
  req.name = Decoder::Str(in, "Name");
  req.attributes = Decoder::Map(in, "Attributes");
  req.tags = Decoder::Tags(in, "Tags");
  if (!d.status().ok()) return d.status();
  FERRY_SNS_CALL(r, sns.CreateTopic(ctx, req));
  xml.Text("TopicArn", r->topic_arn);
  info->topic_arn = r->topic_arn;
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(DeleteTopic) {
  info->topic_arn = Decoder::Str(in, "TopicArn");
  return sns.DeleteTopic(ctx, {.topic_arn = info->topic_arn});
}

FERRY_SNS_HANDLER(ListTopics) {
  FERRY_SNS_CALL(
      r, sns.ListTopics(ctx, {.next_token = Decoder::Str(in, "NextToken")}));
  xml.Open("Topics");
  for (const std::string& arn : r->topic_arns) {
    xml.Open("member");
    xml.Text("TopicArn", arn);
    xml.Close("member");
  }
  xml.Close("Topics");
  xml.TextIfNotEmpty("NextToken", r->next_token);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(GetTopicAttributes) {
  info->topic_arn = Decoder::Str(in, "TopicArn");
  FERRY_SNS_CALL(r,
                 sns.GetTopicAttributes(ctx, {.topic_arn = info->topic_arn}));
  xml.Map("Attributes", r->attributes);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(SetTopicAttributes) {
  SetTopicAttributesRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  req.attribute_name = Decoder::Str(in, "AttributeName");
  req.attribute_value = Decoder::Str(in, "AttributeValue");
  return sns.SetTopicAttributes(ctx, req);
}

FERRY_SNS_HANDLER(Subscribe) {
  SubscribeRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  req.protocol = Decoder::Str(in, "Protocol");
  req.endpoint = Decoder::Str(in, "Endpoint");
  req.attributes = Decoder::Map(in, "Attributes");
  req.return_subscription_arn = d.Bool(in, "ReturnSubscriptionArn");
  if (!d.status().ok()) return d.status();
  FERRY_SNS_CALL(r, sns.Subscribe(ctx, req));
  xml.Text("SubscriptionArn", r->subscription_arn);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(ConfirmSubscription) {
  ConfirmSubscriptionRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  req.token = Decoder::Str(in, "Token");
  req.authenticate_on_unsubscribe =
      Decoder::OptStr(in, "AuthenticateOnUnsubscribe");
  FERRY_SNS_CALL(r, sns.ConfirmSubscription(ctx, req));
  xml.Text("SubscriptionArn", r->subscription_arn);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(Unsubscribe) {
  return sns.Unsubscribe(
      ctx, {.subscription_arn = Decoder::Str(in, "SubscriptionArn")});
}

void PutSubscriptions(const ListSubscriptionsResult& r, Xml& xml) {
  xml.Open("Subscriptions");
  for (const SubscriptionSummary& s : r.subscriptions) {
    xml.Open("member");
    xml.Text("SubscriptionArn", s.subscription_arn);
    xml.Text("Owner", s.owner);
    xml.Text("Protocol", s.protocol);
    xml.Text("Endpoint", s.endpoint);
    xml.Text("TopicArn", s.topic_arn);
    xml.Close("member");
  }
  xml.Close("Subscriptions");
  xml.TextIfNotEmpty("NextToken", r.next_token);
}

FERRY_SNS_HANDLER(ListSubscriptions) {
  FERRY_SNS_CALL(r, sns.ListSubscriptions(
                        ctx, {.next_token = Decoder::Str(in, "NextToken")}));
  PutSubscriptions(*r, xml);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(ListSubscriptionsByTopic) {
  ListSubscriptionsByTopicRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  req.next_token = Decoder::Str(in, "NextToken");
  FERRY_SNS_CALL(r, sns.ListSubscriptionsByTopic(ctx, req));
  PutSubscriptions(*r, xml);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(GetSubscriptionAttributes) {
  FERRY_SNS_CALL(
      r, sns.GetSubscriptionAttributes(
             ctx, {.subscription_arn = Decoder::Str(in, "SubscriptionArn")}));
  xml.Map("Attributes", r->attributes);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(SetSubscriptionAttributes) {
  SetSubscriptionAttributesRequest req;
  req.subscription_arn = Decoder::Str(in, "SubscriptionArn");
  req.attribute_name = Decoder::Str(in, "AttributeName");
  req.attribute_value = Decoder::Str(in, "AttributeValue");
  return sns.SetSubscriptionAttributes(ctx, req);
}

FERRY_SNS_HANDLER(Publish) {
  PublishRequest req;
  req.topic_arn = Decoder::Str(in, "TopicArn");
  req.target_arn = Decoder::Str(in, "TargetArn");
  req.phone_number = Decoder::Str(in, "PhoneNumber");
  req.message = Decoder::Str(in, "Message");
  req.subject = Decoder::OptStr(in, "Subject");
  req.message_structure = Decoder::OptStr(in, "MessageStructure");
  req.message_attributes = d.Attributes(in, "MessageAttributes");
  req.message_deduplication_id = Decoder::OptStr(in, "MessageDeduplicationId");
  req.message_group_id = Decoder::OptStr(in, "MessageGroupId");
  if (!d.status().ok()) return d.status();
  info->topic_arn = req.topic_arn.empty() ? req.target_arn : req.topic_arn;
  FERRY_SNS_CALL(r, sns.Publish(ctx, req));
  xml.Text("MessageId", r->message_id);
  xml.TextIfNotEmpty("SequenceNumber", r->sequence_number);
  info->published = 1;
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(PublishBatch) {
  PublishBatchRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  for (const ParamNode* e :
       Decoder::Members(in, "PublishBatchRequestEntries")) {
    PublishBatchRequestEntry entry;
    entry.id = Decoder::Str(*e, "Id");
    entry.message = Decoder::Str(*e, "Message");
    entry.subject = Decoder::OptStr(*e, "Subject");
    entry.message_structure = Decoder::OptStr(*e, "MessageStructure");
    entry.message_attributes = d.Attributes(*e, "MessageAttributes");
    entry.message_deduplication_id =
        Decoder::OptStr(*e, "MessageDeduplicationId");
    entry.message_group_id = Decoder::OptStr(*e, "MessageGroupId");
    req.entries.push_back(std::move(entry));
  }
  if (!d.status().ok()) return d.status();
  FERRY_SNS_CALL(r, sns.PublishBatch(ctx, req));
  xml.Open("Successful");
  for (const PublishBatchResultEntry& e : r->successful) {
    xml.Open("member");
    xml.Text("Id", e.id);
    xml.Text("MessageId", e.message_id);
    xml.TextIfNotEmpty("SequenceNumber", e.sequence_number);
    xml.Close("member");
  }
  xml.Close("Successful");
  xml.Open("Failed");
  for (const BatchResultErrorEntry& e : r->failed) {
    xml.Open("member");
    xml.Text("Id", e.id);
    xml.Text("Code", e.code);
    xml.Text("Message", e.message);
    xml.Text("SenderFault", e.sender_fault ? "true" : "false");
    xml.Close("member");
  }
  xml.Close("Failed");
  info->published = static_cast<int64_t>(r->successful.size());
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(CreatePlatformApplication) {
  CreatePlatformApplicationRequest req;
  req.name = Decoder::Str(in, "Name");
  req.platform = Decoder::Str(in, "Platform");
  req.attributes = Decoder::OptMap(in, "Attributes");
  FERRY_SNS_CALL(r, sns.CreatePlatformApplication(ctx, req));
  xml.Text("PlatformApplicationArn", r->platform_application_arn);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(ListPlatformApplications) {
  FERRY_SNS_CALL(r, sns.ListPlatformApplications(
                        ctx, {.next_token = Decoder::Str(in, "NextToken")}));
  xml.Open("PlatformApplications");
  for (const PlatformApplication& a : r->platform_applications) {
    xml.Open("member");
    xml.Text("PlatformApplicationArn", a.platform_application_arn);
    xml.Map("Attributes", a.attributes);
    xml.Close("member");
  }
  xml.Close("PlatformApplications");
  xml.TextIfNotEmpty("NextToken", r->next_token);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(GetPlatformApplicationAttributes) {
  FERRY_SNS_CALL(r, sns.GetPlatformApplicationAttributes(
                        ctx, {.platform_application_arn =
                                  Decoder::Str(in, "PlatformApplicationArn")}));
  xml.Map("Attributes", r->attributes);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(SetPlatformApplicationAttributes) {
  SetPlatformApplicationAttributesRequest req;
  req.platform_application_arn = Decoder::Str(in, "PlatformApplicationArn");
  req.attributes = Decoder::Map(in, "Attributes");
  return sns.SetPlatformApplicationAttributes(ctx, req);
}

FERRY_SNS_HANDLER(DeletePlatformApplication) {
  return sns.DeletePlatformApplication(
      ctx,
      {.platform_application_arn = Decoder::Str(in, "PlatformApplicationArn")});
}

FERRY_SNS_HANDLER(CreatePlatformEndpoint) {
  CreatePlatformEndpointRequest req;
  req.platform_application_arn = Decoder::Str(in, "PlatformApplicationArn");
  req.token = Decoder::Str(in, "Token");
  req.custom_user_data = Decoder::OptStr(in, "CustomUserData");
  req.attributes = Decoder::Map(in, "Attributes");
  FERRY_SNS_CALL(r, sns.CreatePlatformEndpoint(ctx, req));
  xml.Text("EndpointArn", r->endpoint_arn);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(ListEndpointsByPlatformApplication) {
  ListEndpointsByPlatformApplicationRequest req;
  req.platform_application_arn = Decoder::Str(in, "PlatformApplicationArn");
  req.next_token = Decoder::Str(in, "NextToken");
  FERRY_SNS_CALL(r, sns.ListEndpointsByPlatformApplication(ctx, req));
  xml.Open("Endpoints");
  for (const PlatformEndpoint& e : r->endpoints) {
    xml.Open("member");
    xml.Text("EndpointArn", e.endpoint_arn);
    xml.Map("Attributes", e.attributes);
    xml.Close("member");
  }
  xml.Close("Endpoints");
  xml.TextIfNotEmpty("NextToken", r->next_token);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(GetEndpointAttributes) {
  FERRY_SNS_CALL(r,
                 sns.GetEndpointAttributes(
                     ctx, {.endpoint_arn = Decoder::Str(in, "EndpointArn")}));
  xml.Map("Attributes", r->attributes);
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(SetEndpointAttributes) {
  SetEndpointAttributesRequest req;
  req.endpoint_arn = Decoder::Str(in, "EndpointArn");
  req.attributes = Decoder::Map(in, "Attributes");
  return sns.SetEndpointAttributes(ctx, req);
}

FERRY_SNS_HANDLER(DeleteEndpoint) {
  return sns.DeleteEndpoint(ctx,
                            {.endpoint_arn = Decoder::Str(in, "EndpointArn")});
}

FERRY_SNS_HANDLER(TagResource) {
  TagResourceRequest req;
  req.resource_arn = Decoder::Str(in, "ResourceArn");
  req.tags = Decoder::Tags(in, "Tags");
  return sns.TagResource(ctx, req);
}

FERRY_SNS_HANDLER(UntagResource) {
  UntagResourceRequest req;
  req.resource_arn = Decoder::Str(in, "ResourceArn");
  req.tag_keys = Decoder::StrList(in, "TagKeys");
  return sns.UntagResource(ctx, req);
}

FERRY_SNS_HANDLER(ListTagsForResource) {
  FERRY_SNS_CALL(r, sns.ListTagsForResource(ctx, {.resource_arn = Decoder::Str(
                                                      in, "ResourceArn")}));
  xml.Open("Tags");
  for (const SnsTag& t : r->tags) {
    xml.Open("member");
    xml.Text("Key", t.key);
    xml.Text("Value", t.value);
    xml.Close("member");
  }
  xml.Close("Tags");
  return absl::OkStatus();
}

FERRY_SNS_HANDLER(AddPermission) {
  SnsAddPermissionRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  req.label = Decoder::Str(in, "Label");
  req.aws_account_ids = Decoder::StrList(in, "AWSAccountId");
  req.action_names = Decoder::StrList(in, "ActionName");
  return sns.AddPermission(ctx, req);
}

FERRY_SNS_HANDLER(RemovePermission) {
  SnsRemovePermissionRequest req;
  req.topic_arn = info->topic_arn = Decoder::Str(in, "TopicArn");
  req.label = Decoder::Str(in, "Label");
  return sns.RemovePermission(ctx, req);
}

#undef FERRY_SNS_CALL
#undef FERRY_SNS_HANDLER

struct Operation {
  Handler handler;
  // The response has an <OpResult> element (botocore's resultWrapper).
  bool has_result;
  // The action is SNS's only (AddPermission and RemovePermission are SQS
  // actions too).
  bool sns_only;
};

const absl::flat_hash_map<std::string, Operation>& Operations() {
  static const auto* ops = new absl::flat_hash_map<std::string, Operation>{
      {"CreateTopic", {CreateTopic, true, true}},
      {"DeleteTopic", {DeleteTopic, false, true}},
      {"ListTopics", {ListTopics, true, true}},
      {"GetTopicAttributes", {GetTopicAttributes, true, true}},
      {"SetTopicAttributes", {SetTopicAttributes, false, true}},
      {"Subscribe", {Subscribe, true, true}},
      {"ConfirmSubscription", {ConfirmSubscription, true, true}},
      {"Unsubscribe", {Unsubscribe, false, true}},
      {"ListSubscriptions", {ListSubscriptions, true, true}},
      {"ListSubscriptionsByTopic", {ListSubscriptionsByTopic, true, true}},
      {"GetSubscriptionAttributes", {GetSubscriptionAttributes, true, true}},
      {"SetSubscriptionAttributes", {SetSubscriptionAttributes, false, true}},
      {"Publish", {Publish, true, true}},
      {"PublishBatch", {PublishBatch, true, true}},
      {"CreatePlatformApplication", {CreatePlatformApplication, true, true}},
      {"ListPlatformApplications", {ListPlatformApplications, true, true}},
      {"GetPlatformApplicationAttributes",
       {GetPlatformApplicationAttributes, true, true}},
      {"SetPlatformApplicationAttributes",
       {SetPlatformApplicationAttributes, false, true}},
      {"DeletePlatformApplication", {DeletePlatformApplication, false, true}},
      {"CreatePlatformEndpoint", {CreatePlatformEndpoint, true, true}},
      {"ListEndpointsByPlatformApplication",
       {ListEndpointsByPlatformApplication, true, true}},
      {"GetEndpointAttributes", {GetEndpointAttributes, true, true}},
      {"SetEndpointAttributes", {SetEndpointAttributes, false, true}},
      {"DeleteEndpoint", {DeleteEndpoint, false, true}},
      {"TagResource", {TagResource, true, true}},
      {"UntagResource", {UntagResource, true, true}},
      {"ListTagsForResource", {ListTagsForResource, true, true}},
      {"AddPermission", {AddPermission, false, false}},
      {"RemovePermission", {RemovePermission, false, false}},
  };
  return *ops;
}

HttpResponse ErrorResponse(const std::string& request_id,
                           const absl::Status& s) {
  return QueryErrorResponse(kXmlNamespace, request_id, WireErrorFromStatus(s));
}

HttpResponse SuccessResponse(std::string_view op, const Operation& operation,
                             const std::string& request_id,
                             const std::string& result) {
  HttpResponse r;
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.content_type = "text/xml";
  std::string& b = r.body;
  b = absl::StrCat("<?xml version=\"1.0\"?><", AsAbsl(op), "Response xmlns=\"",
                   AsAbsl(kXmlNamespace), "\">");
  if (operation.has_result) {
    absl::StrAppend(&b, "<", AsAbsl(op), "Result>", result, "</", AsAbsl(op),
                    "Result>");
  }
  absl::StrAppend(&b, "<ResponseMetadata><RequestId>", request_id,
                  "</RequestId></ResponseMetadata></", AsAbsl(op), "Response>");
  return r;
}

// The request's parameters: the query string's, then a POST's form body's.
std::optional<std::vector<std::pair<std::string, std::string>>> Params(
    const HttpRequest& request) {
  std::optional<std::vector<std::pair<std::string, std::string>>> params =
      ParseForm(TargetQuery(request.target));
  if (!params.has_value()) return std::nullopt;
  if (request.method == "POST") {
    std::optional<std::vector<std::pair<std::string, std::string>>> form =
        ParseForm(request.body);
    if (!form.has_value()) return std::nullopt;
    params->insert(params->end(), form->begin(), form->end());
  }
  return params;
}

// GET /SimpleNotificationService-<md5>.pem: the certificate of envelope
// signatures, where SigningCertURL's path points.
bool IsCertificateRequest(const HttpRequest& request) {
  std::string_view path = TargetPath(request.target);
  return request.method == "GET" &&
         absl::StartsWith(AsAbsl(path), "/SimpleNotificationService-") &&
         absl::EndsWith(AsAbsl(path), ".pem");
}

}  // namespace

bool SnsService::IsSnsRequest(const HttpRequest& request) {
  if (IsCertificateRequest(request)) return true;
  if (std::optional<CredentialScope> scope = ParseCredentialScope(request)) {
    return scope->service == "sns";
  }
  if (absl::StartsWithIgnoreCase(AsAbsl(request.Header("content-type")),
                                 "application/x-amz-json")) {
    return false;
  }
  std::optional<std::vector<std::pair<std::string, std::string>>> params =
      Params(request);
  if (!params.has_value()) return false;
  for (const auto& [k, v] : *params) {
    if (k == "Version" && v == kApiVersion) return true;
  }
  for (const auto& [k, v] : *params) {
    if (k != "Action") continue;
    auto it = Operations().find(v);
    return it != Operations().end() && it->second.sns_only;
  }
  return false;
}

HttpResponse SnsService::RefusedResponse(const HttpRequest& /*headers_only*/,
                                         int http_status, std::string_view code,
                                         std::string_view message) {
  return QueryErrorResponse(kXmlNamespace, NewRequestId(),
                            {std::string(code), std::string(code), http_status,
                             http_status < 500, std::string(message)});
}

PreparedCall SnsService::Prepare(HttpRequest request) {
  return PrepareRecorded(request, "sns", recorder_,
                         [this](HttpRequest& r, RecordedRequest* record) {
                           return PrepareCall(r, record);
                         });
}

PreparedCall SnsService::PrepareCall(HttpRequest& request,
                                     RecordedRequest* record) {
  if (record != nullptr) record->protocol = "query";
  if (IsCertificateRequest(request)) {
    HttpResponse pem;
    pem.content_type = "application/x-pem-file";
    pem.body = Sns::SigningCertificatePem();
    return ImmediateCall(std::move(pem));
  }
  std::string request_id = NewRequestId();
  std::string op;
  auto fail = [&](const WireError& e) {
    Count(op, e.status, "", 0);
    return ImmediateCall(QueryErrorResponse(kXmlNamespace, request_id, e));
  };
  auto fail_status = [&](const absl::Status& s) {
    return fail(WireErrorFromStatus(s));
  };

  RequestContext ctx =
      RequestContextFor(request, options_.credentials, nullptr, record);

  std::optional<std::vector<std::pair<std::string, std::string>>> params =
      Params(request);
  if (!params.has_value()) {
    // AWS's common error for it (with its documented status).
    return fail({"MalformedQueryString", "MalformedQueryString", 404, true,
                 "The query string contains a syntax error."});
  }
  auto root = std::make_shared<ParamNode>();
  for (const auto& [key, value] : *params) {
    if (key == "Action") {
      op = value;
      continue;
    }
    if (key == "Version" || absl::StartsWith(key, "X-Amz-")) continue;
    if (std::count(key.begin(), key.end(), '.') >= kMaxParamDepth) {
      return fail_status(
          SnsError("InvalidParameterException",
                   absl::StrCat("Invalid parameter: ", key.substr(0, 256))));
    }
    ParamNode* node = root.get();
    for (absl::string_view part : absl::StrSplit(key, '.')) {
      node = &node->children[std::string(part)];
    }
    node->value = value;
  }
  if (record != nullptr) record->operation = op;
  // Authentication after the operation is known, so that records name it.
  if (!options_.credentials.empty()) {
    if (absl::Status s = AuthenticateRequest(request, options_.credentials,
                                             AwsService::kSns);
        !s.ok()) {
      return fail_status(s);
    }
  }
  if (op.empty()) {
    return fail({"MissingAction", "MissingAction", 400, true,
                 "The request must contain the parameter Action."});
  }
  auto it = Operations().find(op);
  if (it == Operations().end()) {
    return fail_status(SnsError(
        "InvalidAction", absl::StrCat("Could not find operation ", op,
                                      " for version ", AsAbsl(kApiVersion))));
  }
  const Operation& operation = it->second;

  absl::Duration delay;
  if (std::optional<PreparedCall> faulted =
          CallForInjectedFault(faults_, op, AwsService::kSns, fail, &delay)) {
    return *std::move(faulted);
  }

  PreparedCall call;
  call.delay = delay;
  call.run = [this, op = std::move(op), operation,
              request_id = std::move(request_id), ctx = std::move(ctx),
              root = std::move(root)]() mutable -> HttpResponse {
    Decoder decoder;
    std::string result;
    Xml xml(&result);
    CallInfo info;
    absl::Status s = operation.handler(sns_, ctx, *root, decoder, xml, &info);
    if (!s.ok()) {
      HttpResponse error = ErrorResponse(request_id, s);
      Count(op, error.status, info.topic_arn, 0);
      return error;
    }
    Count(op, 200, info.topic_arn, info.published);
    return SuccessResponse(op, operation, request_id, result);
  };
  return call;
}

void SnsService::Count(const std::string& op, int status,
                       const std::string& topic_arn, int64_t published) {
  MutexLock lock(&metrics_mu_);
  ++requests_[op][status];
  if (published > 0 && !topic_arn.empty()) published_[topic_arn] += published;
}

void SnsService::ResetCounters() {
  MutexLock lock(&metrics_mu_);
  requests_.clear();
  published_.clear();
}

std::string SnsService::MetricsText() {
  std::map<std::string, std::map<int, int64_t>> requests;
  std::map<std::string, int64_t> published;
  {
    MutexLock lock(&metrics_mu_);
    requests = requests_;
    published = published_;
  }
  std::string out;
  for (const auto& [op, by_status] : requests) {
    for (const auto& [status, n] : by_status) {
      absl::StrAppend(&out,
                      "ferry_gateway_requests_total{service=\"sns\","
                      "operation=\"",
                      PrometheusLabelValue(op), "\",status=\"", status, "\"} ",
                      n, "\n");
    }
  }
  out.append(
      "# HELP sns_NumberOfMessagesPublished_total Messages published through "
      "this gateway (CloudWatch NumberOfMessagesPublished).\n"
      "# TYPE sns_NumberOfMessagesPublished_total counter\n");
  for (const auto& [arn, n] : published) {
    // arn:aws:sns:REGION:ACCOUNT:NAME
    std::vector<std::string> parts = absl::StrSplit(arn, ':');
    if (parts.size() != 6) continue;
    absl::StrAppend(&out, "sns_NumberOfMessagesPublished_total{account=\"",
                    PrometheusLabelValue(parts[4]), "\",region=\"",
                    PrometheusLabelValue(parts[3]), "\",topic=\"",
                    PrometheusLabelValue(parts[5]), "\"} ", n, "\n");
  }
  return out;
}

}  // namespace ferry::gateway_internal
