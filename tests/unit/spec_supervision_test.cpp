// SPEC-original §7 tests 17–24 (tests/supervision.rs of the original), one case each, on both
// runtimes. Where the original waited a fixed 50–100 ms, these wait on the condition itself
// (virtual time under the simulator, a generous deadline on the real runtime). Tests 25–27
// are in stream_test.cpp; the deeper supervision scenarios in supervision_test.cpp.
#include <catch2/catch.hpp>

#include "support/runtime.hpp"

#include <stdexcept>

namespace {

using namespace std::chrono_literals;
using cineyma::Actor;
using cineyma::Addr;
using cineyma::StopReason;
using cineyma::SupervisorStrategy;
using cineyma::Terminated;
using cineyma::test::Counter;
using cineyma::test::make_counter;

struct Crash {};
struct Normal {};
struct StopSelf {};

/// Counts starts, stops and handled messages; crashes or stops itself on request.
class Probe : public Actor<Probe> {
 public:
  Probe(Counter starts, Counter stops, Counter handled = make_counter())
      : starts_(std::move(starts)), stops_(std::move(stops)), handled_(std::move(handled)) {}
  void started(Context&) { ++*starts_; }
  void stopped(Context&) { ++*stops_; }
  void handle(const Crash&, Context&) { throw std::runtime_error("crash"); }
  void handle(const Normal&, Context&) { ++*handled_; }
  void handle(const StopSelf&, Context& ctx) { ctx.stop(); }

 private:
  Counter starts_, stops_, handled_;
};

/// Watches `target` from started() and records the Terminated it gets.
class Monitor : public Actor<Monitor> {
 public:
  Monitor(Addr<Probe> target, Counter terminated) : target_(target), terminated_(terminated) {}
  void started(Context& ctx) { ctx.watch(target_); }
  void handle(const Terminated&, Context&) { ++*terminated_; }

 private:
  Addr<Probe> target_;
  Counter terminated_;
};

struct GetChild {
  using reply = Addr<Probe>;
};

/// Spawns one child in started() (plain, or supervised with `strategy` via a factory) and
/// counts the Terminated messages of its children.
class Parent : public Actor<Parent> {
 public:
  Parent(Counter child_starts, Counter child_stops, Counter terminated,
         std::optional<SupervisorStrategy> strategy = std::nullopt)
      : child_starts_(child_starts),
        child_stops_(child_stops),
        terminated_(terminated),
        strategy_(strategy) {}
  void started(Context& ctx) {
    Counter starts = child_starts_, stops = child_stops_;
    if (strategy_) {
      child_ = ctx.spawn_child_with_strategy([=] { return Probe(starts, stops); }, *strategy_);
    } else {
      child_ = ctx.spawn_child(Probe(starts, stops));
    }
  }
  Addr<Probe> handle(const GetChild&, Context&) { return child_; }
  void handle(const Terminated&, Context&) { ++*terminated_; }

 private:
  Counter child_starts_, child_stops_, terminated_;
  std::optional<SupervisorStrategy> strategy_;
  Addr<Probe> child_;
};

}  // namespace

RUNTIME_TEST_CASE("spec 17: a top-level handler that throws still runs stopped()",
                  "[spec][supervision]") {
  TestType rt;
  auto starts = make_counter(), stops = make_counter();
  auto a = rt.system().spawn(Probe(starts, stops));
  REQUIRE(a.try_send(Crash{}));
  REQUIRE(rt.wait_until([&] { return stops->load() == 1; }));
  CHECK_FALSE(a.is_alive());
}

RUNTIME_TEST_CASE("spec 18: normal messages don't stop an actor, shutdown then does",
                  "[spec][supervision]") {
  TestType rt;
  auto starts = make_counter(), stops = make_counter(), handled = make_counter();
  auto a = rt.system().spawn(Probe(starts, stops, handled));
  for (int i = 0; i < 3; ++i) REQUIRE(a.try_send(Normal{}));
  REQUIRE(rt.wait_until([&] { return handled->load() == 3; }));
  CHECK(a.is_alive());
  CHECK(stops->load() == 0);
  REQUIRE(rt.system().shutdown(10s));
  CHECK(stops->load() == 1);
}

RUNTIME_TEST_CASE("spec 19: a monitor watching from started() hears of the worker's death",
                  "[spec][supervision]") {
  TestType rt;
  auto starts = make_counter(), stops = make_counter(), terminated = make_counter();
  auto worker = rt.system().spawn(Probe(starts, stops));
  rt.system().spawn(Monitor(worker, terminated));
  REQUIRE(worker.try_send(StopSelf{}));
  REQUIRE(rt.wait_until([&] { return terminated->load() == 1; }));
}

