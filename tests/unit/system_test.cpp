// Lifecycle, shutdown, registry, Context, children and Recipient (SPEC-original §7 tests
// 11–16, with the fixes of DESIGN §4), each scenario on both runtimes.
#include <catch2/catch.hpp>

#include "support/runtime.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::Actor;
using cineyma::ActorId;
using cineyma::Addr;
using cineyma::Errc;
using cineyma::Recipient;
using cineyma::StopReason;
using cineyma::Task;
using cineyma::Terminated;
using cineyma::test::Counter;
using cineyma::test::make_counter;

/// An append-only list of names shared between actors (any thread) and the test.
class SharedLog {
 public:
  void add(std::string s) {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(std::move(s));
  }
  std::vector<std::string> items() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> items_;
};
using Log = std::shared_ptr<SharedLog>;

/// `system.lookup<A>(name)` without the `template` keyword in dependent contexts.
template <typename A>
cineyma::Result<Addr<A>> lookup(cineyma::ActorSystem& system, std::string_view name) {
  return system.lookup<A>(name);
}

// --- messages ----------------------------------------------------------------------------------

struct Ping {};
struct StopNow {};
struct Busy {};            // async: sleeps 50 ms
struct StopAfterSleep {};  // async: sleeps 10 ms, then ctx.stop()
struct Add {
  int a, b;
  using reply = int;
};
struct GetPings {
  using reply = int;
};

// --- actors ------------------------------------------------------------------------------------

/// Records its lifecycle in shared counters.
class Probe : public Actor<Probe> {
 public:
  struct Counters {
    Counter started = make_counter();
    Counter stopped = make_counter();
    Counter pings = make_counter();
    Counter busy_entered = make_counter();
    Counter busy_completed = make_counter();
  };
  explicit Probe(Counters c, bool stop_in_started = false)
      : c_(std::move(c)), stop_in_started_(stop_in_started) {}

  void started(Context& ctx) {
    c_.started->fetch_add(1);
    if (stop_in_started_) ctx.stop();
  }
  void stopped(Context&) { c_.stopped->fetch_add(1); }
  void handle(const Ping&, Context&) {
    ++pings_;
    c_.pings->fetch_add(1);
  }
  int handle(const GetPings&, Context&) { return pings_; }
  void handle(const StopNow&, Context& ctx) { ctx.stop(); }
  Task<void> handle(const Busy&, Context& ctx) {
    c_.busy_entered->fetch_add(1);
    co_await ctx.sleep(50ms);
    c_.busy_completed->fetch_add(1);
  }
  Task<void> handle(const StopAfterSleep&, Context& ctx) {
    co_await ctx.sleep(10ms);
    ctx.stop();
  }

 private:
  Counters c_;
  bool stop_in_started_ = false;
  int pings_ = 0;
};

class Calculator : public Actor<Calculator> {
 public:
  int handle(const Add& m, Context&) { return m.a + m.b; }
  void handle(const StopNow&, Context& ctx) { ctx.stop(); }
};

/// Context identity.
class Ident;
struct WhoAmI {
  struct Answer {
    ActorId ctx_id;
    Addr<Ident> self;
  };
  using reply = Answer;
};
struct PingSelf {};
class Ident : public Actor<Ident> {
 public:
  explicit Ident(Counter self_pings) : self_pings_(std::move(self_pings)) {}
  WhoAmI::Answer handle(const WhoAmI&, Context& ctx) { return {ctx.id(), ctx.address()}; }
  void handle(const PingSelf&, Context& ctx) { (void)ctx.address().try_send(Ping{}); }
  void handle(const Ping&, Context&) { self_pings_->fetch_add(1); }

 private:
  Counter self_pings_;
};

/// A child that stops itself on request and logs its stop.
class Child : public Actor<Child> {
 public:
  Child(std::string name, Log log) : name_(std::move(name)), log_(std::move(log)) {}
  void stopped(Context&) { log_->add(name_); }
  void handle(const StopNow&, Context& ctx) { ctx.stop(); }
  int handle(const Add& m, Context&) { return m.a + m.b; }

 private:
  std::string name_;
  Log log_;
};

struct GetChild {
  using reply = Addr<Child>;
};
struct SpawnZeroCapacityChild {
  using reply = int;  // the Errc value of the result
};

