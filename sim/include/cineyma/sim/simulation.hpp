// cineyma/sim/simulation.hpp — the deterministic, single-threaded runtime.
//
// A Simulation owns virtual time and a seeded PRNG. Each simulated process ("node") gets its
// own Environment: an executor whose ready tasks are picked by the seeded PRNG, a clock that
// reads virtual time, its own PRNG stream, and a transport. Nothing here touches a real clock,
// thread or socket, so one seed always replays the same run: time jumps to the next event, and
// among tasks ready at the same instant the PRNG chooses.
//
// Faults (see `SimulationOptions` and the fault calls of `Simulation`) are seeded events too:
// partitions, stalls, resets, half-open connections, latency tails, crashes with restart,
// pauses, clock skew and drift, exceptions injected into handlers and `CINEYMA_BUGGIFY`
// points in library code.
//
// Threading: a Simulation and everything it hands out are used from one thread only.
#pragma once

#include <cineyma/actor_id.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/result.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cineyma::sim {

/// An integer probability numerator/denominator (no floating point: replay must not depend
/// on the host's rounding). `{0, 1}` never fires; `{1, 1}` always does.
struct Ratio {
  std::uint64_t numerator = 0;
  std::uint64_t denominator = 1;
  friend bool operator==(const Ratio&, const Ratio&) = default;
};

/// Every knob of a simulation, in one place (units last in names, probabilities as integer
/// ratios). The defaults give a fault-free network with a fixed latency; `swarm(seed)` draws
/// a random mix of faults from a seed (swarm testing: each run enables a different subset).
///
/// Network faults are those TCP really has. Per segment (one `async_write`, or a FIN):
/// latency `latency_us` + uniform [0, `latency_jitter_us`], plus, with `latency_tail_ratio`,
/// a long tail of uniform [0, `latency_tail_us`]; with `stall_ratio`, the direction stalls
/// for uniform [0, `stall_us`] (everything sent after waits behind it: TCP is a FIFO); with
/// `reset_ratio`, the connection is reset (both ends see `Errc::disconnected`); with
/// `half_open_ratio`, one end vanishes silently: the other's writes still succeed and its
/// reads never complete (only a deadline of its own gets it out). Per connect: with
/// `connect_refused_ratio` the SYN is refused although someone listens. Partitions hold
/// bytes; a connection that stays partitioned longer than `tcp_timeout_us` breaks with
/// probability `partition_break_ratio` (else it stalls until `heal`), and a connect across
/// a partition fails with `std::errc::timed_out` after `tcp_timeout_us`.
struct SimulationOptions {
  /// Record every executed task and fired timer in the trace (for `trace_hash`).
  bool trace = true;
  /// Also keep the executed events in memory, for `write_trace` (costs memory per event).
  bool record_events = false;

  // -- network --
  /// Base one-way latency of every link (and of a node to itself), in microseconds: each
  /// byte, FIN, SYN and refusal arrives at least this long after it was sent.
  std::int64_t latency_us = 100;
  /// Uniform extra latency per segment: [0, latency_jitter_us].
  std::int64_t latency_jitter_us = 0;
  /// Probability that a segment takes the long tail.
  Ratio latency_tail_ratio{};
  /// The long tail: uniform extra latency [0, latency_tail_us].
  std::int64_t latency_tail_us = 0;
  /// Probability, per segment, that its direction stalls.
  Ratio stall_ratio{};
  /// A stall holds the direction for uniform [0, stall_us].
  std::int64_t stall_us = 0;
  /// Probability, per segment, that the connection is reset.
  Ratio reset_ratio{};
  /// Probability, per segment, that the connection becomes half-open.
  Ratio half_open_ratio{};
  /// Probability that a connect is refused although a listener exists (full backlog).
  Ratio connect_refused_ratio{};
  /// Probability that a connection partitioned for longer than `tcp_timeout_us` breaks.
  Ratio partition_break_ratio{};
  /// How long TCP retries across a partition before giving up, in microseconds.
  std::int64_t tcp_timeout_us = 2'000'000;

  // -- fault points --
  /// Probability that any user callback (message handler, `started()`, stream hook) throws
  /// `cineyma::InjectedFault` instead of running. Drawn from a per-node fault stream of the
  /// seed, so the same seed injects the same faults.
  Ratio callback_exceptions{};
  /// Arms `CINEYMA_BUGGIFY` points: each site (file:line) is enabled for this seed with
  /// `buggify_site_ratio`, and an enabled site fires with `buggify_fire_ratio`.
  bool buggify = false;
  Ratio buggify_site_ratio{1, 4};
  Ratio buggify_fire_ratio{1, 4};

  /// A mix of faults drawn from `seed` (each knob off, or on with a random value), with
  /// `trace`/`record_events` left at their defaults. Same seed, same options.
  static SimulationOptions swarm(std::uint64_t seed);
};

/// One line listing every knob, `name=value` separated by spaces (ratios as `n/d`), for logs:
/// a run prints its options so that a failure says which faults were on.
std::string describe(const SimulationOptions& options);

class Simulation;

/// One simulated process.
///
/// A process has volatile state: whatever its `boot` function built (see
/// `Simulation::add_node(name, boot)` and `Simulation::restart`), held by the node through
/// `make<T>()`/`adopt()`. `Simulation::crash` destroys that state, with every pending task,
/// timer, stream and listener of the node; `restart` runs `boot` again on a fresh process.
class Node {
 public:
  /// Type-erased owner of one piece of boot state.
  class State {
   public:
    virtual ~State() = default;
  };

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

