// Simulated-network scenarios of the cluster core (issue 6, item 5), each over many seeds:
// N GossipEngines on a seeded message network (tests/support/cluster_harness.hpp), with
// crashes, pauses, partitions, latency spikes and graceful leaves. Every scenario checks its
// invariants as the run goes (fault phase) and a convergence bound after (heal phase).
//
// A failure names its seed; replay one seed with
//     CINEYMA_CLUSTER_SEED=<seed> cineyma_tests "<test name>"
#include <catch2/catch.hpp>

#include "support/cluster_harness.hpp"

#include <cineyma/cluster.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::Duration;
using cineyma::TimePoint;
using cineyma::cluster::MemberStatus;
using cineyma::test::ClusterHarness;
using cineyma::test::ClusterHarnessOptions;
using cineyma::test::ObservedEvent;

/// The seeds a scenario runs: 1..count, or only $CINEYMA_CLUSTER_SEED when set. An
/// unoptimised build (the ASan/UBSan preset, ~30x slower on multi-node runs) runs a fifth of
/// them, as tests/CMakeLists.txt does for the scenario runner: every code path is still seen
/// by the sanitizers, and CI stays within its time budget.
std::vector<std::uint64_t> seeds(std::uint64_t count) {
  if (const char* one = std::getenv("CINEYMA_CLUSTER_SEED")) {
    return {std::stoull(one)};
  }
#if !defined(NDEBUG) && !defined(__OPTIMIZE__)
  count = std::max<std::uint64_t>(count / 5, 1);
#endif
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = 1; s <= count; ++s) out.push_back(s);
  return out;
}

std::string replay(std::uint64_t seed) {
  return "replay: CINEYMA_CLUSTER_SEED=" + std::to_string(seed) + " cineyma_tests \"" +
         Catch::getResultCapture().getCurrentTestName() + "\"";
}

ClusterHarnessOptions options(std::size_t nodes) {
  ClusterHarnessOptions o;
  o.nodes = nodes;
  return o;  // defaults: interval 1 s, fan-out 3, Suspect 5 s, Down 10 s, latency 0.2–5 ms
}

std::size_t index_of(const std::string& id) { return std::stoul(id.substr(5)); }

}  // namespace

TEST_CASE("cluster sim: 100 nodes converge (all Up, same view) within 30 s", "[cluster][sim]") {
  for (std::uint64_t seed : seeds(50)) {
    INFO(replay(seed));
    cineyma::sim::Simulation sim(seed);
    ClusterHarness h(sim, options(100));
    const auto took = h.run_until([&] { return h.all_up_same_view(); }, 30s);
    REQUIRE(took.has_value());
    CHECK(h.agree());
    for (const ObservedEvent& e : h.events()) CHECK(e.event.status == MemberStatus::up);
  }
}

TEST_CASE("cluster sim: crash-to-Down p99 <= suspect x 2 + 2 intervals", "[cluster][sim]") {
  std::vector<Duration> latencies;
  for (std::uint64_t seed : seeds(200)) {
    INFO(replay(seed));
    cineyma::sim::Simulation sim(seed);
    ClusterHarness h(sim, options(16));
    REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
    sim.run_for(3s);
    cineyma::Prng r(seed ^ 0x5CE7A810ULL);  // the scenario's own choices
    const std::size_t a = r.below(16);
    const std::size_t b = (a + 1 + r.below(15)) % 16;
    const TimePoint crashed_at = h.now();
    const std::size_t before = h.events().size();
    h.crash(a);
    h.crash(b);
    sim.run_for(20s);
    // Every live observer turns each crashed node Down exactly once, and never sooner than
    // its last heartbeat allows (down_after after the last tick before the crash).
    std::set<std::pair<std::size_t, std::size_t>> seen;
    for (std::size_t k = before; k < h.events().size(); ++k) {
      const ObservedEvent& e = h.events()[k];
      const std::size_t subject = index_of(e.event.node);
      REQUIRE((subject == a || subject == b));  // nobody else is suspected or Down
      if (e.event.status != MemberStatus::down) continue;
      REQUIRE(seen.insert({e.observer, subject}).second);
      const Duration took = e.at - crashed_at;
      CHECK(took >= 10s - 1s);
      latencies.push_back(took);
    }
    CHECK(seen.size() == 2 * 14);
    CHECK(h.agree());
  }
  auto sorted = latencies;
  const Duration p50 = cineyma::test::quantile(sorted, 50, 100);
  const Duration p99 = cineyma::test::quantile(sorted, 99, 100);
  INFO("crash-to-Down p50 " << p50.count() / 1'000'000 << " ms, p99 "
                            << p99.count() / 1'000'000 << " ms over " << sorted.size());
  CHECK(p99 <= 5s * 2 + 2 * 1s);
}

