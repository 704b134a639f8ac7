// Tests of the simulator's faults: network knobs, partitions, crash/restart, pause, clock
// skew, swarm options, BUGGIFY and code probes.
#include "support/sim_net.hpp"

#include <cineyma/cineyma.hpp>
#include <cineyma/sim/simulation.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using cineyma::ActorSystem;
using cineyma::Duration;
using cineyma::Errc;
using cineyma::TimePoint;
using cineyma::sim::Node;
using cineyma::sim::Ratio;
using cineyma::sim::Simulation;
using cineyma::sim::SimulationOptions;
using cineyma::test::connect_pair;
using cineyma::test::Connected;

namespace {

TimePoint at(Duration d) { return TimePoint(d); }

bool is_disconnected(const std::optional<std::error_code>& ec) {
  return ec && *ec == cineyma::make_error_code(Errc::disconnected);
}

struct Count {
  using reply = int;
};
struct Bump {};

/// A node's volatile state: an actor counting the bumps it received.
class Counter : public cineyma::Actor<Counter> {
 public:
  void handle(const Bump&, Context&) { ++count_; }
  int handle(const Count&, Context&) { return count_; }

 private:
  int count_ = 0;
};

/// What a boot function built, reachable from the test (the node owns it).
struct Booted {
  ActorSystem* system = nullptr;
  cineyma::Addr<Counter> counter;
};

cineyma::sim::BootFunction boot_counter(std::shared_ptr<Booted> out) {
  return [out](Node& node) {
    auto& system = node.make<ActorSystem>(node.environment());
    out->system = &system;
    out->counter = system.spawn(Counter{});
  };
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Network

TEST_CASE("sim faults: a symmetric partition holds bytes both ways and heal delivers them",
          "[sim][faults]") {
  Simulation sim(11);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");
  Connected c = connect_pair(sim, a, b, 80);
  REQUIRE(c.ok);
  sim.partition({"a"}, {"b"});
  c.client.write("ping");
  c.server.write("pong");
  sim.run_for(10s);
  CHECK(c.server.log->received.empty());
  CHECK(c.client.log->received.empty());
  const TimePoint healed_at = sim.now();
  sim.heal();
  sim.run_for(1s);
  CHECK(c.server.log->received == "ping");
  CHECK(c.client.log->received == "pong");
  // Retransmission after heal: nothing arrives before one more latency.
  REQUIRE_FALSE(c.server.log->arrivals.empty());
  CHECK(c.server.log->arrivals.front() >= healed_at + 100us);
}

TEST_CASE("sim faults: a one-way partition stops only its direction", "[sim][faults]") {
  Simulation sim(12);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");
  Connected c = connect_pair(sim, a, b, 80);
  REQUIRE(c.ok);
  sim.partition_one_way({"a"}, {"b"});
  c.client.write("lost-for-now");
  c.server.write("gets-through");
  sim.run_for(1s);
  CHECK(c.server.log->received.empty());
  CHECK(c.client.log->received == "gets-through");
  sim.heal();
  sim.run_for(1s);
  CHECK(c.server.log->received == "lost-for-now");
}

TEST_CASE("sim faults: a connect across a partition times out after tcp_timeout_us",
          "[sim][faults]") {
  SimulationOptions options;
  options.tcp_timeout_us = 300'000;
  Simulation sim(13, options);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");
  auto listener = b.environment().transport().listen({"b", 80});
  REQUIRE(listener);
  sim.partition_one_way({"b"}, {"a"});  // only the answer is lost: still a timeout
  std::optional<std::error_code> error;
  std::optional<TimePoint> failed_at;
  a.environment().transport().async_connect(
      {"b", 80}, [&](cineyma::Result<std::unique_ptr<cineyma::ByteStream>> r) {
        REQUIRE_FALSE(r);
        error = r.error();
        failed_at = sim.now();
      });
  sim.run_for(1s);
  REQUIRE(error);
  CHECK(*error == std::errc::timed_out);
  CHECK(*failed_at == at(300ms));
}

TEST_CASE("sim faults: a partition that outlasts the TCP timeout breaks the connection",
          "[sim][faults]") {
  SimulationOptions options;
  options.tcp_timeout_us = 500'000;
  options.partition_break_ratio = Ratio{1, 1};
  Simulation sim(14, options);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");

  SECTION("healed in time: the connection survives") {
    Connected c = connect_pair(sim, a, b, 80);
    REQUIRE(c.ok);
    sim.partition({"a"}, {"b"});
    c.client.write("x");
    sim.run_for(400ms);
    sim.heal();
    sim.run_for(1s);
    CHECK(c.server.log->received == "x");
    CHECK_FALSE(c.server.log->error);
    CHECK_FALSE(c.client.log->error);
  }
  SECTION("not healed: both ends see the break") {
    Connected c = connect_pair(sim, a, b, 80);
    REQUIRE(c.ok);
    const TimePoint start = sim.now();
    sim.partition({"a"}, {"b"});
    sim.run_for(1s);
    CHECK(is_disconnected(c.server.log->error));
    CHECK(is_disconnected(c.client.log->error));
    CHECK(*c.client.log->error_at == start + 500ms);
    CHECK(sim.probes().at("sim: partition broke a connection") == 1);
  }
}

TEST_CASE("sim faults: a reset fails both ends, a half-open connection leaves one hanging",
          "[sim][faults]") {
  SECTION("reset") {
    SimulationOptions options;
    options.reset_ratio = Ratio{1, 1};
    Simulation sim(15, options);
    Node& a = sim.add_node("a");
    Node& b = sim.add_node("b");
    Connected c = connect_pair(sim, a, b, 80);
    REQUIRE(c.ok);
    c.client.write("doomed");
    sim.run_for(1s);
    CHECK(is_disconnected(c.client.log->error));
    CHECK(is_disconnected(c.server.log->error));
    auto later = std::make_shared<std::optional<cineyma::Result<void>>>();
    c.client.write("after", later);
    sim.run_for(1s);
    REQUIRE(later->has_value());
    CHECK_FALSE(**later);
  }
  SECTION("half-open") {
    SimulationOptions options;
    options.half_open_ratio = Ratio{1, 1};
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      Simulation sim(seed, options);
      Node& a = sim.add_node("a");
      Node& b = sim.add_node("b");
      Connected c = connect_pair(sim, a, b, 80);
      REQUIRE(c.ok);
      c.client.write("hello");
      sim.run_for(1s);
      // Exactly one end saw the reset; the other still waits for bytes that never come,
      // and its writes succeed into the void.
      const bool client_reset = is_disconnected(c.client.log->error);
      const bool server_reset = is_disconnected(c.server.log->error);
      CHECK(client_reset != server_reset);
      cineyma::test::StreamEnd& survivor = client_reset ? c.server : c.client;
      CHECK_FALSE(survivor.log->error);
      auto written = std::make_shared<std::optional<cineyma::Result<void>>>();
      survivor.write("anyone?", written);
      sim.run_for(10s);
      REQUIRE(written->has_value());
      CHECK(**written);
      CHECK_FALSE(survivor.log->error);
      CHECK(sim.probes().at("sim: connection half-open") == 1);
    }
  }
}

TEST_CASE("sim faults: refused connects, latency jitter and tail, stalls", "[sim][faults]") {
  SECTION("refused although listening") {
    SimulationOptions options;
    options.connect_refused_ratio = Ratio{1, 1};
    Simulation sim(16, options);
    Node& a = sim.add_node("a");
    Node& b = sim.add_node("b");
    auto listener = b.environment().transport().listen({"b", 80});
    REQUIRE(listener);
    std::optional<std::error_code> error;
    a.environment().transport().async_connect(
        {"b", 80}, [&](cineyma::Result<std::unique_ptr<cineyma::ByteStream>> r) {
          if (!r) error = r.error();
        });
    sim.run_for(1s);
    REQUIRE(error);
    CHECK(*error == std::errc::connection_refused);
  }
  SECTION("every segment arrives within base + jitter + tail + stall, in order") {
    SimulationOptions options;
    options.latency_us = 1'000;
    options.latency_jitter_us = 2'000;
    options.latency_tail_ratio = Ratio{1, 3};
    options.latency_tail_us = 50'000;
    options.stall_ratio = Ratio{1, 5};
    options.stall_us = 200'000;
    Simulation sim(17, options);
    Node& a = sim.add_node("a");
    Node& b = sim.add_node("b");
    Connected c = connect_pair(sim, a, b, 80);
    REQUIRE(c.ok);
    std::string sent;
    TimePoint first_sent = sim.now();
    for (int i = 0; i < 200; ++i) {
      const std::string chunk = std::to_string(i) + ",";
      sent += chunk;
      c.client.write(chunk);
      sim.run_for(1ms);
    }
    sim.run_for(10s);
    CHECK(c.server.log->received == sent);  // ordered and complete, whatever the delays
    REQUIRE_FALSE(c.server.log->arrivals.empty());
    CHECK(c.server.log->arrivals.front() >= first_sent + 1ms);
    // Some segment took far longer than the base latency: the tail and stalls are real.
    const Duration spread = c.server.log->arrivals.back() - first_sent;
    CHECK(spread > 200ms);
    CHECK(spread < 200ms + 1ms + 2ms + 50ms + 200ms);
    CHECK(sim.probes().at("sim: stream stalled") > 0);
  }
}

// ---------------------------------------------------------------------------------------
// Processes

TEST_CASE("sim faults: crash breaks every connection and loses the node's state, restart boots "
          "a fresh one",
          "[sim][faults]") {
  Simulation sim(21);
  auto booted = std::make_shared<Booted>();
  Node& server = sim.add_node("server", boot_counter(booted));
  Node& p1 = sim.add_node("p1");
  Node& p2 = sim.add_node("p2");
  CHECK(server.incarnation() == 1);
  Connected c1 = connect_pair(sim, p1, server, 81);
  Connected c2 = connect_pair(sim, p2, server, 82);
  REQUIRE(c1.ok);
  REQUIRE(c2.ok);
  for (int i = 0; i < 3; ++i) REQUIRE(booted->counter.try_send(Bump{}));
  CHECK(booted->counter.send(Count{}).get().value() == 3);

  // A timer of the node that must never run once the process is gone.
  bool late_timer_ran = false;
  server.environment().clock().schedule_after(5s, [&] { late_timer_ran = true; });
  const cineyma::Addr<Counter> old_counter = booted->counter;

  sim.crash("server");
  CHECK_FALSE(server.is_up());
  sim.run_for(10s);
  CHECK_FALSE(late_timer_ran);
  CHECK(is_disconnected(c1.client.log->error));
  CHECK(is_disconnected(c2.client.log->error));
  // The old actor is gone with its process.
  CHECK(old_counter.try_send(Bump{}).is(Errc::actor_stopped));
  // Down: connects are refused (the host is up, nobody listens).
  std::optional<std::error_code> error;
  p1.environment().transport().async_connect(
      {"server", 81}, [&](cineyma::Result<std::unique_ptr<cineyma::ByteStream>> r) {
        if (!r) error = r.error();
      });
  sim.run_for(1s);
  REQUIRE(error);
  CHECK(*error == std::errc::connection_refused);

  sim.restart("server");
  CHECK(server.is_up());
  CHECK(server.incarnation() == 2);
  CHECK(booted->counter.send(Count{}).get().value() == 0);  // volatile state was lost
  Connected again = connect_pair(sim, p1, server, 81);
  CHECK(again.ok);
}

TEST_CASE("sim faults: a crash unwinds an actor sleeping in an async handler",
          "[sim][faults]") {
  struct Nap {};
  class Sleeper : public cineyma::Actor<Sleeper> {
   public:
    cineyma::Task<void> handle(const Nap&, Context& ctx) { co_await ctx.sleep(1h); }
  };
  Simulation sim(22);
  sim.add_node("n", [](Node& node) {
    auto& system = node.make<ActorSystem>(node.environment());
    auto sleeper = system.spawn(Sleeper{});
    REQUIRE(sleeper.try_send(Nap{}));
  });
  sim.run_for(1s);
  const TimePoint before = sim.now();
  sim.crash("n");  // must not hang, leak or wait an hour of virtual time
  CHECK(sim.now() == before);
  sim.restart("n");
  sim.run_for(1s);
}

TEST_CASE("sim faults: pause stops a node's tasks and timers, others carry on",
          "[sim][faults]") {
  Simulation sim(23);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");
  std::vector<TimePoint> a_ticks;
  std::vector<TimePoint> b_ticks;
  a.environment().clock().schedule_after(1s, [&] { a_ticks.push_back(sim.now()); });
  b.environment().clock().schedule_after(1s, [&] { b_ticks.push_back(sim.now()); });
  sim.pause("a", 3s);
  sim.run_for(2s);
  CHECK(a_ticks.empty());
  CHECK(b_ticks == std::vector<TimePoint>{at(1s)});
  a.environment().executor().post([&] { a_ticks.push_back(sim.now()); });
  sim.run_for(2s);
  // Both the late timer and the post run when the pause ends, not before.
  CHECK(a_ticks == std::vector<TimePoint>{at(3s), at(3s)});
}

TEST_CASE("sim faults: clock skew shifts one node only, drift scales it, never backwards",
          "[sim][faults]") {
  Simulation sim(24);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");
  cineyma::Clock& ca = a.environment().clock();
  cineyma::Clock& cb = b.environment().clock();
  sim.run_for(10s);
  sim.clock_skew("a", 5s, 0);
  CHECK(ca.now() == at(15s));
  CHECK(cb.now() == at(10s));
  sim.clock_skew("a", 0s, 100'000);  // 10 % fast from here
  sim.run_for(10s);
  CHECK(ca.now() == at(26s));
  CHECK(cb.now() == at(20s));
  // A local deadline converts to world time through the drift: 11 s local = 10 s world.
  std::optional<TimePoint> fired_local;
  std::optional<TimePoint> fired_world;
  ca.schedule_after(11s, [&] {
    fired_local = ca.now();
    fired_world = sim.now();
  });
  sim.run_for(20s);
  REQUIRE(fired_local);
  CHECK(*fired_local == at(37s));
  CHECK(*fired_world == at(30s));
  // A negative offset holds the clock still instead of going back.
  const TimePoint held = ca.now();
  sim.clock_skew("a", -5s, 0);
  sim.run_for(3s);
  CHECK(ca.now() == held);
  sim.run_for(3s);
  CHECK(ca.now() == held + 1s);
  CHECK(cb.now() == sim.now());
}

// ---------------------------------------------------------------------------------------
// Options, BUGGIFY, probes

TEST_CASE("sim faults: swarm options come from the seed and describe() lists every knob",
          "[sim][faults]") {
  const SimulationOptions a = SimulationOptions::swarm(7);
  const SimulationOptions b = SimulationOptions::swarm(7);
  CHECK(cineyma::sim::describe(a) == cineyma::sim::describe(b));
  int differing = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    if (cineyma::sim::describe(SimulationOptions::swarm(seed)) != cineyma::sim::describe(a)) {
      ++differing;
    }
  }
  CHECK(differing >= 19);
  const std::string text = cineyma::sim::describe(a);
  for (const char* knob : {"latency_us=", "latency_jitter_us=", "latency_tail_ratio=",
                           "latency_tail_us=", "stall_ratio=", "stall_us=", "reset_ratio=",
                           "half_open_ratio=", "connect_refused_ratio=", "partition_break_ratio=",
                           "tcp_timeout_us=", "callback_exceptions=", "buggify="}) {
    CHECK(text.find(knob) != std::string::npos);
  }
  // Swarm runs do turn knobs off and on across seeds.
  int resets_on = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    if (SimulationOptions::swarm(seed).reset_ratio.numerator != 0) ++resets_on;
  }
  CHECK(resets_on > 20);
  CHECK(resets_on < 80);
}

