// cineyma/remote/router.hpp — server-side dispatch (DESIGN §5, layer 5).
//
// A `MessageRouter` maps message types to handlers for one exposed actor name; a `LocalNode`
// maps actor names to routers. An incoming request is dispatched by target actor *and* message
// type, and always gets exactly one answer:
//   unknown target actor          -> error `not_found`
//   unknown message type          -> error `unknown_message_type` (unless a fallback is set)
//   payload that is not the type  -> error `decode_error`
//   the actor stopped / threw     -> error `actor_stopped` / `handler_failed`
//   a handler that drops `Reply`  -> error `handler_failed`
// (The original answered none of these and left its callers hanging, SPEC-original §4.7.)
//
// Requests are dispatched as they arrive and answered as they complete: a slow request does
// not hold up the ones behind it on the same connection (pipelining); answers carry the
// request's correlation id and may leave in any order.
//
// Threading: routers and nodes are configured before they are exposed, then only read; they
// are safe to read from any thread. Handlers run on a transport thread (the io thread on the
// real runtime): a raw or function handler must return quickly and never block. `route<M>(addr)`
// enqueues to the actor, so the actor's handler runs on the actor's executor as usual — on a
// worker, or, for a lone request to an idle actor, as one of the executor's tasks on the
// transport thread itself (`ServerOptions::inline_dispatch`).
#pragma once

#include <cineyma/addr.hpp>
#include <cineyma/detail/send_ops.hpp>
#include <cineyma/remote/envelope.hpp>
#include <cineyma/remote/message.hpp>
#include <cineyma/result.hpp>
#include <cineyma/task.hpp>

#include <concepts>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cineyma::remote {

/// Where the answer to one request goes (implemented by the server's connection).
class ReplyChannel {
 public:
  virtual ~ReplyChannel() = default;
  /// Sends `answer` (a response or an error envelope; the channel fills in sender_node).
  /// Any thread; never blocks; a closed connection drops it.
  virtual void deliver(Envelope answer) noexcept = 0;
};

/// The obligation to answer one incoming message, exactly once.
///
/// Move-only. `respond` / `fail` may be called from any thread, once. Destroying a Reply that
/// was not used answers `handler_failed`, so a request is never left without an answer. For a
/// one-way message (`expects_answer()` false) both calls are no-ops.
class Reply {
 public:
  Reply() noexcept = default;
  /// A reply for request `correlation_id`; a null channel makes a one-way "reply".
  Reply(std::shared_ptr<ReplyChannel> channel, std::uint64_t correlation_id) noexcept
      : channel_(std::move(channel)), correlation_id_(correlation_id) {}
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&& other) noexcept {
    if (this != &other) {
      abandon();
      channel_ = std::move(other.channel_);
      correlation_id_ = other.correlation_id_;
    }
    return *this;
  }
  ~Reply() { abandon(); }

  /// True for a request still waiting for its answer.
  bool expects_answer() const noexcept { return channel_ != nullptr; }

  /// Answers with a payload of type `message_type` (empty type for a `void` reply).
  void respond(std::string message_type, std::string payload) noexcept;
  /// Answers with a typed protobuf message.
  template <ProtobufMessage R>
  void respond(const R& message) noexcept {
    std::string payload;
    if (!message.SerializeToString(&payload)) {
      fail(Errc::handler_failed, "the response could not be serialised");
      return;
    }
    respond(message_type_name<R>(), std::move(payload));
  }
  /// Answers with an error.
  void fail(Errc code, std::string text) noexcept;

 private:
  void abandon() noexcept {
    if (channel_) fail(Errc::handler_failed, "the handler dropped the request without answering");
  }
  std::shared_ptr<ReplyChannel> channel_;
  std::uint64_t correlation_id_ = 0;
};

/// A handler of raw envelopes: it must eventually use (or drop) `reply`.
using RawHandler = std::function<void(Envelope request, Reply reply)>;

namespace detail {
/// Starts `task` now, on the calling thread, with `ex` as the executor its awaits resume on;
/// it owns itself until it completes. Used to await an actor from a transport thread.
void start_detached(Executor& ex, Task<void> task);

/// The executor a forwarded request resumes through: `inner`, except that the one resumption
/// posted to any relay while `start_forward` runs an actor's handler inline on this thread is
/// kept back and run by `start_forward` itself, once the handler's run is over (outside every
/// lock of the actor's). Lives in the forwarding coroutine's frame. Any thread.
class RelayExecutor final : public Executor {
 public:
  explicit RelayExecutor(Executor& inner) noexcept : inner_(inner) {}
  void post(Runnable& r) override;
  void post(cineyma::detail::UniqueFunction f) override { inner_.post(std::move(f)); }
  void post_after_queued(cineyma::detail::UniqueFunction f) override {
    inner_.post_after_queued(std::move(f));
  }
  bool block_until(BlockingEvent& ev, std::optional<std::chrono::nanoseconds> t) override {
    return inner_.block_until(ev, t);
  }
  bool run_inline(Runnable& r) noexcept override { return inner_.run_inline(r); }
  bool in_executor_thread() const noexcept override { return inner_.in_executor_thread(); }
  std::size_t concurrency() const noexcept override { return inner_.concurrency(); }

