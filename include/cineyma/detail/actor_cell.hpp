// cineyma/detail/actor_cell.hpp — `Cell<A>`: the typed part of an actor cell, handler
// delivery (sync and async), and timer deliveries.
#pragma once

#include <cineyma/actor.hpp>
#include <cineyma/context.hpp>
#include <cineyma/detail/cell.hpp>
#include <cineyma/detail/envelopes.hpp>
#include <cineyma/task.hpp>
#include <cineyma/timer.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace cineyma::detail {

template <typename A>
class Cell final : public CellBase {
 public:
  Cell(ActorSystem& system, Environment& env, ActorId id, std::size_t capacity,
       RefPtr<CellBase> parent, A&& actor, std::function<A()> factory)
      : CellBase(system, env, id, capacity, std::move(parent)),
        actor_(std::in_place, std::move(actor)),
        ctx_(*this),
        factory_(std::move(factory)) {}

  A& actor() noexcept { return *actor_; }
  Context<A>& context() noexcept { return ctx_; }

 protected:
  void on_started() override { actor_->started(ctx_); }
  void on_stopped() override {
    if (actor_) actor_->stopped(ctx_);
  }
  void on_terminated(const Terminated& t) override {
    if constexpr (Handles<A, Terminated>) {
      static_assert(!is_task_v<handler_result_t<A, Terminated>>,
                    "cineyma: a Terminated handler must be synchronous");
      Terminated copy = t;
      invoke_handler(*actor_, copy, ctx_);
    }
  }
  bool handles_terminated() const noexcept override { return Handles<A, Terminated>; }
  void destroy_instance() noexcept override { actor_.reset(); }
  bool can_restart() const noexcept override { return static_cast<bool>(factory_); }
  bool recreate_instance() override {
    if (!factory_) return false;
    actor_.emplace(factory_());
    return true;
  }
  const char* actor_type_name() const noexcept override { return typeid(A).name(); }

 private:
  std::optional<A> actor_;
  Context<A> ctx_;
  std::function<A()> factory_;  // empty unless spawned with a restartable strategy
};

/// Finishes an async handler (runs where the coroutine completed).
template <typename A, typename M, typename E, typename X>
void on_task_done(void* ctx, std::coroutine_handle<> frame) noexcept {
  E* e = static_cast<E*>(ctx);
  CellBase* cell = e->async_cell;
  std::exception_ptr failure;
  try {
    auto& promise = Task<X>::promise_of(frame);
    if constexpr (std::is_void_v<X>) {
      promise.take();
      e->reply_void();
    } else {
      e->reply(promise.take());
    }
  } catch (...) {
    failure = std::current_exception();
    e->fail_handler();
  }
  frame.destroy();
  e->finish();
  if (failure) cell->report_failure(failure, "async handler");
  cell->end_async();
}

/// Runs the handler of `M` for the envelope `e` (cell thread), replies, contains exceptions.
template <typename A, typename M, typename E>
void deliver(CellBase& base, E* e) noexcept {
  auto& cell = static_cast<Cell<A>&>(base);
  using R = handler_result_t<A, M>;
  if constexpr (is_task_v<R>) {
    using X = typename is_task<R>::value_type;
    R task;
    try {
      base.fault_point(FaultSite::handler);
      task = invoke_handler(cell.actor(), e->msg, cell.context());
    } catch (...) {
      e->fail_handler();
      e->finish();
      base.report_failure(std::current_exception(), "handler");
      return;
    }
    e->async_cell = &base;
    base.begin_async();
    std::move(task).start_detached(&on_task_done<A, M, E, X>, e);
  } else {
    try {
      base.fault_point(FaultSite::handler);
      if constexpr (std::is_void_v<R>) {
        invoke_handler(cell.actor(), e->msg, cell.context());
        e->reply_void();
      } else {
        e->reply(invoke_handler(cell.actor(), e->msg, cell.context()));
      }
    } catch (...) {
      e->fail_handler();
      e->finish();
      base.report_failure(std::current_exception(), "handler");
      return;
    }
    e->finish();
  }
}

