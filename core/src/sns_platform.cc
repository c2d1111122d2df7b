// SNS platform applications and endpoints (mobile push, sns.md §1.12):
// records in the backend's KeyValueStore, AWS's validation texts, and direct
// publishes to an endpoint through the delivery sink.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "digest.h"
#include "nlohmann/json.hpp"
#include "sns_engine.h"
#include "sns_rules.h"
#include "status_macros.h"
#include "string_util.h"
#include "text_rules.h"

namespace ferry::internal {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kAppsTable = "sns.platform-applications";
constexpr std::string_view kEndpointsTable = "sns.platform-endpoints";
constexpr size_t kPageSize = 100;

absl::Status AppNotFound() {
  return SnsError("NotFound", "PlatformApplication does not exist");
}
absl::Status EndpointNotFound() {
  return SnsError("NotFound", "Endpoint does not exist");
}

bool IsPlatform(std::string_view p) {
  return p == "ADM" || p == "APNS" || p == "APNS_SANDBOX" || p == "GCM" ||
         p == "BAIDU" || p == "MPNS" || p == "WNS" || p == "APNS_VOIP" ||
         p == "APNS_VOIP_SANDBOX" || p == "MACOS" || p == "MACOS_SANDBOX";
}

absl::Status CheckAppArn(std::string_view arn, std::string_view region) {
  if (arn.empty()) return SnsMissing("platformApplicationArn");
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(
      CheckArn(arn, "PlatformApplicationArn", region, &parts));
  std::vector<std::string> rel = absl::StrSplit(AsAbsl(parts[5]), '/');
  if (rel.size() != 3 || rel[0] != "app") {
    return SnsInvalid(
        "Invalid parameter: PlatformApplicationArn Reason: Wrong number of "
        "slashes in relative portion of the ARN.");
  }
  return absl::OkStatus();
}

absl::Status CheckEndpointArn(std::string_view arn, std::string_view region) {
  if (arn.empty()) return SnsMissing("endpointArn");
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(CheckArn(arn, "EndpointArn", region, &parts));
  std::vector<std::string> rel = absl::StrSplit(AsAbsl(parts[5]), '/');
  if (rel.size() != 4 || rel[0] != "endpoint") {
    return SnsInvalid(
        "Invalid parameter: EndpointArn Reason: Wrong number of slashes in "
        "relative portion of the ARN.");
  }
  return absl::OkStatus();
}

absl::Status CheckEndpointAttributes(const AttributeMap& attributes) {
  for (const auto& [k, v] : attributes) {
    if (k != "CustomUserData" && k != "Enabled" && k != "Token") {
      return SnsInvalid(absl::StrCat(
          "Invalid parameter: Attributes Reason: Invalid attribute name: ", k));
    }
    if (k == "CustomUserData" && v.size() > 2048) {
      return SnsInvalid(
          "Invalid parameter: Attributes Reason: Invalid value for attribute: "
          "CustomUserData: must be at most 2048 bytes long in UTF-8 encoding");
    }
    bool b;
    if (k == "Enabled" && !ParseBool(v, &b)) {
      return SnsInvalid(
          "Invalid parameter: Attributes Reason: Invalid value for attribute: "
          "Enabled: must be true or false");
    }
  }
  return absl::OkStatus();
}

struct Record {
  std::string value;
  uint64_t version = 0;
};

}  // namespace

absl::StatusOr<CreatePlatformApplicationResult>
SnsEngine::CreatePlatformApplication(
    const Ctx& ctx, const CreatePlatformApplicationRequest& req) {
  const std::string& name = req.name;
  if (name.empty()) {
    return SnsInvalid("Invalid parameter:  Reason: cannot be empty");
  }
  if (name.size() > 256) {
    return SnsInvalid(absl::StrCat("Invalid parameter: ", name,
                                   " Reason: must be at most 256 characters "
                                   "long"));
  }
  if (!std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
               c == '-' || c == '.';
      })) {
    return SnsInvalid(absl::StrCat(
        "Invalid parameter: ", name,
        " Reason: must contain only characters 'a'-'z', 'A'-'Z', '0'-'9', "
        "'_', '-', and '.'"));
  }
  if (req.platform.empty()) return SnsMissing("platform");
  if (!IsPlatform(req.platform)) {
    return SnsInvalid(absl::StrCat("Invalid parameter: Platform Reason: ",
                                   req.platform, " is not supported"));
  }
  if (!req.attributes.has_value()) return SnsMissing("attributes");
  const AttributeMap& a = *req.attributes;
  if (a.count("PlatformPrincipal") && !a.count("PlatformCredential")) {
    return SnsInvalid(
        "Invalid parameter: Attributes Reason: PlatformPrincipal attribute "
        "provided without PlatformCredential");
  }
  std::string arn = absl::StrCat(SnsArnPrefix(ctx.region, ctx.account), "app/",
                                 req.platform, "/", name);
  Json j = {{"platform", req.platform}, {"attrs", a}};
  j["attrs"]["Enabled"] = "true";
  FERRY_RETURN_IF_ERROR(Put(kAppsTable, arn, j.dump()));
  return CreatePlatformApplicationResult{arn};
}

