// cineyma/task.hpp — `Task<R>`, the coroutine type of asynchronous handlers.
//
// A handler may return `Task<R>` instead of `R` and `co_await` inside it: `ctx.sleep(d)`,
// another actor's `send(...)` / `do_send(...)`, or another `Task`. The actor's mailbox stays
// blocked until the task completes (sequential state ownership), so the handler may touch the
// actor's state across suspension points without locks.
//
// A Task is lazy (it starts when awaited or when the runtime starts it), single-shot and
// move-only. Awaiting a Task resumes the awaiter by symmetric transfer when it completes. An
// exception escaping the coroutine is rethrown to the awaiter; at the top (a handler's task)
// the runtime treats it as a failure of the actor.
#pragma once

#include <cineyma/assert.hpp>

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace cineyma {

template <typename R = void>
class Task;

namespace detail {

/// Called when a task started by the runtime (not awaited by another coroutine) finishes.
/// `ctx` is the runtime's; the promise still holds the result and the frame is suspended at
/// its final point. The callee takes ownership of the frame (it must destroy it).
using TaskDoneFn = void (*)(void* ctx, std::coroutine_handle<> frame) noexcept;

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  TaskDoneFn on_done = nullptr;
  void* on_done_ctx = nullptr;
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      TaskPromiseBase& p = h.promise();
      if (p.continuation) return p.continuation;
      if (p.on_done) p.on_done(p.on_done_ctx, h);
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename R>
struct TaskPromise : TaskPromiseBase {
  std::optional<R> value;
  Task<R> get_return_object() noexcept;
  template <typename U>
    requires std::is_convertible_v<U&&, R>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<R, U&&>) {
    value.emplace(std::forward<U>(v));
  }
  R take() {
    if (error) std::rethrow_exception(error);
    CINEYMA_ASSERT(value.has_value());
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

/// A lazily started coroutine producing `R` (see the file comment).
///
/// Threading: a Task is driven by one thread at a time; it resumes on whichever executor
/// thread resumed the awaitable it was suspended on.
template <typename R>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<R>;
  using value_type = R;

  Task() noexcept = default;
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }

  /// Awaiting starts the task and resumes the awaiter when it completes; yields its result
  /// or rethrows its exception.
  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> h;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().continuation = awaiting;
        return h;
      }
      R await_resume() { return h.promise().take(); }
    };
    CINEYMA_ASSERT_MSG(h_, "awaiting an empty Task");
    return Awaiter{h_};
  }

  /// Runtime use: starts the task detached; `done(ctx, frame)` is called when it finishes,
  /// owning the frame. Returns nothing; the Task object is emptied.
  void start_detached(detail::TaskDoneFn done, void* ctx) && noexcept {
    CINEYMA_ASSERT(h_);
    auto h = std::exchange(h_, {});
    h.promise().on_done = done;
    h.promise().on_done_ctx = ctx;
    h.resume();
  }

  /// Runtime use: the promise behind a frame handed to a `TaskDoneFn`.
  static promise_type& promise_of(std::coroutine_handle<> frame) noexcept {
    return std::coroutine_handle<promise_type>::from_address(frame.address()).promise();
  }

 private:
  std::coroutine_handle<promise_type> h_;
};

namespace detail {
template <typename R>
Task<R> TaskPromise<R>::get_return_object() noexcept {
  return Task<R>{std::coroutine_handle<TaskPromise<R>>::from_promise(*this)};
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<TaskPromise<void>>::from_promise(*this)};
}

template <typename T>
struct is_task : std::false_type {};
template <typename R>
struct is_task<Task<R>> : std::true_type {
  using value_type = R;
};
}  // namespace detail

/// True when `T` is some `Task<R>`.
template <typename T>
inline constexpr bool is_task_v = detail::is_task<std::remove_cvref_t<T>>::value;

}  // namespace cineyma
