// cineyma/detail/envelopes.hpp — typed envelopes and the handler concept.
//
// An envelope carries one message of type M to an actor of type A. A one-way envelope is
// deleted after its handler ran; a request envelope is also the request's Completion (one
// allocation shared by requester and mailbox). Delivery (`deliver`) is defined in
// actor_cell.hpp, where the actor cell type is complete.
#pragma once

#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/completion.hpp>
#include <cineyma/message.hpp>
#include <cineyma/task.hpp>

#include <concepts>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace cineyma {

template <typename A>
class Context;

namespace detail {

template <typename A, typename M>
concept HandlesRvalue = requires(A& a, M&& m, Context<A>& c) { a.handle(std::move(m), c); };
template <typename A, typename M>
concept HandlesLvalue = requires(A& a, M& m, Context<A>& c) { a.handle(m, c); };

/// Calls `a.handle(msg, ctx)`, passing the message as an rvalue when the handler accepts one.
template <typename A, typename M>
  requires HandlesRvalue<A, M> || HandlesLvalue<A, M>
decltype(auto) invoke_handler(A& a, M& msg, Context<A>& ctx) {
  if constexpr (HandlesRvalue<A, M>) {
    return a.handle(std::move(msg), ctx);
  } else {
    return a.handle(msg, ctx);
  }
}

template <typename A, typename M>
struct handler_result {
  using type = std::conditional_t<
      HandlesRvalue<A, M>,
      decltype(std::declval<A&>().handle(std::declval<M&&>(), std::declval<Context<A>&>())),
      void>;
};
template <typename A, typename M>
  requires(!HandlesRvalue<A, M> && HandlesLvalue<A, M>)
struct handler_result<A, M> {
  using type =
      decltype(std::declval<A&>().handle(std::declval<M&>(), std::declval<Context<A>&>()));
};
template <typename A, typename M>
using handler_result_t = typename handler_result<A, M>::type;

template <typename R, typename Reply>
inline constexpr bool reply_compatible_v =
    std::is_void_v<Reply> ? true : std::is_convertible_v<R, Reply>;

template <typename R, typename Reply>
struct handler_returns_ok : std::bool_constant<reply_compatible_v<R, Reply>> {};
template <typename X, typename Reply>
struct handler_returns_ok<Task<X>, Reply> : std::bool_constant<reply_compatible_v<X, Reply>> {};

}  // namespace detail

/// `A` has a handler for messages of type `M`:
/// `R handle(const M&, Context&)` (or `M&&`, or by value), where `R` is `reply_t<M>` (or
/// convertible to it), or `Task<R>` for an asynchronous handler. A message without a reply
/// type may be handled by a handler returning anything (the value is discarded).
template <typename A, typename M>
concept Handles = Message<M> &&
                  (detail::HandlesRvalue<A, M> || detail::HandlesLvalue<A, M>) &&
                  detail::handler_returns_ok<detail::handler_result_t<A, M>, reply_t<M>>::value;

namespace detail {

template <typename A, typename M, typename E>
void deliver(CellBase& cell, E* envelope) noexcept;

template <typename M>
const char* message_type_name() noexcept {
  return typeid(M).name();
}

/// The delivery protocol of a message nobody waits for (see deliver()): replies and
/// failures go nowhere; the envelope is deleted once handled.
template <typename M>
class OneWayBase : public Envelope {
 public:
  explicit OneWayBase(M&& m) : msg(std::move(m)) {}
  const char* type_name() const noexcept override { return message_type_name<M>(); }

  template <typename V>
  void reply(V&&) noexcept {}
  void reply_void() noexcept {}
  void fail_handler() noexcept {}
  void finish() noexcept { delete this; }

  M msg;
  CellBase* async_cell = nullptr;  // set while an async handler runs
};

/// A fire-and-forget message.
template <typename A, typename M>
class OneWayEnvelope final : public OneWayBase<M> {
 public:
  explicit OneWayEnvelope(M&& m) : OneWayBase<M>(std::move(m)) {}
  void dispatch(CellBase& cell) noexcept override { deliver<A, M>(cell, this); }
  void reject(Errc) noexcept override { delete this; }
};

/// A request: the envelope is also the reply's Completion.
template <typename A, typename M>
class RequestEnvelope final : public Envelope, public Completion<reply_t<M>> {
 public:
  using reply_type = reply_t<M>;
  /// Starts with two references: the requester's and the mailbox's.
  explicit RequestEnvelope(M&& m) : msg(std::move(m)) { this->add_ref(); }
  void dispatch(CellBase& c) noexcept override { deliver<A, M>(c, this); }
  void reject(Errc why) noexcept override {
    this->complete_error(why);
    this->release();
  }
  const char* type_name() const noexcept override { return message_type_name<M>(); }

  template <typename V>
  void reply(V&& v) {
    if constexpr (std::is_void_v<reply_type>) {
      this->complete_value();
    } else {
      this->complete_value(static_cast<reply_type>(std::forward<V>(v)));
    }
  }
  void reply_void() noexcept { this->complete_value(); }
  void fail_handler() noexcept { this->complete_error(Errc::handler_failed); }
  /// Drops the mailbox's reference.
  void finish() noexcept { this->release(); }

  M msg;
  CellBase* async_cell = nullptr;

 protected:
  void destroy_self() noexcept override { delete this; }
};

}  // namespace detail
}  // namespace cineyma