absl::StatusOr<ListPlatformApplicationsResult>
SnsEngine::ListPlatformApplications(
    const Ctx& ctx, const ListPlatformApplicationsRequest& req) {
  std::string after;
  if (!req.next_token.empty() && !Base64Decode(req.next_token, &after)) {
    return SnsInvalid("Invalid parameter: NextToken");
  }
  FERRY_ASSIGN_OR_RETURN(
      auto page,
      engine_->backend().kv().Scan(
          kAppsTable,
          absl::StrCat(SnsArnPrefix(ctx.region, ctx.account), "app/"), after,
          kPageSize + 1));
  ListPlatformApplicationsResult result;
  for (size_t i = 0; i < page.size() && i < kPageSize; ++i) {
    Json j = Json::parse(page[i].second.value, nullptr, false);
    PlatformApplication app;
    app.platform_application_arn = page[i].first;
    if (j.is_object()) {
      for (auto& [k, v] : j.value("attrs", StringMap{})) {
        if (k != "PlatformCredential" && k != "PlatformPrincipal") {
          app.attributes[k] = v;
        }
      }
    }
    result.platform_applications.push_back(std::move(app));
  }
  if (page.size() > kPageSize) {
    result.next_token = Base64Encode(page[kPageSize - 1].first);
  }
  return result;
}

absl::StatusOr<AttributeMap> SnsEngine::GetPlatformApplicationAttributes(
    const Ctx& ctx, std::string_view arn) {
  FERRY_RETURN_IF_ERROR(CheckAppArn(arn, ctx.region));
  FERRY_ASSIGN_OR_RETURN(auto rec,
                         engine_->backend().kv().Get(kAppsTable, arn));
  if (!rec.has_value()) return AppNotFound();
  Json j = Json::parse(rec->value, nullptr, false);
  AttributeMap out;
  if (j.is_object()) {
    for (auto& [k, v] : j.value("attrs", StringMap{})) {
      if (k != "PlatformCredential" && k != "PlatformPrincipal") out[k] = v;
    }
  }
  return out;
}

absl::Status SnsEngine::SetPlatformApplicationAttributes(
    const Ctx& ctx, const SetPlatformApplicationAttributesRequest& req) {
  FERRY_RETURN_IF_ERROR(CheckAppArn(req.platform_application_arn, ctx.region));
  FERRY_ASSIGN_OR_RETURN(
      auto rec,
      engine_->backend().kv().Get(kAppsTable, req.platform_application_arn));
  if (!rec.has_value()) return AppNotFound();
  Json j = Json::parse(rec->value, nullptr, false);
  if (!j.is_object()) j = Json::object();
  for (const auto& [k, v] : req.attributes) j["attrs"][k] = v;
  return Put(kAppsTable, req.platform_application_arn, j.dump());
}

absl::Status SnsEngine::DeletePlatformApplication(const Ctx& ctx,
                                                  std::string_view arn) {
  FERRY_RETURN_IF_ERROR(CheckAppArn(arn, ctx.region));
  std::vector<std::string_view> parts = SplitArn(arn);
  std::vector<std::string> rel = absl::StrSplit(AsAbsl(parts[5]), '/');
  std::string prefix =
      absl::StrCat(SnsArnPrefix(parts[3], parts[4]), "endpoint/",
                   AsAbsl(rel[1]), "/", AsAbsl(rel[2]), "/");
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(auto page, engine_->backend().kv().Scan(
                                          kEndpointsTable, prefix, "", 1000));
    for (auto& [k, e] : page) FERRY_RETURN_IF_ERROR(Erase(kEndpointsTable, k));
    if (page.size() < 1000) break;
  }
  return Erase(kAppsTable, arn);
}

