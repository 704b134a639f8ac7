// src/asio/executor.cpp — the real executor. The design essay is in executor.hpp.
#include "executor.hpp"

#include <cineyma/assert.hpp>
#include <cineyma/detail/spin_mutex.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace cineyma::real {

namespace {

// How long an idle worker keeps looking for work before it parks. A park/unpark pair costs
// two futex syscalls plus the kernel's wake-up latency (several µs, tens under load); a few
// µs of searching covers the gap between two steps of a cross-thread exchange without
// burning a core for long when the runtime is truly idle. The first `kPauseRounds` rounds
// only execute `pause`; later rounds call sched_yield instead, because the thread we just
// woke (say, a user thread blocked in block_until) is often queued on *this* CPU (the
// kernel places a wakee near its waker) and a pure busy-wait would keep it off the CPU for
// the whole spin. Measured on 2 vCPUs: pure `pause` spinning made an external round trip
// 2-3x slower than not spinning at all; pause-then-yield made it the fastest variant. But a
// yield is a system call (1-3 us on a nested VM), and work that arrives during one waits for
// it. In alternated runs on a disturbed 2-vCPU VM, 32 or 64 rounds before the first yield
// made the one-sender and blocking-call benchmarks faster than 16 in every pair, and the
// remote round trip (whose io thread is the one being woken) no slower; 64 cost pipelined
// remote calls about a fifth of their rate, 32 sat between. Hence 32 (~3 us of `pause`).
// Both are compile-time knobs for benchmarking.
#ifndef CINEYMA_EXECUTOR_SPIN_US
#define CINEYMA_EXECUTOR_SPIN_US 5
#endif
#ifndef CINEYMA_EXECUTOR_PAUSE_ROUNDS
#define CINEYMA_EXECUTOR_PAUSE_ROUNDS 32
#endif
constexpr std::chrono::nanoseconds kSpin{std::chrono::microseconds{CINEYMA_EXECUTOR_SPIN_US}};
constexpr std::uint32_t kPauseRounds = CINEYMA_EXECUTOR_PAUSE_ROUNDS;

// How long a thread blocked in block_until() polls before it parks (see there).
#ifndef CINEYMA_BLOCK_SPIN_US
#define CINEYMA_BLOCK_SPIN_US 50
#endif
constexpr std::chrono::nanoseconds kBlockSpin{std::chrono::microseconds{CINEYMA_BLOCK_SPIN_US}};

// Set on a non-worker thread whose last post found a worker awake to take it (searching, or
// busy and coming back for it) rather than having to wake one; read and cleared by
// block_until, which polls differently in the two cases.
thread_local bool t_posted_to_awake_worker = false;

// How many times in a row a worker may run its LIFO slot before demoting it to the back of
// its queue. Without a bound, two actors that keep messaging each other would hold a worker
// forever while the tasks behind them wait (tokio uses 3; a little more keeps the fast path
// for a ping-pong, the demotion costs one push and one pop).
constexpr std::uint32_t kLifoBudget = 8;

// Every this many tasks a worker looks at the injection queue before its own queue, so that
// work posted from outside (io and timer threads, user threads) is never starved by a worker
// whose local queue never empties. Prime, like tokio's 61, so that it does not resonate with
// the period of a workload.
constexpr std::uint32_t kGlobalInterval = 61;

// How many runnables a worker moves from the injection queue into its own queue at once,
// besides the one it runs (a quarter of the local queue: siblings steal half of it if needed).
constexpr std::size_t kInjectedBatch = LocalQueue::kCapacity / 4;

using detail::cpu_relax;

/// The holder `post(UniqueFunction)` allocates; it deletes itself once it has run.
class FunctionTask final : public Runnable {
 public:
  explicit FunctionTask(detail::UniqueFunction fn) noexcept : fn_(std::move(fn)) {}
  void run() override {
    // Owned by a unique_ptr during the call so that the holder is freed even when the
    // function throws (the worker contains the exception and goes on).
    const std::unique_ptr<FunctionTask> self(this);
    fn_();
  }

