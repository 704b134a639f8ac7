// tests/support/cluster_harness.hpp — N gossip engines over a simulated message network.
//
// The cluster core is a pure state machine (cineyma/cluster/gossip_engine.hpp); this harness is
// the smallest world that drives it: every node is a `sim::Simulation` node, its ticks are timers
// on that node's clock, and a message is a timer on the receiver's clock that fires after a
// latency drawn from the sender's seeded PRNG. There is no byte stream: a message is the
// engine's own `GossipMessage` (optionally round-tripped through the codec). Faults are applied
// here: crash and restart (a fresh engine), pause (ticks and deliveries wait; the backlog is
// handled on resume), partitions (messages across groups are dropped), latency spikes.
//
// Everything is seeded by the Simulation: one seed replays a whole run. Used by the CI scenarios
// (tests/sim/cluster_sim_test.cpp) and by the measurement program (bench/cluster_sim_bench.cpp).
//
// Threading: one thread, the simulation's (like everything under a Simulation).
#pragma once

#include <cineyma/cluster/gossip_engine.hpp>
#include <cineyma/sim/simulation.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cineyma::test {

/// Knobs of one simulated cluster. Durations of the network in microseconds, units last.
struct ClusterHarnessOptions {
  std::size_t nodes = 10;
  /// Template for every node: node_id, endpoint and seeds are filled in by the harness.
  cluster::GossipConfig gossip{};
  /// The first `seed_nodes` nodes are the seeds every node joins through.
  std::size_t seed_nodes = 1;
  /// One-way latency of a message, uniform in [min, max].
  std::int64_t latency_us_min = 200;
  std::int64_t latency_us_max = 5'000;
  /// With probability spike_numerator/spike_denominator a message is delayed by an extra
  /// uniform [spike_us_min, spike_us_max] (a latency spike).
  std::uint64_t spike_numerator = 0;
  std::uint64_t spike_denominator = 1;
  std::int64_t spike_us_min = 0;
  std::int64_t spike_us_max = 0;
  /// Encode every message and decode it on arrival (exercises the codec; slower).
  bool codec_roundtrip = false;
};

/// A membership event as one node observed it.
struct ObservedEvent {
  TimePoint at;
  std::size_t observer = 0;
  cluster::MemberEvent event;
};

/// A registration a node lost, as reported to it.
struct ObservedLoss {
  TimePoint at;
  std::size_t node = 0;
  cluster::RegistrationLost lost;
};

class ClusterHarness {
 public:
  /// Adds `options.nodes` nodes to `sim` ("node-0000", ...) and schedules each node's first
  /// tick at a random offset within the first gossip interval. Nothing runs until the caller
  /// drives `sim`.
  ClusterHarness(sim::Simulation& sim, ClusterHarnessOptions options);
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;

  std::size_t size() const noexcept { return nodes_.size(); }
  static std::string node_id(std::size_t i);
  cluster::GossipEngine& engine(std::size_t i) { return *nodes_.at(i).engine; }
  const cluster::GossipEngine& engine(std::size_t i) const { return *nodes_.at(i).engine; }
  /// True unless crashed or gone after a leave.
  bool alive(std::size_t i) const { return nodes_.at(i).alive; }
  /// The node's environment (its clock and PRNG).
  Environment& environment(std::size_t i) { return nodes_.at(i).sim_node->environment(); }
  TimePoint now() const noexcept { return sim_.now(); }
  sim::Simulation& simulation() noexcept { return sim_; }

  // ---- faults ----
  /// The process dies: no more ticks; messages in flight to it are lost.
  void crash(std::size_t i);
  /// A fresh process with the same id and endpoint starts (empty state, `incarnation`).
  void restart(std::size_t i, std::uint64_t incarnation = 0);
  /// The process stops running for `d`: ticks and deliveries wait, then run on resume.
  void pause(std::size_t i, Duration d);
  /// Graceful leave: the engine leaves now, keeps answering for two intervals, then stops.
  void leave(std::size_t i);
  /// Messages between nodes of different groups are dropped (group_of[i] for node i).
  void partition(std::vector<int> group_of);
  void heal();

  // ---- observation ----
  const std::vector<ObservedEvent>& events() const noexcept { return events_; }
  const std::vector<ObservedLoss>& losses() const noexcept { return losses_; }
  /// Called for every membership event as it happens (for invariants checked during a run).
  std::function<void(const ObservedEvent&)> on_event;
  std::uint64_t messages_sent() const noexcept { return sent_; }
  std::uint64_t messages_dropped() const noexcept { return dropped_; }

  /// Every alive node knows every node of the harness as Up, at the same incarnation in all
  /// views (the "converged, all Up, same view" of the issue). O(N²).
  bool all_up_same_view() const;
  /// Every alive node holds the same membership (node, status, incarnation, epoch) and the same
  /// registry records; every alive node is Up in it; every dead node is Down or Left. O(N²).
  bool agree() const;
  /// Runs the simulation in steps of `step` until `done()` or `deadline` more simulated time
  /// passed; returns the simulated time it took, or nullopt on timeout.
  std::optional<Duration> run_until(const std::function<bool()>& done, Duration deadline,
                                    Duration step = std::chrono::milliseconds(100));

 private:
  struct SimNode {
    sim::Node* sim_node = nullptr;
    std::unique_ptr<cluster::GossipEngine> engine;
    bool alive = true;
    std::uint64_t life = 0;  ///< bumped by crash/restart: stale timers and messages are dropped
    TimePoint paused_until{};
    std::vector<std::shared_ptr<const cluster::GossipMessage>> backlog;
    bool resume_scheduled = false;
  };

  cluster::GossipConfig config_for(std::size_t i, std::uint64_t incarnation) const;
  void schedule_tick(std::size_t i, Duration delay);
  void on_tick(std::size_t i, std::uint64_t life);
  void deliver(std::size_t i, std::uint64_t life,
               const std::shared_ptr<const cluster::GossipMessage>& message);
  void resume(std::size_t i, std::uint64_t life);
  void apply(std::size_t from, cluster::Effects& fx);
  Duration draw_latency(std::size_t from);
  bool reachable(std::size_t a, std::size_t b) const;

  sim::Simulation& sim_;
  ClusterHarnessOptions options_;
  std::vector<SimNode> nodes_;
  std::map<std::string, std::size_t, std::less<>> by_id_;
  std::map<std::string, std::size_t, std::less<>> by_endpoint_;
  std::vector<int> group_of_;
  std::vector<ObservedEvent> events_;
  std::vector<ObservedLoss> losses_;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

/// The value at quantile numerator/denominator (nearest rank) of `values` (sorted in place).
/// Integer arithmetic only. Empty input gives Duration::zero().
Duration quantile(std::vector<Duration>& values, std::uint64_t numerator,
                  std::uint64_t denominator);

}  // namespace cineyma::test
