// SNS message signing (issue 4 "Benchmarks"): signed JSON envelopes per
// second beside the raw limit measured in the same run, OpenSSL RSA signs per
// second with the same key size (2048 bits) over a string of the same size as
// the envelope's string to sign (DESIGN.md principle 6).
//
// Usage:
//   sns_signing_benchmark [--scale=smoke|full] [benchmark flags]
//   (the scale changes nothing here; ctest runs --scale=smoke)
//
// Benchmarks:
//   BM_Raw_RsaSign/1        EVP_DigestSign, SHA1withRSA, 2048-bit key: the
//                           raw limit of SignatureVersion 1
//   BM_Raw_RsaSign/2        the same with SHA256withRSA (SignatureVersion 2)
//   BM_Envelope_Publish/1   Publish to a topic with one non-raw SQS
//                           subscription: each publish builds, signs (v1)
//                           and enqueues one envelope; the queue is purged
//                           every 4,096 publishes with timing paused
//   BM_Envelope_Publish/2   the same with the topic's SignatureVersion 2
//   BM_Envelope_Publish/0   the same with signing off (Sns::SetMessageSigning):
//                           what an envelope costs without its signature
// items_per_second is signatures (raw) or signed envelopes (publishes) per
// second; envelope rate / raw rate is how close ferry gets to OpenSSL.

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench_flags.h"
#include "bench_support.h"
#include "benchmark/benchmark.h"
#include "ferry/broker.h"
#include "ferry/memory_backend.h"
#include "ferry/sns.h"
#include "ferry/topic.h"

namespace ferry {
namespace {

constexpr int kPurgeEvery = 4096;

// A Notification's string to sign (sns.md §3.6) for a 64-byte message: the
// size the envelope benchmark signs.
std::string StringToSign() {
  return absl::StrCat(
      "Message\n", std::string(64, 'x'),
      "\nMessageId\n0d0b3a7c-4f5e-4a43-9a4c-6f1e2d3c4b5a\nTimestamp\n"
      "2026-11-29T12:00:00.000Z\nTopicArn\n"
      "arn:aws:sns:us-east-1:000000000000:events\nType\nNotification\n");
}

void BM_Raw_RsaSign(benchmark::State& state) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  const EVP_MD* md = state.range(0) == 2 ? EVP_sha256() : EVP_sha1();
  const std::string text = StringToSign();
  unsigned char sig[512];
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  for (auto _ : state) {
    size_t len = sizeof(sig);
    if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) != 1 ||
        EVP_DigestSign(ctx, sig, &len,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       text.size()) != 1) {
      state.SkipWithError("EVP_DigestSign failed");
      break;
    }
    benchmark::DoNotOptimize(sig);
    EVP_MD_CTX_reset(ctx);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_signed"] = static_cast<double>(text.size());
}

void BM_Envelope_Publish(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  std::unique_ptr<Broker> broker = *Broker::Open({}, NewMemoryBackend());
  broker->sns().SetMessageSigning(version != 0);
  Topic topic = *broker->CreateTopic("events");
  if (version == 2) {
    absl::Status s = broker->sns().SetTopicAttributes(
        {}, {.topic_arn = topic.arn(),
             .attribute_name = "SignatureVersion",
             .attribute_value = "2"});
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  Queue q = *broker->CreateQueue("inbox");
  absl::StatusOr<std::string> sub = topic.Subscribe(q, {});
  if (!sub.ok()) {
    state.SkipWithError(sub.status().ToString().c_str());
    return;
  }
  const std::string body(64, 'x');
  int64_t n = 0;
  for (auto _ : state) {
    absl::StatusOr<PublishResult> r = topic.Publish(body);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    if (++n % kPurgeEvery == 0) {
      state.PauseTiming();
      (void)q.Purge();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  TopicStats s = *topic.Stats();
  state.counters["envelopes_per_publish"] =
      static_cast<double>(s.delivered_to_queues) /
      static_cast<double>(std::max<int64_t>(s.published, 1));
}

BENCHMARK(BM_Raw_RsaSign)->Arg(1)->Arg(2);
BENCHMARK(BM_Envelope_Publish)->Arg(1)->Arg(2)->Arg(0);

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  bool full = true;
  if (!ferry::bench::ParseBenchFlags(&argc, argv, &full)) return 2;
  return ferry::bench::RunBenchmarks(argc, argv, full ? "full" : "smoke",
                                     {{"rsa_key_bits", "2048"}});
}
