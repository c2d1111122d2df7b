// Per-publish cost of SNS filter-policy matching on one topic with 100, 1,000
// and 10,000 filtered subscriptions: the FilterIndex beside the raw limit it
// is judged against, a loop calling FilterPolicy::Matches on every policy,
// measured in the same run (DESIGN.md principle 6). Goal (issue 4): the index
// at 10,000 subscriptions costs at most 3x what it costs at 100.
//
// Usage:
//   sns_filter_benchmark [--scale=smoke|full] [benchmark flags]
//
//   --scale=full   (default) 100, 1,000 and 10,000 subscriptions.
//   --scale=smoke  100 and 1,000 subscriptions, few messages (ctest runs it).
//
// Policy mix (deterministic seed), for N subscriptions; `c` is a customer id
// drawn from N/4 ids, so a publish matches about the same number of
// subscriptions whatever N is (as with real per-customer subscriptions):
//   50%  {"customer":["c<c>"],"event_type":[two of 8 types]}
//   15%  {"customer":["c<c>","c<c'>"],"price":[{"numeric":[">=",p,"<",p+100]}]}
//   10%  {"customer":["c<c>"],"status":[{"anything-but":["test","cancelled"]}]}
//   10%  {"order_id":[{"prefix":"ord-<c>-"}]}                 (prefix only)
//   10%  {"account":[{"numeric":[">=",1000k,"<",1000(k+1)]}]}  (range only)
//    5%  {"$or":[{"customer":["c<c>"]},{"order_id":[{"prefix":"ord-<c'>-"}]}]}
// Messages carry event_type, customer, status and order_id (String), price
// and account (Number): as attributes (MessageAttributes scope) or as a JSON
// body {"event_type":…,"order":{…}} with the policies nested to match
// (MessageBody scope; the body is parsed once per publish, inside the
// measured time).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_flags.h"
#include "benchmark/benchmark.h"
#include "ferry/message.h"
#include "filter_policy.h"

namespace ferry {
namespace {

using internal::FilterIndex;
using internal::FilterMessage;
using internal::FilterPolicy;
using internal::FilterPolicyScope;

struct Scale {
  const char* name;
  std::vector<int64_t> sizes;
  int messages;  // distinct messages cycled through
};

const Scale kSmoke{"smoke", {100, 1000}, 64};
const Scale kFull{"full", {100, 1000, 10000}, 4096};
const Scale* g_scale = &kFull;

constexpr const char* kEventTypes[] = {
    "order_placed", "order_paid", "order_shipped", "order_cancelled",
    "refund",       "review",     "login",         "test"};
constexpr const char* kStatuses[] = {"ok", "test", "cancelled", "pending"};

// One subscription's policy in MessageAttributes form; `body` nests the
// order fields under "order" for MessageBody scope.
std::string MakePolicy(std::mt19937_64& rng, int64_t n, bool body) {
  auto pick = [&](int64_t m) {
    return static_cast<int64_t>(rng() % static_cast<uint64_t>(m));
  };
  auto order = [&](const std::string& inner) {
    return body ? absl::StrCat(R"("order":{)", inner, "}") : inner;
  };
  const int64_t customers = std::max<int64_t>(n / 4, 1);
  const int64_t kind = pick(100);
  const int64_t c = pick(customers);
  if (kind < 50) {
    return absl::StrCat("{", order(absl::StrCat(R"("customer":["c)", c, "\"]")),
                        R"(,"event_type":[")", kEventTypes[pick(8)], R"(",")",
                        kEventTypes[pick(8)], "\"]}");
  }
  if (kind < 65) {
    const int64_t p = pick(900);
    return absl::StrCat(
        "{",
        order(absl::StrCat(R"("customer":["c)", c, R"(","c)", pick(customers),
                           R"("],"price":[{"numeric":[">=",)", p, R"(,"<",)",
                           p + 100, "]}]")),
        "}");
  }
  if (kind < 75) {
    return absl::StrCat(
        "{", order(absl::StrCat(R"("customer":["c)", c, "\"]")),
        R"(,"status":[{"anything-but":["test","cancelled"]}]})");
  }
  if (kind < 85) {
    return absl::StrCat(
        "{", order(absl::StrCat(R"("order_id":[{"prefix":"ord-)", c, "-\"}]")),
        "}");
  }
  if (kind < 95) {
    const int64_t k = pick(n);
    return absl::StrCat(
        "{",
        order(absl::StrCat(R"("account":[{"numeric":[">=",)", k * 1000,
                           R"(,"<",)", (k + 1) * 1000, "]}]")),
        "}");
  }
  return absl::StrCat(R"({"$or":[{)",
                      order(absl::StrCat(R"("customer":["c)", c, "\"]")), "},{",
                      order(absl::StrCat(R"("order_id":[{"prefix":"ord-)",
                                         pick(customers), "-\"}]")),
                      "}]}");
}