TEST_CASE("sim faults: BUGGIFY is off unless armed, and armed sites replay per seed",
          "[sim][faults]") {
  auto fires = [](std::uint64_t seed, bool armed) {
    SimulationOptions options;
    options.buggify = armed;
    options.buggify_site_ratio = Ratio{1, 2};
    options.buggify_fire_ratio = Ratio{1, 2};
    Simulation sim(seed, options);
    Node& n = sim.add_node("n");
    std::string pattern;
    for (int i = 0; i < 64; ++i) {
      const bool first = CINEYMA_BUGGIFY(n.environment());
      const bool second = CINEYMA_BUGGIFY(n.environment());
      pattern += first ? '1' : '0';
      pattern += second ? '1' : '0';
    }
    return pattern;
  };
  const std::string off(128, '0');
  CHECK(fires(1, false) == off);
  CHECK(fires(1, true) == fires(1, true));
  int some_fired = 0;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    if (fires(seed, true) != off) ++some_fired;
  }
  CHECK(some_fired > 4);   // each site is armed for about half of the seeds
  CHECK(some_fired < 16);  // ... and not for the others
  // The real runtime has no injector: the point is a null check that is never taken.
  cineyma::RealEnvironment real(cineyma::RealEnvironmentOptions{1, 1, "real"});
  CHECK(real.faults() == nullptr);
  CHECK_FALSE(CINEYMA_BUGGIFY(real));
}