/// Hands one stream item to the actor's stream hook (cell thread); contains exceptions.
template <typename A, typename T>
void deliver_stream_item(CellBase& base, T&& item) noexcept {
  auto& cell = static_cast<Cell<A>&>(base);
  try {
    base.fault_point(FaultSite::stream_handler);
    cell.actor().handle_stream(std::move(item), cell.context());
  } catch (...) {
    base.report_failure(std::current_exception(), "stream handler");
  }
}

/// Tells the actor that stream `id` of `T` items ended (cell thread); contains exceptions.
template <typename A, typename T>
void deliver_stream_end(CellBase& base, std::uint64_t id) noexcept {
  if constexpr (HandlesStreamEnd<A, T>) {
    auto& cell = static_cast<Cell<A>&>(base);
    try {
      base.fault_point(FaultSite::stream_handler);
      cell.actor().finished(StreamEnd<T>{StreamId{id}}, cell.context());
    } catch (...) {
      base.report_failure(std::current_exception(), "stream finished()");
    }
  }
}

/// A channel's receiving end attached to an actor.
template <typename A, typename T>
class ChannelSource final : public StreamSource {
 public:
  explicit ChannelSource(RefPtr<ChannelState<T>> state) noexcept : state_(std::move(state)) {}
  ~ChannelSource() override { state_->drop_receiver(); }
  void attach(CellBase& cell) { state_->attach(cell, *this); }
  Poll poll(CellBase& cell) noexcept override {
    std::optional<T> item;
    switch (state_->take(item)) {
      case ChannelState<T>::Take::empty:
        return Poll::pending;
      case ChannelState<T>::Take::ended:
        deliver_stream_end<A, T>(cell, id);
        return Poll::ended;
      case ChannelState<T>::Take::item:
        break;
    }
    deliver_stream_item<A>(cell, std::move(*item));
    return Poll::item;
  }

 private:
  RefPtr<ChannelState<T>> state_;
};

/// A generator attached to an actor: always ready until its body returns.
template <typename A, typename T>
class GeneratorSource final : public StreamSource {
 public:
  explicit GeneratorSource(Generator<T> g) noexcept : gen_(std::move(g)) {
    ready.store(true, std::memory_order_relaxed);
  }
  Poll poll(CellBase& cell) noexcept override {
    std::optional<T> item;
    try {
      item = gen_.next();
    } catch (...) {
      // The body is finished (it threw): the stream ends without `finished`, as a failure.
      cell.report_failure(std::current_exception(), "stream generator");
      return Poll::ended;
    }
    if (!item) {
      deliver_stream_end<A, T>(cell, id);
      return Poll::ended;
    }
    deliver_stream_item<A>(cell, std::move(*item));
    return Poll::item;
  }

 private:
  Generator<T> gen_;
};

/// A timer's message: dropped silently if the timer was cancelled before it is handled.
template <typename A, typename M>
class TimedEnvelope final : public OneWayBase<M> {
 public:
  TimedEnvelope(RefPtr<TimerState> timer, M&& m, bool one_shot)
      : OneWayBase<M>(std::move(m)), timer_(std::move(timer)), one_shot_(one_shot) {}
  void dispatch(CellBase& c) noexcept override {
    if (one_shot_) timer_->finished.store(true, std::memory_order_release);
    if (timer_->is_cancelled()) {
      delete this;
      return;
    }
    deliver<A, M>(c, this);
  }
  void reject(Errc) noexcept override {
    if (one_shot_) timer_->finished.store(true, std::memory_order_release);
    delete this;
  }

 private:
  RefPtr<TimerState> timer_;
  bool one_shot_;
};

/// One timer delivery waiting for mailbox space (heap; deletes itself when served).
template <typename A, typename M>
class TimerDelivery final : public PushWaiter {
 public:
  TimerDelivery(RefPtr<TimerState> timer, M&& m, bool one_shot) : timer_(timer) {
    envelope = new TimedEnvelope<A, M>(std::move(timer), std::move(m), one_shot);
  }
  static void send(const RefPtr<CellBase>& cell, RefPtr<TimerState> timer, M&& m,
                   bool one_shot) {
    auto* d = new TimerDelivery(std::move(timer), std::move(m), one_shot);
    d->timer_->delivery_in_flight.store(true, std::memory_order_release);
    cell->push_waiting(*d);
  }
  void pushed(Result<void> r) noexcept override {
    if (!r) envelope->reject(Errc::actor_stopped);
    timer_->delivery_in_flight.store(false, std::memory_order_release);
    delete this;
  }

