// Scenarios that exist to test the runner itself, linked into their own runner executable
// (`cineyma_test_sim`) exactly as a user links theirs with cineyma::sim_runner.
#include <cineyma/sim/scenario.hpp>

#include <chrono>
#include <cstdlib>

using namespace std::chrono_literals;

CINEYMA_SIM_SCENARIO(user_timer_ticks, "a user's scenario: a timer ticks 10 times") {
  auto& sim = run.simulation();
  auto& node = sim.add_node("n");
  int ticks = 0;
  for (int i = 1; i <= 10; ++i) node.environment().clock().schedule_after(i * 1s, [&] { ++ticks; });
  sim.run_for(20s);
  run.check(ticks == 10, "all ten ticks ran");
}

CINEYMA_SIM_SCENARIO(hangs, "never returns (the watchdog must kill it)") {
  auto& sim = run.simulation();
  sim.add_node("n");
  for (;;) sim.run_for(1s);
}

CINEYMA_SIM_SCENARIO(aborts_on_odd_seeds, "aborts its process for odd seeds") {
  run.simulation();
  if (run.seed() % 2 == 1) std::abort();
}