TEST_CASE("cluster sim: no false Down with latency spikes below the suspect timeout",
          "[cluster][sim]") {
  SECTION("5% of messages delayed by 1 to 4.5 s") {
    for (std::uint64_t seed : seeds(200)) {
      INFO(replay(seed));
      cineyma::sim::Simulation sim(seed);
      ClusterHarnessOptions o = options(16);
      o.spike_numerator = 5;
      o.spike_denominator = 100;
      o.spike_us_min = 1'000'000;
      o.spike_us_max = 4'500'000;
      ClusterHarness h(sim, o);
      REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
      sim.run_for(60s);
      for (const ObservedEvent& e : h.events()) CHECK(e.event.status != MemberStatus::down);
      for (std::size_t i = 0; i < h.size(); ++i) CHECK(h.engine(i).stats().new_lives == 0);
      CHECK(h.all_up_same_view());
    }
  }
  SECTION("every message takes up to 4.9 s") {
    for (std::uint64_t seed : seeds(100)) {
      INFO(replay(seed));
      cineyma::sim::Simulation sim(seed);
      ClusterHarnessOptions o = options(16);
      o.latency_us_min = 0;
      o.latency_us_max = 4'900'000;
      ClusterHarness h(sim, o);
      // Gaps of more than 5 s between heartbeat news do happen at this latency, so Suspect
      // comes and goes (refuted each time); Down, which needs 10 s of silence, never comes.
      sim.run_for(90s);
      for (const ObservedEvent& e : h.events()) CHECK(e.event.status != MemberStatus::down);
      for (std::size_t i = 0; i < h.size(); ++i) {
        CHECK(h.engine(i).stats().new_lives == 0);
        CHECK(h.engine(i).membership().size() == h.size());
      }
    }
  }
}

TEST_CASE("cluster sim: a paused node is not mistaken for crashed before its timeout",
          "[cluster][sim]") {
  SECTION("pauses of 1 to 6 s: never Down, and the paused node accuses nobody") {
    for (std::uint64_t seed : seeds(200)) {
      INFO(replay(seed));
      cineyma::sim::Simulation sim(seed);
      ClusterHarness h(sim, options(12));
      REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
      cineyma::Prng r(seed ^ 0x5CE7A810ULL);  // the scenario's own choices
      const std::size_t p = r.below(12);
      h.pause(p, std::chrono::milliseconds(r.between(1000, 6000)));
      sim.run_for(30s);
      for (const ObservedEvent& e : h.events()) {
        CHECK(e.event.status != MemberStatus::down);
        if (e.observer == p) CHECK(e.event.status == MemberStatus::up);
      }
      CHECK(h.engine(p).stats().suspicions_raised == 0);
      CHECK(h.all_up_same_view());
    }
  }
  SECTION("a 20 s pause: Down no sooner than down_after after its last tick, then it rejoins") {
    for (std::uint64_t seed : seeds(100)) {
      INFO(replay(seed));
      cineyma::sim::Simulation sim(seed);
      ClusterHarness h(sim, options(12));
      REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
      const std::size_t p = cineyma::Prng(seed ^ 0x5CE7A810ULL).below(12);
      const TimePoint paused_at = h.now();
      const std::size_t before = h.events().size();
      h.pause(p, 20s);
      sim.run_for(20s);
      for (std::size_t k = before; k < h.events().size(); ++k) {
        const ObservedEvent& e = h.events()[k];
        CHECK(index_of(e.event.node) == p);
        if (e.event.status == MemberStatus::down) CHECK(e.at - paused_at >= 10s - 1s);
      }
      // After the resume the node learns it was declared Down, starts a new life, and every
      // node agrees within a bound; it accused nobody on resuming.
      REQUIRE(h.run_until([&] { return h.agree(); }, 15s));
      CHECK(h.engine(p).stats().new_lives == 1);
      CHECK(h.engine(p).stats().suspicions_raised == 0);
    }
  }
}

