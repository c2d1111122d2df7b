// `ferry serve [--host H] [--port P] [--strict] [--credential K:S[:A]]...
//              [--data-dir DIR] [--config FILE] [--admin] [--manual-clock]
//              [--insecure-https]`
//
// Opens a broker, in memory or, with --data-dir, on the RocksDB backend
// (when the build has it), with AWS's waits and quotas under --strict,
// creates the queues of --config (ferry/provision.h's JSON format), serves
// it with the AWS wire gateway, prints the endpoint URL on a line of its own
// to stdout once it accepts connections, and runs until SIGINT or SIGTERM,
// when it drains in-flight requests and exits 0. --admin turns on the
// /_ferry/ test-support endpoints (ferry/gateway.h) and request recording;
// --manual-clock runs the broker on a clock that moves only through
// POST /_ferry/clock/advance (it starts at the current time). SNS http/https
// subscriptions are POSTed for real through ferry's HTTP client
// (ferry/http_client.h) from a pool of delivery threads; --insecure-https
// skips the certificate check of https endpoints. Once a second the main
// thread runs the broker's maintenance: SNS delivery retries due on its
// clock, message move tasks.
#include "serve.h"

#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/testing/manual_clock.h"
#ifdef FERRY_HAVE_GATEWAY
#include "ferry/gateway.h"
#include "ferry/http_client.h"
#include "ferry/provision.h"
#endif
#ifdef FERRY_HAVE_ROCKSDB
#include "ferry/rocksdb_backend.h"
#endif

namespace ferry_tools {
namespace {

constexpr std::string_view kServeUsage =
    "usage: ferry serve [--host H] [--port P] [--strict]\n"
    "                   [--credential KEY:SECRET[:ACCOUNT]]... [--data-dir "
    "DIR]\n"
    "                   [--config FILE] [--admin] [--manual-clock]\n"
    "\n"
    "  --host H        interface to bind (default 127.0.0.1)\n"
    "  --port P        port (default 4566; 0 picks a free one)\n"
    "  --strict        AWS's waits and quotas (purge interval, queue\n"
    "                  re-creation wait, in-flight limits)\n"
    "  --credential KEY:SECRET[:ACCOUNT]\n"
    "                  serve only requests signed (SigV4) with this access "
    "key\n"
    "                  (repeatable); ACCOUNT is the account they act in\n"
    "  --data-dir DIR  keep queues in DIR on the RocksDB backend (durable;\n"
    "                  default: in memory)\n"
    "  --config FILE   create the queues FILE describes (JSON; see the user\n"
    "                  guide, \"Pre-provisioning\") before serving\n"
    "  --admin         serve the test-support endpoints under /_ferry/\n"
    "                  (reset, clock, faults, recorded requests, provision)\n"
    "                  and record requests (the last 10000)\n"
    "  --manual-clock  time moves only by POST /_ferry/clock/advance or\n"
    "                  /_ferry/clock/set (implies --admin); starts now\n"
    "  --insecure-https\n"
    "                  deliver to SNS https endpoints without verifying\n"
    "                  their certificates (self-signed test endpoints)\n"
    "\n"
    "Prints the endpoint URL once ready; SIGINT/SIGTERM drain and exit 0.\n";

int Usage(std::string_view error) {
  std::cerr << "ferry serve: " << error << "\n\n" << kServeUsage;
  return 2;
}

}  // namespace

int RunServe(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 4566;
  bool strict = false;
  std::string data_dir;
  std::string config_path;
  bool admin = false;
  bool manual_clock = false;
  bool insecure_https = false;
  std::vector<std::vector<std::string>> credentials;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kServeUsage;
      return 0;
    } else if (arg == "--host") {
      const char* v = value(arg);
      if (v == nullptr) return Usage("--host needs a value");
      host = v;
    } else if (arg == "--port") {
      const char* v = value(arg);
      if (v == nullptr || !absl::SimpleAtoi(v, &port) || port < 0 ||
          port > 65535) {
        return Usage("--port needs a number from 0 to 65535");
      }
    } else if (arg == "--strict") {
      strict = true;
    } else if (arg == "--credential") {
      const char* v = value(arg);
      std::vector<std::string> parts =
          v == nullptr ? std::vector<std::string>() : absl::StrSplit(v, ':');
      if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() ||
          parts[1].empty()) {
        return Usage("--credential needs KEY:SECRET or KEY:SECRET:ACCOUNT");
      }
      credentials.push_back(std::move(parts));
    } else if (arg == "--data-dir") {
      const char* v = value(arg);
      if (v == nullptr) return Usage("--data-dir needs a directory");
      data_dir = v;
    } else if (arg == "--config") {
      const char* v = value(arg);
      if (v == nullptr) return Usage("--config needs a file");
      config_path = v;
    } else if (arg == "--admin") {
      admin = true;
    } else if (arg == "--manual-clock") {
      manual_clock = true;
      admin = true;
    } else if (arg == "--insecure-https") {
      insecure_https = true;
    } else {
      return Usage(std::string("unexpected argument '") + std::string(arg) +
                   "'");
    }
  }
#ifndef FERRY_HAVE_ROCKSDB
  if (!data_dir.empty()) {
    std::cerr << "ferry serve: --data-dir needs the RocksDB backend, which "
                 "this build of ferry does not include (configure with "
                 "FERRY_WITH_ROCKSDB=ON); omit it to serve from memory\n";
    return 2;
  }
