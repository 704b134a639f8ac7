// cineyma/detail/cell.hpp — the actor cell: mailbox, scheduling state, lifecycle.
//
// Not public API; documented because everything else stands on it.
//
// Hot path (DESIGN §8): enqueue → schedule → dequeue → dispatch.
// * The mailbox is a lock-free intrusive MPSC queue (Vyukov) whose bound is counted in one
//   atomic state word that also holds the CLOSED / DEAD bits. A producer reserves a slot with
//   one fetch_add (undone when closed or full); a separate `scheduled_` flag, taken with an
//   exchange only when it reads clear, decides who posts the cell. So a cell is posted only
//   on the idle → scheduled transition, and the worker drains up to a quantum of messages
//   before yielding. The SYS / STREAM wake-up bits live in a second word on the cell
//   thread's side (see the field layout).
// * The message being handled no longer counts against the capacity (a slot frees when the
//   message is dequeued), as in the original. The cell thread returns freed slots to the
//   state word in batches: at most min(32, capacity / 8) slots (none below capacity 16) are
//   held back, and all of them are returned before the run ends, before the cell parks for
//   an async handler and before the mailbox closes. A producer may therefore see
//   `mailbox_full` while that many dequeued messages still count, never after the run.
// * Producers that must wait for space (`do_send`, `send`, timer deliveries) register a
//   `PushWaiter`; the consumer hands the freed slot to the oldest waiter (FIFO). Waiting is
//   the slow path and uses a mutex; the fast path never does.
// * System messages (stop, Terminated) go to a separate mutex-protected queue that is
//   unbounded by count but deduplicated per watcher, so a full mailbox never loses them.
//
// Lifecycle (cell thread only): created → running → stopping (mailbox closed, queued
// messages become dead letters, children asked to stop) → waiting for children → stopped()
// → dead (watchers notified, registry entries removed).
#pragma once

#include <cineyma/actor_id.hpp>
#include <cineyma/assert.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/error.hpp>
#include <cineyma/message.hpp>
#include <cineyma/result.hpp>
#include <cineyma/supervision.hpp>
#include <cineyma/detail/envelope_pool.hpp>
#include <cineyma/detail/ref.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace cineyma {
class ActorSystem;
}

namespace cineyma::detail {

class CellBase;
struct TimerState;

/// Default mailbox capacity (messages).
inline constexpr std::size_t kDefaultCapacity = 256;
/// Messages a worker handles for one cell before giving other cells a turn.
inline constexpr int kThroughputQuantum = 128;

/// Intrusive MPSC node.
struct MpscNode {
  std::atomic<MpscNode*> next_node{nullptr};
};

/// A message in a mailbox, type-erased. Exactly one of `dispatch` / `reject` is called, and
/// it consumes the envelope (frees it, possibly later for async handlers).
class Envelope : public MpscNode {
 public:
  /// Cell thread: runs the handler. Exceptions from user code are contained inside and
  /// reported to `cell.report_failure`.
  virtual void dispatch(CellBase& cell) noexcept = 0;
  /// Any thread: the message will never be handled. Fails its request (if any) with `why`.
  virtual void reject(Errc why) noexcept = 0;
  /// Name of the message type, for logs.
  virtual const char* type_name() const noexcept = 0;

  // Envelopes come from the envelope pool (allocated by senders, freed by workers).
  static void* operator new(std::size_t size) { return envelope_alloc(size); }
  static void operator delete(void* p, std::size_t size) noexcept { envelope_free(p, size); }

 protected:
  virtual ~Envelope() = default;
};

/// Wakes whoever waits for a completion: a coroutine (by posting its resumption to an
/// executor) or a blocked thread (by setting an event).
struct Waker {
  Executor* executor = nullptr;
  Runnable* runnable = nullptr;
  BlockingEvent* event = nullptr;
  void wake() const noexcept {
    if (event) {
      event->set();
    } else if (runnable) {
      executor->post(*runnable);
    }
  }
};

/// A producer waiting for mailbox space. `pushed(r)` is called exactly once: with success
/// when `envelope` was enqueued (ownership passed to the mailbox), or with the error
/// (`actor_stopped`) when it never will be (ownership stays with the waiter).
class PushWaiter {
 public:
  Envelope* envelope = nullptr;
  /// Called under the cell's waiter lock; must only record, post or set events.
  virtual void pushed(Result<void> r) noexcept = 0;