TEST_CASE("cluster sim: after a partition heals every node agrees on membership and registry",
          "[cluster][sim]") {
  for (std::uint64_t seed : seeds(200)) {
    INFO(replay(seed));
    cineyma::sim::Simulation sim(seed);
    ClusterHarnessOptions o = options(12);
    o.codec_roundtrip = (seed % 4 == 0);  // a quarter of the runs go through the codec
    ClusterHarness h(sim, o);
    for (std::size_t i = 0; i < h.size(); ++i) {
      REQUIRE(h.engine(i).register_actor("svc-" + std::to_string(i), "Svc").has_value());
    }
    REQUIRE(h.run_until([&] { return h.all_up_same_view() && h.agree(); }, 30s));
    cineyma::Prng r(seed ^ 0x5CE7A810ULL);  // the scenario's own choices
    std::vector<int> group(12);
    for (int& g : group) g = static_cast<int>(r.below(2));
    group[0] = 0;
    group[1] = 1;  // both sides non-empty
    h.partition(group);
    sim.run_for(std::chrono::milliseconds(r.between(2'000, 20'000)));
    h.heal();
    const auto took = h.run_until([&] { return h.agree(); }, 30s);
    REQUIRE(took.has_value());
    CHECK(h.all_up_same_view());
    // Every name of a live actor resolves to its owner, at every node.
    for (std::size_t j = 0; j < h.size(); ++j) {
      for (std::size_t i = 0; i < h.size(); ++i) {
        const auto loc = h.engine(j).lookup_actor("svc-" + std::to_string(i));
        REQUIRE(loc.has_value());
        CHECK(loc->node == ClusterHarness::node_id(i));
      }
    }
  }
}

TEST_CASE("cluster sim: registry entries of stopped actors and Down nodes never come back",
          "[cluster][sim]") {
  using Key = std::tuple<std::string, std::string, std::uint64_t, std::uint64_t>;
  for (std::uint64_t seed : seeds(200)) {
    INFO(replay(seed));
    cineyma::sim::Simulation sim(seed);
    ClusterHarnessOptions o = options(10);
    o.spike_numerator = 1;
    o.spike_denominator = 10;
    o.spike_us_max = 3'000'000;  // reordering: stale gossip arrives after fresher news
    o.codec_roundtrip = (seed % 4 == 1);
    ClusterHarness h(sim, o);
    for (std::size_t i = 0; i < h.size(); ++i) {
      REQUIRE(h.engine(i).register_actor("a-" + std::to_string(i), "A").has_value());
      REQUIRE(h.engine(i).register_actor("b-" + std::to_string(i), "B").has_value());
    }
    REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
    std::vector<std::set<Key>> seen_dead(h.size());
    std::set<std::string> gone;  // names whose actor stopped or whose node crashed
    auto check = [&] {
      for (std::size_t j = 0; j < h.size(); ++j) {
        if (!h.alive(j)) continue;
        const auto& e = h.engine(j);
        for (const auto& [name, rec] : e.registry().map()) {
          const Key key{name, rec.node, rec.epoch, rec.version};
          if (cineyma::cluster::is_live(rec, e.membership())) {
            REQUIRE(seen_dead[j].count(key) == 0);
          } else {
            seen_dead[j].insert(key);
          }
        }
      }
    };
    cineyma::Prng r(seed ^ 0x5CE7A810ULL);  // the scenario's own choices
    for (int step = 0; step < 80; ++step) {  // 20 s of faults, checked every 250 ms
      const std::size_t i = r.below(h.size());
      const auto roll = r.below(100);
      if (roll < 4 && h.alive(i)) {
        const std::string name = "a-" + std::to_string(i);
        if (h.engine(i).unregister_actor(name)) gone.insert(name);
      } else if (roll < 6 && h.alive(i) && i != 0) {
        h.crash(i);
        gone.insert("a-" + std::to_string(i));
        gone.insert("b-" + std::to_string(i));
      } else if (roll < 8 && !h.alive(i)) {
        h.restart(i);  // a fresh process: its old names stay dead
      }
      sim.run_for(250ms);
      check();
    }
    // Heal phase: everyone agrees, and no name in `gone` resolves anywhere, ever again.
    REQUIRE(h.run_until(
        [&] {
          check();
          return h.agree();
        },
        30s, 250ms));
    for (std::size_t j = 0; j < h.size(); ++j) {
      if (!h.alive(j)) continue;
      for (const std::string& name : gone) {
        CHECK(h.engine(j).lookup_actor(name).is(cineyma::Errc::not_found));
      }
    }
  }
}

