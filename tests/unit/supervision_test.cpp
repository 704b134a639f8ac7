// Supervision of children: restart (sliding window, backoff), stop, escalate, and what a
// restart keeps (Addr, id, registry entries, queued messages) and drops (the failing message,
// the old instance's timers and children). Every scenario runs on both runtimes.
#include <catch2/catch.hpp>

#include "support/runtime.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::Actor;
using cineyma::Addr;
using cineyma::Errc;
using cineyma::StopReason;
using cineyma::SupervisorStrategy;
using cineyma::Terminated;
using cineyma::test::Counter;
using cineyma::test::make_counter;

struct Crash {};
struct CrashRequest {
  using reply = int;
};
struct Count {
  using reply = int;
};
struct Get {
  using reply = int;
};

/// Counts its instances' starts and the messages the current instance handled.
class Worker : public Actor<Worker> {
 public:
  Worker(Counter starts, Counter stops, Counter handled)
      : starts_(std::move(starts)), stops_(std::move(stops)), handled_(std::move(handled)) {}
  void started(Context&) { ++*starts_; }
  void stopped(Context&) { ++*stops_; }
  void handle(const Crash&, Context&) { throw std::runtime_error("crash"); }
  int handle(const CrashRequest&, Context&) { throw std::runtime_error("crash"); }
  int handle(const Count&, Context&) {
    ++*handled_;
    return ++mine_;
  }
  int handle(const Get&, Context&) { return mine_; }

 private:
  Counter starts_, stops_, handled_;
  int mine_ = 0;  // per instance: a restart starts again from 0
};

struct SpawnWorker {
  SupervisorStrategy strategy;
  using reply = Addr<Worker>;
};

/// A parent that spawns `Worker` children with a strategy and records their deaths.
class Parent : public Actor<Parent> {
 public:
  Parent(Counter starts, Counter stops, Counter handled, Counter deaths,
         std::shared_ptr<std::atomic<int>> last_reason)
      : starts_(std::move(starts)),
        stops_(std::move(stops)),
        handled_(std::move(handled)),
        deaths_(std::move(deaths)),
        last_reason_(std::move(last_reason)) {}
  Addr<Worker> handle(const SpawnWorker& m, Context& ctx) {
    auto starts = starts_, stops = stops_, handled = handled_;
    return ctx.spawn_child_with_strategy([=] { return Worker(starts, stops, handled); },
                                         m.strategy);
  }
  void handle(const Terminated& t, Context&) {
    last_reason_->store(static_cast<int>(t.reason));
    ++*deaths_;
  }

 private:
  Counter starts_, stops_, handled_, deaths_;
  std::shared_ptr<std::atomic<int>> last_reason_;
};

template <typename Rt>
struct Fixture {
  Rt rt;
  Counter starts = make_counter(), stops = make_counter(), handled = make_counter(),
          deaths = make_counter();
  std::shared_ptr<std::atomic<int>> reason = std::make_shared<std::atomic<int>>(-1);
  Addr<Parent> parent = rt.system().spawn(Parent(starts, stops, handled, deaths, reason));
  Addr<Worker> spawn(SupervisorStrategy s) { return parent.send(SpawnWorker{s}).get().value(); }
};

}  // namespace

RUNTIME_TEST_CASE("supervision: a restarted child keeps its Addr and id, and starts again",
                  "[supervision]") {
  Fixture<TestType> f;
  auto child = f.spawn(SupervisorStrategy::restart(5, 10s));
  const auto id = child.id();
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 1; }));
  for (int i = 2; i <= 4; ++i) {
    REQUIRE(child.try_send(Crash{}));
    REQUIRE(f.rt.wait_until([&] { return f.starts->load() == i; }));
    CHECK(f.stops->load() == i - 1);  // stopped() ran on each old instance
  }
  CHECK(child.is_alive());
  CHECK(child.id() == id);
  CHECK(child.send(Count{}).get().value() == 1);  // a fresh instance: its state starts over
  CHECK(f.deaths->load() == 0);                   // no Terminated for a restart
}

