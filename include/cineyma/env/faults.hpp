// cineyma/env/faults.hpp — fault points that a deterministic environment may arm.
//
// Library code asks the environment's `FaultInjector` (if it has one) at a few well-defined
// points whether to misbehave. The real environment has none, so on the real runtime every
// fault point is a single null-pointer check that is never taken. Under simulation the
// injector decides from the seed, so an injected failure replays exactly.
#pragma once

#include <cineyma/actor_id.hpp>

#include <stdexcept>
#include <string>

namespace cineyma {

/// The exception the runtime throws in place of a user callback when a fault is injected.
/// It is an ordinary failure of that actor: supervision handles it like any user exception.
class InjectedFault : public std::runtime_error {
 public:
  explicit InjectedFault(const std::string& what) : std::runtime_error(what) {}
};

/// Where a user callback is about to run, for `FaultInjector::inject_exception`.
enum class FaultSite : unsigned char {
  handler,         ///< a message handler (sync, or the start of an async one)
  started,         ///< the `started()` hook
  stream_handler,  ///< a stream item or `finished` hook
};

/// Decides whether a fault point fires. Implemented by simulated environments.
///
/// Threading: called on the executor thread that runs the actor (the simulation thread).
class FaultInjector {
 public:
  virtual ~FaultInjector() = default;

  /// Called just before a user callback of actor `id` runs. True: the runtime throws
  /// `InjectedFault` instead of running the callback (the callback never starts).
  virtual bool inject_exception(ActorId id, FaultSite site) noexcept = 0;
};

/// Short name of a site ("handler", "started", "stream_handler").
const char* to_string(FaultSite site) noexcept;

}  // namespace cineyma
