// Hostile and broken peers against a real server on loopback TCP (DESIGN §5, SPEC-original
// §9.2 #15–17): random bytes, a 4 GiB length prefix, a truncated frame, a wrong secret, a
// client that connects and says nothing, hundreds of connections at once. Each is refused or
// closed (with a log line saying why: see the test log), and meanwhile the server keeps
// answering a well-behaved client, with bounded memory.
#include <catch2/catch.hpp>

#include "remote/support.hpp"

#include <cineyma/env/random.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace remote_support;
using cineyma::Errc;
using cineyma::remote::MessageRouter;
using cineyma::remote::RemoteClient;
using cineyma::remote::RemoteServer;
using cineyma::test::RealRuntime;

/// A raw TCP peer: connects, writes what it is given, and notices when the server closes.
class RawPeer {
 public:
  RawPeer(cineyma::Environment& env, const Endpoint& at) : state_(std::make_shared<State>()) {
    env.transport().async_connect(at, [s = state_](
                                          cineyma::Result<std::unique_ptr<cineyma::ByteStream>> r) {
      if (!r) {
        s->closed = true;
        s->connected = true;
        return;
      }
      s->stream = std::move(*r);
      s->connected = true;
      read(s);
    });
  }
  ~RawPeer() {
    if (state_->stream) state_->stream->close();
  }

  bool connected() const { return state_->connected.load(); }
  /// True once the server closed the connection (our read failed).
  bool closed() const { return state_->closed.load(); }

  /// Sends `bytes` (kept alive until written).
  void write(std::string bytes) {
    REQUIRE(state_->stream);
    auto data = std::make_shared<std::string>(std::move(bytes));
    state_->stream->async_write(
        std::as_bytes(std::span<const char>(data->data(), data->size())),
        [data](cineyma::Result<void>) {});
  }

 private:
  struct State {
    std::unique_ptr<cineyma::ByteStream> stream;
    std::atomic<bool> connected{false};
    std::atomic<bool> closed{false};
    std::byte buffer[256];
  };
  static void read(const std::shared_ptr<State>& s) {
    s->stream->async_read_some(s->buffer, [s](cineyma::Result<std::size_t> r) {
      if (!r) {
        s->closed = true;
        return;
      }
      read(s);  // whatever the server says (a Reject), keep reading until it closes
    });
  }
  std::shared_ptr<State> state_;
};

/// Resident memory of this process, in KiB (Linux).
long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

struct Fixture {
  RealRuntime rt;
  std::unique_ptr<RemoteServer> server;
  Endpoint at;
  std::unique_ptr<RemoteClient> good;

  explicit Fixture(std::size_t max_connections = 1024) {
    auto options = server_options<RealRuntime>("server");
    options.handshake_timeout = 1s;
    options.max_frame_bytes = 1 << 20;
    options.max_connections = max_connections;
    server = std::make_unique<RemoteServer>(rt.env(), options);
    auto calc = rt.system().spawn(Calculator{0});
    REQUIRE(server->expose("calc", std::move(MessageRouter().route<remote_test::Add>(calc))));
    auto bound = server->start();
    REQUIRE(bound);
    at = *bound;
    good = std::make_unique<RemoteClient>(rt.env(), client_options(at, "good"));
    require_good_client_served();
  }
  ~Fixture() {
    good.reset();
    server->shutdown();
    rt.wait_until([&] { return server->stats().open_connections == 0; }, 10s);
  }

  void require_good_client_served() {
    static int n = 0;
    ++n;
    auto r = good->remote_addr<CalcProtocol>("calc").call(add(n, 1)).get();
    REQUIRE(r);
    REQUIRE(r->value() == n + 1);
  }
};

}  // namespace

TEST_CASE("bad peer: random bytes are closed", "[remote][bad-peer]") {
  Fixture f;
  cineyma::Prng rng(2024);
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 8; ++i) {
    auto p = std::make_unique<RawPeer>(f.rt.env(), f.at);
    REQUIRE(f.rt.wait_until([&] { return p->connected(); }));
    std::string junk(1 + rng.below(3000), '\0');
    for (char& c : junk) c = static_cast<char>(rng.below(256));
    p->write(junk);
    peers.push_back(std::move(p));
  }
  f.require_good_client_served();
  // Each is closed: as an oversized frame, an undecodable handshake, or (if its junk reads as
  // a short frame still incomplete) by the handshake deadline.
  REQUIRE(f.rt.wait_until([&] {
    for (auto& p : peers) {
      if (!p->closed()) return false;
    }
    return true;
  }));
  const auto s = f.server->stats();
  CHECK(s.oversized_frames + s.protocol_errors + s.handshake_timeouts == 8);
  f.require_good_client_served();
}

TEST_CASE("bad peer: a 4 GiB length prefix is refused before allocating", "[remote][bad-peer]") {
  Fixture f;
  const long before = rss_kib();
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_unique<RawPeer>(f.rt.env(), f.at);
    REQUIRE(f.rt.wait_until([&] { return p->connected(); }));
    p->write(std::string("\xff\xff\xff\xff", 4) + std::string(1000, 'x'));
    peers.push_back(std::move(p));
  }
  REQUIRE(f.rt.wait_until([&] { return f.server->stats().oversized_frames == 20; }));
  for (auto& p : peers) REQUIRE(f.rt.wait_until([&] { return p->closed(); }));
  f.require_good_client_served();
  // 20 peers announcing 4 GiB each cost nothing like 80 GiB (nor even one frame's worth).
  CHECK(rss_kib() - before < 32 * 1024);
}

