// src/remote/server.cpp — RemoteServer (contract in server.hpp).
#include <cineyma/remote/server.hpp>

#include <cineyma/assert.hpp>

#include "../core/log.hpp"
#include "connection.hpp"

#include <map>
#include <cineyma/detail/spin_mutex.hpp>

#include <mutex>
#include <utility>

namespace cineyma::remote {

using internal::Connection;

/// The shared state behind a RemoteServer: the connections hold it (as their handler) and it
/// holds them, until each one closes.
struct RemoteServer::Core final : internal::ConnectionHandler,
                                  std::enable_shared_from_this<RemoteServer::Core> {
  Core(Environment& e, ServerOptions o)
      : env(e), options(std::move(o)), node(options.handshake.node_id) {}

  void accept_next();
  void on_accepted(Result<std::unique_ptr<ByteStream>> r);
  void on_established(Connection& c) override;
  void on_envelopes(Connection& c, std::span<Envelope> batch) override;
  void on_envelope(Connection& c, Envelope e);
  void on_closed(Connection& c, std::error_code why, bool was_established) override;

  Environment& env;
  const ServerOptions options;
  LocalNode node;

  mutable cineyma::detail::SpinMutex mutex;
  std::unique_ptr<Listener> listener;
  Endpoint local;
  bool started = false;
  bool stopped = false;
  std::uint64_t next_connection_id = 1;
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  ServerStats stats;
};

namespace {

/// Answers go back on the connection the request came from, if it is still open.
class ConnectionReplyChannel final : public ReplyChannel {
 public:
  ConnectionReplyChannel(std::weak_ptr<Connection> c, std::string node_id)
      : connection_(std::move(c)), node_id_(std::move(node_id)) {}
  void deliver(Envelope answer) noexcept override {
    std::shared_ptr<Connection> c = connection_.lock();
    if (!c) return;
    const std::size_t others = c->in_flight.fetch_sub(1, std::memory_order_relaxed) - 1;
    answer.sender_node = node_id_;
    // The only request in flight on this connection: write the answer from this thread (no
    // wake-up of the io thread). With others in flight, let the io thread coalesce answers.
    Result<std::uint64_t> r = c->send(answer, others == 0);
    if (r.is(Errc::mailbox_full)) {
      // The client sends requests but does not read answers: we would buffer without bound.
      c->close(make_error_code(Errc::mailbox_full));
    }
  }

 private:
  std::weak_ptr<Connection> connection_;
  const std::string node_id_;
};

}  // namespace

void RemoteServer::Core::accept_next() {
  std::lock_guard lock(mutex);
  if (stopped || !listener) return;
  listener->async_accept([self = shared_from_this()](Result<std::unique_ptr<ByteStream>> r) {
    self->on_accepted(std::move(r));
  });
}

void RemoteServer::Core::on_accepted(Result<std::unique_ptr<ByteStream>> r) {
  if (!r) {
    bool was_stopped = false;
    {
      std::lock_guard lock(mutex);
      was_stopped = stopped;
    }
    if (was_stopped) return;
    if (r.error() == std::errc::operation_canceled) {
      // The listener itself was closed under us (a simulated crash closes a node's listeners
      // first): there is nothing left to accept from, so no retry and no alarm.
      cineyma::detail::log(env, spdlog::level::debug,
                           "remote server: listener closed; no longer accepting");
      return;
    }
    // Out of descriptors and the like: keep listening, but not in a hot loop (the original
    // spun here, SPEC-original §9.2 #23).
    cineyma::detail::log(env, spdlog::level::err,
                         "remote server: accept failed: {}; retrying in 100ms",
                         r.error().message());
    static_cast<void>(env.clock().schedule_after(std::chrono::milliseconds(100),
                               [weak = weak_from_this()] {
                                 if (auto self = weak.lock()) self->accept_next();
                               }));
    return;
  }
  std::unique_ptr<ByteStream> stream = std::move(*r);
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mutex);
    if (stopped) return;  // the stream closes as it goes out of scope
    ++stats.accepted;
    if (connections.size() >= options.max_connections) {
      ++stats.refused;
      const Endpoint peer = stream->remote_endpoint();
      cineyma::detail::log(env, spdlog::level::warn,
                  "remote server: refusing connection from {}:{}: {} connections open (max {})",
                  peer.host, peer.port, connections.size(), options.max_connections);
      stream->close();
    } else {
      internal::ConnectionOptions o;
      o.role = Handshake::Role::server;
      o.handshake = options.handshake;
      o.max_frame_bytes = options.max_frame_bytes;
      o.handshake_timeout = options.handshake_timeout;
      o.max_outbound_bytes = options.max_outbound_bytes;
      const std::uint64_t id = next_connection_id++;
      connection = std::make_shared<Connection>(env, std::move(stream), std::move(o),
                                                shared_from_this(), id);
      connection->reply_channel =
          std::make_shared<ConnectionReplyChannel>(connection, options.handshake.node_id);
      connections.emplace(id, connection);
      stats.open_connections = connections.size();
    }
  }
  if (connection) connection->start();
  accept_next();
}

void RemoteServer::Core::on_established(Connection& c) {
  std::lock_guard lock(mutex);
  ++stats.established;
  static_cast<void>(c);
}

void RemoteServer::Core::on_envelopes(Connection& c, std::span<Envelope> batch) {
  std::size_t requests = 0;
  for (const Envelope& e : batch) {
    requests += e.kind == EnvelopeKind::request || e.kind == EnvelopeKind::one_way ? 1 : 0;
  }
  if (requests > 0) {
    std::lock_guard lock(mutex);  // once per read, not per frame
    stats.requests += requests;
  }
  // A lone request on a connection with nothing else in flight is a caller waiting on one
  // round trip: its handler may run right here (ServerOptions::inline_dispatch). Several
  // requests in one read are pipelined traffic, which the workers handle in parallel.
  const bool lone = options.inline_dispatch && batch.size() == 1 &&
                    c.in_flight.load(std::memory_order_relaxed) == 0;
  detail::InlineDispatchScope inline_scope(lone);
  for (Envelope& e : batch) on_envelope(c, std::move(e));
}

