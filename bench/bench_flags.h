// The flags every ferry benchmark takes besides Google Benchmark's own:
// --scale=smoke|full (ctest runs each benchmark at smoke scale; full is the
// real measurement, bench/RESULTS.md) and any flags of the benchmark's own.
// They are parsed out of argv before benchmark::Initialize sees it.
//
// Thread safety: call once from main before any benchmark runs.
// Errors: a bad value prints what is expected and makes the parse fail.
#ifndef FERRY_BENCH_BENCH_FLAGS_H_
#define FERRY_BENCH_BENCH_FLAGS_H_

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string_view>

namespace ferry::bench {

// One flag of a benchmark's own: `--<name>=<value>`. `set` returns false when
// the value is bad, after printing why.
struct OwnFlag {
  std::string_view name;
  std::function<bool(std::string_view value)> set;
};

// Removes --scale= and the `own` flags from argv, setting *full_scale (true
// unless --scale=smoke). Returns false on a bad value.
inline bool ParseBenchFlags(int* argc, char** argv, bool* full_scale,
                            std::initializer_list<OwnFlag> own = {}) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--scale=")) {
      std::string_view value = arg.substr(8);
      if (value != "smoke" && value != "full") {
        std::fprintf(stderr, "--scale must be smoke or full\n");
        return false;
      }
      *full_scale = value == "full";
      continue;
    }
    const OwnFlag* matched = nullptr;
    for (const OwnFlag& flag : own) {
      if (arg.starts_with("--") && arg.substr(2).starts_with(flag.name) &&
          arg.substr(2 + flag.name.size()).starts_with("=")) {
        matched = &flag;
        break;
      }
    }
    if (matched == nullptr) {
      argv[out++] = argv[i];
      continue;
    }
    if (!matched->set(arg.substr(3 + matched->name.size()))) return false;
  }
  *argc = out;
  argv[out] = nullptr;
  return true;
}

}  // namespace ferry::bench

#endif  // FERRY_BENCH_BENCH_FLAGS_H_
