// src/asio/transport.hpp — TCP byte streams over Asio.
//
// Every socket and acceptor is touched only on the io thread (see io_thread.hpp): each call
// posts its work there. That makes every call safe from any thread (including `close()`
// racing a pending read), and it is also what keeps the completion contract of
// cineyma/env/transport.hpp — handlers run on the io thread, exactly once, never inline.
// The one exception is the fast write path, `try_write`: a non-blocking send(2) on the
// socket's descriptor from the calling thread, so that a request or an answer to an idle
// socket leaves without waking the io thread (that wake-up and the one back were most of a
// remote round trip's cost over a raw socket ping-pong). It touches no Asio object — only the
// descriptor, under a lock that the io thread takes to close it — and the connection above
// calls it only when no other write is in progress, so bytes never interleave. A caller's
// reads (below) are guarded the same way: the descriptor is closed only once no thread is in
// a system call on it.
//
// On the streams we connect, reading is ours, not Asio's: the io thread keeps one
// `async_wait` for readability on each and, when it completes, reads the pending read's bytes
// with recv(2) itself. (Accepted streams, which no caller blocks on, read through Asio's
// async_read_some: no caller ever waits on a server's side of a connection.) That is
// what lets a thread blocked on an answer read its own socket (`read_here`): a stream has one
// reader at a time — nobody, the io thread, or one caller — chosen under a lock, and a wait
// that completes while a caller reads only tells it (`missed`) that it must try once more
// before it hands reading back. The caller thus spins on recv(2) where it used to spin on a
// flag set by the io thread, and the io thread's wake-up, read and hand-over leave the
// critical path of a blocking remote call.
//
// Pending operations keep their socket alive through a shared state, so destroying a
// stream or listener is just `close()`: its pending operations complete with an error.
//
// Error mapping (`map_transport_error`), chosen so that callers branch on one code for "this
// connection is gone", and keep the OS's code wherever the cause is worth telling apart:
//   eof, connection_reset, connection_aborted, broken_pipe, shut_down, not_connected,
//   operation_aborted (our own close), bad_descriptor (used after close)
//                                   -> cineyma::Errc::disconnected
//   a host that is not a numeric IPv4/IPv6 address
//                                   -> cineyma::Errc::invalid_argument (no DNS: resolving
//                                      would block, and nothing in the framework needs it)
//   everything else (connection_refused, timed_out, host/network_unreachable,
//   address_in_use, access_denied, no_descriptors, ...)
//                                   -> the OS's error number, in std::system_category()
//                                      (so it compares equal to std::errc values, e.g.
//                                      std::errc::connection_refused)
//
// Twin of the simulated network in sim/src/network.hpp.
#pragma once

#include <cineyma/env/transport.hpp>

#include "asio_headers.hpp"

#include <functional>
#include <memory>
#include <system_error>

namespace cineyma::real {

/// The mapping documented above. `ec` must be an error.
std::error_code map_transport_error(const std::error_code& ec) noexcept;

class RealTransport final : public Transport {
 public:
  explicit RealTransport(asio::io_context& io) noexcept : io_(io) {}

  /// Binds with SO_REUSEADDR (a restarted node can take its port back while old connections
  /// sit in TIME_WAIT) and listens with the system's maximum backlog. An empty host means
  /// 127.0.0.1: listening on every interface must be asked for explicitly ("0.0.0.0").
  Result<std::unique_ptr<Listener>> listen(const Endpoint& at) override;

  /// No timeout of its own (the OS's connect timeout applies): callers that need a deadline
  /// arm a timer and drop the late stream, which closes it.
  void async_connect(const Endpoint& to,
                     std::function<void(Result<std::unique_ptr<ByteStream>>)> done) override;

 private:
  asio::io_context& io_;
};

}  // namespace cineyma::real