/// Spawns one child in started(); records the Terminated notifications it receives.
class Parent : public Actor<Parent> {
 public:
  struct Seen {
    Counter terminated = make_counter();
    std::shared_ptr<std::atomic<std::uint64_t>> last_id =
        std::make_shared<std::atomic<std::uint64_t>>(0);
    std::shared_ptr<std::atomic<int>> last_reason = std::make_shared<std::atomic<int>>(-1);
  };
  Parent(Log log, Seen seen) : log_(std::move(log)), seen_(std::move(seen)) {}

  void started(Context& ctx) { child_ = ctx.spawn_child(Child{"child", log_}); }
  void stopped(Context&) { log_->add("parent"); }
  void handle(const Terminated& t, Context&) {
    seen_.last_id->store(t.id.value);
    seen_.last_reason->store(static_cast<int>(t.reason));
    seen_.terminated->fetch_add(1);
  }
  Addr<Child> handle(const GetChild&, Context&) { return child_; }
  int handle(const SpawnZeroCapacityChild&, Context& ctx) {
    auto r = ctx.spawn_child_with_capacity(Child{"zero", log_}, 0);
    return r ? 0 : r.error().value();
  }

 private:
  Log log_;
  Seen seen_;
  Addr<Child> child_;
};

/// Two unrelated actor types handling the same message, for Recipient<Notify>.
struct Notify {
  int v;
  using reply = int;
};
class PlusOne : public Actor<PlusOne> {
 public:
  explicit PlusOne(Counter n) : n_(std::move(n)) {}
  int handle(const Notify& m, Context&) {
    n_->fetch_add(1);
    return m.v + 1;
  }

 private:
  Counter n_;
};
class TimesTen : public Actor<TimesTen> {
 public:
  explicit TimesTen(Counter n) : n_(std::move(n)) {}
  int handle(const Notify& m, Context&) {
    n_->fetch_add(1);
    return m.v * 10;
  }
  void handle(const Ping&, Context&) {}

 private:
  Counter n_;
};

}  // namespace

// =================================================================================================
// 11. an actor stops itself

RUNTIME_TEST_CASE("system: an actor that calls ctx.stop() in a handler runs stopped() once",
                  "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c});
  REQUIRE(addr.send(GetPings{}).get().value() == 0);
  REQUIRE(c.started->load() == 1);
  REQUIRE(rt.system().live_actors() == 1);

  REQUIRE(addr.do_send(StopNow{}).get());
  REQUIRE(rt.wait_until([&] { return c.stopped->load() == 1; }));
  REQUIRE_FALSE(addr.is_alive());
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  REQUIRE(addr.send(GetPings{}).get().is(Errc::actor_stopped));
  rt.advance(10ms);
  REQUIRE(c.stopped->load() == 1);
  REQUIRE(c.started->load() == 1);
}

RUNTIME_TEST_CASE("system: messages queued behind ctx.stop() become dead letters, never handled",
                  "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c});
  REQUIRE(addr.try_send(StopNow{}));
  int refused = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = addr.try_send(Ping{});
    if (!r) {
      REQUIRE(r.is(Errc::actor_stopped));
      ++refused;
    }
  }
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  REQUIRE(c.pings->load() == 0);
  REQUIRE(c.stopped->load() == 1);
  // Every ping was either refused at once or queued and then dropped as a dead letter.
  REQUIRE(static_cast<int>(rt.system().dead_letters()) + refused == 3);
  if constexpr (TestType::is_sim) REQUIRE(rt.system().dead_letters() == 3);
}

RUNTIME_TEST_CASE("system: a request queued behind ctx.stop() fails with actor_stopped",
                  "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c});
  REQUIRE(addr.try_send(StopNow{}));
  // Either refused at once or queued and then rejected: never handled, never hangs.
  auto r = addr.send(GetPings{}).get();
  REQUIRE(r.is(Errc::actor_stopped));
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
}

RUNTIME_TEST_CASE("system: an actor that calls ctx.stop() in started() handles no message",
                  "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c, /*stop_in_started=*/true});
  // Under the simulator nothing has run yet, so this ping is queued and dead-lettered; on
  // the real runtime it may also be refused at once.
  const bool queued = addr.try_send(Ping{}).has_value();
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  REQUIRE(c.started->load() == 1);
  REQUIRE(c.stopped->load() == 1);
  REQUIRE(c.pings->load() == 0);
  REQUIRE(rt.system().dead_letters() == (queued ? 1u : 0u));
  if constexpr (TestType::is_sim) REQUIRE(queued);
  REQUIRE(addr.send(GetPings{}).get().is(Errc::actor_stopped));
}

