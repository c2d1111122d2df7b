// The `ferry` command-line program.
//
//   ferry demo      a short transcript of SQS semantics on the in-memory
//                   backend: send, receive, delete, a poison message reaching
//                   its dead-letter queue, queue attributes
//   ferry version   prints the version
//   ferry help      prints the usage
//   ferry serve     the AWS wire gateway over an in-memory broker (serve.cc)
//   ferry admin     the /_ferry/ test-support verbs of a running server
//                   (remote.cc)
//   ferry sqs, ferry sns, ferry kinesis, ferry stats
//                   AWS-CLI-shaped verbs against a running server or a data
//                   directory (verbs.cc)
//
// Exit status: 0 on success, 1 when a command fails, 2 for a usage error or a
// command that is not available yet.
//
// Time: like every ferry user, the demo reads time only through the broker's
// clock (here the real one); it never sleeps. Redelivery is made immediate
// with VisibilityTimeout=0 instead of waiting for a timeout to pass.

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "ferry/broker.h"
#include "ferry/errors.h"
#include "ferry/memory_backend.h"
#include "ferry/message.h"
#include "ferry/sqs.h"
#include "remote.h"
#include "serve.h"
#include "verbs.h"

// The build may pass the project version; this is the fallback.
#ifndef FERRY_VERSION
#define FERRY_VERSION "0.1.0"
#endif

