// The actor cell: mailbox protocol, run loop and lifecycle. See detail/cell.hpp for the
// protocol; comments here say why each step is ordered the way it is.
#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/send_ops.hpp>
#include <cineyma/system.hpp>
#include <cineyma/timer.hpp>

#include "log.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>

namespace cineyma::detail {

namespace {
thread_local Executor* tl_executor = nullptr;
// The cell an InlineCapture on this thread watches, and whether a push has scheduled it.
thread_local CellBase* tl_capture_cell = nullptr;
thread_local bool tl_captured = false;

std::string describe(const std::exception_ptr& ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    return std::string(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    return "non-std exception";
  }
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// thread-local context

Executor* current_executor() noexcept { return tl_executor; }
ExecutorScope::ExecutorScope(Executor* e) noexcept : prev_(tl_executor) { tl_executor = e; }
ExecutorScope::~ExecutorScope() { tl_executor = prev_; }

void block_on(Executor& ex, BlockingEvent& ev) {
  CINEYMA_ASSERT_MSG(!ex.in_executor_thread(),
                     "blocking get() called from inside an actor: co_await instead");
  ex.block_until(ev, std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// MPSC queue

MpscNode* CellBase::queue_pop() noexcept {
  MpscNode* head = head_;
  MpscNode* next = head->next_node.load(std::memory_order_acquire);
  if (head == &stub_) {
    if (next == nullptr) return nullptr;
    head_ = next;
    head = next;
    next = next->next_node.load(std::memory_order_acquire);
  }
  if (next != nullptr) {
    head_ = next;
    return head;
  }
  // `head` is the last linked node. If the tail moved on, a producer has exchanged the tail
  // but not linked yet: report empty for now (the count tells the caller to come back).
  if (tail_.load(std::memory_order_acquire) != head) return nullptr;
  // Re-insert the stub so that `head` can be detached without losing the queue's end.
  queue_push(&stub_);
  next = head->next_node.load(std::memory_order_acquire);
  if (next != nullptr) {
    head_ = next;
    return head;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// construction

CellBase::CellBase(ActorSystem& system, Environment& env, ActorId id, std::size_t capacity,
                   RefPtr<CellBase> parent) noexcept
    : state_(0),
      tail_(&stub_),
      capacity_(capacity),
      enqueue_faults_(env.faults()),
      id_(id),
      system_(system),
      env_(env),
      parent_(std::move(parent)),
      faults_(env.faults()),
      head_(&stub_),
      // A held-back slot is one a producer cannot use yet: hold back at most an eighth of a
      // small mailbox (none below 16), so that a nearly full mailbox still frees promptly.
      release_batch_(static_cast<std::uint32_t>(
          std::clamp<std::size_t>(capacity / 8, 1, kMaxReleaseBatch))) {}

CellBase::~CellBase() = default;

void CellBase::start() noexcept { env_.executor().post(*this); }

void CellBase::mark_stillborn() noexcept {
  state_.store(kClosed | kDead, std::memory_order_release);  // scheduled_ stays set
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    watch_closed_ = true;
  }
  final_reason_ = StopReason::shutdown;
  phase_ = Phase::dead;
  destroy_instance();
  parent_.reset();
  release();  // the reference of the scheduled state: this cell never runs
}

// ---------------------------------------------------------------------------------------------
// producers

std::optional<Errc> CellBase::precheck_push() const noexcept {
  const std::uint64_t s = state_.load(std::memory_order_acquire);
  if (s & kClosed) return Errc::actor_stopped;
  if ((s & kCountMask) >= capacity_) return Errc::mailbox_full;
  return std::nullopt;
}

Result<void> CellBase::try_push(Envelope* e) noexcept {
  // One read-modify-write per message (the state word is the cache line producers and the
  // consumer fight over): reserve optimistically, undo when closed or full. seq_cst pairs
  // with the consumer's decrement and waiter check (serve_push_waiters) and with finish_run.
  const std::uint64_t s = state_.fetch_add(1, std::memory_order_seq_cst);
  if ((s & kClosed) || (s & kCountMask) >= capacity_) {
    state_.fetch_sub(1, std::memory_order_seq_cst);
    if (!(s & kClosed)) CINEYMA_CODE_PROBE_WITH(faults_, "mailbox full");
    return fail((s & kClosed) ? Errc::actor_stopped : Errc::mailbox_full);
  }
  if (enqueue_faults_ != nullptr) [[unlikely]] enqueue_faults_->message_enqueued(e);
  queue_push(e);
  schedule();
  return ok();
}

void CellBase::schedule() noexcept {
  // Called after work was published with a seq_cst RMW; finish_run clears the flag and then
  // re-reads the state, so one of the two always sees the other (Dekker).
  if (scheduled_.load(std::memory_order_seq_cst)) return;
  if (scheduled_.exchange(true, std::memory_order_seq_cst)) return;
  add_ref();  // owned by the scheduled state until the run that clears it
  if (tl_capture_cell == this) [[unlikely]] {
    tl_captured = true;  // InlineCapture::finish runs or posts it, once our locks are released
    return;
  }
  env_.executor().post(*this);
}

CellBase::InlineCapture::InlineCapture(CellBase& cell) noexcept : cell_(cell) {
  CINEYMA_ASSERT(tl_capture_cell == nullptr);
  tl_capture_cell = &cell;
  tl_captured = false;
}

CellBase::InlineCapture::~InlineCapture() { finish(); }

void CellBase::InlineCapture::finish() noexcept {
  if (!std::exchange(active_, false)) return;
  tl_capture_cell = nullptr;
  if (!std::exchange(tl_captured, false)) return;
  // We hold the scheduled state (and its reference), so nobody else runs the cell until
  // this run ends; the flag is read by that run only.
  cell_.inline_run_ = true;
  if (cell_.env_.executor().run_inline(cell_)) return;
  cell_.inline_run_ = false;
  cell_.env_.executor().post(cell_);
}

void CellBase::push_waiting(PushWaiter& w) noexcept {
  std::lock_guard<std::mutex> lock(slow_mutex_);
  // Announce the waiter before looking at the count: a consumer that frees a slot after our
  // look is then guaranteed to see the waiter and serve it (Dekker-style, all seq_cst).
  n_push_waiters_.fetch_add(1, std::memory_order_seq_cst);
  if (waiters_head_ == nullptr) {  // FIFO: only overtake nobody
    Result<void> r = try_push(w.envelope);
    if (r || !r.is(Errc::mailbox_full)) {
      n_push_waiters_.fetch_sub(1, std::memory_order_seq_cst);
      w.pushed(r);
      return;
    }
  }
  w.next_waiter_ = nullptr;
  if (waiters_tail_) {
    waiters_tail_->next_waiter_ = &w;
  } else {
    waiters_head_ = &w;
  }
  waiters_tail_ = &w;
}

bool CellBase::cancel_push_wait(PushWaiter& w) noexcept {
  std::lock_guard<std::mutex> lock(slow_mutex_);
  PushWaiter* prev = nullptr;
  for (PushWaiter* it = waiters_head_; it != nullptr; prev = it, it = it->next_waiter_) {
    if (it != &w) continue;
    (prev ? prev->next_waiter_ : waiters_head_) = it->next_waiter_;
    if (waiters_tail_ == it) waiters_tail_ = prev;
    n_push_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    return true;
  }
  return false;
}

void CellBase::release_slots() noexcept {
  if (unreleased_ == 0) return;
  state_.fetch_sub(std::exchange(unreleased_, 0), std::memory_order_seq_cst);
  serve_push_waiters();
}

void CellBase::serve_push_waiters() noexcept {
  if (n_push_waiters_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard<std::mutex> lock(slow_mutex_);
  while (PushWaiter* w = waiters_head_) {
    Result<void> r = try_push(w->envelope);
    if (!r && r.is(Errc::mailbox_full)) break;  // a try_send took the slot first
    waiters_head_ = w->next_waiter_;
    if (!waiters_head_) waiters_tail_ = nullptr;
    n_push_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    w->pushed(r);  // last touch of `w`: it may be gone once this returns
  }
}

void CellBase::push_system(const SysMsg& m) noexcept {
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    if (state_.load(std::memory_order_acquire) & kDead) return;
    // Deduplicate: one pending stop, one pending Terminated per dead actor.
    for (const SysMsg& q : sys_queue_) {
      if (q.kind != m.kind) continue;
      if (m.kind == SysMsg::Kind::stop || q.id == m.id) return;
    }
    sys_queue_.push_back(m);
  }
  signals_.fetch_or(kSys, std::memory_order_seq_cst);
  schedule();
}

// ---------------------------------------------------------------------------------------------
// watching and children

void CellBase::add_watcher(CellBase& watcher) noexcept {
  StopReason reason;
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    if (!watch_closed_) {
      // Prune watchers that died meanwhile, so long-lived actors don't accumulate them.
      std::erase_if(watchers_, [](const RefPtr<CellBase>& w) { return w->is_dead(); });
      for (const auto& w : watchers_) {
        if (w.get() == &watcher) return;
      }
      watchers_.emplace_back(&watcher);
      return;
    }
    reason = final_reason_;
  }
  // Already dead: notify at once (the original never fires in this case).
  watcher.push_system(SysMsg{SysMsg::Kind::terminated, reason, id_});
}

void CellBase::remove_watcher(CellBase& watcher) noexcept {
  std::lock_guard<std::mutex> lock(slow_mutex_);
  std::erase_if(watchers_, [&](const RefPtr<CellBase>& w) { return w.get() == &watcher; });
}

void CellBase::adopt_child(RefPtr<CellBase> child) {
  child->add_watcher(*this);  // before the child's first run: no death can be missed
  const ActorId cid = child->id();
  children_.emplace(cid, std::move(child));
}

void CellBase::track_timer(RefPtr<TimerState> t) {
  timers_.emplace(++timer_seq_, std::move(t));
  if (timers_.size() >= timer_prune_at_) {
    std::erase_if(timers_, [](const auto& kv) { return kv.second->is_finished(); });
    timer_prune_at_ = std::max<std::size_t>(16, timers_.size() * 2);
  }
}

void CellBase::cancel_instance_timers() noexcept {
  for (auto& [seq, t] : timers_) t->cancel();
  timers_.clear();
}

// ---------------------------------------------------------------------------------------------
// streams

std::uint64_t CellBase::add_stream(std::unique_ptr<StreamSource> source) {
  if (!streams_) streams_ = std::make_unique<StreamSet>();
  const std::uint64_t id = ++streams_->next_id;
  source->id = id;
  // Only a running instance owns streams; one that is stopping or restarting would drop it
  // right away, so drop it now (its producers see the channel closed).
  if (phase_ == Phase::running) streams_->list.push_back(std::move(source));
  return id;
}

void CellBase::remove_stream(std::uint64_t id) noexcept {
  if (!streams_) return;
  for (auto& s : streams_->list) {
    if (s->id == id) s->removed = true;  // destroyed by poll_streams, never under its own poll
  }
}

bool CellBase::any_stream_ready() const noexcept {
  for (const auto& s : streams_->list) {
    if (!s->removed && s->ready.load(std::memory_order_acquire)) return true;
  }
  return false;
}

void CellBase::drop_removed_streams() noexcept {
  std::erase_if(streams_->list, [](const std::unique_ptr<StreamSource>& s) { return s->removed; });
}

bool CellBase::poll_streams() noexcept {
  StreamSet& set = *streams_;
  // Destroy removed and ended streams here, where none of them is being polled.
  drop_removed_streams();
  // Clear the wake-up bit before reading the ready flags: a producer that sets a flag after
  // our read also sets the bit again, and finish_run reschedules on it.
  if (signals_.load(std::memory_order_relaxed) & kStream) {
    signals_.fetch_and(~kStream, std::memory_order_seq_cst);
  }
  const std::size_t n = set.list.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = (set.cursor + i) % n;
    StreamSource* s = set.list[at].get();
    if (s->removed || !s->ready.load(std::memory_order_acquire)) continue;
    set.cursor = at + 1;
    // The hook may add streams (the list may grow: entries are stable unique_ptrs) or remove
    // them (marked only).
    const StreamSource::Poll p = s->poll(*this);
    if (p == StreamSource::Poll::ended) s->removed = true;
    if (p != StreamSource::Poll::pending) return true;
  }
  return false;
}

void CellBase::drop_streams() noexcept {
  if (streams_) streams_->list.clear();
}

// ---------------------------------------------------------------------------------------------
// failures

void CellBase::stop_after_current(StopReason reason) noexcept {
  if (!stop_requested_) {
    stop_requested_ = true;
    stop_reason_ = reason;
  }
}

void CellBase::report_failure(std::exception_ptr ep, const char* where) noexcept {
  // Recorded only: the run loop applies it once the current callback has returned, on the
  // cell's thread (an async handler may report from the thread that completed it).
  if (!failure_) {
    failure_ = std::move(ep);
    failure_where_ = where;
  }
}

void CellBase::handle_failure(std::exception_ptr ep) noexcept {
  const bool escalated = std::exchange(failure_escalated_, false);
  log(env_, spdlog::level::warn, "actor#{} ({}) failed in {}: {}", id_.value, actor_type_name(),
      failure_where_, describe(ep));
  if (phase_ != Phase::running) return;  // already restarting or stopping
  if (!parent_) {
    // A top-level actor has no supervisor: it stops. An escalation that reaches the root
    // stops the root with reason `escalated` and goes no further.
    begin_stop(escalated ? StopReason::escalated : StopReason::failed);
    return;
  }
  switch (strategy_.directive()) {
    case SupervisorStrategy::Directive::stop:
      begin_stop(StopReason::failed);
      return;
    case SupervisorStrategy::Directive::escalate:
      begin_stop(StopReason::escalated);  // the parent fails when it learns of this death
      return;
    case SupervisorStrategy::Directive::restart:
      if (restarts_.allow(env_.clock().now(), strategy_.max_restarts(), strategy_.within())) {
        begin_restart(true);
      } else {
        CINEYMA_CODE_PROBE_WITH(faults_, "restart limit reached");
        begin_stop(StopReason::restart_limit);
      }
      return;
  }
}

void CellBase::begin_restart(bool counted) noexcept {
  phase_ = Phase::restarting;
  // Restart groups: the parent restarts the siblings. Only for a restart of our own (a
  // restart the parent requested must not bounce back to it).
  if (counted && parent_) {
    parent_->push_system(SysMsg{SysMsg::Kind::child_restarting, StopReason::normal, id_});
  }
  cancel_instance_timers();
  drop_streams();
  // The old instance's children go first, as when stopping; the mailbox stays open.
  for (auto& [cid, child] : children_) child->request_stop(StopReason::shutdown);
  if (children_.empty()) continue_restart();
}

void CellBase::continue_restart() noexcept {
  try {
    on_stopped();
  } catch (...) {
    log(env_, spdlog::level::warn, "actor#{} ({}) failed in stopped() while restarting: {}",
        id_.value, actor_type_name(), describe(std::current_exception()));
  }
  destroy_instance();
  if (!strategy_.has_backoff()) {
    recreate();
    return;
  }
  // Capped exponential backoff over the restarts in the window, jittered into
  // [delay/2, delay] by the environment's PRNG (seeded under simulation).
  const std::size_t n = std::max<std::size_t>(restarts_.recent(), 1);
  Duration delay = strategy_.backoff_min();
  for (std::size_t i = 1; i < n && delay < strategy_.backoff_max(); ++i) delay *= 2;
  delay = std::min(delay, strategy_.backoff_max());
  const auto half = static_cast<std::uint64_t>(delay.count() / 2);
  delay = Duration(static_cast<Duration::rep>(half + env_.random().below(half + 1)));
  awaiting_backoff_ = true;
  RefPtr<CellBase> self(this);
  backoff_timer_ = env_.clock().schedule_after(delay, [self]() {
    self->push_system(SysMsg{SysMsg::Kind::restart_now, StopReason::normal, {}});
  });
}

void CellBase::recreate() noexcept {
  awaiting_backoff_ = false;
  // Stopped during the backoff: the pending restart timer must not outlive the actor (it
  // holds a reference to the cell). A no-op when it is the timer that brought us here.
  if (backoff_timer_ != 0) env_.clock().cancel(std::exchange(backoff_timer_, 0));
  phase_ = Phase::running;
  if (stop_requested_) {  // stopped while restarting: no new instance
    begin_stop(stop_reason_);
    return;
  }
  bool built = false;
  try {
    built = recreate_instance();
  } catch (...) {
    // The factory is user code: its failure is this actor's failure, supervised again
    // (the restart window bounds the retries).
    failure_where_ = "factory";
    handle_failure(std::current_exception());
    return;
  }
  if (!built) {
    begin_stop(StopReason::failed);
    return;
  }
  log(env_, spdlog::level::info, "actor#{} ({}) restarted", id_.value, actor_type_name());
  start_instance();  // a failure in started() is applied by the run loop (after_handler)
}

void CellBase::after_handler() noexcept {
  if (failure_) {
    std::exception_ptr ep = std::exchange(failure_, nullptr);
    handle_failure(std::move(ep));
  }
  if (phase_ == Phase::running && stop_requested_) begin_stop(stop_reason_);
}

// ---------------------------------------------------------------------------------------------
// run loop

void CellBase::end_async() noexcept {
  // Release publishes the handler's effects (actor state, failure_, stop request) to the run
  // that resumes the mailbox.
  const int prev = async_state_.exchange(kAsyncIdle, std::memory_order_acq_rel);
  // Parked: the run that started the handler has ended and left the cell scheduled, so this
  // post is the cell's next run. Active: that run is still going and will notice.
  if (prev == kAsyncParked) env_.executor().post(*this);
}

bool CellBase::park_for_async() noexcept {
  int expected = kAsyncActive;
  return async_state_.compare_exchange_strong(expected, kAsyncParked, std::memory_order_acq_rel,
                                              std::memory_order_acquire);
}

void CellBase::throw_injected_fault(FaultSite site) const {
  throw InjectedFault("injected fault in " + std::string(to_string(site)) + " of actor#" +
                      std::to_string(id_.value));
}

void CellBase::start_instance() noexcept {
  try {
    fault_point(FaultSite::started);
    on_started();
  } catch (...) {
    report_failure(std::current_exception(), "started()");
  }
}

void CellBase::run() {
  ExecutorScope executor_scope(&env_.executor());
  if (phase_ == Phase::created) {
    phase_ = Phase::running;
    start_instance();
  }
  // BUGGIFY: yield after one message instead of a quantum, so that the simulator explores
  // interleavings a full quantum hides. Legal: the quantum is a fairness knob, not a promise.
  // An inline run (InlineCapture) handles one message: the blocked caller's own, which is
  // what it runs it for; anything behind it belongs to the workers.
  int budget = (std::exchange(inline_run_, false) || CINEYMA_BUGGIFY_WITH(faults_))
                   ? 1
                   : kThroughputQuantum;
  // Streams and the mailbox take turns while both have work: a message, then one stream
  // item, and so on (the original polled streams only when the mailbox was empty, so a busy
  // mailbox starved them).
  bool stream_turn = false;
  for (;;) {
    if (async_state_.load(std::memory_order_acquire) != kAsyncIdle) {
      // Slots held back are returned before the cell may be parked for long.
      release_slots();
      if (park_for_async()) return;  // stays scheduled; end_async() posts the next run
    }
    // System messages first: they are never blocked behind a full mailbox.
    process_system_queue();
    after_handler();
    if (phase_ != Phase::running) break;
    if (budget-- == 0) break;
    if (streams_ && stream_turn) {
      stream_turn = false;
      if (poll_streams()) continue;
    }
    stream_turn = true;
    if (MpscNode* n = queue_pop()) {
      // The slot frees at dequeue, but is handed back to producers in batches: the count
      // shares its cache line with the producers' reservations, and one RMW per message from
      // this side moved that line between cores twice per message.
      if (++unreleased_ >= release_batch_) release_slots();
      auto* e = static_cast<Envelope*>(n);
      if (faults_ != nullptr) [[unlikely]] faults_->message_dispatched(e, e->type_name());
      e->dispatch(*this);
      continue;
    }
    if (streams_ && poll_streams()) continue;
    break;
  }
  // A run that ends on its budget right after a handler removed a stream must not leave the
  // source alive until some later run: its senders wait to see the channel closed.
  if (streams_) drop_removed_streams();
  release_slots();  // before finish_run reads the count, and before the cell goes idle
  finish_run();
}

void CellBase::finish_run() noexcept {
  if (phase_ == Phase::dead) {
    // scheduled_ stays set forever, so nothing posts a dead cell again.
    release();
    return;
  }
  // Read cell-thread state before giving up the scheduled state: once it is clear, a
  // producer may post the cell and another worker may run it concurrently.
  const bool accepts_messages = phase_ == Phase::running;
  // A generator is always ready, and a run may end on its budget with channel items left.
  const bool streams_ready = accepts_messages && streams_ && any_stream_ready();
  scheduled_.store(false, std::memory_order_seq_cst);
  const std::uint64_t s = state_.load(std::memory_order_seq_cst);
  const std::uint32_t sig = signals_.load(std::memory_order_seq_cst);
  const bool work = (sig & kSys) != 0 || streams_ready ||
                    (accepts_messages && ((s & kCountMask) != 0 || (sig & kStream) != 0));
  if (work && !scheduled_.exchange(true, std::memory_order_seq_cst)) {
    env_.executor().post(*this);  // ours again: the reference carries over
    return;
  }
  release();  // idle, or a producer scheduled it (with its own reference); may delete this
}

void CellBase::process_system_queue() noexcept {
  if (!(signals_.load(std::memory_order_acquire) & kSys)) return;
  signals_.fetch_and(~kSys, std::memory_order_acq_rel);
  std::vector<SysMsg> batch;
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    batch.swap(sys_queue_);
  }
  for (const SysMsg& m : batch) {
    if (phase_ == Phase::dead) break;
    handle_sys(m);
  }
}

void CellBase::handle_sys(const SysMsg& m) noexcept {
  switch (m.kind) {
    case SysMsg::Kind::stop:
      if (phase_ == Phase::running) stop_after_current(m.reason);
      if (phase_ == Phase::restarting) {
        stop_after_current(m.reason);
        if (awaiting_backoff_) recreate();  // recreate() sees the stop and stops instead
      }
      return;
    case SysMsg::Kind::restart_now:
      if (phase_ == Phase::restarting && awaiting_backoff_) recreate();
      return;
    case SysMsg::Kind::child_restarting:
      if (group_ == RestartGroup::one_for_one) return;
      // Children are keyed by id, and ids grow with spawn order: "the rest" is id > m.id.
      for (auto& [cid, child] : children_) {
        if (cid == m.id) continue;
        if (group_ == RestartGroup::one_for_all || cid > m.id) {
          child->push_system(SysMsg{SysMsg::Kind::restart_request, StopReason::normal, {}});
        }
      }
      return;
    case SysMsg::Kind::restart_request:
      if (phase_ == Phase::running && can_restart()) {
        log(env_, spdlog::level::info, "actor#{} ({}) restarts with a sibling", id_.value,
            actor_type_name());
        begin_restart(false);
      }
      return;
    case SysMsg::Kind::terminated: {
      const bool was_child = children_.erase(m.id) > 0;
      if (phase_ == Phase::running && handles_terminated()) {
        try {
          fault_point(FaultSite::handler);
          on_terminated(Terminated{m.id, m.reason});
        } catch (...) {
          report_failure(std::current_exception(), "handle(Terminated)");
        }
        after_handler();
      }
      if (was_child && m.reason == StopReason::escalated && phase_ == Phase::running) {
        // A child escalated: this actor fails as if it had thrown.
        if (!failure_) {
          failure_ = std::make_exception_ptr(
              std::runtime_error("child actor#" + std::to_string(m.id.value) + " escalated"));
          failure_where_ = "child escalation";
          failure_escalated_ = true;
        }
        after_handler();
      }
      if (was_child && children_.empty()) {
        if (phase_ == Phase::stopping) finish_stop();
        if (phase_ == Phase::restarting && !awaiting_backoff_) continue_restart();
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// stopping

void CellBase::begin_stop(StopReason reason) noexcept {
  CINEYMA_ASSERT(phase_ == Phase::running);
  phase_ = Phase::stopping;
  final_reason_ = reason;
  cancel_instance_timers();
  drop_streams();
  close_mailbox();
  // Children stop before their parent's stopped() runs; each death arrives as a system
  // message and the last one completes this stop.
  for (auto& [cid, child] : children_) child->request_stop(StopReason::shutdown);
  if (children_.empty()) finish_stop();
}

void CellBase::close_mailbox() noexcept {
  // Slots of messages already dequeued go to waiting producers first, as they would have had
  // the slot been released at dequeue; the drain below then makes their messages dead letters.
  release_slots();
  state_.fetch_or(kClosed, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    while (PushWaiter* w = waiters_head_) {
      waiters_head_ = w->next_waiter_;
      n_push_waiters_.fetch_sub(1, std::memory_order_seq_cst);
      w->pushed(fail(Errc::actor_stopped));
    }
    waiters_tail_ = nullptr;
  }
  // No slot can be reserved any more; drain what was reserved. A producer may sit between
  // its reservation and its link (a few instructions, real runtime only): wait it out.
  for (;;) {
    if ((state_.load(std::memory_order_acquire) & kCountMask) == 0) break;
    MpscNode* n = queue_pop();
    if (n == nullptr) {
      std::this_thread::yield();
      continue;
    }
    state_.fetch_sub(1, std::memory_order_acq_rel);
    auto* e = static_cast<Envelope*>(n);
    note_dead_letter(*this, e->type_name());
    e->reject(Errc::actor_stopped);
  }
}

void CellBase::finish_stop() noexcept {
  try {
    on_stopped();
  } catch (...) {
    log(env_, spdlog::level::warn, "actor#{} ({}) failed in stopped(): {}", id_.value, actor_type_name(),
        describe(std::current_exception()));
    if (final_reason_ == StopReason::normal || final_reason_ == StopReason::shutdown) {
      final_reason_ = StopReason::failed;
    }
  }
  destroy_instance();
  cancel_instance_timers();  // including any that stopped() itself started
  drop_streams();
  failure_ = nullptr;
  phase_ = Phase::dead;

  std::vector<RefPtr<CellBase>> watchers;
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    watch_closed_ = true;
    watchers.swap(watchers_);
  }
  {
    std::lock_guard<std::mutex> lock(slow_mutex_);
    state_.fetch_or(kDead, std::memory_order_acq_rel);
    sys_queue_.clear();
  }
  for (auto& w : watchers) w->push_system(SysMsg{SysMsg::Kind::terminated, final_reason_, id_});
  watchers.clear();
  parent_.reset();
  log(env_, spdlog::level::debug, "actor#{} ({}) stopped: {}", id_.value, actor_type_name(),
      to_string(final_reason_));
  // Last touch of the system: once the last actor is accounted for, a shutdown() waiting on
  // another thread may return and destroy it.
  system_.on_cell_dead(*this);
}

void note_dead_letter(CellBase& cell, const char* type_name) noexcept {
  cell.system().note_dead_letter(type_name);
  log(cell.env(), spdlog::level::debug, "dead letter: {} to actor#{}", type_name, cell.id().value);
}

}  // namespace cineyma::detail