struct Message {
  MessageAttributeMap attributes;
  std::string body;
};

Message MakeMessage(std::mt19937_64& rng, int64_t n, int64_t seq) {
  auto pick = [&](int64_t m) {
    return static_cast<int64_t>(rng() % static_cast<uint64_t>(m));
  };
  const int64_t c = pick(std::max<int64_t>(n / 4, 1));
  const std::string event = kEventTypes[pick(8)];
  const std::string customer = absl::StrCat("c", c);
  const std::string status = kStatuses[pick(4)];
  const std::string order_id = absl::StrCat("ord-", c, "-", seq);
  const std::string price = absl::StrCat(pick(100000) / 100.0);
  const std::string account = absl::StrCat(pick(n * 1000));
  Message m;
  auto put = [&](const char* name, const char* type, const std::string& v) {
    MessageAttributeValue a;
    a.data_type = type;
    a.string_value = v;
    m.attributes[name] = a;
  };
  put("event_type", "String", event);
  put("customer", "String", customer);
  put("status", "String", status);
  put("order_id", "String", order_id);
  put("price", "Number", price);
  put("account", "Number", account);
  m.body = absl::StrCat(
      R"({"event_type":")", event, R"(","status":")", status,
      R"(","order":{"customer":")", customer, R"(","order_id":")", order_id,
      R"(","price":)", price, R"(,"account":)", account,
      R"(,"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}]}})");
  return m;
}

struct Topic {
  std::vector<std::shared_ptr<const FilterPolicy>> policies;
  FilterIndex index;
  std::vector<Message> messages;
};

// Built once per (N, scope) and kept for the loop and index benchmarks.
const Topic& GetTopic(int64_t n, FilterPolicyScope scope) {
  static std::map<std::pair<int64_t, int>, std::unique_ptr<Topic>> topics;
  auto& slot = topics[{n, static_cast<int>(scope)}];
  if (slot != nullptr) return *slot;
  slot = std::make_unique<Topic>();
  const bool body = scope == FilterPolicyScope::kMessageBody;
  std::mt19937_64 rng(20261129 + static_cast<uint64_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const std::string text = MakePolicy(rng, n, body);
    absl::StatusOr<FilterPolicy> p = FilterPolicy::Compile(text, scope);
    if (!p.ok()) {
      std::fprintf(stderr, "bad policy %s: %s\n", text.c_str(),
                   p.status().ToString().c_str());
      std::abort();
    }
    slot->policies.push_back(
        std::make_shared<const FilterPolicy>(*std::move(p)));
    slot->index.Add(static_cast<FilterIndex::Key>(i), slot->policies.back());
  }
  for (int i = 0; i < g_scale->messages; ++i) {
    slot->messages.push_back(MakeMessage(rng, n, i));
  }
  return *slot;
}

