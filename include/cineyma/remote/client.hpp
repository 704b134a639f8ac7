// cineyma/remote/client.hpp — calling actors on another node: `RemoteClient`, `RemoteAddr`.
//
//   using Calc = cineyma::remote::Protocol<cineyma::remote::Rpc<proto::Add, proto::AddResult>,
//                                          cineyma::remote::OneWay<proto::Note>>;
//   cineyma::remote::RemoteClient client(env, {.server = at, .handshake = {.node_id = "b"}});
//   auto calc = client.remote_addr<Calc>("calc");
//   Result<proto::AddResult> r = calc.call(add).get();      // blocking, from a plain thread
//   Result<proto::AddResult> r = co_await calc.call(add);   // from an async handler
//   calc.do_send(note);                                      // one-way
//   calc.call(note);                                         // does not compile: not an Rpc
//
// One client is one connection to one server (authenticated by the handshake), shared by
// every call: requests are pipelined on it and matched to their answers by correlation id.
//
// Connection management: the client connects on first use (or `connect()`); each attempt
// (TCP connect + handshake) has a deadline. When the connection drops, the client reconnects
// with capped exponential backoff and jitter from the environment's PRNG (so a simulated run
// replays exactly). Calls made while no connection is established wait for one, within their
// own deadline. A connection that goes silent without breaking (a partition, a peer gone
// without a FIN) is detected by a ping after a silent timeout (`liveness_probe_timeout`),
// closed, and replaced.
//
// Every call has a deadline (default `ClientOptions::call_timeout`, 5 s) and completes exactly
// once, with the answer or with:
//   timeout            the deadline passed (a late answer is dropped);
//   disconnected       the connection broke before the request left this process (safe to retry);
//   maybe_delivered    it broke after the request was handed to the network: it may have run;
//   auth_failed        the handshake refused us (or we refused the server);
//   not_found, unknown_message_type, decode_error, handler_failed, actor_stopped, mailbox_full
//                      the server's answer (router.hpp);
//   type_mismatch      the server answered with another message type than the protocol says.
//
// Threading: clients, addresses and calls may be used from any thread. A call is lazy (nothing
// is sent until it is awaited or `get()` is called) and single-shot. `co_await` only inside an
// actor's async handler; `get()` only from a non-actor thread (it blocks, or under simulation
// drives the simulation). On the real transport, a thread blocked in `get()` reads the
// connection itself while it waits (polling its socket for up to 50 µs, then sleeping in
// poll(2)) and hands every answer it reads to its call, its own or another's; while no
// blocked thread reads it, the io thread does.
#pragma once

#include <cineyma/detail/completion.hpp>
#include <cineyma/detail/send_ops.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/message.hpp>
#include <cineyma/remote/envelope.hpp>
#include <cineyma/remote/framing.hpp>
#include <cineyma/remote/handshake.hpp>
#include <cineyma/remote/message.hpp>
#include <cineyma/result.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace cineyma::remote {

struct ClientOptions {
  /// The server to connect to.
  Endpoint server;
  /// This node's identity, cluster and secret (handshake.hpp).
  HandshakeOptions handshake;
  /// Largest frame sent or accepted.
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  /// Deadline of one connection attempt: TCP connect plus handshake.
  Duration connect_timeout = std::chrono::seconds(5);
  /// Default deadline of a call.
  Duration call_timeout = std::chrono::seconds(5);
  /// Reconnect after a drop or a failed attempt (with backoff). When off, a failed attempt
  /// fails the waiting calls, and a new attempt starts only with a new call or `connect()`.
  bool reconnect = true;
  /// Backoff between attempts: the n-th consecutive failure waits a uniformly random time in
  /// [d/2, d] with d = min(reconnect_delay_max, reconnect_delay_min * 2^n).
  Duration reconnect_delay_min = std::chrono::milliseconds(50);
  Duration reconnect_delay_max = std::chrono::seconds(5);
  /// Liveness: when a call times out and nothing at all arrived on its connection since it
  /// was sent, the client pings the server (answered by the server's connection, not by an
  /// actor); if nothing arrives within this delay either, the connection is presumed dead (a
  /// partition, a peer that vanished without a FIN) and is closed — its calls fail with
  /// `maybe_delivered` — and the client reconnects. A slow actor alone never triggers it.
  Duration liveness_probe_timeout = std::chrono::seconds(2);
  /// Calls waiting for a connection beyond which new calls fail at once (`mailbox_full`).
  std::size_t max_waiting_calls = 65536;
  /// Bytes of requests queued on the connection beyond which calls fail (`mailbox_full`).
  std::size_t max_outbound_bytes = std::size_t{64} << 20;
};

