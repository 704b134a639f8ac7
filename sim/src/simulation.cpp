// sim/src/simulation.cpp — the world and its event loop; `Simulation` forwards to it.
#include <cineyma/sim/simulation.hpp>

#include "environment.hpp"
#include "world.hpp"

#include <cineyma/assert.hpp>

#include <algorithm>
#include <utility>

namespace cineyma::sim {
namespace internal {
namespace {

// FNV-1a, 64-bit: a fixed, portable hash (std::hash is neither).
constexpr std::uint64_t kFnvOffsetBasis = 14695981039346656037ULL;
constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

void fnv1a_mix(std::uint64_t& hash, std::uint64_t value) noexcept {
  for (int byte = 0; byte < 8; ++byte) {  // little-endian byte order, on every host
    hash ^= (value >> (8 * byte)) & 0xFFU;
    hash *= kFnvPrime;
  }
}

// Node PRNG streams are derived from a salted copy of the seed, not from the scheduler's
// stream, so adding a node does not shift the scheduling choices that follow.
constexpr std::uint64_t kNodeSeedSalt = 0x6E6F64652D70726EULL;  // "node-prn"

/// Keeps `running_` true for the duration of a task, exceptions included.
class RunningScope {
 public:
  explicit RunningScope(bool& flag) noexcept : flag_(flag) { flag_ = true; }
  ~RunningScope() { flag_ = false; }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