template <bool kIndex>
void RunMatch(benchmark::State& state, FilterPolicyScope scope) {
  const int64_t n = state.range(0);
  const Topic& topic = GetTopic(n, scope);
  std::vector<FilterIndex::Key> matched;
  matched.reserve(64);
  size_t next = 0;
  int64_t matches = 0;
  for (auto _ : state) {
    const Message& m = topic.messages[next];
    next = next + 1 == topic.messages.size() ? 0 : next + 1;
    FilterMessage message(m.attributes, m.body);
    matched.clear();
    if constexpr (kIndex) {
      topic.index.Match(message, &matched);
    } else {
      for (size_t k = 0; k < topic.policies.size(); ++k) {
        if (topic.policies[k]->Matches(message)) matched.push_back(k);
      }
    }
    matches += static_cast<int64_t>(matched.size());
    benchmark::DoNotOptimize(matched.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["subscriptions"] = static_cast<double>(n);
  state.counters["matches_per_publish"] =
      static_cast<double>(matches) / static_cast<double>(state.iterations());
  state.counters["ns_per_publish"] = benchmark::Counter(
      static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_IndexMatchAttributes(benchmark::State& state) {
  RunMatch<true>(state, FilterPolicyScope::kMessageAttributes);
}
void BM_LoopMatchesAttributes(benchmark::State& state) {
  RunMatch<false>(state, FilterPolicyScope::kMessageAttributes);
}
void BM_IndexMatchBody(benchmark::State& state) {
  RunMatch<true>(state, FilterPolicyScope::kMessageBody);
}
void BM_LoopMatchesBody(benchmark::State& state) {
  RunMatch<false>(state, FilterPolicyScope::kMessageBody);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("subs");
  for (int64_t n : g_scale->sizes) b->Arg(n);
}

// Keeps ns per publish (CPU time per iteration: the machine is shared, so
// wall time would measure the neighbours too) of each instance.
class CollectingReporter : public benchmark::BenchmarkReporter {
 public:
  explicit CollectingReporter(benchmark::BenchmarkReporter* display)
      : display_(display) {}
  bool ReportContext(const Context& context) override {
    return display_->ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      // Repetitions: the iterations, or only their mean when
      // --benchmark_report_aggregates_only hides the iterations.
      const bool mean =
          run.run_type == Run::RT_Aggregate && run.aggregate_name == "mean";
      if (run.run_type != Run::RT_Iteration && !mean) continue;
      auto& [sum, count] =
          (mean ? means_ : ns_)[run.run_name.function_name][run.run_name.args];
      sum += run.GetAdjustedCPUTime() *
             (run.time_unit == benchmark::kNanosecond    ? 1.0
              : run.time_unit == benchmark::kMicrosecond ? 1e3
              : run.time_unit == benchmark::kMillisecond ? 1e6
                                                         : 1e9);
      ++count;
    }
  }
  void Finalize() override { display_->Finalize(); }

  double Ns(const std::string& function, int64_t n) const {
    for (const auto* map : {&ns_, &means_}) {
      auto f = map->find(function);
      if (f == map->end()) continue;
      auto a = f->second.find(absl::StrCat("subs:", n));
      if (a == f->second.end() || a->second.second == 0) continue;
      return a->second.first / a->second.second;
    }
    return std::nan("");
  }

 private:
  benchmark::BenchmarkReporter* display_;
  std::map<std::string, std::map<std::string, std::pair<double, int>>> ns_;
  std::map<std::string, std::map<std::string, std::pair<double, int>>> means_;
};

void PrintRatios(const CollectingReporter& r) {
  std::printf(
      "\nFilterIndex::Match vs a loop over FilterPolicy::Matches (same run, "
      "--scale=%s; CPU ns per publish, means over repetitions):\n",
      g_scale->name);
  for (const char* scope : {"Attributes", "Body"}) {
    const std::string index = absl::StrCat("BM_IndexMatch", scope);
    const std::string loop = absl::StrCat("BM_LoopMatches", scope);
    const double base = r.Ns(index, g_scale->sizes.front());
    std::printf("  %s scope:\n", scope);
    for (int64_t n : g_scale->sizes) {
      const double i = r.Ns(index, n);
      const double l = r.Ns(loop, n);
      if (std::isnan(i)) {
        std::printf("    %6lld subscriptions: not run\n",
                    static_cast<long long>(n));
        continue;
      }
      std::printf(
          "    %6lld subscriptions: index %9.0f ns (%.2fx of %lld)   loop "
          "%11.0f ns   index saves %.1fx",
          static_cast<long long>(n), i, i / base,
          static_cast<long long>(g_scale->sizes.front()), l, l / i);
      if (n == g_scale->sizes.back() && n >= 100 * g_scale->sizes.front()) {
        std::printf("   goal <= 3x: %s", i / base <= 3.0 ? "met" : "NOT MET");
      }
      std::printf("\n");
    }
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace ferry

int main(int argc, char** argv) {
  bool full = true;
  if (!ferry::bench::ParseBenchFlags(&argc, argv, &full)) return 2;
  ferry::g_scale = full ? &ferry::kFull : &ferry::kSmoke;
  using ferry::Sizes;
  benchmark::RegisterBenchmark("BM_IndexMatchAttributes",
                               ferry::BM_IndexMatchAttributes)
      ->Apply(Sizes);
  benchmark::RegisterBenchmark("BM_LoopMatchesAttributes",
                               ferry::BM_LoopMatchesAttributes)
      ->Apply(Sizes);
  benchmark::RegisterBenchmark("BM_IndexMatchBody", ferry::BM_IndexMatchBody)
      ->Apply(Sizes);
  benchmark::RegisterBenchmark("BM_LoopMatchesBody", ferry::BM_LoopMatchesBody)
      ->Apply(Sizes);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("ferry_scale", ferry::g_scale->name);
  std::unique_ptr<benchmark::BenchmarkReporter> display(
      benchmark::CreateDefaultDisplayReporter());
  ferry::CollectingReporter reporter(display.get());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  ferry::PrintRatios(reporter);
  benchmark::Shutdown();
  return 0;
}
