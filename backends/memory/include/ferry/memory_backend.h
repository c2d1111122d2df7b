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
// Thread safety: the backend and its stores are safe for concurrent use from
// any number of threads.
// Errors: when `max_bytes` is set, an Append that would exceed it fails with
// kResourceExhausted and stores nothing; messages already accepted are kept.
#ifndef FERRY_MEMORY_BACKEND_H_
#define FERRY_MEMORY_BACKEND_H_

#include <cstddef>
#include <memory>

#include "ferry/backend.h"
#include "ferry/export.h"

namespace ferry {

struct MemoryBackendOptions {
  // Upper bound on the bytes held by messages (bodies, attributes, ids and
  // per-message overhead). 0 = unbounded.
  size_t max_bytes = 0;
};

FERRY_EXPORT std::unique_ptr<Backend> NewMemoryBackend(
    const MemoryBackendOptions& options = {});

}  // namespace ferry

#endif  // FERRY_MEMORY_BACKEND_H_