 protected:
  virtual ~PushWaiter() = default;

 private:
  friend class CellBase;
  PushWaiter* next_waiter_ = nullptr;
};

/// A system message (see file comment).
struct SysMsg {
  enum class Kind : unsigned char {
    stop,
    terminated,
    restart_now,        // the backoff of a restart elapsed
    child_restarting,   // to the parent: child `id` is restarting (restart groups)
    restart_request,    // from the parent: restart along with a sibling
  } kind;
  StopReason reason = StopReason::normal;
  ActorId id{};  // for `terminated`: who died
};

/// One stream attached to an actor (a channel's receiving end or a generator), type-erased.
/// Owned by the cell; destroyed on its thread when the stream ends, is removed, or the
/// instance that added it stops or restarts.
class StreamSource {
 public:
  enum class Poll : unsigned char {
    item,     // one item was handed to the stream hook
    pending,  // nothing available now (a producer will set `ready` again)
    ended,    // the stream ended (`finished` was called) or failed
  };
  virtual ~StreamSource() = default;
  /// Cell thread: hands at most one item (or the end) to the actor. User exceptions are
  /// contained and reported to `cell.report_failure`.
  virtual Poll poll(CellBase& cell) noexcept = 0;

  /// Set (by producers, any thread) when `poll` may find something; cleared by `poll` when it
  /// found the source empty. Whoever sets it from false calls `CellBase::notify_stream`.
  std::atomic<bool> ready{false};
  std::uint64_t id = 0;
  bool removed = false;  // cell thread: waiting to be destroyed by the run loop
};

/// Type-erased part of every actor cell. See the file comment for the protocol.
class CellBase : public Runnable {
 public:
  CellBase(ActorSystem& system, Environment& env, ActorId id, std::size_t capacity,
           RefPtr<CellBase> parent) noexcept;
  CellBase(const CellBase&) = delete;
  CellBase& operator=(const CellBase&) = delete;

  // --- references (any thread) ---
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // --- identity (any thread) ---
  ActorId id() const noexcept { return id_; }
  std::size_t capacity() const noexcept { return capacity_; }
  Environment& env() const noexcept { return env_; }
  /// The system; only valid while the actor is alive (it may be destroyed afterwards).
  ActorSystem& system() const noexcept { return system_; }
  /// False once the actor has begun stopping (its mailbox is closed).
  bool is_alive() const noexcept {
    return (state_.load(std::memory_order_acquire) & kClosed) == 0;
  }
  /// True once stopped() has run and watchers were notified.
  bool is_dead() const noexcept { return (state_.load(std::memory_order_acquire) & kDead) != 0; }

  // --- producers (any thread) ---
  /// Enqueues `e` without waiting. On success the mailbox owns `e`; on failure
  /// (`mailbox_full`, `actor_stopped`) the caller still owns it.
  Result<void> try_push(Envelope* e) noexcept;
  /// Cheap pre-check used to avoid allocating an envelope that would be refused.
  std::optional<Errc> precheck_push() const noexcept;
  /// Enqueues `w.envelope`, waiting for space when full. `w.pushed` is called exactly once,
  /// possibly inline in this call.
  void push_waiting(PushWaiter& w) noexcept;
  /// Withdraws a waiter that has not been served yet; true if it was withdrawn (then
  /// `pushed` will never be called and the caller still owns the envelope).
  bool cancel_push_wait(PushWaiter& w) noexcept;
  /// Queues a system message. Ignored once the actor is dead.
  void push_system(const SysMsg& m) noexcept;
  /// Asks the actor to stop after its current message (system message).
  void request_stop(StopReason reason) noexcept {
    push_system(SysMsg{SysMsg::Kind::stop, reason, {}});
  }

