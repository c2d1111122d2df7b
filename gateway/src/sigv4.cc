// SigV4 as the AWS General Reference describes it ("Create a canonical
// request", "Create a string to sign", "Calculate the signature").
#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aws_wire.h"

namespace ferry::gateway_internal {
namespace {

std::string Hex(const unsigned char* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return Hex(digest, sizeof(digest));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// RFC 3986 encoding: unreserved characters stay, everything else is %XX.
std::string UriEncode(std::string_view in, bool keep_slash) {
  std::string out;
  for (unsigned char c : in) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char kDigits[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view pair : absl::StrSplit(AsAbsl(query), '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key(pair.data(),
                         eq == absl::string_view::npos ? pair.size() : eq);
    std::string_view value =
        eq == absl::string_view::npos
            ? std::string_view()
            : std::string_view(pair.data() + eq + 1, pair.size() - eq - 1);
    params.emplace_back(
        UriEncode(UrlDecode(key, true).value_or(std::string(key)), false),
        UriEncode(UrlDecode(value, true).value_or(std::string(value)), false));
  }
  std::sort(params.begin(), params.end());
  std::vector<std::string> parts;
  for (auto& [k, v] : params) parts.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(parts, "&");
}

// Trims and collapses runs of spaces, as the canonical headers require.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

bool ParseSigV4Authorization(std::string_view header, SigV4Authorization* out) {
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm) return false;
  std::string_view rest = header.substr(kAlgorithm.size());
  std::string credential;
  for (absl::string_view part : absl::StrSplit(AsAbsl(rest), ',')) {
    part = absl::StripAsciiWhitespace(part);
    size_t eq = part.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view name = part.substr(0, eq);
    std::string value(part.substr(eq + 1));
    if (name == "Credential") {
      credential = value;
    } else if (name == "SignedHeaders") {
      out->signed_headers = value;
    } else if (name == "Signature") {
      out->signature = absl::AsciiStrToLower(value);
    }
  }
  std::vector<std::string> scope = absl::StrSplit(credential, '/');
  if (scope.size() != 5 || scope[0].empty() || scope[4] != "aws4_request" ||
      out->signed_headers.empty() || out->signature.empty()) {
    return false;
  }
  out->access_key_id = scope[0];
  out->date = scope[1];
  out->region = scope[2];
  out->service = scope[3];
  out->scope =
      absl::StrCat(scope[1], "/", scope[2], "/", scope[3], "/", scope[4]);
  return true;
}

std::string ComputeSigV4Signature(const HttpRequest& request,
                                  const SigV4Authorization& auth,
                                  std::string_view secret_access_key) {
  std::string_view path = TargetPath(request.target);
  std::string canonical_uri =
      UriEncode(UrlDecode(path, false).value_or(std::string(path)), true);
  if (canonical_uri.empty()) canonical_uri.push_back('/');
  std::string canonical_headers;
  for (absl::string_view name : absl::StrSplit(auth.signed_headers, ';')) {
    absl::StrAppend(&canonical_headers, name, ":",
                    CanonicalHeaderValue(request.Header(
                        std::string_view(name.data(), name.size()))),
                    "\n");
  }
  std::string_view payload_hash = request.Header("x-amz-content-sha256");
  std::string body_hash;
  if (payload_hash.empty()) {
    body_hash = Sha256Hex(request.body);
    payload_hash = body_hash;
  }
  std::string canonical_request = absl::StrCat(
      request.method, "\n", canonical_uri, "\n",
      CanonicalQuery(TargetQuery(request.target)), "\n", canonical_headers,
      "\n", auth.signed_headers, "\n", AsAbsl(payload_hash));
  std::string_view timestamp = request.Header("x-amz-date");
  if (timestamp.empty()) timestamp = request.Header("date");
  std::string string_to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", AsAbsl(timestamp), "\n", auth.scope,
                   "\n", Sha256Hex(canonical_request));
  std::string key =
      HmacSha256(absl::StrCat("AWS4", AsAbsl(secret_access_key)), auth.date);
  key = HmacSha256(key, auth.region);
  key = HmacSha256(key, auth.service);
  key = HmacSha256(key, "aws4_request");
  std::string signature = HmacSha256(key, string_to_sign);
  return Hex(reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size());
}

}  // namespace ferry::gateway_internal
