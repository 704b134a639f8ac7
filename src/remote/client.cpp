// src/remote/client.cpp — RemoteClient (contract in client.hpp).
//
// The core is one state machine under one mutex: idle -> connecting -> ready, and back to
// idle / waiting-to-retry when a connection fails or drops. Calls are registered in `pending`
// by correlation id with their own deadline timer. A call made while no connection is ready
// keeps its envelope in `pending` and its id in `waiting`, and is sent when the next
// connection is established. Completions (deliver/fail) are always invoked with the mutex
// released: they wake coroutines or blocked threads, which may call straight back in.
#include <cineyma/remote/client.hpp>

#include <cineyma/assert.hpp>

#include "../core/log.hpp"
#include "connection.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <cineyma/detail/spin_mutex.hpp>

#include <mutex>
#include <utility>
#include <vector>

namespace cineyma::remote {

namespace detail {

using internal::Connection;

namespace {

/// A call reference held by the core (acquired at registration, dropped when it leaves).
struct CallRef {
  PendingCall* call = nullptr;
  explicit CallRef(PendingCall& c) noexcept : call(&c) { c.acquire(); }
  CallRef(CallRef&& o) noexcept : call(std::exchange(o.call, nullptr)) {}
  CallRef& operator=(CallRef&&) = delete;
  ~CallRef() {
    if (call) call->drop();
  }
};

/// Completions collected under the lock, run after it is released — and the write of what
/// was queued on the connection under it, so that the write system call (which, on an idle
/// socket, the calling thread makes itself) does not hold the client's lock.
class Deferred {
 public:
  void flush(std::shared_ptr<Connection> c, bool direct) {
    flush_ = std::move(c);
    flush_direct_ = flush_direct_ || direct;
  }
  void fail(CallRef ref, Errc why, bool from_deadline = false) {
    failures_.push_back(Failure{std::move(ref), why, from_deadline});
  }
  void deliver(CallRef ref, Envelope answer) {
    answers_.push_back(Answer{std::move(ref), std::move(answer)});
  }
  ~Deferred() {
    // The write first: before the lock was split from it, it came before the completions
    // too, and the simulator's order of events stays the same.
    if (flush_) flush_->flush(flush_direct_);
    for (auto& f : failures_) f.ref.call->fail(f.why, f.from_deadline);
    for (auto& a : answers_) a.ref.call->deliver(std::move(a.answer));
  }

