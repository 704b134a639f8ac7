// cineyma/actor.hpp — the `Actor<Derived>` base class.
//
//   class Counter : public cineyma::Actor<Counter> {
//    public:
//     void started(Context& ctx);               // optional: runs before the first message
//     void stopped(Context& ctx);               // optional: runs once when it stops
//     int handle(const Get& m, Context& ctx);   // one handler per message type
//   };
//
// Hooks and handlers run on an executor thread, one at a time per actor, so an actor's
// state needs no locks. (One exception to "a worker": on the real runtime, a plain thread
// blocked in `addr.send(m).get()` without a deadline may handle `m` itself while the actor
// is idle — still one at a time, as one of the executor's tasks; see
// `RealEnvironmentOptions::inline_blocking_calls`.) An exception escaping any of them is a
// failure of the actor, handled by supervision (top-level actors stop with reason
// `failed`); it never reaches the runtime.
// An actor must be movable (it is moved into its cell at spawn).
#pragma once

#include <cineyma/context.hpp>

namespace cineyma {

/// CRTP base of every actor. Provides the `Context` alias and no-op lifecycle hooks.
template <typename Derived>
class Actor {
 public:
  using Context = cineyma::Context<Derived>;

  /// Called once per instance before any message. Default: nothing.
  void started(Context&) {}
  /// Called once per instance when it stops (after its children stopped). Default: nothing.
  void stopped(Context&) {}
};

}  // namespace cineyma
