// cineyma/sim/simulation.hpp — the deterministic, single-threaded runtime.
//
// A Simulation owns virtual time and a seeded PRNG. Each simulated process ("node") gets its
// own Environment: an executor whose ready tasks are picked by the seeded PRNG, a clock that
// reads virtual time, its own PRNG stream, and a transport. Nothing here touches a real clock,
// thread or socket, so one seed always replays the same run: time jumps to the next event, and
// among tasks ready at the same instant the PRNG chooses.
//
// Threading: a Simulation and everything it hands out are used from one thread only.
#pragma once

#include <cineyma/actor_id.hpp>
#include <cineyma/env/environment.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace cineyma::sim {

/// An integer probability numerator/denominator (no floating point: replay must not depend
/// on the host's rounding).
struct Ratio {
  std::uint64_t numerator = 0;
  std::uint64_t denominator = 1;
};

/// Knobs of a simulation.
struct SimulationOptions {
  /// Record every executed task and fired timer in the trace (for `trace_hash`).
  bool trace = true;
  /// One-way latency of every link between nodes (and of a node to itself), in
  /// microseconds: each byte, FIN, SYN and refusal arrives this long after it was sent.
  std::int64_t latency_us = 100;
  /// Probability that any user callback (message handler, `started()`, stream hook) throws
  /// `cineyma::InjectedFault` instead of running. Drawn from a per-node fault stream of the
  /// seed, so the same seed injects the same faults.
  Ratio callback_exceptions{};
};

class Simulation;

/// One simulated process.
class Node {
 public:
  virtual ~Node() = default;
  /// The node's environment; feed it to `ActorSystem{node.environment()}`.
  virtual Environment& environment() noexcept = 0;
  virtual const std::string& name() const noexcept = 0;

  /// Makes the next `count` user callbacks of actor `id` on this node (message handlers,
  /// `started()`, stream hooks, in the order they would run) throw `cineyma::InjectedFault`
  /// instead of running. Adds to any count already pending for that actor.
  virtual void inject_exception(ActorId id, int count = 1) = 0;
  /// Changes this node's probability of injecting an exception into any user callback
  /// (initially `SimulationOptions::callback_exceptions`): arm faults once a scenario is set
  /// up, disarm them before checking its outcome.
  virtual void set_callback_exceptions(Ratio ratio) noexcept = 0;
  /// How many exceptions this node has injected so far (targeted and random).
  virtual std::uint64_t injected_exceptions() const noexcept = 0;
};

/// The simulated world.
class Simulation {
 public:
  explicit Simulation(std::uint64_t seed, SimulationOptions options = {});
  /// Destroys every pending task and timer without running it (runnables posted by
  /// reference are not owned: they are just forgotten). Everything built on a node's
  /// environment (actor systems, listeners, streams) must be destroyed first.
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  std::uint64_t seed() const noexcept;

  /// Adds a node with its own environment. Names must be unique (assertion).
  Node& add_node(std::string name);
  /// The node called `name`, or nullptr.
  Node* node(std::string_view name) noexcept;

  /// Runs one event: a ready task of any node, chosen by the seeded PRNG; when none is
  /// ready, first advances time to the earliest timer (every timer due then becomes ready).
  /// Returns false when nothing is ready and no timer is pending.
  /// Never from inside a simulated task (assertion), and likewise for the run_* calls.
  bool step();
  /// Runs every event up to now()+d; afterwards the time is exactly now()+d, even when the
  /// simulation went idle earlier.
  void run_for(Duration d);
  /// Runs until `done()` is true (checked before the first and after every event), or the
  /// next event lies beyond now()+deadline (time then stops at the deadline), or nothing is
  /// left to run (time stays at the last event). Returns `done()`.
  bool run_until(const std::function<bool()>& done, Duration deadline);
  /// Runs until nothing is left to run (time stays at the last event) or the next event lies
  /// beyond now()+deadline (time then stops at the deadline).
  void run_until_idle(Duration deadline);

  /// Current virtual time (the same for every node; per-node skew comes later).
  TimePoint now() const noexcept;
  /// Number of events (tasks, timers included) executed so far.
  std::uint64_t events() const noexcept;
  /// Hash of the trace of executed events: for each, its index, virtual time, node, kind and
  /// the runnable's `trace_tag()` (never an address). Same seed ⇒ same hash. Stays at its
  /// initial value when `options.trace` is false.
  std::uint64_t trace_hash() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cineyma::sim
