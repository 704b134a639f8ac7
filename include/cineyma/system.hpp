// cineyma/system.hpp — `ActorSystem`: spawns actors, owns the registry, shuts down.
//
//   cineyma::ActorSystem system;                        // real runtime (own worker threads)
//   cineyma::ActorSystem system{node.environment()};    // same code under simulation
//   auto calc = system.spawn(Calculator{});             // Addr<Calculator>, capacity 256
//
// Threading: every member is safe from any thread, except that the blocking `shutdown()`
// must not be called from inside an actor (there it only initiates the shutdown).
#pragma once

#include <cineyma/actor.hpp>
#include <cineyma/addr.hpp>
#include <cineyma/context.hpp>
#include <cineyma/detail/actor_cell.hpp>
#include <cineyma/detail/cell.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/recipient.hpp>
#include <cineyma/registry.hpp>
#include <cineyma/result.hpp>
#include <cineyma/supervision.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>

namespace cineyma {

/// Default deadline of a blocking `shutdown()`.
inline constexpr Duration kDefaultShutdownTimeout = std::chrono::seconds(30);

class ActorSystem {
 public:
  /// A system on its own real environment (worker threads = cores).
  ActorSystem();
  /// A system on `env` (real or simulated). `env` must outlive the system.
  explicit ActorSystem(Environment& env);
  /// Shuts down (blocking, see `shutdown`) unless already done.
  ~ActorSystem();
  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;

  /// Spawns a top-level actor with a mailbox of 256. After shutdown the returned address is
  /// already stopped (every send fails with `actor_stopped`); use `try_spawn` to be told.
  template <typename A>
  Addr<A> spawn(A actor) {
    auto r = spawn_impl(std::move(actor), detail::kDefaultCapacity, nullptr);
    return r ? std::move(*r) : Addr<A>();
  }
  /// Spawns with a custom mailbox capacity: `invalid_argument` for 0, `actor_stopped` after
  /// shutdown.
  template <typename A>
  Result<Addr<A>> spawn_with_capacity(A actor, std::size_t capacity) {
    return spawn_impl(std::move(actor), capacity, nullptr);
  }
  /// Like `spawn`, but reports `actor_stopped` after shutdown.
  template <typename A>
  Result<Addr<A>> try_spawn(A actor, std::size_t capacity = detail::kDefaultCapacity) {
    return spawn_impl(std::move(actor), capacity, nullptr);
  }

  /// Stops every actor (children before their parents; every `stopped()` runs; queued
  /// messages become dead letters) and waits until all are stopped or `timeout` passes
  /// (`Errc::timeout`). Sticky: later spawns fail. Idempotent. Called from inside an actor it
  /// only initiates the shutdown and returns at once.
  Result<void> shutdown(Duration timeout = kDefaultShutdownTimeout);
  /// Initiates the shutdown without waiting.
  void request_shutdown() noexcept;
  bool is_shutdown() const noexcept {
    return (life_.load(std::memory_order_acquire) & kShuttingDown) != 0;
  }

  /// Actors spawned and not yet stopped (all levels).
  std::size_t live_actors() const noexcept {
    return static_cast<std::size_t>(life_.load(std::memory_order_acquire) & ~kShuttingDown);
  }
  /// Messages that were queued to an actor that stopped before handling them.
  std::uint64_t dead_letters() const noexcept {
    return dead_letters_.load(std::memory_order_relaxed);
  }

  Environment& environment() const noexcept { return env_; }

  // --- registry -----------------------------------------------------------------------
  /// Registers `addr` under `name`; the entry disappears when the actor stops.
  template <typename A>
  Result<void> register_name(std::string name, const Addr<A>& addr) {
    if (!addr) return fail(Errc::actor_stopped);
    return registry_.insert(std::move(name), addr.cell(), typeid(A), true);
  }
  /// Registers `addr` under `name` until `unregister` (survives the actor's death).
  template <typename A>
  Result<void> register_manual(std::string name, const Addr<A>& addr) {
    if (!addr) return fail(Errc::actor_stopped);
    return registry_.insert(std::move(name), addr.cell(), typeid(A), false);
  }
  /// The actor registered as `name`: `not_found` if absent, `type_mismatch` if it is not an
  /// `A`.
  template <typename A>
  Result<Addr<A>> lookup(std::string_view name) const {
    auto r = registry_.find(name, typeid(A));
    if (!r) return fail(r.error());
    return Addr<A>(std::move(*r));
  }
  /// Removes `name`; `not_found` if absent.
  Result<void> unregister(std::string_view name) { return registry_.erase(name); }
  Registry& registry() noexcept { return registry_; }

