// cluster_sim_bench — the measurements of issue 6 (item 6), taken in simulation: N gossip
// engines over the seeded message network of tests/support/cluster_harness.hpp. Everything but
// the wall-clock line is simulated time, so the numbers are the same on any machine for a seed.
//
//   cineyma_cluster_sim_bench            the full table (about a minute or two of wall time)
//   cineyma_cluster_sim_bench --quick    fewer seeds, shorter runs (a smoke test)
//
// Defaults of the engine throughout: gossip every 1 s, fan-out 3, Suspect after 5 s, Down after
// 10 s; one-way latency uniform in 0.2–5 ms unless a line says otherwise; 1 seed node.
#include "support/cluster_harness.hpp"

#include <cineyma/cluster.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::Duration;
using cineyma::TimePoint;
using cineyma::cluster::MemberStatus;
using cineyma::test::ClusterHarness;
using cineyma::test::ClusterHarnessOptions;

double seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }

struct Spread {
  Duration p50, p99, max;
  std::size_t samples;
};

Spread spread(std::vector<Duration> v) {
  Spread s{};
  s.samples = v.size();
  if (v.empty()) return s;
  s.p50 = cineyma::test::quantile(v, 50, 100);
  s.p99 = cineyma::test::quantile(v, 99, 100);
  s.max = v.back();  // quantile() sorted it
  return s;
}

ClusterHarnessOptions options(std::size_t nodes) {
  ClusterHarnessOptions o;
  o.nodes = nodes;
  return o;
}

// Cold start to "all Up, same view", then one registration: rounds until every node resolves it.
void update_spread(std::size_t nodes, int runs) {
  std::vector<Duration> converge, reach;
  for (int seed = 1; seed <= runs; ++seed) {
    cineyma::sim::SimulationOptions so;
    so.trace = false;
    cineyma::sim::Simulation sim(static_cast<std::uint64_t>(seed), so);
    ClusterHarness h(sim, options(nodes));
    const auto c = h.run_until([&] { return h.all_up_same_view(); }, 60s, 100ms);
    if (!c) {
      std::printf("  n=%zu seed %d did not converge in 60 s\n", nodes, seed);
      continue;
    }
    converge.push_back(*c);
    sim.run_for(5s);
    const std::size_t origin = cineyma::Prng(static_cast<std::uint64_t>(seed)).below(nodes);
    if (!h.engine(origin).register_actor("probe", "Probe")) continue;
    const auto r = h.run_until(
        [&] {
          for (std::size_t i = 0; i < h.size(); ++i) {
            if (!h.engine(i).lookup_actor("probe")) return false;
          }
          return true;
        },
        60s, 50ms);
    if (r) reach.push_back(*r);
  }
  const Spread c = spread(converge), r = spread(reach);
  std::printf("| update reaches all of %4zu nodes | %5.2f rounds p50, %5.2f p99 (%zu runs) "
              "| cold start to all Up, same view: %.1f s p50, %.1f s max |\n",
              nodes, seconds(r.p50), seconds(r.p99), r.samples, seconds(c.p50), seconds(c.max));
}

// Crash two random nodes of a converged cluster; time until each live observer sees each Down.
void crash_to_down(std::size_t nodes, int runs) {
  std::vector<Duration> all;
  for (int seed = 1; seed <= runs; ++seed) {
    cineyma::sim::SimulationOptions so;
    so.trace = false;
    cineyma::sim::Simulation sim(static_cast<std::uint64_t>(seed), so);
    ClusterHarness h(sim, options(nodes));
    if (!h.run_until([&] { return h.all_up_same_view(); }, 60s, 250ms)) continue;
    sim.run_for(3s);
    cineyma::Prng r(static_cast<std::uint64_t>(seed) ^ 0xC0FFEE);
    const std::size_t a = r.below(nodes);
    const std::size_t b = (a + 1 + r.below(nodes - 1)) % nodes;
    const std::size_t before = h.events().size();
    const TimePoint t0 = h.now();
    h.crash(a);
    h.crash(b);
    sim.run_for(25s);
    for (std::size_t k = before; k < h.events().size(); ++k) {
      const auto& e = h.events()[k];
      if (e.event.status == MemberStatus::down) all.push_back(e.at - t0);
    }
  }
  const Spread s = spread(all);
  std::printf("| crash-to-Down, %4zu nodes, every observer | p50 %.2f s, p99 %.2f s, max %.2f s "
              "(%zu observations, %d runs) | bound: suspect x 2 + 2 intervals = 12 s |\n",
              nodes, seconds(s.p50), seconds(s.p99), seconds(s.max), s.samples, runs);
}

// Long runs with latency spikes: how many Down verdicts hit live nodes.
void false_downs(std::size_t nodes, Duration length, std::int64_t spike_max_us, int runs) {
  std::uint64_t downs = 0, suspects = 0, refutations = 0, messages = 0;
  for (int seed = 1; seed <= runs; ++seed) {
    cineyma::sim::SimulationOptions so;
    so.trace = false;
    cineyma::sim::Simulation sim(static_cast<std::uint64_t>(seed), so);
    ClusterHarnessOptions o = options(nodes);
    o.spike_numerator = 5;
    o.spike_denominator = 100;
    o.spike_us_min = 1'000'000;
    o.spike_us_max = spike_max_us;
    ClusterHarness h(sim, o);
    sim.run_for(length);
    for (const auto& e : h.events()) {
      downs += e.event.status == MemberStatus::down;
      suspects += e.event.status == MemberStatus::suspect;
    }
    for (std::size_t i = 0; i < h.size(); ++i) refutations += h.engine(i).stats().refutations;
    messages += h.messages_sent();
  }
  std::printf("| false Down, %4zu nodes, %d x %.0f s, 5%% of messages +1..%.1f s | %llu false Down "
              "| %llu Suspect events, %llu refutations, %llu messages |\n",
              nodes, runs, seconds(length), static_cast<double>(spike_max_us) / 1e6,
              static_cast<unsigned long long>(downs), static_cast<unsigned long long>(suspects),
              static_cast<unsigned long long>(refutations),
              static_cast<unsigned long long>(messages));
}

void wall_time(std::size_t nodes, Duration length) {
  cineyma::sim::SimulationOptions so;
  so.trace = false;
  const auto start = std::chrono::steady_clock::now();
  cineyma::sim::Simulation sim(1, so);
  ClusterHarness h(sim, options(nodes));
  sim.run_for(length);
  const auto wall = std::chrono::steady_clock::now() - start;
  std::printf("| wall time to simulate %zu nodes for %.0f s | %.1f s | %llu messages, %llu events, "
              "all Up, same view: %s |\n",
              nodes, seconds(length),
              static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()) /
                  1e3,
              static_cast<unsigned long long>(h.messages_sent()),
              static_cast<unsigned long long>(sim.events()), h.all_up_same_view() ? "yes" : "no");
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::printf("cluster simulation measurements (%s); simulated time unless noted\n\n",
              quick ? "quick" : "full");
  std::printf("| measurement | result | notes |\n|---|---|---|\n");
  update_spread(100, quick ? 3 : 20);
  update_spread(1000, quick ? 1 : 3);
  crash_to_down(16, quick ? 20 : 200);
  crash_to_down(100, quick ? 2 : 20);
  false_downs(100, quick ? 120s : 600s, 4'500'000, quick ? 1 : 3);
  false_downs(16, quick ? 600s : 3600s, 4'500'000, quick ? 2 : 10);
  wall_time(1000, 60s);
  return 0;
}