 private:
  struct Failure {
    CallRef ref;
    Errc why;
    bool from_deadline;
  };
  struct Answer {
    CallRef ref;
    Envelope answer;
  };
  std::shared_ptr<Connection> flush_;
  bool flush_direct_ = false;
  std::vector<Failure> failures_;
  std::vector<Answer> answers_;
};

/// What a waiter of `connect()` is told: our own codes as they are (timeout, auth_failed,
/// ...); a transport error (refused, unreachable) as `disconnected`, its detail in the log.
Errc connect_errc(std::error_code ec) noexcept {
  if (ec.category() == error_category() && ec.value() != 0) return static_cast<Errc>(ec.value());
  return Errc::disconnected;
}

}  // namespace

struct ClientCore final : internal::ConnectionHandler,
                          std::enable_shared_from_this<ClientCore> {
  ClientCore(Environment& e, ClientOptions o) : env(e), options(std::move(o)) {
    CINEYMA_ASSERT(options.reconnect_delay_min.count() > 0);
    CINEYMA_ASSERT(options.reconnect_delay_max >= options.reconnect_delay_min);
  }

  struct Pending {
    CallRef ref;
    std::optional<Envelope> unsent;  // set while waiting for a connection
    std::uint64_t connection_id = 0;  // the connection it was sent on
    std::uint64_t end_offset = 0;     // that connection's byte count at the end of its frame
    TimePoint deadline{};             // its entry in `deadlines`
    std::uint64_t received_at_send = 0;  // the connection's bytes_received() when sent
  };
  enum class State { idle, connecting, ready, backoff, closed };

  // ConnectionHandler
  void on_established(Connection& c) override;
  void on_envelopes(Connection& c, std::span<Envelope> batch) override;
  void on_closed(Connection& c, std::error_code why, bool was_established) override;

  void call(Envelope request, PendingCall& call, Duration timeout) noexcept;
  Result<void> one_way(Envelope message);
  void connect_wait(PendingCall& call) noexcept;
  void close() noexcept;

  void start_attempt_locked();
  void on_connected(std::uint64_t attempt, Result<std::unique_ptr<ByteStream>> r);
  void attempt_failed_locked(std::error_code why, Deferred& deferred);
  void schedule_retry_locked();
  void on_deadline_timer();
  void probe_locked(std::uint64_t connection_id);
  void on_probe_timer(std::uint64_t connection_id, std::uint64_t received_mark);
  void arm_deadline_timer_locked();
  /// Removes a call from `pending` and `deadlines`; the caller completes it.
  CallRef take_locked(std::map<std::uint64_t, Pending>::iterator it);
  /// Queues a waiting call on the ready connection; the write is `deferred` (after the lock)
  /// or, with `flush_now`, made at once.
  void send_locked(std::uint64_t id, Pending& p, Deferred& deferred, bool flush_now);
  Duration backoff_delay_locked();

  Environment& env;
  const ClientOptions options;

  mutable cineyma::detail::SpinMutex mutex;
  State state = State::idle;
  std::shared_ptr<Connection> connection;
  std::uint64_t attempt = 0;              // id of the current attempt (stale callbacks skip)
  std::uint32_t consecutive_failures = 0;
  TimerId attempt_timer = 0;
  TimerId retry_timer = 0;
  std::uint64_t next_correlation_id = 1;
  std::map<std::uint64_t, Pending> pending;
  std::set<std::pair<TimePoint, std::uint64_t>> deadlines;  // (deadline, correlation id)
  TimerId deadline_timer = 0;
  TimePoint deadline_timer_at = TimePoint::max();
  std::uint64_t probing_connection = 0;  // connection id with a ping outstanding, or 0
  std::deque<std::uint64_t> waiting;       // correlation ids of unsent calls, in call order
  std::deque<Envelope> waiting_one_way;
  std::vector<CallRef> connect_waiters;
  ClientStats stats;
};

void ClientCore::start_attempt_locked() {
  CINEYMA_ASSERT(state == State::idle || state == State::backoff);
  state = State::connecting;
  const std::uint64_t id = ++attempt;
  ++stats.connect_attempts;
  std::weak_ptr<ClientCore> weak = weak_from_this();
  // One deadline for TCP connect + handshake: the transport has no connect timeout of its
  // own, and the connection's handshake timer only starts once connected.
  attempt_timer = env.clock().schedule_after(options.connect_timeout, [weak, id] {
    auto self = weak.lock();
    if (!self) return;
    std::shared_ptr<Connection> stale;
    {
      Deferred deferred;
      std::lock_guard lock(self->mutex);
      if (self->attempt != id || self->state != State::connecting) return;
      self->attempt_timer = 0;
      cineyma::detail::log(self->env, spdlog::level::warn,
                  "remote client: connecting to {}:{} timed out", self->options.server.host,
                  self->options.server.port);
      stale = std::move(self->connection);
      self->attempt_failed_locked(make_error_code(Errc::timeout), deferred);
    }
    if (stale) stale->close(make_error_code(Errc::timeout));
  });
  env.transport().async_connect(
      options.server, [weak, id](Result<std::unique_ptr<ByteStream>> r) {
        if (auto self = weak.lock()) self->on_connected(id, std::move(r));
      });
}

void ClientCore::on_connected(std::uint64_t id, Result<std::unique_ptr<ByteStream>> r) {
  std::shared_ptr<Connection> c;
  {
    Deferred deferred;
    std::lock_guard lock(mutex);
    if (attempt != id || state != State::connecting) return;  // timed out or closed: drop it
    if (!r) {
      cineyma::detail::log(env, spdlog::level::info, "remote client: cannot connect to {}:{}: {}",
                  options.server.host, options.server.port, r.error().message());
      attempt_failed_locked(r.error(), deferred);
      return;
    }
    internal::ConnectionOptions o;
    o.role = Handshake::Role::client;
    o.handshake = options.handshake;
    o.max_frame_bytes = options.max_frame_bytes;
    o.handshake_timeout = options.connect_timeout;  // bounded by the attempt timer anyway
    o.max_outbound_bytes = options.max_outbound_bytes;
    connection = std::make_shared<Connection>(env, std::move(*r), std::move(o),
                                              shared_from_this(), id);
    c = connection;
  }
  c->start();
}

void ClientCore::on_established(Connection& c) {
  Deferred deferred;
  std::lock_guard lock(mutex);
  if (connection.get() != &c) return;
  state = State::ready;
  consecutive_failures = 0;
  ++stats.connections_established;
  if (attempt_timer != 0) env.clock().cancel(attempt_timer);
  attempt_timer = 0;
  // Calls that waited go out in the order they were made.
  while (!waiting.empty()) {
    const std::uint64_t id = waiting.front();
    waiting.pop_front();
    auto it = pending.find(id);
    if (it == pending.end() || !it->second.unsent) continue;  // expired meanwhile
    // Written one by one as before (rare: only calls that waited for this connection).
    send_locked(id, it->second, deferred, true);
  }
  while (!waiting_one_way.empty()) {
    Result<std::uint64_t> r = connection->send(waiting_one_way.front());
    waiting_one_way.pop_front();
    if (!r) {
      cineyma::detail::log(env, spdlog::level::warn,
                           "remote client: dropped a queued one-way message: {}",
                           r.error().message());
    }
  }
  for (auto& w : connect_waiters) deferred.deliver(std::move(w), Envelope{});
  connect_waiters.clear();
}

void ClientCore::send_locked(std::uint64_t id, Pending& p, Deferred& deferred, bool flush_now) {
  CINEYMA_ASSERT(state == State::ready);
  CINEYMA_ASSERT(p.unsent.has_value());
  Result<std::uint64_t> r = flush_now ? connection->send(*p.unsent) : connection->queue(*p.unsent);
  if (!r) {
    // frame_too_large / mailbox_full: this call only. (disconnected cannot happen while the
    // connection is ready under our lock: on_closed takes the lock before changing state.)
    deferred.fail(take_locked(pending.find(id)), to_errc(r.error()));
    return;
  }
  // A lone call (nothing else in flight) is written by this thread: no wake-up of the io
  // thread on the way out. With others in flight, the io thread's write coalesces them.
  if (!flush_now) deferred.flush(connection, pending.size() == 1);
  p.unsent.reset();
  p.connection_id = connection->id();
  p.end_offset = *r;
  p.received_at_send = connection->bytes_received();
}

void ClientCore::on_envelopes(Connection& c, std::span<Envelope> batch) {
  Deferred deferred;  // completions run after the lock is released (destroyed after it)
  // One lock for everything one read brought: with 100 calls in flight, answers come dozens
  // at a time, and the callers' threads want this lock to send their next call.
  std::lock_guard lock(mutex);
  for (Envelope& e : batch) {
    if (e.kind == EnvelopeKind::pong) continue;  // its bytes already proved the connection alive
    if (e.kind != EnvelopeKind::response && e.kind != EnvelopeKind::error) {
      cineyma::detail::log(env, spdlog::level::debug,
                           "remote client: ignoring a {} from the server (no actor is exposed "
                           "here)",
                           to_string(e.kind));
      continue;
    }
    auto it = pending.find(e.correlation_id);
    if (it == pending.end() || it->second.unsent || it->second.connection_id != c.id()) {
      // The call already ended (deadline) — or a confused server: nothing to complete.
      ++stats.late_answers;
      continue;
    }
    if (e.kind == EnvelopeKind::error) {
      cineyma::detail::log(env, spdlog::level::debug,
                           "remote client: call {} failed at the server: {} ({})",
                           e.correlation_id, to_string(e.error_code), e.error_text);
    }
    deferred.deliver(take_locked(it), std::move(e));
  }
}

void ClientCore::on_closed(Connection& c, std::error_code why, bool was_established) {
  std::shared_ptr<Connection> keep;  // released after the lock
  Deferred deferred;
  std::lock_guard lock(mutex);
  if (connection.get() != &c) return;
  keep = std::move(connection);
  const std::uint64_t handed = c.bytes_handed();
  // Every call sent on this connection ends now: what may have left is maybe_delivered,
  // what was still in our buffer is disconnected (never sent: safe to retry).
  for (auto it = pending.begin(); it != pending.end();) {
    Pending& p = it->second;
    if (!p.unsent && p.connection_id == c.id()) {
      const Errc e = p.end_offset <= handed ? Errc::maybe_delivered : Errc::disconnected;
      ++stats.calls_failed_by_disconnect;
      auto next = std::next(it);
      deferred.fail(take_locked(it), e);
      it = next;
    } else {
      ++it;
    }
  }
  if (state == State::closed) return;
  if (!was_established) {
    // The attempt failed in its handshake (auth_failed, timeout, refused by the server...).
    if (attempt_timer != 0) env.clock().cancel(attempt_timer);
    attempt_timer = 0;
    attempt_failed_locked(why, deferred);
    return;
  }
  cineyma::detail::log(env, spdlog::level::info, "remote client: connection to {}:{} lost: {}",
              options.server.host, options.server.port, why.message());
  state = State::idle;
  if (options.reconnect) schedule_retry_locked();
}

void ClientCore::attempt_failed_locked(std::error_code why, Deferred& deferred) {
  state = State::idle;
  ++consecutive_failures;
  for (auto& w : connect_waiters) deferred.fail(std::move(w), connect_errc(why));
  connect_waiters.clear();
  // Waiting calls keep waiting for the next attempt (within their deadline) — unless no
  // attempt will come, or the server refused us (retrying will not change its mind soon).
  const bool refused = why == make_error_code(Errc::auth_failed);
  if (!options.reconnect || refused) {
    const Errc e = refused ? Errc::auth_failed : Errc::disconnected;
    for (const std::uint64_t id : waiting) {
      auto it = pending.find(id);
      if (it == pending.end() || !it->second.unsent) continue;
      ++stats.calls_failed_by_disconnect;
      deferred.fail(take_locked(it), e);
    }
    waiting.clear();
  }
  if (options.reconnect) schedule_retry_locked();
}

Duration ClientCore::backoff_delay_locked() {
  // d = min(max, min * 2^(n-1)); wait uniformly in [d/2, d] ("equal jitter"): spreads a herd
  // of clients out while keeping a floor, all from the environment PRNG.
  const std::uint32_t shift = std::min<std::uint32_t>(consecutive_failures > 0
                                                          ? consecutive_failures - 1 : 0, 30);
  const auto min_ns = static_cast<std::uint64_t>(options.reconnect_delay_min.count());
  const auto max_ns = static_cast<std::uint64_t>(options.reconnect_delay_max.count());
  const std::uint64_t d = (max_ns >> shift) < min_ns ? max_ns : std::min(max_ns, min_ns << shift);
  const std::uint64_t ns = env.random().between(d / 2, d);
  return Duration(static_cast<Duration::rep>(ns));
}

void ClientCore::schedule_retry_locked() {
  CINEYMA_ASSERT(state == State::idle);
  state = State::backoff;
  const Duration delay = backoff_delay_locked();
  std::weak_ptr<ClientCore> weak = weak_from_this();
  retry_timer = env.clock().schedule_after(delay, [weak] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex);
    self->retry_timer = 0;
    if (self->state != State::backoff) return;
    self->start_attempt_locked();
  });
}

