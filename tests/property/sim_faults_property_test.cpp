// RapidCheck properties of the simulator's fault primitives: crash, partition/heal, clock
// skew and drift. Each property builds a fresh simulation from generated parameters.
#include "support/sim_net.hpp"

#include <cineyma/cineyma.hpp>
#include <cineyma/sim/simulation.hpp>

#include <catch2/catch.hpp>
#include <rapidcheck/catch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using cineyma::Duration;
using cineyma::Errc;
using cineyma::TimePoint;
using cineyma::sim::Node;
using cineyma::sim::Simulation;
using cineyma::test::connect_pair;
using cineyma::test::Connected;

namespace {

struct Bump {};
struct Count {
  using reply = int;
};
class Counter : public cineyma::Actor<Counter> {
 public:
  void handle(const Bump&, Context&) { ++count_; }
  int handle(const Count&, Context&) { return count_; }

 private:
  int count_ = 0;
};

bool is_disconnected(const std::optional<std::error_code>& ec) {
  return ec && *ec == cineyma::make_error_code(Errc::disconnected);
}

}  // namespace

TEST_CASE("property: a crash breaks every connection of the node and loses its state",
          "[property][sim]") {
  rc::prop("every peer stream fails, the restarted node starts from scratch", [] {
    const auto seed = *rc::gen::inRange<std::uint64_t>(0, 1'000'000);
    const auto peers = *rc::gen::inRange<int>(1, 4);
    const auto per_peer = *rc::gen::inRange<int>(1, 3);
    const auto bumps = *rc::gen::inRange<int>(0, 20);
    const auto crash_after_us = *rc::gen::inRange<std::int64_t>(0, 5'000);

    Simulation sim(seed);
    auto counter = std::make_shared<cineyma::Addr<Counter>>();
    Node& server = sim.add_node("server", [counter](Node& node) {
      auto& system = node.make<cineyma::ActorSystem>(node.environment());
      *counter = system.spawn(Counter{});
    });
    std::vector<Connected> connections;
    std::uint16_t port = 1000;
    for (int p = 0; p < peers; ++p) {
      Node& peer = sim.add_node("peer-" + std::to_string(p));
      for (int k = 0; k < per_peer; ++k) {
        connections.push_back(connect_pair(sim, peer, server, port++));
        RC_ASSERT(connections.back().ok);
        connections.back().client.write("in flight");
      }
    }
    for (int i = 0; i < bumps; ++i) RC_ASSERT(counter->try_send(Bump{}));
    sim.run_for(std::chrono::microseconds(crash_after_us));
    sim.crash("server");
    sim.run_for(1s);
    for (const Connected& c : connections) RC_ASSERT(is_disconnected(c.client.log->error));
    sim.restart("server");
    RC_ASSERT(counter->send(Count{}).get().value() == 0);
    RC_ASSERT(server.incarnation() == 2U);
  });
}

TEST_CASE("property: a partition stops bytes one or both ways and heal restores delivery",
          "[property][sim]") {
  rc::prop("blocked directions deliver nothing until heal, then everything in order", [] {
    const auto seed = *rc::gen::inRange<std::uint64_t>(0, 1'000'000);
    const auto mode = *rc::gen::inRange<int>(0, 3);  // 0: a->b, 1: b->a, 2: both
    const auto messages = *rc::gen::container<std::vector<std::string>>(
        rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange('a', 'z'))));
    const auto partition_s = *rc::gen::inRange<int>(1, 30);

    Simulation sim(seed);
    Node& a = sim.add_node("a");
    Node& b = sim.add_node("b");
    Connected c = connect_pair(sim, a, b, 80);
    RC_ASSERT(c.ok);
    if (mode == 0) sim.partition_one_way({"a"}, {"b"});
    if (mode == 1) sim.partition_one_way({"b"}, {"a"});
    if (mode == 2) sim.partition({"a"}, {"b"});
    std::string all;
    for (const std::string& m : messages) {
      all += m;
      c.client.write(m);
      c.server.write(m);
      sim.run_for(1ms);
    }
    sim.run_for(std::chrono::seconds(partition_s));
    const bool a_to_b_blocked = mode != 1;
    const bool b_to_a_blocked = mode != 0;
    RC_ASSERT(c.server.log->received == (a_to_b_blocked ? std::string() : all));
    RC_ASSERT(c.client.log->received == (b_to_a_blocked ? std::string() : all));
    sim.heal();
    sim.run_for(1s);
    RC_ASSERT(c.server.log->received == all);
    RC_ASSERT(c.client.log->received == all);
    RC_ASSERT(!c.server.log->error);
    RC_ASSERT(!c.client.log->error);
  });
}

TEST_CASE("property: per-node time never runs backwards and skew only shifts that node",
          "[property][sim]") {
  struct Op {
    int kind;               // 0: run_for, 1: clock_skew on "skewed", 2: a timer on "skewed"
    std::int64_t amount_ms;  // run length, offset (may be negative) or timer delay
    std::int64_t drift_ppm;
  };
  rc::prop("readings are monotonic; timers fire at their local deadline; others unaffected", [] {
    const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
        rc::gen::set(&Op::kind, rc::gen::inRange(0, 3)),
        rc::gen::set(&Op::amount_ms, rc::gen::inRange<std::int64_t>(-10'000, 10'000)),
        rc::gen::set(&Op::drift_ppm, rc::gen::inRange<std::int64_t>(-500'000, 500'000))));
    Simulation sim(1);
    Node& skewed = sim.add_node("skewed");
    Node& plain = sim.add_node("plain");
    cineyma::Clock& clock = skewed.environment().clock();
    TimePoint last = clock.now();
    auto late_timers = std::make_shared<int>(0);
    for (const Op& op : ops) {
      if (op.kind == 0) {
        sim.run_for(std::chrono::milliseconds(op.amount_ms < 0 ? -op.amount_ms : op.amount_ms));
      } else if (op.kind == 1) {
        sim.clock_skew("skewed", std::chrono::milliseconds(op.amount_ms), op.drift_ppm);
      } else {
        const TimePoint deadline =
            clock.now() + std::chrono::milliseconds(op.amount_ms < 0 ? 0 : op.amount_ms);
        clock.schedule_at(deadline, [&clock, deadline, late_timers] {
          if (clock.now() < deadline) ++*late_timers;  // fired before its deadline
        });
      }
      const TimePoint reading = clock.now();
      RC_ASSERT(reading >= last);
      last = reading;
      RC_ASSERT(plain.environment().clock().now() == sim.now());
    }
    sim.run_for(1h);
    RC_ASSERT(clock.now() >= last);
    RC_ASSERT(*late_timers == 0);
  });
}
