// libFuzzer target for the RocksDB backend's on-disk codecs: every decoder
// must reject or accept any input without crashing, and what it accepts must
// encode back to the same bytes (records) or the same fields (receipts).
// Built with clang only (-fsanitize=fuzzer); ctest runs it briefly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec.h"

namespace rc = ferry::rocksdb_internal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  {
    ferry::StoredMessage m;
    if (rc::DecodeMessage(in, &m)) {
      // Times saturate and attributes are a map, so compare re-encodings.
      std::string again = rc::EncodeMessage(m);
      ferry::StoredMessage m2;
      if (!rc::DecodeMessage(again, &m2) || rc::EncodeMessage(m2) != again) {
        std::abort();
      }
    }
    absl::Time a, b;
    (void)rc::DecodeMessageTimes(in, &a, &b);
  }
  {
    rc::LeaseState s;
    if (rc::DecodeLeaseState(in, &s)) {
      rc::LeaseState s2;
      if (!rc::DecodeLeaseState(rc::EncodeLeaseState(s), &s2) ||
          s2.lease_number != s.lease_number ||
          s2.receive_count != s.receive_count) {
        std::abort();
      }
    }
  }
  {
    ferry::QueueRecord q;
    if (rc::DecodeQueueRecord(in, &q)) {
      ferry::QueueRecord q2;
      if (!rc::DecodeQueueRecord(rc::EncodeQueueRecord(q), &q2) ||
          q2.key != q.key || q2.config != q.config) {
        std::abort();
      }
    }
  }
  {
    rc::DedupRecord d;
    (void)rc::DecodeDedup(in, &d);
    uint64_t version;
    std::string value;
    (void)rc::DecodeKvValue(in, &version, &value);
  }
  {
    ferry::QueueId q;
    uint64_t seq, lease;
    if (rc::ParseReceipt(in, &q, &seq, &lease) &&
        rc::MakeReceipt(q, seq, lease) != in) {
      std::abort();
    }
    uint64_t t;
    (void)rc::ParseSeqKey(in, rc::kMessageTag, &q, &seq);
    (void)rc::ParseReadyKey(in, &q, &t, &seq);
  }
  return 0;
}