absl::StatusOr<CreatePlatformEndpointResult> SnsEngine::CreatePlatformEndpoint(
    const Ctx& ctx, const CreatePlatformEndpointRequest& req) {
  FERRY_RETURN_IF_ERROR(CheckAppArn(req.platform_application_arn, ctx.region));
  if (req.token.empty()) return SnsMissing("token");
  FERRY_RETURN_IF_ERROR(CheckEndpointAttributes(req.attributes));
  if (req.custom_user_data.has_value() && req.custom_user_data->size() > 2048) {
    return SnsInvalid(
        "Invalid parameter: Attributes Reason: Invalid value for attribute: "
        "CustomUserData: must be at most 2048 bytes long in UTF-8 encoding");
  }
  FERRY_ASSIGN_OR_RETURN(
      auto app,
      engine_->backend().kv().Get(kAppsTable, req.platform_application_arn));
  if (!app.has_value()) return AppNotFound();
  std::vector<std::string_view> parts = SplitArn(req.platform_application_arn);
  std::vector<std::string> rel = absl::StrSplit(AsAbsl(parts[5]), '/');
  std::string prefix =
      absl::StrCat(SnsArnPrefix(parts[3], parts[4]), "endpoint/",
                   AsAbsl(rel[1]), "/", AsAbsl(rel[2]), "/");
  StringMap wanted = req.attributes;
  wanted["Token"] = req.token;
  if (req.custom_user_data.has_value()) {
    wanted["CustomUserData"] = *req.custom_user_data;
  }
  if (wanted.count("Enabled") == 0) wanted["Enabled"] = "true";
  // Idempotent on the token (sns.md §1.12).
  std::string after;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(
        auto page,
        engine_->backend().kv().Scan(kEndpointsTable, prefix, after, 1000));
    for (auto& [k, e] : page) {
      Json j = Json::parse(e.value, nullptr, false);
      if (!j.is_object()) continue;
      StringMap attrs = j.value("attrs", StringMap{});
      if (attrs["Token"] != req.token) continue;
      bool same = true, only_adds_data = true;
      for (const auto& [name, value] : wanted) {
        auto it = attrs.find(name);
        if (it == attrs.end()) {
          if (name != "CustomUserData") only_adds_data = false;
          same = false;
        } else if (it->second != value) {
          same = false;
          only_adds_data = false;
        }
      }
      if (same) return CreatePlatformEndpointResult{k};
      if (only_adds_data) {
        for (const auto& [name, value] : wanted) attrs[name] = value;
        j["attrs"] = attrs;
        FERRY_RETURN_IF_ERROR(Put(kEndpointsTable, k, j.dump()));
        return CreatePlatformEndpointResult{k};
      }
      return SnsInvalid(absl::StrCat(
          "Invalid parameter: Token Reason: Endpoint ", k,
          " already exists with the same Token, but different attributes."));
    }
    if (page.size() < 1000) break;
    after = page.back().first;
  }
  std::string arn = absl::StrCat(prefix, engine_->ids().NewId().ToString());
  Json j = {{"app", req.platform_application_arn},
            {"platform", std::string(rel[1])},
            {"attrs", wanted}};
  FERRY_RETURN_IF_ERROR(Put(kEndpointsTable, arn, j.dump()));
  return CreatePlatformEndpointResult{arn};
}

absl::StatusOr<ListEndpointsByPlatformApplicationResult>
SnsEngine::ListEndpointsByPlatformApplication(
    const Ctx& ctx, const ListEndpointsByPlatformApplicationRequest& req) {
  FERRY_RETURN_IF_ERROR(CheckAppArn(req.platform_application_arn, ctx.region));
  FERRY_ASSIGN_OR_RETURN(
      auto app,
      engine_->backend().kv().Get(kAppsTable, req.platform_application_arn));
  if (!app.has_value()) return AppNotFound();
  std::string after;
  if (!req.next_token.empty() && !Base64Decode(req.next_token, &after)) {
    return SnsInvalid("Invalid parameter: NextToken");
  }
  std::vector<std::string_view> parts = SplitArn(req.platform_application_arn);
  std::vector<std::string> rel = absl::StrSplit(AsAbsl(parts[5]), '/');
  std::string prefix =
      absl::StrCat(SnsArnPrefix(parts[3], parts[4]), "endpoint/",
                   AsAbsl(rel[1]), "/", AsAbsl(rel[2]), "/");
  FERRY_ASSIGN_OR_RETURN(
      auto page, engine_->backend().kv().Scan(kEndpointsTable, prefix, after,
                                              kPageSize + 1));
  ListEndpointsByPlatformApplicationResult result;
  for (size_t i = 0; i < page.size() && i < kPageSize; ++i) {
    Json j = Json::parse(page[i].second.value, nullptr, false);
    PlatformEndpoint ep;
    ep.endpoint_arn = page[i].first;
    if (j.is_object()) {
      for (auto& [k, v] : j.value("attrs", StringMap{})) ep.attributes[k] = v;
    }
    result.endpoints.push_back(std::move(ep));
  }
  if (page.size() > kPageSize) {
    result.next_token = Base64Encode(page[kPageSize - 1].first);
  }
  return result;
}

