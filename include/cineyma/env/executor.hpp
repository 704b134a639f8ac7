// cineyma/env/executor.hpp — the seam through which all scheduling happens.
//
// Actor cells, coroutine resumptions and timer deliveries all run as `Runnable`s posted to
// an `Executor`. The real executor (src/asio) runs them on worker threads; the simulated one
// (sim/) runs them on one thread in an order chosen by the simulation's seeded PRNG. Library
// code never creates threads: it posts.
#pragma once

#include <cineyma/detail/unique_function.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace cineyma {

namespace real {
class InjectionQueue;
}

/// A unit of work that can be posted without allocating: an intrusive node.
///
/// Contract: a Runnable is posted at most once at a time; it stays alive until `run()` is
/// called; the executor calls `run()` exactly once per post, on one of its threads.
class Runnable {
 public:
  virtual void run() = 0;

  /// A deterministic label for traces (for an actor cell: its actor id; 0 = anonymous).
  /// Never a pointer value: traces must be identical across runs with one seed.
  virtual std::uint64_t trace_tag() const noexcept { return 0; }

 protected:
  virtual ~Runnable() = default;

 private:
  // The real executor's injection queue links runnables through this (lock-free, so the
  // link is atomic; relaxed accesses cost what a plain pointer does).
  friend class real::InjectionQueue;
  std::atomic<Runnable*> next_runnable_{nullptr};
};

/// An event a non-executor thread can block on (see `Executor::block_until`).
///
/// Threading: `set()` may be called from any thread (repeatable, idempotent); `is_set()` and
/// `is_set_settled()` from any thread. Waiting is the executor's business: real executors
/// poll `is_set()` briefly, then sleep in `wait()` / `wait_for()`; the simulator runs its
/// event loop until `is_set()`.
///
/// Why not a plain mutex + condition variable: a blocked requester usually sees its answer
/// while it still polls, and then the setter's whole work is one atomic RMW and the waiter's
/// one load — no lock taken on either side, no cache line passed back and forth for it.
/// Only a waiter that went to sleep (the `sleeper` bit) makes `set()` lock and notify.
///
/// Lifetime: the event may be destroyed as soon as `is_set_settled()` is true, or `wait()` /
/// a successful `wait_for()` has returned — the setter touches it no more by then.
class BlockingEvent {
 public:
  void set() noexcept {
    // Without a sleeper this RMW is the setter's last touch of the event: a poller that sees
    // it may destroy the event at once.
    if ((state_.fetch_or(kSet, std::memory_order_acq_rel) & kSleeper) == 0) return;
    // Notify while holding the lock: a sleeper returns only once it sees kDone under it.
    std::lock_guard<std::mutex> lock(mutex_);
    state_.fetch_or(kDone, std::memory_order_release);
    cv_.notify_all();
  }
  bool is_set() const noexcept { return (state_.load(std::memory_order_acquire) & kSet) != 0; }
  /// True when set *and* the setter is done with the event, so the caller may destroy it.
  bool is_set_settled() const noexcept {
    const std::uint32_t s = state_.load(std::memory_order_acquire);
    return (s & kSet) != 0 && ((s & kSleeper) == 0 || (s & kDone) != 0);
  }
  /// Sleeps until set (and settled). Any thread that may block.
  void wait() noexcept {
    if (register_sleeper()) return;
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return done(); });
  }
  /// `wait()` with a bound; false when `timeout` passed first (the event must then outlive
  /// any later `set()`).
  bool wait_for(std::chrono::nanoseconds timeout) noexcept {
    if (register_sleeper()) return true;
    std::unique_lock<std::mutex> lock(mutex_);
    // libstdc++ waits on the steady clock, the real environment's time base.
    return cv_.wait_for(lock, timeout, [this] { return done(); });
  }

 private:
  static constexpr std::uint32_t kSet = 1;      // set() was called
  static constexpr std::uint32_t kSleeper = 2;  // a waiter sleeps (or is about to) on cv_
  static constexpr std::uint32_t kDone = 4;     // set() saw a sleeper and notified

  /// True when the event was set before any sleeper registered: the setter is done.
  bool register_sleeper() noexcept {
    const std::uint32_t old = state_.fetch_or(kSleeper, std::memory_order_acq_rel);
    return (old & kSet) != 0 && (old & kSleeper) == 0;
  }
  bool done() const noexcept { return (state_.load(std::memory_order_acquire) & kDone) != 0; }

  std::atomic<std::uint32_t> state_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

/// Schedules runnables.
class Executor {
 public:
  virtual ~Executor() = default;

  /// Queues `r` to run once. Any thread; never blocks; never runs `r` inline.
  virtual void post(Runnable& r) = 0;

  /// Queues a callable (allocates a holder). Any thread; never runs `f` inline.
  virtual void post(detail::UniqueFunction f) = 0;

  /// Queues `f` behind the work already queued for the calling thread, rather than next.
  /// Meant for a batching step — a socket write that many tasks contribute to — that should
  /// run once, after the tasks that are ready now have added their share. Any thread; never
  /// runs `f` inline. Called from a worker of a real executor, `f` goes to the back of that
  /// worker's queue (`post` would put it in the slot that runs next); elsewhere, and by
  /// default, it is `post`.
  virtual void post_after_queued(detail::UniqueFunction f) { post(std::move(f)); }

  /// Blocks the calling thread until `ev` is set, or until `timeout` (measured on the
  /// environment's clock) passes; returns whether `ev` is set.
  ///
  /// Must not be called from a task running on this executor (a programmer error: it would
  /// deadlock the real runtime and re-enter the simulated one). Under simulation this *drives*
  /// the simulation (runs tasks and advances virtual time) until the event is set, the
  /// timeout passes, or nothing is left to run.
  virtual bool block_until(BlockingEvent& ev,
                           std::optional<std::chrono::nanoseconds> timeout) = 0;

  /// Runs `r` on the calling thread, as one of this executor's tasks, and returns true; or
  /// returns false without running it when this executor does not lend itself to that (the
  /// caller then posts `r`). Used by a plain thread that is about to block on a request to an
  /// idle actor: running the actor's one message there spares two cross-thread hand-offs
  /// (.NET's `Task.Wait` inlines a task that has not started, for the same reason).
  ///
  /// Called only from a thread that may block (never from a task of this executor). While
  /// `r` runs, `in_executor_thread()` is true on the calling thread, so a blocking wait made
  /// from inside it is caught as it is on a worker. The default never runs inline: the
  /// simulator keeps every choice of what runs next to its seeded scheduler.
  virtual bool run_inline(Runnable& r) noexcept {
    (void)r;
    return false;
  }

  /// True when the calling thread is currently running a task of this executor.
  virtual bool in_executor_thread() const noexcept = 0;

  /// Number of tasks that may run in parallel (1 under simulation).
  virtual std::size_t concurrency() const noexcept = 0;
};

}  // namespace cineyma