#endif
#ifndef FERRY_HAVE_GATEWAY
  std::cerr << "ferry serve: this build of ferry has no gateway (configure "
               "with FERRY_WITH_GATEWAY=ON and Boost's headers installed)\n";
  return 2;
#else
  // Block the stop signals in every thread (the gateway's threads inherit
  // the mask); the main thread takes them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string config;
  if (!config_path.empty()) {
    std::ifstream in(config_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      std::cerr << "ferry serve: cannot read --config " << config_path << "\n";
      return 2;
    }
    config = text.str();
    if (absl::Status s = ferry::ValidateProvisionJson(config); !s.ok()) {
      std::cerr << "ferry serve: --config " << config_path << ": "
                << s.message() << "\n";
      return 2;
    }
  }

  ferry::BrokerOptions options;
  options.strict.enabled = strict;
  // Starts at the current time, read once through the real clock.
  std::unique_ptr<ferry_testing::ManualClock> clock;
  if (manual_clock) {
    clock = std::make_unique<ferry_testing::ManualClock>(
        ferry::Clock::Real().Now());
    options.clock = clock.get();
  }
  // SNS http/https deliveries block on the endpoint: they run here, not on
  // the gateway's threads. Declared before the broker, which must not
  // outlive it.
  ferry::ThreadPoolExecutor delivery_threads(4);
  options.executor = &delivery_threads;
  std::unique_ptr<ferry::Backend> backend;
#ifdef FERRY_HAVE_ROCKSDB
  if (!data_dir.empty()) {
    ferry::RocksDbBackendOptions rocksdb_options;
    rocksdb_options.path = data_dir;
    absl::StatusOr<std::unique_ptr<ferry::Backend>> opened =
        ferry::OpenRocksDbBackend(rocksdb_options);
    if (!opened.ok()) {
      std::cerr << "ferry serve: cannot open " << data_dir << ": "
                << opened.status() << "\n";
      return 1;
    }
    backend = *std::move(opened);
  }
#endif
  if (backend == nullptr) backend = ferry::NewMemoryBackend();
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
      ferry::Broker::Open(options, std::move(backend));
  if (!broker.ok()) {
    std::cerr << "ferry serve: cannot open a broker: " << broker.status()
              << "\n";
    return 1;
  }
  absl::StatusOr<std::shared_ptr<ferry::HttpTransport>> transport =
      ferry::MakeHttpTransport({.verify_peer = !insecure_https});
  if (!transport.ok()) {
    std::cerr << "ferry serve: " << transport.status().message() << "\n";
    return 1;
  }
  (*broker)->sns().SetHttpTransport(*transport);
  auto provision = [&config, &config_path](ferry::Broker& b) -> absl::Status {
    if (config.empty()) return absl::OkStatus();
    absl::StatusOr<ferry::ProvisionResult> created =
        ferry::Provision(b, config);
    if (!created.ok()) return created.status();
    std::cerr << "ferry serve: " << config_path << ": "
              << created->queues.size() << " queue(s), "
              << created->topics.size() << " topic(s), "
              << created->subscriptions.size() << " subscription(s), "
              << created->streams.size() << " stream(s) provisioned\n";
    return absl::OkStatus();
  };
  if (absl::Status s = provision(**broker); !s.ok()) {
    std::cerr << "ferry serve: --config " << config_path << ": " << s.message()
              << "\n";
    return 1;
  }
  ferry::GatewayOptions gateway_options;
  gateway_options.host = host;
  gateway_options.port = static_cast<uint16_t>(port);
  gateway_options.admin_endpoints = admin;
  gateway_options.record_requests = admin;
  gateway_options.max_recorded_requests = 10000;
  gateway_options.manual_clock = clock.get();
  gateway_options.on_reset = provision;
  for (const std::vector<std::string>& c : credentials) {
    gateway_options.credentials.push_back(
        {.access_key_id = c[0],
         .secret_access_key = c[1],
         .account = c.size() > 2 ? c[2] : ""});
  }
  ferry::Gateway gateway(**broker, gateway_options);
  absl::StatusOr<std::string> url = gateway.Start();
  if (!url.ok()) {
    std::cerr << "ferry serve: " << url.status().message() << "\n";
    return 1;
  }
  std::cout << *url << std::endl;
  std::cerr << "ferry serve: SQS (JSON and Query), SNS (Query) and Kinesis "
               "(JSON 1.1 and CBOR) over HTTP/1.1 and h2c at "
            << *url
            << (data_dir.empty() ? " (in memory" : " (RocksDB in " + data_dir)
            << (strict ? ", strict" : "")
            << (manual_clock ? ", manual clock" : "")
            << (admin ? ", admin endpoints at /_ferry/" : "")
            << (credentials.empty() ? "" : ", signatures verified")
            << "); Ctrl-C stops\n";
  int signal = -1;
  while (signal < 0) {
    const timespec one_second = {1, 0};
    signal = sigtimedwait(&stop_signals, nullptr, &one_second);
    if (signal < 0) (void)(*broker)->RunMaintenance();
  }
  std::cerr << "ferry serve: stopping (signal " << signal << ")\n";
  gateway.Stop();
  delivery_threads.Shutdown();
  return 0;
#endif
}

}  // namespace ferry_tools