 private:
  detail::UniqueFunction fn_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// LocalQueue

bool LocalQueue::try_push(Runnable& r) noexcept {
  const std::uint64_t tail = tail_.load(std::memory_order_relaxed);  // only we write it
  // Acquire: a thief reads a slot before its CAS on head_; seeing its CAS here means that
  // read is done, so the slot is ours to overwrite.
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  if (tail - head >= kCapacity) return false;
  slots_[tail & kMask].store(&r, std::memory_order_relaxed);
  // Publishes the slot. seq_cst rather than release: this store is the "work queued" half of
  // the park/wake handshake (see RealExecutor::notify_if_needed).
  tail_.store(tail + 1, std::memory_order_seq_cst);
  return true;
}

Runnable* LocalQueue::pop() noexcept {
  std::uint64_t head = head_.load(std::memory_order_acquire);
  for (;;) {
    // Loaded after head: tail is monotonic and never behind head, so tail >= head.
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    if (tail == head) return nullptr;
    // Speculative: if the owner has wrapped around and overwritten this slot, head_ has
    // moved past `head` and the CAS below fails.
    Runnable* r = slots_[head & kMask].load(std::memory_order_relaxed);
    if (head_.compare_exchange_weak(head, head + 1, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return r;
    }
  }
}

Runnable* LocalQueue::steal_into(LocalQueue& into) noexcept {
  std::uint64_t head = head_.load(std::memory_order_acquire);
  for (;;) {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    const std::uint64_t n = tail - head;
    if (n == 0) return nullptr;
    if (n > kCapacity) {  // `head` went stale between the two loads
      head = head_.load(std::memory_order_acquire);
      continue;
    }
    // Take the older half (rounded up): enough to keep the thief busy, and the victim keeps
    // the other half, so one steal rebalances two workers.
    const std::uint64_t take = n - n / 2;
    // `into` is ours and empty (we only steal when our queue is empty, and only we push
    // to it), so the slots after its tail are free. They are written before the CAS and
    // published only if it succeeds.
    const std::uint64_t into_tail = into.tail_.load(std::memory_order_relaxed);
    for (std::uint64_t i = 1; i < take; ++i) {
      into.slots_[(into_tail + i - 1) & kMask].store(
          slots_[(head + i) & kMask].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    Runnable* first = slots_[head & kMask].load(std::memory_order_relaxed);
    if (head_.compare_exchange_weak(head, head + take, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      // seq_cst: publishing work, like try_push.
      if (take > 1) into.tail_.store(into_tail + take - 1, std::memory_order_seq_cst);
      return first;
    }
  }
}

std::size_t LocalQueue::take_half(Runnable** out) noexcept {
  constexpr std::uint64_t half = kCapacity / 2;
  const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
  std::uint64_t head = head_.load(std::memory_order_acquire);
  for (;;) {
    if (tail - head < kCapacity) return 0;  // thieves made room meanwhile
    for (std::uint64_t i = 0; i < half; ++i) {
      out[i] = slots_[(head + i) & kMask].load(std::memory_order_relaxed);
    }
    if (head_.compare_exchange_weak(head, head + half, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return half;
    }
  }
}

bool LocalQueue::looks_empty() const noexcept {
  // seq_cst: the parking side of the park/wake handshake reads through here.
  const std::uint64_t head = head_.load(std::memory_order_seq_cst);
  return tail_.load(std::memory_order_seq_cst) == head;
}

// ---------------------------------------------------------------------------------------
// InjectionQueue

void InjectionQueue::Stub::run() {
  CINEYMA_ASSERT_MSG(false, "the injection queue's stub was run");
}

void InjectionQueue::push_all(Runnable* const* rs, std::size_t n) noexcept {
  CINEYMA_ASSERT(n > 0);
  // Linked among themselves first (nobody else can see them yet), then spliced in at once.
  for (std::size_t i = 0; i + 1 < n; ++i) {
    rs[i]->next_runnable_.store(rs[i + 1], std::memory_order_relaxed);
  }
  push_chain(*rs[0], *rs[n - 1]);
}

Runnable* InjectionQueue::pop_one_locked() noexcept {
  // Vyukov's pop. head_ is the last node handed out (or the stub); the oldest queued node is
  // its successor. A node is returned only once its successor is known, so head_ never
  // points at a node that was handed out and may be re-posted; the last node is freed by
  // pushing the stub behind it.
  Runnable* head = head_.load(std::memory_order_relaxed);
  Runnable* next = head->next_runnable_.load(std::memory_order_acquire);
  if (head == &stub_) {
    if (next == nullptr) return nullptr;
    // Published before the stub can be pushed below (release, then that exchange): a parker
    // that sees the stub as tail_ also sees that head_ is not the stub, i.e. work remains.
    head_.store(next, std::memory_order_release);
    head = next;
    next = next->next_runnable_.load(std::memory_order_acquire);
  }
  if (next != nullptr) {
    head_.store(next, std::memory_order_release);
    return head;
  }
  // `head` looks like the last node. If tail_ is elsewhere, a producer has exchanged tail_
  // but not linked its node yet: the queue is not empty, but we cannot go on; try later.
  if (tail_.load(std::memory_order_acquire) != head) return nullptr;
  push(stub_);
  next = head->next_runnable_.load(std::memory_order_acquire);
  if (next == nullptr) return nullptr;  // a producer got in before the stub: same as above
  head_.store(next, std::memory_order_release);
  return head;
}

Runnable* InjectionQueue::pop(LocalQueue* into, std::size_t more, std::size_t* moved) noexcept {
  *moved = 0;
  if (looks_empty()) return nullptr;  // the idle poll: two loads of rarely written lines
  if (popping_.exchange(true, std::memory_order_acquire)) return nullptr;
  Runnable* first = pop_one_locked();
  if (first != nullptr && into != nullptr) {
    more = std::min(more, into->room());
    for (; *moved < more; ++*moved) {
      Runnable* r = pop_one_locked();
      if (r == nullptr) break;
      const bool pushed = into->try_push(*r);
      CINEYMA_ASSERT(pushed);
    }
  }
  popping_.store(false, std::memory_order_release);
  return first;
}

// ---------------------------------------------------------------------------------------
// Worker

struct RealExecutor::Worker {
  Worker(RealExecutor& e, std::size_t i) : exec(e), index(i) {}

  void main_loop();
  void schedule_local(Runnable& r);
  void push_back(Runnable& r);
  Runnable* next_local();
  Runnable* find_work();
  Runnable* spin_for_work(bool spin);
  Runnable* steal(bool include_lifo);
  void park();
  void leave_search();
  void run(Runnable& r) noexcept;

  RealExecutor& exec;
  const std::size_t index;
  // Written by the owner on every post from its tasks; thieves only take from it, and only
  // as a last resort before parking (see spin_for_work).
  alignas(64) std::atomic<Runnable*> lifo{nullptr};
  // Parking: kParked while this worker sleeps (or is about to) in park(); a waker that
  // moves it to kWoken owns the wake-up. Its own cache line: wakers poll it.
  static constexpr std::uint32_t kRunning = 0;
  static constexpr std::uint32_t kParked = 1;
  static constexpr std::uint32_t kWoken = 2;
  alignas(64) std::atomic<std::uint32_t> park_word{kRunning};
  bool claim_parked() noexcept;
  LocalQueue queue;
  // Owner-only bookkeeping.
  std::uint32_t tick = 0;
  std::uint32_t lifo_streak = 0;
  std::thread thread;
};

thread_local RealExecutor::Worker* RealExecutor::current_worker_ = nullptr;
thread_local const RealExecutor* RealExecutor::inline_executor_ = nullptr;

void RealExecutor::Worker::main_loop() {
  current_worker_ = this;
#if defined(__linux__)
  const std::string thread_name = "cineyma-w" + std::to_string(index);
  pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
#endif
  for (;;) {
    Runnable* r = next_local();
    if (r == nullptr) r = find_work();
    if (r == nullptr) break;  // shutting down and nothing is left anywhere
    run(*r);
  }
  current_worker_ = nullptr;
}

void RealExecutor::Worker::run(Runnable& r) noexcept {
  // The framework contains exceptions of user code itself; this is the last line of defence,
  // so that one escaped exception costs one task and not a worker (and with it, eventually,
  // the whole runtime).
  try {
    r.run();
  } catch (const std::exception& e) {
    spdlog::error("cineyma[{}]: a task threw (contained, worker {} continues): {}", exec.name_,
                  index, e.what());
  } catch (...) {
    spdlog::error("cineyma[{}]: a task threw a non-std exception (contained, worker {} continues)",
                  exec.name_, index);
  }
}

void RealExecutor::Worker::schedule_local(Runnable& r) {
  // The newest post runs next on this worker (see the essay). No wake-up for it: this worker
  // is running and will take it as soon as the current task returns — waking a sibling here
  // would make every step of a ping-pong pay a futex and move the pair across cores. The
  // price (as in tokio): if the current task runs long, `r` waits for it, unless a sibling
  // that is searching anyway takes it.
  Runnable* displaced = lifo.exchange(&r, std::memory_order_acq_rel);
  if (displaced == nullptr) return;
  // There is now more runnable work on this worker than it can run at once: make it
  // stealable and make sure somebody is looking.
  push_back(*displaced);
  exec.notify_if_needed();
}

void RealExecutor::Worker::push_back(Runnable& r) {
  if (queue.try_push(r)) return;
  // Full: move the older half plus `r` to the injection queue in one exchange (tokio's
  // overflow). It keeps `post` allocation-free and bounded in time.
  Runnable* batch[LocalQueue::kCapacity / 2 + 1];
  const std::size_t n = queue.take_half(batch);
  if (n == 0) {
    const bool pushed = queue.try_push(r);  // thieves made room; only we push, so it fits
    CINEYMA_ASSERT(pushed);
    return;
  }
  batch[n] = &r;
  exec.injected_.push_all(batch, n + 1);
}

Runnable* RealExecutor::Worker::next_local() {
  ++tick;
  if (tick % kGlobalInterval == 0) {
    if (Runnable* r = exec.pop_injected(nullptr)) {
      lifo_streak = 0;
      return r;
    }
  }
  // Only we store into our slot; a plain load spares the RMW when it is empty.
  if (lifo.load(std::memory_order_relaxed) != nullptr) {
    if (Runnable* r = lifo.exchange(nullptr, std::memory_order_acq_rel)) {
      if (lifo_streak < kLifoBudget) {
        ++lifo_streak;
        return r;
      }
      // Budget spent: `r` goes behind whatever waits here. No wake-up: if nothing waits we
      // pop it right back, and whatever does wait was announced when it was pushed.
      push_back(*r);
    }
  }
  lifo_streak = 0;
  if (Runnable* r = queue.pop()) return r;
  return exec.pop_injected(&queue);
}

Runnable* RealExecutor::Worker::find_work() {
  exec.searching_.fetch_add(1, std::memory_order_seq_cst);
  for (;;) {
    // At most `max_searchers_` workers spin at a time (tokio's rule: half of them); the
    // others look once and park. Spinning is only a bet that work comes within kSpin, and on
    // a machine with as many runnable threads as cores (workers, the io thread, the threads
    // that use the runtime) each extra spinner takes a core from a thread with real work:
    // with both workers spinning after every task, pipelined remote calls ran at about half
    // the rate. One spinner keeps the fast hand-off of a cross-thread exchange.
    const bool spin =
        exec.searching_.load(std::memory_order_relaxed) <= exec.max_searchers_;
    if (Runnable* r = spin_for_work(spin)) {
      leave_search();
      return r;
    }
    if (exec.stopping_flag_.load(std::memory_order_acquire)) {
      // Draining is over for this worker: a full scan found nothing. Work a running sibling
      // may still create lands in that sibling's own queues, which it drains itself.
      exec.searching_.fetch_sub(1, std::memory_order_seq_cst);
      return nullptr;
    }
    park();  // returns counted as a searcher again
  }
}

Runnable* RealExecutor::Worker::spin_for_work(bool spin) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (std::uint32_t round = 0;;) {
    if (Runnable* r = exec.pop_injected(&queue)) return r;
    if (Runnable* r = steal(false)) return r;
    // Not spinning: one look, and the siblings' LIFO slots are left to their owners (who are
    // running, or a spinning sibling takes them), as park() leaves them.
    if (!spin && !exec.stopping_flag_.load(std::memory_order_acquire)) return nullptr;
    if (!spin || exec.stopping_flag_.load(std::memory_order_acquire) ||
        std::chrono::steady_clock::now() >= deadline) {
      // Last resort before parking (or exiting): a sibling's LIFO slot. Not earlier, because
      // stealing it splits a ping-pong across two cores; by now the owner has had a few µs
      // to get to it, so it is probably stuck in a long task.
      return steal(true);
    }
    if (++round <= kPauseRounds) {
      for (int i = 0; i < 4; ++i) cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

Runnable* RealExecutor::Worker::steal(bool include_lifo) {
  const std::size_t n = exec.workers_.size();
  for (std::size_t i = 1; i < n; ++i) {
    Worker& victim = *exec.workers_[(index + i) % n];
    if (victim.queue.looks_empty()) continue;
    if (Runnable* r = victim.queue.steal_into(queue)) return r;
  }
  if (!include_lifo) return nullptr;
  for (std::size_t i = 1; i < n; ++i) {
    Worker& victim = *exec.workers_[(index + i) % n];
    // Load before exchanging: an RMW on an empty slot would still steal its cache line.
    if (victim.lifo.load(std::memory_order_relaxed) == nullptr) continue;
    if (Runnable* r = victim.lifo.exchange(nullptr, std::memory_order_acq_rel)) return r;
  }
  return nullptr;
}

void RealExecutor::Worker::leave_search() {
  // tokio's rule: the last searcher to find work hands the search over to a parked worker
  // if more work is queued, because posters skipped waking anyone while we were searching.
  if (exec.searching_.fetch_sub(1, std::memory_order_seq_cst) != 1) return;
  if (exec.has_queued_work()) exec.notify_if_needed();
}

void RealExecutor::Worker::park() {
  // The other half of the handshake in notify_if_needed: either a poster sees us idle and
  // wakes us, or we see its work (or the stop) here. Parked first, then counted idle: a
  // waker that sees idle_ > 0 finds a parked word to claim. LIFO slots are not checked:
  // their owners are running and take them without help.
  park_word.store(kParked, std::memory_order_seq_cst);
  exec.idle_.fetch_add(1, std::memory_order_seq_cst);
  exec.searching_.fetch_sub(1, std::memory_order_seq_cst);
  if (exec.stopping_flag_.load(std::memory_order_seq_cst) || exec.has_queued_work()) {
    std::uint32_t expected = kParked;
    if (park_word.compare_exchange_strong(expected, kRunning, std::memory_order_seq_cst)) {
      exec.searching_.fetch_add(1, std::memory_order_seq_cst);
      exec.idle_.fetch_sub(1, std::memory_order_seq_cst);
    }
    // Otherwise a waker claimed us meanwhile, and has already counted us as a searcher.
    park_word.store(kRunning, std::memory_order_relaxed);
    return;
  }
  // Returns once a waker's claim (wake_one, shutdown) has moved the word off kParked:
  // wait() itself re-checks the value after a spurious wake-up.
  park_word.wait(kParked, std::memory_order_acquire);
  park_word.store(kRunning, std::memory_order_relaxed);
}

bool RealExecutor::Worker::claim_parked() noexcept {
  if (park_word.load(std::memory_order_relaxed) != kParked) return false;
  std::uint32_t expected = kParked;
  if (!park_word.compare_exchange_strong(expected, kWoken, std::memory_order_seq_cst)) {
    return false;  // it left on its own, or another waker got it
  }
  // Counted as a searcher from now on, so that posts racing with its wake-up do not wake
  // another worker for the same work.
  exec.searching_.fetch_add(1, std::memory_order_seq_cst);
  exec.idle_.fetch_sub(1, std::memory_order_seq_cst);
  park_word.notify_one();
  return true;
}

// ---------------------------------------------------------------------------------------
// RealExecutor

RealExecutor::RealExecutor(std::size_t workers, std::string name, bool inline_runs)
    : name_(std::move(name)),
      inline_runs_(inline_runs),
      max_searchers_(std::max<std::size_t>(workers / 2, 1)) {
  workers = std::max<std::size_t>(workers, 1);
  // All workers exist before any thread starts: threads index each other's queues.
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
  try {
    for (auto& w : workers_) w->thread = std::thread([&worker = *w] { worker.main_loop(); });
  } catch (...) {
    shutdown();  // joins the threads that did start
    throw;
  }
}

RealExecutor::~RealExecutor() { shutdown(); }

void RealExecutor::shutdown() {
  if (joined_.load(std::memory_order_acquire)) return;
  CINEYMA_ASSERT_MSG(!in_executor_thread(),
                     "the executor is being shut down from one of its own workers: "
                     "a worker cannot join itself");
  // seq_cst, like a post: a parker either sees the flag or is claimed by the loop below.
  stopping_flag_.store(true, std::memory_order_seq_cst);
  for (auto& w : workers_) static_cast<void>(w->claim_parked());
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  joined_.store(true, std::memory_order_release);
  // Workers only exit once a full scan found nothing, and posts from workers land in queues
  // their poster drains itself; anything here was posted from another thread while the
  // environment was being destroyed, which the lifetime contract forbids.
  CINEYMA_ASSERT_MSG(injected_.looks_empty(),
                     "a task was posted from outside while the environment was being destroyed");
}

void RealExecutor::post(Runnable& r) {
  Worker* w = current_worker_;
  if (w != nullptr && &w->exec == this) {
    w->schedule_local(r);
    return;
  }
  CINEYMA_ASSERT_MSG(!joined_.load(std::memory_order_relaxed),
                     "post() on an executor whose environment has been destroyed");
  inject(r);
}

void RealExecutor::post(detail::UniqueFunction f) {
  CINEYMA_ASSERT(f);
  post(*new FunctionTask(std::move(f)));
}

void RealExecutor::post_after_queued(detail::UniqueFunction f) {
  CINEYMA_ASSERT(f);
  Worker* w = current_worker_;
  if (w == nullptr || &w->exec != this) {
    post(std::move(f));
    return;
  }
  auto* task = new FunctionTask(std::move(f));
  // What waits in the LIFO slot was posted before `f`: it goes ahead of it, to the queue
  // (as a later post would displace it), and makes the queue worth a sibling's look.
  if (Runnable* slot = w->lifo.exchange(nullptr, std::memory_order_acq_rel)) {
    w->push_back(*slot);
    w->push_back(*task);
    notify_if_needed();
    return;
  }
  // Otherwise no wake-up: this worker runs `f` once it has run what is queued before it
  // (the point: one flush after all the writers), unless an idle sibling steals it first.
  w->push_back(*task);
}

void RealExecutor::inject(Runnable& r) {
  injected_.push(r);
  t_posted_to_awake_worker = !notify_if_needed();
}

Runnable* RealExecutor::pop_injected(LocalQueue* batch_into) noexcept {
  // Take a share into our (empty) local queue along with the first one, so that a burst
  // posted from outside (an io thread resuming many callers) costs one pop per batch rather
  // than per task; siblings steal from our queue if we are slow to get to them.
  std::size_t moved = 0;
  Runnable* r = injected_.pop(batch_into, batch_into ? kInjectedBatch : 0, &moved);
  if (moved > 0) notify_if_needed();
  return r;
}

bool RealExecutor::has_queued_work() const noexcept {
  if (!injected_.looks_empty()) return true;
  return std::any_of(workers_.begin(), workers_.end(),
                     [](const std::unique_ptr<Worker>& w) { return !w->queue.looks_empty(); });
}

bool RealExecutor::notify_if_needed() noexcept {
  // The park/wake handshake (a Dekker pattern). The caller has just queued work with a
  // seq_cst store or exchange (a local queue's tail, or the injection queue's tail); a
  // parking worker bumps idle_ (or a searcher drops searching_) with a seq_cst RMW and then
  // re-reads the queues with seq_cst loads. In the single total order of seq_cst operations
  // one of the two comes first, so either we see the worker idle here and wake it, or it
  // sees our work: no lost wake-up. (Plain seq_cst operations rather than fences because
  // ThreadSanitizer does not model fences, and on x86 the cost is the same: one locked
  // instruction per side.)
  if (searching_.load(std::memory_order_seq_cst) != 0) return false;  // a searcher finds it
  if (idle_.load(std::memory_order_seq_cst) == 0) return false;       // all busy; they come back
  wake_one();
  return true;
}

void RealExecutor::wake_one() noexcept {
  // No lock: the waker claims one parked worker's word and wakes it through that word alone.
  // With a shared mutex and condition variable, the woken worker re-took the mutex on its
  // way out of wait() just as the io thread posted the next burst, and the io thread — on
  // the critical path of every remote call — went to sleep on the mutex behind it.
  for (auto& w : workers_) {
    if (w->claim_parked()) return;
  }
  // None found: every worker that was counted idle left on its own or was claimed by
  // another waker since notify_if_needed looked; either way one is awake to find the work.
}

bool RealExecutor::block_until(BlockingEvent& ev, std::optional<std::chrono::nanoseconds> timeout) {
  CINEYMA_ASSERT_MSG(!in_executor_thread(),
                     "block_until() called from a task of this executor: it would deadlock "
                     "(the worker it blocks may be the one that must set the event)");
  // A blocked requester usually waits a few microseconds (one hop to a worker and back).
  // Parking on the condition variable costs a futex wake on each side, several microseconds
  // on a VM, so first poll briefly. How to poll depends on who will run the request:
  //   * our own post found a worker awake (spinning for work, or busy): that worker has a
  //     CPU of its own, so poll with `pause` and yield only rarely. sched_yield is a system
  //     call (1-3 us measured on a 2-vCPU VM), and an answer that arrives during one is seen
  //     only when it returns: with a yield every few hundred ns the caller spent most of each
  //     round trip inside them.
  //   * anything else — our post had to wake a parked worker, or the answer comes from a
  //     thread that sleeps until then (the io thread, for a remote call): the kernel often
  //     queues the wakee on *this* CPU (it places wakees near their waker), and busy-waiting
  //     would keep it off the CPU for a whole time slice — so yield between short polls.
  const bool awake = std::exchange(t_posted_to_awake_worker, false);
  const std::uint32_t pause_rounds = awake ? kPauseRounds * 64 : kPauseRounds;
  const auto spin_until = std::chrono::steady_clock::now() + kBlockSpin;
  while (!ev.is_set() && std::chrono::steady_clock::now() < spin_until) {
    for (std::uint32_t i = 0; i < pause_rounds && !ev.is_set(); ++i) cpu_relax();
    if (!ev.is_set()) std::this_thread::yield();
  }
  if (ev.is_set_settled()) return true;
  if (!timeout) {
    ev.wait();
    return true;
  }
  return ev.wait_for(*timeout);
}

bool RealExecutor::run_inline(Runnable& r) noexcept {
  // Not on a worker of ours (the caller is about to block, which a worker must not), not
  // nested in another inline run, and not once shutdown has begun (the drain is the
  // workers' business).
  if (!inline_runs_ || in_executor_thread() || inline_executor_ != nullptr ||
      stopping_flag_.load(std::memory_order_acquire)) {
    return false;
  }
  inline_executor_ = this;
  // The same last line of defence as Worker::run: the framework contains user exceptions
  // itself, and one that escapes must not unwind through the caller's blocking call.
  try {
    r.run();
  } catch (const std::exception& e) {
    spdlog::error("cineyma[{}]: a task run inline threw (contained): {}", name_, e.what());
  } catch (...) {
    spdlog::error("cineyma[{}]: a task run inline threw a non-std exception (contained)", name_);
  }
  inline_executor_ = nullptr;
  return true;
}

bool RealExecutor::in_executor_thread() const noexcept {
  const Worker* w = current_worker_;
  return (w != nullptr && &w->exec == this) || inline_executor_ == this;
}

}  // namespace cineyma::real