/// Counters, for tests and monitoring (monotonic).
struct ClientStats {
  std::uint64_t connect_attempts = 0;
  std::uint64_t connections_established = 0;
  std::uint64_t calls = 0;
  std::uint64_t calls_timed_out = 0;
  std::uint64_t calls_failed_by_disconnect = 0;  ///< disconnected + maybe_delivered
  std::uint64_t late_answers = 0;                ///< answers to calls that already ended
  std::uint64_t liveness_probes = 0;             ///< pings sent after a silent timeout
  std::uint64_t dead_connections = 0;            ///< connections closed for an unanswered ping
};

// ---- protocols --------------------------------------------------------------------------------

/// A request `Req` answered by `Resp` (a protobuf message, or void for an empty answer).
/// `Resp` defaults to `reply_t<Req>` (see `cineyma::message_reply`).
template <ProtobufMessage Req, typename Resp = reply_t<Req>>
struct Rpc {
  static_assert(std::is_void_v<Resp> || ProtobufMessage<Resp>,
                "cineyma: an Rpc's response must be a protobuf message or void");
  using request = Req;
  using response = Resp;
};

/// A one-way message `M`.
template <ProtobufMessage M>
struct OneWay {
  using message = M;
};

/// The messages one remote actor accepts: `Rpc<...>` and `OneWay<...>` entries.
template <typename... Entries>
struct Protocol {};

namespace detail {
template <typename E, typename M>
struct is_rpc_for : std::false_type {};
template <typename Req, typename Resp, typename M>
struct is_rpc_for<Rpc<Req, Resp>, M> : std::is_same<Req, M> {};
template <typename E, typename M>
struct is_one_way_for : std::false_type {};
template <typename X, typename M>
struct is_one_way_for<OneWay<X>, M> : std::is_same<X, M> {};

template <typename M, typename... Es>
struct rpc_response {};
template <typename M, typename E, typename... Es>
struct rpc_response<M, E, Es...>
    : std::conditional_t<is_rpc_for<E, M>::value, E, rpc_response<M, Es...>> {};

template <typename P>
struct protocol_traits {
  static_assert(sizeof(P) == 0, "cineyma: RemoteAddr needs a cineyma::remote::Protocol<...>");
};
template <typename... Es>
struct protocol_traits<Protocol<Es...>> {
  template <typename M>
  static constexpr bool has_rpc = (is_rpc_for<Es, M>::value || ...);
  template <typename M>
  static constexpr bool has_one_way = (is_one_way_for<Es, M>::value || ...);
  template <typename M>
  using response = typename rpc_response<M, Es...>::response;
};
}  // namespace detail

/// `M` is a request of protocol `P` (an `Rpc<M, ...>` entry).
template <typename P, typename M>
concept RequestOf = detail::protocol_traits<P>::template has_rpc<M>;
/// `M` is a one-way message of protocol `P` (a `OneWay<M>` entry).
template <typename P, typename M>
concept OneWayOf = detail::protocol_traits<P>::template has_one_way<M>;
/// The response type protocol `P` declares for request `M`.
template <typename P, typename M>
using response_t = typename detail::protocol_traits<P>::template response<M>;

// ---- calls ------------------------------------------------------------------------------------

namespace detail {

struct ClientCore;

/// One call in flight, type-erased for the client core. The core holds a reference while the
/// call is pending; exactly one of deliver/fail wins (the rest are ignored).
class PendingCall {
 public:
  virtual void acquire() noexcept = 0;
  virtual void drop() noexcept = 0;
  virtual void deliver(Envelope answer) noexcept = 0;
  virtual void fail(Errc why, bool from_deadline) noexcept = 0;

