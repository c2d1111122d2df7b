// Hex encoding of byte strings for the JSON files of the persistent fake
// stores (JSON strings must be text; keys, bodies and records are bytes).
//
// Thread safety: pure functions. Errors: Unhex expects what Hex wrote.
#ifndef FERRY_TESTS_TESTING_HEX_H_
#define FERRY_TESTS_TESTING_HEX_H_

#include <string>
#include <string_view>

namespace ferry_testing {

inline std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

inline std::string Unhex(const std::string& hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace ferry_testing

#endif  // FERRY_TESTS_TESTING_HEX_H_
