// Liveness under a partition, on the simulator. The simulator's own fault injection
// (partitions, resets) is being added separately; until then these tests cut the client off
// with a transport decorator: while "partitioned", its outgoing bytes are held back, incoming
// ones are held before the client sees them, and new connections hang — no error anywhere,
// exactly what a partition looks like from one end. Healing releases everything in order.
#include <catch2/catch.hpp>

#include "remote/support.hpp"

#include <deque>
#include <memory>
#include <vector>

namespace {

using namespace remote_support;
using cineyma::ByteStream;
using cineyma::Errc;
using cineyma::Result;
using cineyma::remote::MessageRouter;
using cineyma::remote::RemoteClient;
using cineyma::remote::RemoteServer;
using cineyma::test::SimRuntime;

/// Shared switch (simulation thread only).
struct Partition {
  bool active = false;
  std::vector<std::function<void()>> on_heal;
  void heal() {
    active = false;
    auto actions = std::move(on_heal);
    on_heal.clear();
    for (auto& a : actions) a();
  }
};

class PartitionableStream final : public ByteStream {
 public:
  PartitionableStream(std::unique_ptr<ByteStream> inner, cineyma::Executor& ex,
                      std::shared_ptr<Partition> p)
      : state_(std::make_shared<State>()) {
    state_->inner = std::move(inner);
    state_->ex = &ex;
    state_->partition = std::move(p);
  }
  ~PartitionableStream() override { close(); }

  void async_read_some(std::span<std::byte> into,
                       std::function<void(Result<std::size_t>)> done) override {
    state_->inner->async_read_some(into, [s = state_, done = std::move(done)](
                                             Result<std::size_t> r) mutable {
      if (s->partition->active && !s->closed) {
        // Arrived during the partition: the client sees it only after the heal.
        s->held_read = [done, r] { done(r); };
        s->partition->on_heal.push_back([s] { release_read(s); });
        return;
      }
      done(r);
    });
  }

  void async_write(std::span<const std::byte> bytes,
                   std::function<void(Result<void>)> done) override {
    // Like a kernel send buffer: copied, the write completes; the bytes leave when they can.
    state_->outbound.emplace_back(bytes.begin(), bytes.end());
    state_->ex->post([done = std::move(done)] { done(cineyma::ok()); });
    pump(state_);
  }

  void close() noexcept override {
    if (state_->closed) return;
    state_->closed = true;
    state_->inner->close();
    if (state_->held_read) {
      auto held = std::move(state_->held_read);
      state_->held_read = nullptr;
      state_->ex->post([held = std::move(held)] { held(); });
    }
  }

  cineyma::Endpoint remote_endpoint() const override { return state_->inner->remote_endpoint(); }

 private:
  struct State {
    std::unique_ptr<ByteStream> inner;
    cineyma::Executor* ex = nullptr;
    std::shared_ptr<Partition> partition;
    std::deque<std::vector<std::byte>> outbound;
    bool writing = false;
    bool closed = false;
    std::function<void()> held_read;
  };
  static void release_read(const std::shared_ptr<State>& s) {
    if (!s->held_read) return;
    auto held = std::move(s->held_read);
    s->held_read = nullptr;
    s->ex->post([held = std::move(held)] { held(); });
  }
  static void pump(const std::shared_ptr<State>& s) {
    if (s->writing || s->closed || s->outbound.empty()) return;
    if (s->partition->active) {
      s->partition->on_heal.push_back([s] { pump(s); });
      return;
    }
    s->writing = true;
    auto& front = s->outbound.front();
    s->inner->async_write(front, [s](Result<void>) {
      s->writing = false;
      s->outbound.pop_front();
      pump(s);
    });
  }
  std::shared_ptr<State> state_;
};

class PartitionableTransport final : public cineyma::Transport {
 public:
  PartitionableTransport(cineyma::Environment& inner, std::shared_ptr<Partition> p)
      : inner_(inner), partition_(std::move(p)) {}
  Result<std::unique_ptr<cineyma::Listener>> listen(const Endpoint& at) override {
    return inner_.transport().listen(at);
  }
  void async_connect(const Endpoint& to,
                     std::function<void(Result<std::unique_ptr<ByteStream>>)> done) override {
    if (partition_->active) {  // the SYN is lost; it is retried when the partition heals
      partition_->on_heal.push_back([this, to, done] { async_connect(to, done); });
      return;
    }
    inner_.transport().async_connect(
        to, [this, done](Result<std::unique_ptr<ByteStream>> r) {
          if (!r) {
            done(std::move(r));
            return;
          }
          done(std::unique_ptr<ByteStream>(std::make_unique<PartitionableStream>(
              std::move(*r), inner_.executor(), partition_)));
        });
  }