void ClientCore::call(Envelope request, PendingCall& call, Duration timeout) noexcept {
  Deferred deferred;
  std::lock_guard lock(mutex);
  ++stats.calls;
  if (state == State::closed) {
    deferred.fail(CallRef(call), Errc::disconnected);
    return;
  }
  const std::uint64_t id = next_correlation_id++;
  request.kind = EnvelopeKind::request;
  request.correlation_id = id;
  request.sender_node = options.handshake.node_id;
  if (const char* problem = envelope_problem(request)) {
    cineyma::detail::log(env, spdlog::level::warn, "remote client: invalid request: {}", problem);
    deferred.fail(CallRef(call), Errc::invalid_argument);
    return;
  }
  if (state != State::ready && waiting.size() >= options.max_waiting_calls) {
    deferred.fail(CallRef(call), Errc::mailbox_full);
    return;
  }
  // Deadlines live in one ordered set per client, watched by one clock timer armed for the
  // earliest: a call costs an insertion here instead of a timer of its own (with uniform
  // timeouts every new deadline is the latest, and the timer is left alone).
  const TimePoint deadline = env.clock().now() + timeout;
  deadlines.emplace(deadline, id);
  arm_deadline_timer_locked();
  auto [it, inserted] =
      pending.emplace(id, Pending{CallRef(call), std::move(request), 0, 0, deadline});
  CINEYMA_ASSERT(inserted);
  if (state == State::ready) {
    send_locked(id, it->second, deferred, false);
    return;
  }
  waiting.push_back(id);
  if (state == State::idle) start_attempt_locked();
}

