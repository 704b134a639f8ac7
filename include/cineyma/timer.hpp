// cineyma/timer.hpp — `TimerHandle`, returned by `ctx.run_later` and `ctx.run_interval`.
//
// Timers belong to the actor *instance* that created them: they are cancelled when it stops
// (and, under supervision, when it is restarted). Cancellation is exact when done on the
// actor's own thread: once `cancel()` returns there, the timer's message will not be handled,
// even if it was already in the mailbox. Dropping a handle does not cancel the timer.
#pragma once

#include <cineyma/detail/ref.hpp>
#include <cineyma/env/clock.hpp>

#include <atomic>
#include <mutex>

namespace cineyma {

namespace detail {
/// Shared state of one timer (handle, cell and clock task each hold a reference).
struct TimerState {
  explicit TimerState(Clock& c) noexcept : clock(&c) {}
  void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  /// Any thread. Idempotent.
  void cancel() noexcept {
    cancelled.store(true, std::memory_order_release);
    TimerId pending = 0;
    {
      std::lock_guard<std::mutex> lock(mutex);
      pending = id;
      id = 0;
    }
    if (pending != 0) clock->cancel(pending);
  }
  bool is_cancelled() const noexcept { return cancelled.load(std::memory_order_acquire); }
  /// A one-shot timer whose message was handled (or dropped); prunable.
  bool is_finished() const noexcept {
    return is_cancelled() || finished.load(std::memory_order_acquire);
  }

  std::atomic<int> refs{1};
  std::atomic<bool> cancelled{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> delivery_in_flight{false};  // interval: a tick still waits for space
  std::mutex mutex;                             // guards `id`
  TimerId id = 0;
  Clock* clock;
};
}  // namespace detail

/// Handle to a scheduled `run_later` / `run_interval` timer. Cheap to copy; all copies
/// control the same timer. Thread-safe.
class TimerHandle {
 public:
  TimerHandle() noexcept = default;
  explicit TimerHandle(detail::RefPtr<detail::TimerState> s) noexcept : state_(std::move(s)) {}

  /// Cancels the timer (see the file comment for the exactness guarantee). Idempotent; a
  /// default-constructed handle does nothing.
  void cancel() const noexcept {
    if (state_) state_->cancel();
  }
  /// True once `cancel()` was called on any copy, or the owning instance stopped.
  bool is_cancelled() const noexcept { return !state_ || state_->is_cancelled(); }
  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

 private:
  detail::RefPtr<detail::TimerState> state_;
};

}  // namespace cineyma