TEST_CASE("sim faults: code probes count what was reached, per name", "[sim][faults]") {
  Simulation sim(31);
  Node& n = sim.add_node("n");
  CINEYMA_CODE_PROBE(n.environment(), "test: rare path");
  CINEYMA_CODE_PROBE(n.environment(), "test: rare path");
  CINEYMA_CODE_PROBE(n.environment(), "test: other");
  const auto probes = sim.probes();
  CHECK(probes.at("test: rare path") == 2);
  CHECK(probes.at("test: other") == 1);
}

TEST_CASE("sim faults: library code has fault points and probes that the simulator counts",
          "[sim][faults]") {
  struct Work {};
  class Slow : public cineyma::Actor<Slow> {
   public:
    void handle(const Work&, Context&) { ++handled_; }
    int handled_ = 0;
  };
  // Armed everywhere, always firing: the actor cell yields after every message (BUGGIFY in
  // src/core/cell.cpp), and a small mailbox fills up (the "mailbox full" probe).
  SimulationOptions options;
  options.buggify = true;
  options.buggify_site_ratio = Ratio{1, 1};
  options.buggify_fire_ratio = Ratio{1, 1};
  Simulation sim(41, options);
  Node& n = sim.add_node("n");
  {
    ActorSystem system(n.environment());
    auto slow = system.spawn_with_capacity(Slow{}, 4);
    REQUIRE(slow);
    int refused = 0;
    for (int i = 0; i < 10; ++i) {
      if (!slow->try_send(Work{})) ++refused;
    }
    CHECK(refused == 6);
    sim.run_for(1s);
    REQUIRE(system.shutdown(10s));
  }
  CHECK(sim.probes().at("mailbox full") == 6);
  bool cell_site_fired = false;
  for (const auto& [site, count] : sim.buggify_fired()) {
    if (site.rfind("cell.cpp:", 0) == 0 && count > 0) cell_site_fired = true;
  }
  CHECK(cell_site_fired);
}

