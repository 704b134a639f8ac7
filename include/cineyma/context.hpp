// cineyma/context.hpp — `Context<A>`: an actor's handle to the runtime.
//
// Handed to every hook and handler. Only the actor's own thread may use it (it is not
// thread-safe and must not escape the actor); everything it returns (addresses, timer handles)
// may travel freely.
#pragma once

#include <cineyma/actor_id.hpp>
#include <cineyma/addr.hpp>
#include <cineyma/channel.hpp>
#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/send_ops.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/generator.hpp>
#include <cineyma/result.hpp>
#include <cineyma/stream.hpp>
#include <cineyma/supervision.hpp>
#include <cineyma/timer.hpp>

#include <coroutine>
#include <concepts>
#include <cstddef>
#include <type_traits>

namespace cineyma {

class ActorSystem;

/// Awaitable returned by `ctx.sleep(d)`: resumes the coroutine after `d` on the environment
/// clock (virtual time under simulation).
class SleepAwaiter {
 public:
  SleepAwaiter(Clock& clock, Duration d) noexcept : clock_(clock), d_(d) {}
  bool await_ready() const noexcept { return d_ <= Duration::zero(); }
  void await_suspend(std::coroutine_handle<> h) {
    resume_.handle = h;
    resume_.executor = detail::current_executor();
    CINEYMA_ASSERT_MSG(resume_.executor, "co_await ctx.sleep() outside an actor");
    clock_.schedule_after(d_, [this] { resume_.executor->post(resume_); });
  }
  void await_resume() const noexcept {}

 private:
  Clock& clock_;
  Duration d_;
  detail::ResumeRunnable resume_;
};

template <typename A>
class Context {
 public:
  /// Runtime use.
  explicit Context(detail::CellBase& cell) noexcept : cell_(cell) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// This actor's own address.
  Addr<A> address() const { return Addr<A>(detail::RefPtr<detail::CellBase>(&cell_)); }
  /// This actor's id.
  ActorId id() const noexcept { return cell_.id(); }
  /// Stops this actor after the current message: queued messages become dead letters,
  /// pending requests fail with `actor_stopped`, children stop first, then `stopped()` runs.
  void stop() noexcept { cell_.stop_after_current(StopReason::normal); }
  /// The system this actor belongs to.
  ActorSystem& system() const noexcept { return cell_.system(); }
  /// The environment (executor, clock, random, transport).
  Environment& environment() const noexcept { return cell_.env(); }
  /// The environment clock's current time.
  TimePoint now() const noexcept { return cell_.env().clock().now(); }
  /// The environment's random source (seeded under simulation).
  Random& random() const noexcept { return cell_.env().random(); }

  /// Spawns a child (mailbox capacity 256). The parent is notified (`Terminated`, if it
  /// handles it) when the child dies; stopping the parent stops the child first.
  template <typename C>
  Addr<C> spawn_child(C child);
  /// Same with a custom capacity; capacity 0 fails with `invalid_argument`.
  template <typename C>
  Result<Addr<C>> spawn_child_with_capacity(C child, std::size_t capacity);

  /// Spawns a supervised child built by `factory` (called now, and again for each restart).
  /// See supervision.hpp for the strategies.
  template <typename F>
    requires std::invocable<F&>
  Addr<std::invoke_result_t<F&>> spawn_child_with_strategy(F factory, SupervisorStrategy strategy);
  /// Same with a custom capacity; capacity 0 fails with `invalid_argument`.
  template <typename F>
    requires std::invocable<F&>
  Result<Addr<std::invoke_result_t<F&>>> spawn_child_with_strategy_and_capacity(
      F factory, SupervisorStrategy strategy, std::size_t capacity);

  /// How this actor's children restart together (default one_for_one; supervision.hpp).
  void set_restart_group(RestartGroup group) noexcept { cell_.set_restart_group(group); }

  /// Delivers `msg` to this actor once, after `delay`. Waits for mailbox space if full.
  template <typename M>
    requires Handles<A, M>
  TimerHandle run_later(Duration delay, M msg);
  /// Delivers a copy of `msg` every `period` (first delivery after one period). A tick that
  /// finds the previous one still waiting for mailbox space is skipped.
  template <typename M>
    requires Handles<A, M> && std::is_copy_constructible_v<M>
  TimerHandle run_interval(Duration period, M msg);

  /// Delivers `Terminated{id, reason}` to this actor when `other` stops (at once if it is
  /// already dead). Requires a `Terminated` handler. Watching twice is one watch.
  template <typename B>
  void watch(const Addr<B>& other);
  /// Stops watching `other` (no effect if not watching).
  template <typename B>
  void unwatch(const Addr<B>& other);

  /// Attaches the receiving end of a channel as a stream of this instance: its items go to
  /// `handle_stream(T, Context&)`, its end to `finished(StreamEnd<T>, Context&)` if defined
  /// (stream.hpp has the contract). Dropped when this instance stops or restarts.
  template <typename T>
    requires HandlesStream<A, T>
  StreamId add_stream(Receiver<T> receiver);
  /// Attaches a generator as a stream of this instance (same contract).
  template <typename T>
    requires HandlesStream<A, T>
  StreamId add_stream(Generator<T> generator);
  /// Detaches a stream without calling `finished` (its channel's senders then see
  /// `channel_closed`). No effect if the stream already ended or is unknown.
  void remove_stream(StreamId id) noexcept { cell_.remove_stream(id.value); }

  /// Awaitable: `co_await ctx.sleep(d)` inside an async handler.
  SleepAwaiter sleep(Duration d) const noexcept { return SleepAwaiter(cell_.env().clock(), d); }

 private:
  detail::CellBase& cell_;
};

}  // namespace cineyma
