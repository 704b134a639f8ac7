// sim/src/scenario.cpp — the scenario registry and one seeded run of a scenario.
#include <cineyma/sim/scenario.hpp>

#include <cineyma/assert.hpp>

#include <chrono>
#include <exception>
#include <map>
#include <utility>

namespace cineyma::sim {
namespace {

// Function-local: registrations run during static initialisation, in any order across
// translation units, so the registry must exist before the first of them.
std::map<std::string, ScenarioInfo, std::less<>>& registry() {
  static std::map<std::string, ScenarioInfo, std::less<>> scenarios;
  return scenarios;
}

}  // namespace

Simulation& ScenarioRun::simulation(SimulationOptions options) {
  CINEYMA_ASSERT_MSG(sim_ == nullptr, "ScenarioRun::simulation() called twice");
  options.trace = true;  // the runner prints the trace hash of every seed
  options.record_events = record_events_;
  sim_ = std::make_unique<Simulation>(seed_, options);
  return *sim_;
}

void ScenarioRun::fail(std::string what) { failures_.push_back(std::move(what)); }

bool ScenarioRun::check(bool condition, std::string_view what) {
  if (!condition) fail(std::string(what));
  return condition;
}

void ScenarioRun::note(std::string text) { notes_.push_back(std::move(text)); }

bool register_scenario(std::string name, std::string description, void (*body)(ScenarioRun&)) {
  CINEYMA_ASSERT(body != nullptr);
  const bool inserted =
      registry().emplace(name, ScenarioInfo{name, std::move(description), body}).second;
  CINEYMA_ASSERT_MSG(inserted, "two scenarios with one name");
  return true;
}

std::vector<ScenarioInfo> scenarios() {
  std::vector<ScenarioInfo> all;
  for (const auto& [name, info] : registry()) all.push_back(info);
  return all;
}

std::optional<ScenarioInfo> find_scenario(std::string_view name) {
  const auto it = registry().find(name);
  if (it == registry().end()) return std::nullopt;
  return it->second;
}

ScenarioOutcome run_scenario(const ScenarioInfo& info, std::uint64_t seed,
                             const std::string& trace_path) {
  ScenarioOutcome outcome;
  ScenarioRun run(seed, !trace_path.empty());
  try {
    info.body(run);
  } catch (const std::exception& e) {
    run.fail(std::string("exception escaped the scenario: ") + e.what());
  } catch (...) {
    run.fail("a non-standard exception escaped the scenario");
  }
  if (Simulation* sim = run.existing_simulation()) {
    outcome.trace_hash = sim->trace_hash();
    outcome.sim_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         sim->now().time_since_epoch())
                         .count();
    outcome.events = sim->events();
    outcome.options = describe(sim->options());
    outcome.probes = sim->probes();
    if (!trace_path.empty()) {
      const Result<void> written = sim->write_trace(trace_path);
      if (!written) run.fail("writing the trace to " + trace_path + ": " + written.error().message());
    }
  } else {
    run.fail("the scenario never created its simulation");
  }
  outcome.failures = run.failures();
  outcome.notes = run.notes();
  outcome.passed = outcome.failures.empty();
  return outcome;
}

}  // namespace cineyma::sim
