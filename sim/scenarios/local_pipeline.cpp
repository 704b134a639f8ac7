// sim/scenarios/local_pipeline.cpp — local actors under injected failures.
//
// One node runs a pipeline: a supervisor whose three stage children (restart strategy)
// forward numbered items, sometimes after an async sleep, to a sink. Fault phase: items flow
// while the scenario injects exceptions into random stages (message handlers and `started()`
// after restarts) and BUGGIFY may shorten actor quanta. Invariants, checked as it goes: the
// sink sees items in strictly increasing order (FIFO per sender, and a restart neither
// reorders nor duplicates) and nothing it did not send. Heal phase: no more injections; a
// final batch must arrive complete and in order within a bound (liveness).
#include <cineyma/cineyma.hpp>
#include <cineyma/sim/scenario.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::ActorId;
using cineyma::Addr;

struct Item {
  std::uint64_t seq;
};

/// What the sink saw; shared with the scenario (same thread).
struct SinkLog {
  std::vector<std::uint64_t> received;
  bool out_of_order = false;
};

class Sink : public cineyma::Actor<Sink> {
 public:
  explicit Sink(std::shared_ptr<SinkLog> log) : log_(std::move(log)) {}
  void handle(const Item& item, Context&) {
    if (!log_->received.empty() && item.seq <= log_->received.back()) log_->out_of_order = true;
    log_->received.push_back(item.seq);
  }

 private:
  std::shared_ptr<SinkLog> log_;
};

class Stage : public cineyma::Actor<Stage> {
 public:
  template <typename Next>
  explicit Stage(Next next) : forward_([next](const Item& i) { (void)next.try_send(i); }) {}
  cineyma::Task<void> handle(const Item& item, Context& ctx) {
    // Sometimes hold the item for a while: the mailbox waits (async handlers block it).
    if (ctx.random().chance(1, 8)) co_await ctx.sleep(std::chrono::microseconds(ctx.random().below(500)));
    forward_(item);
  }

 private:
  std::function<void(const Item&)> forward_;
};

struct Entry {
  using reply = std::pair<Addr<Stage>, std::vector<ActorId>>;
};

/// Supervises the stages (restart, generous window) and tells the scenario where to send.
class Pipeline : public cineyma::Actor<Pipeline> {
 public:
  explicit Pipeline(Addr<Sink> sink) : sink_(std::move(sink)) {}
  void started(Context& ctx) {
    const auto strategy = cineyma::SupervisorStrategy::restart(1'000'000, 1s);
    auto third = ctx.spawn_child_with_strategy([s = sink_] { return Stage(s); }, strategy);
    auto second = ctx.spawn_child_with_strategy([s = third] { return Stage(s); }, strategy);
    first_ = ctx.spawn_child_with_strategy([s = second] { return Stage(s); }, strategy);
    ids_ = {first_.id(), second.id(), third.id()};
  }
  Entry::reply handle(const Entry&, Context&) { return {first_, ids_}; }

 private:
  Addr<Sink> sink_;
  Addr<Stage> first_;
  std::vector<ActorId> ids_;
};

}  // namespace

CINEYMA_SIM_SCENARIO(local_pipeline,
                     "3 supervised actor stages on one node; injected failures; FIFO + liveness") {
  cineyma::sim::SimulationOptions options;
  options.buggify = cineyma::sim::SimulationOptions::swarm(run.seed()).buggify;
  auto& sim = run.simulation(options);
  cineyma::Prng choices(run.seed() ^ 0x7069706531ULL);  // the scenario's own decisions

  auto log = std::make_shared<SinkLog>();
  auto entry = std::make_shared<Entry::reply>();
  auto& node = sim.add_node("node-1", [log, entry](cineyma::sim::Node& n) {
    auto& system = n.make<cineyma::ActorSystem>(n.environment());
    auto sink = system.spawn(Sink(log));
    auto pipeline = system.spawn(Pipeline(sink));
    *entry = pipeline.send(Entry{}).get().value();
  });
  run.check(entry->second.size() == 3, "the pipeline reports three stages");
  if (run.failed()) return;

  std::uint64_t next_seq = 1;
  std::uint64_t injected = 0;
  // Fault phase.
  for (int round = 0; round < 40; ++round) {
    const auto batch = choices.between(1, 30);
    for (std::uint64_t i = 0; i < batch; ++i) {
      if (entry->first.try_send(Item{next_seq})) ++next_seq;
    }
    if (choices.chance(1, 2)) {
      const ActorId victim = entry->second[choices.below(3)];
      const int count = static_cast<int>(choices.between(1, 3));
      node.inject_exception(victim, count);
      injected += static_cast<std::uint64_t>(count);
    }
    sim.run_for(std::chrono::microseconds(choices.below(3'000)));
    if (!run.check(!log->out_of_order, "the sink saw an item out of order")) return;
    run.check(log->received.empty() || log->received.back() < next_seq,
              "the sink saw an item that was never sent");
  }
  // Heal phase: no more injections. Pending ones may still fire; give them time to.
  sim.run_for(100ms);
  const std::uint64_t final_from = next_seq;
  for (int i = 0; i < 50; ++i) {
    if (entry->first.try_send(Item{next_seq})) ++next_seq;
  }
  const std::uint64_t final_to = next_seq;
  const bool converged = sim.run_until(
      [&] { return !log->received.empty() && log->received.back() + 1 == final_to; }, 10s);
  run.check(converged, "liveness: the final batch did not reach the sink within 10 s");
  std::uint64_t final_seen = 0;
  for (const std::uint64_t seq : log->received) final_seen += seq >= final_from ? 1 : 0;
  run.check(final_seen == final_to - final_from,
            "liveness: items of the final batch were lost without faults");
  run.check(!log->out_of_order, "the sink saw an item out of order");
  run.note("sent=" + std::to_string(next_seq - 1) + " received=" +
           std::to_string(log->received.size()) + " injected=" + std::to_string(injected) +
           " exceptions=" + std::to_string(node.injected_exceptions()));
}
