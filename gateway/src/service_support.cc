#include "service_support.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "aws_wire.h"
#include "sigv4.h"

namespace ferry::gateway_internal {

WireError WireErrorFromStatus(const absl::Status& s) {
  if (std::optional<AwsErrorInfo> aws = GetAwsError(s)) {
    return {std::string(aws->shape), std::string(aws->query_code),
            aws->http_status, aws->sender_fault, std::string(s.message())};
  }
  if (absl::IsCancelled(s)) {
    return {"ServiceUnavailable", "ServiceUnavailable", 503, false,
            std::string(s.message())};
  }
  return {"InternalFailure", "InternalFailure", 500, false,
          std::string(s.message())};
}

WireError WireErrorFromFault(const InjectedFault& fault, AwsService service) {
  const std::string message =
      fault.message.empty() ? std::string("Injected by the ferry gateway.")
                            : fault.message;
  if (std::optional<AwsErrorInfo> aws = FindAwsError(service, fault.error)) {
    return {std::string(aws->shape), std::string(aws->query_code),
            aws->http_status, aws->sender_fault, message};
  }
  return {fault.error, fault.error, fault.http_status, fault.http_status < 500,
          message};
}

HttpResponse QueryErrorResponse(std::string_view xml_namespace,
                                const std::string& request_id,
                                const WireError& e) {
  HttpResponse r;
  r.status = e.status;
  r.error_code = e.code;
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.content_type = "text/xml";
  std::string& b = r.body;
  b = absl::StrCat("<?xml version=\"1.0\"?><ErrorResponse xmlns=\"",
                   AsAbsl(xml_namespace), "\"><Error><Type>",
                   e.sender ? "Sender" : "Receiver", "</Type><Code>");
  AppendXmlEscaped(e.code, &b);
  b.append("</Code><Message>");
  AppendXmlEscaped(e.message, &b);
  b.append("</Message><Detail/></Error><RequestId>");
  b.append(request_id);
  b.append("</RequestId></ErrorResponse>");
  return r;
}

absl::Status AuthenticateRequest(
    const HttpRequest& request,
    const std::vector<GatewayCredential>& credentials, AwsService service) {
  std::string_view header = request.Header("authorization");
  if (header.empty()) {
    return AwsError(service, "MissingAuthenticationToken",
                    "Request is missing Authentication Token");
  }
  SigV4Authorization auth;
  if (!ParseSigV4Authorization(header, &auth)) {
    return AwsError(service, "IncompleteSignature",
                    "The Authorization header is not a complete AWS "
                    "Signature Version 4 header.");
  }
  for (const GatewayCredential& c : credentials) {
    if (c.access_key_id != auth.access_key_id) continue;
    if (ComputeSigV4Signature(request, auth, c.secret_access_key) ==
        auth.signature) {
      return absl::OkStatus();
    }
    return AwsError(service, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the "
                    "signature you provided. Check your AWS Secret Access Key "
                    "and signing method. Consult the service documentation "
                    "for details.");
  }
  return AwsError(service, "InvalidClientTokenId",
                  "The security token included in the request is invalid.");
}

RequestContext RequestContextFor(const HttpRequest& request,
                                 const std::vector<GatewayCredential>& creds,
                                 ReceiveCancellation* cancellation,
                                 RecordedRequest* record) {
  RequestContext ctx;
  std::optional<CredentialScope> scope = ParseCredentialScope(request);
  if (scope.has_value()) {
    ctx.region = scope->region;
    bool mapped = false;
    for (const GatewayCredential& c : creds) {
      if (c.access_key_id == scope->access_key_id) {
        ctx.account = c.account;
        mapped = true;
      }
    }
    const std::string& key = scope->access_key_id;
    if (!mapped && key.size() == 12 &&
        std::all_of(key.begin(), key.end(),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      ctx.account = key;
    }
  }
  if (record != nullptr) {
    if (scope.has_value()) record->access_key_id = scope->access_key_id;
    record->account = ctx.account;
    record->region = ctx.region;
  }
  std::string_view host = request.Header("host");
  if (!host.empty()) ctx.endpoint = absl::StrCat("http://", AsAbsl(host));
  ctx.trace_header = std::string(request.Header("x-amzn-trace-id"));
  ctx.cancellation = cancellation;
  // The services consult the injected faults (FaultQueue, which shares the
  // broker's list) at the start of each request, with the wire-only kinds
  // and latency on a timer; the operation must not consult them again.
  ctx.faults_consulted = true;
  return ctx;
}

PreparedCall ImmediateCall(HttpResponse response) {
  PreparedCall call;
  call.run = [r = std::move(response)]() mutable { return std::move(r); };
  return call;
}

std::optional<PreparedCall> CallForInjectedFault(
    FaultQueue* faults, const std::string& op, AwsService service,
    absl::FunctionRef<PreparedCall(const WireError&)> fail,
    absl::Duration* delay) {
  *delay = absl::ZeroDuration();
  if (faults == nullptr) return std::nullopt;
  std::optional<InjectedFault> fault = faults->Take(op);
  if (!fault.has_value()) return std::nullopt;
  *delay = fault->latency;
  if (!fault->drop_connection && fault->error.empty()) return std::nullopt;
  PreparedCall call;
  if (fault->drop_connection) {
    HttpResponse dropped;
    dropped.drop_connection = true;
    call = ImmediateCall(std::move(dropped));
  } else {
    call = fail(WireErrorFromFault(*fault, service));
  }
  call.delay = *delay;
  return call;
}

PreparedCall PrepareRecorded(
    HttpRequest& request, std::string_view service,
    const RequestRecorder& recorder,
    const std::function<PreparedCall(HttpRequest&, RecordedRequest*)>&
        prepare) {
  if (!recorder) return prepare(request, nullptr);
  auto record = std::make_shared<RecordedRequest>();
  record->service = std::string(service);
  record->method = request.method;
  record->target = request.target;
  record->headers.insert(request.headers.begin(), request.headers.end());
  record->body = request.body;
  PreparedCall call = prepare(request, record.get());
  call.run = [recorder, run = std::move(call.run), record]() mutable {
    HttpResponse response = std::move(run)();
    record->http_status = response.status;
    record->error_code = response.error_code;
    recorder(std::move(*record));
    return response;
  };
  return call;
}

std::string PrometheusLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void FaultQueue::Share(FaultInjector& shared, uint64_t seed) {
  if (seed != 0) shared.Seed(seed);
  injector_.store(&shared, std::memory_order_release);
}

void FaultQueue::Inject(const InjectedFault& fault, int times) {
  injector().Inject(fault, times);
}

void FaultQueue::Clear() { injector().Clear(); }

std::vector<std::pair<InjectedFault, int>> FaultQueue::Faults() {
  return injector().Rules();
}

std::optional<InjectedFault> FaultQueue::Take(const std::string& op) {
  return injector().Take(op);
}

}  // namespace ferry::gateway_internal
