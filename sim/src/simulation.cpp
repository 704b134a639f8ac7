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

World::World(std::uint64_t seed, const SimulationOptions& options)
    : seed_(seed),
      options_(options),
      scheduler_random_(seed),
      node_seeds_(seed ^ kNodeSeedSalt),
      trace_hash_(kFnvOffsetBasis),
      network_(*this, std::chrono::microseconds(options.latency_us)) {
  CINEYMA_ASSERT(options.latency_us >= 0);
}

World::~World() { shutdown(); }

void World::shutdown() noexcept {
  CINEYMA_ASSERT_MSG(!running_, "a Simulation destroyed from inside one of its tasks");
  // From here on posts and timers are dropped: destroying a task may destroy objects (a
  // stream, a listener) whose destructors post completions, and those must not run either.
  shutting_down_ = true;
  for (;;) {
    if (!ready_.empty()) {
      const ReadyEntry entry = ready_.take_at(ready_.size() - 1);
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
      continue;
    }
    if (std::unique_ptr<TimerTask> timer = timers_.take_any(ready_)) {
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
  nodes_.push_back(std::make_unique<SimNode>(*this, network_, index, name,
                                             node_seeds_.next_u64(),
                                             options_.callback_exceptions));
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
  if (shutting_down_) return;
  ready_.push(ReadyEntry{&r, node, TaskKind::runnable, nullptr});
}

void World::post(NodeIndex node, ::cineyma::detail::UniqueFunction fn) {
  CINEYMA_ASSERT(node < nodes_.size());
  CINEYMA_ASSERT(static_cast<bool>(fn));
  if (shutting_down_) return;  // `fn` is destroyed unrun
  auto task = std::make_unique<FunctionTask>(std::move(fn));
  ready_.push(ReadyEntry{task.get(), node, TaskKind::function, nullptr});
  static_cast<void>(task.release());  // owned by the ready set until it runs
}

TimerId World::schedule_at(NodeIndex node, TimePoint when,
                           ::cineyma::detail::UniqueFunction fn) {
  CINEYMA_ASSERT(node < nodes_.size());
  // During shutdown the timer is created and dropped at once: the caller still gets a valid,
  // never-reused id, and cancelling it later returns false.
  const TimerId id = timers_.add(node, std::max(when, now_), std::move(fn));
  if (shutting_down_) static_cast<void>(timers_.cancel(node, id, ready_));
  return id;
}

bool World::cancel(NodeIndex node, TimerId id) noexcept {
  CINEYMA_ASSERT(node < nodes_.size());
  return timers_.cancel(node, id, ready_);
}

bool World::step() {
  CINEYMA_ASSERT_MSG(!running_, "the event loop was re-entered from a simulated task");
  // Timers scheduled at (or before) the current instant join the ready set right away, so a
  // busy node cannot starve them.
  timers_.release_due(now_, ready_);
  if (ready_.empty()) {
    const std::optional<TimePoint> next = timers_.next_deadline();
    if (!next) return false;
    CINEYMA_ASSERT(*next > now_);
    now_ = *next;
    timers_.release_due(now_, ready_);
    CINEYMA_ASSERT(!ready_.empty());
  }
  run_task(ready_.take_random(scheduler_random_));
  return true;
}

World::Stop World::drive(const std::function<bool()>& done, std::optional<TimePoint> deadline) {
  CINEYMA_ASSERT_MSG(!running_, "the event loop was re-entered from a simulated task");
  for (;;) {
    if (done && done()) return Stop::done;
    const std::optional<TimePoint> next = timers_.next_deadline();
    if (ready_.empty()) {
      if (!next) return Stop::idle;
      if (deadline && *next > *deadline) {
        now_ = std::max(now_, *deadline);
        return Stop::deadline;
      }
    }
    const bool stepped = step();
    CINEYMA_ASSERT(stepped);
  }
}

void World::run_to(TimePoint deadline) {
  CINEYMA_ASSERT(deadline >= now_);
  static_cast<void>(drive({}, deadline));
  CINEYMA_ASSERT(now_ <= deadline);
  now_ = deadline;
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

void World::record(const ReadyEntry& entry) noexcept {
  if (!options_.trace) return;
  fnv1a_mix(trace_hash_, events_);
  fnv1a_mix(trace_hash_, static_cast<std::uint64_t>(now_.time_since_epoch().count()));
  fnv1a_mix(trace_hash_, entry.node);
  fnv1a_mix(trace_hash_, entry.task->trace_tag());
  fnv1a_mix(trace_hash_, static_cast<std::uint64_t>(entry.kind));
}

}  // namespace internal

// ---------------------------------------------------------------------------------------
// Simulation: the public face of the world.

struct Simulation::Impl {
  Impl(std::uint64_t seed, const SimulationOptions& options) : world(seed, options) {}
  internal::World world;
};

Simulation::Simulation(std::uint64_t seed, SimulationOptions options)
    : impl_(std::make_unique<Impl>(seed, options)) {}

Simulation::~Simulation() = default;

std::uint64_t Simulation::seed() const noexcept { return impl_->world.seed(); }

Node& Simulation::add_node(std::string name) { return impl_->world.add_node(std::move(name)); }

Node* Simulation::node(std::string_view name) noexcept { return impl_->world.find_node(name); }

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

}  // namespace cineyma::sim