CallRef ClientCore::take_locked(std::map<std::uint64_t, Pending>::iterator it) {
  deadlines.erase({it->second.deadline, it->first});
  CallRef ref = std::move(it->second.ref);
  pending.erase(it);
  return ref;
}

void ClientCore::arm_deadline_timer_locked() {
  if (deadlines.empty()) return;
  const TimePoint earliest = deadlines.begin()->first;
  if (deadline_timer != 0 && earliest >= deadline_timer_at) return;  // armed early enough
  if (deadline_timer != 0) env.clock().cancel(deadline_timer);
  deadline_timer_at = earliest;
  deadline_timer = env.clock().schedule_at(earliest, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->on_deadline_timer();
  });
}

void ClientCore::on_deadline_timer() {
  Deferred deferred;
  std::lock_guard lock(mutex);
  deadline_timer = 0;
  deadline_timer_at = TimePoint::max();
  const TimePoint now = env.clock().now();
  bool silent = false;
  while (!deadlines.empty() && deadlines.begin()->first <= now) {
    const std::uint64_t id = deadlines.begin()->second;
    auto it = pending.find(id);
    CINEYMA_ASSERT(it != pending.end());
    ++stats.calls_timed_out;
    const Pending& p = it->second;
    if (!p.unsent && connection && p.connection_id == connection->id() &&
        connection->bytes_received() == p.received_at_send) {
      silent = true;  // not one byte from the server since this call left
    }
    // Removed from `pending` now (the original leaked it): a late answer is ignored, and an
    // id still in `waiting` is skipped when it comes up.
    deferred.fail(take_locked(it), Errc::timeout, true);
  }
  arm_deadline_timer_locked();
  if (silent && state == State::ready) probe_locked(connection->id());
}

