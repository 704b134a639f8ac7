// Tests of cineyma::sim::Simulation: virtual time, timers, seeded scheduling, block_until and
// the simulated transport.
#include <cineyma/sim/simulation.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono_literals;
using cineyma::BlockingEvent;
using cineyma::ByteStream;
using cineyma::Duration;
using cineyma::Endpoint;
using cineyma::Errc;
using cineyma::Listener;
using cineyma::Result;
using cineyma::TimePoint;
using cineyma::TimerId;
using cineyma::sim::Node;
using cineyma::sim::Simulation;
using cineyma::sim::SimulationOptions;

namespace {

TimePoint at(Duration d) { return TimePoint(d); }

/// Sets a flag when destroyed: proves that a task was destroyed (and whether it ran).
struct DestroyProbe {
  explicit DestroyProbe(bool& destroyed) : destroyed_(&destroyed) {}
  DestroyProbe(DestroyProbe&& o) noexcept : destroyed_(o.destroyed_) { o.destroyed_ = nullptr; }
  DestroyProbe(const DestroyProbe&) = delete;
  ~DestroyProbe() {
    if (destroyed_) *destroyed_ = true;
  }
  bool* destroyed_;
};

/// A Runnable posted by reference (not owned by the executor).
class CountingRunnable final : public cineyma::Runnable {
 public:
  void run() override { ++runs; }
  std::uint64_t trace_tag() const noexcept override { return 7; }
  int runs = 0;
};

/// Posts `count` tasks at once on one node and returns the order in which they ran.
std::vector<int> order_of_tasks(std::uint64_t seed, int count, std::uint64_t* hash = nullptr) {
  Simulation sim(seed);
  Node& node = sim.add_node("n");
  std::vector<int> order;
  for (int i = 0; i < count; ++i) {
    node.environment().executor().post([&order, i] { order.push_back(i); });
  }
  sim.run_until_idle(1s);
  if (hash) *hash = sim.trace_hash();
  return order;
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> out;
  for (const char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::string string_of(const std::vector<std::byte>& b, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(b[i]));
  return out;
}

/// Reads from a stream until an error, collecting the bytes and remembering when they came.
struct Reader : std::enable_shared_from_this<Reader> {
  ByteStream* stream = nullptr;
  Node* node = nullptr;
  std::vector<std::byte> buffer = std::vector<std::byte>(3);  // small: forces several reads
  std::string received;
  std::optional<std::error_code> error;
  std::optional<TimePoint> first_data_at;
  std::optional<TimePoint> error_at;

  void start() {
    auto self = shared_from_this();
    stream->async_read_some(buffer, [self](Result<std::size_t> r) {
      const TimePoint now = self->node->environment().clock().now();
      if (!r) {
        self->error = r.error();
        self->error_at = now;
        return;
      }
      if (!self->first_data_at) self->first_data_at = now;
      self->received += string_of(self->buffer, *r);
      self->start();
    });
  }
};

/// A connected pair of streams between nodes "a" (client) and "b" (server).
struct Pair {
  explicit Pair(std::uint64_t seed = 1) : sim(seed) {
    a = &sim.add_node("a");
    b = &sim.add_node("b");
    auto l = b->environment().transport().listen({"b", 4000});
    REQUIRE(l.has_value());
    listener = std::move(*l);
    listener->async_accept([this](Result<std::unique_ptr<ByteStream>> r) {
      REQUIRE(r.has_value());
      server = std::move(*r);
    });
    a->environment().transport().async_connect(
        {"b", 4000}, [this](Result<std::unique_ptr<ByteStream>> r) {
          REQUIRE(r.has_value());
          client = std::move(*r);
        });
    REQUIRE(sim.run_until([this] { return client && server; }, 1s));
  }
  ~Pair() {
    client.reset();
    server.reset();
    listener.reset();
  }
  Simulation sim;
  Node* a = nullptr;
  Node* b = nullptr;
  std::unique_ptr<Listener> listener;
  std::unique_ptr<ByteStream> client;
  std::unique_ptr<ByteStream> server;
};

}  // namespace

TEST_CASE("sim: virtual time jumps to the next timer and run_for stops exactly", "[sim]") {
  Simulation sim(1);
  Node& node = sim.add_node("n");
  cineyma::Clock& clock = node.environment().clock();
  std::optional<TimePoint> fired_at;
  clock.schedule_after(1h, [&] { fired_at = clock.now(); });

  CHECK(sim.now() == at(0s));
  sim.run_for(2h);
  REQUIRE(fired_at);
  CHECK(*fired_at == at(1h));
  CHECK(sim.now() == at(2h));
  CHECK(clock.now() == at(2h));
  CHECK(sim.events() == 1);

  // Idle: run_for still moves the time exactly.
  sim.run_for(3ms);
  CHECK(sim.now() == at(2h + 3ms));
  CHECK_FALSE(sim.step());
}

TEST_CASE("sim: timers fire in deadline order", "[sim]") {
  Simulation sim(99);
  Node& node = sim.add_node("n");
  cineyma::Clock& clock = node.environment().clock();
  std::vector<int> fired;
  std::vector<TimePoint> times;
  for (const int ms : {5, 1, 4, 2, 3}) {
    clock.schedule_at(at(std::chrono::milliseconds(ms)), [&, ms] {
      fired.push_back(ms);
      times.push_back(clock.now());
    });
  }
  // A deadline in the past counts as now.
  sim.run_for(10ms);
  CHECK(fired == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(times == std::vector<TimePoint>{at(1ms), at(2ms), at(3ms), at(4ms), at(5ms)});
  bool late = false;
  clock.schedule_at(at(1ms), [&] { late = clock.now() == at(10ms); });
  CHECK(sim.step());
  CHECK(late);
}

TEST_CASE("sim: run_until and run_until_idle stop where documented", "[sim]") {
  Simulation sim(3);
  Node& node = sim.add_node("n");
  cineyma::Clock& clock = node.environment().clock();
  int count = 0;
  for (int i = 1; i <= 5; ++i) {
    clock.schedule_after(std::chrono::seconds(i), [&] { ++count; });
  }
  CHECK(sim.run_until([&] { return count == 2; }, 1h));
  CHECK(sim.now() == at(2s));
  CHECK_FALSE(sim.run_until([&] { return count == 5; }, 1500ms));
  CHECK(sim.now() == at(3500ms));  // stopped at the deadline
  CHECK(count == 3);
  sim.run_until_idle(1h);
  CHECK(count == 5);
  CHECK(sim.now() == at(5s));  // idle: time stays at the last event
}

TEST_CASE("sim: cancel is exact", "[sim]") {
  Simulation sim(5);
  Node& node = sim.add_node("n");
  cineyma::Clock& clock = node.environment().clock();

  SECTION("a pending timer never runs and its task is destroyed") {
    bool ran = false;
    bool destroyed = false;
    const TimerId id =
        clock.schedule_after(1s, [&ran, p = DestroyProbe(destroyed)] { ran = true; });
    CHECK(id != 0);
    CHECK_FALSE(destroyed);
    CHECK(clock.cancel(id));
    CHECK(destroyed);
    CHECK_FALSE(clock.cancel(id));
    sim.run_for(2s);
    CHECK_FALSE(ran);
  }
  SECTION("a timer that ran cannot be cancelled") {
    int runs = 0;
    const TimerId id = clock.schedule_after(1s, [&] { ++runs; });
    sim.run_for(1s);
    CHECK(runs == 1);
    CHECK_FALSE(clock.cancel(id));
  }
  SECTION("a timer that is running cannot cancel itself") {
    std::optional<bool> cancelled;
    TimerId id = 0;
    id = clock.schedule_after(1s, [&] { cancelled = clock.cancel(id); });
    sim.run_for(1s);
    REQUIRE(cancelled);
    CHECK_FALSE(*cancelled);
  }
  SECTION("a due timer in the ready set can still be cancelled") {
    // Two timers due at the same instant: whichever runs first cancels the other.
    int runs = 0;
    std::vector<bool> results;
    TimerId first = 0;
    TimerId second = 0;
    first = clock.schedule_after(1s, [&] { ++runs; results.push_back(clock.cancel(second)); });
    second = clock.schedule_after(1s, [&] { ++runs; results.push_back(clock.cancel(first)); });
    sim.run_for(2s);
    CHECK(runs == 1);
    CHECK(results == std::vector<bool>{true});
  }
  SECTION("an id of another node's clock is not ours") {
    Node& other = sim.add_node("other");
    bool ran = false;
    const TimerId id = clock.schedule_after(1s, [&] { ran = true; });
    CHECK_FALSE(other.environment().clock().cancel(id));
    sim.run_for(1s);
    CHECK(ran);
  }
  SECTION("unknown ids") {
    CHECK_FALSE(clock.cancel(0));
    CHECK_FALSE(clock.cancel(12345));
  }
}

TEST_CASE("sim: posts never run inline and tasks may post and schedule while running", "[sim]") {
  Simulation sim(11);
  Node& node = sim.add_node("n");
  cineyma::Executor& ex = node.environment().executor();
  CHECK(ex.concurrency() == 1);
  CHECK_FALSE(ex.in_executor_thread());

  std::vector<std::string> log;
  ex.post([&] {
    CHECK(ex.in_executor_thread());
    ex.post([&] { log.push_back("posted"); });
    node.environment().clock().schedule_after(0s, [&] { log.push_back("timer"); });
    log.push_back("outer");
  });
  CHECK(log.empty());

  CountingRunnable runnable;
  ex.post(runnable);
  CHECK(runnable.runs == 0);

  sim.run_until_idle(1s);
  REQUIRE(log.size() == 3);
  CHECK(log[0] == "outer");
  CHECK(runnable.runs == 1);
  CHECK(sim.events() == 4);
  CHECK(sim.now() == at(0s));
  CHECK_FALSE(ex.in_executor_thread());
}

TEST_CASE("sim: same seed gives the same order and trace hash", "[sim]") {
  std::uint64_t hash1 = 0;
  std::uint64_t hash2 = 0;
  const std::vector<int> first = order_of_tasks(42, 50, &hash1);
  const std::vector<int> second = order_of_tasks(42, 50, &hash2);
  REQUIRE(first.size() == 50);
  CHECK(first == second);
  CHECK(hash1 == hash2);

  // The order really is shuffled, not FIFO.
  std::vector<int> fifo;
  for (int i = 0; i < 50; ++i) fifo.push_back(i);
  CHECK(first != fifo);
}

TEST_CASE("sim: different seeds give different orders", "[sim]") {
  const std::vector<int> base = order_of_tasks(1, 50);
  bool any_differs = false;
  for (std::uint64_t seed = 2; seed < 6; ++seed) {
    any_differs = any_differs || order_of_tasks(seed, 50) != base;
  }
  CHECK(any_differs);
}

TEST_CASE("sim: trace hash covers times and is off when tracing is off", "[sim]") {
  auto run = [](Duration delay, bool trace) {
    SimulationOptions options;
    options.trace = trace;
    Simulation sim(7, options);
    Node& node = sim.add_node("n");
    node.environment().clock().schedule_after(delay, [] {});
    sim.run_until_idle(1h);
    CHECK(sim.events() == 1);
    return sim.trace_hash();
  };
  CHECK(run(1s, true) == run(1s, true));
  CHECK(run(1s, true) != run(2s, true));
  CHECK(run(1s, false) == run(2s, false));
}

TEST_CASE("sim: node PRNG streams are seeded by creation order", "[sim]") {
  auto draws = [](std::uint64_t seed) {
    Simulation sim(seed);
    Node& a = sim.add_node("a");
    Node& b = sim.add_node("b");
    return std::vector<std::uint64_t>{a.environment().random().next_u64(),
                                      b.environment().random().next_u64()};
  };
  CHECK(draws(1) == draws(1));
  CHECK(draws(1) != draws(2));
  CHECK(draws(1)[0] != draws(1)[1]);
}

TEST_CASE("sim: nodes are found by name", "[sim]") {
  Simulation sim(1);
  Node& a = sim.add_node("a");
  CHECK(sim.node("a") == &a);
  CHECK(sim.node("b") == nullptr);
  CHECK(a.name() == "a");
  CHECK(a.environment().name() == "a");
  CHECK(a.environment().is_simulated());
  CHECK(sim.seed() == 1);
}

TEST_CASE("sim: block_until drives the simulation", "[sim]") {
  Simulation sim(8);
  Node& node = sim.add_node("n");
  cineyma::Executor& ex = node.environment().executor();
  cineyma::Clock& clock = node.environment().clock();

  SECTION("until the event is set") {
    BlockingEvent ev;
    clock.schedule_after(10ms, [&] { ev.set(); });
    clock.schedule_after(1h, [] {});
    CHECK(ex.block_until(ev, std::nullopt));
    CHECK(sim.now() == at(10ms));
  }
  SECTION("false on timeout; time moves to the timeout") {
    BlockingEvent ev;
    clock.schedule_after(1s, [&] { ev.set(); });
    CHECK_FALSE(ex.block_until(ev, 100ms));
    CHECK(sim.now() == at(100ms));
    CHECK(ex.block_until(ev, 2s));
    CHECK(sim.now() == at(1s));
  }
  SECTION("false when nothing is left to run") {
    BlockingEvent ev;
    ex.post([] {});
    CHECK_FALSE(ex.block_until(ev, std::nullopt));
    CHECK(sim.events() == 1);
    CHECK_FALSE(ex.block_until(ev, 5s));
  }
  SECTION("true at once when already set") {
    BlockingEvent ev;
    ev.set();
    ex.post([] {});
    CHECK(ex.block_until(ev, 0s));
    CHECK(sim.events() == 0);
  }
}

TEST_CASE("sim: the destructor destroys pending tasks without running them", "[sim]") {
  bool ran = false;
  bool posted_destroyed = false;
  bool timer_destroyed = false;
  bool due_timer_destroyed = false;
  CountingRunnable runnable;
  {
    Simulation sim(4);
    Node& node = sim.add_node("n");
    node.environment().executor().post(
        [&ran, p = DestroyProbe(posted_destroyed)] { ran = true; });
    node.environment().clock().schedule_after(
        1s, [&ran, p = DestroyProbe(timer_destroyed)] { ran = true; });
    node.environment().clock().schedule_after(
        0s, [&ran, p = DestroyProbe(due_timer_destroyed)] { ran = true; });
    node.environment().executor().post(runnable);
    CHECK_FALSE(posted_destroyed);
  }
  CHECK_FALSE(ran);
  CHECK(posted_destroyed);
  CHECK(timer_destroyed);
  CHECK(due_timer_destroyed);
  CHECK(runnable.runs == 0);
}

TEST_CASE("sim: transport connects and delivers bytes in order after the latency", "[sim]") {
  Pair p(21);
  // Handshake: SYN (100us) + SYN-ACK (100us).
  CHECK(p.sim.now() <= at(200us));
  CHECK(p.client->remote_endpoint() == Endpoint{"b", 4000});
  CHECK(p.server->remote_endpoint().host == "a");
  CHECK(p.server->remote_endpoint().port != 0);

  auto reader = std::make_shared<Reader>();
  reader->stream = p.server.get();
  reader->node = p.b;
  reader->start();

  const std::vector<std::byte> hello = bytes_of("hello, ");
  const std::vector<std::byte> world = bytes_of("world");
  int writes_done = 0;
  const TimePoint sent_at = p.sim.now();
  p.client->async_write(hello, [&](Result<void> r) {
    CHECK(r.has_value());
    ++writes_done;
    // The next write follows the completion of the previous one.
    p.client->async_write(world, [&](Result<void> r2) {
      CHECK(r2.has_value());
      ++writes_done;
    });
  });
  CHECK(writes_done == 0);  // never inline
  p.sim.run_for(10ms);
  CHECK(writes_done == 2);
  CHECK(reader->received == "hello, world");
  REQUIRE(reader->first_data_at);
  CHECK(*reader->first_data_at == sent_at + 100us);
  CHECK_FALSE(reader->error);

  // And back.
  auto back = std::make_shared<Reader>();
  back->stream = p.client.get();
  back->node = p.a;
  back->start();
  const std::vector<std::byte> reply = bytes_of("pong");
  p.server->async_write(reply, [](Result<void> r) { CHECK(r.has_value()); });
  p.sim.run_for(10ms);
  CHECK(back->received == "pong");
}

TEST_CASE("sim: many writes at one instant arrive in order", "[sim]") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    Pair p(seed);
    auto reader = std::make_shared<Reader>();
    reader->stream = p.server.get();
    reader->node = p.b;
    reader->start();
    std::vector<std::vector<std::byte>> chunks;
    std::string expected;
    for (int i = 0; i < 20; ++i) {
      const std::string s = std::to_string(i) + ";";
      expected += s;
      chunks.push_back(bytes_of(s));
    }
    // Writes from 20 separate tasks at one instant; each task writes when it runs, so the
    // expected order is the order the writes ran in.
    std::string sent;
    std::size_t next = 0;
    std::function<void()> write_next = [&] {
      if (next == chunks.size()) return;
      const std::size_t i = next++;
      sent += string_of(chunks[i], chunks[i].size());
      p.client->async_write(chunks[i], [&](Result<void> r) {
        CHECK(r.has_value());
        write_next();
      });
    };
    write_next();
    p.sim.run_for(10ms);
    CHECK(sent == expected);
    CHECK(reader->received == expected);
  }
}