RUNTIME_TEST_CASE("supervision: restart(2, 10s) stops the child at the third failure",
                  "[supervision]") {
  Fixture<TestType> f;
  auto child = f.spawn(SupervisorStrategy::restart(2, 10s));
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 1; }));
  for (int i = 0; i < 3; ++i) {
    CHECK(child.send(CrashRequest{}).get().error() == cineyma::make_error_code(Errc::handler_failed));
  }
  REQUIRE(f.rt.wait_until([&] { return f.deaths->load() == 1; }));
  CHECK(f.starts->load() == 3);
  CHECK(f.reason->load() == static_cast<int>(StopReason::restart_limit));
  CHECK_FALSE(child.is_alive());
  CHECK(child.send(Count{}).get().error() == cineyma::make_error_code(Errc::actor_stopped));
}

RUNTIME_TEST_CASE("supervision: messages queued behind the failing one reach the new instance",
                  "[supervision]") {
  Fixture<TestType> f;
  auto child = f.spawn(SupervisorStrategy::restart(3, 10s));
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 1; }));
  // Two failures queued ahead of five counts: the counts survive both restarts and are
  // handled, in order, by the third instance (sends are lazy: try_send enqueues at once).
  REQUIRE(child.try_send(Crash{}));
  REQUIRE(child.try_send(Crash{}));
  for (int i = 0; i < 5; ++i) REQUIRE(child.try_send(Count{}));
  CHECK(child.send(Get{}).get().value() == 5);
  CHECK(f.starts->load() == 3);
  CHECK(f.handled->load() == 5);
}

RUNTIME_TEST_CASE("supervision: the stop strategy stops a failing child with reason failed",
                  "[supervision]") {
  Fixture<TestType> f;
  auto child = f.spawn(SupervisorStrategy::stop());
  REQUIRE(child.try_send(Crash{}));
  REQUIRE(f.rt.wait_until([&] { return f.deaths->load() == 1; }));
  CHECK(f.reason->load() == static_cast<int>(StopReason::failed));
  CHECK(f.starts->load() == 1);
  CHECK(f.stops->load() == 1);
}

TEMPLATE_TEST_CASE("supervision: backoff delays restarts on the environment clock",
                   "[supervision]", cineyma::test::SimRuntime) {
  Fixture<TestType> f;
  auto child = f.spawn(SupervisorStrategy::restart(10, 1h).with_backoff(100ms, 400ms));
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 1; }));
  const auto t0 = f.rt.env().clock().now();
  REQUIRE(child.try_send(Crash{}));
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 2; }));
  const auto first = f.rt.env().clock().now() - t0;
  CHECK(first >= 50ms);   // jitter keeps it within [min/2, min]
  CHECK(first <= 100ms);
  const auto t1 = f.rt.env().clock().now();
  REQUIRE(child.try_send(Crash{}));
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 3; }));
  const auto second = f.rt.env().clock().now() - t1;
  CHECK(second >= 100ms);  // doubled: [200ms/2, 200ms]
  CHECK(second <= 200ms);
}

namespace {
// Escalation: root → mid (restart 3/10s) → leaf (escalate).
struct Boom {};
class Leaf : public Actor<Leaf> {
 public:
  explicit Leaf(Counter starts) : starts_(std::move(starts)) {}
  void started(Context&) { ++*starts_; }
  void handle(const Boom&, Context&) { throw std::runtime_error("leaf boom"); }

 private:
  Counter starts_;
};
struct GetLeaf {
  using reply = Addr<Leaf>;
};
class Mid : public Actor<Mid> {
 public:
  Mid(Counter mid_starts, Counter leaf_starts, SupervisorStrategy leaf_strategy)
      : mid_starts_(std::move(mid_starts)),
        leaf_starts_(std::move(leaf_starts)),
        leaf_strategy_(leaf_strategy) {}
  void started(Context& ctx) {
    ++*mid_starts_;
    auto starts = leaf_starts_;
    leaf_ = ctx.spawn_child_with_strategy([=] { return Leaf(starts); }, leaf_strategy_);
  }
  Addr<Leaf> handle(const GetLeaf&, Context&) { return leaf_; }
  void handle(const Terminated&, Context&) {}

