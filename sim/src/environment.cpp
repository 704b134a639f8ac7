// sim/src/environment.cpp — a simulated node's environment, boot state and fault points.
#include "environment.hpp"

#include "world.hpp"

#include <cineyma/assert.hpp>

#include <cstring>
#include <utility>

namespace cineyma::sim::internal {
namespace {

// FNV-1a over a string: a site's identity must not depend on std::hash or on addresses.
std::uint64_t fnv1a(const char* s) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (; *s != '\0'; ++s) {
    h ^= static_cast<unsigned char>(*s);
    h *= 1099511628211ULL;
  }
  return h;
}

// The site is its file's last path component: __FILE__ spells the build's path, and a seed
// must arm the same sites wherever the tree was built.
const char* basename_of(const char* file) noexcept {
  const char* slash = std::strrchr(file, '/');
  return slash != nullptr ? slash + 1 : file;
}

}  // namespace

SimNode::SimNode(World& world, Network& network, NodeIndex index, std::string name,
                 std::uint64_t random_seed, const SimulationOptions& options)
    : world_(world),
      index_(index),
      name_(std::move(name)),
      executor_(world, index),
      clock_(world, index),
      random_(random_seed),
      transport_(network, index),
      // The fault stream is derived from the node's seed but differs from its PRNG stream.
      faults_(world, options, world.seed(), random_seed ^ 0x6661756C74730000ULL /* "faults" */) {}

SimNode::~SimNode() {
  // World destroys boot state (crash-style) before the nodes; nothing may be left here.
  CINEYMA_ASSERT(state_.empty());
}

void SimNode::adopt(std::unique_ptr<State> state) {
  CINEYMA_ASSERT(state != nullptr);
  CINEYMA_ASSERT_MSG(is_up(), "adopt() on a node that is down");
  state_.push_back(std::move(state));
}

bool SimNode::is_up() const noexcept { return world_.is_up(index_); }

void SimNode::destroy_state() noexcept {
  // Newest first, and one at a time: a destructor may adopt nothing, but it may drive the
  // simulation, which must not see a half-destroyed vector.
  while (!state_.empty()) {
    std::unique_ptr<State> last = std::move(state_.back());
    state_.pop_back();
    last.reset();
  }
}

SimFaults::SimFaults(World& world, const SimulationOptions& options, std::uint64_t world_seed,
                     std::uint64_t stream_seed) noexcept
    : world_(world),
      ratio_(options.callback_exceptions),
      buggify_(options.buggify),
      site_ratio_(options.buggify_site_ratio),
      fire_ratio_(options.buggify_fire_ratio),
      world_seed_(world_seed),
      random_(stream_seed) {}

bool SimFaults::inject_exception(ActorId id, FaultSite) noexcept {
  const auto it = targeted_.find(id);
  if (it != targeted_.end()) {
    if (--it->second == 0) targeted_.erase(it);
    ++injected_;
    return true;
  }
  if (ratio_.numerator == 0) return false;
  if (!random_.chance(ratio_.numerator, ratio_.denominator)) return false;
  ++injected_;
  return true;
}

bool SimFaults::buggify(const char* file, int line) noexcept {
  if (!buggify_) return false;
  const char* base = basename_of(file);
  const std::uint64_t key = fnv1a(base) ^ (static_cast<std::uint64_t>(line) << 1);
  auto it = armed_.find(key);
  if (it == armed_.end()) {
    // Armed or not is a pure function of (seed, site), not of the order sites are reached.
    std::uint64_t mix = world_seed_ ^ key;
    Prng site(splitmix64(mix));
    it = armed_.emplace(key, site.chance(site_ratio_.numerator, site_ratio_.denominator)).first;
  }
  if (!it->second) return false;
  if (!random_.chance(fire_ratio_.numerator, fire_ratio_.denominator)) return false;
  ++fired_[std::string(base) + ":" + std::to_string(line)];
  return true;
}

void SimFaults::probe(const char* name) noexcept { ++probes_[name]; }

void SimFaults::add_targeted(ActorId id, int count) {
  CINEYMA_ASSERT_MSG(count > 0, "inject_exception needs a positive count");
  targeted_[id] += count;
}

void SimFaults::message_enqueued(const void* envelope) noexcept {
  if (!world_.records_events()) return;
  // A message sent from outside the simulation (a test thread) has no sending event.
  const std::uint64_t from = world_.running_event();
  if (from == 0) {
    in_flight_.erase(envelope);
    return;
  }
  in_flight_[envelope] = from;
}

void SimFaults::message_dispatched(const void* envelope, const char* type_name) noexcept {
  if (!world_.records_events()) return;
  const auto it = in_flight_.find(envelope);
  if (it == in_flight_.end()) return;
  world_.record_message_flow(it->second, type_name);
  in_flight_.erase(it);
}

}  // namespace cineyma::sim::internal
