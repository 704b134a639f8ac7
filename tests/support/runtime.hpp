// tests/support/runtime.hpp — one test, two runtimes.
//
// Scenarios are written once as Catch2 TEMPLATE_TEST_CASEs over `SimRuntime` and
// `RealRuntime`. Under the simulator every wait runs in virtual time (no wall-clock sleep at
// all); on the real runtime `wait_until` polls a condition with a generous deadline, and
// `advance` (used only to show that something does NOT happen) lets real time pass.
#pragma once

#include <cineyma/cineyma.hpp>
#include <cineyma/sim/simulation.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace cineyma::test {

using namespace std::chrono_literals;

/// The deterministic runtime: one simulated node, seed fixed per test (or given).
class SimRuntime {
 public:
  static constexpr bool is_sim = true;
  static constexpr const char* name = "sim";

  explicit SimRuntime(std::uint64_t seed = 0x5eed);
  ~SimRuntime();

  ActorSystem& system() noexcept { return *system_; }
  Environment& env() noexcept { return node_->environment(); }
  sim::Simulation& simulation() noexcept { return sim_; }
  /// The simulated node the system runs on (fault injection).
  sim::Node& node() noexcept { return *node_; }

  /// Runs the simulation until `done()` (checked after each event) or `deadline` of virtual
  /// time. Returns `done()`.
  bool wait_until(const std::function<bool()>& done, Duration deadline = 10s);
  /// Lets `d` of virtual time pass, running everything due.
  void advance(Duration d);

 private:
  sim::Simulation sim_;
  sim::Node* node_;
  std::unique_ptr<ActorSystem> system_;
};

/// The real runtime: worker threads (2), steady clock, Asio timers.
class RealRuntime {
 public:
  static constexpr bool is_sim = false;
  static constexpr const char* name = "real";

  explicit RealRuntime(std::uint64_t seed = 0);
  ~RealRuntime();

  ActorSystem& system() noexcept { return *system_; }
  Environment& env() noexcept { return *env_; }

  /// Polls `done()` until true or `deadline` (wall clock, generous) passes.
  bool wait_until(const std::function<bool()>& done, Duration deadline = 10s);
  /// Lets at least `d` of real time pass (only for "nothing happens" checks).
  void advance(Duration d);

 private:
  std::unique_ptr<RealEnvironment> env_;
  std::unique_ptr<ActorSystem> system_;
};

/// A counter shared between a test and actors on worker threads.
using Counter = std::shared_ptr<std::atomic<int>>;
inline Counter make_counter() { return std::make_shared<std::atomic<int>>(0); }

}  // namespace cineyma::test

/// Runs one scenario on both runtimes.
#define RUNTIME_TEST_CASE(name, tags) \
  TEMPLATE_TEST_CASE(name, tags, ::cineyma::test::SimRuntime, ::cineyma::test::RealRuntime)
