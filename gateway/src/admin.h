// The test-support endpoints under /_ferry/ (GatewayOptions::admin_endpoints;
// the list is in ferry/gateway.h's file comment): reset, the manual clock,
// fault injection, recorded requests and provisioning, as JSON over HTTP for
// test suites in any language.
#ifndef FERRY_GATEWAY_ADMIN_H_
#define FERRY_GATEWAY_ADMIN_H_

#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ferry/broker.h"
#include "ferry/gateway.h"
#include "http_message.h"
#include "nlohmann/json.hpp"
#include "sqs_service.h"

namespace ferry::gateway_internal {

class AdminService {
 public:
  struct Hooks {
    std::function<absl::Status()> reset;
    std::function<std::vector<RecordedRequest>()> records;
    std::function<void()> clear_records;
  };
  // REQUIRES: every argument outlives the service.
  AdminService(Broker& broker, const GatewayOptions& options, SqsService& sqs,
               Hooks hooks)
      : broker_(broker),
        options_(options),
        sqs_(sqs),
        hooks_(std::move(hooks)) {}

  // True for the paths this service answers (everything under /_ferry/ but
  // /_ferry/health, which the server always serves).
  static bool IsAdminPath(std::string_view path);

  // Answers one request to an admin path.
  HttpResponse Handle(const HttpRequest& request);

 private:
  Broker& broker_;
  const GatewayOptions& options_;
  SqsService& sqs_;
  Hooks hooks_;
};

// The JSON form of a fault as GET /_ferry/faults lists it and POST
// /_ferry/faults takes it (with "times").
nlohmann::json FaultToJson(const InjectedFault& fault, int times);
// Parses POST /_ferry/faults's body. Unknown keys and wrong types are errors.
absl::Status FaultFromJson(const nlohmann::json& j, InjectedFault* fault,
                           int* times);

}  // namespace ferry::gateway_internal

#endif  // FERRY_GATEWAY_ADMIN_H_