  // --- watching (any thread) ---
  /// Registers `watcher` to receive Terminated when this actor dies; if it is already dead,
  /// the notification is sent at once.
  void add_watcher(CellBase& watcher) noexcept;
  void remove_watcher(CellBase& watcher) noexcept;

  // --- cell thread (called through Context and envelopes) ---
  /// ctx.stop(): stop after the current message.
  void stop_after_current(StopReason reason) noexcept;
  /// A handler (or hook) threw; supervision decides. `where` names the callback.
  void report_failure(std::exception_ptr ep, const char* where) noexcept;
  /// An async handler started; the mailbox stays blocked until `end_async`.
  void begin_async() noexcept { async_state_.store(kAsyncActive, std::memory_order_relaxed); }
  /// The async handler finished (any executor thread, or inline in its dispatch).
  void end_async() noexcept;
  /// Registers a timer owned by the current instance (cancelled on stop and restart).
  void track_timer(RefPtr<TimerState> t);
  /// Adds a freshly spawned child (cell thread of the parent).
  void adopt_child(RefPtr<CellBase> child);
  /// False once this actor is stopping (cell thread).
  bool accepting_children() const noexcept {
    return phase_ == Phase::created || phase_ == Phase::running;
  }
  /// Cell thread: attaches a stream to the current instance; returns its id. A cell that is
  /// not running (stopping, restarting) drops the source at once.
  std::uint64_t add_stream(std::unique_ptr<StreamSource> source);
  /// Cell thread: detaches a stream without calling `finished` (no effect if unknown).
  void remove_stream(std::uint64_t id) noexcept;
  /// Any thread: one of this cell's streams has become ready; schedules the cell.
  void notify_stream() noexcept {
    signals_.fetch_or(kStream, std::memory_order_seq_cst);
    schedule();
  }
  /// Names under which this cell is registered (guarded by the registry's mutex).
  std::vector<std::string>& registered_names() noexcept { return names_; }

  /// Runtime use: posts the very first run of a new cell (it is born scheduled).
  void start() noexcept;

  /// RAII, for a plain thread about to block on a request: while one is alive, a push from
  /// this thread that makes `cell` scheduled does not post it; `finish()` then runs one
  /// message of it on this thread (`Executor::run_inline`) or, where that is not possible,
  /// posts it. Nothing else changes: the scheduled flag is taken as usual, so the cell still
  /// runs on one thread at a time, and whatever remains queued goes to the workers.
  class InlineCapture {
   public:
    explicit InlineCapture(CellBase& cell) noexcept;
    ~InlineCapture();
    InlineCapture(const InlineCapture&) = delete;
    InlineCapture& operator=(const InlineCapture&) = delete;
    /// Ends the capture; runs or posts the cell if a push scheduled it meanwhile.
    void finish() noexcept;

   private:
    CellBase& cell_;
    bool active_ = true;
  };
  /// Runtime use, before `start()`: how this child is supervised.
  void set_strategy(const SupervisorStrategy& s) noexcept { strategy_ = s; }
  /// Cell thread: how this actor's children restart together.
  void set_restart_group(RestartGroup g) noexcept { group_ = g; }
  /// Runtime use: marks a cell that must never run (spawned after shutdown) as dead.
  void mark_stillborn() noexcept;


  std::uint64_t trace_tag() const noexcept override { return id_.value; }

  /// Exempts this actor from injected exceptions: for actors the library itself runs (the
  /// cluster node's registrar), whose handlers are not user code. Call before it is started
  /// (right after spawn, on the thread that spawned it).
  void exempt_from_fault_injection() noexcept { inject_faults_ = false; }

  /// Fault point before a user callback (faults.hpp): throws `InjectedFault` when the
  /// environment's injector fires. Call it inside the try block that contains the callback.
  void fault_point(FaultSite site) {
    if (faults_ != nullptr && inject_faults_) [[unlikely]] {
      if (faults_->inject_exception(id_, site)) throw_injected_fault(site);
    }
  }