absl::StatusOr<AttributeMap> SnsEngine::GetEndpointAttributes(
    const Ctx& ctx, std::string_view arn) {
  FERRY_RETURN_IF_ERROR(CheckEndpointArn(arn, ctx.region));
  FERRY_ASSIGN_OR_RETURN(auto rec,
                         engine_->backend().kv().Get(kEndpointsTable, arn));
  if (!rec.has_value()) return EndpointNotFound();
  Json j = Json::parse(rec->value, nullptr, false);
  AttributeMap out;
  if (j.is_object()) {
    for (auto& [k, v] : j.value("attrs", StringMap{})) out[k] = v;
  }
  return out;
}

absl::Status SnsEngine::SetEndpointAttributes(
    const Ctx& ctx, const SetEndpointAttributesRequest& req) {
  FERRY_RETURN_IF_ERROR(CheckEndpointArn(req.endpoint_arn, ctx.region));
  FERRY_RETURN_IF_ERROR(CheckEndpointAttributes(req.attributes));
  FERRY_ASSIGN_OR_RETURN(
      auto rec, engine_->backend().kv().Get(kEndpointsTable, req.endpoint_arn));
  if (!rec.has_value()) return EndpointNotFound();
  Json j = Json::parse(rec->value, nullptr, false);
  if (!j.is_object()) j = Json::object();
  for (const auto& [k, v] : req.attributes) {
    std::string value = v;
    if (k == "Enabled") value = absl::AsciiStrToLower(v);
    j["attrs"][k] = value;
  }
  return Put(kEndpointsTable, req.endpoint_arn, j.dump());
}

absl::Status SnsEngine::DeleteEndpoint(const Ctx& ctx, std::string_view arn) {
  FERRY_RETURN_IF_ERROR(CheckEndpointArn(arn, ctx.region));
  return Erase(kEndpointsTable, arn);
}

absl::StatusOr<bool> SnsEngine::EndpointEnabled(std::string_view arn,
                                                std::string* platform) {
  FERRY_ASSIGN_OR_RETURN(auto rec,
                         engine_->backend().kv().Get(kEndpointsTable, arn));
  if (!rec.has_value()) return EndpointNotFound();
  Json j = Json::parse(rec->value, nullptr, false);
  if (!j.is_object()) return false;
  *platform = j.value("platform", "");
  StringMap attrs = j.value("attrs", StringMap{});
  return absl::AsciiStrToLower(attrs["Enabled"]) == "true";
}

absl::StatusOr<SnsPublishResult> SnsEngine::PublishToEndpoint(
    const Ctx& ctx, const PublishRequest& req,
    const std::map<std::string, std::string>* structured) {
  std::vector<std::string_view> parts;
  FERRY_RETURN_IF_ERROR(
      CheckArn(req.target_arn, "TargetArn", ctx.region, &parts));
  std::string platform;
  absl::StatusOr<bool> enabled = EndpointEnabled(req.target_arn, &platform);
  if (absl::IsNotFound(enabled.status())) {
    return SnsInvalid(
        "Invalid parameter: TargetArn Reason: No endpoint found for the "
        "target arn specified");
  }
  FERRY_RETURN_IF_ERROR(enabled.status());
  if (!*enabled) return SnsError("EndpointDisabled", "Endpoint is disabled");
  std::string body = req.message;
  if (structured != nullptr) {
    auto it = structured->find(platform);
    if (it == structured->end()) it = structured->find("default");
    if (it == structured->end()) {
      return SnsInvalid(
          "Invalid parameter: Message Structure - No default entry in JSON "
          "message body");
    }
    body = it->second;
  }
  SnsPublishResult result;
  result.message_id = engine_->ids().NewId().ToString();
  SinkDelivery d;
  d.protocol = "application";
  d.endpoint = req.target_arn;
  d.type = "Notification";
  d.message_id = result.message_id;
  d.body = std::move(body);
  d.attributes = req.message_attributes;
  d.time = engine_->clock().Now();
  DeliverToSink(std::move(d));
  return result;
}

}  // namespace ferry::internal
