// bench/sim_bench.cpp — speed of the deterministic simulator.
//
//   sim_core_loop_posts     one node, 64 chains of tasks that each post the next: the event
//                           loop's cost per event (pick a ready task, run it, record the trace)
//   sim_core_loop_timers    64 chains of 1 µs timers: the timer queue + virtual time jumps
//   sim_core_loop_5_nodes   the same post chains spread over 5 nodes
//   sim_actor_ping_pong     two actors on one node exchanging one-way messages (cells under
//                           the simulated executor)
//   sim_scenario_gossip_max the 5-node scenario of `cineyma-sim` (swarm faults, crashes, 20 s
//                           fault phase + heal phase), one seed per iteration, in process:
//                           the seeds-per-minute figure of one core
//
// items_per_second is events per second (seeds per second for the scenario); run single
// threaded: the simulator is one thread by design.
#include <cineyma/cineyma.hpp>
#include <cineyma/sim/scenario.hpp>
#include <cineyma/sim/simulation.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::sim::Node;
using cineyma::sim::Simulation;
using cineyma::sim::SimulationOptions;

constexpr int kChains = 64;
constexpr std::uint64_t kEventsPerRun = 1'000'000;

/// A chain of tasks: each run posts the next until the shared budget is spent.
struct PostChain {
  cineyma::Executor* executor;
  std::uint64_t* remaining;
  void operator()() const {
    if (*remaining == 0) return;
    --*remaining;
    executor->post(PostChain{*this});
  }
};

void run_post_chains(benchmark::State& state, int nodes) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    SimulationOptions options;
    Simulation sim(1, options);
    std::vector<Node*> all;
    for (int n = 0; n < nodes; ++n) {
      std::string name = "n";  // appended, not `"n" + ...`: GCC 12 -O3 warns (-Wrestrict)
      name += std::to_string(n);
      all.push_back(&sim.add_node(std::move(name)));
    }
    std::uint64_t remaining = kEventsPerRun;
    for (int c = 0; c < kChains; ++c) {
      cineyma::Executor& ex = all[static_cast<std::size_t>(c % nodes)]->environment().executor();
      ex.post(PostChain{&ex, &remaining});
    }
    const std::uint64_t before = sim.events();
    state.ResumeTiming();
    sim.run_until_idle(1h);
    state.PauseTiming();
    events += sim.events() - before;
    benchmark::DoNotOptimize(sim.trace_hash());
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

void BM_CoreLoopPosts(benchmark::State& state) { run_post_chains(state, 1); }
void BM_CoreLoopFiveNodes(benchmark::State& state) { run_post_chains(state, 5); }

struct TimerChain {
  cineyma::Clock* clock;
  std::uint64_t* remaining;
  void operator()() const {
    if (*remaining == 0) return;
    --*remaining;
    clock->schedule_after(1us, TimerChain{*this});
  }
};

void BM_CoreLoopTimers(benchmark::State& state) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Simulation sim(1);
    Node& node = sim.add_node("n");
    std::uint64_t remaining = kEventsPerRun;
    for (int c = 0; c < kChains; ++c) {
      node.environment().clock().schedule_after(1us, TimerChain{&node.environment().clock(), &remaining});
    }
    state.ResumeTiming();
    sim.run_until_idle(24h);
    state.PauseTiming();
    events += sim.events();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

struct Ball {
  std::uint64_t remaining;
};
class Player : public cineyma::Actor<Player> {
 public:
  void handle(const Ball& b, Context&) {
    if (b.remaining == 0) return;
    (void)peer_->try_send(Ball{b.remaining - 1});
  }
  std::shared_ptr<cineyma::Addr<Player>> peer_ = std::make_shared<cineyma::Addr<Player>>();
};

void BM_ActorPingPong(benchmark::State& state) {
  constexpr std::uint64_t kMessages = 200'000;
  std::uint64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Simulation sim(1);
    Node& node = sim.add_node("n");
    {
      cineyma::ActorSystem system(node.environment());
      Player a_state;
      Player b_state;
      auto a_peer = a_state.peer_;
      auto b_peer = b_state.peer_;
      auto a = system.spawn(std::move(a_state));
      auto b = system.spawn(std::move(b_state));
      *a_peer = b;
      *b_peer = a;
      sim.run_until_idle(1s);
      const std::uint64_t before = sim.events();
      (void)a.try_send(Ball{kMessages});
      state.ResumeTiming();
      sim.run_until_idle(1h);
      state.PauseTiming();
      events += sim.events() - before;
      (void)system.shutdown(1s);
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

void BM_ScenarioGossipMax(benchmark::State& state) {
  const auto info = cineyma::sim::find_scenario("gossip_max");
  if (!info) {
    state.SkipWithError("gossip_max is not linked in");
    return;
  }
  std::uint64_t seed = 1;
  std::uint64_t events = 0;
  for (auto _ : state) {
    const cineyma::sim::ScenarioOutcome outcome = cineyma::sim::run_scenario(*info, seed++);
    if (!outcome.passed) state.SkipWithError("a seed failed");
    events += outcome.events;
  }
  // items_per_second is seeds per second: times 60 for the seeds-per-minute figure.
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["events_per_seed"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
}

}  // namespace

BENCHMARK(BM_CoreLoopPosts)->Name("sim_core_loop_posts")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CoreLoopTimers)->Name("sim_core_loop_timers")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CoreLoopFiveNodes)->Name("sim_core_loop_5_nodes")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ActorPingPong)->Name("sim_actor_ping_pong")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScenarioGossipMax)->Name("sim_scenario_gossip_max")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
