// cineyma/detail/send_ops.hpp — the awaitable/blocking operations behind `do_send` and `send`.
//
// Both are lazy: nothing is enqueued until the operation is awaited (`co_await op`) or waited
// for (`std::move(op).get()`). Awaiting resumes the coroutine on the executor of the actor
// that awaits; `get()` blocks a non-actor thread (under simulation it drives the simulation).
#pragma once

#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/completion.hpp>
#include <cineyma/result.hpp>

#include <atomic>
#include <coroutine>
#include <optional>
#include <utility>

namespace cineyma::detail {

/// The executor running the current task on this thread (an actor's or a resumed
/// coroutine's), or nullptr on a non-executor thread.
Executor* current_executor() noexcept;

/// RAII: sets `current_executor()` for the scope.
class ExecutorScope {
 public:
  explicit ExecutorScope(Executor* e) noexcept;
  ~ExecutorScope();
  ExecutorScope(const ExecutorScope&) = delete;
  ExecutorScope& operator=(const ExecutorScope&) = delete;

 private:
  Executor* prev_;
};

/// Posted to resume a coroutine on an executor.
class ResumeRunnable final : public Runnable {
 public:
  std::coroutine_handle<> handle;
  Executor* executor = nullptr;
  void run() override {
    ExecutorScope scope(executor);
    handle.resume();
  }
};

/// Blocks (or drives the simulation) until `ev` is set. Asserts when called on an executor.
void block_on(Executor& ex, BlockingEvent& ev);

/// `do_send`: enqueue, waiting for space. Result: ok, or actor_stopped.
class [[nodiscard]] SendOp final : private PushWaiter {
 public:
  SendOp(RefPtr<CellBase> cell, Envelope* e) noexcept : cell_(std::move(cell)) {
    envelope = e;
  }
  SendOp(SendOp&& o) noexcept : cell_(std::move(o.cell_)) {
    envelope = std::exchange(o.envelope, nullptr);
  }
  SendOp& operator=(SendOp&&) = delete;
  ~SendOp() {
    if (envelope) envelope->reject(Errc::actor_stopped);  // never sent: drop it
  }

  bool await_ready() noexcept {
    if (!cell_) {  // empty address
      result_ = fail(Errc::actor_stopped);
      return true;
    }
    Result<void> r = cell_->try_push(envelope);
    if (r || !r.is(Errc::mailbox_full)) {
      if (r) envelope = nullptr;
      result_ = r;
      return true;
    }
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    resume_.handle = h;
    resume_.executor = current_executor();
    CINEYMA_ASSERT_MSG(resume_.executor, "co_await do_send() outside an actor");
    cell_->push_waiting(*this);  // pushed() may run inline and post the resumption
  }
  Result<void> await_resume() noexcept { return result_; }

  /// Blocking form, for non-actor threads.
  Result<void> get() && {
    if (await_ready()) return result_;
    BlockingEvent ev;
    event_ = &ev;
    cell_->push_waiting(*this);
    if (!ev.is_set_settled()) block_on(cell_->env().executor(), ev);
    return result_;
  }

 private:
  void pushed(Result<void> r) noexcept override {
    // On failure the mailbox never took the envelope: drop it here.
    if (!r) envelope->reject(Errc::actor_stopped);
    envelope = nullptr;
    result_ = r;
    if (event_) {
      event_->set();
    } else {
      resume_.executor->post(resume_);
    }
  }

  RefPtr<CellBase> cell_;
  Result<void> result_;
  ResumeRunnable resume_;
  BlockingEvent* event_ = nullptr;
};

/// `send`: enqueue (waiting for space), then wait for the reply. Result: the reply, or
/// handler_failed / actor_stopped / timeout.
template <typename R>
class [[nodiscard]] Request final : private PushWaiter {
 public:
  Request(RefPtr<CellBase> cell, Envelope* e, Completion<R>* c,
          std::optional<Duration> timeout) noexcept
      : cell_(std::move(cell)), completion_(c), timeout_(timeout) {
    envelope = e;
  }
  Request(Request&& o) noexcept
      : cell_(std::move(o.cell_)),
        completion_(std::exchange(o.completion_, nullptr)),
        timeout_(o.timeout_),
        resume_via_(o.resume_via_) {
    envelope = std::exchange(o.envelope, nullptr);
  }
  Request& operator=(Request&&) = delete;
  ~Request() {
    if (envelope && !pushed_.load(std::memory_order_acquire)) envelope->reject(Errc::actor_stopped);  // never sent
    if (completion_) completion_->release();
  }