 private:
  bool& flag_;
};

}  // namespace

// The network's fault stream is salted too, so that turning network faults on or off does
// not shift the scheduler's choices.
constexpr std::uint64_t kNetworkSeedSalt = 0x6E6574776F726B21ULL;  // "network!"

// A crashing node that still has work after this many events is stuck (a timer loop that
// re-arms itself, an actor that never finishes): fail loudly rather than spin.
constexpr std::uint64_t kCrashDrainBudgetEvents = 10'000'000;

World::World(std::uint64_t seed, const SimulationOptions& options)
    : seed_(seed),
      options_(options),
      scheduler_random_(seed),
      node_seeds_(seed ^ kNodeSeedSalt),
      network_random_(seed ^ kNetworkSeedSalt),
      trace_hash_(kFnvOffsetBasis),
      network_(*this, options_) {
  CINEYMA_ASSERT(options.latency_us >= 0);
}

World::~World() {
  // Boot state unwinds first, each node as in a crash (an ActorSystem needs its node's
  // executor to stop its actors); then everything left is dropped unrun.
  for (std::size_t i = nodes_.size(); i-- > 0;) {
    const auto node = static_cast<NodeIndex>(i);
    if (runs_[node].up && nodes_[node]->has_state()) crash(node);
  }
  shutdown();
}

void World::drop(const ReadyEntry& entry) noexcept {
  switch (entry.kind) {
    case TaskKind::runnable:
      break;  // not ours: just forget it
    case TaskKind::function:
      delete static_cast<FunctionTask*>(entry.task);
      break;
    case TaskKind::timer:
      timers_.begin_run(*static_cast<TimerTask*>(entry.task)).reset();
      break;
  }
}

void World::shutdown() noexcept {
  CINEYMA_ASSERT_MSG(!running_, "a Simulation destroyed from inside one of its tasks");
  // From here on posts and timers are dropped: destroying a task may destroy objects (a
  // stream, a listener) whose destructors post completions, and those must not run either.
  shutting_down_ = true;
  for (;;) {
    bool dropped = false;
    for (ReadySet& set : ready_) {
      if (set.empty()) continue;
      drop(set.take_at(set.size() - 1));
      dropped = true;
    }
    if (dropped) continue;
    if (std::unique_ptr<TimerTask> timer = timers_.take_any(ready_)) {
      timer.reset();
      continue;
    }
    break;
  }
}

void World::purge(NodeIndex node) noexcept {
  // Destroying a task may post or schedule again: for this node that is dropped at once
  // (it is marked down before), so the loop ends.
  CINEYMA_ASSERT(!runs_[node].up);
  for (;;) {
    ReadySet& set = ready_[node];
    if (!set.empty()) {
      drop(set.take_at(set.size() - 1));
      continue;
    }
    if (std::unique_ptr<TimerTask> timer = timers_.take_any_of(node, ready_)) {
      timer.reset();
      continue;
    }
    break;
  }
}

SimNode& World::add_node(std::string name) {
  CINEYMA_ASSERT_MSG(!name.empty(), "a node needs a name (it is its network address)");
  CINEYMA_ASSERT_MSG(!node_by_name_.contains(name), "node names must be unique");
  const auto index = static_cast<NodeIndex>(nodes_.size());
  CINEYMA_ASSERT(nodes_.size() == index);  // no overflow of NodeIndex
  network_.add_node();
  ready_.emplace_back();
  runs_.emplace_back();
  nodes_.push_back(std::make_unique<SimNode>(*this, network_, index, name,
                                             node_seeds_.next_u64(), options_));
  node_by_name_.emplace(std::move(name), index);
  return *nodes_.back();
}

SimNode* World::find_node(std::string_view name) noexcept {
  const std::optional<NodeIndex> index = find_node_index(name);
  return index ? nodes_[*index].get() : nullptr;
}

std::optional<NodeIndex> World::find_node_index(std::string_view name) const noexcept {
  const auto it = node_by_name_.find(name);
  if (it == node_by_name_.end()) return std::nullopt;
  return it->second;
}

const std::string& World::node_name(NodeIndex node) const noexcept {
  CINEYMA_ASSERT(node < nodes_.size());
  return nodes_[node]->name();
}

void World::post(NodeIndex node, Runnable& r) {
  CINEYMA_ASSERT(node < nodes_.size());
  if (shutting_down_ || !runs_[node].up) return;
  ready_[node].push(ReadyEntry{&r, node, TaskKind::runnable, nullptr, current_cause()});
}

void World::post(NodeIndex node, ::cineyma::detail::UniqueFunction fn) {
  CINEYMA_ASSERT(node < nodes_.size());
  CINEYMA_ASSERT(static_cast<bool>(fn));
  if (shutting_down_ || !runs_[node].up) return;  // `fn` is destroyed unrun
  auto task = std::make_unique<FunctionTask>(std::move(fn));
  ready_[node].push(ReadyEntry{task.get(), node, TaskKind::function, nullptr, current_cause()});
  static_cast<void>(task.release());  // owned by the ready set until it runs
}

TimerId World::schedule_at(NodeIndex node, TimePoint when, TimePoint local_when,
                           ::cineyma::detail::UniqueFunction fn) {
  CINEYMA_ASSERT(node < nodes_.size());
  // During shutdown (or while the node is down) the timer is created and dropped at once:
  // the caller still gets a valid, never-reused id, and cancelling it later returns false.
  const TimerId id =
      timers_.add(node, std::max(when, now_), local_when, std::move(fn), current_cause());
  if (shutting_down_ || !runs_[node].up) static_cast<void>(timers_.cancel(node, id, ready_));
  return id;
}

bool World::cancel(NodeIndex node, TimerId id) noexcept {
  CINEYMA_ASSERT(node < nodes_.size());
  return timers_.cancel(node, id, ready_);
}

void World::crash(NodeIndex node) {
  CINEYMA_ASSERT_MSG(!running_, "crash() from inside a simulated task");
  CINEYMA_ASSERT(node < nodes_.size());
  CINEYMA_ASSERT_MSG(runs_[node].up, "crash() of a node that is already down");
  // 1. Nothing leaves the process any more: its streams and listeners close now.
  network_.cut(node);
  // 2. Its boot state unwinds in isolation (see Simulation::crash): an ActorSystem's
  //    destructor drives this node alone until its actors are gone.
  runs_[node].paused_until = TimePoint{};
  isolated_ = node;
  isolated_since_events_ = events_;
  nodes_[node]->destroy_state();
  // Tasks the unwinding itself made ready are still run, in isolation: a detached coroutine
  // (a remote request forwarded to an actor that has just stopped) is resumed by such a task,
  // and it owns its frame — dropping the task would leak the frame. Timers are not fired any
  // more, and other work not owned by the boot state (a timer the test set) is not run: the
  // process is gone. It is dropped below, as at the end of a simulation.
  while (!ready_[node].empty()) run_isolated_task();
  isolated_.reset();
  // 3. The process is gone: whatever is still queued for it is dropped unrun.
  runs_[node].up = false;
  purge(node);
}

void World::revive(NodeIndex node) {
  CINEYMA_ASSERT_MSG(!running_, "restart() from inside a simulated task");
  CINEYMA_ASSERT(!runs_[node].up);
  runs_[node].up = true;
  network_.uncut(node);
}

void World::pause(NodeIndex node, Duration d) {
  CINEYMA_ASSERT_MSG(!running_, "pause() from inside a simulated task");
  CINEYMA_ASSERT(d >= Duration::zero());
  NodeRun& run = runs_[node];
  run.paused_until = std::max(run.paused_until, now_ + d);
}

std::size_t World::eligible() const noexcept {
  std::size_t total = 0;
  for (std::size_t i = 0; i < ready_.size(); ++i) {
    if (runs_[i].paused_until <= now_) total += ready_[i].size();
  }
  return total;
}

std::optional<TimePoint> World::next_event_time() {
  // Timers scheduled at (or before) the current instant join the ready set right away, so a
  // busy node cannot starve them.
  timers_.release_due(now_, ready_);
  if (isolated_) {
    if (!ready_[*isolated_].empty()) return now_;
    if (timers_.release_next_of(*isolated_, ready_)) return now_;
    return std::nullopt;
  }
  if (eligible() > 0) return now_;
  std::optional<TimePoint> next = timers_.next_deadline();
  for (std::size_t i = 0; i < ready_.size(); ++i) {
    const TimePoint until = runs_[i].paused_until;
    // A paused node only matters when it has something to run once it wakes up: its own
    // timers are already counted by next_deadline().
    if (until > now_ && !ready_[i].empty() && (!next || until < *next)) next = until;
  }
  return next;
}

bool World::step() { return step_within(std::nullopt) == StepResult::ran; }

World::StepResult World::step_within(std::optional<TimePoint> limit) {
  CINEYMA_ASSERT_MSG(!running_, "the event loop was re-entered from a simulated task");
  for (;;) {
    const std::optional<TimePoint> next = next_event_time();
    if (!next) return StepResult::idle;
    if (*next > now_) {
      // A crashing node unwinds without time passing, so no limit applies to it.
      if (!isolated_ && limit && *next > *limit) return StepResult::beyond;
      now_ = *next;  // the only place virtual time moves forward on its own
      continue;      // released timers may belong to a paused node: look again
    }
    if (isolated_) {
      run_isolated_task();
      return StepResult::ran;
    }
    // Uniform over the tasks of every node that may run: draw an index into their union.
    std::uint64_t pick = scheduler_random_.below(eligible());
    for (std::size_t i = 0; i < ready_.size(); ++i) {
      if (runs_[i].paused_until > now_) continue;
      if (pick < ready_[i].size()) {
        run_task(ready_[i].take_at(static_cast<std::size_t>(pick)));
        return StepResult::ran;
      }
      pick -= ready_[i].size();
    }
    CINEYMA_ASSERT_MSG(false, "eligible() disagrees with the ready sets");
  }
}

World::Stop World::drive(const std::function<bool()>& done, std::optional<TimePoint> deadline) {
  CINEYMA_ASSERT_MSG(!running_, "the event loop was re-entered from a simulated task");
  for (;;) {
    if (done && done()) return Stop::done;
    switch (step_within(deadline)) {
      case StepResult::ran:
        break;
      case StepResult::idle:
        return Stop::idle;
      case StepResult::beyond:
        now_ = std::max(now_, *deadline);
        return Stop::deadline;
    }
  }
}

void World::run_to(TimePoint deadline) {
  CINEYMA_ASSERT(deadline >= now_);
  static_cast<void>(drive({}, deadline));
  CINEYMA_ASSERT(now_ <= deadline);
  now_ = deadline;
}

void World::run_isolated_task() {
  CINEYMA_ASSERT_MSG(events_ - isolated_since_events_ < kCrashDrainBudgetEvents,
                     "a crashing node does not stop producing work while it unwinds");
  run_task(ready_[*isolated_].take_random(scheduler_random_));
}

void World::run_task(const ReadyEntry& entry) {
  // Record first: a runnable posted by reference may destroy itself while it runs.
  record(entry);
  ++events_;
  RunningScope scope(running_);
  switch (entry.kind) {
    case TaskKind::runnable:
      entry.task->run();
      break;
    case TaskKind::function: {
      const std::unique_ptr<FunctionTask> owned(static_cast<FunctionTask*>(entry.task));
      owned->run();
      break;
    }
    case TaskKind::timer: {
      const std::unique_ptr<TimerTask> owned =
          timers_.begin_run(*static_cast<TimerTask*>(entry.task));
      owned->run();
      break;
    }
  }
}

void World::record(const ReadyEntry& entry) {
  if (!options_.trace) return;
  const std::uint64_t tag = entry.task->trace_tag();
  fnv1a_mix(trace_hash_, events_);
  fnv1a_mix(trace_hash_, static_cast<std::uint64_t>(now_.time_since_epoch().count()));
  fnv1a_mix(trace_hash_, entry.node);
  fnv1a_mix(trace_hash_, tag);
  fnv1a_mix(trace_hash_, static_cast<std::uint64_t>(entry.kind));
  if (options_.record_events) {
    records_.push_back(EventRecord{now_, entry.node, entry.kind, tag, entry.cause});
  }
}

}  // namespace internal

// ---------------------------------------------------------------------------------------
// Simulation: the public face of the world.

Simulation::Simulation(std::uint64_t seed, SimulationOptions options)
    : impl_(std::make_unique<Impl>(seed, options)) {}

Simulation::~Simulation() = default;

std::uint64_t Simulation::seed() const noexcept { return impl_->world.seed(); }

Node& Simulation::add_node(std::string name) { return impl_->world.add_node(std::move(name)); }

Node& Simulation::add_node(std::string name, BootFunction boot) {
  internal::SimNode& node = impl_->world.add_node(std::move(name));
  node.set_boot(std::move(boot));
  if (node.boot()) node.boot()(node);
  return node;
}

Node* Simulation::node(std::string_view name) noexcept { return impl_->world.find_node(name); }

namespace {
internal::NodeIndex index_of(internal::World& world, std::string_view name) {
  const std::optional<internal::NodeIndex> index = world.find_node_index(name);
  CINEYMA_ASSERT_MSG(index.has_value(), "no simulated node has that name");
  return *index;
}
}  // namespace

namespace {
void block_links(internal::World& world, const std::vector<std::string>& from,
                 const std::vector<std::string>& to) {
  CINEYMA_ASSERT_MSG(!world.running(), "partition() from inside a simulated task");
  for (const std::string& f : from) {
    for (const std::string& t : to) {
      const internal::NodeIndex fi = index_of(world, f);
      const internal::NodeIndex ti = index_of(world, t);
      if (fi != ti) world.network().block(fi, ti);  // a node always reaches itself
    }
  }
}
}  // namespace

void Simulation::partition(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  block_links(impl_->world, a, b);
  block_links(impl_->world, b, a);
  impl_->world.network().arm_partition_breaks();
}

void Simulation::partition_one_way(const std::vector<std::string>& from,
                                   const std::vector<std::string>& to) {
  block_links(impl_->world, from, to);
  impl_->world.network().arm_partition_breaks();
}

void Simulation::heal() {
  CINEYMA_ASSERT_MSG(!impl_->world.running(), "heal() from inside a simulated task");
  impl_->world.network().heal();
}

void Simulation::crash(std::string_view name) {
  impl_->world.crash(index_of(impl_->world, name));
}

void Simulation::restart(std::string_view name, BootFunction boot) {
  internal::World& world = impl_->world;
  const internal::NodeIndex index = index_of(world, name);
  if (world.is_up(index)) world.crash(index);
  world.revive(index);
  internal::SimNode& node = world.node_ref(index);
  node.note_restart();
  node.set_boot(std::move(boot));
  if (node.boot()) node.boot()(node);
}

void Simulation::restart(std::string_view name) {
  const internal::NodeIndex index = index_of(impl_->world, name);
  BootFunction boot = impl_->world.node_ref(index).boot();
  restart(name, std::move(boot));
}

void Simulation::pause(std::string_view name, Duration d) {
  impl_->world.pause(index_of(impl_->world, name), d);
}

void Simulation::clock_skew(std::string_view name, Duration offset, std::int64_t drift_ppm) {
  internal::World& world = impl_->world;
  CINEYMA_ASSERT_MSG(!world.running(), "clock_skew() from inside a simulated task");
  CINEYMA_ASSERT_MSG(drift_ppm > -1'000'000, "a clock must keep moving forward");
  world.node_ref(index_of(world, name)).sim_clock().set_skew(offset, drift_ppm);
}

bool Simulation::step() { return impl_->world.step(); }

void Simulation::run_for(Duration d) {
  CINEYMA_ASSERT(d >= Duration::zero());
  impl_->world.run_to(impl_->world.now() + d);
}

bool Simulation::run_until(const std::function<bool()>& done, Duration deadline) {
  CINEYMA_ASSERT(static_cast<bool>(done));
  CINEYMA_ASSERT(deadline >= Duration::zero());
  const TimePoint until = impl_->world.now() + deadline;
  return impl_->world.drive(done, until) == internal::World::Stop::done;
}

void Simulation::run_until_idle(Duration deadline) {
  CINEYMA_ASSERT(deadline >= Duration::zero());
  static_cast<void>(impl_->world.drive({}, impl_->world.now() + deadline));
}

TimePoint Simulation::now() const noexcept { return impl_->world.now(); }

std::uint64_t Simulation::events() const noexcept { return impl_->world.events(); }

std::uint64_t Simulation::trace_hash() const noexcept { return impl_->world.trace_hash(); }

const SimulationOptions& Simulation::options() const noexcept { return impl_->world.options(); }

std::map<std::string, std::uint64_t> Simulation::probes() const {
  std::map<std::string, std::uint64_t> total;
  const internal::World& world = impl_->world;
  for (internal::NodeIndex i = 0; i < world.node_count(); ++i) {
    for (const auto& [name, count] : world.node_at(i).sim_faults().probes()) total[name] += count;
  }
  return total;
}

std::map<std::string, std::uint64_t> Simulation::buggify_fired() const {
  std::map<std::string, std::uint64_t> total;
  const internal::World& world = impl_->world;
  for (internal::NodeIndex i = 0; i < world.node_count(); ++i) {
    for (const auto& [site, count] : world.node_at(i).sim_faults().buggify_fired()) {
      total[site] += count;
    }
  }
  return total;
}

}  // namespace cineyma::sim