 private:
  Counter mid_starts_, leaf_starts_;
  SupervisorStrategy leaf_strategy_;
  Addr<Leaf> leaf_;
};
class Watcher : public Actor<Watcher> {
 public:
  Watcher(std::shared_ptr<std::atomic<int>> r, Addr<Mid> t)
      : reason_(std::move(r)), target_(std::move(t)) {}
  void started(Context& ctx) { ctx.watch(target_); }
  void handle(const Terminated& t, Context&) { reason_->store(static_cast<int>(t.reason)); }

 private:
  std::shared_ptr<std::atomic<int>> reason_;
  Addr<Mid> target_;
};
struct SpawnMid {
  SupervisorStrategy strategy;
  using reply = Addr<Mid>;
};
class Root : public Actor<Root> {
 public:
  Root(Counter mid_starts, Counter leaf_starts, Counter deaths)
      : mid_starts_(std::move(mid_starts)),
        leaf_starts_(std::move(leaf_starts)),
        deaths_(std::move(deaths)) {}
  Addr<Mid> handle(const SpawnMid& m, Context& ctx) {
    auto ms = mid_starts_, ls = leaf_starts_;
    return ctx.spawn_child_with_strategy(
        [=] { return Mid(ms, ls, SupervisorStrategy::escalate()); }, m.strategy);
  }
  void handle(const Terminated&, Context&) { ++*deaths_; }

 private:
  Counter mid_starts_, leaf_starts_, deaths_;
};
}  // namespace

RUNTIME_TEST_CASE("supervision: escalate restarts the parent, which spawns a new child",
                  "[supervision]") {
  TestType rt;
  auto mid_starts = make_counter(), leaf_starts = make_counter(), deaths = make_counter();
  auto root = rt.system().spawn(Root(mid_starts, leaf_starts, deaths));
  auto mid = root.send(SpawnMid{SupervisorStrategy::restart(3, 10s)}).get().value();
  auto leaf = mid.send(GetLeaf{}).get().value();
  REQUIRE(leaf.try_send(Boom{}));
  REQUIRE(rt.wait_until([&] { return mid_starts->load() == 2 && leaf_starts->load() == 2; }));
  auto new_leaf = mid.send(GetLeaf{}).get().value();
  CHECK(new_leaf.id() != leaf.id());  // the restarted parent spawned a brand-new grandchild
  CHECK_FALSE(leaf.is_alive());
  CHECK(new_leaf.is_alive());
  CHECK(mid.is_alive());
  CHECK(deaths->load() == 0);
}

RUNTIME_TEST_CASE("supervision: an escalation reaching a top-level actor stops it (escalated)",
                  "[supervision]") {
  TestType rt;
  auto mid_starts = make_counter(), leaf_starts = make_counter();
  auto reason = std::make_shared<std::atomic<int>>(-1);
  // Mid as a top-level actor whose leaf escalates.
  auto mid = rt.system().spawn(Mid(mid_starts, leaf_starts, SupervisorStrategy::escalate()));
  rt.system().spawn(Watcher(reason, mid));
  auto leaf = mid.send(GetLeaf{}).get().value();
  REQUIRE(leaf.try_send(Boom{}));
  REQUIRE(rt.wait_until([&] { return reason->load() != -1; }));
  CHECK(reason->load() == static_cast<int>(StopReason::escalated));
  CHECK_FALSE(mid.is_alive());
  CHECK(mid_starts->load() == 1);
}