RUNTIME_TEST_CASE("system: ctx.stop() after a co_await in an async handler stops the actor",
                  "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c});
  const auto t0 = rt.env().clock().now();
  REQUIRE(addr.do_send(StopAfterSleep{}).get());
  REQUIRE(rt.wait_until([&] { return c.stopped->load() == 1; }));
  REQUIRE(rt.env().clock().now() - t0 >= 10ms);
  REQUIRE_FALSE(addr.is_alive());
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  REQUIRE(addr.try_send(Ping{}).is(Errc::actor_stopped));
  REQUIRE(c.stopped->load() == 1);
}

// =================================================================================================
// 12. system shutdown

RUNTIME_TEST_CASE("system: shutdown stops an idle actor and runs its stopped()", "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c});
  REQUIRE(rt.wait_until([&] { return c.started->load() == 1; }));

  REQUIRE(rt.system().shutdown());
  // shutdown() returns only once everything has stopped.
  REQUIRE(rt.system().live_actors() == 0);
  REQUIRE(c.stopped->load() == 1);
  REQUIRE_FALSE(addr.is_alive());
  REQUIRE(rt.system().is_shutdown());
  REQUIRE(addr.send(GetPings{}).get().is(Errc::actor_stopped));
}

RUNTIME_TEST_CASE("system: shutdown stops an actor that is inside a suspended async handler",
                  "[system]") {
  TestType rt;
  Probe::Counters c;
  auto addr = rt.system().spawn(Probe{c});
  REQUIRE(addr.do_send(Busy{}).get());
  REQUIRE(rt.wait_until([&] { return c.busy_entered->load() == 1; }));
  // A ping queued behind the busy handler: it must become a dead letter.
  REQUIRE(addr.try_send(Ping{}));

  REQUIRE(rt.system().shutdown());
  REQUIRE(rt.system().live_actors() == 0);
  REQUIRE(c.stopped->load() == 1);
  // Stop takes effect after the current message: the handler finished its sleep first.
  REQUIRE(c.busy_completed->load() == 1);
  // The queued ping became a dead letter (on the real runtime, a test thread stalled past
  // the 50 ms sleep may let it be handled before shutdown; either way exactly one fate).
  REQUIRE(c.pings->load() + static_cast<int>(rt.system().dead_letters()) == 1);
  if constexpr (TestType::is_sim) REQUIRE(rt.system().dead_letters() == 1);
  REQUIRE_FALSE(addr.is_alive());
  // Unlike the original (SPEC P2), the actor does not keep running after shutdown.
  REQUIRE(addr.send(GetPings{}).get().is(Errc::actor_stopped));
  REQUIRE(addr.try_send(Ping{}).is(Errc::actor_stopped));
}

RUNTIME_TEST_CASE("system: shutdown returns only when every actor, idle or busy, has stopped",
                  "[system]") {
  TestType rt;
  constexpr int kIdle = 10, kBusy = 10;
  Probe::Counters c;
  std::vector<Addr<Probe>> addrs;
  for (int i = 0; i < kIdle + kBusy; ++i) addrs.push_back(rt.system().spawn(Probe{c}));
  for (int i = 0; i < kBusy; ++i) REQUIRE(addrs[i].do_send(Busy{}).get());
  REQUIRE(rt.wait_until([&] { return c.busy_entered->load() == kBusy; }));
  REQUIRE(rt.system().live_actors() == kIdle + kBusy);

  REQUIRE(rt.system().shutdown());
  REQUIRE(rt.system().live_actors() == 0);
  REQUIRE(c.stopped->load() == kIdle + kBusy);
  REQUIRE(c.busy_completed->load() == kBusy);
  for (const auto& a : addrs) REQUIRE_FALSE(a.is_alive());
}

RUNTIME_TEST_CASE("system: shutdown stops children before their parent", "[system]") {
  TestType rt;
  Log log = std::make_shared<SharedLog>();
  Parent::Seen seen;
  auto parent = rt.system().spawn(Parent{log, seen});
  auto child = parent.send(GetChild{}).get();
  REQUIRE(child.has_value());
  REQUIRE(child.value().is_alive());
  REQUIRE(rt.system().live_actors() == 2);

  REQUIRE(rt.system().shutdown());
  REQUIRE(rt.system().live_actors() == 0);
  REQUIRE(log->items() == std::vector<std::string>{"child", "parent"});
  REQUIRE_FALSE(child.value().is_alive());
  REQUIRE_FALSE(parent.is_alive());
}

