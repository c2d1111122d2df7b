// -----------------------------------------------------------------------------
// File: ferry/memory_backend.h
// -----------------------------------------------------------------------------
//
// The in-memory backend: standard queues keep their ready list in a lock-free
// moodycamel::ConcurrentQueue of 8-byte handles, receipts locate a message by
// slot and generation in O(1), and visibility deadlines live in timing wheels.
// FIFO queues keep a total order per message group. Nothing survives the
// process.
//
// Receipts are 15 printable characters (A-Z a-z 0-9 . _) naming the queue,
// the message's slot and the lease, with check bits; they are the same from
// run to run for the same sequence of operations on one thread.
//
// Thread safety: the backend and its stores are safe for concurrent use from
// any number of threads. Operations on different queues never contend, and
// the send -> receive -> delete path of a standard queue takes no queue-wide
// lock.
// Errors: when `max_bytes` is set, an Append that would exceed it fails with
// kResourceExhausted and stores nothing; messages already accepted are kept.
// Limits: about 16 million queues may be created over the backend's lifetime
// (ids are never reused; beyond that CreateQueue fails with
// kResourceExhausted). A deleted queue's messages are freed at once; its
// emptied bookkeeping (a few KiB) is kept until the backend is destroyed, so
// that concurrent calls never touch freed memory.
#ifndef FERRY_MEMORY_BACKEND_H_
#define FERRY_MEMORY_BACKEND_H_

#include <cstddef>
#include <memory>

#include "ferry/backend.h"
#include "ferry/export.h"

namespace ferry {

struct MemoryBackendOptions {
  // Upper bound on the bytes held by messages (bodies, attributes, ids and
  // per-message overhead, as estimated by the backend). 0 = unbounded.
  size_t max_bytes = 0;
};

FERRY_EXPORT std::unique_ptr<Backend> NewMemoryBackend(
    const MemoryBackendOptions& options = {});

}  // namespace ferry

#endif  // FERRY_MEMORY_BACKEND_H_
