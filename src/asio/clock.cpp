// src/asio/clock.cpp — real time and timers (the design is described in clock.hpp).
#include "clock.hpp"

#include <cineyma/assert.hpp>

#include "asio_headers.hpp"
#include <spdlog/spdlog.h>

#include <exception>

namespace cineyma::real {

namespace {
// Due tasks run per expiry before the io thread gets back to its other handlers; bounds how
// long a burst of timers (or a task that keeps scheduling at `now()`) can delay networking.
constexpr int kMaxTasksPerExpiry = 64;
}  // namespace

RealClock::RealClock(asio::io_context& io, std::chrono::steady_clock::time_point origin,
                     std::string name)
    : io_(io), origin_(origin), name_(std::move(name)), timer_(io) {}

TimePoint RealClock::now() const noexcept {
  return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - origin_));
}

std::chrono::steady_clock::time_point RealClock::to_steady(TimePoint t) const noexcept {
  // Saturate instead of overflowing: `schedule_at(TimePoint::max(), ...)` means "never, unless
  // cancelled" and must not wrap into the past.
  const auto headroom = std::chrono::steady_clock::time_point::max() - origin_;
  if (t.time_since_epoch() >= headroom) return std::chrono::steady_clock::time_point::max();
  return origin_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       t.time_since_epoch());
}

TimerId RealClock::schedule_at(TimePoint when, detail::UniqueFunction task) {
  CINEYMA_ASSERT(task);
  const TimerId id = next_id_.fetch_add(1, std::memory_order_relaxed);
  bool post_rearm = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // After shutdown the task is dropped: `task` is destroyed when this call returns, after
    // the lock is released (its destructor may call back into the clock).
    if (closed_) return id;
    queue_.emplace(Key{when, id}, std::move(task));
    deadline_of_.emplace(id, when);
    // Only a new earliest deadline needs the io thread, and only one re-arm needs to be in
    // flight: arm() reads the earliest deadline when it runs, under this same mutex.
    if (when < armed_for_ && !rearm_posted_) {
      rearm_posted_ = true;
      post_rearm = true;
    }
  }
  // Posted, never done here: timer_ belongs to the io thread, and the task must not run
  // inline even when `when` has passed.
  if (post_rearm) asio::post(io_, [this] { arm(); });
  return id;
}

bool RealClock::cancel(TimerId id) noexcept {
  detail::UniqueFunction victim;  // destroyed after the lock is released: it may re-enter
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto d = deadline_of_.find(id);
    if (d == deadline_of_.end()) return false;  // ran, is running, cancelled, or never existed
    const auto q = queue_.find(Key{d->second, id});
    CINEYMA_ASSERT(q != queue_.end());
    victim = std::move(q->second);
    queue_.erase(q);
    deadline_of_.erase(d);
  }
  // timer_ is left armed even if this was the earliest deadline: it will wake once for
  // nothing and re-arm, which is cheaper than a post to the io thread on every cancel.
  return true;
}

void RealClock::shutdown() noexcept {
  std::map<Key, detail::UniqueFunction> doomed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    doomed.swap(queue_);
    deadline_of_.clear();
  }
  // `doomed` is destroyed here, outside the lock.
}

void RealClock::arm() {
  TimePoint next;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    rearm_posted_ = false;
    if (queue_.empty()) {
      // Nothing to wait for. A wait still pending from before fires once, finds nothing
      // due and lands back here.
      armed_for_ = TimePoint::max();
      return;
    }
    next = queue_.begin()->first.first;
    armed_for_ = next;
  }
  // Re-setting the expiry cancels the previous wait (its handler sees operation_aborted).
  timer_.expires_at(to_steady(next));
  timer_.async_wait([this](const std::error_code& ec) { on_expiry(ec); });
}

void RealClock::on_expiry(const std::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;  // superseded by a later arm()
  for (int ran = 0; ran < kMaxTasksPerExpiry; ++ran) {
    detail::UniqueFunction task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (queue_.empty()) break;
      const auto it = queue_.begin();
      if (it->first.first > now()) break;
      // Taking the task out under the mutex is the moment it becomes uncancellable.
      task = std::move(it->second);
      deadline_of_.erase(it->first.second);
      queue_.erase(it);
    }
    // One task at a time, outside the lock: a task may schedule or cancel timers, and a
    // task that cancels a later, also-due timer prevents it from running.
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("cineyma[{}]: a timer task threw (contained): {}", name_, e.what());
    } catch (...) {
      spdlog::error("cineyma[{}]: a timer task threw a non-std exception (contained)", name_);
    }
  }
  // Re-arm for what is left. If tasks are still due (the per-expiry bound was hit), the
  // expiry is in the past and Asio completes the wait at once — after the handlers already
  // queued, which is the point of the bound.
  arm();
}

}  // namespace cineyma::real
