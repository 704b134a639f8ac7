// sim/src/environment.cpp — a simulated node's environment.
#include "environment.hpp"

#include <cineyma/assert.hpp>

#include <utility>

namespace cineyma::sim::internal {

SimNode::SimNode(World& world, Network& network, NodeIndex index, std::string name,
                 std::uint64_t random_seed, Ratio callback_exceptions)
    : index_(index),
      name_(std::move(name)),
      executor_(world, index),
      clock_(world, index),
      random_(random_seed),
      transport_(network, index),
      // The fault stream is derived from the node's seed but differs from its PRNG stream.
      faults_(callback_exceptions, random_seed ^ 0x6661756C74730000ULL /* "faults" */) {}

bool SimFaults::inject_exception(ActorId id, FaultSite) noexcept {
  const auto it = targeted_.find(id);
  if (it != targeted_.end()) {
    if (--it->second == 0) targeted_.erase(it);
    ++injected_;
    return true;
  }
  if (ratio_.numerator == 0) return false;
  if (!random_.chance(ratio_.numerator, ratio_.denominator)) return false;
  ++injected_;
  return true;
}

void SimFaults::add_targeted(ActorId id, int count) {
  CINEYMA_ASSERT_MSG(count > 0, "inject_exception needs a positive count");
  targeted_[id] += count;
}

}  // namespace cineyma::sim::internal
