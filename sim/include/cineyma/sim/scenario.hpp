// cineyma/sim/scenario.hpp — seeded scenarios for the `cineyma-sim` runner.
//
// A scenario is a function that builds a simulation from a seed, drives it through a fault
// phase (checking invariants as it goes) and a heal phase (checking that the system converges
// within a stated bound), and reports what it found through its `ScenarioRun`. The runner
// (`cineyma::sim_runner`, the `cineyma-sim` executable) runs one scenario over many seeds, each
// in its own process, and prints one line per seed with its trace hash; any failing seed prints
// the one command that replays it.
//
//   #include <cineyma/sim/scenario.hpp>
//   CINEYMA_SIM_SCENARIO(my_cluster, "three nodes elect one leader under partitions") {
//     auto& sim = run.simulation(cineyma::sim::SimulationOptions::swarm(run.seed()));
//     ... sim.add_node(...); sim.partition(...); sim.run_for(...);
//     run.check(leaders <= 1, "two leaders at once");
//   }
//
// Link the file into an executable together with `cineyma::sim_runner` (which brings `main`),
// and that executable is a runner for the project's scenarios plus yours.
//
// Threading: a scenario runs on one thread; registration happens during static
// initialisation, before `main`.
#pragma once

#include <cineyma/sim/simulation.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cineyma::sim {

/// One run of a scenario with one seed: owns the simulation and collects failures.
class ScenarioRun {
 public:
  /// `record_events`: the runner wants a trace file, so events are kept in memory.
  ScenarioRun(std::uint64_t seed, bool record_events) noexcept
      : seed_(seed), record_events_(record_events) {}
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  /// The seed of this run: derive every choice of the scenario from it.
  std::uint64_t seed() const noexcept { return seed_; }

  /// Creates the run's simulation (once; assertion) with `seed()` and `options` (tracing
  /// forced on, `record_events` as the runner asks) and returns it. It lives as long as the
  /// run, so everything the scenario builds on it must be owned by its nodes (boot state) or
  /// destroyed before the scenario returns.
  Simulation& simulation(SimulationOptions options = {});
  /// The simulation, once created (nullptr before).
  Simulation* existing_simulation() noexcept { return sim_.get(); }

  /// Records a failed invariant; the run fails but goes on (later checks still report).
  void fail(std::string what);
  /// `fail(what)` when `condition` is false. Returns `condition`.
  bool check(bool condition, std::string_view what);
  /// Something worth printing with the run's result (e.g. which faults were injected).
  void note(std::string text);

  bool failed() const noexcept { return !failures_.empty(); }
  const std::vector<std::string>& failures() const noexcept { return failures_; }
  const std::vector<std::string>& notes() const noexcept { return notes_; }

 private:
  std::uint64_t seed_;
  bool record_events_;
  std::unique_ptr<Simulation> sim_;
  std::vector<std::string> failures_;
  std::vector<std::string> notes_;
};

/// A registered scenario.
struct ScenarioInfo {
  std::string name;
  std::string description;
  void (*body)(ScenarioRun&) = nullptr;
};

/// Adds a scenario to the process-wide registry (names must be unique: assertion). Returns
/// true, so that it can initialise a static. Called by `CINEYMA_SIM_SCENARIO`.
bool register_scenario(std::string name, std::string description, void (*body)(ScenarioRun&));
/// Every registered scenario, sorted by name.
std::vector<ScenarioInfo> scenarios();
/// The scenario called `name`, if registered.
std::optional<ScenarioInfo> find_scenario(std::string_view name);

/// Runs `info` with `seed`: exceptions escaping the scenario count as failures. The trace is
/// written to `trace_path` when given (and a failure to write it is a failure of the run).
struct ScenarioOutcome {
  bool passed = false;
  std::uint64_t trace_hash = 0;
  std::int64_t sim_ms = 0;
  std::uint64_t events = 0;
  std::vector<std::string> failures;
  std::vector<std::string> notes;
  std::string options;  ///< `describe()` of the simulation's options
  std::map<std::string, std::uint64_t> probes;
};
ScenarioOutcome run_scenario(const ScenarioInfo& info, std::uint64_t seed,
                             const std::string& trace_path = {});

/// The runner's command line (`cineyma-sim --help`); returns the process exit status.
int runner_main(int argc, char** argv);

}  // namespace cineyma::sim

/// Defines and registers a scenario `name` (an identifier) with a one-line `description`.
/// The body follows in braces and sees `cineyma::sim::ScenarioRun& run`.
#define CINEYMA_SIM_SCENARIO(name, description)                                             \
  static void cineyma_sim_scenario_##name(::cineyma::sim::ScenarioRun& run);                \
  [[maybe_unused]] static const bool cineyma_sim_registered_##name =                         \
      ::cineyma::sim::register_scenario(#name, description, &cineyma_sim_scenario_##name); \
  static void cineyma_sim_scenario_##name([[maybe_unused]] ::cineyma::sim::ScenarioRun& run)