  /// Resume the awaiting coroutine by posting to `ex` instead of the executor current at the
  /// `co_await`; `ex` must outlive the wait. (The remote layer relays the resumption of a
  /// forwarded request through an executor of its own; see remote/router.hpp.)
  Request&& resume_via(Executor& ex) && noexcept {
    resume_via_ = &ex;
    return std::move(*this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    resume_.handle = h;
    resume_.executor = resume_via_ != nullptr ? resume_via_ : current_executor();
    CINEYMA_ASSERT_MSG(resume_.executor, "co_await send() outside an actor");
    completion_->set_waker(Waker{resume_.executor, &resume_, nullptr});
    launch();
  }
  Result<R> await_resume() {
    withdraw_if_waiting();
    return completion_->take();
  }

  /// Blocking form, for non-actor threads. Under simulation, if the simulation runs out of
  /// events before the reply arrives, fails with `timeout`.
  Result<R> get() && {
    BlockingEvent ev;
    completion_->set_waker(Waker{nullptr, nullptr, &ev});
    if (cell_ && !timeout_) {
      // Without a deadline the caller waits for the handler however long it runs, so it may
      // as well run it (if the actor is idle): no hand-off to a worker and back. With one,
      // the caller must be free to give up at the deadline, so the handler runs elsewhere.
      CellBase::InlineCapture capture(*cell_);
      launch();
      capture.finish();
    } else {
      launch();
    }
    // Set at once if never sent (then the environment may already be gone: don't touch it).
    if (!ev.is_set_settled()) block_on(cell_->env().executor(), ev);
    if (!completion_->done()) {
      // Only possible under simulation (nothing left to run): report it as a timeout.
      completion_->complete_error(Errc::timeout, true);
    }
    withdraw_if_waiting();
    return completion_->take();
  }

 private:
  void launch() noexcept {
    if (!cell_ || cell_->precheck_push() == Errc::actor_stopped) {
      pushed(fail(Errc::actor_stopped));
      return;
    }
    if (timeout_) arm_deadline(*timeout_);
    cell_->push_waiting(*this);
  }
  void arm_deadline(Duration d) noexcept {
    Clock& clock = cell_->env().clock();
    RefPtr<Completion<R>> ref(completion_);
    TimerId id = clock.schedule_after(d, [ref = std::move(ref)]() mutable {
      ref->complete_error(Errc::timeout, true);
    });
    completion_->set_deadline_timer(&clock, id);
  }
  void pushed(Result<void> r) noexcept override {
    Envelope* e = envelope;
    envelope = nullptr;
    pushed_.store(true, std::memory_order_release);
    // After a failed push we still own the mailbox's reference: reject() completes the
    // request with the error (waking the requester) and drops that reference.
    if (!r) e->reject(Errc::actor_stopped);
  }
  void withdraw_if_waiting() noexcept {
    if (pushed_.load(std::memory_order_acquire)) return;
    // Woken by the deadline while still waiting for space. cancel_push_wait serialises with
    // pushed() (both run under the cell's waiter lock): exactly one of them owns the envelope.
    if (cell_->cancel_push_wait(*this)) {
      Envelope* e = std::exchange(envelope, nullptr);
      e->reject(Errc::timeout);
    }
  }

  RefPtr<CellBase> cell_;
  Completion<R>* completion_;
  std::optional<Duration> timeout_;
  Executor* resume_via_ = nullptr;
  ResumeRunnable resume_;
  std::atomic<bool> pushed_{false};
};

}  // namespace cineyma::detail
