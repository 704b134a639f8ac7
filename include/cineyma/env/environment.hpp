// cineyma/env/environment.hpp — the one bundle through which the framework reaches the world.
//
// Every `ActorSystem` (and later every remote server and cluster node) holds an Environment
// by reference and takes time, scheduling, randomness and networking from it only. The real
// environment is `cineyma::RealEnvironment` (src/asio); a simulated node's environment comes
// from `cineyma::sim::Simulation::add_node`.
#pragma once

#include <cineyma/env/clock.hpp>
#include <cineyma/env/executor.hpp>
#include <cineyma/env/faults.hpp>
#include <cineyma/env/random.hpp>
#include <cineyma/env/transport.hpp>

#include <string>

namespace cineyma {

/// Executor + clock + random + transport, plus a name used in logs.
///
/// Lifetime: the environment must outlive everything built on it (actor systems, servers).
/// The accessors are callable from any thread.
class Environment {
 public:
  virtual ~Environment() = default;

  virtual Executor& executor() noexcept = 0;
  virtual Clock& clock() noexcept = 0;
  virtual Random& random() noexcept = 0;
  virtual Transport& transport() noexcept = 0;

  /// A short name for logs ("real", or the simulated node's name).
  virtual const std::string& name() const noexcept = 0;

  /// True for simulated environments. Library code must not branch on this for behaviour;
  /// it exists for diagnostics and for arming fault points.
  virtual bool is_simulated() const noexcept = 0;

  /// The fault injector, or nullptr (always nullptr on the real runtime). Library code calls
  /// it only through the fault points of faults.hpp, never to change behaviour otherwise.
  virtual FaultInjector* faults() noexcept { return nullptr; }
};

}  // namespace cineyma