 private:
  cineyma::Environment& inner_;
  std::shared_ptr<Partition> partition_;
};

/// The client's view of the world: the node's environment, with a partitionable transport.
class ClientEnvironment final : public cineyma::Environment {
 public:
  ClientEnvironment(cineyma::Environment& inner, std::shared_ptr<Partition> p)
      : inner_(inner), transport_(inner, std::move(p)) {}
  cineyma::Executor& executor() noexcept override { return inner_.executor(); }
  cineyma::Clock& clock() noexcept override { return inner_.clock(); }
  cineyma::Random& random() noexcept override { return inner_.random(); }
  cineyma::Transport& transport() noexcept override { return transport_; }
  const std::string& name() const noexcept override { return inner_.name(); }
  bool is_simulated() const noexcept override { return inner_.is_simulated(); }

 private:
  cineyma::Environment& inner_;
  PartitionableTransport transport_;
};

}  // namespace

TEST_CASE("remote sim: a partition yields deadline errors, the silent connection is detected, "
          "and the client reconnects after the heal",
          "[remote][sim][partition]") {
  SimRuntime rt(1234);
  auto partition = std::make_shared<Partition>();
  ClientEnvironment client_env(rt.env(), partition);
  auto echo = rt.system().spawn(Echoer{});
  RemoteServer server(rt.env(), server_options<SimRuntime>("server"));
  REQUIRE(server.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  auto at = server.start();
  REQUIRE(at);
  {
    auto options = client_options(*at, "client");
    options.connect_timeout = 500ms;
    options.liveness_probe_timeout = 500ms;
    options.reconnect_delay_min = 100ms;
    options.reconnect_delay_max = 1s;
    RemoteClient client(client_env, options);
    auto remote = client.remote_addr<EchoProtocol>("echo");
    remote_test::Echo m;
    m.set_id(1);
    REQUIRE(remote.call(m).get());

    partition->active = true;
    // Fault phase: every call ends by its deadline; nothing hangs. The first times out;
    // its silence triggers a ping; the call in flight when the unanswered ping gets the
    // connection closed fails as maybe_delivered; later calls wait for a connection that
    // cannot be made, and time out.
    int timeouts = 0, maybe = 0;
    for (int i = 0; i < 4; ++i) {
      const auto t0 = rt.simulation().now();
      auto r = remote.call(m, 1s).get();
      CHECK(rt.simulation().now() - t0 <= 1s);
      timeouts += r.is(Errc::timeout);
      maybe += r.is(Errc::maybe_delivered);
    }
    CHECK(timeouts == 3);
    CHECK(maybe == 1);
    // The first silent timeout sent a ping that nobody answered: the connection was closed
    // and reconnect attempts keep timing out (their SYNs are lost) with backoff.
    CHECK(client.stats().dead_connections == 1);
    CHECK_FALSE(client.connected());
    rt.advance(5s);
    const auto attempts = client.stats().connect_attempts;
    CHECK(attempts >= 3);
    CHECK(client.stats().connections_established == 1);

    // Heal phase: the client is back within the capped backoff plus a connect.
    partition->heal();
    const auto healed_at = rt.simulation().now();
    REQUIRE(rt.wait_until([&] { return client.connected(); }, 3s));
    CHECK(rt.simulation().now() - healed_at <= 1s + 500ms + 10ms);
    m.set_id(2);
    auto r = remote.call(m).get();
    REQUIRE(r);
    CHECK(r->id() == 2);
    CHECK(client.stats().connections_established == 2);
    client.close();
  }
  stop_server(rt, server);
  rt.advance(1s);
}

TEST_CASE("remote sim: a slow actor is not a dead connection", "[remote][sim][partition]") {
  SimRuntime rt(99);
  auto echo = rt.system().spawn(Echoer{});
  RemoteServer server(rt.env(), server_options<SimRuntime>("server"));
  REQUIRE(server.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  auto at = server.start();
  REQUIRE(at);
  {
    auto options = client_options(*at, "client");
    options.liveness_probe_timeout = 500ms;
    RemoteClient client(rt.env(), options);
    auto remote = client.remote_addr<EchoProtocol>("echo");
    remote_test::Echo slow;
    slow.set_delay_ms(3000);
    CHECK(remote.call(slow, 200ms).get().is(Errc::timeout));
    rt.advance(1s);  // the ping went out and its pong came back at once
    CHECK(client.stats().liveness_probes == 1);
    CHECK(client.stats().dead_connections == 0);
    CHECK(client.connected());
    remote_test::Echo quick;
    quick.set_id(5);
    REQUIRE(rt.wait_until([&] { return client.stats().late_answers == 1; }, 5s));
    auto r = remote.call(quick).get();
    REQUIRE(r);
    CHECK(client.stats().connections_established == 1);
  }
  stop_server(rt, server);
}
