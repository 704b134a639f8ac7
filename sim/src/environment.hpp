// sim/src/environment.hpp — one simulated node: its Environment and its Node handle.
//
// The node's executor, clock and transport are thin adapters that tag everything with the
// node's index and forward to the world; only the PRNG stream is the node's own.
#pragma once

#include "clock.hpp"
#include "executor.hpp"
#include "network.hpp"

#include <cineyma/env/environment.hpp>
#include <cineyma/env/random.hpp>
#include <cineyma/sim/simulation.hpp>

#include <cstdint>
#include <string>

namespace cineyma::sim::internal {

class World;

class SimNode final : public Node, public Environment {
 public:
  SimNode(World& world, Network& network, NodeIndex index, std::string name,
          std::uint64_t random_seed);

  // Node
  Environment& environment() noexcept override { return *this; }
  // Node and Environment: the node's name.
  const std::string& name() const noexcept override { return name_; }

  // Environment
  Executor& executor() noexcept override { return executor_; }
  Clock& clock() noexcept override { return clock_; }
  Random& random() noexcept override { return random_; }
  Transport& transport() noexcept override { return transport_; }
  bool is_simulated() const noexcept override { return true; }

  NodeIndex index() const noexcept { return index_; }

 private:
  NodeIndex index_;
  std::string name_;
  SimExecutor executor_;
  SimClock clock_;
  Prng random_;
  SimTransport transport_;
};

}  // namespace cineyma::sim::internal
