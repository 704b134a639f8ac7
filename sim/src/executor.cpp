// sim/src/executor.cpp — the ready set and the per-node executor adapter.
#include "executor.hpp"

#include "world.hpp"

#include <cineyma/assert.hpp>

namespace cineyma::sim::internal {

void ReadySet::push(ReadyEntry entry) {
  CINEYMA_ASSERT(entry.task != nullptr);
  entries_.push_back(entry);
  if (entry.position != nullptr) *entry.position = entries_.size() - 1;
}

ReadyEntry ReadySet::take_random(Random& prng) noexcept {
  CINEYMA_ASSERT(!entries_.empty());
  return take_at(static_cast<std::size_t>(prng.below(entries_.size())));
}

ReadyEntry ReadySet::take_at(std::size_t index) noexcept {
  CINEYMA_ASSERT(index < entries_.size());
  const ReadyEntry taken = entries_[index];
  // Swap-remove: O(1), and the entry moved into the hole learns its new index.
  entries_[index] = entries_.back();
  entries_.pop_back();
  if (index < entries_.size() && entries_[index].position != nullptr) {
    *entries_[index].position = index;
  }
  return taken;
}

void SimExecutor::post(Runnable& r) { world_.post(node_, r); }

void SimExecutor::post(::cineyma::detail::UniqueFunction f) { world_.post(node_, std::move(f)); }

bool SimExecutor::block_until(BlockingEvent& ev,
                              std::optional<std::chrono::nanoseconds> timeout) {
  CINEYMA_ASSERT_MSG(!world_.running(),
                     "block_until called from a simulated task: it would re-enter the event "
                     "loop (and deadlock the real runtime)");
  std::optional<TimePoint> deadline;
  if (timeout) deadline = world_.now() + *timeout;
  world_.drive([&ev] { return ev.is_set(); }, deadline);
  return ev.is_set();
}

bool SimExecutor::in_executor_thread() const noexcept { return world_.running(); }

}  // namespace cineyma::sim::internal
