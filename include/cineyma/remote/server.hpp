// cineyma/remote/server.hpp — `RemoteServer`: exposes local actors to other nodes.
//
//   cineyma::remote::MessageRouter calc;
//   calc.route<proto::Add>(calculator_addr);                 // answered by the actor
//   cineyma::remote::RemoteServer server(env, {.listen_at = {"127.0.0.1", 0},
//                                              .handshake = {.node_id = "node-a"}});
//   server.expose("calc", std::move(calc)).value();
//   Endpoint at = server.start().value();
//
// The server listens on the environment's transport (real TCP or the simulated network),
// authenticates every connection with the handshake (handshake.hpp), then dispatches each
// request to its exposed actor (router.hpp) without waiting for earlier ones: requests on one
// connection are pipelined and answered as they complete. Bad peers are closed with a log
// line that says why (handshake failure or deadline, oversized frame, undecodable envelope,
// too many connections, too many requests in flight) while the others keep being served.
//
// Threading: every member is safe from any thread. Destroying the server shuts it down.
#pragma once

#include <cineyma/env/environment.hpp>
#include <cineyma/remote/framing.hpp>
#include <cineyma/remote/handshake.hpp>
#include <cineyma/remote/router.hpp>
#include <cineyma/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace cineyma::remote {

struct ServerOptions {
  /// Where to listen (port 0: any free port; see `start()`'s result).
  Endpoint listen_at{"127.0.0.1", 0};
  /// This node's identity, cluster and secret (handshake.hpp).
  HandshakeOptions handshake;
  /// Largest frame accepted (and sent).
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  /// A connection that has not completed the handshake by then is closed.
  Duration handshake_timeout = std::chrono::seconds(5);
  /// Connections beyond this are closed as soon as they are accepted.
  std::size_t max_connections = 1024;
  /// Unanswered requests per connection beyond which new ones are answered `mailbox_full`.
  std::size_t max_in_flight_per_connection = 65536;
  /// Bytes of answers queued for a connection that does not read, beyond which it is closed.
  std::size_t max_outbound_bytes = std::size_t{64} << 20;
  /// A lone request (the only one in flight on its connection) to an idle actor is handled on
  /// the transport thread that read it, and answered from there: no hand-off to a worker and
  /// back, which is most of a loopback round trip after the network itself. One message, then
  /// the actor goes back to the workers; requests that arrive together (pipelining) always go
  /// to the workers. While such a handler runs, this server's other connections wait for the
  /// transport thread: turn this off if actors exposed here may take long (more than tens of
  /// microseconds) per request. Needs `RealEnvironmentOptions::inline_blocking_calls` (the
  /// executor's permission to run a task on a thread of its own choosing); the simulator
  /// never runs inline, whatever this says.
  bool inline_dispatch = true;
};

/// Counters, for tests and monitoring (monotonic except `open_connections`).
struct ServerStats {
  std::uint64_t accepted = 0;             ///< connections accepted
  std::uint64_t established = 0;          ///< connections that passed the handshake
  std::uint64_t refused = 0;              ///< closed at accept (max_connections)
  std::uint64_t closed_with_error = 0;    ///< closed for any reason but the peer leaving
  std::uint64_t handshake_timeouts = 0;   ///< ... of which: no handshake within the deadline
  std::uint64_t auth_failures = 0;        ///< ... refused by the handshake (secret, cluster)
  std::uint64_t oversized_frames = 0;     ///< ... announced a frame above max_frame_bytes
  std::uint64_t protocol_errors = 0;      ///< ... undecodable handshake or envelope, version
  std::uint64_t slow_consumers = 0;       ///< ... answers piled up beyond max_outbound_bytes
  std::uint64_t requests = 0;             ///< requests and one-way messages dispatched
  std::size_t open_connections = 0;
};

class RemoteServer {
 public:
  /// `env` must outlive the server.
  RemoteServer(Environment& env, ServerOptions options);
  /// Calls `shutdown()`.
  ~RemoteServer();
  RemoteServer(const RemoteServer&) = delete;
  RemoteServer& operator=(const RemoteServer&) = delete;

  /// Exposes `router` as `actor_name` (before or after start); `already_exists` if taken.
  Result<void> expose(std::string actor_name, MessageRouter router);
  /// The table of exposed actors.
  LocalNode& node() noexcept;

  /// Listens and starts accepting; returns the bound endpoint. Once.
  Result<Endpoint> start();
  /// The bound endpoint (after `start`).
  Endpoint local_endpoint() const;

  /// Stops accepting and closes every connection (their pending answers are dropped; their
  /// clients see the connection close). Idempotent; returns at once: the closes complete on
  /// transport threads (see `stats().open_connections`).
  void shutdown() noexcept;

  ServerStats stats() const;

 private:
  struct Core;  // shared with the connections (src/remote/server.cpp)
  std::shared_ptr<Core> core_;
};

}  // namespace cineyma::remote
