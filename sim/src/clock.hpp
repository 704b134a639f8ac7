// sim/src/clock.hpp — virtual time: the timer queue and the per-node clock.
//
// A timer waits in the `TimerQueue` ordered by (deadline, id). When virtual time reaches its
// deadline it becomes an ordinary ready task, so timers due at the same instant — and any
// other ready work — are ordered by the world's PRNG like everything else. A timer can be
// cancelled until the moment it starts running, wherever it waits. Twin of the real clock in
// src/asio/.
#pragma once

#include "executor.hpp"

#include <cineyma/detail/unique_function.hpp>
#include <cineyma/env/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace cineyma::sim::internal {

/// A scheduled callable; owned by the `TimerQueue` until it starts running.
class TimerTask final : public Runnable {
 public:
  TimerTask(TimerId id, NodeIndex node, TimePoint when, TimePoint local_when,
            ::cineyma::detail::UniqueFunction fn, std::uint64_t cause) noexcept
      : id_(id), node_(node), when_(when), local_when_(local_when), fn_(std::move(fn)),
        cause_(cause) {}

  void run() override { fn_(); }
  /// Timer ids come from one world-wide counter, so they are deterministic for a seed.
  std::uint64_t trace_tag() const noexcept override { return id_; }

  TimerId id() const noexcept { return id_; }
  NodeIndex node() const noexcept { return node_; }
  TimePoint when() const noexcept { return when_; }

 private:
  friend class TimerQueue;
  TimerId id_;
  NodeIndex node_;
  TimePoint when_;        ///< world time
  TimePoint local_when_;  ///< the deadline on the node's own clock, as asked for
  ::cineyma::detail::UniqueFunction fn_;
  std::uint64_t cause_;            ///< the event that scheduled it (index + 1), or 0
  bool ready_ = false;             ///< moved to the ready set (deadline reached)
  std::size_t ready_position_ = 0; ///< index in the ready set while `ready_`
};

/// The ready sets of all nodes, indexed by node.
using ReadySets = std::vector<ReadySet>;

/// Every timer of the world that has not started running yet.
class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Adds a timer for `node` at `when` and returns its id (never 0).
  TimerId add(NodeIndex node, TimePoint when, TimePoint local_when,
              ::cineyma::detail::UniqueFunction fn, std::uint64_t cause = 0);

  /// Moves every pending timer of `node` to the world time `to_world(local deadline)` (its
  /// clock was skewed: a timer must still fire at, never before, its local deadline).
  void retime(NodeIndex node, const std::function<TimePoint(TimePoint)>& to_world);

  /// Unlinks timer `id` of `node` (pending, or ready in its node's set) and destroys its
  /// task. Returns false when there is no such timer (ran, running, cancelled, other node's).
  bool cancel(NodeIndex node, TimerId id, ReadySets& ready) noexcept;

  /// The earliest deadline of a timer still pending (not yet ready), if any.
  std::optional<TimePoint> next_deadline() const noexcept;

  /// Moves every pending timer due at or before `now` into its node's ready set.
  void release_due(TimePoint now, ReadySets& ready);

  /// Moves the earliest pending timer of `node` into its ready set whatever its deadline
  /// (a crashing node unwinds without time passing). False when the node has none.
  bool release_next_of(NodeIndex node, ReadySets& ready);

  /// Hands over a ready timer that is about to run (or to be dropped at shutdown): from now
  /// on it can no longer be cancelled.
  std::unique_ptr<TimerTask> begin_run(TimerTask& task) noexcept;

  /// Unlinks and hands over some timer (for shutdown), or nullptr when none is left.
  std::unique_ptr<TimerTask> take_any(ReadySets& ready) noexcept;
  /// Unlinks and hands over some timer of `node` (crash), or nullptr when it has none.
  std::unique_ptr<TimerTask> take_any_of(NodeIndex node, ReadySets& ready) noexcept;

  bool empty() const noexcept { return live_.empty(); }

 private:
  /// Unlinks `it` from `pending_` or its ready set and from `live_`, returning the task.
  std::unique_ptr<TimerTask> unlink(std::map<TimerId, std::unique_ptr<TimerTask>>::iterator it,
                                    ReadySets& ready) noexcept;
  void make_ready(TimerTask& task, ReadySets& ready);

  TimerId next_id_ = 1;
  /// Timers not yet running, by id (ids grow, so this is also creation order).
  std::map<TimerId, std::unique_ptr<TimerTask>> live_;
  /// Timers whose deadline has not been reached: (deadline in ns, id).
  std::set<std::pair<std::int64_t, TimerId>> pending_;
};

/// A node's clock: world virtual time, shifted and scaled by the node's skew and drift.
///
/// Local time is `anchor_local + (world - anchor_world) * (1e6 + drift_ppm) / 1e6`, and a
/// reading never goes below the previous one (a negative offset holds the clock still).
/// Timers convert a local deadline to world time when scheduled, and again when the skew
/// changes, so they fire at (never before) their deadline on the node's clock.
///
/// Threading: the simulation thread only.
class SimClock final : public Clock {
 public:
  SimClock(World& world, NodeIndex node) noexcept : world_(world), node_(node) {}

  TimePoint now() const noexcept override;
  /// A deadline in the past counts as "now": time never runs backwards for a task.
  TimerId schedule_at(TimePoint when, ::cineyma::detail::UniqueFunction task) override;
  /// Exact: true iff the task will now never run (it may still be waiting in the ready set).
  bool cancel(TimerId id) noexcept override;

  /// From now: `offset` further ahead, running `drift_ppm` parts per million fast.
  void set_skew(Duration offset, std::int64_t drift_ppm) noexcept;

 private:
  TimePoint local_at(TimePoint world) const noexcept;
  /// When (world time) a timer for local deadline `local` must fire.
  TimePoint to_world(TimePoint local) const noexcept;
  TimePoint world_at(TimePoint local) const noexcept;

  World& world_;
  NodeIndex node_;
  bool skewed_ = false;  ///< fast path: local time is world time
  TimePoint anchor_world_{};
  TimePoint anchor_local_{};
  std::int64_t drift_ppm_ = 0;
  mutable TimePoint last_reading_{};  ///< monotonic clamp
};

}  // namespace cineyma::sim::internal