RUNTIME_TEST_CASE("system: shutdown is sticky: later spawns give stopped addresses or fail",
                  "[system]") {
  TestType rt;
  REQUIRE(rt.system().shutdown());
  REQUIRE(rt.system().is_shutdown());
  REQUIRE(rt.system().live_actors() == 0);

  Probe::Counters c;
  auto late = rt.system().spawn(Probe{c});
  REQUIRE_FALSE(late.is_alive());
  REQUIRE(late.send(GetPings{}).get().is(Errc::actor_stopped));
  REQUIRE(late.do_send(Ping{}).get().is(Errc::actor_stopped));
  REQUIRE(late.try_send(Ping{}).is(Errc::actor_stopped));

  auto tried = rt.system().try_spawn(Probe{c});
  REQUIRE_FALSE(tried.has_value());
  REQUIRE(tried.is(Errc::actor_stopped));

  auto sized = rt.system().spawn_with_capacity(Probe{c}, 16);
  REQUIRE_FALSE(sized.has_value());
  REQUIRE(sized.is(Errc::actor_stopped));

  rt.advance(10ms);
  REQUIRE(rt.system().live_actors() == 0);
  REQUIRE(c.started->load() == 0);  // never admitted, never run
  // Idempotent.
  REQUIRE(rt.system().shutdown());
}

// =================================================================================================
// 13–16. registry

RUNTIME_TEST_CASE("system: register_name then lookup<A> finds a working address", "[system]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_name("calc", calc));

  auto found = lookup<Calculator>(rt.system(), "calc");
  REQUIRE(found.has_value());
  REQUIRE(found.value() == calc);
  REQUIRE(found.value().id() == calc.id());
  auto r = found.value().send(Add{5, 7}).get();
  REQUIRE(r.value() == 12);
}

RUNTIME_TEST_CASE("system: lookup of a missing name is not_found, of another type type_mismatch",
                  "[system]") {
  TestType rt;
  auto missing = lookup<Calculator>(rt.system(), "nobody");
  REQUIRE_FALSE(missing.has_value());
  REQUIRE(missing.is(Errc::not_found));

  auto calc = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_name("calc", calc));
  auto wrong = lookup<Probe>(rt.system(), "calc");
  REQUIRE_FALSE(wrong.has_value());
  REQUIRE(wrong.is(Errc::type_mismatch));
  // The right type still resolves.
  REQUIRE(lookup<Calculator>(rt.system(), "calc").has_value());
  // An empty name is refused.
  REQUIRE(rt.system().register_name("", calc).is(Errc::invalid_argument));
}

RUNTIME_TEST_CASE("system: a registered actor that stops is removed from the registry",
                  "[system]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_name("calc", calc));
  REQUIRE(rt.system().register_name("calc-alias", calc));
  REQUIRE(lookup<Calculator>(rt.system(), "calc").has_value());

  REQUIRE(calc.do_send(StopNow{}).get());
  REQUIRE(rt.wait_until([&] { return !lookup<Calculator>(rt.system(), "calc").has_value(); }));
  REQUIRE(lookup<Calculator>(rt.system(), "calc").is(Errc::not_found));
  // Event-driven: once the actor is accounted dead, every auto entry is already gone.
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  REQUIRE(lookup<Calculator>(rt.system(), "calc-alias").is(Errc::not_found));
  REQUIRE(rt.system().registry().size() == 0);
  // A dead actor cannot be registered.
  REQUIRE(rt.system().register_name("again", calc).is(Errc::actor_stopped));
  REQUIRE(rt.system().register_manual("again", calc).is(Errc::actor_stopped));
  REQUIRE(lookup<Calculator>(rt.system(), "again").is(Errc::not_found));
}

