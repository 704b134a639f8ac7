// cineyma/env/transport.hpp — byte streams between processes.
//
// The remote and cluster layers speak only to this interface. The real implementation is
// Asio TCP (src/asio/transport.cpp); the simulated one (sim/src/network.cpp) delivers bytes
// between simulated nodes with latency, stalls, resets and partitions. Both give TCP
// semantics: ordered and reliable while connected, and a broken stream reports an error.
//
// Completion contract, for every asynchronous call below: the handler is invoked exactly once,
// never inline inside the initiating call, on an environment thread; it must not block.
// `close()` (or destroying the object) completes pending operations with an error.
#pragma once

#include <cineyma/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace cineyma {

/// Host and port. Under simulation `host` is a node name.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// One connected, bidirectional byte stream.
///
/// Threading: at most one read and one write may be outstanding at a time; calls for one
/// stream must not race with each other (callers serialise them, typically on one actor).
class ByteStream {
 public:
  virtual ~ByteStream() = default;

  /// Reads at least one byte into `into`; completes with the count, or an error (the stream
  /// is then unusable). `into` must stay valid until completion.
  virtual void async_read_some(std::span<std::byte> into,
                               std::function<void(Result<std::size_t>)> done) = 0;

  /// Writes all of `bytes`; completes when written or failed. `bytes` must stay valid until
  /// completion.
  virtual void async_write(std::span<const std::byte> bytes,
                           std::function<void(Result<void>)> done) = 0;

  /// The fast path of a write: writes, on the calling thread and without blocking, as much of
  /// `bytes` as the stream takes at once, and returns how many bytes that was (0: none, now or
  /// ever — the caller then uses `async_write`, which also reports any error). Synchronous: no
  /// handler, nothing to complete. Any thread; never while an `async_write` is outstanding or
  /// concurrently with another write (it is a write like the others), but it may run
  /// concurrently with a pending read and with `close()`.
  ///
  /// Why it exists: a request or an answer to an idle socket then leaves at once, without a
  /// wake-up of the transport's thread (src/asio/transport.hpp). The default writes nothing,
  /// so a transport without such a path (the simulator's) keeps every write on `async_write`.
  virtual std::size_t try_write(std::span<const std::byte> bytes) noexcept {
    static_cast<void>(bytes);
    return 0;
  }

  /// The fast path of a wait for an answer: a thread that is about to block until some bytes
  /// arrive (a plain thread in a remote call's `get()`) reads the stream itself, instead of
  /// sleeping until the transport's thread has read them and woken it. While `keep_going()`
  /// is true (checked before every read attempt and after every completion), it waits for
  /// bytes on the calling thread, for at most `max_wait`, and completes the pending
  /// `async_read_some` *here*: its handler runs on the calling thread, which then is, for
  /// that time, the only thread reading this stream (handlers for one stream still never
  /// overlap). Returns false, having read nothing, when it cannot: no read is pending,
  /// another caller is reading, the transport's thread still is after a short wait, the
  /// stream is closed, or the transport has no such path (the default, and the simulator's: there
  /// every wait goes through the executor, which is what keeps runs replayable). Returns true
  /// once it has stopped reading — then `keep_going()` is false, `max_wait` passed, or the
  /// stream ended — and the transport's thread has taken reading back.
  ///
  /// Threading: any thread that may block, never a transport thread; it may run concurrently
  /// with writes, with `close()` (which makes it return promptly) and with other callers
  /// (only one of them reads).
  virtual bool read_here(const std::function<bool()>& keep_going,
                         std::chrono::nanoseconds max_wait) {
    static_cast<void>(keep_going);
    static_cast<void>(max_wait);
    return false;
  }

  /// Closes both directions; pending operations complete with an error. Idempotent.
  virtual void close() noexcept = 0;

  /// The peer's endpoint as seen by this side.
  virtual Endpoint remote_endpoint() const = 0;
};

/// A listening socket.
class Listener {
 public:
  virtual ~Listener() = default;

  /// Accepts one connection. At most one accept outstanding.
  virtual void async_accept(std::function<void(Result<std::unique_ptr<ByteStream>>)> done) = 0;

  /// The bound endpoint (with the actual port when 0 was requested).
  virtual Endpoint local_endpoint() const = 0;

  /// Stops listening; a pending accept completes with an error. Idempotent.
  virtual void close() noexcept = 0;
};

/// Creates listeners and outgoing connections.
class Transport {
 public:
  virtual ~Transport() = default;

  /// Binds and listens. Any thread; synchronous.
  virtual Result<std::unique_ptr<Listener>> listen(const Endpoint& at) = 0;

  /// Connects to `to`. Any thread; completes as described above.
  virtual void async_connect(const Endpoint& to,
                             std::function<void(Result<std::unique_ptr<ByteStream>>)> done) = 0;
};

}  // namespace cineyma
