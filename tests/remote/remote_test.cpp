// Remote actors end to end (DESIGN §5; SPEC-original §7 tests 28–36 adapted to the typed API),
// every scenario on both runtimes: the simulated network and real loopback TCP.
#include <catch2/catch.hpp>

#include "remote/support.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace remote_support;
using cineyma::Errc;
using cineyma::remote::Envelope;
using cineyma::remote::EnvelopeKind;
using cineyma::remote::MessageRouter;
using cineyma::remote::RemoteClient;
using cineyma::remote::RemoteServer;
using cineyma::remote::Reply;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

struct Ask {
  int a;
  using reply = int;
};

/// Forwards each Ask to a remote calculator from an async handler.
class Proxy : public cineyma::Actor<Proxy> {
 public:
  explicit Proxy(cineyma::remote::RemoteAddr<CalcProtocol> r) : remote_(std::move(r)) {}
  Task<int> handle(Ask m, Context&) {
    auto r = co_await remote_.call(add(m.a, 1));
    co_return r ? r->value() : -1;
  }

 private:
  cineyma::remote::RemoteAddr<CalcProtocol> remote_;
};

// A protocol decides what compiles: requests only through call/send, one-way messages only
// through do_send, and nothing outside the protocol.
template <typename Addr, typename M>
concept CanCall = requires(const Addr& a, const M& m) { a.call(m); };
template <typename Addr, typename M>
concept CanTell = requires(const Addr& a, const M& m) { a.do_send(m); };
using CalcAddr = cineyma::remote::RemoteAddr<CalcProtocol>;
static_assert(CanCall<CalcAddr, remote_test::Add>);
static_assert(!CanCall<CalcAddr, remote_test::Ping>);  // not in the protocol
static_assert(!CanCall<CalcAddr, remote_test::Note>);  // one-way, not a request
static_assert(CanTell<CalcAddr, remote_test::Note>);
static_assert(!CanTell<CalcAddr, remote_test::Add>);
static_assert(std::is_same_v<cineyma::remote::response_t<CalcProtocol, remote_test::Add>,
                             remote_test::AddResult>);
static_assert(std::is_same_v<cineyma::remote::response_t<PingProtocol, remote_test::Ping>,
                             remote_test::Pong>);

}  // namespace

RUNTIME_TEST_CASE("remote: a framed envelope crosses the transport (SPEC test 30)",
                  "[remote][transport]") {
  TestType rt;
  cineyma::Environment& env = rt.env();
  auto listener = env.transport().listen(listen_endpoint<TestType>());
  REQUIRE(listener);
  const Endpoint at = (*listener)->local_endpoint();

  std::unique_ptr<cineyma::ByteStream> server_side, client_side;
  std::atomic<int> ready{0};
  (*listener)->async_accept([&](cineyma::Result<std::unique_ptr<cineyma::ByteStream>> r) {
    REQUIRE(r);
    server_side = std::move(*r);
    ready.fetch_add(1);
  });
  env.transport().async_connect(at, [&](cineyma::Result<std::unique_ptr<cineyma::ByteStream>> r) {
    REQUIRE(r);
    client_side = std::move(*r);
    ready.fetch_add(1);
  });
  REQUIRE(rt.wait_until([&] { return ready.load() == 2; }));

  Envelope sent;
  sent.message_type = "remote_test.Ping";
  remote_test::Ping ping;
  ping.set_n(5);
  sent.payload = ping.SerializeAsString();
  sent.correlation_id = 123;
  sent.sender_node = "node-a";
  sent.target_actor = "actor-1";
  std::string wire;
  REQUIRE(cineyma::remote::append_envelope_frame(wire, sent, 1 << 20));
  std::atomic<bool> written{false};
  client_side->async_write(bytes_of(wire), [&](cineyma::Result<void> r) {
    REQUIRE(r);
    written = true;
  });

  cineyma::remote::FrameDecoder decoder;
  std::optional<Envelope> received;
  std::mutex mu;
  std::function<void()> read = [&] {
    server_side->async_read_some(decoder.read_buffer(), [&](cineyma::Result<std::size_t> r) {
      REQUIRE(r);
      std::lock_guard<std::mutex> lock(mu);
      decoder.commit(*r);
      auto f = decoder.next_frame();
      REQUIRE(f);
      if (*f) {
        auto e = cineyma::remote::decode_envelope(**f);
        REQUIRE(e);
        received = std::move(*e);
      } else {
        read();
      }
    });
  };
  read();
  REQUIRE(rt.wait_until([&] {
    std::lock_guard<std::mutex> lock(mu);
    return received.has_value() && written.load();
  }));
  CHECK(received->correlation_id == 123);
  CHECK(received->sender_node == "node-a");
  CHECK(received->target_actor == "actor-1");
  auto payload = cineyma::remote::decode_payload<remote_test::Ping>(received->payload);
  REQUIRE(payload);
  CHECK(payload->n() == 5);

  client_side->close();
  server_side->close();
  (*listener)->close();
  rt.advance(100ms);
}

