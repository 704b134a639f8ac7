// sim/src/clock.cpp — the timer queue and the per-node clock adapter.
#include "clock.hpp"

#include "world.hpp"

#include <cineyma/assert.hpp>

namespace cineyma::sim::internal {

TimerId TimerQueue::add(NodeIndex node, TimePoint when, TimePoint local_when,
                        ::cineyma::detail::UniqueFunction fn, std::uint64_t cause) {
  CINEYMA_ASSERT(static_cast<bool>(fn));
  const TimerId id = next_id_++;
  auto task = std::make_unique<TimerTask>(id, node, when, local_when, std::move(fn), cause);
  pending_.emplace(when.time_since_epoch().count(), id);
  live_.emplace(id, std::move(task));
  return id;
}

bool TimerQueue::cancel(NodeIndex node, TimerId id, ReadySets& ready) noexcept {
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

void TimerQueue::release_due(TimePoint now, ReadySets& ready) {
  const std::int64_t now_ns = now.time_since_epoch().count();
  while (!pending_.empty() && pending_.begin()->first <= now_ns) {
    const TimerId id = pending_.begin()->second;
    pending_.erase(pending_.begin());
    const auto it = live_.find(id);
    CINEYMA_ASSERT(it != live_.end());
    make_ready(*it->second, ready);
  }
}

void TimerQueue::retime(NodeIndex node, const std::function<TimePoint(TimePoint)>& to_world) {
  // Collect first: re-inserting while walking the ordered set would visit timers twice.
  std::vector<TimerTask*> moved;
  for (auto it = pending_.begin(); it != pending_.end();) {
    TimerTask& task = *live_.at(it->second);
    if (task.node_ != node) {
      ++it;
      continue;
    }
    it = pending_.erase(it);
    moved.push_back(&task);
  }
  for (TimerTask* task : moved) {
    task->when_ = to_world(task->local_when_);
    pending_.emplace(task->when_.time_since_epoch().count(), task->id_);
  }
}

bool TimerQueue::release_next_of(NodeIndex node, ReadySets& ready) {
  // Linear: only a crashing node unwinding asks, once per timer it still has.
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    const auto live = live_.find(it->second);
    CINEYMA_ASSERT(live != live_.end());
    if (live->second->node_ != node) continue;
    pending_.erase(it);
    make_ready(*live->second, ready);
    return true;
  }
  return false;
}

void TimerQueue::make_ready(TimerTask& task, ReadySets& ready) {
  CINEYMA_ASSERT(!task.ready_);
  CINEYMA_ASSERT(task.node_ < ready.size());
  task.ready_ = true;
  ready[task.node_].push(
      ReadyEntry{&task, task.node_, TaskKind::timer, &task.ready_position_, task.cause_});
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

std::unique_ptr<TimerTask> TimerQueue::take_any(ReadySets& ready) noexcept {
  if (live_.empty()) return nullptr;
  return unlink(live_.begin(), ready);
}

std::unique_ptr<TimerTask> TimerQueue::take_any_of(NodeIndex node, ReadySets& ready) noexcept {
  for (auto it = live_.begin(); it != live_.end(); ++it) {
    if (it->second->node_ == node) return unlink(it, ready);
  }
  return nullptr;
}

std::unique_ptr<TimerTask> TimerQueue::unlink(
    std::map<TimerId, std::unique_ptr<TimerTask>>::iterator it, ReadySets& ready) noexcept {
  std::unique_ptr<TimerTask> task = std::move(it->second);
  live_.erase(it);
  if (task->ready_) {
    const ReadyEntry removed = ready[task->node_].take_at(task->ready_position_);
    CINEYMA_ASSERT(removed.task == task.get());
    task->ready_ = false;
  } else {
    const auto erased = pending_.erase({task->when_.time_since_epoch().count(), task->id_});
    CINEYMA_ASSERT(erased == 1);
  }
  return task;
}

namespace {
__extension__ typedef __int128 i128;  // GCC/Clang builtin; -Wpedantic needs the tag
constexpr std::int64_t kPpm = 1'000'000;
}  // namespace

TimePoint SimClock::now() const noexcept {
  if (!skewed_) return world_.now();
  const TimePoint reading = local_at(world_.now());
  if (reading > last_reading_) last_reading_ = reading;
  return last_reading_;
}

TimerId SimClock::schedule_at(TimePoint when, ::cineyma::detail::UniqueFunction task) {
  if (!skewed_) return world_.schedule_at(node_, when, when, std::move(task));
  return world_.schedule_at(node_, to_world(when), when, std::move(task));
}

TimePoint SimClock::to_world(TimePoint local) const noexcept {
  // A deadline the node's clock has already passed is due now (World clamps to its now).
  return local <= now() ? world_.now() : world_at(local);
}

void SimClock::set_skew(Duration offset, std::int64_t drift_ppm) noexcept {
  CINEYMA_ASSERT(drift_ppm > -kPpm);
  const TimePoint reading = now();
  anchor_world_ = world_.now();
  anchor_local_ = reading + offset;
  drift_ppm_ = drift_ppm;
  last_reading_ = reading;  // a negative offset holds the clock at `reading` for a while
  skewed_ = true;
  // Pending timers keep their local deadlines: they move in world time.
  world_.retime(node_, [this](TimePoint local) { return to_world(local); });
}

TimePoint SimClock::local_at(TimePoint world) const noexcept {
  // 128-bit intermediate: nanoseconds times a million overflows 64 bits after ~2.5 hours.
  const i128 elapsed = (world - anchor_world_).count();
  const i128 scaled = elapsed * (kPpm + drift_ppm_) / kPpm;
  return anchor_local_ + Duration(static_cast<std::int64_t>(scaled));
}

TimePoint SimClock::world_at(TimePoint local) const noexcept {
  // Inverse of local_at, rounded up: the timer never fires before its local deadline.
  const i128 elapsed = (local - anchor_local_).count();
  const i128 rate = kPpm + drift_ppm_;
  const i128 scaled = (elapsed * kPpm + rate - 1) / rate;
  return anchor_world_ + Duration(static_cast<std::int64_t>(scaled));
}

bool SimClock::cancel(TimerId id) noexcept { return world_.cancel(node_, id); }

}  // namespace cineyma::sim::internal