 protected:
  virtual ~PendingCall() = default;
};

/// Registers and sends `request` (a request envelope without correlation id) for `call`, with
/// a deadline of `timeout`. Any thread. Completes `call` exactly once.
void start_call(ClientCore& core, Envelope request, PendingCall& call, Duration timeout) noexcept;
/// Sends a one-way envelope (queued while connecting).
Result<void> send_one_way(ClientCore& core, Envelope message);
/// Waits for an established connection (connecting if needed); `call` gets an empty answer
/// on success.
void start_connect(ClientCore& core, PendingCall& call) noexcept;
/// Before a plain thread blocks on the answer to a call it just started: reads the client's
/// connection on this thread until `answered` is set (or `timeout` passed), when the
/// transport allows it (`ByteStream::read_here`); otherwise, or once it stops, returns and
/// the thread waits as usual. It then delivers every answer it reads, not only its own.
void read_for_answer(ClientCore& core, const BlockingEvent& answered, Duration timeout) noexcept;
Environment& core_environment(ClientCore& core) noexcept;
const ClientOptions& core_options(ClientCore& core) noexcept;

/// The completion of one call producing `R` (a protobuf message, `Envelope` for raw calls,
/// or void).
template <typename R>
class CallState final : public cineyma::detail::Completion<R>, public PendingCall {
 public:
  void acquire() noexcept override { this->add_ref(); }
  void drop() noexcept override { this->release(); }
  void fail(Errc why, bool from_deadline) noexcept override {
    this->complete_error(why, from_deadline);
  }
  void deliver(Envelope answer) noexcept override {
    if constexpr (std::is_same_v<R, Envelope>) {
      this->complete_value(std::move(answer));  // raw: the caller reads kind and payload
    } else if (answer.kind == EnvelopeKind::error) {
      this->complete_error(answer.error_code);
    } else if constexpr (std::is_void_v<R>) {
      this->complete_value();
    } else {
      if (answer.message_type != message_type_name<R>()) {
        this->complete_error(Errc::type_mismatch);
        return;
      }
      R value;
      if (!value.ParseFromString(answer.payload)) {
        this->complete_error(Errc::decode_error);
        return;
      }
      this->complete_value(std::move(value));
    }
  }

 private:
  void destroy_self() noexcept override { delete this; }
  ~CallState() override = default;
};

struct CallLaunch;

/// The lazy awaitable/blocking operation shared by calls and connects.
template <typename R, typename Launch>
class RemoteOp {
 public:
  RemoteOp(std::shared_ptr<ClientCore> core, Launch launch)
      : core_(std::move(core)), state_(new CallState<R>()), launch_(std::move(launch)) {}
  RemoteOp(RemoteOp&& o) noexcept
      : core_(std::move(o.core_)), state_(std::exchange(o.state_, nullptr)),
        launch_(std::move(o.launch_)) {}
  RemoteOp& operator=(RemoteOp&&) = delete;
  ~RemoteOp() {
    if (state_) state_->release();
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    resume_.handle = h;
    resume_.executor = cineyma::detail::current_executor();
    CINEYMA_ASSERT_MSG(resume_.executor, "co_await on a remote call outside an actor");
    state_->set_waker(cineyma::detail::Waker{resume_.executor, &resume_, nullptr});
    launch();
  }
  Result<R> await_resume() { return state_->take(); }

  /// Blocking form, for non-actor threads (under simulation it drives the simulation).
  Result<R> get() && {
    BlockingEvent ev;
    state_->set_waker(cineyma::detail::Waker{nullptr, nullptr, &ev});
    Executor& ex = core_environment(*core_).executor();
    launch();
    if constexpr (std::is_same_v<Launch, CallLaunch>) {
      // (Not from a task: block_on below refuses that, with its message.)
      if (!ev.is_set_settled() && !ex.in_executor_thread()) {
        read_for_answer(*core_, ev, launch_.timeout);
      }
    }
    if (!ev.is_set_settled()) cineyma::detail::block_on(ex, ev);
    // Only under simulation can the loop run dry first; the deadline is then unreachable.
    if (!state_->done()) state_->complete_error(Errc::timeout, true);
    return state_->take();
  }

 private:
  void launch() noexcept { launch_(*core_, *state_); }

  std::shared_ptr<ClientCore> core_;
  CallState<R>* state_;
  Launch launch_;
  cineyma::detail::ResumeRunnable resume_;
};

struct CallLaunch {
  Envelope request;
  Duration timeout;
  void operator()(ClientCore& core, PendingCall& call) noexcept {
    start_call(core, std::move(request), call, timeout);
  }
};
struct ConnectLaunch {
  void operator()(ClientCore& core, PendingCall& call) noexcept { start_connect(core, call); }
};

}  // namespace detail

/// A remote call answered by `R`: `co_await` it or `std::move(call).get()`.
template <typename R>
using RemoteCall = detail::RemoteOp<R, detail::CallLaunch>;
/// Waiting for an established connection: `co_await` it or `std::move(op).get()`.
using ConnectOp = detail::RemoteOp<Envelope, detail::ConnectLaunch>;

template <typename P>
class RemoteAddr;
class RemoteClient;