RUNTIME_TEST_CASE("remote: typed call to an exposed actor (SPEC tests 33, 34)",
                  "[remote][server][client]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{10});
  RemoteServer server(rt.env(), server_options<TestType>("calc-server"));
  MessageRouter router;
  router.route<remote_test::Add>(calc);
  REQUIRE(server.expose("calc", std::move(router)));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    auto remote = client.remote_addr<CalcProtocol>("calc");
    auto r = remote.call(add(2, 3)).get();
    REQUIRE(r);
    CHECK(r->value() == 15);
    // Many sequential calls reuse the one connection.
    for (int i = 0; i < 20; ++i) {
      auto s = remote.call(add(i, i)).get();
      REQUIRE(s);
      CHECK(s->value() == 10 + 2 * i);
    }
    CHECK(client.stats().connections_established == 1);
    CHECK(client.connected());
  }
  stop_server(rt, server);
  CHECK(server.stats().established == 1);
  CHECK(server.stats().closed_with_error == 0);
}

namespace {
std::string this_thread_tag() {
  std::ostringstream os;
  os << std::this_thread::get_id();
  return os.str();
}

/// Answers each Echo with the thread its handler ran on.
class ThreadTeller : public cineyma::Actor<ThreadTeller> {
 public:
  remote_test::EchoReply handle(const remote_test::Echo& m, Context&) {
    remote_test::EchoReply r;
    r.set_id(m.id());
    r.set_data(this_thread_tag());
    return r;
  }
  remote_test::AddResult handle(const remote_test::Boom&, Context&) {
    throw std::runtime_error("boom, on whichever thread");
  }
};
}  // namespace

