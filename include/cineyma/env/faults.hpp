// cineyma/env/faults.hpp — fault points that a deterministic environment may arm.
//
// Library code asks the environment's `FaultInjector` (if it has one) at a few well-defined
// points whether to misbehave. The real environment has none, so on the real runtime every
// fault point is a single null-pointer check that is never taken. Under simulation the
// injector decides from the seed, so an injected failure replays exactly.
//
// Three kinds of fault points:
//  - exceptions injected into user callbacks (`inject_exception`, called by the actor cell);
//  - `CINEYMA_BUGGIFY(env)`: a condition in library code that is true only under simulation,
//    for seeds that arm that site, and then only sometimes (FoundationDB's BUGGIFY). Use it
//    to take a legal but rare path: yield early, split a write, shorten a read. Never to
//    break a guarantee the code makes.
//  - `CINEYMA_CODE_PROBE(env, "name")`: counts that a rare path was reached, so a run of
//    many seeds can show that the path was exercised at all.
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

  /// Whether the BUGGIFY point at `file`:`line` fires now (see `CINEYMA_BUGGIFY`). `file`
  /// is a string literal (`__FILE__`); only its last path component identifies the site, so
  /// that a seed arms the same sites in every build tree.
  virtual bool buggify(const char* file, int line) noexcept = 0;

  /// Records that the code probe `name` (a string literal) was reached.
  virtual void probe(const char* name) noexcept = 0;

  /// Trace hooks: a message `envelope` (an opaque token, unique while it is queued) entered a
  /// mailbox of this environment, and later was taken out to be handled. The simulator draws
  /// each such pair as a flow arrow from the sending event to the handling one.
  virtual void message_enqueued(const void* envelope) noexcept { (void)envelope; }
  virtual void message_dispatched(const void* envelope, const char* type_name) noexcept {
    (void)envelope;
    (void)type_name;
  }
};

namespace detail {
/// The body of `CINEYMA_BUGGIFY`: false without an injector (the real runtime).
inline bool buggify_point(FaultInjector* faults, const char* file, int line) noexcept {
  return faults != nullptr && faults->buggify(file, line);
}
/// The body of `CINEYMA_CODE_PROBE`.
inline void code_probe(FaultInjector* faults, const char* name) noexcept {
  if (faults != nullptr) faults->probe(name);
}
}  // namespace detail

/// True, under simulation, when this site is armed for the seed and fires this time; always
/// false on the real runtime. `env` is an `Environment&` (anything with `faults()`).
#define CINEYMA_BUGGIFY(env) (::cineyma::detail::buggify_point((env).faults(), __FILE__, __LINE__))
/// Same, given the `FaultInjector*` itself (which code may have cached; may be null).
#define CINEYMA_BUGGIFY_WITH(faults) \
  (::cineyma::detail::buggify_point((faults), __FILE__, __LINE__))
/// Counts that this rare path was reached (a no-op on the real runtime). `name` is a string
/// literal naming the path, e.g. "mailbox full".
#define CINEYMA_CODE_PROBE(env, name) (::cineyma::detail::code_probe((env).faults(), (name)))
/// Same, given the `FaultInjector*` (may be null).
#define CINEYMA_CODE_PROBE_WITH(faults, name) (::cineyma::detail::code_probe((faults), (name)))

/// Short name of a site ("handler", "started", "stream_handler").
const char* to_string(FaultSite site) noexcept;

}  // namespace cineyma
