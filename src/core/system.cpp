// ActorSystem: admission of new actors, shutdown, dead-letter accounting.
#include <cineyma/real_environment.hpp>
#include <cineyma/system.hpp>

#include "log.hpp"

#include <vector>

namespace cineyma {

ActorSystem::ActorSystem()
    : owned_env_(std::make_unique<RealEnvironment>()), env_(*owned_env_) {}

ActorSystem::ActorSystem(Environment& env) : env_(env) {}

ActorSystem::~ActorSystem() {
  (void)shutdown();
  // Destroying the system under live actors would leave them pointing at freed memory: fail
  // loudly instead (an actor that never finishes its handler, a simulation with no events
  // left, or a system destroyed from inside one of its own actors).
  CINEYMA_ASSERT_MSG((life_.load(std::memory_order_seq_cst) & ~kShuttingDown) == 0,
                     "ActorSystem destroyed while actors are still running");
}

bool ActorSystem::admit(detail::CellBase& cell, bool top_level) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Under the mutex, like the flag's setter: no cell is admitted once shutdown has begun.
  if ((life_.load(std::memory_order_seq_cst) & kShuttingDown) != 0) return false;
  life_.fetch_add(1, std::memory_order_seq_cst);
  if (top_level) {
    cell.add_ref();  // owned by the list
    cell.prev_top_ = top_tail_;
    (top_tail_ ? top_tail_->next_top_ : top_head_) = &cell;
    top_tail_ = &cell;
  }
  return true;
}

void ActorSystem::request_shutdown() noexcept {
  std::vector<detail::RefPtr<detail::CellBase>> tops;
  std::uint64_t before = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    before = life_.fetch_or(kShuttingDown, std::memory_order_seq_cst);
    if ((before & kShuttingDown) != 0) return;
    for (detail::CellBase* c = top_head_; c != nullptr; c = c->next_top_) tops.emplace_back(c);
  }
  detail::log(env_, spdlog::level::debug, "shutdown: stopping {} top-level actors", tops.size());
  // Each top-level actor stops its children first, so the tree unwinds bottom-up.
  for (auto& cell : tops) cell->request_stop(StopReason::shutdown);
  // Nobody was alive when the flag went up (and nobody can be admitted since): no death will
  // set the event, so we do. Otherwise the last death does (on_cell_dead).
  if (before == 0) all_stopped_.set();
}

Result<void> ActorSystem::shutdown(Duration timeout) {
  request_shutdown();
  if (env_.executor().in_executor_thread()) return ok();  // from an actor: initiate only
  // Waits for the event even when no actor looks alive: the last one to die may still be
  // between its count update and setting the event, and must not find the system gone.
  if (env_.executor().block_until(all_stopped_, timeout)) return ok();
  // (Set just after the deadline: done. The destructor waits for the setter to settle.)
  return all_stopped_.is_set() ? ok() : fail(Errc::timeout);
}

void ActorSystem::note_dead_letter(const char*) noexcept {
  dead_letters_.fetch_add(1, std::memory_order_relaxed);
}

void ActorSystem::on_cell_dead(detail::CellBase& cell) noexcept {
  registry_.remove_dead(cell);
  bool was_listed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cell.prev_top_ != nullptr || top_head_ == &cell) {
      (cell.prev_top_ ? cell.prev_top_->next_top_ : top_head_) = cell.next_top_;
      (cell.next_top_ ? cell.next_top_->prev_top_ : top_tail_) = cell.prev_top_;
      cell.prev_top_ = cell.next_top_ = nullptr;
      was_listed = true;
    }
  }
  if (was_listed) cell.release();  // the list's reference; the caller still holds one
  // One RMW tells both that we were the last and that shutdown has begun (see life_): then
  // setting the event is our last touch of the system.
  if (life_.fetch_sub(1, std::memory_order_seq_cst) == (kShuttingDown | 1)) all_stopped_.set();
}

}  // namespace cineyma