  // --- runtime use --------------------------------------------------------------------
  /// Spawns with an optional parent (whose thread must be the caller's).
  template <typename A>
  Result<Addr<A>> spawn_impl(A actor, std::size_t capacity, detail::CellBase* parent,
                             const SupervisorStrategy& strategy = SupervisorStrategy::stop(),
                             std::function<A()> factory = {});
  void note_dead_letter(const char* type_name) noexcept;
  void on_cell_dead(detail::CellBase& cell) noexcept;

 private:
  ActorId next_id() noexcept {
    return ActorId{next_id_.fetch_add(1, std::memory_order_relaxed)};
  }
  /// Records a new cell; false after shutdown.
  bool admit(detail::CellBase& cell, bool top_level);

  std::unique_ptr<Environment> owned_env_;
  Environment& env_;
  Registry registry_;
  std::atomic<std::uint64_t> next_id_{1};
  // Live cells, and the shutting-down flag in the top bit: one word, so that the cell whose
  // death empties a shutting-down system knows it in the same RMW and is the one that sets
  // all_stopped_ — and touches the system no more after that (shutdown() returns only once
  // all_stopped_ is set, so the system may be gone right after).
  static constexpr std::uint64_t kShuttingDown = std::uint64_t{1} << 63;
  std::atomic<std::uint64_t> life_{0};
  std::atomic<std::uint64_t> dead_letters_{0};
  mutable std::mutex mutex_;  // guards the top-level list and admission vs shutdown
  // Intrusive list of live top-level actors, in spawn order (no allocation per spawn); each
  // link holds a reference, dropped when the actor dies.
  detail::CellBase* top_head_ = nullptr;
  detail::CellBase* top_tail_ = nullptr;
  BlockingEvent all_stopped_;
};

template <typename A>
Result<Addr<A>> ActorSystem::spawn_impl(A actor, std::size_t capacity, detail::CellBase* parent,
                                        const SupervisorStrategy& strategy,
                                        std::function<A()> factory) {
  static_assert(std::is_move_constructible_v<A>, "cineyma: an actor must be movable");
  if (capacity == 0) return fail(Errc::invalid_argument);
  if (capacity > 0x7fffffffULL) return fail(Errc::invalid_argument);
  // A stopping parent (e.g. spawning from its own stopped()) takes no children: they would
  // outlive it.
  if (parent && !parent->accepting_children()) return fail(Errc::actor_stopped);
  // The new cell starts with one reference, owned by its initial SCHEDULED state.
  auto* cell = new detail::Cell<A>(*this, env_, next_id(), capacity,
                                   detail::RefPtr<detail::CellBase>(parent), std::move(actor),
                                   std::move(factory));
  cell->set_strategy(strategy);
  detail::RefPtr<detail::CellBase> ref(cell);
  if (!admit(*cell, parent == nullptr)) {
    cell->mark_stillborn();
    return fail(Errc::actor_stopped);
  }
  if (parent) parent->adopt_child(ref);
  cell->start();
  return Addr<A>(std::move(ref));
}

template <typename A>
template <typename C>
Addr<C> Context<A>::spawn_child(C child) {
  auto r = system().spawn_impl(std::move(child), detail::kDefaultCapacity, &cell_);
  return r ? std::move(*r) : Addr<C>();
}

template <typename A>
template <typename C>
Result<Addr<C>> Context<A>::spawn_child_with_capacity(C child, std::size_t capacity) {
  return system().spawn_impl(std::move(child), capacity, &cell_);
}

template <typename A>
template <typename F>
  requires std::invocable<F&>
Result<Addr<std::invoke_result_t<F&>>> Context<A>::spawn_child_with_strategy_and_capacity(
    F factory, SupervisorStrategy strategy, std::size_t capacity) {
  using C = std::invoke_result_t<F&>;
  static_assert(std::is_copy_constructible_v<F>,
                "cineyma: a child factory must be copyable (it is kept for restarts)");
  C first = factory();  // a throwing factory fails the caller's handler (supervised there)
  return system().spawn_impl(std::move(first), capacity, &cell_, strategy,
                             std::function<C()>(std::move(factory)));
}

template <typename A>
template <typename F>
  requires std::invocable<F&>
Addr<std::invoke_result_t<F&>> Context<A>::spawn_child_with_strategy(F factory,
                                                                     SupervisorStrategy strategy) {
  auto r = spawn_child_with_strategy_and_capacity(std::move(factory), strategy,
                                                  detail::kDefaultCapacity);
  return r ? std::move(*r) : Addr<std::invoke_result_t<F&>>();
}

}  // namespace cineyma