RUNTIME_TEST_CASE("system: register_manual survives the actor's death until unregister",
                  "[system]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_manual("manual", calc));

  REQUIRE(calc.do_send(StopNow{}).get());
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  rt.advance(200ms);

  auto found = lookup<Calculator>(rt.system(), "manual");
  REQUIRE(found.has_value());
  REQUIRE(found.value() == calc);
  REQUIRE_FALSE(found.value().is_alive());
  REQUIRE(found.value().send(Add{1, 2}).get().is(Errc::actor_stopped));

  REQUIRE(rt.system().unregister("manual"));
  REQUIRE(lookup<Calculator>(rt.system(), "manual").is(Errc::not_found));
  REQUIRE(rt.system().unregister("manual").is(Errc::not_found));
  REQUIRE(rt.system().unregister("never-registered").is(Errc::not_found));
}

RUNTIME_TEST_CASE("system: unregister removes an auto entry of a live actor", "[system]") {
  TestType rt;
  auto calc = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_name("calc", calc));
  REQUIRE(rt.system().unregister("calc"));
  REQUIRE(lookup<Calculator>(rt.system(), "calc").is(Errc::not_found));
  REQUIRE(calc.is_alive());
  REQUIRE(calc.send(Add{1, 1}).get().value() == 2);
}

RUNTIME_TEST_CASE("system: a name re-registered to B before A's death still resolves to B",
                  "[system]") {
  TestType rt;
  auto a = rt.system().spawn(Calculator{});
  auto b = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_name("y", a));
  a.stop();
  // A's stop is still in flight (or just processed); B takes the name over.
  REQUIRE(rt.system().register_name("y", b));
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 1; }));
  rt.advance(100ms);

  auto found = lookup<Calculator>(rt.system(), "y");
  REQUIRE(found.has_value());
  REQUIRE(found.value() == b);
  REQUIRE(found.value().id() == b.id());
  REQUIRE(found.value().send(Add{2, 3}).get().value() == 5);
}

RUNTIME_TEST_CASE("system: a name re-registered to B right after A's death still resolves to B",
                  "[system]") {
  TestType rt;
  auto a = rt.system().spawn(Calculator{});
  auto b = rt.system().spawn(Calculator{});
  REQUIRE(rt.system().register_name("y", a));
  REQUIRE(a.do_send(StopNow{}).get());
  REQUIRE(rt.wait_until([&] { return lookup<Calculator>(rt.system(), "y").is(Errc::not_found); }));
  REQUIRE(rt.system().register_name("y", b));
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 1; }));
  rt.advance(100ms);

  auto found = lookup<Calculator>(rt.system(), "y");
  REQUIRE(found.has_value());
  REQUIRE(found.value() == b);
}

RUNTIME_TEST_CASE("system: a name taken over by B survives A's death and goes with B's",
                  "[system]") {
  TestType rt;
  auto a = rt.system().spawn(Calculator{});
  auto b = rt.system().spawn(Calculator{});
  // A registers "y" (auto), then B takes it over; A's death must not remove B's entry, and
  // B's death must.
  REQUIRE(rt.system().register_name("y", a));
  REQUIRE(rt.system().register_name("y", b));
  a.stop();
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 1; }));
  REQUIRE(lookup<Calculator>(rt.system(), "y").value() == b);
  b.stop();
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 0; }));
  REQUIRE(lookup<Calculator>(rt.system(), "y").is(Errc::not_found));
}

// =================================================================================================
// spawning, Context, children, Recipient

RUNTIME_TEST_CASE("system: spawn_with_capacity(0) and try_spawn(..., 0) fail with invalid_argument",
                  "[system]") {
  TestType rt;
  auto zero = rt.system().spawn_with_capacity(Calculator{}, 0);
  REQUIRE_FALSE(zero.has_value());
  REQUIRE(zero.is(Errc::invalid_argument));
  auto zero2 = rt.system().try_spawn(Calculator{}, 0);
  REQUIRE(zero2.is(Errc::invalid_argument));
  REQUIRE(rt.system().live_actors() == 0);

  auto one = rt.system().spawn_with_capacity(Calculator{}, 1);
  REQUIRE(one.has_value());
  REQUIRE(one.value().capacity() == 1);
  REQUIRE(one.value().send(Add{3, 4}).get().value() == 7);
  REQUIRE(rt.system().live_actors() == 1);
}

RUNTIME_TEST_CASE("system: ctx.spawn_child_with_capacity(0) fails with invalid_argument",
                  "[system]") {
  TestType rt;
  Log log = std::make_shared<SharedLog>();
  Parent::Seen seen;
  auto parent = rt.system().spawn(Parent{log, seen});
  auto code = parent.send(SpawnZeroCapacityChild{}).get();
  REQUIRE(code.value() == static_cast<int>(Errc::invalid_argument));
  REQUIRE(rt.system().live_actors() == 2);  // the parent and its one real child
}

