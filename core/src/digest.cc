// Digests through OpenSSL's EVP interface; base64 by hand (OpenSSL's decoder
// accepts whitespace and other forms AWS rejects).

#include "digest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/message.h"

namespace ferry::internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::string ToHex(const unsigned char* bytes, unsigned int n) {
  std::string out(2 * n, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return out;
}

std::string DigestHex(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // EVP_Digest fails only on allocation failure or a broken provider; the
  // result is then an empty string, which never matches a real digest.
  if (EVP_Digest(data.data(), data.size(), digest, &size, md, nullptr) != 1) {
    return "";
  }
  return ToHex(digest, size);
}

void PutLengthPrefixed(std::string_view s, std::string* out) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  out->push_back(static_cast<char>((n >> 24) & 0xff));
  out->push_back(static_cast<char>((n >> 16) & 0xff));
  out->push_back(static_cast<char>((n >> 8) & 0xff));
  out->push_back(static_cast<char>(n & 0xff));
  out->append(s);
}

bool IsBinaryType(std::string_view data_type) {
  constexpr std::string_view kBinary = "Binary";
  return data_type.substr(0, kBinary.size()) == kBinary &&
         (data_type.size() == kBinary.size() ||
          data_type[kBinary.size()] == '.');
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, -1 otherwise.
struct Base64DecodeTable {
  int8_t value[256];
  constexpr Base64DecodeTable() : value() {
    for (int i = 0; i < 256; ++i) value[i] = -1;
    for (int i = 0; i < 64; ++i) {
      value[static_cast<unsigned char>(kBase64Alphabet[i])] =
          static_cast<int8_t>(i);
    }
  }
};
constexpr Base64DecodeTable kBase64Decode;

}  // namespace

std::string Md5Hex(std::string_view data) { return DigestHex(EVP_md5(), data); }

std::string Sha256Hex(std::string_view data) {
  return DigestHex(EVP_sha256(), data);
}

std::string Md5OfMessageAttributes(const MessageAttributeMap& attributes) {
  if (attributes.empty()) return "";
  size_t size = 0;
  for (const auto& [name, value] : attributes) {
    size += 13 + name.size() + value.data_type.size() +
            std::max(value.string_value.size(), value.binary_value.size());
  }
  std::string buffer;
  buffer.reserve(size);
  // std::map iterates in byte order of the names, the order AWS uses.
  for (const auto& [name, value] : attributes) {
    PutLengthPrefixed(name, &buffer);
    PutLengthPrefixed(value.data_type, &buffer);
    if (IsBinaryType(value.data_type)) {
      buffer.push_back('\x02');
      PutLengthPrefixed(value.binary_value, &buffer);
    } else {
      buffer.push_back('\x01');
      PutLengthPrefixed(value.string_value, &buffer);
    }
  }
  return Md5Hex(buffer);
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(kBase64Alphabet[(v >> 18) & 63]);
    out.push_back(kBase64Alphabet[(v >> 12) & 63]);
    out.push_back(kBase64Alphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = text.size() >= 2 && text[text.size() - 2] == '=' ? 2 : 1;
  }
  out->reserve(text.size() / 4 * 3);
  const size_t body = text.size() - padding;  // characters that carry bits
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < body; ++i) {
    int v = kBase64Decode.value[static_cast<unsigned char>(text[i])];
    if (v < 0) return false;  // includes a '=' before the padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

}  // namespace ferry::internal
