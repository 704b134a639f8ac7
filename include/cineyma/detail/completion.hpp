// cineyma/detail/completion.hpp — the lock-free reply slot of a request.
//
// A request envelope *is* its completion (one allocation): the requester and the mailbox each
// hold a reference, plus the deadline timer while it is armed. Whoever completes first wins
// (reply, handler failure, actor stopped, or timeout) with one CAS; the value is written
// before the state is published, and the waker (set before the message was enqueued, never
// changed afterwards) is called exactly once.
#pragma once

#include <cineyma/detail/cell.hpp>
#include <cineyma/env/clock.hpp>
#include <cineyma/result.hpp>

#include <atomic>
#include <optional>
#include <type_traits>
#include <utility>

namespace cineyma::detail {

struct Unit {};
template <typename R>
using stored_t = std::conditional_t<std::is_void_v<R>, Unit, R>;

template <typename R>
class Completion {
 public:
  Completion() noexcept = default;
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_self();
  }

  /// Set once, before the request is enqueued.
  void set_waker(Waker w) noexcept { waker_ = w; }
  /// Set once, before the request is enqueued: the armed deadline timer.
  void set_deadline_timer(Clock* clock, TimerId id) noexcept {
    clock_ = clock;
    timer_ = id;
  }

  /// Completes with a value. Returns false if already completed. Any thread.
  template <typename... V>
  bool complete_value(V&&... v) noexcept(std::is_nothrow_constructible_v<stored_t<R>, V&&...>) {
    if (!claim()) return false;
    value_.emplace(std::forward<V>(v)...);
    publish(false);
    return true;
  }
  /// Completes with an error. Returns false if already completed. Any thread.
  bool complete_error(Errc e, bool from_deadline = false) noexcept {
    if (!claim()) return false;
    error_ = e;
    publish(from_deadline);
    return true;
  }
  bool done() const noexcept { return state_.load(std::memory_order_acquire) == kDone; }

  /// The outcome; only after `done()`.
  Result<R> take() {
    CINEYMA_ASSERT(done());
    if (!value_) return fail(error_);
    if constexpr (std::is_void_v<R>) {
      return ok();
    } else {
      return Result<R>(std::move(*value_));
    }
  }

 protected:
  virtual void destroy_self() noexcept = 0;
  virtual ~Completion() = default;

 private:
  static constexpr int kPending = 0, kWriting = 1, kDone = 2;
  bool claim() noexcept {
    int expected = kPending;
    return state_.compare_exchange_strong(expected, kWriting, std::memory_order_acq_rel);
  }
  void publish(bool from_deadline) noexcept {
    state_.store(kDone, std::memory_order_release);
    // The deadline timer holds a reference; cancelling it destroys its task, which releases
    // that reference. Not from the timer itself (it is running and releases on its own).
    if (timer_ != 0 && !from_deadline) clock_->cancel(timer_);
    waker_.wake();
  }

  std::atomic<int> refs_{1};
  std::atomic<int> state_{kPending};
  std::optional<stored_t<R>> value_;
  Errc error_ = Errc::ok;
  Waker waker_;
  Clock* clock_ = nullptr;
  TimerId timer_ = 0;
};

}  // namespace cineyma::detail