 private:
  RefPtr<TimerState> timer_;
};

/// Arms the next tick of a timer. `period` zero means one-shot.
template <typename A, typename M>
void arm_timer(RefPtr<CellBase> cell, RefPtr<TimerState> timer, M msg, TimePoint at,
               Duration period) {
  Clock& clock = *timer->clock;
  std::lock_guard<std::mutex> lock(timer->mutex);
  if (timer->is_cancelled()) return;
  timer->id = clock.schedule_at(
      at, [cell, timer, msg = std::move(msg), at, period]() mutable {
        if (timer->is_cancelled() || !cell->is_alive()) {
          timer->finished.store(true, std::memory_order_release);
          return;
        }
        if (period == Duration::zero()) {
          TimerDelivery<A, M>::send(cell, timer, std::move(msg), true);
          return;
        }
        // Fixed rate: the next tick is due one period after this one was due. A tick that
        // finds the previous one still waiting for space is skipped (bounded backlog).
        if (!timer->delivery_in_flight.load(std::memory_order_acquire)) {
          TimerDelivery<A, M>::send(cell, timer, M(msg), false);
        }
        arm_timer<A, M>(std::move(cell), std::move(timer), std::move(msg), at + period, period);
      });
}

}  // namespace cineyma::detail

namespace cineyma {

template <typename A>
template <typename M>
  requires Handles<A, M>
TimerHandle Context<A>::run_later(Duration delay, M msg) {
  detail::RefPtr<detail::TimerState> t =
      detail::RefPtr<detail::TimerState>::adopt(new detail::TimerState(cell_.env().clock()));
  cell_.track_timer(t);
  detail::arm_timer<A, M>(detail::RefPtr<detail::CellBase>(&cell_), t, std::move(msg),
                          now() + delay, Duration::zero());
  return TimerHandle(std::move(t));
}

template <typename A>
template <typename M>
  requires Handles<A, M> && std::is_copy_constructible_v<M>
TimerHandle Context<A>::run_interval(Duration period, M msg) {
  CINEYMA_ASSERT_MSG(period > Duration::zero(), "run_interval needs a positive period");
  detail::RefPtr<detail::TimerState> t =
      detail::RefPtr<detail::TimerState>::adopt(new detail::TimerState(cell_.env().clock()));
  cell_.track_timer(t);
  detail::arm_timer<A, M>(detail::RefPtr<detail::CellBase>(&cell_), t, std::move(msg),
                          now() + period, period);
  return TimerHandle(std::move(t));
}

template <typename A>
template <typename T>
  requires HandlesStream<A, T>
StreamId Context<A>::add_stream(Receiver<T> receiver) {
  detail::RefPtr<detail::ChannelState<T>> state = receiver.release_state();
  CINEYMA_ASSERT_MSG(state, "add_stream: this receiver was moved from");
  auto source = std::make_unique<detail::ChannelSource<A, T>>(std::move(state));
  source->attach(cell_);
  return StreamId{cell_.add_stream(std::move(source))};
}

template <typename A>
template <typename T>
  requires HandlesStream<A, T>
StreamId Context<A>::add_stream(Generator<T> generator) {
  return StreamId{cell_.add_stream(
      std::make_unique<detail::GeneratorSource<A, T>>(std::move(generator)))};
}

template <typename A>
template <typename B>
void Context<A>::watch(const Addr<B>& other) {
  static_assert(Handles<A, Terminated>,
                "cineyma: watch() needs a handler `void handle(const Terminated&, Context&)`");
  if (other.cell()) other.cell()->add_watcher(cell_);
}

template <typename A>
template <typename B>
void Context<A>::unwatch(const Addr<B>& other) {
  if (other.cell()) other.cell()->remove_watcher(cell_);
}

}  // namespace cineyma