namespace {
struct SpawnThree {
  SupervisorStrategy strategy;
  using reply = std::vector<Addr<Worker>>;
};
/// Spawns three restartable workers, each with its own start counter.
class GroupParent : public Actor<GroupParent> {
 public:
  GroupParent(cineyma::RestartGroup group, std::vector<Counter> starts)
      : group_(group), starts_(std::move(starts)) {}
  void started(Context& ctx) { ctx.set_restart_group(group_); }
  std::vector<Addr<Worker>> handle(const SpawnThree& m, Context& ctx) {
    std::vector<Addr<Worker>> out;
    for (const Counter& c : starts_) {
      Counter s = c, stops = make_counter(), handled = make_counter();
      out.push_back(ctx.spawn_child_with_strategy([=] { return Worker(s, stops, handled); },
                                                  m.strategy));
    }
    return out;
  }

 private:
  cineyma::RestartGroup group_;
  std::vector<Counter> starts_;
};

template <typename Rt>
std::vector<int> restart_group_scenario(cineyma::RestartGroup group, std::size_t crash_index) {
  Rt rt;
  std::vector<Counter> starts{make_counter(), make_counter(), make_counter()};
  auto parent = rt.system().spawn(GroupParent(group, starts));
  auto kids = parent.send(SpawnThree{SupervisorStrategy::restart(5, 10s)}).get().value();
  REQUIRE(rt.wait_until([&] {
    return starts[0]->load() == 1 && starts[1]->load() == 1 && starts[2]->load() == 1;
  }));
  REQUIRE(kids[crash_index].try_send(Crash{}));
  // Every child answers after its (possible) restart; the expected restarts are awaited.
  const int expected_total = group == cineyma::RestartGroup::one_for_one    ? 4
                             : group == cineyma::RestartGroup::one_for_all ? 6
                                                                          : 3 + 3 - static_cast<int>(crash_index);
  REQUIRE(rt.wait_until([&] {
    return starts[0]->load() + starts[1]->load() + starts[2]->load() == expected_total;
  }));
  for (auto& k : kids) CHECK(k.send(Get{}).get().value() == 0);
  return {starts[0]->load(), starts[1]->load(), starts[2]->load()};
}
}  // namespace

RUNTIME_TEST_CASE("supervision: one_for_one restarts only the failing child", "[supervision]") {
  CHECK(restart_group_scenario<TestType>(cineyma::RestartGroup::one_for_one, 1) ==
        std::vector<int>{1, 2, 1});
}

RUNTIME_TEST_CASE("supervision: one_for_all restarts every restartable sibling",
                  "[supervision]") {
  CHECK(restart_group_scenario<TestType>(cineyma::RestartGroup::one_for_all, 1) ==
        std::vector<int>{2, 2, 2});
}

RUNTIME_TEST_CASE("supervision: rest_for_one restarts the failing child and those after it",
                  "[supervision]") {
  CHECK(restart_group_scenario<TestType>(cineyma::RestartGroup::rest_for_one, 1) ==
        std::vector<int>{1, 2, 2});
}

TEMPLATE_TEST_CASE("supervision: an exception injected by the simulator is a supervised failure",
                   "[supervision][faults]", cineyma::test::SimRuntime) {
  Fixture<TestType> f;
  auto child = f.spawn(SupervisorStrategy::restart(5, 10s));
  REQUIRE(f.rt.wait_until([&] { return f.starts->load() == 1; }));
  // Two injections: the next request's handler never runs (the requester gets
  // handler_failed), then the new instance's started() fails too, so it restarts twice.
  f.rt.node().inject_exception(child.id(), 2);
  CHECK(child.send(Count{}).get().error() == cineyma::make_error_code(Errc::handler_failed));
  CHECK(child.send(Count{}).get().value() == 1);
  CHECK(f.handled->load() == 1);  // the injected failure replaced the handler: it never ran
  CHECK(f.starts->load() == 2);   // the second started() was the injected one: it never ran
  CHECK(f.stops->load() == 2);
  CHECK(f.rt.node().injected_exceptions() == 2);
  CHECK(f.deaths->load() == 0);
}
