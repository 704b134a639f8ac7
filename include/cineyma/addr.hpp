// cineyma/addr.hpp — `Addr<A>`, the typed handle to an actor.
//
// Cheap to copy (a reference count); safe to use from any thread, including non-actor
// threads. Sending never runs the receiver's code inline: the message is enqueued and the
// actor handles it on an executor thread, one message at a time, in mailbox order (FIFO per
// mailbox, hence per sender).
//
//   addr.try_send(msg)            Result<void>: ok | mailbox_full | actor_stopped; never waits
//   co_await addr.do_send(msg)    Result<void>: waits for a free slot (backpressure)
//   co_await addr.send(msg)       Result<reply>: waits for space, then for the reply
//   addr.send(msg, 2s)            ... with a deadline covering both waits (Errc::timeout)
//   std::move(op).get()           the same, blocking a non-actor thread (a request without a
//                                 deadline to an idle actor may be handled on that thread)
//
// `send` fails with `handler_failed` when the handler throws, and with `actor_stopped` when
// the actor stopped before handling the request: a request never hangs because its actor died.
#pragma once

#include <cineyma/actor_id.hpp>
#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/envelopes.hpp>
#include <cineyma/detail/send_ops.hpp>
#include <cineyma/result.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace cineyma {

template <typename M>
class Recipient;

/// Lazy enqueue operation returned by `do_send`: `co_await` it or call `std::move(op).get()`.
using SendOp = detail::SendOp;
/// Lazy request returned by `send`: `co_await` it or call `std::move(req).get()`.
template <typename R>
using Request = detail::Request<R>;

/// Typed address of an actor of type `A`.
template <typename A>
class Addr {
 public:
  /// An empty address (every send fails with actor_stopped).
  Addr() noexcept = default;
  /// Runtime use.
  explicit Addr(detail::RefPtr<detail::CellBase> cell) noexcept : cell_(std::move(cell)) {}

  /// The actor's id (ActorId{} for an empty address).
  ActorId id() const noexcept { return cell_ ? cell_->id() : ActorId{}; }
  /// True until the actor begins stopping.
  bool is_alive() const noexcept { return cell_ && cell_->is_alive(); }
  /// Mailbox capacity.
  std::size_t capacity() const noexcept { return cell_ ? cell_->capacity() : 0; }
  /// Asks the actor to stop after its current message. Travels as a system message, so a
  /// full mailbox does not delay or lose it; queued messages then become dead letters.
  void stop() const noexcept {
    if (cell_) cell_->request_stop(StopReason::normal);
  }

  /// Enqueues without waiting. Fails with `mailbox_full` or `actor_stopped`; the message is
  /// then dropped.
  template <typename M>
    requires Handles<A, std::remove_cvref_t<M>>
  Result<void> try_send(M&& msg) const {
    using T = std::remove_cvref_t<M>;
    if (!cell_) return fail(Errc::actor_stopped);
    // No pre-check of the state word: reading it first would cost a second cache-line
    // transfer per message; a refused envelope goes straight back to the pool.
    auto* e = new detail::OneWayEnvelope<A, T>(T(std::forward<M>(msg)));
    Result<void> r = cell_->try_push(e);
    if (!r) e->reject(Errc::actor_stopped);
    return r;
  }

  /// Enqueues, waiting for a free slot. Lazy: nothing happens until awaited or `get()`.
  template <typename M>
    requires Handles<A, std::remove_cvref_t<M>>
  SendOp do_send(M&& msg) const {
    using T = std::remove_cvref_t<M>;
    return SendOp(cell_, new detail::OneWayEnvelope<A, T>(T(std::forward<M>(msg))));
  }

  /// Request-response. Lazy: nothing happens until awaited or `get()`.
  template <typename M>
    requires Handles<A, std::remove_cvref_t<M>>
  Request<reply_t<M>> send(M&& msg) const {
    return make_request(std::forward<M>(msg), std::nullopt);
  }
  /// Request-response with a deadline covering the wait for space and the reply.
  template <typename M>
    requires Handles<A, std::remove_cvref_t<M>>
  Request<reply_t<M>> send(M&& msg, Duration timeout) const {
    return make_request(std::forward<M>(msg), timeout);
  }

  /// A type-erased handle accepting only `M`.
  template <typename M>
    requires Handles<A, M>
  Recipient<M> recipient() const;

  explicit operator bool() const noexcept { return static_cast<bool>(cell_); }
  friend bool operator==(const Addr& a, const Addr& b) noexcept { return a.cell_ == b.cell_; }

  /// Runtime use.
  const detail::RefPtr<detail::CellBase>& cell() const noexcept { return cell_; }

 private:
  template <typename M>
  Request<reply_t<M>> make_request(M&& msg, std::optional<Duration> timeout) const {
    using T = std::remove_cvref_t<M>;
    auto* e = new detail::RequestEnvelope<A, T>(T(std::forward<M>(msg)));
    return Request<reply_t<M>>(cell_, e, e, timeout);
  }

  detail::RefPtr<detail::CellBase> cell_;
};

}  // namespace cineyma
