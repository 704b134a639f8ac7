// A RapidCheck *stateful* property of supervision, on the deterministic runtime.
//
// A top-level parent supervises one child under a generated strategy (stop, restart with a
// sliding window, restart with backoff, escalate). RapidCheck generates a sequence of
// commands — messages, requests, exceptions thrown by the simulator's fault injection, stops
// and time advances — and every command is checked against a model of the supervision rules:
// restart counts and window, backoff delay bounds, which instance handles what, no message
// handled twice or lost, and exactly one Terminated with the right reason. A failing sequence
// shrinks to a minimal one and is printed with the simulation seed.
//
// Time is exact: after each command the simulation runs only what is due *now*
// (`run_for(0)`), so a failure happens at the model's time; a backoff restart is then awaited
// by running the simulation to the end of its delay bound.
#include <catch2/catch.hpp>
#include "support/property.hpp"
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "support/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::Actor;
using cineyma::Addr;
using cineyma::Duration;
using cineyma::Errc;
using cineyma::make_error_code;
using cineyma::StopReason;
using cineyma::SupervisorStrategy;
using cineyma::Terminated;
using cineyma::TimePoint;

// ---------------------------------------------------------------------------------------------
// the system under test

/// What the actors report (one simulation thread: no locking needed, but atomics keep the
/// types honest).
struct Observed {
  int starts = 0;
  int stops = 0;
  std::vector<int> handled;  // every Work seq handled, in order
  int terminated = 0;        // Terminated messages the parent received
  StopReason reason = StopReason::normal;
};
using ObservedPtr = std::shared_ptr<Observed>;

struct Work {
  int seq;
  using reply = int;  // the instance's count so far
};
struct Get {
  using reply = int;
};

class Child : public Actor<Child> {
 public:
  explicit Child(ObservedPtr o) : o_(std::move(o)) {}
  void started(Context&) { ++o_->starts; }
  void stopped(Context&) { ++o_->stops; }
  int handle(const Work& w, Context&) {
    o_->handled.push_back(w.seq);
    return ++count_;
  }
  int handle(const Get&, Context&) { return count_; }

 private:
  ObservedPtr o_;
  int count_ = 0;  // per instance
};

struct SpawnChild {
  SupervisorStrategy strategy;
  using reply = Addr<Child>;
};

class Parent : public Actor<Parent> {
 public:
  explicit Parent(ObservedPtr o) : o_(std::move(o)) {}
  Addr<Child> handle(const SpawnChild& m, Context& ctx) {
    ObservedPtr o = o_;
    return ctx.spawn_child_with_strategy([o] { return Child(o); }, m.strategy);
  }
  void handle(const Terminated& t, Context&) {
    ++o_->terminated;
    o_->reason = t.reason;
  }

 private:
  ObservedPtr o_;
};

enum class Kind { stop, restart, backoff, escalate };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::stop: return "stop";
    case Kind::restart: return "restart";
    case Kind::backoff: return "restart+backoff";
    case Kind::escalate: return "escalate";
  }
  return "?";
}

struct Config {
  std::uint64_t seed;
  Kind kind;
  std::uint32_t max_restarts;
  Duration within;
  Duration backoff_min;
  Duration backoff_max;

  SupervisorStrategy strategy() const {
    switch (kind) {
      case Kind::stop: return SupervisorStrategy::stop();
      case Kind::restart: return SupervisorStrategy::restart(max_restarts, within);
      case Kind::backoff:
        return SupervisorStrategy::restart(max_restarts, within).with_backoff(backoff_min,
                                                                               backoff_max);
      case Kind::escalate: return SupervisorStrategy::escalate();
    }
    return SupervisorStrategy::stop();
  }
  friend void showValue(const Config& c, std::ostream& os) { os << c.describe(); }
  std::string describe() const {
    std::ostringstream os;
    os << "seed=" << seed << " strategy=" << kind_name(kind) << " max_restarts=" << max_restarts
       << " within=" << within.count() / 1000000 << "ms backoff=[" << backoff_min.count() / 1000000
       << "ms," << backoff_max.count() / 1000000 << "ms]";
    return os.str();
  }
};

struct Sut {
  explicit Sut(const Config& c) : rt(c.seed) {
    parent = rt.system().spawn(Parent(observed));
    child = parent.send(SpawnChild{c.strategy()}).get().value();
    settle();
  }
  /// Runs everything due at the current virtual time, and nothing later.
  void settle() { rt.simulation().run_for(Duration::zero()); }

  cineyma::test::SimRuntime rt;
  ObservedPtr observed = std::make_shared<Observed>();
  Addr<Parent> parent;
  Addr<Child> child;
};

