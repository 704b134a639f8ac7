// cineyma/env/clock.hpp — time and timers, as the environment sees them.
//
// Library code never reads a real clock: it asks `Clock::now()`, which is steady real time on
// the real runtime and virtual time (per node, with skew and drift) under simulation.
#pragma once

#include <cineyma/detail/unique_function.hpp>

#include <chrono>
#include <cstdint>

namespace cineyma {

/// Durations are nanoseconds everywhere in the framework.
using Duration = std::chrono::nanoseconds;

/// The time base of an environment. It has no static `now()`: time is read through a `Clock`.
struct EnvClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<EnvClock, duration>;
  static constexpr bool is_steady = true;
};

/// A point on the environment's monotonic time line (origin: the environment's start).
using TimePoint = EnvClock::time_point;

/// Identifies a scheduled timer; 0 is never a valid id.
using TimerId = std::uint64_t;

/// Monotonic time plus one-shot timers.
class Clock {
 public:
  virtual ~Clock() = default;

  /// Current time. Any thread. Monotonic (never goes backwards for one clock).
  virtual TimePoint now() const noexcept = 0;

  /// Runs `task` once, at or after `when`. Any thread; returns at once.
  /// The task runs on an environment thread (never inline in this call) and must not block.
  virtual TimerId schedule_at(TimePoint when, detail::UniqueFunction task) = 0;

  /// Cancels a timer. Any thread. Returns true if the task will now never run, false if it
  /// already ran, is running, or was cancelled before. Cancelling destroys the task.
  virtual bool cancel(TimerId id) noexcept = 0;

  /// Convenience: `schedule_at(now() + delay, task)`.
  TimerId schedule_after(Duration delay, detail::UniqueFunction task) {
    return schedule_at(now() + delay, std::move(task));
  }
};

}  // namespace cineyma
