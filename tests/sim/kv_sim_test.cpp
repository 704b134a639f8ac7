// examples/distributed-kv in the simulator: the case the walkthrough does not show — the
// store's owner cut off from the majority (alive, not crashed). The majority must elect a new
// owner with the acknowledged data, the old owner must refuse to serve and step down, a write
// it could not replicate must not come back, and after the heal exactly one store remains.
// Several seeds; a failure names its seed.
#include <catch2/catch.hpp>

#include "kv_node.hpp"

#include <cineyma/sim/simulation.hpp>

#include <array>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::cluster::MemberStatus;

constexpr std::size_t kNodes = 3;

std::string name_of(std::size_t i) { return "node-" + std::to_string(i + 1); }
std::string endpoint_of(std::size_t i) { return name_of(i) + ":7000"; }

class KvCluster {
 public:
  explicit KvCluster(std::uint64_t seed) : sim_(seed, options()) {
    for (std::size_t i = 0; i < kNodes; ++i) {
      sim_.add_node(name_of(i), [this, i](cineyma::sim::Node& n) {
        kv::KvOptions o;
        o.node_id = name_of(i);
        o.bind = {"", 7000};
        o.endpoint = endpoint_of(i);
        if (i != 0) o.seeds = {endpoint_of(0)};
        o.gossip_interval = 200ms;
        o.suspect_after = 1s;
        o.down_after = 2s;
        o.call_timeout = 2s;
        o.incarnation = n.incarnation();
        o.secret = "test";
        o.narrate = [this, i](const std::string& line) {
          if (line.rfind("this node no longer hosts the store", 0) == 0) ++step_downs_[i];
        };
        auto& node = n.make<kv::KvNode>(n.environment(), std::move(o));
        REQUIRE(node.start());
        nodes_[i] = &node;
      });
    }
  }
  ~KvCluster() {
    for (std::size_t i = 0; i < kNodes; ++i) {
      nodes_[i] = nullptr;
      sim_.crash(name_of(i));
    }
  }

  cineyma::sim::Simulation& sim() noexcept { return sim_; }
  kv::KvNode& at(std::size_t i) {
    REQUIRE(nodes_[i] != nullptr);
    return *nodes_[i];
  }
  int step_downs(std::size_t i) const { return step_downs_[i]; }

  /// Where node i sees the store ("" when nowhere).
  std::string store_seen_by(std::size_t i) {
    const auto where = at(i).cluster().lookup_actor(kv::kStoreName);
    return where ? where->node : std::string();
  }
  /// Every node sees the store on `node`, and `node` Up.
  bool all_see_store_on(const std::string& node) {
    for (std::size_t i = 0; i < kNodes; ++i) {
      if (store_seen_by(i) != node) return false;
      const auto s = at(i).cluster().status_of(node);
      if (!s || *s != MemberStatus::up) return false;
    }
    return true;
  }
  bool all_up() {
    for (std::size_t i = 0; i < kNodes; ++i) {
      for (const auto& m : at(i).cluster().members()) {
        if (m.status != MemberStatus::up) return false;
      }
      if (at(i).cluster().members().size() != kNodes) return false;
    }
    return true;
  }

 private:
  static cineyma::sim::SimulationOptions options() {
    cineyma::sim::SimulationOptions o;
    o.latency_us = 500;
    o.latency_jitter_us = 1500;
    return o;
  }

  cineyma::sim::Simulation sim_;
  std::array<kv::KvNode*, kNodes> nodes_{};
  std::array<int, kNodes> step_downs_{};
};

}  // namespace

TEST_CASE("kv sim: an owner cut off from the majority stops serving, the majority elects a new "
          "owner with the acknowledged data, and after the heal one store remains",
          "[kv][sim]") {
  for (std::uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
    INFO("seed " << seed);
    KvCluster c(seed);
    REQUIRE(c.sim().run_until([&] { return c.all_up() && c.all_see_store_on("node-1"); }, 10s));
    REQUIRE(c.at(1).set("a", "1"));

    c.sim().partition({name_of(0)}, {name_of(1), name_of(2)});
    // The owner cannot reach a majority of replicas: the write fails (and must not survive).
    const auto lost = c.at(0).set("x", "lost");
    REQUIRE_FALSE(lost);
    // The majority side elects node-2 (the smallest live id), with the acknowledged data.
    REQUIRE(c.sim().run_until(
        [&] { return c.store_seen_by(1) == "node-2" && c.store_seen_by(2) == "node-2"; }, 10s));
    REQUIRE(c.at(2).set("b", "2"));
    CHECK(c.at(2).get("a").value() == std::optional<std::string>("1"));
    // The cut-off owner sees the majority gone: it refuses reads too, then steps down.
    REQUIRE(c.sim().run_until(
        [&] {
          const auto s = c.at(0).cluster().status_of("node-2");
          return s && *s == MemberStatus::down;
        },
        10s));
    CHECK_FALSE(c.at(0).get("a"));
    REQUIRE(c.sim().run_until([&] { return c.step_downs(0) == 1; }, 5s));

    c.sim().heal();
    // (The heal makes nodes start new lives, which may move the store once more: any single
    // home that everyone agrees on will do.)
    REQUIRE(c.sim().run_until(
        [&] { return c.all_up() && !c.store_seen_by(0).empty() &&
                     c.all_see_store_on(c.store_seen_by(0)); },
        20s));
    for (std::size_t i = 0; i < kNodes; ++i) {
      INFO(name_of(i));
      CHECK(c.at(i).get("a").value() == std::optional<std::string>("1"));
      CHECK(c.at(i).get("b").value() == std::optional<std::string>("2"));
      CHECK(c.at(i).get("x").value() == std::nullopt);  // never acknowledged, never back
    }
  }
}