// ---------------------------------------------------------------------------------------------
// the model

struct Model {
  Config config;
  TimePoint now{};
  bool child_alive = true;
  bool parent_alive = true;
  int starts = 1;
  int stops = 0;
  int instance_count = 0;
  int next_seq = 0;
  std::vector<int> handled;
  std::vector<TimePoint> restarts;  // inside the window, ascending
  int terminated = 0;
  StopReason reason = StopReason::normal;

  void child_dies(StopReason r) {
    child_alive = false;
    ++stops;
    ++terminated;
    reason = r;
  }

  /// The child's handler failed at `now`. Returns the backoff bound to wait for, if any.
  std::optional<Duration> fail() {
    switch (config.kind) {
      case Kind::stop:
        child_dies(StopReason::failed);
        return std::nullopt;
      case Kind::escalate:
        child_dies(StopReason::escalated);
        parent_alive = false;  // the top-level parent fails in turn and stops
        return std::nullopt;
      case Kind::restart:
      case Kind::backoff:
        break;
    }
    // The sliding window: restarts older than `within` are forgotten (one exactly that old
    // still counts); at `max_restarts` inside the window the child stops instead.
    std::erase_if(restarts, [&](TimePoint t) { return now - t > config.within; });
    if (restarts.size() >= config.max_restarts) {
      child_dies(StopReason::restart_limit);
      return std::nullopt;
    }
    restarts.push_back(now);
    ++stops;
    ++starts;
    instance_count = 0;
    if (config.kind != Kind::backoff) return std::nullopt;
    // Capped exponential over the restarts in the window; the runtime jitters it into
    // [bound/2, bound].
    Duration bound = config.backoff_min;
    for (std::size_t i = 1; i < restarts.size() && bound < config.backoff_max; ++i) bound *= 2;
    return std::min(bound, config.backoff_max);
  }
};

void check_observed(const Model& m, Sut& s) {
  const Observed& o = *s.observed;
  RC_ASSERT(o.handled == m.handled);  // nothing lost, nothing handled twice, in order
  RC_ASSERT(o.starts == m.starts);
  RC_ASSERT(o.stops == m.stops);
  RC_ASSERT(o.terminated == m.terminated);  // at most one, and only when the model says
  if (m.terminated > 0) RC_ASSERT(o.reason == m.reason);
  RC_ASSERT(s.child.is_alive() == m.child_alive);
  RC_ASSERT(s.parent.is_alive() == m.parent_alive);
}

using Command = rc::state::Command<Model, Sut>;

/// One-way messages.
struct SendWork : Command {
  int n = *rc::gen::resize(100, rc::gen::inRange(1, 4));
  void apply(Model& m) const override {
    for (int i = 0; i < n; ++i) {
      const int seq = m.next_seq++;
      if (m.child_alive) {
        m.handled.push_back(seq);
        ++m.instance_count;
      }
    }
  }
  void run(const Model& m, Sut& s) const override {
    for (int i = 0; i < n; ++i) {
      cineyma::Result<void> r = s.child.try_send(Work{m.next_seq + i});
      RC_ASSERT(static_cast<bool>(r) == m.child_alive);
      if (!r) RC_ASSERT(r.is(Errc::actor_stopped));
    }
    s.settle();
    Model next = m;
    apply(next);
    check_observed(next, s);
  }
  void show(std::ostream& os) const override { os << "SendWork(" << n << ")"; }
};

/// A request: its reply is the current instance's count (state starts over on restart).
struct Ask : Command {
  void apply(Model&) const override {}
  void run(const Model& m, Sut& s) const override {
    cineyma::Result<int> r = s.child.send(Get{}).get();
    if (m.child_alive) {
      RC_ASSERT(r.has_value());
      RC_ASSERT(r.value() == m.instance_count);
    } else {
      RC_ASSERT(r.error() == make_error_code(Errc::actor_stopped));
    }
    s.settle();
    check_observed(m, s);
  }
  void show(std::ostream& os) const override { os << "Ask"; }
};

