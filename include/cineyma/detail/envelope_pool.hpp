// cineyma/detail/envelope_pool.hpp — the allocator of message envelopes.
//
// An envelope is allocated by the sender's thread and freed by the worker that handled it.
// With the general-purpose allocator that pattern is slow (the sender's cache never gets its
// blocks back). The pool gives each thread free lists per size class, and a block freed by
// another thread goes back to its owner through a lock-free list the owner drains in one
// exchange. Blocks above the largest class, and every block under AddressSanitizer (so that it
// still sees use-after-free), go to the global allocator.
//
// Threading: both functions are safe from any thread.
#pragma once

#include <cstddef>

namespace cineyma::detail {

/// Allocates `size` bytes (max_align_t aligned). Throws std::bad_alloc.
void* envelope_alloc(std::size_t size);
/// Frees a block from `envelope_alloc` of the same `size`.
void envelope_free(void* p, std::size_t size) noexcept;

}  // namespace cineyma::detail
