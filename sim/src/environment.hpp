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
#include <map>
#include <string>

namespace cineyma::sim::internal {

class World;

/// The node's fault points: targeted injections first, then the random ratio.
class SimFaults final : public FaultInjector {
 public:
  SimFaults(Ratio ratio, std::uint64_t seed) noexcept : ratio_(ratio), random_(seed) {}
  bool inject_exception(ActorId id, FaultSite site) noexcept override;
  void add_targeted(ActorId id, int count);
  void set_ratio(Ratio r) noexcept { ratio_ = r; }
  std::uint64_t injected() const noexcept { return injected_; }

 private:
  Ratio ratio_;
  Prng random_;  // the fault stream: separate, so arming faults does not shift actor randomness
  std::map<ActorId, int> targeted_;
  std::uint64_t injected_ = 0;
};

class SimNode final : public Node, public Environment {
 public:
  SimNode(World& world, Network& network, NodeIndex index, std::string name,
          std::uint64_t random_seed, Ratio callback_exceptions);

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
  FaultInjector* faults() noexcept override { return &faults_; }

  void inject_exception(ActorId id, int count) override { faults_.add_targeted(id, count); }
  std::uint64_t injected_exceptions() const noexcept override { return faults_.injected(); }
  void set_callback_exceptions(Ratio ratio) noexcept override { faults_.set_ratio(ratio); }

  NodeIndex index() const noexcept { return index_; }

 private:
  NodeIndex index_;
  std::string name_;
  SimExecutor executor_;
  SimClock clock_;
  Prng random_;
  SimTransport transport_;
  SimFaults faults_;
};

}  // namespace cineyma::sim::internal
