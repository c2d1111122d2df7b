// Conversions between std::string_view and Debian's absl::string_view.
//
// Debian builds Abseil with ABSL_OPTION_USE_STD_STRING_VIEW 0, so the two
// types differ. ferry's public API takes std::string_view; internal code that
// calls Abseil converts at the boundary through these two helpers.
//
// Thread safety: pure functions.
// Errors: none.
#ifndef FERRY_CORE_SRC_STRING_UTIL_H_
#define FERRY_CORE_SRC_STRING_UTIL_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ferry::internal {

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline std::string_view AsStd(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace ferry::internal

#endif  // FERRY_CORE_SRC_STRING_UTIL_H_