TEST_CASE("sim faults: swarm runs with every fault kind are deterministic per seed",
          "[sim][faults]") {
  // A small networked workload under swarm options, partitions, a crash and a restart: the
  // same seed gives the same trace hash; 30 seeds give 30 different ones.
  auto run = [](std::uint64_t seed) {
    SimulationOptions options = SimulationOptions::swarm(seed);
    options.buggify = true;  // arm BUGGIFY too: its sites must replay as well
    Simulation sim(seed, options);
    Node& a = sim.add_node("a");
    Node& b = sim.add_node("b", [](Node& n) {
      auto& system = n.make<ActorSystem>(n.environment());
      system.spawn(Counter{});
    });
    Node& c = sim.add_node("c");
    std::vector<Connected> links;
    links.push_back(connect_pair(sim, a, b, 1));
    links.push_back(connect_pair(sim, c, b, 2));
    links.push_back(connect_pair(sim, a, c, 3));
    for (int i = 0; i < 20; ++i) {
      for (Connected& l : links) {
        if (l.ok) l.client.write("m" + std::to_string(i));
      }
      if (i == 5) sim.partition({"a"}, {"b", "c"});
      if (i == 9) sim.heal();
      if (i == 12) sim.crash("b");
      if (i == 15) sim.restart("b");
      sim.run_for(std::chrono::milliseconds(100));
    }
    sim.run_for(5s);
    return sim.trace_hash();
  };
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const std::uint64_t first = run(seed);
    CHECK(run(seed) == first);
    hashes.insert(first);
  }
  CHECK(hashes.size() == 30);
}
