// sim/src/world.hpp — the simulated world: virtual time, the ready set, the timer queue, the
// network and the nodes, plus the event loop that drives them.
//
// Invariants:
//  - virtual time only moves when no task is ready, and only to the earliest pending timer
//    (or to the end of a bounded run); it never moves backwards;
//  - the only source of ordering choices is `scheduler_random_` (seeded once);
//  - no task runs inline in the call that posts or schedules it, and the loop is never
//    re-entered from a running task (assertions).
#pragma once

#include "clock.hpp"
#include "executor.hpp"
#include "network.hpp"

#include <cineyma/detail/unique_function.hpp>
#include <cineyma/env/random.hpp>
#include <cineyma/sim/simulation.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cineyma::sim::internal {

class SimNode;

class World {
 public:
  World(std::uint64_t seed, const SimulationOptions& options);
  /// Destroys every pending task without running it (see `shutdown`).
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  std::uint64_t seed() const noexcept { return seed_; }
  const SimulationOptions& options() const noexcept { return options_; }

  // -- nodes --
  SimNode& add_node(std::string name);
  SimNode* find_node(std::string_view name) noexcept;
  std::optional<NodeIndex> find_node_index(std::string_view name) const noexcept;
  const std::string& node_name(NodeIndex node) const noexcept;

  // -- what node adapters forward to --
  TimePoint now() const noexcept { return now_; }
  /// True while a task runs (any node's).
  bool running() const noexcept { return running_; }
  void post(NodeIndex node, Runnable& r);
  void post(NodeIndex node, ::cineyma::detail::UniqueFunction fn);
  TimerId schedule_at(NodeIndex node, TimePoint when, ::cineyma::detail::UniqueFunction fn);
  bool cancel(NodeIndex node, TimerId id) noexcept;
  Network& network() noexcept { return network_; }

  // -- the event loop (never from inside a task) --
  /// Runs one ready task, first advancing time to the next timer if nothing is ready.
  /// Returns false when nothing is ready and no timer is pending.
  bool step();

  enum class Stop { done, deadline, idle };
  /// Steps until `done()` (checked before every step; may be empty), or until the next event
  /// lies beyond `deadline` (time then moves to the deadline), or until nothing is left to
  /// run (time stays at the last event).
  Stop drive(const std::function<bool()>& done, std::optional<TimePoint> deadline);
  /// Like `drive` to `deadline`, then sets the time to exactly `deadline`.
  void run_to(TimePoint deadline);

  std::uint64_t events() const noexcept { return events_; }
  std::uint64_t trace_hash() const noexcept { return trace_hash_; }

 private:
  void run_task(const ReadyEntry& entry);
  void record(const ReadyEntry& entry) noexcept;
  void shutdown() noexcept;

  std::uint64_t seed_;
  SimulationOptions options_;
  Prng scheduler_random_;  ///< picks the next ready task
  Prng node_seeds_;        ///< one fork per node, in creation order
  TimePoint now_{};
  bool running_ = false;
  bool shutting_down_ = false;
  std::uint64_t events_ = 0;
  std::uint64_t trace_hash_;

  // Declaration order matters for destruction: tasks (which may own streams) go first, in
  // `shutdown()`; then the network; then the nodes whose adapters everything refers to.
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::map<std::string, NodeIndex, std::less<>> node_by_name_;
  Network network_;
  ReadySet ready_;
  TimerQueue timers_;
};

}  // namespace cineyma::sim::internal