  /// Hands `state` to the node: it lives until the node crashes (or the simulation ends),
  /// and pieces are destroyed in reverse order of adoption. Not while the node is down.
  virtual void adopt(std::unique_ptr<State> state) = 0;
  /// Builds a `T` owned by the node (see `adopt`) and returns it; typically called by a
  /// boot function: `auto& system = node.make<ActorSystem>(node.environment());`.
  template <typename T, typename... Args>
  T& make(Args&&... args) {
    auto holder = std::make_unique<Holder<T>>(std::forward<Args>(args)...);
    T& value = holder->value;
    adopt(std::move(holder));
    return value;
  }

  /// False between `crash` and `restart`.
  virtual bool is_up() const noexcept = 0;
  /// How many times the node has been (re)started: 1 after `add_node`, +1 per restart. A
  /// node's incarnation, as a cluster would see it.
  virtual std::uint64_t incarnation() const noexcept = 0;

 private:
  template <typename T>
  struct Holder final : State {
    template <typename... Args>
    explicit Holder(Args&&... args) : value(std::forward<Args>(args)...) {}
    T value;
  };
};

/// Builds a node's volatile state on a fresh process (see `Node`).
using BootFunction = std::function<void(Node&)>;

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
  /// Adds a node and runs `boot(node)` on it at once (outside any task); `restart` without a
  /// boot function runs the same one again.
  Node& add_node(std::string name, BootFunction boot);
  /// The node called `name`, or nullptr.
  Node* node(std::string_view name) noexcept;

  // -- faults. Each call acts at the current virtual time, from outside the simulation's
  //    tasks (assertion); `name`s must be existing nodes (assertion). --

  /// Cuts the links between every node of `a` and every node of `b`, both ways. Bytes in
  /// flight and sent later are held (TCP retransmits) until `heal`; connects across fail.
  void partition(const std::vector<std::string>& a, const std::vector<std::string>& b);
  /// Cuts only the direction from each node of `from` to each node of `to`.
  void partition_one_way(const std::vector<std::string>& from,
                         const std::vector<std::string>& to);
  /// Restores every link: held bytes flow again (after one latency), in order.
  void heal();
  /// Kills the process `name` at once: every stream of the node is closed (peers see the
  /// connection end after the latency, or after `heal` if partitioned), its listeners close,
  /// then its boot state is destroyed in reverse order of adoption. Destruction runs the
  /// node's remaining work in isolation — only this node's tasks, without virtual time
  /// passing, its timers firing as soon as nothing else is ready, no bytes leaving it — so
  /// that an `ActorSystem` can unwind; whatever is left afterwards is dropped unrun. While
  /// down, the node's posts and timers are dropped and connects to it are refused.
  /// Requires the node to be up. Build a process's state through its boot function: state
  /// built on the node's environment outside it (an `ActorSystem` owned by the test) has its
  /// queued work dropped and is unusable afterwards. The unwinding runs only this node, so a
  /// `stopped()` hook that waits for another node's answer cannot complete (assertion).
  void crash(std::string_view name);
  /// Starts a fresh process on node `name` (crashing it first when it is up) and runs
  /// `boot(node)` on it; the node's incarnation grows by one.
  void restart(std::string_view name, BootFunction boot);
  /// Like `restart(name, boot)` with the node's last boot function (or none).
  void restart(std::string_view name);
  /// Stops the process `name` for `d` of virtual time (as SIGSTOP, or a long GC pause): none
  /// of its tasks run, its timers fire late, bytes sent to it wait. Pausing a paused node
  /// extends the pause to the later end.
  void pause(std::string_view name, Duration d);
  /// From now on node `name`'s clock reads `offset` further ahead (a negative offset holds
  /// it still until real time catches up: it never runs backwards) and runs
  /// `drift_ppm` parts per million fast (negative: slow; > -1'000'000). Other nodes and
  /// virtual time are unaffected. Timers of the node fire when its own clock reaches their
  /// deadline, also those scheduled before the change.
  void clock_skew(std::string_view name, Duration offset, std::int64_t drift_ppm = 0);

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

  /// Current virtual time (per-node clocks may be skewed from it: see `clock_skew`).
  TimePoint now() const noexcept;
  /// Number of events (tasks, timers included) executed so far.
  std::uint64_t events() const noexcept;
  /// Hash of the trace of executed events: for each, its index, virtual time, node, kind and
  /// the runnable's `trace_tag()` (never an address). Same seed ⇒ same hash. Stays at its
  /// initial value when `options.trace` is false.
  std::uint64_t trace_hash() const noexcept;
  /// The options the simulation runs with.
  const SimulationOptions& options() const noexcept;

  /// Writes the recorded events (needs `options.record_events`) as Chrome trace-event JSON:
  /// nodes are processes, actors (a task's `trace_tag`) threads, and each post, timer or
  /// network delivery caused by a task is a flow arrow from that task to the one it caused.
  /// Opens in Perfetto (ui.perfetto.dev) and chrome://tracing. Fails with the I/O error.
  Result<void> write_trace(const std::string& path) const;

  /// How often each code probe (`CINEYMA_CODE_PROBE`) was reached in this run, by name.
  std::map<std::string, std::uint64_t> probes() const;
  /// How many times each BUGGIFY site fired in this run, by "file:line" (armed sites only).
  std::map<std::string, std::uint64_t> buggify_fired() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cineyma::sim
