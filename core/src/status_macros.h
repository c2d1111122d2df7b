// Early-return helpers for absl::Status and absl::StatusOr.
//
// Shaped like ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN (absent from the
// Abseil this project builds against), so an Abseil upgrade only deletes them.
//
//   FERRY_RETURN_IF_ERROR(store.Purge(id));            // Status or StatusOr
//   FERRY_ASSIGN_OR_RETURN(QueueRecord q, store.GetQueue(key));
//
// Thread safety: macros; no state.
// Errors: propagate the failing status unchanged.
#ifndef FERRY_CORE_SRC_STATUS_MACROS_H_
#define FERRY_CORE_SRC_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ferry::internal {

inline const absl::Status& StatusOf(const absl::Status& s) { return s; }
inline absl::Status StatusOf(absl::Status&& s) { return std::move(s); }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
template <typename T>
absl::Status StatusOf(absl::StatusOr<T>&& s) {
  return std::move(s).status();
}

}  // namespace ferry::internal

#define FERRY_CONCAT_INNER_(a, b) a##b
#define FERRY_CONCAT_(a, b) FERRY_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status or absl::StatusOr<T>) once and returns its
// status from the enclosing function if it is not OK.
#define FERRY_RETURN_IF_ERROR(expr)                                   \
  do {                                                                \
    if (::absl::Status _ferry_st = ::ferry::internal::StatusOf(expr); \
        !_ferry_st.ok()) {                                            \
      return _ferry_st;                                               \
    }                                                                 \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs`, which may declare a variable
// (`FERRY_ASSIGN_OR_RETURN(auto x, F());`). Expands to several statements:
// do not use it as the sole body of an unbraced if/else.
#define FERRY_ASSIGN_OR_RETURN(lhs, rexpr) \
  FERRY_ASSIGN_OR_RETURN_IMPL_(FERRY_CONCAT_(_ferry_sor_, __LINE__), lhs, rexpr)

#define FERRY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = *std::move(tmp)

#endif  // FERRY_CORE_SRC_STATUS_MACROS_H_
