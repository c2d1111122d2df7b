// What every wire service of the gateway (SQS, SNS; Kinesis later) does the
// same way around its own decoding: SigV4 verification against configured
// credentials, the request context read from the credential scope, AWS
// errors from statuses, the Query protocol's XML error envelope, injected
// faults and request recording.
#ifndef FERRY_GATEWAY_SERVICE_SUPPORT_H_
#define FERRY_GATEWAY_SERVICE_SUPPORT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "ferry/errors.h"
#include "ferry/faults.h"
#include "ferry/gateway.h"
#include "ferry/sqs.h"
#include "ferry/sync.h"
#include "http_message.h"

namespace ferry::gateway_internal {

// An AWS error as the wire shows it.
struct WireError {
  std::string shape;
  std::string code;  // the Query code
  int status = 400;
  bool sender = true;
  std::string message;
};

// The AWS error `s` carries; Cancelled is ServiceUnavailable (503) and
// anything else with no AWS counterpart InternalFailure (500).
WireError WireErrorFromStatus(const absl::Status& s);

// The error an injected fault stands for, looked up in `service`'s table
// (an unknown name is sent as its own code with the fault's HTTP status).
WireError WireErrorFromFault(const InjectedFault& fault, AwsService service);

// The Query protocol's error response: text/xml `<ErrorResponse
// xmlns=...><Error><Type>Sender|Receiver</Type><Code/><Message/><Detail/>
// </Error><RequestId/></ErrorResponse>` with the error's HTTP status and an
// x-amzn-RequestId header.
HttpResponse QueryErrorResponse(std::string_view xml_namespace,
                                const std::string& request_id,
                                const WireError& e);

// With configured credentials, a request must carry a valid SigV4 signature
// (Authorization header form) of one of them. The errors are `service`'s
// MissingAuthenticationToken, IncompleteSignature, SignatureDoesNotMatch or
// InvalidClientTokenId.
absl::Status AuthenticateRequest(
    const HttpRequest& request,
    const std::vector<GatewayCredential>& credentials, AwsService service);

// The caller's context: region from the SigV4 credential scope, account from
// a configured credential or a 12-digit access key id, endpoint from the
// Host header, trace header, `cancellation`. Fills `record`'s caller fields
// when it is not null.
RequestContext RequestContextFor(const HttpRequest& request,
                                 const std::vector<GatewayCredential>& creds,
                                 ReceiveCancellation* cancellation,
                                 RecordedRequest* record);

// A call whose response is already known.
PreparedCall ImmediateCall(HttpResponse response);

class FaultQueue;

// Consults the injected faults for `op` (none when `faults` is null). A fault
// that answers by itself becomes the whole call, delayed by its latency: a
// dropped connection, or its error as `fail` answers a WireError in the
// service's protocol. Otherwise returns nullopt and sets `*delay` to the
// latency the real call waits first (zero without a fault).
std::optional<PreparedCall> CallForInjectedFault(
    FaultQueue* faults, const std::string& op, AwsService service,
    absl::FunctionRef<PreparedCall(const WireError&)> fail,
    absl::Duration* delay);

// Receives a record of every answered request when requests are recorded.
using RequestRecorder = std::function<void(RecordedRequest)>;

// Runs `prepare` (which fills the record's protocol, operation and caller as
// it learns them) and, with a recorder, records the request once its
// response is known. `service` is e.g. "sqs".
PreparedCall PrepareRecorded(
    HttpRequest& request, std::string_view service,
    const RequestRecorder& recorder,
    const std::function<PreparedCall(HttpRequest&, RecordedRequest*)>& prepare);

// A Prometheus label value: backslash, double quote and newline escaped.
std::string PrometheusLabelValue(std::string_view v);

// The injected faults every service draws from (test support): a view of a
// ferry::FaultInjector, the gateway's own until Share() points it at the
// broker's (Broker::faults()), so that native calls and wire requests
// consult one list. Thread-safe.
class FaultQueue {
 public:
  // `seed` seeds the draws of the gateway's own injector (0: a random seed).
  explicit FaultQueue(uint64_t seed)
      : own_(seed != 0 ? seed : std::random_device()()) {}

  // From now on, the faults are `shared`'s; its draws are reseeded with
  // `seed` unless it is 0. REQUIRES: `shared` outlives this queue.
  void Share(FaultInjector& shared, uint64_t seed);

  // `times` < 0: until cleared; 0: nothing.
  void Inject(const InjectedFault& fault, int times);
  void Clear();
  // The queued faults and their remaining counts (-1: until cleared).
  std::vector<std::pair<InjectedFault, int>> Faults();
  // The first queued fault that hits a request of `op`, consumed; nullopt if
  // none does.
  std::optional<InjectedFault> Take(const std::string& op);

 private:
  FaultInjector& injector() {
    return *injector_.load(std::memory_order_acquire);
  }

  FaultInjector own_;
  std::atomic<FaultInjector*> injector_{&own_};
};

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_SERVICE_SUPPORT_H_
