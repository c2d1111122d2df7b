// Keys and records of the RocksDB backend's on-disk format (version 2: version
// 1 plus the "streams" column family of rocksdb_stream_store.h; a version-1
// database is upgraded when opened). This file covers the default family.
//
// Every key starts with a one-byte table tag; integers are big-endian so that
// bytewise key order is numeric order; times are nanoseconds since the epoch
// with the sign bit flipped (InfinitePast / InfiniteFuture at the ends).
//
//   'V'                         -> format version (fixed32)
//   'G'                         -> next queue id (fixed64)
//   'Q' queue                   -> queue record (key, fifo, config, version)
//   'N' queue                   -> next sequence number of the queue
//   'M' queue seq               -> message (written once; SingleDelete)
//   'S' queue seq               -> lease state of a message received at least
//                                  once (receive count, deadline, lease number)
//   'R' queue time seq          -> standard queues: a message never received,
//                                  by the time it becomes visible (written
//                                  once; SingleDelete)
//   'D' queue dedup-key         -> deduplication record (expiry, message id)
//   'K' len32 table key         -> key-value entry (version, value)
//
// Records start with a one-byte record version (1). Decoders return false on
// anything malformed; they never crash (fuzzed).
#ifndef FERRY_BACKENDS_ROCKSDB_SRC_CODEC_H_
#define FERRY_BACKENDS_ROCKSDB_SRC_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "ferry/backend.h"
#include "ferry/message.h"

namespace ferry::rocksdb_internal {

inline constexpr uint32_t kFormatVersion = 2;

inline constexpr char kFormatTag = 'V';
inline constexpr char kNextQueueIdTag = 'G';
inline constexpr char kQueueTag = 'Q';
inline constexpr char kNextSeqTag = 'N';
inline constexpr char kMessageTag = 'M';
inline constexpr char kStateTag = 'S';
inline constexpr char kReadyTag = 'R';
inline constexpr char kDedupTag = 'D';
inline constexpr char kKvTag = 'K';
// The tables holding a queue's messages and their state (keys start with the
// tag, then the queue id): what a purge clears and a queue deletion drops.
inline constexpr char kQueueContentTags[] = {kMessageTag, kStateTag, kReadyTag,
                                             kDedupTag};

void PutFixed32BE(std::string* out, uint32_t v);
void PutFixed64BE(std::string* out, uint64_t v);
uint32_t GetFixed32BE(const char* p);
uint64_t GetFixed64BE(const char* p);

// Order-preserving encoding of a time.
uint64_t OrderedTime(absl::Time t);
absl::Time FromOrderedTime(uint64_t v);

std::string TagKey(char tag);                   // 'V', 'G'
std::string QueueKey(char tag, QueueId queue);  // 'Q', 'N', prefixes
std::string SeqKey(char tag, QueueId queue, uint64_t seq);  // 'M', 'S'
std::string ReadyKey(QueueId queue, uint64_t ordered_time, uint64_t seq);
std::string DedupKey(QueueId queue, std::string_view dedup);
std::string KvKey(std::string_view table, std::string_view key);

// Parses 'M'/'S' keys and 'R' keys; false if malformed.
bool ParseSeqKey(std::string_view key, char tag, QueueId* queue, uint64_t* seq);
bool ParseReadyKey(std::string_view key, QueueId* queue, uint64_t* ordered_time,
                   uint64_t* seq);

// Messages. The two times come first so that counting can skip the rest.
std::string EncodeMessage(const StoredMessage& m);
bool DecodeMessage(std::string_view in, StoredMessage* m);
bool DecodeMessageTimes(std::string_view in, absl::Time* enqueue_time,
                        absl::Time* visible_at);

struct LeaseState {
  int64_t receive_count = 0;
  absl::Time first_receive_time = absl::InfinitePast();
  absl::Time invisible_until = absl::InfinitePast();
  absl::Time last_receive = absl::InfinitePast();
  uint64_t lease_number = 0;
};
std::string EncodeLeaseState(const LeaseState& s);
bool DecodeLeaseState(std::string_view in, LeaseState* s);

std::string EncodeQueueRecord(const QueueRecord& r);
bool DecodeQueueRecord(std::string_view in, QueueRecord* r);

struct DedupRecord {
  absl::Time expires_at{};
  Uuid message_id{};
};
std::string EncodeDedup(const DedupRecord& d);
bool DecodeDedup(std::string_view in, DedupRecord* d);

std::string EncodeKvValue(uint64_t version, std::string_view value);
bool DecodeKvValue(std::string_view in, uint64_t* version, std::string* value);

// "rk<queue>.<seq>.<lease>" in decimal; ParseReceipt is strict.
std::string MakeReceipt(QueueId queue, uint64_t seq, uint64_t lease);
bool ParseReceipt(std::string_view receipt, QueueId* queue, uint64_t* seq,
                  uint64_t* lease);

}  // namespace ferry::rocksdb_internal

#endif  // FERRY_BACKENDS_ROCKSDB_SRC_CODEC_H_