 private:
  Executor& inner_;
};

/// RAII, on a transport thread: the next `start_forward` in scope may run its actor's handler
/// on this thread (`ServerOptions::inline_dispatch`, for a lone request). One per scope.
class InlineDispatchScope {
 public:
  explicit InlineDispatchScope(bool allow) noexcept;
  ~InlineDispatchScope();
  InlineDispatchScope(const InlineDispatchScope&) = delete;
  InlineDispatchScope& operator=(const InlineDispatchScope&) = delete;
};

/// `start_detached(ex, task)` for a task that forwards one request to the actor of `cell`
/// (`forward_request`). Under an `InlineDispatchScope`, and when that actor is idle, the
/// actor's handler and then the task's answer run here, as tasks of `ex` (`run_inline`),
/// instead of on a worker.
void start_forward(cineyma::detail::CellBase& cell, Executor& ex, Task<void> task);

template <typename A, typename M>
Task<void> forward_request(Addr<A> addr, M message, Reply reply) {
  using R = reply_t<M>;
  RelayExecutor relay(addr.cell()->env().executor());
  Result<R> result = co_await addr.send(std::move(message)).resume_via(relay);
  if (!result) {
    reply.fail(to_errc(result.error()), "the actor did not answer");
    co_return;
  }
  if constexpr (std::is_void_v<R>) {
    reply.respond(std::string(), std::string());
  } else {
    reply.respond(*result);
  }
}

template <typename A, typename M>
Task<void> forward_one_way(Addr<A> addr, M message) {
  // Waits for mailbox space (backpressure towards the connection), like a local do_send.
  Result<void> r = co_await addr.do_send(std::move(message));
  static_cast<void>(r);  // a stopped actor: nobody to tell about a one-way message
}
}  // namespace detail

/// The message types one exposed actor accepts (see the file comment).
class MessageRouter {
 public:
  /// Routes `M` to the actor at `addr`: requests with `send` (the answer is the handler's
  /// reply, `reply_t<M>`, a protobuf message or void), one-way messages with `do_send`.
  template <ProtobufMessage M, typename A>
    requires Handles<A, M>
  MessageRouter& route(Addr<A> addr) {
    using R = reply_t<M>;
    static_assert(std::is_void_v<R> || ProtobufMessage<R>,
                  "cineyma: a remotely routed message must reply with a protobuf message or "
                  "void (declare it with cineyma::message_reply)");
    return route_type(message_type_name<M>(), [addr](Envelope request, Reply reply) {
      Result<M> message = decode_payload<M>(request.payload);
      if (!message) {
        reply.fail(Errc::decode_error, "payload is not a " + message_type_name<M>());
        return;
      }
      if (!addr.cell()) {
        reply.fail(Errc::actor_stopped, "the actor is gone");
        return;
      }
      Executor& ex = addr.cell()->env().executor();
      if (!reply.expects_answer()) {
        detail::start_detached(ex, detail::forward_one_way(addr, std::move(*message)));
      } else {
        detail::start_forward(*addr.cell(), ex,
                              detail::forward_request(addr, std::move(*message),
                                                      std::move(reply)));
      }
    });
  }

  /// Routes `M` to a function `fn(const M&)` returning a protobuf message, `Result<R>` of
  /// one, or void. It runs on the transport thread: keep it short and non-blocking.
  template <ProtobufMessage M, typename F>
    requires std::invocable<F&, const M&>
  MessageRouter& route(F fn) {
    return route_type(message_type_name<M>(),
                      [fn = std::move(fn)](Envelope request, Reply reply) mutable {
                        Result<M> message = decode_payload<M>(request.payload);
                        if (!message) {
                          reply.fail(Errc::decode_error,
                                     "payload is not a " + message_type_name<M>());
                          return;
                        }
                        answer(reply, fn, *message);
                      });
  }

  /// Routes envelopes whose message type is `message_type` to a raw handler.
  MessageRouter& route_type(std::string message_type, RawHandler handler);
  /// Handles every type without a route (default: answer `unknown_message_type`).
  MessageRouter& fallback(RawHandler handler);

  /// Dispatches one request or one-way message (see the file comment).
  void dispatch(Envelope request, Reply reply) const;
  /// True when `message_type` has a route of its own.
  bool routes(std::string_view message_type) const;

 private:
  template <typename F, typename M>
  static void answer(Reply& reply, F& fn, const M& message) {
    using Out = std::invoke_result_t<F&, const M&>;
    try {
      if constexpr (std::is_void_v<Out>) {
        fn(message);
        reply.respond(std::string(), std::string());
      } else if constexpr (ProtobufMessage<Out>) {
        reply.respond(fn(message));
      } else {
        Out r = fn(message);  // Result<R>
        if (!r) {
          reply.fail(to_errc(r.error()), "the handler failed");
        } else if constexpr (std::is_void_v<typename Out::value_type>) {
          reply.respond(std::string(), std::string());
        } else {
          reply.respond(*r);
        }
      }
    } catch (const std::exception& e) {
      reply.fail(Errc::handler_failed, e.what());
    } catch (...) {
      reply.fail(Errc::handler_failed, "the handler threw");
    }
  }
  std::map<std::string, RawHandler, std::less<>> routes_;
  RawHandler fallback_;
};

/// The actors a node exposes, by name. Thread-safe.
class LocalNode {
 public:
  /// `node_id` names this node in answers (sender_node).
  explicit LocalNode(std::string node_id) : node_id_(std::move(node_id)) {}

  const std::string& node_id() const noexcept { return node_id_; }

  /// Exposes `router` as `actor_name`; `already_exists` if the name is taken.
  Result<void> expose(std::string actor_name, MessageRouter router);
  /// Withdraws a name; `not_found` if it is not exposed. Requests already dispatched finish.
  Result<void> withdraw(std::string_view actor_name);

  /// Dispatches one incoming request or one-way message (see the file comment). Any thread.
  void dispatch(Envelope request, Reply reply) const;

 private:
  const std::string node_id_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const MessageRouter>, std::less<>> actors_;
};

}  // namespace cineyma::remote
