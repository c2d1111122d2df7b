// Building blocks shared by the AWS wire protocols: form decoding, XML
// escaping, base64, the SigV4 credential scope and request ids.
#ifndef FERRY_GATEWAY_AWS_WIRE_H_
#define FERRY_GATEWAY_AWS_WIRE_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "http_message.h"

namespace ferry::gateway_internal {

// Debian's Abseil has its own string_view type; this converts.
inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Percent-decodes `in`; '+' becomes a space when `plus_is_space`. Returns
// nullopt for a malformed escape.
std::optional<std::string> UrlDecode(std::string_view in, bool plus_is_space);

// Parses application/x-www-form-urlencoded text (also a URL's query string).
// Returns nullopt if an escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(
    std::string_view text);

// Appends `text` escaped for an XML text node the way SQS does it: & < > as
// entities, '"' as &quot;, '\'' as &apos; and CR as &#xD; (a bare CR would be
// normalised to LF by the client's XML parser and break the MD5 check).
void AppendXmlEscaped(std::string_view text, std::string* out);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; whitespace is not accepted.
std::optional<std::string> Base64Decode(std::string_view text);

// What a SigV4 Authorization header (or presigned X-Amz-Credential) says
// about its caller: Credential=AKID/DATE/REGION/SERVICE/aws4_request.
struct CredentialScope {
  std::string access_key_id;
  std::string region;
  std::string service;
};
std::optional<CredentialScope> ParseCredentialScope(const HttpRequest& request);

// A random version-4 UUID, as AWS request ids are.
std::string NewRequestId();

// The path of a request target, without its query string.
std::string_view TargetPath(std::string_view target);
// The query string of a request target ("" if none).
std::string_view TargetQuery(std::string_view target);

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_AWS_WIRE_H_
