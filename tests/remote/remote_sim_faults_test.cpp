// Remote calls through the simulator's own network faults (issue 5, item 6): two simulated
// processes, a server and a client, with the partitions, connection resets and crashes that
// sim::Simulation injects into its TCP-like transport (not a test decorator). Every call must
// end by its deadline with a clear outcome, and the client must come back after the fault.
#include <catch2/catch.hpp>

#include "remote/support.hpp"

#include <cineyma/sim/simulation.hpp>
#include <cineyma/system.hpp>

#include <map>
#include <memory>
#include <vector>

namespace {

using namespace remote_support;
using cineyma::ActorSystem;
using cineyma::Errc;
using cineyma::remote::MessageRouter;
using cineyma::remote::RemoteClient;
using cineyma::remote::RemoteServer;

constexpr std::uint16_t kPort = 7300;

/// The server process: boot state (a crash destroys it, server first).
struct ServerProcess {
  explicit ServerProcess(cineyma::Environment& env) : system(env) {
    auto opts = server_options<cineyma::test::SimRuntime>("server");
    opts.listen_at = {"", kPort};
    server = std::make_unique<RemoteServer>(env, opts);
    auto echo = system.spawn(Echoer{});
    REQUIRE(server->expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
    REQUIRE(server->start());
  }
  ~ServerProcess() { server.reset(); }
  ActorSystem system;
  std::unique_ptr<RemoteServer> server;
};

remote_test::Echo echo_msg(std::uint64_t id, std::uint32_t delay_ms = 0) {
  remote_test::Echo m;
  m.set_id(id);
  m.set_delay_ms(delay_ms);
  return m;
}

struct Outcome {
  std::map<std::string, int> by_error;  // "ok" or the Errc name
  int wrong_reply = 0;
  int done = 0;
};

struct Go {
  std::uint64_t id;
  std::uint32_t delay_ms;
  cineyma::Duration timeout;
};

/// Makes one call per message from inside an actor, and files its outcome.
class Caller : public cineyma::Actor<Caller> {
 public:
  Caller(RemoteClient client, std::shared_ptr<Outcome> out)
      : client_(std::move(client)), out_(std::move(out)) {}
  cineyma::Task<void> handle(Go m, Context& ctx) {
    const auto t0 = ctx.now();
    // Named operands: g++ 12 may destroy a temporary in a co_await expression twice.
    const auto target = client_.remote_addr<EchoProtocol>("echo");
    const remote_test::Echo request = echo_msg(m.id, m.delay_ms);
    auto call = target.call(request, m.timeout);
    auto r = co_await std::move(call);
    // Completed within its deadline (plus nothing: the deadline is a timer on this clock).
    if (ctx.now() - t0 > m.timeout) ++out_->by_error["late"];
    if (r) {
      ++out_->by_error["ok"];
      if (r->id() != m.id) ++out_->wrong_reply;
    } else {
      ++out_->by_error[cineyma::to_string(static_cast<Errc>(r.error().value()))];
    }
    ++out_->done;
  }

 private:
  RemoteClient client_;
  std::shared_ptr<Outcome> out_;
};

/// A client process (built outside boot: it is never crashed in these tests).
struct ClientSide {
  ClientSide(cineyma::sim::Node& node, std::shared_ptr<Outcome> out)
      : system(node.environment()),
        client(node.environment(), [] {
          auto o = client_options({"server", kPort}, "client");
          o.connect_timeout = 500ms;
          o.liveness_probe_timeout = 500ms;
          o.reconnect_delay_min = 50ms;
          o.reconnect_delay_max = 500ms;
          return o;
        }()) {
    for (int i = 0; i < 50; ++i) callers.push_back(system.spawn(Caller(client, out)));
  }
  ~ClientSide() { client.close(); }
  ActorSystem system;
  RemoteClient client;
  std::vector<cineyma::Addr<Caller>> callers;
};

/// For each of a few seeds: a simulation with `options`, the server process on node "server",
/// a client on node "client", then `body(sim, client, outcomes)`; the server crashes last.
template <typename F>
void for_each_seed(const cineyma::sim::SimulationOptions& options, F&& body) {
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    INFO("seed " << seed);
    cineyma::sim::Simulation sim(seed, options);
    sim.add_node("server", [](cineyma::sim::Node& n) { n.make<ServerProcess>(n.environment()); });
    auto out = std::make_shared<Outcome>();
    {
      ClientSide c(sim.add_node("client"), out);
      body(sim, c, *out);
    }
    sim.crash("server");
  }
}

}  // namespace

