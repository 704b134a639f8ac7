// cineyma/stream.hpp — what an actor implements to consume streams.
//
// A stream is attached with `ctx.add_stream(source)`, where the source is the receiving end of
// a `cineyma::Channel<T>` (channel.hpp) or a `cineyma::Generator<T>` (generator.hpp). Its
// items go to the actor's *stream hook*, which is distinct from message handlers, so one type
// can be both a message and a stream item:
//
//   class Printer : public cineyma::Actor<Printer> {
//    public:
//     void started(Context& ctx) { ctx.add_stream(std::move(lines_)); }
//     void handle_stream(std::string line, Context& ctx);               // each item
//     void finished(cineyma::StreamEnd<std::string> end, Context& ctx); // optional
//   };
//
// Contract (cell thread, like every hook):
// * Items of one stream arrive in order, one at a time, never concurrently with a message.
// * Streams and the mailbox are interleaved fairly: while both have work the actor alternates
//   between one message and one stream item (round-robin over its ready streams), so neither
//   a busy mailbox nor a fast stream starves the other.
// * `finished` is called exactly once per stream that *ends* (channel closed and drained,
//   generator returned). A stream that is removed, or dropped because its actor instance
//   stops or restarts, does not call `finished`: the instance that would hear it is gone.
//   A restarted instance starts with no streams (re-add them in `started()`).
// * An exception from `handle_stream`, `finished` or a generator's body is a failure of the
//   actor, handled by supervision like a failing message handler. The item is not redelivered.
// * Stream hooks are synchronous (they may not return a Task).
#pragma once

#include <compare>
#include <concepts>
#include <cstdint>
#include <utility>

namespace cineyma {

template <typename A>
class Context;

/// Identifies one stream of one actor (unique for the life of the actor, restarts included).
struct StreamId {
  std::uint64_t value = 0;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

/// Passed to `finished` when a stream of `T` items ends.
template <typename T>
struct StreamEnd {
  StreamId id;
};

/// `A` has a stream hook for items of type `T`: `void handle_stream(T, Context&)`.
template <typename A, typename T>
concept HandlesStream = requires(A& a, T&& item, Context<A>& ctx) {
  { a.handle_stream(std::move(item), ctx) } -> std::same_as<void>;
};

/// `A` wants to hear when a stream of `T` ends: `void finished(StreamEnd<T>, Context&)`.
template <typename A, typename T>
concept HandlesStreamEnd = requires(A& a, StreamEnd<T> end, Context<A>& ctx) {
  a.finished(end, ctx);
};

}  // namespace cineyma