RUNTIME_TEST_CASE("system: Context address() and id() agree with the Addr", "[system]") {
  TestType rt;
  Counter self_pings = make_counter();
  auto a = rt.system().spawn(Ident{self_pings});
  auto b = rt.system().spawn(Ident{self_pings});
  REQUIRE(a.id() != ActorId{});
  REQUIRE(a.id() != b.id());

  auto ans = a.send(WhoAmI{}).get();
  REQUIRE(ans.has_value());
  REQUIRE(ans.value().ctx_id == a.id());
  REQUIRE(ans.value().self == a);
  REQUIRE(ans.value().self.id() == a.id());
  REQUIRE_FALSE(ans.value().self == b);

  auto bns = b.send(WhoAmI{}).get();
  REQUIRE(bns.value().ctx_id == b.id());
  REQUIRE(bns.value().self == b);

  // The actor can message itself through ctx.address().
  REQUIRE(a.do_send(PingSelf{}).get());
  REQUIRE(rt.wait_until([&] { return self_pings->load() == 1; }));
  rt.advance(10ms);
  REQUIRE(self_pings->load() == 1);
}

RUNTIME_TEST_CASE("system: a child that stops itself sends Terminated{id, normal} to its parent",
                  "[system]") {
  TestType rt;
  Log log = std::make_shared<SharedLog>();
  Parent::Seen seen;
  auto parent = rt.system().spawn(Parent{log, seen});
  auto child = parent.send(GetChild{}).get();
  REQUIRE(child.has_value());
  REQUIRE(child.value());
  REQUIRE(child.value().id() != parent.id());
  REQUIRE(child.value().send(Add{1, 2}).get().value() == 3);
  REQUIRE(seen.terminated->load() == 0);

  REQUIRE(child.value().do_send(StopNow{}).get());
  REQUIRE(rt.wait_until([&] { return seen.terminated->load() == 1; }));
  REQUIRE(seen.last_id->load() == child.value().id().value);
  REQUIRE(seen.last_reason->load() == static_cast<int>(StopReason::normal));
  REQUIRE(log->items() == std::vector<std::string>{"child"});
  REQUIRE(parent.is_alive());
  REQUIRE_FALSE(child.value().is_alive());
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 1; }));
  rt.advance(20ms);
  REQUIRE(seen.terminated->load() == 1);  // delivered once
}

RUNTIME_TEST_CASE("system: a Recipient list holding two actor types delivers to both",
                  "[system]") {
  TestType rt;
  Counter n1 = make_counter();
  Counter n2 = make_counter();
  Addr<PlusOne> p = rt.system().spawn(PlusOne{n1});
  Addr<TimesTen> t = rt.system().spawn(TimesTen{n2});
  std::vector<Recipient<Notify>> subscribers{p.recipient<Notify>(), t.recipient<Notify>()};
  REQUIRE(subscribers[0].id() == p.id());
  REQUIRE(subscribers[1].id() == t.id());
  REQUIRE(subscribers[0].is_alive());

  std::vector<int> replies;
  for (const auto& s : subscribers) replies.push_back(s.send(Notify{4}).get().value());
  REQUIRE(replies == std::vector<int>{5, 40});

  for (const auto& s : subscribers) REQUIRE(s.do_send(Notify{1}).get());
  for (const auto& s : subscribers) REQUIRE(s.try_send(Notify{2}));
  REQUIRE(rt.wait_until([&] { return n1->load() == 3 && n2->load() == 3; }));
  rt.advance(10ms);
  REQUIRE(n1->load() == 3);
  REQUIRE(n2->load() == 3);

  // A stopped subscriber fails with actor_stopped; the other still works.
  t.stop();
  REQUIRE(rt.wait_until([&] { return rt.system().live_actors() == 1; }));
  REQUIRE(subscribers[1].send(Notify{1}).get().is(Errc::actor_stopped));
  REQUIRE(subscribers[1].do_send(Notify{1}).get().is(Errc::actor_stopped));
  REQUIRE(subscribers[1].try_send(Notify{1}).is(Errc::actor_stopped));
  REQUIRE(subscribers[0].send(Notify{9}).get().value() == 10);
}