TEST_CASE("remote: a lone request to an idle actor is handled on the transport thread "
          "(inline_dispatch), and answered from there",
          "[remote][server][real][inline]") {
  using Probe = cineyma::remote::Protocol<cineyma::remote::Rpc<remote_test::Echo>,
                                          cineyma::remote::Rpc<remote_test::Boom>,
                                          cineyma::remote::Rpc<remote_test::Ping, remote_test::Pong>>;
  for (const bool inline_dispatch : {true, false}) {
    CAPTURE(inline_dispatch);
    cineyma::test::RealRuntime rt;
    auto teller = rt.system().spawn(ThreadTeller{});
    // A function route runs on the transport thread: it tells us which thread that is.
    std::mutex m;
    std::string transport_thread;
    MessageRouter router;
    router.route<remote_test::Echo>(teller);
    router.route<remote_test::Boom>(teller);
    router.route<remote_test::Ping>([&](const remote_test::Ping& p) {
      std::lock_guard lock(m);
      transport_thread = this_thread_tag();
      remote_test::Pong r;
      r.set_n(p.n());
      return r;
    });
    auto so = server_options<cineyma::test::RealRuntime>("teller-server");
    so.inline_dispatch = inline_dispatch;
    RemoteServer server(rt.env(), so);
    REQUIRE(server.expose("teller", std::move(router)));
    auto at = server.start();
    REQUIRE(at);
    {
      RemoteClient client(rt.env(), client_options(*at, "client"));
      auto remote = client.remote_addr<Probe>("teller");
      remote_test::Ping ping;
      ping.set_n(7);
      REQUIRE(remote.call(ping).get());
      const std::string transport = [&] {
        std::lock_guard lock(m);
        return transport_thread;
      }();
      REQUIRE(!transport.empty());
      // One call at a time: each is the only request in flight, to an idle actor.
      constexpr int kCalls = 200;
      int on_transport = 0;
      int wrong = 0;
      for (int i = 0; i < kCalls; ++i) {
        remote_test::Echo e;
        e.set_id(static_cast<std::uint64_t>(i));
        auto r = remote.call(e).get();
        if (!r || r->id() != static_cast<std::uint64_t>(i)) ++wrong;
        if (r && r->data() == transport) ++on_transport;
      }
      CHECK(wrong == 0);
      CHECK(on_transport == (inline_dispatch ? kCalls : 0));
      // A handler that throws on the transport thread fails that request, like on a worker;
      // supervision stops the (top-level) actor, and the server goes on serving.
      auto boom = remote.call(remote_test::Boom{}).get();
      REQUIRE_FALSE(boom);
      CHECK(boom.error() == cineyma::make_error_code(Errc::handler_failed));
      auto after = remote.call(ping).get();
      REQUIRE(after);
      CHECK(after->n() == 7);
    }
    stop_server(rt, server);
  }
}

