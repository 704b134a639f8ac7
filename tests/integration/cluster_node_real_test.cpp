// A 3-node cluster over real loopback TCP (issue 6's bar): three ClusterNodes, each with its
// own RealEnvironment (worker threads, io thread) and ActorSystem, as three processes would
// have. The same registry and client checks as the simulator scenarios: join through a seed,
// registry spread, typed and raw calls, 100 concurrent calls on one pooled connection, a stopped
// actor's name gone, a node that dies (shut down without leaving) seen Suspect then Down, its
// names gone and its calls failing at once. Every wait is on a condition with a generous
// deadline.
#include <catch2/catch.hpp>

#include "remote/support.hpp"

#include <cineyma/cluster.hpp>
#include <cineyma/real_environment.hpp>
#include <cineyma/system.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::Errc;
using cineyma::cluster::ClusterClient;
using cineyma::cluster::ClusterNode;
using cineyma::cluster::ClusterNodeOptions;
using cineyma::cluster::MemberEvent;
using cineyma::cluster::MemberStatus;
using cineyma::remote::MessageRouter;
using remote_support::EchoProtocol;
using remote_support::Echoer;

/// One "process".
struct RealNode {
  explicit RealNode(ClusterNodeOptions options)
      : env(std::make_unique<cineyma::RealEnvironment>()),
        system(std::make_unique<cineyma::ActorSystem>(*env)),
        node(std::make_unique<ClusterNode>(*system, std::move(options))) {}
  ~RealNode() { kill(); }
  /// Dies without a goodbye (as a killed process would, from the peers' point of view).
  void kill() {
    node.reset();
    system.reset();
    env.reset();
  }
  std::unique_ptr<cineyma::RealEnvironment> env;
  std::unique_ptr<cineyma::ActorSystem> system;
  std::unique_ptr<ClusterNode> node;
};

ClusterNodeOptions options_for(const std::string& id, std::vector<std::string> seeds) {
  ClusterNodeOptions o;
  o.gossip.node_id = id;
  o.gossip.seeds = std::move(seeds);
  o.gossip.gossip_interval = 100ms;
  o.gossip.suspect_after = 1s;
  o.gossip.down_after = 2s;
  o.bind = {"127.0.0.1", 0};  // any free port; advertised as the bound address
  o.cluster_name = "real-test";
  o.secret = "real-secret";
  o.call_timeout = 5s;
  return o;
}

remote_test::Echo echo(std::uint64_t id, std::uint32_t delay_ms = 0) {
  remote_test::Echo m;
  m.set_id(id);
  m.set_data("data-" + std::to_string(id));
  m.set_delay_ms(delay_ms);
  return m;
}

struct Tally {
  std::mutex mutex;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> replies;  // (request, reply) ids
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
};

struct Go {
  std::uint64_t id;
};

/// One cluster call per message, made from inside an actor.
class Caller : public cineyma::Actor<Caller> {
 public:
  Caller(ClusterClient client, std::shared_ptr<Tally> tally)
      : client_(std::move(client)), tally_(std::move(tally)) {}
  cineyma::Task<void> handle(Go m, Context&) {
    auto target = client_.remote_addr<EchoProtocol>("echo-" + std::to_string(m.id % 10));
    // Named operands: g++ 12 may destroy a temporary in a co_await expression twice.
    const remote_test::Echo request = echo(m.id, static_cast<std::uint32_t>(20 - m.id % 20));
    auto call = target.call(request);
    auto r = co_await std::move(call);
    if (r) {
      std::lock_guard<std::mutex> lock(tally_->mutex);
      tally_->replies.emplace_back(m.id, r->id());
    } else {
      tally_->failed.fetch_add(1);
    }
    tally_->done.fetch_add(1);
  }

 private:
  ClusterClient client_;
  std::shared_ptr<Tally> tally_;
};

}  // namespace

