// sim/src/world.hpp — the simulated world: virtual time, the ready set, the timer queue, the
// network and the nodes, plus the event loop that drives them.
//
// Invariants:
//  - virtual time only moves when no task may run (none ready, or only on paused nodes), and
//    only to the earliest pending timer or pause end (or to the end of a bounded run); it
//    never moves backwards;
//  - a node that is down has no task and no timer: whatever is posted or scheduled for it is
//    dropped at once;
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
  TimerId schedule_at(NodeIndex node, TimePoint when, ::cineyma::detail::UniqueFunction fn) {
    return schedule_at(node, when, when, std::move(fn));
  }
  /// `when` in world time; `local_when` the deadline on the node's clock (for retiming).
  TimerId schedule_at(NodeIndex node, TimePoint when, TimePoint local_when,
                      ::cineyma::detail::UniqueFunction fn);
  void retime(NodeIndex node, const std::function<TimePoint(TimePoint)>& to_world) {
    timers_.retime(node, to_world);
  }
  bool cancel(NodeIndex node, TimerId id) noexcept;
  Network& network() noexcept { return network_; }
  /// The network's own fault stream (latency draws, resets...), separate from scheduling.
  Prng& network_random() noexcept { return network_random_; }

  // -- process faults (never from inside a task) --
  bool is_up(NodeIndex node) const noexcept { return runs_[node].up; }
  void crash(NodeIndex node);
  /// Brings a crashed node back up (empty: its boot runs next, by the caller).
  void revive(NodeIndex node);
  void pause(NodeIndex node, Duration d);

  // -- trace --
  /// One executed event, kept when `options.record_events`.
  struct EventRecord {
    TimePoint at;
    NodeIndex node;
    TaskKind kind;
    std::uint64_t tag;    ///< the runnable's trace_tag (an actor id for actor cells)
    std::uint64_t cause;  ///< the event that caused it (index + 1), or 0
  };
  const std::vector<EventRecord>& event_records() const noexcept { return records_; }
  /// One message from the event that sent it to the event that handled it (index + 1 each).
  struct MessageFlow {
    std::uint64_t from;
    std::uint64_t to;
    const char* type_name;  ///< the envelope's (static storage)
  };
  const std::vector<MessageFlow>& message_flows() const noexcept { return flows_; }
  bool records_events() const noexcept { return options_.record_events; }
  /// The running event (index + 1), or 0 outside a task.
  std::uint64_t running_event() const noexcept { return current_cause(); }
  /// Records a message flow ending at the running event (no-op outside a task).
  void record_message_flow(std::uint64_t from, const char* type_name) {
    if (running_ && from != 0 && from <= events_) flows_.push_back({from, events_, type_name});
  }
  std::size_t node_count() const noexcept { return nodes_.size(); }
  const SimNode& node_at(NodeIndex node) const noexcept { return *nodes_[node]; }
  SimNode& node_ref(NodeIndex node) noexcept { return *nodes_[node]; }

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
  struct NodeRun {
    bool up = true;
    TimePoint paused_until{};  ///< the node may run once now_ >= paused_until
  };

  enum class StepResult { ran, idle, beyond };
  /// One event, unless the next one lies beyond `limit` (time then does not move).
  StepResult step_within(std::optional<TimePoint> limit);
  /// Runs one ready task of the crashing (isolated) node, within the crash-drain budget.
  void run_isolated_task();
  void run_task(const ReadyEntry& entry);
  void record(const ReadyEntry& entry);
  void shutdown() noexcept;
  /// Destroys a ready entry without running it.
  void drop(const ReadyEntry& entry) noexcept;
  /// Ready tasks on nodes that may run now.
  std::size_t eligible() const noexcept;
  /// When the next event can happen: now_ if a task may run, else the earliest pending
  /// timer or pause end; nullopt when nothing is left. Releases timers due now first.
  std::optional<TimePoint> next_event_time();
  /// Drops every task and timer of `node` (its process is gone).
  void purge(NodeIndex node) noexcept;
  /// The cause to record for a task posted now: the running event, or 0.
  std::uint64_t current_cause() const noexcept { return running_ ? events_ : 0; }

  std::uint64_t seed_;
  SimulationOptions options_;
  Prng scheduler_random_;  ///< picks the next ready task
  Prng node_seeds_;        ///< one fork per node, in creation order
  Prng network_random_;    ///< network faults and latency draws
  TimePoint now_{};
  bool running_ = false;
  bool shutting_down_ = false;
  std::uint64_t events_ = 0;
  std::uint64_t trace_hash_;
  /// While a node crashes: only its tasks run, and its timers fire without time passing.
  std::optional<NodeIndex> isolated_;
  std::uint64_t isolated_since_events_ = 0;
  std::vector<EventRecord> records_;
  std::vector<MessageFlow> flows_;

  // Declaration order matters for destruction: tasks (which may own streams) go first, in
  // `shutdown()`; then the network; then the nodes whose adapters everything refers to.
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::map<std::string, NodeIndex, std::less<>> node_by_name_;
  Network network_;
  ReadySets ready_;           ///< per node
  std::vector<NodeRun> runs_;  ///< per node
  TimerQueue timers_;
};

}  // namespace cineyma::sim::internal

namespace cineyma::sim {
/// What a `Simulation` holds (shared by the .cpp files that implement it).
struct Simulation::Impl {
  Impl(std::uint64_t seed, const SimulationOptions& options) : world(seed, options) {}
  internal::World world;
};
}  // namespace cineyma::sim