TEST_CASE("remote: plain threads blocking on calls over one connection read it for each "
          "other: each gets its own answer, and closing the client ends a blocked wait",
          "[remote][client][real]") {
  // A thread blocked in get() reads the connection itself while it waits, and delivers what
  // it reads to whoever it belongs to; the others wait for it (or for the io thread).
  cineyma::test::RealRuntime rt;
  RemoteServer server(rt.env(), server_options<cineyma::test::RealRuntime>("server"));
  const auto echoers = expose_echoers(rt, server, 3);
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    REQUIRE(client.connect().get());
    constexpr int kThreads = 6;
    constexpr int kCalls = 150;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&client, &wrong, t] {
        for (int i = 0; i < kCalls; ++i) {
          const int n = t * kCalls + i;
          remote_test::Echo m;
          m.set_id(static_cast<std::uint64_t>(n));
          m.set_data("data-" + std::to_string(n * 31));
          m.set_delay_ms(static_cast<std::uint32_t>(n % 3 == 0 ? 1 : 0));  // overlap, reorder
          auto r = client.remote_addr<EchoProtocol>("echo-" + std::to_string(n % 3))
                       .call(m, 30s)
                       .get();
          if (!r || r->id() != static_cast<std::uint64_t>(n) ||
              r->data() != "data-" + std::to_string(n * 31)) {
            wrong.fetch_add(1);
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong.load() == 0);
    CHECK(client.stats().connections_established == 1);
    CHECK(client.stats().calls_timed_out == 0);

    // A thread blocked on a slow answer, reading the socket meanwhile: closing the client
    // from here fails its call at once (it was sent: maybe_delivered), not at its deadline.
    const auto before = server.stats().requests;
    std::atomic<int> outcome{-1};
    std::thread blocked([&client, &outcome] {
      remote_test::Echo slow;
      slow.set_delay_ms(3000);
      auto r = client.remote_addr<EchoProtocol>("echo-0").call(slow, 60s).get();
      outcome.store(r ? 0 : r.error().value());
    });
    REQUIRE(rt.wait_until([&] { return server.stats().requests == before + 1; }));
    client.close();
    blocked.join();
    CHECK(outcome.load() == static_cast<int>(Errc::maybe_delivered));
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: raw send returns the answer envelope (SPEC tests 31, 32, 35)",
                  "[remote][server][client]") {
  TestType rt;
  RemoteServer server(rt.env(), server_options<TestType>("server-node"));
  std::string seen_sender;
  std::mutex mu;
  MessageRouter router;
  // A raw handler: answers Add by hand and records who asked.
  router.route_type("remote_test.Add", [&](Envelope request, Reply reply) {
    remote_test::Add m;
    REQUIRE(m.ParseFromString(request.payload));
    {
      std::lock_guard<std::mutex> lock(mu);
      seen_sender = request.sender_node;
    }
    remote_test::AddResult r;
    r.set_value(m.a() + m.b());
    reply.respond(r);
  });
  REQUIRE(server.expose("adder", std::move(router)));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client-7"));
    auto remote = client.remote_addr<CalcProtocol>("adder");
    auto answer = remote.send(add(100, 7)).get();
    REQUIRE(answer);
    CHECK(answer->kind == EnvelopeKind::response);
    CHECK(answer->correlation_id > 0);
    CHECK(answer->sender_node == "server-node");
    CHECK(answer->message_type == "remote_test.AddResult");
    auto value = cineyma::remote::decode_payload<remote_test::AddResult>(answer->payload);
    REQUIRE(value);
    CHECK(value->value() == 107);
    std::lock_guard<std::mutex> lock(mu);
    CHECK(seen_sender == "client-7");  // the identity the handshake established
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: two servers with the same node name answer their own clients "
                  "(SPEC test 36)",
                  "[remote][server][client]") {
  TestType rt;
  auto a = rt.system().spawn(Calculator{100});
  auto b = rt.system().spawn(Calculator{997});
  RemoteServer server_a(rt.env(), server_options<TestType>("calc-server"));
  RemoteServer server_b(rt.env(), server_options<TestType>("calc-server"));
  REQUIRE(server_a.expose("calc", std::move(MessageRouter().route<remote_test::Add>(a))));
  REQUIRE(server_b.expose("calc", std::move(MessageRouter().route<remote_test::Add>(b))));
  auto at_a = server_a.start();
  auto at_b = server_b.start();
  REQUIRE(at_a);
  REQUIRE(at_b);
  {
    RemoteClient client_a(rt.env(), client_options(*at_a, "c1"));
    RemoteClient client_b(rt.env(), client_options(*at_b, "c2"));
    auto ra = client_a.remote_addr<CalcProtocol>("calc").call(add(2, 3)).get();
    auto rb = client_b.remote_addr<CalcProtocol>("calc").call(add(1, 1)).get();
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(ra->value() == 105);
    CHECK(rb->value() == 999);
  }
  stop_server(rt, server_a);
  stop_server(rt, server_b);
}

RUNTIME_TEST_CASE("remote: every failure at the server is an error answer, never silence",
                  "[remote][server][client]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{0});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  MessageRouter router;
  router.route<remote_test::Add>(calc);
  router.route<remote_test::Boom>(calc);
  REQUIRE(server.expose("calc", std::move(router)));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    // Unknown target actor.
    auto nobody = client.remote_addr<CalcProtocol>("nobody").call(add(1, 2)).get();
    CHECK(nobody.is(Errc::not_found));
    // Unknown message type at a known actor.
    remote_test::Ping ping;
    auto unknown = client.remote_addr<PingProtocol>("calc").call(ping).get();
    CHECK(unknown.is(Errc::unknown_message_type));
    // A payload that is not the routed type.
    Envelope garbage;
    garbage.message_type = "remote_test.Add";
    garbage.payload = std::string("\xff\xff\xff\xff", 4);
    garbage.target_actor = "calc";
    auto undecodable = client.send(garbage).get();
    REQUIRE(undecodable);
    CHECK(undecodable->kind == EnvelopeKind::error);
    CHECK(undecodable->error_code == Errc::decode_error);
    // The actor's handler throws.
    auto boom = client.remote_addr<CalcProtocol>("calc").call(remote_test::Boom()).get();
    CHECK(boom.is(Errc::handler_failed));
    // ... and the actor is stopped now (default strategy): the next call says so.
    REQUIRE(rt.wait_until([&] { return !calc.is_alive(); }));
    auto after = client.remote_addr<CalcProtocol>("calc").call(add(1, 1)).get();
    CHECK(after.is(Errc::actor_stopped));
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: a fallback handler takes unrouted types", "[remote][server]") {
  TestType rt;
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  MessageRouter router;
  router.fallback([](Envelope request, Reply reply) {
    remote_test::Pong pong;
    pong.set_n(request.message_type.size());
    reply.respond(pong);
  });
  REQUIRE(server.expose("any", std::move(router)));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    remote_test::Ping ping;
    auto r = client.remote_addr<PingProtocol>("any").call(ping).get();
    REQUIRE(r);
    CHECK(r->n() == std::string("remote_test.Ping").size());
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: one-way messages reach the actor", "[remote][server][client]") {
  TestType rt;
  auto count = std::make_shared<std::atomic<int>>(0);
  auto notes = rt.system().spawn(NoteTaker{count});
  auto calc = rt.system().spawn(Calculator{0});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  REQUIRE(server.expose("notes", std::move(MessageRouter().route<remote_test::Note>(notes))));
  REQUIRE(server.expose("calc", std::move(MessageRouter().route<remote_test::Add>(calc))));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    auto remote = client.remote_addr<CalcProtocol>("notes");
    remote_test::Note note;
    note.set_text("hello");
    // Queued before the connection exists; sent once it is established.
    for (int i = 0; i < 10; ++i) REQUIRE(remote.do_send(note));
    REQUIRE(rt.wait_until([&] { return count->load() == 10; }));
    // A call after one-way messages on the same connection: FIFO per connection and actor.
    REQUIRE(client.remote_addr<CalcProtocol>("calc").call(add(1, 1)).get());
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: requests on one connection are pipelined and answered out of order",
                  "[remote][server][client]") {
  TestType rt;
  auto slow = rt.system().spawn(Echoer{});
  auto fast = rt.system().spawn(Echoer{});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  REQUIRE(server.expose("slow", std::move(MessageRouter().route<remote_test::Echo>(slow))));
  REQUIRE(server.expose("fast", std::move(MessageRouter().route<remote_test::Echo>(fast))));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    REQUIRE(client.connect().get());
    auto order = std::make_shared<std::vector<std::uint64_t>>();
    auto mu = std::make_shared<std::mutex>();
    auto run = [&](std::string actor, std::uint64_t id, std::uint32_t delay_ms) -> Task<void> {
      remote_test::Echo m;
      m.set_id(id);
      m.set_delay_ms(delay_ms);
      auto r = co_await client.remote_addr<EchoProtocol>(actor).call(m);
      std::lock_guard<std::mutex> lock(*mu);
      order->push_back(r ? r->id() : 0);
    };
    spawn(rt.env(), run("slow", 1, 500));  // sent first
    spawn(rt.env(), run("fast", 2, 0));    // sent second, answered first
    REQUIRE(rt.wait_until([&] {
      std::lock_guard<std::mutex> lock(*mu);
      return order->size() == 2;
    }));
    std::lock_guard<std::mutex> lock(*mu);
    CHECK(*order == std::vector<std::uint64_t>{2, 1});
    CHECK(client.stats().connections_established == 1);
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: 1,000 concurrent calls over one connection each get their own reply",
                  "[remote][server][client]") {
  TestType rt;
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  const auto echoers = expose_echoers(rt, server, 4);
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    constexpr int kCalls = 1000;
    auto good = std::make_shared<std::atomic<int>>(0);
    auto done = std::make_shared<std::atomic<int>>(0);
    auto one = [&client, good, done](int i) -> Task<void> {
      remote_test::Echo m;
      m.set_id(static_cast<std::uint64_t>(i));
      m.set_data("payload-" + std::to_string(i * 7919));
      m.set_delay_ms(static_cast<std::uint32_t>(i % 7));  // answers leave out of order
      auto r = co_await client.remote_addr<EchoProtocol>("echo-" + std::to_string(i % 4))
                   .call(m, 30s);
      if (r && r->id() == static_cast<std::uint64_t>(i) &&
          r->data() == "payload-" + std::to_string(i * 7919)) {
        good->fetch_add(1);
      }
      done->fetch_add(1);
    };
    for (int i = 0; i < kCalls; ++i) spawn(rt.env(), one(i));
    REQUIRE(rt.wait_until([&] { return done->load() == kCalls; }, 60s));
    CHECK(good->load() == kCalls);
    CHECK(client.stats().connections_established == 1);
    CHECK(server.stats().requests == static_cast<std::uint64_t>(kCalls));
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: a remote call is awaitable from an async handler",
                  "[remote][client]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{1000});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  REQUIRE(server.expose("calc", std::move(MessageRouter().route<remote_test::Add>(calc))));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    auto proxy = rt.system().spawn(Proxy{client.remote_addr<CalcProtocol>("calc")});
    auto r = proxy.send(Ask{41}).get();
    REQUIRE(r);
    CHECK(*r == 1042);
    proxy.stop();
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: a call past its deadline fails with timeout, the late answer is "
                  "dropped",
                  "[remote][client]") {
  TestType rt;
  auto echo = rt.system().spawn(Echoer{});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  REQUIRE(server.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    remote_test::Echo slow;
    slow.set_delay_ms(1000);
    auto r = client.remote_addr<EchoProtocol>("echo").call(slow, 200ms).get();
    CHECK(r.is(Errc::timeout));
    CHECK(client.stats().calls_timed_out == 1);
    REQUIRE(rt.wait_until([&] { return client.stats().late_answers == 1; }));
    // The connection is still good.
    remote_test::Echo quick;
    quick.set_id(9);
    auto q = client.remote_addr<EchoProtocol>("echo").call(quick).get();
    REQUIRE(q);
    CHECK(q->id() == 9);
  }
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: a server going away mid-request fails the call without hanging, the "
                  "client reconnects to its successor",
                  "[remote][client]") {
  TestType rt;
  auto echo = rt.system().spawn(Echoer{});
  auto first = std::make_unique<RemoteServer>(rt.env(), server_options<TestType>("server"));
  REQUIRE(first->expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  auto at = first->start();
  REQUIRE(at);
  auto options = client_options(*at, "client");
  options.reconnect_delay_min = 20ms;
  options.reconnect_delay_max = 200ms;
  RemoteClient client(rt.env(), options);
  REQUIRE(client.connect().get());

  auto outcome = std::make_shared<std::atomic<int>>(-1);
  auto ask = [&client, outcome]() -> Task<void> {
    remote_test::Echo m;
    m.set_delay_ms(1000);  // still pending when the server goes
    auto r = co_await client.remote_addr<EchoProtocol>("echo").call(m, 30s);
    outcome->store(r ? 0 : r.error().value());
  };
  spawn(rt.env(), ask());
  REQUIRE(rt.wait_until([&] { return first->stats().requests == 1; }));
  stop_server(rt, *first);  // the peer closes: a reset as far as the client knows
  REQUIRE(rt.wait_until([&] { return outcome->load() != -1; }, 5s));
  CHECK(outcome->load() == static_cast<int>(Errc::maybe_delivered));
  first.reset();

  // A successor on the same endpoint: the client finds it by itself (backoff + jitter).
  auto successor_options = server_options<TestType>("server");
  successor_options.listen_at = *at;
  RemoteServer successor(rt.env(), successor_options);
  REQUIRE(successor.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  REQUIRE(successor.start());
  REQUIRE(rt.wait_until([&] { return client.connected(); }, 10s));
  remote_test::Echo m;
  m.set_id(77);
  auto r = client.remote_addr<EchoProtocol>("echo").call(m).get();
  REQUIRE(r);
  CHECK(r->id() == 77);
  CHECK(client.stats().connections_established == 2);
  client.close();
  stop_server(rt, successor);
}

RUNTIME_TEST_CASE("remote: connect has a deadline, nothing listening is reported, not waited on",
                  "[remote][client]") {
  TestType rt;
  // A listener that never accepts: TCP connects (backlog), the handshake never answers.
  auto silent = rt.env().transport().listen(listen_endpoint<TestType>());
  REQUIRE(silent);
  auto options = client_options((*silent)->local_endpoint(), "client");
  options.connect_timeout = 300ms;
  options.reconnect = false;
  {
    RemoteClient client(rt.env(), options);
    auto r = client.connect().get();
    CHECK(r.is(Errc::timeout));
    // A call fails within its own deadline too.
    auto c = client.remote_addr<CalcProtocol>("calc").call(add(1, 1), 1s).get();
    CHECK((c.is(Errc::timeout) || c.is(Errc::disconnected)));
  }
  (*silent)->close();

  // Nobody at all on that port now: refused, quickly (well before any deadline).
  {
    options.connect_timeout = 30s;
    RemoteClient client(rt.env(), options);
    auto r = client.connect().get();
    CHECK(r.is(Errc::disconnected));
    auto c = client.remote_addr<CalcProtocol>("calc").call(add(1, 1), 30s).get();
    CHECK(c.is(Errc::disconnected));
    CHECK(client.stats().connect_attempts == 2);
  }
  rt.advance(100ms);
}

RUNTIME_TEST_CASE("remote: the shared secret decides", "[remote][handshake]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{0});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  REQUIRE(server.expose("calc", std::move(MessageRouter().route<remote_test::Add>(calc))));
  auto at = server.start();
  REQUIRE(at);
  {
    auto bad = client_options(*at, "intruder");
    bad.handshake.secret = "guess";
    bad.reconnect = false;
    RemoteClient intruder(rt.env(), bad);
    CHECK(intruder.connect().get().is(Errc::auth_failed));
    auto r = intruder.remote_addr<CalcProtocol>("calc").call(add(1, 1)).get();
    CHECK(r.is(Errc::auth_failed));

    auto none = client_options(*at, "anonymous");
    none.handshake.secret.reset();
    none.reconnect = false;
    RemoteClient anonymous(rt.env(), none);
    CHECK(anonymous.connect().get().is(Errc::auth_failed));

    RemoteClient friendly(rt.env(), client_options(*at, "friend"));
    auto ok = friendly.remote_addr<CalcProtocol>("calc").call(add(2, 2)).get();
    REQUIRE(ok);
    CHECK(ok->value() == 4);
  }
  REQUIRE(rt.wait_until([&] { return server.stats().closed_with_error >= 3; }));
  stop_server(rt, server);
}

RUNTIME_TEST_CASE("remote: closing the client fails pending calls and refuses new ones",
                  "[remote][client]") {
  TestType rt;
  auto echo = rt.system().spawn(Echoer{});
  RemoteServer server(rt.env(), server_options<TestType>("server"));
  REQUIRE(server.expose("echo", std::move(MessageRouter().route<remote_test::Echo>(echo))));
  auto at = server.start();
  REQUIRE(at);
  {
    RemoteClient client(rt.env(), client_options(*at, "client"));
    REQUIRE(client.connect().get());
    auto outcome = std::make_shared<std::atomic<int>>(-1);
    auto ask = [&client, outcome]() -> Task<void> {
      remote_test::Echo m;
      m.set_delay_ms(1000);
      auto r = co_await client.remote_addr<EchoProtocol>("echo").call(m, 30s);
      outcome->store(r ? 0 : r.error().value());
    };
    spawn(rt.env(), ask());
    REQUIRE(rt.wait_until([&] { return server.stats().requests == 1; }));
    client.close();
    REQUIRE(rt.wait_until([&] { return outcome->load() != -1; }, 5s));
    CHECK(outcome->load() == static_cast<int>(Errc::maybe_delivered));
    remote_test::Echo m;
    CHECK(client.remote_addr<EchoProtocol>("echo").call(m).get().is(Errc::disconnected));
    CHECK(client.connect().get().is(Errc::disconnected));
  }
  stop_server(rt, server);
}