namespace {

constexpr std::string_view kUsage =
    "usage: ferry <command>\n"
    "\n"
    "commands:\n"
    "  demo      run a short SQS walk-through on the in-memory backend:\n"
    "            send, receive, delete, a poison message reaching its\n"
    "            dead-letter queue, queue attributes\n"
    "  version   print the version\n"
    "  help      print this text\n"
    "  serve     serve SQS (JSON, Query) and SNS (Query) over the AWS wire\n"
    "            from an in-memory broker; `ferry serve --help` for options\n"
    "  sqs       list-queues, create-queue, delete-queue, purge-queue,\n"
    "            send-message, receive-message, stats against a running\n"
    "            server or a data directory; `ferry sqs --help`\n"
    "  admin     reset, clock, clock-advance, faults, fault-add,\n"
    "            faults-clear, requests of a `ferry serve --admin`;\n"
    "            `ferry admin --help`\n"
    "  sns       list-topics, create-topic, publish, subscribe against a\n"
    "            running server or a data directory; `ferry sns --help`\n"
    "  kinesis   list-streams, create-stream, describe-stream, put-record,\n"
    "            get-records, tail; `ferry kinesis --help`\n"
    "  stats     queues, topics and streams at a glance\n";

// Returns `s` with "`what`: " in front of its message, keeping its payloads
// (and so the AWS error that GetAwsError reads).
absl::Status Annotate(const absl::Status& s, absl::string_view what) {
  if (s.ok()) return s;
  absl::Status out(s.code(), absl::StrCat(what, ": ", s.message()));
  s.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

// Long opaque strings (receipt handles) shortened for the transcript.
std::string Abbreviate(absl::string_view s, size_t keep = 8) {
  if (s.size() <= keep) return std::string(s);
  return absl::StrCat(s.substr(0, keep), "... (", s.size(), " chars)");
}

std::string Quoted(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// The value of attribute `name`, or "?" if the result lacks it.
std::string Get(const std::map<std::string, std::string>& a,
                const std::string& name) {
  auto it = a.find(name);
  return it == a.end() ? "?" : it->second;
}

std::string FormatAttributes(const std::map<std::string, std::string>& a) {
  if (a.empty()) return "(none)";
  return absl::StrJoin(a, " ", absl::PairFormatter("="));
}

std::string FormatMessageAttributes(const ferry::MessageAttributeMap& a) {
  if (a.empty()) return "(none)";
  std::vector<std::string> parts;
  for (const auto& [name, value] : a) {
    absl::string_view shown = value.data_type.rfind("Binary", 0) == 0
                                  ? absl::string_view("<binary>")
                                  : absl::string_view(value.string_value);
    parts.push_back(absl::StrCat(name, "=", value.data_type, ":", shown));
  }
  return absl::StrJoin(parts, " ");
}

class Demo {
 public:
  explicit Demo(ferry::Broker& broker) : broker_(broker), sqs_(broker.sqs()) {}

  absl::Status Run() {
    std::cout << "ferry demo: SQS semantics in-process (backend: "
              << broker_.backend_name() << ", account 000000000000, region "
              << "us-east-1)\n\n";
    if (absl::Status s = CreateQueues(); !s.ok()) return s;
    if (absl::Status s = SendReceiveDelete(); !s.ok()) return s;
    if (absl::Status s = PoisonMessage(); !s.ok()) return s;
    if (absl::Status s = ShowAttributes(); !s.ok()) return s;
    std::cout << "\ndone.\n";
    return absl::OkStatus();
  }

 private:
  absl::Status CreateQueues() {
    std::cout << "1. Create a dead-letter queue and a queue that redrives to "
                 "it\n";
    absl::StatusOr<ferry::CreateQueueResult> dlq =
        sqs_.CreateQueue(ctx_, {.queue_name = "demo-dlq"});
    if (!dlq.ok()) return Annotate(dlq.status(), "CreateQueue demo-dlq");
    dlq_url_ = dlq->queue_url;
    absl::StatusOr<ferry::GetQueueAttributesResult> arn =
        sqs_.GetQueueAttributes(
            ctx_, {.queue_url = dlq_url_, .attribute_names = {"QueueArn"}});
    if (!arn.ok()) return Annotate(arn.status(), "GetQueueAttributes demo-dlq");
    const std::string dlq_arn = Get(arn->attributes, "QueueArn");
    std::cout << "   CreateQueue demo-dlq -> " << dlq_url_ << "\n"
              << "                           QueueArn " << dlq_arn << "\n";

    const std::string redrive =
        absl::StrCat("{\"deadLetterTargetArn\":\"", dlq_arn,
                     "\",\"maxReceiveCount\":\"", kMaxReceiveCount, "\"}");
    absl::StatusOr<ferry::CreateQueueResult> q = sqs_.CreateQueue(
        ctx_,
        {.queue_name = "demo", .attributes = {{"RedrivePolicy", redrive}}});
    if (!q.ok()) return Annotate(q.status(), "CreateQueue demo");
    url_ = q->queue_url;
    std::cout << "   CreateQueue demo     -> " << url_ << "\n"
              << "                           RedrivePolicy " << redrive
              << "\n\n";
    return absl::OkStatus();
  }

  absl::Status SendReceiveDelete() {
    std::cout << "2. SendMessage x3 (one with message attributes)\n";
    struct Outgoing {
      std::string body;
      ferry::MessageAttributeMap attributes;
    };
    const std::vector<Outgoing> outgoing = {
        {"hello", {}},
        {"order #1001 shipped",
         {{"customer", {.data_type = "String", .string_value = "ada"}},
          {"weight_kg", {.data_type = "Number", .string_value = "2.5"}}}},
        {"goodbye", {}},
    };
    for (const Outgoing& o : outgoing) {
      absl::StatusOr<ferry::SendMessageResult> sent =
          sqs_.SendMessage(ctx_, {.queue_url = url_,
                                  .message_body = o.body,
                                  .message_attributes = o.attributes});
      if (!sent.ok()) return Annotate(sent.status(), "SendMessage");
      std::cout << "   " << Quoted(o.body) << "\n"
                << "     MessageId " << sent->message_id
                << "  MD5OfMessageBody " << sent->md5_of_message_body << "\n";
      if (!sent->md5_of_message_attributes.empty()) {
        std::cout << "     MD5OfMessageAttributes "
                  << sent->md5_of_message_attributes << "\n";
      }
    }

    std::cout << "\n3. ReceiveMessage (MaxNumberOfMessages=10, "
                 "AttributeNames=All, MessageAttributeNames=All)\n";
    absl::StatusOr<ferry::ReceiveMessageResult> received =
        sqs_.ReceiveMessage(ctx_, {.queue_url = url_,
                                   .attribute_names = {"All"},
                                   .message_attribute_names = {"All"},
                                   .max_number_of_messages = 10});
    if (!received.ok()) return Annotate(received.status(), "ReceiveMessage");
    for (const ferry::Message& m : received->messages) {
      std::cout << "   MessageId      " << m.message_id << "\n"
                << "     Body           " << Quoted(m.body) << "\n"
                << "     MD5OfBody      " << m.md5_of_body << "\n"
                << "     Attributes     " << FormatAttributes(m.attributes)
                << "\n"
                << "     MessageAttrs   "
                << FormatMessageAttributes(m.message_attributes) << "\n";
      if (!m.md5_of_message_attributes.empty()) {
        std::cout << "     MD5OfMessageAttributes "
                  << m.md5_of_message_attributes << "\n";
      }
      std::cout << "     ReceiptHandle  " << Abbreviate(m.receipt_handle)
                << "\n";
    }
    if (received->messages.size() != outgoing.size()) {
      return absl::InternalError(absl::StrCat("expected ", outgoing.size(),
                                              " messages, received ",
                                              received->messages.size()));
    }

    std::cout << "\n4. DeleteMessage each, by its receipt handle\n";
    for (const ferry::Message& m : received->messages) {
      absl::Status deleted = sqs_.DeleteMessage(
          ctx_, {.queue_url = url_, .receipt_handle = m.receipt_handle});
      if (!deleted.ok()) return Annotate(deleted, "DeleteMessage");
      std::cout << "   deleted " << m.message_id << "\n";
    }
    std::cout << "\n";
    return absl::OkStatus();
  }

  absl::Status PoisonMessage() {
    std::cout << "5. A poison message: received but never deleted "
                 "(maxReceiveCount="
              << kMaxReceiveCount << ")\n";
    absl::StatusOr<ferry::SendMessageResult> sent = sqs_.SendMessage(
        ctx_, {.queue_url = url_, .message_body = "poison: cannot parse"});
    if (!sent.ok()) return Annotate(sent.status(), "SendMessage poison");
    std::cout << "   SendMessage " << Quoted("poison: cannot parse")
              << " -> MessageId " << sent->message_id << "\n";

    // VisibilityTimeout=0 makes the message visible again at once, as if its
    // timeout had ended: each receive without a delete is a failed attempt.
    for (int attempt = 1; attempt <= kMaxReceiveCount + 1; ++attempt) {
      absl::StatusOr<ferry::ReceiveMessageResult> r = sqs_.ReceiveMessage(
          ctx_, {.queue_url = url_,
                 .attribute_names = {"ApproximateReceiveCount"},
                 .visibility_timeout = 0});
      if (!r.ok()) return Annotate(r.status(), "ReceiveMessage poison");
      std::cout << "   receive #" << attempt << " (VisibilityTimeout=0): ";
      if (r->messages.empty()) {
        std::cout << "nothing; a further receive would exceed "
                     "maxReceiveCount, so the message moved to demo-dlq\n";
        break;
      }
      const ferry::Message& m = r->messages.front();
      std::cout << Quoted(m.body) << " ApproximateReceiveCount="
                << Get(m.attributes, "ApproximateReceiveCount")
                << ", not deleted\n";
      if (attempt > kMaxReceiveCount) {
        return absl::InternalError(
            "the poison message was returned more than maxReceiveCount times");
      }
    }

    absl::StatusOr<ferry::ReceiveMessageResult> dead = sqs_.ReceiveMessage(
        ctx_, {.queue_url = dlq_url_,
               .attribute_names = {"ApproximateReceiveCount",
                                   "DeadLetterQueueSourceArn"},
               .visibility_timeout = 0});
    if (!dead.ok()) return Annotate(dead.status(), "ReceiveMessage demo-dlq");
    if (dead->messages.size() != 1 ||
        dead->messages.front().message_id != sent->message_id) {
      return absl::InternalError("the poison message is not in demo-dlq");
    }
    const ferry::Message& m = dead->messages.front();
    std::cout << "   demo-dlq: " << Quoted(m.body) << " MessageId "
              << m.message_id << " (same id)\n"
              << "     " << FormatAttributes(m.attributes) << "\n\n";
    return absl::OkStatus();
  }

  absl::Status ShowAttributes() {
    std::cout << "6. GetQueueAttributes\n";
    for (const std::string& url : {url_, dlq_url_}) {
      absl::StatusOr<ferry::GetQueueAttributesResult> a =
          sqs_.GetQueueAttributes(
              ctx_, {.queue_url = url,
                     .attribute_names = {
                         "ApproximateNumberOfMessages",
                         "ApproximateNumberOfMessagesNotVisible",
                         "ApproximateNumberOfMessagesDelayed",
                         "VisibilityTimeout", "MessageRetentionPeriod"}});
      if (!a.ok()) return Annotate(a.status(), "GetQueueAttributes");
      std::cout << "   " << url << "\n";
      for (const auto& [name, value] : a->attributes) {
        std::cout << "     " << name << " = " << value << "\n";
      }
    }
    return absl::OkStatus();
  }

  static constexpr int kMaxReceiveCount = 2;

  ferry::Broker& broker_;
  ferry::Sqs& sqs_;
  // The broker's defaults: account 000000000000, region us-east-1, AWS URLs.
  const ferry::RequestContext ctx_{};
  std::string url_;
  std::string dlq_url_;
};

int RunDemo() {
  absl::StatusOr<std::unique_ptr<ferry::Broker>> broker =
      ferry::Broker::Open({}, ferry::NewMemoryBackend());
  if (!broker.ok()) {
    std::cerr << "ferry demo: cannot open a broker: " << broker.status()
              << "\n";
    return 1;
  }
  Demo demo(**broker);
  if (absl::Status s = demo.Run(); !s.ok()) {
    std::cerr << "ferry demo: " << absl::StatusCodeToString(s.code()) << ": "
              << s.message() << "\n";
    if (std::optional<ferry::AwsErrorInfo> aws = ferry::GetAwsError(s)) {
      std::cerr << "  AWS error " << aws->shape << " (" << aws->query_code
                << ", HTTP " << aws->http_status << ")\n";
    }
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string_view command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "serve") return ferry_tools::RunServe(argc - 2, argv + 2);
#ifdef FERRY_HAVE_GATEWAY
  if (command == "sqs") return ferry_tools::RunSqs(argc - 2, argv + 2);
  if (command == "admin") return ferry_tools::RunAdmin(argc - 2, argv + 2);
  if (command == "sns") return ferry_tools::RunSns(argc - 2, argv + 2);
  if (command == "kinesis") return ferry_tools::RunKinesis(argc - 2, argv + 2);
  if (command == "stats") return ferry_tools::RunStats(argc - 2, argv + 2);
#endif
  if (argc > 2) {
    std::cerr << "ferry " << command << ": unexpected argument '" << argv[2]
              << "'\n\n"
              << kUsage;
    return 2;
  }
  if (command == "version" || command == "--version") {
    std::cout << "ferry " << FERRY_VERSION << "\n";
    return 0;
  }
  if (command == "demo") return RunDemo();
  std::cerr << "ferry: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
