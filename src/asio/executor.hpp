// src/asio/executor.hpp — the real executor: a pool of worker threads.
//
// Why it looks like this. Actor cells are posted on every empty→non-empty mailbox transition,
// so `post` and the hand-off to a worker are the hot path of the whole framework. The design
// follows the schedulers that do this well (tokio, Go), scaled to what we need:
//
//   * Each worker has a "LIFO slot": a runnable posted by the task a worker is running goes
//     there and runs next on the same worker, while its data is still in this core's cache.
//     A request/response ping-pong between two actors therefore stays on one core with no
//     lock, no syscall and no cross-core traffic. To stay fair, a worker takes its LIFO slot
//     at most `kLifoBudget` times in a row before it demotes it to the back of its queue.
//   * Each worker has a bounded lock-free FIFO (`LocalQueue`, one producer: the owner; many
//     consumers: the owner and thieves). Whatever the LIFO slot displaces goes there. Idle
//     workers steal half of a busy worker's queue at once.
//   * Threads that are not workers (the io/timer thread, user threads) post to one
//     lock-free injection queue (`InjectionQueue`: a push is one exchange, so an io thread
//     resuming a hundred callers never waits for a worker holding a lock, and a worker polls
//     it by reading two words that change only when work arrives). Workers look there first
//     every `kGlobalInterval` tasks, so a busy worker cannot starve it.
//   * A worker with nothing to do searches for `kSpin` (a few µs: the typical gap in a
//     cross-thread exchange; `pause` first, then sched_yield) before it parks, because a
//     park/unpark pair costs two syscalls and µs of wake-up latency. A parked worker waits
//     on a word of its own (a futex), which a waker claims and wakes without a lock. At
//     most half of the workers (at least one) spin at a time; the others look once and park,
//     so that idle spinners do not take the cores of threads with work (tokio's rule).
//   * `post` wakes a parked worker only when no worker is already searching for work, and a
//     searcher that finds work wakes the next one only if more work is queued (tokio's rule).
//     So a burst of posts costs one wake-up, not one per post, yet queued work is never left
//     alone while a worker sleeps.
//
// Twin of the simulated executor in sim/src/executor.hpp.
#pragma once

#include <cineyma/detail/unique_function.hpp>
#include <cineyma/env/executor.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cineyma::real {

/// Bounded single-producer, multi-consumer FIFO of runnables (tokio's local run queue,
/// simplified). The owner pushes at the tail; the owner and thieves take from the head with
/// a CAS. Never allocates: capacity is fixed and a full queue overflows to the injector.
class LocalQueue {
 public:
  static constexpr std::uint64_t kCapacity = 256;

  /// Owner only. False when full.
  bool try_push(Runnable& r) noexcept;
  /// Any thread. The oldest runnable, or nullptr.
  Runnable* pop() noexcept;
  /// Any thread but `into`'s owner calling on its own queue. Moves about half of this queue
  /// into `into` (which must be empty and owned by the caller) and returns one more to run
  /// now; nullptr when this queue is empty.
  Runnable* steal_into(LocalQueue& into) noexcept;
  /// Owner only, when `try_push` failed. Takes the older half of the queue out into `out`
  /// (capacity kCapacity / 2); returns how many were taken (0 if thieves made room meanwhile).
  std::size_t take_half(Runnable** out) noexcept;
  /// Any thread; a hint (it may be stale by the time the caller acts).
  bool looks_empty() const noexcept;
  /// Owner only: how many more `try_push` calls will succeed at least.
  std::size_t room() const noexcept {
    return static_cast<std::size_t>(
        kCapacity - (tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire)));
  }

 private:
  static constexpr std::uint64_t kMask = kCapacity - 1;
  static_assert((kCapacity & kMask) == 0, "capacity must be a power of two");

  // head_ and tail_ are free-running counters (64-bit: they never wrap in practice, so a CAS
  // on head_ can never succeed on a stale value — no ABA). They live on separate cache lines
  // because thieves write head_ while the owner writes tail_.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  // Slots are atomics only so that a thief's speculative read, which may race with the owner
  // overwriting a slot it no longer owns, is not a data race; the CAS on head_ then rejects it.
  alignas(64) std::atomic<Runnable*> slots_[kCapacity] = {};
};

/// Unbounded intrusive queue of runnables for posts from outside the workers (Vyukov's MPSC
/// queue, through `Runnable::next_runnable_`). Any number of threads push, wait-free; one
/// worker at a time pops, under a try-lock that a worker finding it taken simply skips (it
/// has other places to look, and comes back). Never allocates.
class InjectionQueue {
 public:
  InjectionQueue() noexcept : head_(&stub_), tail_(&stub_) {}
  InjectionQueue(const InjectionQueue&) = delete;
  InjectionQueue& operator=(const InjectionQueue&) = delete;

