// cineyma/detail/spin_mutex.hpp — a mutex for critical sections of a few hundred nanoseconds.
//
// Not public API. Why: the remote layer's locks (a client's call table, a connection's write
// buffer) are taken by the io thread for every frame it reads and by the workers for every
// call or answer they send. With `std::mutex`, a thread that finds the lock taken goes to
// sleep in the kernel at once, and the holder pays a futex wake when it unlocks: on 2 vCPUs
// under pipelined traffic that was a third of all CPU time (context switches and wake-ups)
// for sections that last well under a microsecond. This one spins briefly first (the holder
// is usually running on the other core and about to leave), and only then sleeps on the
// word itself (`std::atomic::wait`, a futex on Linux), so a preempted holder still costs no
// more than a short spin.
//
// Threading: the usual mutex contract (Lockable); not recursive; unlock by the owner.
// Under the simulator there is one thread, so the lock is never contended.
#pragma once

#include <atomic>
#include <cstdint>

namespace cineyma::detail {

/// Tells the core that this thread is spinning on a memory location (x86 `pause`, Arm
/// `yield`): cheaper for the sibling hyper-thread and for leaving the loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

class SpinMutex {
 public:
  SpinMutex() noexcept = default;
  SpinMutex(const SpinMutex&) = delete;
  SpinMutex& operator=(const SpinMutex&) = delete;

  void lock() noexcept {
    if (try_lock()) return;
    lock_contended();
  }
  bool try_lock() noexcept {
    std::uint32_t expected = kFree;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() noexcept {
    // Only a holder that took the lock while others slept (kSleepers) pays for a wake-up.
    if (state_.exchange(kFree, std::memory_order_release) == kSleepers) state_.notify_one();
  }

 private:
  static constexpr std::uint32_t kFree = 0, kLocked = 1, kSleepers = 2;
  // About a microsecond of `pause` on current x86: longer than the sections this guards.
  static constexpr int kSpins = 128;

  void lock_contended() noexcept {
    for (int i = 0; i < kSpins; ++i) {
      if (state_.load(std::memory_order_relaxed) == kFree && try_lock()) return;
      cpu_relax();
    }
    // Drepper's protocol: mark the lock as having sleepers, and sleep while it is held. A
    // thread that gets it this way keeps the mark (it cannot know whether others still
    // sleep), which costs at most one spare wake-up.
    while (state_.exchange(kSleepers, std::memory_order_acquire) != kFree) {
      state_.wait(kSleepers, std::memory_order_relaxed);
    }
  }

  std::atomic<std::uint32_t> state_{kFree};
};

}  // namespace cineyma::detail
