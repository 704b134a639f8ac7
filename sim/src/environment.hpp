// sim/src/environment.hpp — one simulated node: its Environment and its Node handle.
//
// The node's executor, clock and transport are thin adapters that tag everything with the
// node's index and forward to the world; the PRNG streams and the boot state are the node's
// own. The boot state is the node's volatile memory: a crash destroys it (World::crash).
#pragma once

#include "clock.hpp"
#include "executor.hpp"
#include "network.hpp"

#include <cineyma/env/environment.hpp>
#include <cineyma/env/random.hpp>
#include <cineyma/sim/simulation.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cineyma::sim::internal {

class World;

/// The node's fault points: targeted injections first, then the random ratio; BUGGIFY sites
/// armed per seed; code probe counters.
class SimFaults final : public FaultInjector {
 public:
  SimFaults(World& world, const SimulationOptions& options, std::uint64_t world_seed,
            std::uint64_t stream_seed) noexcept;
  bool inject_exception(ActorId id, FaultSite site) noexcept override;
  bool buggify(const char* file, int line) noexcept override;
  void probe(const char* name) noexcept override;
  void message_enqueued(const void* envelope) noexcept override;
  void message_dispatched(const void* envelope, const char* type_name) noexcept override;

  void add_targeted(ActorId id, int count);
  void set_ratio(Ratio r) noexcept { ratio_ = r; }
  std::uint64_t injected() const noexcept { return injected_; }
  const std::map<std::string, std::uint64_t>& probes() const noexcept { return probes_; }
  const std::map<std::string, std::uint64_t>& buggify_fired() const noexcept { return fired_; }

 private:
  World& world_;
  Ratio ratio_;
  bool buggify_ = false;
  Ratio site_ratio_;
  Ratio fire_ratio_;
  std::uint64_t world_seed_;  ///< arms sites: the same sites on every node of one run
  Prng random_;  // the fault stream: separate, so arming faults does not shift actor randomness
  std::map<ActorId, int> targeted_;
  std::uint64_t injected_ = 0;
  std::map<std::uint64_t, bool> armed_;  ///< site key -> armed, decided on first reach
  std::map<std::string, std::uint64_t> probes_;
  std::map<std::string, std::uint64_t> fired_;
  // Queued messages (while events are recorded): envelope → the event that sent it.
  std::map<const void*, std::uint64_t> in_flight_;
};

class SimNode final : public Node, public Environment {
 public:
  SimNode(World& world, Network& network, NodeIndex index, std::string name,
          std::uint64_t random_seed, const SimulationOptions& options);
  ~SimNode() override;

  // Node
  Environment& environment() noexcept override { return *this; }
  // Node and Environment: the node's name.
  const std::string& name() const noexcept override { return name_; }
  void inject_exception(ActorId id, int count) override { faults_.add_targeted(id, count); }
  std::uint64_t injected_exceptions() const noexcept override { return faults_.injected(); }
  void set_callback_exceptions(Ratio ratio) noexcept override { faults_.set_ratio(ratio); }
  void adopt(std::unique_ptr<State> state) override;
  bool is_up() const noexcept override;
  std::uint64_t incarnation() const noexcept override { return incarnation_; }

  // Environment
  Executor& executor() noexcept override { return executor_; }
  Clock& clock() noexcept override { return clock_; }
  Random& random() noexcept override { return random_; }
  Transport& transport() noexcept override { return transport_; }
  bool is_simulated() const noexcept override { return true; }
  FaultInjector* faults() noexcept override { return &faults_; }

  NodeIndex index() const noexcept { return index_; }
  SimClock& sim_clock() noexcept { return clock_; }
  const SimFaults& sim_faults() const noexcept { return faults_; }

  bool has_state() const noexcept { return !state_.empty(); }
  /// Destroys the boot state, newest first (each piece may drive the simulation).
  void destroy_state() noexcept;
  void set_boot(BootFunction boot) { boot_ = std::move(boot); }
  const BootFunction& boot() const noexcept { return boot_; }
  void note_restart() noexcept { ++incarnation_; }

 private:
  World& world_;
  NodeIndex index_;
  std::string name_;
  SimExecutor executor_;
  SimClock clock_;
  Prng random_;
  SimTransport transport_;
  SimFaults faults_;
  BootFunction boot_;
  std::uint64_t incarnation_ = 1;
  std::vector<std::unique_ptr<State>> state_;
};

}  // namespace cineyma::sim::internal