  /// Any thread. The exchange that links `r` in is seq_cst: it is the "work queued" half of
  /// the park/wake handshake (see RealExecutor::notify_if_needed).
  void push(Runnable& r) noexcept { push_chain(r, r); }
  /// Any thread: pushes `n` runnables (n > 0) with one exchange, in order.
  void push_all(Runnable* const* rs, std::size_t n) noexcept;
  /// Any thread; seq_cst (the parking side of the handshake reads through here). True when
  /// nothing is queued — a runnable that a producer is still linking in counts as queued.
  bool looks_empty() const noexcept {
    return tail_.load(std::memory_order_seq_cst) == &stub_ &&
           head_.load(std::memory_order_seq_cst) == &stub_;
  }
  /// Any thread. Pops the oldest runnable and then up to `more` others into `into` (which
  /// must have room for them); nullptr when empty, while a producer is between its two
  /// steps, or when another thread is popping (try again later: `looks_empty` says whether
  /// something is there). `*moved` is how many went into `into`.
  Runnable* pop(LocalQueue* into, std::size_t more, std::size_t* moved) noexcept;

 private:
  class Stub final : public Runnable {
    void run() override;  // never called: the stub is never handed out
  };
  void push_chain(Runnable& first, Runnable& last) noexcept {
    last.next_runnable_.store(nullptr, std::memory_order_relaxed);
    Runnable* prev = tail_.exchange(&last, std::memory_order_seq_cst);
    prev->next_runnable_.store(&first, std::memory_order_release);
  }
  Runnable* pop_one_locked() noexcept;

  // The consumer's side and the producers' side on separate cache lines: producers only
  // exchange tail_ (and link the previous node); the popping worker owns head_.
  alignas(64) std::atomic<Runnable*> head_;  // written under popping_, read by looks_empty
  std::atomic<bool> popping_{false};
  alignas(64) std::atomic<Runnable*> tail_;
  alignas(64) Stub stub_;
};

class RealExecutor final : public Executor {
 public:
  /// Starts `workers` threads (at least 1). `name` appears in logs and thread names.
  /// `inline_runs`: whether `run_inline` runs tasks on the calling thread.
  RealExecutor(std::size_t workers, std::string name, bool inline_runs = true);
  /// Calls `shutdown()`.
  ~RealExecutor() override;
  RealExecutor(const RealExecutor&) = delete;
  RealExecutor& operator=(const RealExecutor&) = delete;

  void post(Runnable& r) override;
  void post(detail::UniqueFunction f) override;
  void post_after_queued(detail::UniqueFunction f) override;
  bool block_until(BlockingEvent& ev, std::optional<std::chrono::nanoseconds> timeout) override;
  bool run_inline(Runnable& r) noexcept override;
  bool in_executor_thread() const noexcept override;
  std::size_t concurrency() const noexcept override { return workers_.size(); }

  /// Drains, then joins: workers keep running tasks (including those that tasks post) until
  /// every queue is empty, then exit. Must not be called from a worker. Idempotent. Posting
  /// from a non-worker thread once this has been called is a programmer error.
  void shutdown();

 private:
  struct Worker;
  // The worker the calling thread is, if any: `post` keeps a worker's own posts local, and
  // `in_executor_thread` compares its executor.
  static thread_local Worker* current_worker_;
  // The executor whose task the calling (non-worker) thread is running via run_inline.
  static thread_local const RealExecutor* inline_executor_;

  void inject(Runnable& r);
  Runnable* pop_injected(LocalQueue* batch_into) noexcept;
  bool has_queued_work() const noexcept;
  /// Wakes a parked worker if nobody is awake to find the work just queued; true if it did.
  bool notify_if_needed() noexcept;
  void wake_one() noexcept;

  const std::string name_;
  const bool inline_runs_;
  std::vector<std::unique_ptr<Worker>> workers_;

  // The injection queue, for posts from non-worker threads and overflow from local queues.
  InjectionQueue injected_;

  // Park/wake protocol. `searching_`: workers spinning for work (or woken and about to).
  // `idle_`: workers parked and not yet claimed by a waker (Worker::park_word). Posters
  // publish work and then read both; a parker bumps `idle_` and then re-reads the queues;
  // all with seq_cst operations, so either the poster sees the parker or the parker sees the
  // work (no lost wake-up). Details at RealExecutor::notify_if_needed.
  alignas(64) std::atomic<std::size_t> searching_{0};
  const std::size_t max_searchers_;  // how many may spin at once (the rest park at once)
  std::atomic<std::size_t> idle_{0};
  // Set once by shutdown(); parked workers are then woken through their park words.
  std::atomic<bool> stopping_flag_{false};
  std::atomic<bool> joined_{false};
};

}  // namespace cineyma::real
