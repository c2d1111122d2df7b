// -----------------------------------------------------------------------------
// File: ferry/rocksdb_backend.h
// -----------------------------------------------------------------------------
//
// The RocksDB backend: queues, messages, leases, deduplication keys and the
// key-value table live in one RocksDB database in a directory, so everything
// survives closing the process and reopening the directory (receipt handles
// included). Memory holds the catalog and the leases in flight, never the
// backlog: message bodies stay on disk.
//
// Durability:
//   * kSync (the default): every call that changes state (send, receive,
//     delete, visibility change, purge, queue and key-value changes) returns
//     only after its write-ahead-log record is fsynced, so an acknowledged
//     change survives power loss. Concurrent calls share fsyncs (group
//     commit): a caller that finds a sync in progress waits for the next one,
//     which covers every write made before it started.
//   * kBuffered: writes reach the operating system before a call returns, so
//     they survive the process being killed, but not power loss or a kernel
//     crash (the last few seconds of changes may be lost then).
//
// On-disk format: versioned (kFormatVersion in the database). A directory
// written by an unknown format version is refused with kFailedPrecondition; a
// record that cannot be decoded gives kDataLoss; neither rewrites anything.
// A directory already open (in this or another process) is refused with
// kFailedPrecondition.
//
// Errors: a full disk (ENOSPC) or the `max_disk_bytes` cap gives
// kResourceExhausted on the calls that would add data; deletes, purges and
// queue deletions still work so space can be reclaimed, and the backend
// resumes once space returns. Other I/O failures give kUnavailable.
//
// Space: Purge and DeleteQueue compact the queue's key ranges before they
// return, so the disk space of the removed messages is back by then (range
// tombstones alone would keep it until RocksDB happened to compact there).
// That takes time proportional to the data removed: a purge of 10 million
// messages took over a minute on a loaded VM (bench/RESULTS.md). Other calls
// proceed meanwhile.
//
// Thread safety: safe for concurrent use from any number of threads. State
// changes are applied under one mutex (short: a RocksDB memtable write); the
// fsync that makes them durable happens outside it.
#ifndef FERRY_ROCKSDB_BACKEND_H_
#define FERRY_ROCKSDB_BACKEND_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ferry/backend.h"
#include "ferry/export.h"

namespace ferry {

enum class RocksDbDurability {
  kSync,      // acknowledged changes survive power loss (fsync, group commit)
  kBuffered,  // acknowledged changes survive a process crash
};

struct RocksDbBackendOptions {
  // The database directory; created (with missing parents' last component)
  // if it does not exist.
  std::string path{};
  RocksDbDurability durability = RocksDbDurability::kSync;
  // Refuse (kResourceExhausted) sends and queue creation while the database
  // files exceed this many bytes. 0 = no cap (the disk is the limit).
  uint64_t max_disk_bytes = 0;
  // RocksDB tuning: the memtable size (per memtable, at most 2) and the block
  // cache. Small values keep memory small; larger ones help deep queues.
  size_t write_buffer_bytes = 16 << 20;
  size_t block_cache_bytes = 16 << 20;
  // Testing: keep the database files in memory (nothing survives the
  // backend; fsyncs cost nothing). The conformance suite runs this way.
  bool in_memory = false;
  // Testing: a `rocksdb::Env*` to run on (e.g. one that simulates power loss
  // or a full disk); it must outlive the backend. nullptr = the default Env.
  void* rocksdb_env = nullptr;
};

// Opens (or creates) the database at `options.path`.
// kFailedPrecondition: unknown format version, or the directory is in use.
// kDataLoss: corrupt records. kUnavailable: other I/O errors.
FERRY_EXPORT absl::StatusOr<std::unique_ptr<Backend>> OpenRocksDbBackend(
    const RocksDbBackendOptions& options);

}  // namespace ferry

#endif  // FERRY_ROCKSDB_BACKEND_H_
