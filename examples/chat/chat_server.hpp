// examples/chat/chat_server.hpp — a TCP chat server built from actors.
//
//   cineyma::ActorSystem system;                                  // or on a simulated node
//   auto server = chat::ChatServer::start(system, {.listen = {"127.0.0.1", 8080}}).value();
//   // clients: `nc 127.0.0.1 8080`
//
// Shape (chat_server.cpp has the details):
// * one `Room` actor owns the members (id -> name, outgoing channel, session address) and is
//   the only place where names and broadcasts are decided, so it needs no locks;
// * one `Session` actor per connection, a child of the room, owns its ByteStream: it turns
//   bytes into lines and lines into messages to the room, and writes what the room sends it;
// * one `Acceptor` actor, also a child of the room, owns the listener.
// All networking goes through the Environment's Transport, so the same server runs on real
// TCP (Asio) and on the simulator's network.
//
// Bounds, so that no client can make the server grow without limit:
// * a line a client sends is at most `max_line_bytes` (longer ones are dropped with a notice);
// * what the room has for one client waits in a channel of `outbox_lines` lines, and what a
//   session has taken from it but not yet written waits in a queue of `max_pending_bytes`.
//   When either is full the client is too slow: it gets `too_slow_line()` and is
//   disconnected (after at most `drain_timeout` for that last line to go out);
// * at most `max_clients` members; the next connection is told the server is full.
// Supervision: sessions and the acceptor are children of the room with the default strategy
// (stop). A session that fails is removed from the room like one that left; the room and the
// other sessions carry on.
#pragma once

#include <cineyma/cineyma.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

/// Knobs of a chat server. Sizes in bytes unless named otherwise.
struct ChatOptions {
  /// Where to listen. Port 0 picks a free port (see `ChatServer::local_endpoint`); an empty
  /// host means 127.0.0.1 (the real transport listens on every interface only when asked
  /// for "0.0.0.0"). Under simulation the host is the node's name.
  cineyma::Endpoint listen{"127.0.0.1", 8080};
  /// Longest line a client may send, '\n' excluded.
  std::size_t max_line_bytes = 1024;
  /// Longest name.
  std::size_t max_name_bytes = 24;
  /// Lines the room may queue for one session before that client counts as too slow.
  std::size_t outbox_lines = 1024;
  /// Bytes one session may hold for its client (taken from the room, not yet written to the
  /// socket) before that client counts as too slow. Must leave room for a full line.
  std::size_t max_pending_bytes = 64 * 1024;
  /// Members at most; further connections are told the server is full and closed.
  std::size_t max_clients = 1000;
  /// How long a leaving client (quit, EOF, too slow, server full) gets for the lines still
  /// queued for it before its connection is closed anyway.
  cineyma::Duration drain_timeout = std::chrono::seconds(5);
  /// Called with one line per event (joins, leaves, renames, disconnections), from the room
  /// actor's thread (one call at a time). Empty: silent.
  std::function<void(std::string_view)> log;
};

/// Counters, readable from any thread while the server runs (relaxed atomics: each value is
/// exact, their combination is not a snapshot).
struct ChatStats {
  std::atomic<std::uint64_t> connections{0};      ///< accepted connections
  std::atomic<std::uint64_t> members{0};          ///< members in the room now
  std::atomic<std::uint64_t> lines_said{0};       ///< chat lines broadcast
  std::atomic<std::uint64_t> overlong_lines{0};   ///< lines dropped for their length
  std::atomic<std::uint64_t> slow_disconnects{0}; ///< clients cut off for being too slow
  std::atomic<std::uint64_t> refused_full{0};     ///< connections refused: server full
  std::atomic<std::uint64_t> sessions_live{0};    ///< session actors not yet stopped
  /// The most bytes any one session has held for its client at once: stays at or below
  /// `ChatOptions::max_pending_bytes` (that is the memory bound, observable).
  std::atomic<std::uint64_t> max_pending_bytes_seen{0};

  /// Raises `max_pending_bytes_seen` to `bytes` if above. Any thread.
  void note_pending(std::uint64_t bytes) noexcept {
    std::uint64_t seen = max_pending_bytes_seen.load(std::memory_order_relaxed);
    while (bytes > seen &&
           !max_pending_bytes_seen.compare_exchange_weak(seen, bytes, std::memory_order_relaxed)) {
    }
  }
};

/// One member, as `ChatServer::members` reports it.
struct MemberInfo {
  std::string name;
  cineyma::ActorId session;  ///< the member's session actor (for fault injection in tests)
  friend bool operator==(const MemberInfo&, const MemberInfo&) = default;
};

class Room;

/// A running chat server: a handle to its room actor plus its counters. Cheap to copy; the
/// server runs until `stop()` or until its actor system shuts down.
class ChatServer {
 public:
  /// Listens on `options.listen` and spawns the room (which spawns the acceptor). Fails with
  /// `invalid_argument` for inconsistent options, or with the transport's error (address in
  /// use, ...). Any thread.
  static cineyma::Result<ChatServer> start(cineyma::ActorSystem& system, ChatOptions options);

  /// The bound endpoint (the real port when port 0 was asked for).
  const cineyma::Endpoint& local_endpoint() const noexcept { return endpoint_; }
  /// The counters. Any thread.
  const ChatStats& stats() const noexcept { return *stats_; }
  /// The members in the order they joined. Blocking: call from a non-actor thread (under
  /// simulation it runs the simulation until the room answers).
  cineyma::Result<std::vector<MemberInfo>> members() const;
  /// Stops listening and disconnects every client (sessions first, then the room). Returns
  /// at once; any thread; idempotent.
  void stop() const noexcept;
  /// True until the room has begun stopping.
  bool is_running() const noexcept;

 private:
  ChatServer(cineyma::Addr<Room> room, cineyma::Endpoint endpoint,
             std::shared_ptr<ChatStats> stats) noexcept;

  cineyma::Addr<Room> room_;
  cineyma::Endpoint endpoint_;
  std::shared_ptr<ChatStats> stats_;
};

}  // namespace chat
