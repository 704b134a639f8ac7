// A supervision tree three levels deep (root → 3 supervisors → 3 workers each) under
// exceptions injected by the simulator at random points: into any handler, timer tick,
// stream item or started() hook, with a seeded probability. Workers tick on intervals and
// flood their supervisor's tiny mailbox, so system notifications must get through full
// mailboxes. Whatever the seed, after a shutdown:
//   * no actor instance is left alive (every constructed instance was destroyed),
//   * no timer is left (the simulation goes idle at once: nothing re-arms),
//   * the system counts no live actor (a lost Terminated would leave a parent waiting for its
//     child forever, and shutdown would not complete),
//   * no parent heard of one child's death twice.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "support/runtime.hpp"

#include <map>
#include <memory>
#include <sstream>

namespace {

using namespace std::chrono_literals;
using cineyma::Actor;
using cineyma::ActorId;
using cineyma::Addr;
using cineyma::Duration;
using cineyma::SupervisorStrategy;
using cineyma::Terminated;

/// Counts live actor instances: every constructor adds one, every destructor removes one
/// (moved-from instances included), so the count is zero exactly when none is left.
struct Census {
  int live = 0;
  int constructed = 0;
  int duplicate_terminated = 0;
  int terminated = 0;
};
using CensusPtr = std::shared_ptr<Census>;

class LiveToken {
 public:
  explicit LiveToken(CensusPtr c) : c_(std::move(c)) { up(); }
  LiveToken(const LiveToken& o) : c_(o.c_) { up(); }
  LiveToken(LiveToken&& o) noexcept : c_(o.c_) { up(); }
  LiveToken& operator=(const LiveToken&) = delete;
  ~LiveToken() { --c_->live; }
  Census& census() const { return *c_; }

 private:
  void up() {
    ++c_->live;
    ++c_->constructed;
  }
  CensusPtr c_;
};

struct Tick {};
struct Report {
  int n;
};

/// Records the deaths of its children, complaining about duplicates.
class DeathLog {
 public:
  void note(const Terminated& t, Census& c) {
    ++c.terminated;
    if (++seen_[t.id] > 1) ++c.duplicate_terminated;
  }

 private:
  std::map<ActorId, int> seen_;
};

class Worker : public Actor<Worker> {
 public:
  Worker(CensusPtr c, Addr<class Supervisor> boss, Duration period)
      : token_(c), boss_(std::move(boss)), period_(period) {}
  void started(Context& ctx) {
    ctx.run_interval(period_, Tick{});
    ctx.run_later(period_ * 3, Tick{});
    ctx.add_stream(items());
  }
  void handle(const Tick&, Context&);
  void handle_stream(int, Context&) {}

 private:
  static cineyma::Generator<int> items() {
    for (int i = 0; i < 5; ++i) co_yield i;
  }
  LiveToken token_;
  Addr<class Supervisor> boss_;
  Duration period_;
  int n_ = 0;
};

class Supervisor : public Actor<Supervisor> {
 public:
  Supervisor(CensusPtr c, SupervisorStrategy worker_strategy, Duration period)
      : token_(c), census_(std::move(c)), strategy_(worker_strategy), period_(period) {}
  void started(Context& ctx) {
    ctx.set_restart_group(cineyma::RestartGroup::one_for_one);
    for (int i = 0; i < 3; ++i) {
      CensusPtr c = census_;
      Addr<Supervisor> self = ctx.address();
      Duration p = period_ + Duration(i * 1000000);  // 1 ms apart
      ctx.spawn_child_with_strategy([c, self, p] { return Worker(c, self, p); }, strategy_);
    }
    ctx.run_interval(period_ * 2, Tick{});
  }
  void handle(const Report&, Context&) {}
  void handle(const Tick&, Context&) {}
  void handle(const Terminated& t, Context&) { deaths_.note(t, *census_); }