TEST_CASE("remote sim faults: the simulator's partition turns calls into deadline errors and "
          "the client reconnects after heal",
          "[remote][sim][faults]") {
  for_each_seed({}, [&](cineyma::sim::Simulation& sim, ClientSide& c, Outcome& out) {
    REQUIRE(c.client.remote_addr<EchoProtocol>("echo").call(echo_msg(1)).get());

    sim.partition({"client"}, {"server"});
    for (std::uint64_t i = 0; i < 50; ++i) REQUIRE(c.callers[i].try_send(Go{i, 5, 1s}));
    REQUIRE(sim.run_until([&] { return out.done == 50; }, 5s));
    CHECK(out.by_error["ok"] == 0);
    CHECK(out.by_error["late"] == 0);
    CHECK(out.by_error["timeout"] + out.by_error["maybe_delivered"] == 50);

    sim.heal();
    REQUIRE(sim.run_until([&] { return c.client.connected(); }, 5s));
    auto r = c.client.remote_addr<EchoProtocol>("echo").call(echo_msg(99)).get();
    REQUIRE(r);
    CHECK(r->id() == 99);
  });
}

TEST_CASE("remote sim faults: a server crash mid-request fails every pending call at once "
          "(maybe_delivered), and a restarted server is found again",
          "[remote][sim][faults]") {
  for_each_seed({}, [&](cineyma::sim::Simulation& sim, ClientSide& c, Outcome& out) {
    REQUIRE(c.client.remote_addr<EchoProtocol>("echo").call(echo_msg(1)).get());
    // 50 slow requests in flight (the echo actor answers one every 100 ms).
    for (std::uint64_t i = 0; i < 50; ++i) REQUIRE(c.callers[i].try_send(Go{i, 100, 30s}));
    sim.run_for(250ms);
    const auto crashed_at = sim.now();
    sim.crash("server");
    REQUIRE(sim.run_until([&] { return out.done == 50; }, 30s));
    // The ones answered before the crash are fine; every other one failed as soon as the
    // connection's end arrived (one latency), long before its 30 s deadline.
    CHECK(sim.now() - crashed_at < 1s);
    CHECK(out.by_error["ok"] >= 1);
    CHECK(out.by_error["ok"] + out.by_error["maybe_delivered"] == 50);
    CHECK(out.wrong_reply == 0);

    sim.restart("server");
    auto r = c.client.remote_addr<EchoProtocol>("echo").call(echo_msg(7), 5s).get();
    REQUIRE(r);
    CHECK(r->id() == 7);
    CHECK(c.client.stats().connections_established >= 2);
  });
}

TEST_CASE("remote sim faults: connections reset at random mid-request: every call ends by its "
          "deadline with an answer or a clear error, never a wrong answer, and later calls "
          "go through",
          "[remote][sim][faults]") {
  cineyma::sim::SimulationOptions options;
  options.reset_ratio = cineyma::sim::Ratio{1, 30};  // one segment in 30 resets its connection
  for_each_seed(options, [&](cineyma::sim::Simulation& sim, ClientSide& c, Outcome& out) {
    int rounds = 0;
    for (; rounds < 8; ++rounds) {
      for (std::uint64_t i = 0; i < 50; ++i) {
        REQUIRE(c.callers[i].try_send(Go{rounds * 100 + i, static_cast<std::uint32_t>(i % 3),
                                         2s}));
      }
      REQUIRE(sim.run_until([&] { return out.done == 50 * (rounds + 1); }, 10s));
    }
    CHECK(out.by_error["late"] == 0);
    CHECK(out.wrong_reply == 0);
    CHECK(out.by_error["ok"] > 0);
    const int failed = out.done - out.by_error["ok"];
    CHECK(failed > 0);  // resets did hit requests in flight
    CHECK(out.by_error["disconnected"] + out.by_error["maybe_delivered"] +
              out.by_error["timeout"] ==
          failed);
    CHECK(sim.probes()["sim: connection reset"] > 0);
    CHECK(c.client.stats().connections_established >= 2);
  });
}