/// The simulator injects an exception into the child's next handler, then a Work message
/// (one-way or a request) arrives: it is the one that fails, and it is never redelivered.
struct InjectFault : Command {
  bool as_request = *rc::gen::arbitrary<bool>();
  void apply(Model& m) const override {
    m.next_seq++;
    if (!m.child_alive) return;
    if (std::optional<Duration> bound = m.fail()) m.now += *bound;
  }
  void run(const Model& m, Sut& s) const override {
    const int seq = m.next_seq;
    if (m.child_alive) s.rt.node().inject_exception(s.child.id());
    const TimePoint t0 = s.rt.simulation().now();
    if (as_request) {
      cineyma::Result<int> r = s.child.send(Work{seq}).get();
      RC_ASSERT(r.error() == make_error_code(m.child_alive ? Errc::handler_failed
                                                            : Errc::actor_stopped));
    } else {
      cineyma::Result<void> r = s.child.try_send(Work{seq});
      RC_ASSERT(static_cast<bool>(r) == m.child_alive);
    }
    s.settle();
    RC_ASSERT(s.rt.simulation().now() == t0);  // no time passed: the failure is at `now`
    Model next = m;
    const std::optional<Duration> bound = m.child_alive ? next.fail() : std::nullopt;
    next.next_seq++;
    if (bound) {
      // The backoff: no new instance before bound/2, one by the bound.
      const Duration half = Duration(bound->count() / 2);
      if (half > Duration::zero()) {
        s.rt.simulation().run_for(half - Duration(1));
        RC_ASSERT(s.observed->starts == m.starts);
      }
      s.rt.simulation().run_for(*bound - (s.rt.simulation().now() - t0));
      RC_ASSERT(s.rt.simulation().now() == t0 + *bound);
    }
    check_observed(next, s);
  }
  void show(std::ostream& os) const override {
    os << "InjectFault(" << (as_request ? "request" : "one-way") << ")";
  }
};

/// The child is stopped from outside: Terminated{normal} once, no restart. Only after some
/// traffic, so that most sequences get to exercise the restart window first.
struct StopChild : Command {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.next_seq >= 12); }
  void apply(Model& m) const override {
    if (m.child_alive) m.child_dies(StopReason::normal);
  }
  void run(const Model& m, Sut& s) const override {
    s.child.stop();
    s.settle();
    Model next = m;
    apply(next);
    check_observed(next, s);
  }
  void show(std::ostream& os) const override { os << "StopChild"; }
};

/// Virtual time passes (restarts leave the window).
struct Advance : Command {
  Duration d = std::chrono::milliseconds(*rc::gen::resize(100, rc::gen::inRange(1, 3000)));
  void apply(Model& m) const override { m.now += d; }
  void run(const Model& m, Sut& s) const override {
    s.rt.simulation().run_for(d);
    check_observed(m, s);
  }
  void show(std::ostream& os) const override {
    os << "Advance(" << std::chrono::duration_cast<std::chrono::milliseconds>(d).count()
       << "ms)";
  }
};

rc::Gen<Config> gen_config() {
  return rc::gen::apply(
      [](std::uint64_t seed, int kind, std::uint32_t max_restarts, int within_ms, int bmin_ms,
         int bmax_extra_ms) {
        return Config{seed,
                      static_cast<Kind>(kind),
                      max_restarts,
                      std::chrono::milliseconds(within_ms),
                      std::chrono::milliseconds(bmin_ms),
                      std::chrono::milliseconds(bmin_ms + bmax_extra_ms)};
      },
      // resize(100): RapidCheck scales ranges with the test's size, which would make the first
      // thousands of cases all "stop, max_restarts 0"; the strategy is drawn uniformly instead.
      rc::gen::arbitrary<std::uint64_t>(), rc::gen::resize(100, rc::gen::inRange(0, 4)),
      rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(0, 5)),
      rc::gen::resize(100, rc::gen::inRange(1, 5000)),
      rc::gen::resize(100, rc::gen::inRange(1, 200)),
      rc::gen::resize(100, rc::gen::inRange(0, 2000)));
}

}  // namespace

TEST_CASE("property: supervision agrees with its model under injected faults (stateful)",
          "[property][supervision][stateful]") {
  cineyma::test::check_cases("supervision stateful model", 10000, [] {
    const Config config = *gen_config();
    RC_LOG() << config.describe() << "\n";
    Model model;
    model.config = config;
    Sut sut(config);
    check_observed(model, sut);
    rc::state::check(model, sut,
                     // Faults listed thrice: a failure-heavy mix reaches the window's limit.
                     rc::state::gen::execOneOfWithArgs<SendWork, Ask, InjectFault, InjectFault,
                                                       InjectFault, StopChild, Advance>());
    // Whatever happened, a shutdown stops everything and every started instance stopped once.
    RC_ASSERT(sut.rt.system().shutdown(60s));
    RC_ASSERT(sut.rt.system().live_actors() == 0u);
    RC_ASSERT(sut.observed->stops == sut.observed->starts);
    RC_ASSERT(sut.observed->terminated <= 1);
    // The printed distribution shows that every strategy reaches several restarts.
    RC_TAG(kind_name(config.kind), std::min(sut.observed->starts, 4));
  });
}
