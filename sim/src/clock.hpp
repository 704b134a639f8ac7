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
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

namespace cineyma::sim::internal {

/// A scheduled callable; owned by the `TimerQueue` until it starts running.
class TimerTask final : public Runnable {
 public:
  TimerTask(TimerId id, NodeIndex node, TimePoint when,
            ::cineyma::detail::UniqueFunction fn) noexcept
      : id_(id), node_(node), when_(when), fn_(std::move(fn)) {}

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
  TimePoint when_;
  ::cineyma::detail::UniqueFunction fn_;
  bool ready_ = false;             ///< moved to the ready set (deadline reached)
  std::size_t ready_position_ = 0; ///< index in the ready set while `ready_`
};

/// Every timer of the world that has not started running yet.
class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Adds a timer for `node` at `when` and returns its id (never 0).
  TimerId add(NodeIndex node, TimePoint when, ::cineyma::detail::UniqueFunction fn);

  /// Unlinks timer `id` of `node` (pending, or ready in `ready`) and destroys its task.
  /// Returns false when there is no such timer (ran, running, cancelled, other node's id).
  bool cancel(NodeIndex node, TimerId id, ReadySet& ready) noexcept;

  /// The earliest deadline of a timer still pending (not yet ready), if any.
  std::optional<TimePoint> next_deadline() const noexcept;

  /// Moves every pending timer due at or before `now` into `ready`.
  void release_due(TimePoint now, ReadySet& ready);

  /// Hands over a ready timer that is about to run (or to be dropped at shutdown): from now
  /// on it can no longer be cancelled.
  std::unique_ptr<TimerTask> begin_run(TimerTask& task) noexcept;

  /// Unlinks and hands over some timer (for shutdown), or nullptr when none is left.
  std::unique_ptr<TimerTask> take_any(ReadySet& ready) noexcept;

  bool empty() const noexcept { return live_.empty(); }

 private:
  /// Unlinks `it` from `pending_` or `ready` and from `live_`, returning the task.
  std::unique_ptr<TimerTask> unlink(std::map<TimerId, std::unique_ptr<TimerTask>>::iterator it,
                                    ReadySet& ready) noexcept;

  TimerId next_id_ = 1;
  /// Timers not yet running, by id (ids grow, so this is also creation order).
  std::map<TimerId, std::unique_ptr<TimerTask>> live_;
  /// Timers whose deadline has not been reached: (deadline in ns, id).
  std::set<std::pair<std::int64_t, TimerId>> pending_;
};

/// A node's clock: world virtual time (per-node skew and drift come with fault injection).
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

 private:
  World& world_;
  NodeIndex node_;
};

}  // namespace cineyma::sim::internal