void RemoteServer::Core::on_envelope(Connection& c, Envelope e) {
  if (e.kind == EnvelopeKind::ping) {
    // Answered here, on the transport thread, whatever the actors are doing: the client
    // asks whether the connection is alive, not whether its calls are done.
    Envelope pong;
    pong.kind = EnvelopeKind::pong;
    pong.correlation_id = e.correlation_id;
    pong.sender_node = options.handshake.node_id;
    static_cast<void>(c.send(pong));
    return;
  }
  if (e.kind != EnvelopeKind::request && e.kind != EnvelopeKind::one_way) {
    // This server asks nothing of its clients: an answer here is a confused peer.
    cineyma::detail::log(env, spdlog::level::debug,
                "remote server: ignoring a {} from node '{}' (correlation id {})",
                to_string(e.kind), c.peer().node_id, e.correlation_id);
    return;
  }
  // The sender is who the handshake authenticated, whatever the envelope claims.
  e.sender_node = c.peer().node_id;
  if (e.kind == EnvelopeKind::one_way) {
    node.dispatch(std::move(e), Reply());
    return;
  }
  const std::size_t in_flight = c.in_flight.fetch_add(1, std::memory_order_relaxed) + 1;
  Reply reply(c.reply_channel, e.correlation_id);
  if (in_flight > options.max_in_flight_per_connection) {
    reply.fail(Errc::mailbox_full, "too many requests in flight on this connection");
    return;
  }
  node.dispatch(std::move(e), std::move(reply));
}

void RemoteServer::Core::on_closed(Connection& c, std::error_code why, bool was_established) {
  std::shared_ptr<Connection> keep;  // destroyed after the lock is released
  {
    std::lock_guard lock(mutex);
    auto it = connections.find(c.id());
    if (it != connections.end()) {
      keep = std::move(it->second);
      connections.erase(it);
    }
    stats.open_connections = connections.size();
    // A peer that leaves after a completed handshake is no error; anything else is.
    const bool peer_left = why == make_error_code(Errc::disconnected) && was_established;
    if (!peer_left && !stopped) {
      ++stats.closed_with_error;
      if (why == make_error_code(Errc::timeout)) ++stats.handshake_timeouts;
      if (why == make_error_code(Errc::auth_failed)) ++stats.auth_failures;
      if (why == make_error_code(Errc::frame_too_large)) ++stats.oversized_frames;
      if (why == make_error_code(Errc::decode_error) ||
          why == make_error_code(Errc::invalid_argument)) {
        ++stats.protocol_errors;
      }
      if (why == make_error_code(Errc::mailbox_full)) {
        ++stats.slow_consumers;
        cineyma::detail::log(env, spdlog::level::warn,
                             "remote server: closed connection {} from node '{}': it does not "
                             "read its answers (more than {} bytes queued)",
                             c.id(), c.peer().node_id, options.max_outbound_bytes);
      }
    }
  }
}

RemoteServer::RemoteServer(Environment& env, ServerOptions options)
    : core_(std::make_shared<Core>(env, std::move(options))) {
  CINEYMA_ASSERT(core_->options.max_frame_bytes <= kLargestMaxFrameBytes);
  CINEYMA_ASSERT(core_->options.max_connections > 0);
}

RemoteServer::~RemoteServer() { shutdown(); }

Result<void> RemoteServer::expose(std::string actor_name, MessageRouter router) {
  return core_->node.expose(std::move(actor_name), std::move(router));
}

LocalNode& RemoteServer::node() noexcept { return core_->node; }

Result<Endpoint> RemoteServer::start() {
  Result<std::unique_ptr<Listener>> listener = core_->env.transport().listen(
      core_->options.listen_at);
  if (!listener) {
    cineyma::detail::log(core_->env, spdlog::level::err,
                         "remote server: cannot listen on {}:{}: {}",
                         core_->options.listen_at.host, core_->options.listen_at.port,
                         listener.error().message());
    return fail(listener.error());
  }
  Endpoint at;
  {
    std::lock_guard lock(core_->mutex);
    CINEYMA_ASSERT_MSG(!core_->started, "RemoteServer::start called twice");
    if (core_->stopped) return fail(Errc::actor_stopped);
    core_->started = true;
    core_->listener = std::move(*listener);
    core_->local = core_->listener->local_endpoint();
    at = core_->local;
  }
  cineyma::detail::log(core_->env, spdlog::level::info,
                       "remote server: node '{}' listening on {}:{}",
                       core_->options.handshake.node_id, at.host, at.port);
  core_->accept_next();
  return at;
}

Endpoint RemoteServer::local_endpoint() const {
  std::lock_guard lock(core_->mutex);
  return core_->local;
}

void RemoteServer::shutdown() noexcept {
  std::map<std::uint64_t, std::shared_ptr<Connection>> connections;
  {
    std::lock_guard lock(core_->mutex);
    if (core_->stopped) return;
    core_->stopped = true;
    if (core_->listener) core_->listener->close();
    connections = core_->connections;  // closing calls on_closed, which takes the lock
  }
  for (auto& [id, c] : connections) c->close(make_error_code(Errc::disconnected));
}

ServerStats RemoteServer::stats() const {
  std::lock_guard lock(core_->mutex);
  return core_->stats;
}

}  // namespace cineyma::remote
