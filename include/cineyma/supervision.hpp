// cineyma/supervision.hpp — what happens when a child actor fails.
//
// A parent chooses a strategy per child when it spawns it
// (`ctx.spawn_child_with_strategy(factory, strategy)`):
//   SupervisorStrategy::stop()                 the child stops (reason `failed`); the default
//   SupervisorStrategy::restart(n, within)     a fresh instance from the factory replaces it,
//                                              at most n restarts in any window of `within`
//                                              (the original's sliding window, measured on the
//                                              environment clock); one more failure stops it
//                                              (reason `restart_limit`)
//   SupervisorStrategy::escalate()             the child stops (reason `escalated`) and its
//                                              parent fails as if it had thrown
//   restart(...).with_backoff(min, max)        restarts wait min, 2·min, 4·min ... capped at
//                                              max, each with jitter from the environment PRNG
// A restarted child keeps its Addr, id, registry entries and queued messages; the message
// that failed is not redelivered (its requester got `handler_failed`); the old instance's
// timers and children are gone, `stopped()` ran on it and `started()` runs on the new one.
// Top-level actors have no supervisor: a failure stops them.
#pragma once

#include <cineyma/env/clock.hpp>

#include <cstdint>
#include <vector>

namespace cineyma {

/// Which of a parent's children restart together (OTP's supervisor strategies), set by the
/// parent with `ctx.set_restart_group(...)`:
///   one_for_one   only the failing child restarts (the default)
///   one_for_all   when a child restarts, its restartable siblings restart too
///   rest_for_one  ... and so do the restartable siblings spawned after it
/// Siblings restarted this way run stopped()/started() like any restart but do not use up
/// their own restart window.
enum class RestartGroup : unsigned char { one_for_one, one_for_all, rest_for_one };

class SupervisorStrategy {
 public:
  enum class Directive : unsigned char { stop, restart, escalate };

  /// The default: a failing child stops.
  static SupervisorStrategy stop() noexcept { return SupervisorStrategy(Directive::stop); }
  /// Restart on failure, at most `max_restarts` times within any `within` window.
  static SupervisorStrategy restart(std::uint32_t max_restarts, Duration within) noexcept {
    SupervisorStrategy s(Directive::restart);
    s.max_restarts_ = max_restarts;
    s.within_ = within;
    return s;
  }
  /// Stop the child and make its parent fail.
  static SupervisorStrategy escalate() noexcept { return SupervisorStrategy(Directive::escalate); }

  /// Restarts wait a capped exponential delay (jittered) before the new instance starts.
  SupervisorStrategy with_backoff(Duration min, Duration max) const noexcept {
    SupervisorStrategy s = *this;
    s.backoff_min_ = min;
    s.backoff_max_ = max < min ? min : max;
    return s;
  }

  Directive directive() const noexcept { return directive_; }
  std::uint32_t max_restarts() const noexcept { return max_restarts_; }
  Duration within() const noexcept { return within_; }
  Duration backoff_min() const noexcept { return backoff_min_; }
  Duration backoff_max() const noexcept { return backoff_max_; }
  bool has_backoff() const noexcept { return backoff_min_ > Duration::zero(); }

 private:
  explicit SupervisorStrategy(Directive d) noexcept : directive_(d) {}
  Directive directive_;
  std::uint32_t max_restarts_ = 0;
  Duration within_{};
  Duration backoff_min_{};
  Duration backoff_max_{};
};

/// The sliding restart window: on each failure, restarts older than `within` are forgotten
/// (one exactly `within` old is kept); a restart is allowed while fewer than `max` remain.
class RestartWindow {
 public:
  /// Records a restart at `now` and returns true, or returns false when over the limit.
  bool allow(TimePoint now, std::uint32_t max_restarts, Duration within);
  /// Restarts currently inside the window (after the last `allow`).
  std::size_t recent() const noexcept { return times_.size(); }

 private:
  std::vector<TimePoint> times_;  // ascending
};

}  // namespace cineyma