TEST_CASE("sim: closing one side fails the peer's read after the latency", "[sim]") {
  Pair p(31);
  auto reader = std::make_shared<Reader>();
  reader->stream = p.server.get();
  reader->node = p.b;
  reader->start();

  // Data sent before the close is still delivered, then the error.
  const std::vector<std::byte> last = bytes_of("bye");
  p.client->async_write(last, [](Result<void> r) { CHECK(r.has_value()); });
  p.sim.run_until_idle(1ms);
  const TimePoint closed_at = p.sim.now();
  p.client->close();
  p.client->close();  // idempotent
  p.sim.run_for(10ms);
  CHECK(reader->received == "bye");
  REQUIRE(reader->error);
  CHECK(*reader->error == cineyma::make_error_code(Errc::disconnected));
  REQUIRE(reader->error_at);
  CHECK(*reader->error_at == closed_at + 100us);

  // Writes towards a closed peer fail once its FIN arrived.
  std::optional<Result<void>> write_result;
  p.server->async_write(last, [&](Result<void> r) { write_result = r; });
  p.sim.run_for(1ms);
  REQUIRE(write_result);
  CHECK(write_result->is(Errc::disconnected));

  // Operations on the locally closed stream fail at once (but not inline).
  std::optional<Result<std::size_t>> read_result;
  std::vector<std::byte> buffer(4);
  p.client->async_read_some(buffer, [&](Result<std::size_t> r) { read_result = r; });
  CHECK_FALSE(read_result);
  p.sim.run_for(1ms);
  REQUIRE(read_result);
  CHECK_FALSE(read_result->has_value());
}

