// src/asio/asio_headers.hpp — the Asio headers src/asio uses, included in one place.
//
// Standalone Asio is header-only, so its non-template implementation (the epoll reactor,
// the scheduler) is compiled inside our translation units. GCC 12's flow-based
// -Wnull-dereference then reports false positives deep inside it (scheduler.ipp, inlined from
// epoll_reactor.ipp, at -O2) although /usr/include is a system directory: middle-end warnings
// in inlined code escape the system-header exemption. Diagnostic pragmas are tied to source
// locations, so silencing the warning around these includes silences it for Asio's code only
// — our own code keeps it. Every file of src/asio includes Asio through here.
#pragma once

// Asio's configuration probes libstdc++'s macros (e.g. _GLIBCXX_HAVE_ALIGNED_ALLOC picks
// aligned_alloc/free over operator new/delete for its handler memory). If a translation unit
// includes Asio before any standard header, the probe sees nothing and that unit compiles
// different inline allocation functions than the others: an ODR violation that pairs
// aligned_alloc with operator delete (AddressSanitizer: alloc-dealloc-mismatch). A standard
// header first makes every unit agree.
#include <cstddef>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif

#include <asio/buffer.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