 protected:
  virtual ~CellBase();

  // Hooks implemented by Cell<A>; called on the cell thread; exceptions propagate to the
  // caller, which contains them.
  virtual void on_started() = 0;
  virtual void on_stopped() = 0;
  virtual void on_terminated(const Terminated& t) = 0;
  virtual bool handles_terminated() const noexcept = 0;
  virtual void destroy_instance() noexcept = 0;
  /// Builds a fresh instance from the factory (restart). Throws what the factory throws.
  /// False when the actor has no factory (it cannot be restarted).
  virtual bool recreate_instance() = 0;
  virtual bool can_restart() const noexcept = 0;
  virtual const char* actor_type_name() const noexcept = 0;

 private:
  static constexpr std::uint64_t kCountMask = 0xffffffffULL;
  static constexpr std::uint64_t kClosed = 1ULL << 33;
  static constexpr std::uint64_t kDead = 1ULL << 35;
  // signals_
  static constexpr std::uint32_t kSys = 1U << 0;     // a system message is queued
  static constexpr std::uint32_t kStream = 1U << 1;  // a stream became ready
  /// Most slots the cell thread holds back before returning them to `state_` in one RMW.
  static constexpr std::uint32_t kMaxReleaseBatch = 32;

  // restarting: a supervised restart is in progress (old instance's children stopping, or
  // waiting for the backoff); the mailbox stays open and keeps its messages.
  enum class Phase : unsigned char { created, running, restarting, stopping, dead };

  static constexpr int kAsyncIdle = 0, kAsyncActive = 1, kAsyncParked = 2;

  void run() override;
  [[noreturn]] void throw_injected_fault(FaultSite site) const;
  /// The run is ending while an async handler is in flight: hand the restart to end_async.
  /// False if the handler finished meanwhile (then this run continues).
  bool park_for_async() noexcept;
  /// After a handler: applies a recorded failure or stop request.
  void after_handler() noexcept;
  void handle_failure(std::exception_ptr ep) noexcept;
  /// Supervised restart, in steps: stop the old instance's children, run its stopped(),
  /// wait for the backoff, build and start the new instance.
  void begin_restart(bool counted) noexcept;
  void continue_restart() noexcept;
  void recreate() noexcept;
  void start_instance() noexcept;
  void process_system_queue() noexcept;
  void handle_sys(const SysMsg& m) noexcept;
  /// Vyukov's intrusive MPSC queue over tail_ / head_ / stub_. push: any thread.
  void queue_push(MpscNode* n) noexcept {
    n->next_node.store(nullptr, std::memory_order_relaxed);
    MpscNode* prev = tail_.exchange(n, std::memory_order_acq_rel);
    prev->next_node.store(n, std::memory_order_release);
  }
  /// Cell thread. nullptr when empty *or* when a producer is between its two steps.
  MpscNode* queue_pop() noexcept;
  /// Cell thread: gives the slots of dequeued messages back to `state_` and serves waiters.
  void release_slots() noexcept;
  void serve_push_waiters() noexcept;
  void begin_stop(StopReason reason) noexcept;
  void close_mailbox() noexcept;
  void finish_stop() noexcept;
  void cancel_instance_timers() noexcept;
  /// Hands one item of the next ready stream (round-robin) to the actor; false if none.
  bool poll_streams() noexcept;
  /// Destroys the streams a handler removed (never while one of them is being polled).
  void drop_removed_streams() noexcept;
  bool any_stream_ready() const noexcept;
  /// The instance is going away: destroys its streams without `finished`.
  void drop_streams() noexcept;
  /// Ends a run: reschedules if work arrived, else clears the scheduled flag. May delete `this`.
  void finish_run() noexcept;
  /// Posts the cell unless it is already scheduled (any thread).
  void schedule() noexcept;

  // Field order matters (DESIGN §8): the fields a producer writes on every enqueue come
  // first, the fields the cell thread touches on every message come last, and the cold fields
  // in between keep the two groups more than a cache line apart. A cell is not cache-line
  // aligned (idle actors stay small), but two fields 64 bytes apart never share a line, so a
  // producer keeps its line while the worker drains, and neither side's per-message accesses
  // pull the other's line across cores.

