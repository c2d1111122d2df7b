// The one hook every operation of the AWS-shaped layers (Sqs, Sns, Kinesis)
// runs first: the broker's injected faults (ferry/faults.h).
//
//   absl::Status Sqs::PurgeQueue(const Ctx& ctx, const PurgeQueueRequest& r) {
//     FERRY_INJECTED_FAULTS(engine_->options(), engine_->clock(),
//                           AwsService::kSqs, ctx);
//     ...
//
// The operation's name is the function's (__func__), i.e. AWS's.
#ifndef FERRY_CORE_SRC_FAULT_HOOK_H_
#define FERRY_CORE_SRC_FAULT_HOOK_H_

#include <string_view>

#include "absl/status/status.h"
#include "ferry/broker.h"
#include "ferry/clock.h"
#include "ferry/errors.h"
#include "ferry/faults.h"
#include "ferry/sqs.h"
#include "status_macros.h"

namespace ferry::internal {

inline absl::Status ApplyInjectedFaults(const BrokerOptions& options,
                                        Clock& clock, AwsService service,
                                        std::string_view operation,
                                        const RequestContext& ctx) {
  if (options.faults == nullptr || ctx.faults_consulted ||
      options.faults->empty()) {
    return absl::OkStatus();
  }
  return options.faults->Apply(clock, service, operation);
}

}  // namespace ferry::internal

#define FERRY_INJECTED_FAULTS(options, clock, service, ctx)     \
  FERRY_RETURN_IF_ERROR(::ferry::internal::ApplyInjectedFaults( \
      (options), (clock), service, __func__, (ctx)))

#endif  // FERRY_CORE_SRC_FAULT_HOOK_H_
