// sim/src/environment.cpp — a simulated node's environment.
#include "environment.hpp"

#include <utility>

namespace cineyma::sim::internal {

SimNode::SimNode(World& world, Network& network, NodeIndex index, std::string name,
                 std::uint64_t random_seed)
    : index_(index),
      name_(std::move(name)),
      executor_(world, index),
      clock_(world, index),
      random_(random_seed),
      transport_(network, index) {}

}  // namespace cineyma::sim::internal
