// The mixed workload the crash and power-loss tests run, and the checks they
// make after a crash. The workload reports each acknowledgement (after the
// call returned OK) as one line to a sink; the checker replays those lines
// against what a reopened store holds.
//
// Lines: "S <body>" send acknowledged; "X <body>" delete about to be sent
// (the message may be gone without "D"); "D <body>" delete acknowledged;
// "R <body> <count>" received with that ApproximateReceiveCount; "T <secs>"
// the workload's clock; "K <data>" a stream record acknowledged (PutRecords).
#ifndef FERRY_TESTS_BACKENDS_ROCKSDB_CRASH_WORKLOAD_H_
#define FERRY_TESTS_BACKENDS_ROCKSDB_CRASH_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ferry/backend.h"

namespace ferry_crash {

inline constexpr char kAccount[] = "123456789012";
inline constexpr char kRegion[] = "us-east-1";
inline constexpr char kStandard[] = "crash-std";
inline constexpr char kDeadLetter[] = "crash-dlq";
inline constexpr char kFifo[] = "crash.fifo";
inline constexpr char kStream[] = "crash-stream";

std::string ArnOf(const std::string& name);

// Runs the workload over `backend` until `stop` is set or `max_ops`
// operations have run (per thread). Bodies are unique per `generation`.
// `report` must be thread-safe. Three threads: standard queue (with DLQ
// redrive), FIFO queue, and a Kinesis stream (PutRecords batches).
void RunWorkload(std::unique_ptr<ferry::Backend> backend, int generation,
                 absl::Time start, uint64_t seed, int max_ops,
                 const std::function<void(const std::string&)>& report,
                 const std::atomic<bool>* stop);

// The acknowledgements seen so far, across crashes.
class Ledger {
 public:
  // Applies one report line.
  void Apply(const std::string& line);
  // Checks `backend` (freshly reopened) against the ledger. Empty = ok.
  std::vector<std::string> Check(ferry::Backend& backend) const;
  absl::Time latest() const { return latest_; }
  size_t sends() const { return sent_.size(); }
  size_t deletes() const { return deleted_.size(); }

 private:
  std::set<std::string> sent_;
  std::set<std::string> deleted_;
  std::set<std::string> delete_attempted_;  // may be gone without an ack
  std::map<std::string, int64_t> max_receive_count_;
  std::set<std::string> records_;  // acknowledged stream records
  absl::Time latest_ = absl::FromUnixSeconds(1700000000);
};

}  // namespace ferry_crash

#endif  // FERRY_TESTS_BACKENDS_ROCKSDB_CRASH_WORKLOAD_H_