TEST_CASE("bad peer: a truncated frame, and a silent client, meet the handshake deadline",
          "[remote][bad-peer]") {
  Fixture f;
  RawPeer truncated(f.rt.env(), f.at);
  RawPeer silent(f.rt.env(), f.at);
  REQUIRE(f.rt.wait_until([&] { return truncated.connected() && silent.connected(); }));
  truncated.write(std::string("\0\0\0\x64", 4) + "only ten b");  // announces 100, sends 10
  f.require_good_client_served();  // served while those two hang around
  REQUIRE(f.rt.wait_until([&] { return truncated.closed() && silent.closed(); }));
  CHECK(f.server->stats().handshake_timeouts == 2);
  f.require_good_client_served();
}

TEST_CASE("bad peer: a wrong secret is refused, and so is a foreign cluster",
          "[remote][bad-peer]") {
  Fixture f;
  auto options = client_options(f.at, "intruder");
  options.handshake.secret = "not-the-secret";
  options.reconnect = false;
  RemoteClient intruder(f.rt.env(), options);
  CHECK(intruder.connect().get().is(Errc::auth_failed));
  CHECK(intruder.remote_addr<CalcProtocol>("calc").call(add(1, 1)).get().is(Errc::auth_failed));

  auto foreign = client_options(f.at, "foreigner");
  foreign.handshake.cluster_name = "elsewhere";
  foreign.reconnect = false;
  RemoteClient foreigner(f.rt.env(), foreign);
  CHECK(foreigner.connect().get().is(Errc::auth_failed));

  REQUIRE(f.rt.wait_until([&] { return f.server->stats().auth_failures >= 2; }));
  f.require_good_client_served();
}

TEST_CASE("bad peer: 500 connections opened at once", "[remote][bad-peer]") {
  Fixture f(300);  // the limit is below 500: some are refused at accept
  const long before = rss_kib();
  std::vector<std::unique_ptr<RawPeer>> peers;
  for (int i = 0; i < 500; ++i) peers.push_back(std::make_unique<RawPeer>(f.rt.env(), f.at));
  REQUIRE(f.rt.wait_until([&] {
    for (auto& p : peers) {
      if (!p->connected()) return false;
    }
    return true;
  }));
  REQUIRE(f.rt.wait_until([&] { return f.server->stats().accepted >= 501; }));
  // The well-behaved client already holds one of the 300 slots and keeps being served.
  f.require_good_client_served();
  const auto during = f.server->stats();
  CHECK(during.open_connections <= 300);
  CHECK(during.refused >= 200);
  // Everyone who was accepted and stays silent is closed by the handshake deadline.
  REQUIRE(f.rt.wait_until([&] {
    for (auto& p : peers) {
      if (!p->closed()) return false;
    }
    return true;
  }));
  CHECK(f.server->stats().handshake_timeouts + f.server->stats().refused == 500);
  f.require_good_client_served();
  CHECK(rss_kib() - before < 64 * 1024);
}

TEST_CASE("remote: without a secret a server accepts loopback clients", "[remote][handshake]") {
  RealRuntime rt;
  auto calc = rt.system().spawn(Calculator{0});
  auto options = server_options<RealRuntime>("open-server");
  options.handshake.secret.reset();
  RemoteServer server(rt.env(), options);
  REQUIRE(server.expose("calc", std::move(MessageRouter().route<remote_test::Add>(calc))));
  auto at = server.start();
  REQUIRE(at);
  {
    auto c = client_options(*at, "local-client");
    c.handshake.secret.reset();
    RemoteClient client(rt.env(), c);
    auto r = client.remote_addr<CalcProtocol>("calc").call(add(20, 22)).get();
    REQUIRE(r);
    CHECK(r->value() == 42);
  }
  server.shutdown();
  REQUIRE(rt.wait_until([&] { return server.stats().open_connections == 0; }));
}

TEST_CASE("remote: without a secret a server refuses peers that are not on loopback (sim)",
          "[remote][handshake]") {
  // Under simulation peers are named by node: "node-2" is not loopback.
  cineyma::sim::Simulation sim(11);
  auto& n1 = sim.add_node("node-1");
  auto& n2 = sim.add_node("node-2");
  {
    cineyma::remote::ServerOptions options;
    options.listen_at = {"", 7000};
    options.handshake.node_id = "node-1";
    RemoteServer server(n1.environment(), options);
    REQUIRE(server.start());
    cineyma::remote::ClientOptions c;
    c.server = {"node-1", 7000};
    c.handshake.node_id = "node-2";
    c.reconnect = false;
    {
      RemoteClient client(n2.environment(), c);
      CHECK(client.connect().get().is(Errc::auth_failed));
    }
    CHECK(server.stats().auth_failures == 1);
    server.shutdown();
    sim.run_for(1s);
  }
  sim.run_for(1s);
}

TEST_CASE("bad peer: before the handshake, frames are limited to handshake size",
          "[remote][bad-peer]") {
  // 1 MiB is within the server's max_frame_bytes, but not from a peer nobody has
  // authenticated yet: refused at the header, before a byte of the body is buffered.
  Fixture f;
  RawPeer p(f.rt.env(), f.at);
  REQUIRE(f.rt.wait_until([&] { return p.connected(); }));
  p.write(std::string("\x00\x10\x00\x00", 4) + std::string(100, 'h'));
  REQUIRE(f.rt.wait_until([&] { return p.closed(); }));
  CHECK(f.server->stats().oversized_frames == 1);
  f.require_good_client_served();
}