void ClientCore::probe_locked(std::uint64_t connection_id) {
  if (probing_connection == connection_id) return;  // one ping at a time
  probing_connection = connection_id;
  ++stats.liveness_probes;
  Envelope ping;
  ping.kind = EnvelopeKind::ping;
  ping.correlation_id = next_correlation_id++;
  ping.sender_node = options.handshake.node_id;
  const std::uint64_t mark = connection->bytes_received();
  static_cast<void>(connection->send(ping));
  static_cast<void>(env.clock().schedule_after(
      options.liveness_probe_timeout, [weak = weak_from_this(), connection_id, mark] {
        if (auto self = weak.lock()) self->on_probe_timer(connection_id, mark);
      }));
}

void ClientCore::on_probe_timer(std::uint64_t connection_id, std::uint64_t received_mark) {
  std::shared_ptr<Connection> dead;
  {
    std::lock_guard lock(mutex);
    if (probing_connection == connection_id) probing_connection = 0;
    if (!connection || connection->id() != connection_id) return;  // already gone
    if (connection->bytes_received() != received_mark) return;      // it answered: alive
    ++stats.dead_connections;
    cineyma::detail::log(env, spdlog::level::warn,
                         "remote client: connection to {}:{} is silent (no answer to a ping "
                         "within {} ms): closing it and reconnecting",
                         options.server.host, options.server.port,
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             options.liveness_probe_timeout).count());
    dead = connection;
  }
  // Closing reports on_closed, which fails the calls sent on it and schedules the reconnect.
  dead->close(make_error_code(Errc::timeout));
}

Result<void> ClientCore::one_way(Envelope message) {
  Deferred deferred;  // the write, after the lock
  std::lock_guard lock(mutex);
  if (state == State::closed) return fail(Errc::disconnected);
  message.kind = EnvelopeKind::one_way;
  message.correlation_id = 0;
  message.sender_node = options.handshake.node_id;
  if (envelope_problem(message) != nullptr) return fail(Errc::invalid_argument);
  if (state == State::ready) {
    Result<std::uint64_t> r = connection->queue(message);
    if (!r) return fail(r.error());
    deferred.flush(connection, false);  // one-way traffic tends to come in streams: coalesce
    return ok();
  }
  if (waiting_one_way.size() >= options.max_waiting_calls) return fail(Errc::mailbox_full);
  waiting_one_way.push_back(std::move(message));
  if (state == State::idle) start_attempt_locked();
  return ok();
}