TEST_CASE("sim: closing a stream fails its own pending read", "[sim]") {
  Pair p(32);
  std::optional<Result<std::size_t>> result;
  std::vector<std::byte> buffer(4);
  p.client->async_read_some(buffer, [&](Result<std::size_t> r) { result = r; });
  p.sim.run_for(1ms);
  CHECK_FALSE(result);
  p.client->close();
  CHECK_FALSE(result);  // not inline
  p.sim.run_for(1ms);
  REQUIRE(result);
  CHECK(result->error() == std::make_error_code(std::errc::operation_canceled));
}

TEST_CASE("sim: destroying a stream closes it", "[sim]") {
  Pair p(33);
  auto reader = std::make_shared<Reader>();
  reader->stream = p.client.get();
  reader->node = p.a;
  reader->start();
  p.server.reset();
  p.sim.run_for(1ms);
  REQUIRE(reader->error);
  CHECK(*reader->error == cineyma::make_error_code(Errc::disconnected));
}

TEST_CASE("sim: connecting where nobody listens is refused after a round trip", "[sim]") {
  Simulation sim(41);
  Node& a = sim.add_node("a");
  sim.add_node("b");
  std::optional<std::error_code> error;
  std::optional<TimePoint> when;
  a.environment().transport().async_connect(
      {"b", 4000}, [&](Result<std::unique_ptr<ByteStream>> r) {
        REQUIRE_FALSE(r.has_value());
        error = r.error();
        when = sim.now();
      });
  CHECK_FALSE(error);
  sim.run_until_idle(1s);
  REQUIRE(error);
  CHECK(*error == std::make_error_code(std::errc::connection_refused));
  CHECK(*when == at(200us));

  std::optional<std::error_code> unknown;
  a.environment().transport().async_connect(
      {"nowhere", 1}, [&](Result<std::unique_ptr<ByteStream>> r) { unknown = r.error(); });
  sim.run_until_idle(1s);
  REQUIRE(unknown);
  CHECK(*unknown == std::make_error_code(std::errc::host_unreachable));
}