TEST_CASE("cluster sim: a name registered on two nodes resolves identically and the loser is told",
          "[cluster][sim]") {
  for (std::uint64_t seed : seeds(200)) {
    INFO(replay(seed));
    cineyma::sim::Simulation sim(seed);
    ClusterHarness h(sim, options(8));
    REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
    cineyma::Prng r(seed ^ 0x5CE7A810ULL);  // the scenario's own choices
    const std::size_t a = r.below(8);
    const std::size_t b = (a + 1 + r.below(7)) % 8;
    REQUIRE(h.engine(a).register_actor("dup", "A").has_value());
    REQUIRE(h.engine(b).register_actor("dup", "B").has_value());
    REQUIRE(h.run_until([&] { return h.agree(); }, 10s));
    const auto winner = h.engine(0).lookup_actor("dup");
    REQUIRE(winner.has_value());
    for (std::size_t j = 0; j < h.size(); ++j) {
      const auto loc = h.engine(j).lookup_actor("dup");
      REQUIRE(loc.has_value());
      CHECK(loc->node == winner->node);
    }
    const std::size_t loser = index_of(winner->node) == a ? b : a;
    REQUIRE(h.losses().size() == 1);
    CHECK(h.losses()[0].node == loser);
    CHECK(h.losses()[0].lost.winner.node == winner->node);
    CHECK(h.engine(loser).local_registrations().count("dup") == 0);
  }
}

TEST_CASE("cluster sim: a graceful leave is seen as Left everywhere, never as Down",
          "[cluster][sim]") {
  for (std::uint64_t seed : seeds(100)) {
    INFO(replay(seed));
    cineyma::sim::Simulation sim(seed);
    ClusterHarness h(sim, options(10));
    REQUIRE(h.run_until([&] { return h.all_up_same_view(); }, 30s));
    const std::size_t l = cineyma::Prng(seed ^ 0x5CE7A810ULL).below(10);
    REQUIRE(h.engine(l).register_actor("leaver", "L").has_value());
    sim.run_for(5s);
    const std::size_t before = h.events().size();
    h.leave(l);
    sim.run_for(30s);
    std::set<std::size_t> saw_left;
    for (std::size_t k = before; k < h.events().size(); ++k) {
      const ObservedEvent& e = h.events()[k];
      CHECK(index_of(e.event.node) == l);
      CHECK(e.event.status == MemberStatus::left);
      saw_left.insert(e.observer);
    }
    CHECK(saw_left.size() == 9);
    CHECK(h.agree());
    for (std::size_t j = 0; j < h.size(); ++j) {
      if (j != l) CHECK(h.engine(j).lookup_actor("leaver").is(cineyma::Errc::not_found));
    }
  }
}

TEST_CASE("cluster sim: one seed gives one run (trace hash and events)", "[cluster][sim]") {
  auto run = [](std::uint64_t seed) {
    cineyma::sim::Simulation sim(seed);
    ClusterHarnessOptions o = options(20);
    o.spike_numerator = 1;
    o.spike_denominator = 5;
    o.spike_us_max = 6'000'000;
    ClusterHarness h(sim, o);
    sim.run_for(10s);
    h.crash(3);
    h.pause(7, 7s);
    sim.run_for(30s);
    std::vector<std::tuple<std::int64_t, std::size_t, std::string, int>> events;
    for (const ObservedEvent& e : h.events()) {
      events.emplace_back(e.at.time_since_epoch().count(), e.observer, e.event.node,
                          static_cast<int>(e.event.status));
    }
    return std::make_pair(sim.trace_hash(), events);
  };
  const auto first = run(42);
  const auto second = run(42);
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
  CHECK_FALSE(first.second.empty());
  CHECK(run(43).first != first.first);
}