TEST_CASE("cluster node real: three nodes on loopback TCP - join, registry, calls, "
          "concurrent calls, a dead node Suspect then Down with its names gone",
          "[cluster][node][real]") {
  cineyma::test::RealRuntime waiter;  // only for wait_until's wall-clock polling

  RealNode a(options_for("node-a", {}));
  auto at_a = a.node->start();
  REQUIRE(at_a);
  const std::string seed = cineyma::cluster::to_string(*at_a);
  RealNode b(options_for("node-b", {seed}));
  RealNode c(options_for("node-c", {seed}));
  REQUIRE(b.node->start());
  REQUIRE(c.node->start());
  std::vector<RealNode*> all{&a, &b, &c};

  auto all_up = [&](const std::vector<RealNode*>& nodes, std::size_t count) {
    for (RealNode* n : nodes) {
      std::size_t up = 0;
      for (const auto& m : n->node->members()) up += m.status == MemberStatus::up ? 1 : 0;
      if (up != count) return false;
    }
    return true;
  };
  REQUIRE(waiter.wait_until([&] { return all_up(all, 3); }, 20s));

  // Registry: ten echo actors on node-c, one short-lived actor on node-b.
  for (int k = 0; k < 10; ++k) {
    auto e = c.system->spawn(Echoer{});
    REQUIRE(c.node->register_actor("echo-" + std::to_string(k), e,
                                   std::move(MessageRouter().route<remote_test::Echo>(e)),
                                   "Echoer"));
  }
  auto brief = b.system->spawn(Echoer{});
  REQUIRE(b.node->register_actor("brief", brief,
                                 std::move(MessageRouter().route<remote_test::Echo>(brief)),
                                 "Echoer"));
  REQUIRE(waiter.wait_until(
      [&] {
        for (RealNode* n : all) {
          if (n->node->actors().size() != 11) return false;
        }
        return true;
      },
      20s));
  const auto loc = a.node->lookup_actor("echo-3").value();
  CHECK(loc.node == "node-c");
  CHECK(loc.endpoint == c.node->endpoint());
  CHECK(loc.actor_type == "Echoer");

  // Typed and raw calls from node-a.
  ClusterClient client(*a.node);
  auto typed = client.remote_addr<EchoProtocol>("echo-3").call(echo(41)).get();
  REQUIRE(typed);
  CHECK(typed->id() == 41);
  CHECK(typed->data() == "data-41");
  auto raw = client.remote_addr<EchoProtocol>("brief").send(echo(42)).get();
  REQUIRE(raw);
  remote_test::EchoReply decoded;
  REQUIRE(decoded.ParseFromString(raw->payload));
  CHECK(decoded.id() == 42);

  // 100 concurrent calls from actors on node-a, over its one pooled connection to node-c.
  auto tally = std::make_shared<Tally>();
  std::vector<cineyma::Addr<Caller>> callers;
  for (int i = 0; i < 100; ++i) callers.push_back(a.system->spawn(Caller(client, tally)));
  for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(callers[i].try_send(Go{i}));
  REQUIRE(waiter.wait_until([&] { return tally->done.load() == 100; }, 30s));
  CHECK(tally->failed.load() == 0);
  {
    std::lock_guard<std::mutex> lock(tally->mutex);
    CHECK(tally->replies.size() == 100);
    std::set<std::uint64_t> distinct;
    for (const auto& [request, reply] : tally->replies) {
      CHECK(request == reply);
      distinct.insert(reply);
    }
    CHECK(distinct.size() == 100);
  }

  // A stopped actor's name goes away everywhere.
  brief.stop();
  REQUIRE(waiter.wait_until(
      [&] {
        for (RealNode* n : all) {
          if (n->node->lookup_actor("brief")) return false;
        }
        return true;
      },
      20s));

  // node-c dies without leaving: Suspect, then Down, on both others; its names go away, and a
  // call to them fails at once instead of waiting for its deadline.
  std::mutex events_mutex;
  std::vector<MemberStatus> seen_by_a;
  a.node->on_member_event([&](const MemberEvent& e) {
    if (e.node != "node-c") return;
    std::lock_guard<std::mutex> lock(events_mutex);
    seen_by_a.push_back(e.status);
  });
  c.kill();
  REQUIRE(waiter.wait_until(
      [&] {
        return a.node->status_of("node-c").value() == MemberStatus::down &&
               b.node->status_of("node-c").value() == MemberStatus::down;
      },
      30s));
  {
    std::lock_guard<std::mutex> lock(events_mutex);
    REQUIRE(seen_by_a.size() >= 2);
    CHECK(seen_by_a[0] == MemberStatus::suspect);
    CHECK(seen_by_a.back() == MemberStatus::down);
  }
  CHECK_FALSE(a.node->lookup_actor("echo-3"));
  CHECK_FALSE(b.node->lookup_actor("echo-3"));
  CHECK(client.remote_addr<EchoProtocol>("echo-3").call(echo(1)).get().is(Errc::not_found));
  // The survivors still see each other Up.
  CHECK(a.node->status_of("node-b").value() == MemberStatus::up);
  CHECK(b.node->status_of("node-a").value() == MemberStatus::up);
}