namespace detail {
std::shared_ptr<ClientCore> core_of(const RemoteClient& client) noexcept;
}  // namespace detail

/// A connection to one server, shared by copies of the client and by its addresses (see the
/// file comment). The connection closes when the last copy and address are gone.
class RemoteClient {
 public:
  /// Does not connect yet: the first call or `connect()` does. `env` must outlive the client
  /// and every call made through it.
  RemoteClient(Environment& env, ClientOptions options);

  /// Waits until a connection is established (starting an attempt if none is under way),
  /// within `connect_timeout`: ok, `timeout`, `auth_failed`, or the transport's error (e.g.
  /// connection refused). Result value: ignore it (an empty envelope).
  ConnectOp connect() const;

  /// Raw request: `request` is sent to `request.target_actor` with a fresh correlation id
  /// (kind forced to request, sender_node set); the result is the answer envelope as it
  /// came (a response or an error envelope), or a transport-side error (see the file comment).
  RemoteCall<Envelope> send(Envelope request, std::optional<Duration> timeout = {}) const;
  /// Raw one-way message. Ok means queued locally (delivery is not confirmed: it cannot be,
  /// for a message that has no answer); `disconnected` after `close()`, `mailbox_full` when
  /// too much is queued, `frame_too_large`.
  Result<void> do_send(Envelope message) const;

  /// A typed address of actor `actor_name` on the server, speaking protocol `P`.
  template <typename P>
  RemoteAddr<P> remote_addr(std::string actor_name) const;

  /// Closes the connection and stops reconnecting: pending calls fail (`disconnected` or
  /// `maybe_delivered`), later calls fail with `disconnected`. Idempotent.
  void close() const noexcept;

  /// True while a connection is established.
  bool connected() const noexcept;
  ClientStats stats() const;
  const ClientOptions& options() const noexcept;

 private:
  struct Handle;  // closes the core when the last copy goes (src/remote/client.cpp)
  friend std::shared_ptr<detail::ClientCore> detail::core_of(const RemoteClient&) noexcept;
  std::shared_ptr<Handle> handle_;
  std::shared_ptr<detail::ClientCore> core_;
};

/// A typed address of a remote actor: only the messages of protocol `P` compile.
///
/// Cheap to copy; keeps the client's connection open.
template <typename P>
class RemoteAddr {
 public:
  RemoteAddr(RemoteClient client, std::string actor_name)
      : client_(std::move(client)), actor_name_(std::move(actor_name)) {}

  /// Request-response with the default deadline; the answer is the protocol's response.
  template <typename M>
    requires RequestOf<P, M>
  RemoteCall<response_t<P, M>> call(const M& request) const {
    return call(request, client_.options().call_timeout);
  }
  /// Request-response with an explicit deadline.
  template <typename M>
    requires RequestOf<P, M>
  RemoteCall<response_t<P, M>> call(const M& request, Duration timeout) const {
    return RemoteCall<response_t<P, M>>(core(), detail::CallLaunch{envelope(request),
                                                                    timeout});
  }
  /// Request whose answer is returned as the raw envelope (the caller decodes the payload).
  template <typename M>
    requires RequestOf<P, M>
  RemoteCall<Envelope> send(const M& request, std::optional<Duration> timeout = {}) const {
    return client_.send(envelope(request), timeout);
  }
  /// One-way message (see `RemoteClient::do_send` for what ok means).
  template <typename M>
    requires OneWayOf<P, M>
  Result<void> do_send(const M& message) const {
    Envelope e = envelope(message);
    e.kind = EnvelopeKind::one_way;
    return client_.do_send(std::move(e));
  }

  const std::string& actor_name() const noexcept { return actor_name_; }
  const RemoteClient& client() const noexcept { return client_; }

 private:
  template <typename M>
  Envelope envelope(const M& message) const {
    Envelope e;
    e.message_type = message_type_name<M>();
    e.payload = message.SerializeAsString();
    e.target_actor = actor_name_;
    e.kind = EnvelopeKind::request;
    return e;
  }
  std::shared_ptr<detail::ClientCore> core() const;

  RemoteClient client_;
  std::string actor_name_;
};

template <typename P>
RemoteAddr<P> RemoteClient::remote_addr(std::string actor_name) const {
  (void)sizeof(detail::protocol_traits<P>);
  return RemoteAddr<P>(*this, std::move(actor_name));
}

template <typename P>
std::shared_ptr<detail::ClientCore> RemoteAddr<P>::core() const {
  return detail::core_of(client_);
}

}  // namespace cineyma::remote
