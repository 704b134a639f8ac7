// Remote actors under the simulator only: reconnect backoff in virtual time, deadline errors
// while the server is unreachable, and determinism of a whole remote scenario (same seed, same
// trace). (Partitions and injected resets arrive with the simulator's fault injection; a peer
// closing is the reset available today, tested on both runtimes in remote_test.cpp.)
#include <catch2/catch.hpp>

#include "remote/support.hpp"

#include <atomic>
#include <memory>

namespace {

using namespace remote_support;
using cineyma::Errc;
using cineyma::remote::MessageRouter;
using cineyma::remote::RemoteClient;
using cineyma::remote::RemoteServer;
using cineyma::test::SimRuntime;

}  // namespace

TEST_CASE("remote sim: with the server away, calls meet their deadline, attempts back off "
          "exponentially up to the cap, and the client reconnects when the server returns",
          "[remote][sim]") {
  SimRuntime rt(42);
  auto echo = rt.system().spawn(Echoer{});
  const Endpoint at{"node-1", 7100};
  auto options = client_options(at, "client");
  options.reconnect_delay_min = 100ms;
  options.reconnect_delay_max = 1s;
  RemoteClient client(rt.env(), options);

  // Nobody listens yet: the call waits for a connection until its deadline.
  remote_test::Echo m;
  m.set_id(1);
  const auto t0 = rt.simulation().now();
  auto r = client.remote_addr<EchoProtocol>("echo").call(m, 2s).get();
  CHECK(r.is(Errc::timeout));
  CHECK(rt.simulation().now() - t0 >= 2s);

  // Over 10 s of virtual time from the first attempt: gaps are in [d/2, d] with d = 100 ms,
  // 200, 400, 800, then 1 s capped. At least 1 + 4 + 8 attempts (gaps at their longest),
  // at most 1 + 4 + 18 (at their shortest).
  rt.advance(10s - (rt.simulation().now() - t0));
  const auto attempts = client.stats().connect_attempts;
  CHECK(attempts >= 13);
  CHECK(attempts <= 23);
  CHECK(client.stats().connections_established == 0);

  auto server_opts = server_options<SimRuntime>("server");
  server_opts.listen_at = {"", 7100};
  RemoteServer server(rt.env(), server_opts);
  REQUIRE(server.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  REQUIRE(server.start());
  // The next attempt comes within the capped delay.
  const auto back = rt.simulation().now();
  REQUIRE(rt.wait_until([&] { return client.connected(); }, 2s));
  CHECK(rt.simulation().now() - back <= 1s + 10ms);
  m.set_id(2);
  auto ok = client.remote_addr<EchoProtocol>("echo").call(m).get();
  REQUIRE(ok);
  CHECK(ok->id() == 2);
  client.close();
  stop_server(rt, server);
}

namespace {

/// A remote scenario whose trace must depend on the seed only: a server, a client, 200
/// concurrent calls with varied delays, a server restart in the middle, more calls.
std::uint64_t scenario_trace(std::uint64_t seed) {
  SimRuntime rt(seed);
  auto e1 = rt.system().spawn(Echoer{});
  auto e2 = rt.system().spawn(Echoer{});
  auto server_opts = server_options<SimRuntime>("server");
  server_opts.listen_at = {"", 7200};
  auto server = std::make_unique<RemoteServer>(rt.env(), server_opts);
  REQUIRE(server->expose("a", std::move(MessageRouter().route<remote_test::Echo>(e1))));
  REQUIRE(server->expose("b", std::move(MessageRouter().route<remote_test::Echo>(e2))));
  REQUIRE(server->start());
  auto options = client_options({"node-1", 7200}, "client");
  options.reconnect_delay_min = 10ms;
  RemoteClient client(rt.env(), options);
  auto done = std::make_shared<std::atomic<int>>(0);
  auto one = [&client, done](int i) -> Task<void> {
    remote_test::Echo m;
    m.set_id(static_cast<std::uint64_t>(i));
    m.set_delay_ms(static_cast<std::uint32_t>(i % 13));
    (void)co_await client.remote_addr<EchoProtocol>(i % 2 ? "a" : "b").call(m, 1s);
    done->fetch_add(1);
  };
  for (int i = 0; i < 200; ++i) spawn(rt.env(), one(i));
  REQUIRE(rt.wait_until([&] { return done->load() == 200; }));
  stop_server(rt, *server);
  server = std::make_unique<RemoteServer>(rt.env(), server_opts);
  REQUIRE(server->expose("a", std::move(MessageRouter().route<remote_test::Echo>(e1))));
  REQUIRE(server->start());
  REQUIRE(rt.wait_until([&] { return client.connected(); }));
  for (int i = 0; i < 50; ++i) spawn(rt.env(), one(i));
  REQUIRE(rt.wait_until([&] { return done->load() == 250; }));
  client.close();
  stop_server(rt, *server);
  return rt.simulation().trace_hash();
}

}  // namespace

TEST_CASE("remote sim: one seed, one trace (handshake nonces, backoff jitter and all)",
          "[remote][sim][determinism]") {
  const std::uint64_t a = scenario_trace(7);
  const std::uint64_t b = scenario_trace(7);
  const std::uint64_t c = scenario_trace(8);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("remote sim: limits answer instead of growing: requests in flight per connection, "
          "frame size",
          "[remote][sim]") {
  SimRuntime rt(5);
  auto echo = rt.system().spawn(Echoer{});
  auto server_opts = server_options<SimRuntime>("server");
  server_opts.max_in_flight_per_connection = 10;
  server_opts.max_frame_bytes = 64 << 10;
  RemoteServer server(rt.env(), server_opts);
  REQUIRE(server.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  auto at = server.start();
  REQUIRE(at);
  {
    auto options = client_options(*at, "client");
    options.max_frame_bytes = 64 << 10;
    RemoteClient client(rt.env(), options);
    REQUIRE(client.connect().get());
    auto ok = std::make_shared<std::atomic<int>>(0);
    auto full = std::make_shared<std::atomic<int>>(0);
    auto one = [&client, ok, full]() -> Task<void> {
      remote_test::Echo m;
      m.set_delay_ms(100);  // all 25 are in flight at once
      auto r = co_await client.remote_addr<EchoProtocol>("echo").call(m);
      if (r) ok->fetch_add(1);
      if (r.is(Errc::mailbox_full)) full->fetch_add(1);
    };
    for (int i = 0; i < 25; ++i) spawn(rt.env(), one());
    REQUIRE(rt.wait_until([&] { return ok->load() + full->load() == 25; }));
    CHECK(ok->load() == 10);
    CHECK(full->load() == 15);

    // A request larger than the frame limit fails at the sender, and the connection lives.
    remote_test::Echo big;
    big.set_data(std::string(64 << 10, 'x'));
    CHECK(client.remote_addr<EchoProtocol>("echo").call(big).get().is(Errc::frame_too_large));
    remote_test::Echo small;
    small.set_id(3);
    auto r = client.remote_addr<EchoProtocol>("echo").call(small).get();
    REQUIRE(r);
    CHECK(r->id() == 3);
    CHECK(client.stats().connections_established == 1);
  }
  stop_server(rt, server);
}
