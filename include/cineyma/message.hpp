// cineyma/message.hpp — what a message is, and the built-in system messages.
//
// Any movable type is a message. A message that expects an answer declares it:
//   struct Add { int a, b; using reply = int; };
// Without a `reply` member the reply type is `void` (fire-and-forget, or "done" for `send`).
#pragma once

#include <cineyma/actor_id.hpp>

#include <ostream>
#include <type_traits>

namespace cineyma {

namespace detail {
template <typename M, typename = void>
struct reply_of {
  using type = void;
};
template <typename M>
struct reply_of<M, std::void_t<typename M::reply>> {
  using type = typename M::reply;
};
}  // namespace detail

/// The reply type of message `M`: `M::reply` if declared, else `void`.
template <typename M>
using reply_t = typename detail::reply_of<std::remove_cvref_t<M>>::type;

/// A type can be sent between actors if it can be moved into a mailbox.
template <typename M>
concept Message = std::is_object_v<M> && std::is_move_constructible_v<M> &&
                  std::is_destructible_v<M>;

/// Why an actor stopped.
enum class StopReason : unsigned char {
  normal,         ///< it called `ctx.stop()` (or was stopped through its address).
  failed,         ///< user code threw and supervision decided to stop it.
  restart_limit,  ///< it failed more often than its restart strategy allows.
  escalated,      ///< a child escalated a failure to it and it stopped as a consequence.
  shutdown,       ///< its parent or the system stopped it.
};

/// Short, stable name of a reason ("normal", ...).
const char* to_string(StopReason r) noexcept;

inline std::ostream& operator<<(std::ostream& os, StopReason r) { return os << to_string(r); }

/// Delivered to every watcher (and to the parent) when a watched actor stops for good.
/// Travels in the system queue: a full mailbox never loses it, and it is delivered once per
/// watcher and dead actor.
struct Terminated {
  ActorId id;
  StopReason reason = StopReason::normal;
};

}  // namespace cineyma
