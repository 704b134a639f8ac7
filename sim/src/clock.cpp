// sim/src/clock.cpp — the timer queue and the per-node clock adapter.
#include "clock.hpp"

#include "world.hpp"

#include <cineyma/assert.hpp>

namespace cineyma::sim::internal {

TimerId TimerQueue::add(NodeIndex node, TimePoint when, ::cineyma::detail::UniqueFunction fn) {
  CINEYMA_ASSERT(static_cast<bool>(fn));
  const TimerId id = next_id_++;
  auto task = std::make_unique<TimerTask>(id, node, when, std::move(fn));
  pending_.emplace(when.time_since_epoch().count(), id);
  live_.emplace(id, std::move(task));
  return id;
}

bool TimerQueue::cancel(NodeIndex node, TimerId id, ReadySet& ready) noexcept {
  const auto it = live_.find(id);
  if (it == live_.end()) return false;
  // An id handed out by another node's clock is not this clock's timer.
  if (it->second->node_ != node) return false;
  // Destroying the task may run destructors that schedule or cancel again: unlink first.
  std::unique_ptr<TimerTask> task = unlink(it, ready);
  task.reset();
  return true;
}

std::optional<TimePoint> TimerQueue::next_deadline() const noexcept {
  if (pending_.empty()) return std::nullopt;
  return TimePoint(Duration(pending_.begin()->first));
}

void TimerQueue::release_due(TimePoint now, ReadySet& ready) {
  const std::int64_t now_ns = now.time_since_epoch().count();
  while (!pending_.empty() && pending_.begin()->first <= now_ns) {
    const TimerId id = pending_.begin()->second;
    pending_.erase(pending_.begin());
    const auto it = live_.find(id);
    CINEYMA_ASSERT(it != live_.end());
    TimerTask& task = *it->second;
    CINEYMA_ASSERT(!task.ready_);
    task.ready_ = true;
    ready.push(ReadyEntry{&task, task.node_, TaskKind::timer, &task.ready_position_});
  }
}

std::unique_ptr<TimerTask> TimerQueue::begin_run(TimerTask& task) noexcept {
  CINEYMA_ASSERT(task.ready_);
  const auto it = live_.find(task.id_);
  CINEYMA_ASSERT(it != live_.end());
  CINEYMA_ASSERT(it->second.get() == &task);
  std::unique_ptr<TimerTask> owned = std::move(it->second);
  live_.erase(it);
  owned->ready_ = false;
  return owned;
}

std::unique_ptr<TimerTask> TimerQueue::take_any(ReadySet& ready) noexcept {
  if (live_.empty()) return nullptr;
  return unlink(live_.begin(), ready);
}

std::unique_ptr<TimerTask> TimerQueue::unlink(
    std::map<TimerId, std::unique_ptr<TimerTask>>::iterator it, ReadySet& ready) noexcept {
  std::unique_ptr<TimerTask> task = std::move(it->second);
  live_.erase(it);
  if (task->ready_) {
    const ReadyEntry removed = ready.take_at(task->ready_position_);
    CINEYMA_ASSERT(removed.task == task.get());
    task->ready_ = false;
  } else {
    const auto erased = pending_.erase({task->when_.time_since_epoch().count(), task->id_});
    CINEYMA_ASSERT(erased == 1);
  }
  return task;
}

TimePoint SimClock::now() const noexcept { return world_.now(); }

TimerId SimClock::schedule_at(TimePoint when, ::cineyma::detail::UniqueFunction task) {
  return world_.schedule_at(node_, when, std::move(task));
}

bool SimClock::cancel(TimerId id) noexcept { return world_.cancel(node_, id); }

}  // namespace cineyma::sim::internal
