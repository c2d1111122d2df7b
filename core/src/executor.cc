// ferry::InlineExecutor().

#include "ferry/executor.h"

#include <utility>

#include "absl/functional/any_invocable.h"

namespace ferry {
namespace {

class InlineExecutorImpl final : public Executor {
 public:
  void Schedule(absl::AnyInvocable<void() &&> fn) override { std::move(fn)(); }
};

}  // namespace

Executor& InlineExecutor() {
  static InlineExecutorImpl* const executor = new InlineExecutorImpl();
  return *executor;
}

}  // namespace ferry
