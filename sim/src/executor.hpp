// sim/src/executor.hpp — the simulated executor and the world's set of ready tasks.
//
// Every ready task waits in its node's `ReadySet`; the world takes the next one uniformly at
// random, among the tasks of every node that may run (not paused, not down), with its seeded
// PRNG. That single choice point is what makes a run replayable from its seed, and what makes
// different seeds explore different interleavings.
// Twin of the real executor in src/asio/.
#pragma once

#include <cineyma/detail/unique_function.hpp>
#include <cineyma/env/executor.hpp>
#include <cineyma/env/random.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace cineyma::sim::internal {

class World;

/// Position of a node in creation order; stable for the life of the simulation.
using NodeIndex = std::uint32_t;

/// How a ready task is owned and run. The value is part of the trace, so it never changes.
enum class TaskKind : std::uint8_t {
  runnable = 1,  ///< posted by reference: not owned, dropped (not run) at shutdown
  function = 2,  ///< a `FunctionTask` owned by the world, deleted once it has run
  timer = 3,     ///< a `TimerTask` owned by the `TimerQueue`
};

/// The self-deleting holder that `Executor::post(UniqueFunction)` allocates. The world owns
/// it while it is ready and deletes it right after `run()` (or unrun, at shutdown).
class FunctionTask final : public Runnable {
 public:
  explicit FunctionTask(::cineyma::detail::UniqueFunction fn) noexcept : fn_(std::move(fn)) {}
  void run() override { fn_(); }

 private:
  ::cineyma::detail::UniqueFunction fn_;
};

/// One task waiting to run.
struct ReadyEntry {
  Runnable* task = nullptr;
  NodeIndex node = 0;
  TaskKind kind = TaskKind::runnable;
  /// Where the task keeps its own index in the set, kept current on every move so that a
  /// cancelled timer leaves the set in O(1); nullptr for tasks that are never removed early.
  std::size_t* position = nullptr;
  /// The event that posted this task (its index + 1), or 0: for the trace's flow arrows.
  std::uint64_t cause = 0;
};

/// The ready tasks of one node, in no meaningful order. Removal swaps the last entry
/// into the hole, so the order depends only on the sequence of operations (never on
/// addresses): deterministic for one seed.
class ReadySet {
 public:
  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }

  /// Adds `entry`; records its index through `entry.position` when set.
  void push(ReadyEntry entry);

  /// Removes and returns an entry chosen uniformly at random. Requires !empty().
  ReadyEntry take_random(Random& prng) noexcept;

  /// Removes and returns the entry at `index`. Requires index < size().
  ReadyEntry take_at(std::size_t index) noexcept;

  /// The entry at `index`. Requires index < size().
  const ReadyEntry& at(std::size_t index) const noexcept { return entries_[index]; }

 private:
  std::vector<ReadyEntry> entries_;
};

/// A node's executor: posts go to the world's ready set, tagged with the node.
///
/// Threading: the simulation thread only (like everything the simulation hands out).
class SimExecutor final : public Executor {
 public:
  SimExecutor(World& world, NodeIndex node) noexcept : world_(world), node_(node) {}

  /// Queues `r` on this node. Never runs it inline, even when called from a running task.
  void post(Runnable& r) override;
  /// Queues `f` in a self-deleting holder. Never runs it inline.
  void post(::cineyma::detail::UniqueFunction f) override;
  /// Drives the whole simulation (every node) until `ev` is set, the virtual `timeout` has
  /// passed, or nothing is left to run. While a node crashes (its boot state unwinds), only
  /// that node runs and no timeout applies. Asserts that no simulated task is running.
  bool block_until(BlockingEvent& ev, std::optional<std::chrono::nanoseconds> timeout) override;
  /// True while the simulation runs a task — of any node: they all share the one thread, so
  /// blocking from any task would re-enter the event loop.
  bool in_executor_thread() const noexcept override;
  std::size_t concurrency() const noexcept override { return 1; }

 private:
  World& world_;
  NodeIndex node_;
};

}  // namespace cineyma::sim::internal
