#include "aws_wire.h"

#include <array>
#include <cstdint>
#include <random>

#include "absl/strings/ascii.h"

namespace ferry::gateway_internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::optional<std::string> UrlDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view pair = text.substr(pos, amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos
                                   ? std::string_view()
                                   : pair.substr(eq + 1);
      std::optional<std::string> k = UrlDecode(key, true);
      std::optional<std::string> v = UrlDecode(value, true);
      if (!k.has_value() || !v.has_value()) return std::nullopt;
      out.emplace_back(*std::move(k), *std::move(v));
    }
    pos = amp + 1;
  }
  return out;
}

void AppendXmlEscaped(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&apos;");
        break;
      case '\r':
        out->append("&#xD;");
        break;
      default:
        out->push_back(c);
    }
  }
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16) |
                 (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8) |
                 uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (rest == 2) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  static const std::array<int8_t, 256> kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) {
      t[static_cast<uint8_t>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
    }
    return t;
  }();
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[j] = kTable[static_cast<uint8_t>(c)];
      if (v[j] < 0) return std::nullopt;
    }
    uint32_t w = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) |
                 (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out.push_back(static_cast<char>((w >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((w >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(w & 0xff));
  }
  return out;
}

std::optional<CredentialScope> ParseCredentialScope(
    const HttpRequest& request) {
  std::string from_query;
  std::string_view credential;
  std::string_view auth = request.Header("authorization");
  size_t at = auth.find("Credential=");
  if (at != std::string_view::npos) {
    std::string_view rest = auth.substr(at + 11);
    credential = rest.substr(0, rest.find_first_of(", "));
  } else {
    // Presigned requests carry the scope in the query string.
    std::optional<std::vector<std::pair<std::string, std::string>>> query =
        ParseForm(TargetQuery(request.target));
    if (query.has_value()) {
      for (auto& [k, v] : *query) {
        if (k == "X-Amz-Credential") from_query = v;
      }
    }
    credential = from_query;
  }
  if (credential.empty()) return std::nullopt;
  // AKID/DATE/REGION/SERVICE/aws4_request
  std::string_view parts[5];
  size_t n = 0;
  size_t pos = 0;
  while (true) {
    if (n == 5) return std::nullopt;
    size_t slash = credential.find('/', pos);
    parts[n++] = credential.substr(pos, slash == std::string_view::npos
                                            ? std::string_view::npos
                                            : slash - pos);
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (n != 5 || parts[0].empty()) return std::nullopt;
  return CredentialScope{std::string(parts[0]), std::string(parts[2]),
                         std::string(parts[3])};
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~uint64_t{0xf000}) | 0x4000;                      // version 4
  lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);  // variant
  // 8-4-4-4-12 lower-case hex digits (hi's 16, then lo's 16).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  size_t at = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) ++at;
    const uint64_t word = i < 16 ? hi : lo;
    id[at++] = kHex[(word >> (60 - 4 * (i % 16))) & 0xf];
  }
  return id;
}

std::string_view TargetPath(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view TargetQuery(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view()
                                     : target.substr(q + 1);
}

}  // namespace ferry::gateway_internal