 private:
  LiveToken token_;
  CensusPtr census_;
  SupervisorStrategy strategy_;
  Duration period_;
  DeathLog deaths_;
};

void Worker::handle(const Tick&, Context&) {
  // Flood the supervisor's two-slot mailbox: most of these are refused (mailbox_full), and
  // the supervisor must still hear about every death.
  for (int i = 0; i < 3; ++i) (void)boss_.try_send(Report{++n_});
}

class Root : public Actor<Root> {
 public:
  Root(CensusPtr c, SupervisorStrategy mid_strategy, SupervisorStrategy worker_strategy,
       Duration period)
      : token_(c),
        census_(std::move(c)),
        mid_(mid_strategy),
        worker_(worker_strategy),
        period_(period) {}
  void started(Context& ctx) {
    ctx.set_restart_group(cineyma::RestartGroup::rest_for_one);
    for (int i = 0; i < 3; ++i) {
      CensusPtr c = census_;
      SupervisorStrategy w = worker_;
      Duration p = period_;
      (void)ctx.spawn_child_with_strategy_and_capacity([c, w, p] { return Supervisor(c, w, p); },
                                                       mid_, 2);
    }
  }
  void handle(const Terminated& t, Context&) { deaths_.note(t, *census_); }

 private:
  LiveToken token_;
  CensusPtr census_;
  SupervisorStrategy mid_, worker_;
  Duration period_;
  DeathLog deaths_;
};

/// Above the tree: restarts the root (so that the tree is rebuilt when the root fails), and
/// is itself never faulted (faults are armed after its start, and it only hears deaths).
class Guardian : public Actor<Guardian> {
 public:
  Guardian(CensusPtr c, SupervisorStrategy mid, SupervisorStrategy worker, Duration period)
      : token_(c), census_(std::move(c)), mid_(mid), worker_(worker), period_(period) {}
  void started(Context& ctx) {
    CensusPtr c = census_;
    SupervisorStrategy m = mid_, w = worker_;
    Duration p = period_;
    ctx.spawn_child_with_strategy([c, m, w, p] { return Root(c, m, w, p); },
                                  SupervisorStrategy::restart(1000, 1s));
  }
  void handle(const Terminated& t, Context&) { deaths_.note(t, *census_); }

 private:
  LiveToken token_;
  CensusPtr census_;
  SupervisorStrategy mid_, worker_;
  Duration period_;
  DeathLog deaths_;
};

SupervisorStrategy strategy_of(int k) {
  switch (k) {
    case 0: return SupervisorStrategy::restart(3, 1s);
    case 1: return SupervisorStrategy::restart(5, 500ms).with_backoff(5ms, 80ms);
    case 2: return SupervisorStrategy::escalate();
    default: return SupervisorStrategy::stop();
  }
}

}  // namespace

TEST_CASE("property: a 3-level tree under random injected faults leaks nothing",
          "[property][supervision][faults]") {
  rc::prop("no actor, timer or notification is lost, whatever the seed", [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const auto one_in = *rc::gen::resize(100, rc::gen::inRange(3, 60));
    // Supervisors restart (with or without backoff) or escalate; a supervisor that merely
    // stops would leave the tree idle after its first fault.
    const int mid_kind = *rc::gen::resize(100, rc::gen::inRange(0, 3));
    const int worker_kind = *rc::gen::resize(100, rc::gen::inRange(0, 4));
    const auto period = Duration(std::chrono::milliseconds(*rc::gen::resize(100, rc::gen::inRange(2, 20))));
    RC_LOG() << "seed=" << seed << " faults=1/" << one_in << " mid=" << mid_kind
             << " worker=" << worker_kind << "\n";

    cineyma::sim::Simulation sim(seed);
    cineyma::sim::Node& node = sim.add_node("tree");
    auto census = std::make_shared<Census>();
    {
      cineyma::ActorSystem system(node.environment());
      system.spawn(Guardian(census, strategy_of(mid_kind), strategy_of(worker_kind), period));
      sim.run_for(10ms);  // the guardian has started; from here on anything may fail
      node.set_callback_exceptions({1, static_cast<std::uint64_t>(one_in)});
      sim.run_for(3s);
      node.set_callback_exceptions({});
      const auto faults = node.injected_exceptions();
      RC_TAG(faults < 20 ? "< 20 faults" : faults < 200 ? "20-200 faults" : ">= 200 faults");
      RC_ASSERT(system.shutdown(60s));
      RC_ASSERT(system.live_actors() == 0u);
    }
    RC_ASSERT(census->live == 0);
    RC_ASSERT(census->duplicate_terminated == 0);
    RC_ASSERT(census->constructed > 0);
    // No timer survives its instance: nothing is left to run, so the simulation is idle now.
    RC_ASSERT(!sim.step());
  });
}