RUNTIME_TEST_CASE("spec 20: stopping a parent stops its child first", "[spec][supervision]") {
  TestType rt;
  auto cstarts = make_counter(), cstops = make_counter(), terminated = make_counter();
  auto parent = rt.system().spawn(Parent(cstarts, cstops, terminated));
  auto child = parent.send(GetChild{}).get().value();
  parent.stop();
  REQUIRE(rt.wait_until([&] { return !parent.is_alive() && cstops->load() == 1; }));
  CHECK_FALSE(child.is_alive());
}

RUNTIME_TEST_CASE("spec 21: a child that stops notifies its parent", "[spec][supervision]") {
  TestType rt;
  auto cstarts = make_counter(), cstops = make_counter(), terminated = make_counter();
  auto parent = rt.system().spawn(Parent(cstarts, cstops, terminated));
  auto child = parent.send(GetChild{}).get().value();
  REQUIRE(child.try_send(StopSelf{}));
  REQUIRE(rt.wait_until([&] { return terminated->load() == 1; }));
  CHECK(parent.is_alive());
}

RUNTIME_TEST_CASE("spec 22: restart(5, 10s) restarts on each crash: started 1, 2, 3, 4",
                  "[spec][supervision]") {
  TestType rt;
  auto cstarts = make_counter(), cstops = make_counter(), terminated = make_counter();
  auto parent = rt.system().spawn(
      Parent(cstarts, cstops, terminated, SupervisorStrategy::restart(5, 10s)));
  auto child = parent.send(GetChild{}).get().value();
  REQUIRE(rt.wait_until([&] { return cstarts->load() == 1; }));
  for (int i = 2; i <= 4; ++i) {
    REQUIRE(child.try_send(Crash{}));
    REQUIRE(rt.wait_until([&] { return cstarts->load() == i; }));
    rt.advance(50ms);  // the original spaced its crashes 50 ms apart
  }
  CHECK(child.is_alive());
  CHECK(terminated->load() == 0);
}

RUNTIME_TEST_CASE("spec 23: restart(2, 10s) stops the child at the third crash",
                  "[spec][supervision]") {
  TestType rt;
  auto cstarts = make_counter(), cstops = make_counter(), terminated = make_counter();
  auto parent = rt.system().spawn(
      Parent(cstarts, cstops, terminated, SupervisorStrategy::restart(2, 10s)));
  auto child = parent.send(GetChild{}).get().value();
  for (int i = 0; i < 3; ++i) REQUIRE(child.try_send(Crash{}));
  REQUIRE(rt.wait_until([&] { return terminated->load() == 1; }));
  CHECK(cstarts->load() == 3);
  CHECK_FALSE(child.is_alive());
}

namespace {
/// The middle of test 24: restartable, with an escalating grandchild spawned in started().
class Middle : public Actor<Middle> {
 public:
  Middle(Counter starts, Counter gc_starts) : starts_(starts), gc_starts_(gc_starts) {}
  void started(Context& ctx) {
    ++*starts_;
    Counter gs = gc_starts_, gstops = make_counter();
    grandchild_ =
        ctx.spawn_child_with_strategy([=] { return Probe(gs, gstops); }, SupervisorStrategy::escalate());
  }
  Addr<Probe> handle(const GetChild&, Context&) { return grandchild_; }
  void handle(const Terminated&, Context&) {}

 private:
  Counter starts_, gc_starts_;
  Addr<Probe> grandchild_;
};
struct GetMiddle {
  using reply = Addr<Middle>;
};
class Grandparent : public Actor<Grandparent> {
 public:
  Grandparent(Counter mstarts, Counter gcstarts) : mstarts_(mstarts), gcstarts_(gcstarts) {}
  void started(Context& ctx) {
    Counter m = mstarts_, g = gcstarts_;
    middle_ = ctx.spawn_child_with_strategy([=] { return Middle(m, g); },
                                            SupervisorStrategy::restart(3, 10s));
  }
  Addr<Middle> handle(const GetMiddle&, Context&) { return middle_; }
  void handle(const Terminated&, Context&) {}

 private:
  Counter mstarts_, gcstarts_;
  Addr<Middle> middle_;
};
}  // namespace

RUNTIME_TEST_CASE("spec 24: an escalating grandchild restarts its parent, which spawns a new one",
                  "[spec][supervision]") {
  TestType rt;
  auto mstarts = make_counter(), gcstarts = make_counter();
  auto gp = rt.system().spawn(Grandparent(mstarts, gcstarts));
  auto middle = gp.send(GetMiddle{}).get().value();
  auto grandchild = middle.send(GetChild{}).get().value();
  REQUIRE(grandchild.try_send(Crash{}));
  REQUIRE(rt.wait_until([&] { return mstarts->load() == 2 && gcstarts->load() == 2; }));
  CHECK(middle.is_alive());
  CHECK(gp.is_alive());
}