  // --- producer side: written by every enqueue; the cell thread touches it once per batch of
  // released slots and once per run.
  std::atomic<std::uint64_t> state_;     // reserved slot count | kClosed | kDead
  std::atomic<MpscNode*> tail_;          // the queue's producer end (Vyukov)
  // Set while the cell is posted or running (the first run, started(), is pending from
  // birth). Whoever sets it owns one reference and must post the cell.
  std::atomic<bool> scheduled_{true};
  const std::size_t capacity_;
  FaultInjector* const enqueue_faults_;  // = faults_, read by producers (see below)

  // --- cold: rarely written, never on a per-message path.
  std::atomic<int> refs_{1};
  std::atomic<int> n_push_waiters_{0};
  const ActorId id_;
  ActorSystem& system_;
  Environment& env_;
  StopReason stop_reason_ = StopReason::normal;
  StopReason final_reason_ = StopReason::normal;
  RestartGroup group_ = RestartGroup::one_for_one;
  bool awaiting_backoff_ = false;
  bool failure_escalated_ = false;  // the failure is a child's escalation
  bool watch_closed_ = false;
  const char* failure_where_ = "";
  SupervisorStrategy strategy_ = SupervisorStrategy::stop();
  RestartWindow restarts_;
  TimerId backoff_timer_ = 0;  // pending restart_now of a backoff
  RefPtr<CellBase> parent_;
  std::map<ActorId, RefPtr<CellBase>> children_;
  std::map<std::uint64_t, RefPtr<TimerState>> timers_;
  std::uint64_t timer_seq_ = 0;
  std::size_t timer_prune_at_ = 16;

  // Slow paths (push waiters, system queue, watchers) share one lock: they are rare, and one
  // mutex instead of three keeps an idle actor small. Never held while calling into another
  // cell's lock.
  std::mutex slow_mutex_;
  PushWaiter* waiters_head_ = nullptr;
  PushWaiter* waiters_tail_ = nullptr;
  std::vector<SysMsg> sys_queue_;  // a vector: no allocation until the first system message
  std::vector<RefPtr<CellBase>> watchers_;

  std::vector<std::string> names_;  // guarded by the registry mutex

  // --- cell thread: read or written for every message it handles.
  FaultInjector* const faults_;  // env_.faults(), read once: null on the real runtime
  std::exception_ptr failure_;
  struct StreamSet {
    std::vector<std::unique_ptr<StreamSource>> list;
    std::size_t cursor = 0;     // round-robin position
    std::uint64_t next_id = 0;  // ids never repeat, across restarts too
  };
  std::unique_ptr<StreamSet> streams_;  // allocated by the first add_stream: idle actors stay small
  MpscNode* head_;  // the queue's consumer end
  MpscNode stub_;
  // kSys / kStream: set by any thread (then schedule()), cleared by the cell thread. Apart
  // from `state_` so that the cell thread can look for system messages between two messages
  // without reading the producers' line.
  std::atomic<std::uint32_t> signals_{0};
  std::atomic<int> async_state_{kAsyncIdle};
  // Slots dequeued but not yet given back to `state_` (release_slots); at most
  // `release_batch_`, and zero whenever the cell is not running.
  std::uint32_t unreleased_ = 0;
  const std::uint32_t release_batch_;
  Phase phase_ = Phase::created;
  bool stop_requested_ = false;
  bool inject_faults_ = true;  // false for the library's own actors (see exempt_...)
  bool inline_run_ = false;    // the next run is an InlineCapture's: one message only

 public:
  /// Runtime use: the system's intrusive list of top-level actors (guarded by its mutex).
  CellBase* prev_top_ = nullptr;
  CellBase* next_top_ = nullptr;
};

/// Counts a dead letter in the cell's system and logs it at debug level.
void note_dead_letter(CellBase& cell, const char* type_name) noexcept;

}  // namespace cineyma::detail
