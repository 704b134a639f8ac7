// cineyma/generator.hpp — `Generator<T>`: a synchronous coroutine producing a sequence.
//
//   cineyma::Generator<int> countdown(int from) {
//     for (int i = from; i > 0; --i) co_yield i;
//   }
//   ctx.add_stream(countdown(3));   // inside an actor: 3, 2, 1 -> handle_stream, then finished
//
// The body runs lazily, one step per item, on the thread that pulls it: attached to an actor
// it runs on the actor's thread, one item per turn, interleaved fairly with the mailbox (see
// stream.hpp). It is pulled only when the actor is ready for the next item, so a generator
// never runs ahead of its consumer. The body must not `co_await` (it is not an async task).
// An exception thrown by the body is rethrown by `next()` (as a stream: a failure of the
// actor). Move-only; destroying it destroys the suspended body.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace cineyma {

template <typename T>
class [[nodiscard]] Generator {
 public:
  struct promise_type {
    std::optional<T> current;
    std::exception_ptr error;

    Generator get_return_object() noexcept {
      return Generator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(const T& v) {
      current.emplace(v);
      return {};
    }
    std::suspend_always yield_value(T&& v) {
      current.emplace(std::move(v));
      return {};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
    // A generator never awaits: only co_yield suspends it.
    template <typename U>
    std::suspend_never await_transform(U&&) = delete;
  };

  Generator(Generator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Generator& operator=(Generator&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator() {
    if (h_) h_.destroy();
  }

  /// Runs the body to its next `co_yield`: the item, or nullopt once the body has returned
  /// (and on every later call). Rethrows (once) what the body threw.
  std::optional<T> next() {
    if (!h_ || h_.done()) return std::nullopt;
    h_.resume();
    promise_type& p = h_.promise();
    if (p.error) std::rethrow_exception(std::exchange(p.error, nullptr));
    if (h_.done()) return std::nullopt;
    std::optional<T> out = std::move(p.current);
    p.current.reset();
    return out;
  }

 private:
  explicit Generator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

}  // namespace cineyma