TEST_CASE("sim: listen binds the node's own address", "[sim]") {
  Simulation sim(51);
  Node& a = sim.add_node("a");
  sim.add_node("b");
  cineyma::Transport& t = a.environment().transport();

  auto eph1 = t.listen({"", 0});
  auto eph2 = t.listen({"a", 0});
  REQUIRE(eph1.has_value());
  REQUIRE(eph2.has_value());
  CHECK((*eph1)->local_endpoint() == Endpoint{"a", 49152});  // deterministic
  CHECK((*eph2)->local_endpoint() == Endpoint{"a", 49153});

  auto fixed = t.listen({"a", 80});
  REQUIRE(fixed.has_value());
  CHECK(t.listen({"a", 80}).error() == std::make_error_code(std::errc::address_in_use));
  CHECK(t.listen({"b", 81}).error() == std::make_error_code(std::errc::address_not_available));
  (*fixed)->close();
  (*fixed)->close();  // idempotent
  CHECK(t.listen({"a", 80}).has_value());  // the port is free again
}

TEST_CASE("sim: closing a listener fails its pending accept", "[sim]") {
  Simulation sim(61);
  Node& a = sim.add_node("a");
  auto l = a.environment().transport().listen({"a", 9});
  REQUIRE(l.has_value());
  std::optional<Result<std::unique_ptr<ByteStream>>> accepted;
  (*l)->async_accept([&](Result<std::unique_ptr<ByteStream>> r) { accepted = std::move(r); });
  (*l)->close();
  CHECK_FALSE(accepted);  // not inline
  sim.run_until_idle(1s);
  REQUIRE(accepted);
  CHECK_FALSE(accepted->has_value());

  // A connection to it is now refused.
  std::optional<std::error_code> error;
  a.environment().transport().async_connect(
      {"a", 9}, [&](Result<std::unique_ptr<ByteStream>> r) { error = r.error(); });
  sim.run_until_idle(1s);
  REQUIRE(error);
  CHECK(*error == std::make_error_code(std::errc::connection_refused));
}

