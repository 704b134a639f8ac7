// src/asio/clock.hpp — real time and timers.
//
// `now()` is std::chrono::steady_clock measured from the environment's start. Timers live in
// one ordered map keyed by (deadline, id) under a mutex, and a single `asio::steady_timer` on
// the io thread is kept armed for the earliest deadline. Compared with one Asio timer per
// `schedule_at`, this gives what the interface promises with less machinery:
//   * `cancel` is synchronous and exact: whoever erases the entry under the mutex first — the
//     canceller or the firing path — wins, so `cancel` returns true iff the task will never
//     run, even when the io thread has not yet seen the timer at all;
//   * `schedule_at` does not touch Asio unless the new deadline is the earliest one (then it
//     posts one re-arm), and a cancelled timer costs nothing further on the io thread — it
//     matters because request timeouts are scheduled and cancelled on every request;
//   * due tasks run in (deadline, id) order: ties run in scheduling order.
// Tasks run on the io thread; they are short by contract (they post to the executor).
//
// Twin of the simulated clock in sim/src/clock.hpp.
#pragma once

#include <cineyma/detail/unique_function.hpp>
#include <cineyma/env/clock.hpp>

#include "asio_headers.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace cineyma::real {

class RealClock final : public Clock {
 public:
  /// `origin` is the steady_clock instant that `now()` reports as time zero. Timers run on
  /// the thread that runs `io`.
  RealClock(asio::io_context& io, std::chrono::steady_clock::time_point origin, std::string name);
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  TimePoint now() const noexcept override;
  TimerId schedule_at(TimePoint when, detail::UniqueFunction task) override;
  bool cancel(TimerId id) noexcept override;

  /// Discards every pending timer (their tasks are destroyed, never run) and makes later
  /// `schedule_at` calls discard their task at once. Called first when the environment is
  /// destroyed, so no timer task can run during or after its teardown. Any thread.
  void shutdown() noexcept;

 private:
  using Key = std::pair<TimePoint, TimerId>;

  void arm();                                  // io thread
  void on_expiry(const std::error_code& ec);   // io thread
  std::chrono::steady_clock::time_point to_steady(TimePoint t) const noexcept;

  asio::io_context& io_;
  const std::chrono::steady_clock::time_point origin_;
  const std::string name_;
  asio::steady_timer timer_;  // io thread only
  std::atomic<TimerId> next_id_{1};

  std::mutex mutex_;
  std::map<Key, detail::UniqueFunction> queue_;            // guarded by mutex_
  std::map<TimerId, TimePoint> deadline_of_;  // guarded; id -> deadline, to find the entry
  TimePoint armed_for_ = TimePoint::max();                 // guarded: what timer_ waits for
  bool rearm_posted_ = false;                              // guarded
  bool closed_ = false;                                    // guarded
};

}  // namespace cineyma::real