void ClientCore::connect_wait(PendingCall& call) noexcept {
  Deferred deferred;
  std::lock_guard lock(mutex);
  if (state == State::closed) {
    deferred.fail(CallRef(call), Errc::disconnected);
    return;
  }
  if (state == State::ready) {
    deferred.deliver(CallRef(call), Envelope{});
    return;
  }
  connect_waiters.emplace_back(call);
  if (state == State::idle || state == State::backoff) {
    if (retry_timer != 0) env.clock().cancel(retry_timer);
    retry_timer = 0;
    state = State::idle;
    start_attempt_locked();
  }
}

void ClientCore::close() noexcept {
  std::shared_ptr<Connection> c;
  {
    Deferred deferred;
    std::lock_guard lock(mutex);
    if (state == State::closed) return;
    state = State::closed;
    if (attempt_timer != 0) env.clock().cancel(attempt_timer);
    if (retry_timer != 0) env.clock().cancel(retry_timer);
    attempt_timer = retry_timer = 0;
    c = connection;  // its on_closed fails the calls sent on it
    for (auto& w : connect_waiters) deferred.fail(std::move(w), Errc::disconnected);
    connect_waiters.clear();
    for (const std::uint64_t id : waiting) {
      auto it = pending.find(id);
      if (it == pending.end() || !it->second.unsent) continue;
      deferred.fail(take_locked(it), Errc::disconnected);
    }
    waiting.clear();
    waiting_one_way.clear();
  }
  if (c) c->close(make_error_code(Errc::disconnected));
}

void start_call(ClientCore& core, Envelope request, PendingCall& call, Duration timeout) noexcept {
  core.call(std::move(request), call, timeout);
}
Result<void> send_one_way(ClientCore& core, Envelope message) {
  return core.one_way(std::move(message));
}
void start_connect(ClientCore& core, PendingCall& call) noexcept { core.connect_wait(call); }
void read_for_answer(ClientCore& core, const BlockingEvent& answered, Duration timeout) noexcept {
  std::shared_ptr<Connection> c;
  {
    std::lock_guard lock(core.mutex);
    // Only a call that is on the wire waits for bytes; one waiting for a connection waits
    // for the connect, which the transport's thread drives.
    if (core.state != ClientCore::State::ready) return;
    c = core.connection;
  }
  // The completions this runs (ours and other calls') are noexcept; the std::function is
  // within its small-object buffer (one reference), so this allocates nothing.
  static_cast<void>(c->read_here([&answered] { return !answered.is_set(); }, timeout));
}
Environment& core_environment(ClientCore& core) noexcept { return core.env; }
const ClientOptions& core_options(ClientCore& core) noexcept { return core.options; }

}  // namespace detail

/// Closes the connection when the last RemoteClient copy / RemoteAddr is gone. (Calls in
/// flight hold the core, not the handle: they still complete.)
struct RemoteClient::Handle {
  std::shared_ptr<detail::ClientCore> core;
  ~Handle() { core->close(); }
};

RemoteClient::RemoteClient(Environment& env, ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(env, std::move(options))) {
  CINEYMA_ASSERT(core_->options.max_frame_bytes <= kLargestMaxFrameBytes);
  // Not make_shared(Handle{...}): the temporary's destructor would close the client.
  handle_ = std::shared_ptr<Handle>(new Handle{core_});
}

ConnectOp RemoteClient::connect() const { return ConnectOp(core_, detail::ConnectLaunch{}); }

RemoteCall<Envelope> RemoteClient::send(Envelope request, std::optional<Duration> timeout) const {
  return RemoteCall<Envelope>(
      core_, detail::CallLaunch{std::move(request), timeout.value_or(core_->options.call_timeout)});
}

Result<void> RemoteClient::do_send(Envelope message) const {
  return core_->one_way(std::move(message));
}

void RemoteClient::close() const noexcept { core_->close(); }

bool RemoteClient::connected() const noexcept {
  std::lock_guard lock(core_->mutex);
  return core_->state == detail::ClientCore::State::ready;
}

ClientStats RemoteClient::stats() const {
  std::lock_guard lock(core_->mutex);
  return core_->stats;
}

const ClientOptions& RemoteClient::options() const noexcept { return core_->options; }

namespace detail {
std::shared_ptr<ClientCore> core_of(const RemoteClient& client) noexcept {
  return client.core_;
}
}  // namespace detail

}  // namespace cineyma::remote