TEST_CASE("sim: a connection waits in the backlog until accepted", "[sim]") {
  Simulation sim(71);
  Node& a = sim.add_node("a");
  Node& b = sim.add_node("b");
  auto l = b.environment().transport().listen({"b", 7});
  REQUIRE(l.has_value());
  std::unique_ptr<ByteStream> client;
  a.environment().transport().async_connect(
      {"b", 7}, [&](Result<std::unique_ptr<ByteStream>> r) { client = std::move(*r); });
  sim.run_until_idle(1s);
  REQUIRE(client);
  const std::vector<std::byte> early = bytes_of("early");
  client->async_write(early, [](Result<void> r) { CHECK(r.has_value()); });
  sim.run_until_idle(1s);

  std::unique_ptr<ByteStream> server;
  (*l)->async_accept([&](Result<std::unique_ptr<ByteStream>> r) { server = std::move(*r); });
  sim.run_until_idle(1s);
  REQUIRE(server);
  auto reader = std::make_shared<Reader>();
  reader->stream = server.get();
  reader->node = &b;
  reader->start();
  sim.run_until_idle(1s);
  CHECK(reader->received == "early");
  client.reset();
  server.reset();
}

TEST_CASE("sim: a networked run is deterministic per seed", "[sim]") {
  auto run = [](std::uint64_t seed) {
    Pair p(seed);
    auto reader = std::make_shared<Reader>();
    reader->stream = p.server.get();
    reader->node = p.b;
    reader->start();
    // Writes (one outstanding at a time) racing with unrelated tasks on both nodes.
    const std::vector<std::byte> data = bytes_of("0123456789");
    int left = 5;
    std::function<void()> write_next = [&] {
      if (left-- == 0) return;
      p.client->async_write(data, [&](Result<void>) { write_next(); });
    };
    p.a->environment().executor().post([&] { write_next(); });
    for (int i = 0; i < 10; ++i) {
      p.a->environment().executor().post([] {});
      p.b->environment().clock().schedule_after(std::chrono::microseconds(i * 10), [] {});
    }
    p.sim.run_for(1ms);
    CHECK(reader->received.size() == 50);
    return p.sim.trace_hash();
  };
  CHECK(run(5) == run(5));
  CHECK(run(6) == run(6));
}
