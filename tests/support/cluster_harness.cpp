// tests/support/cluster_harness.cpp — see cluster_harness.hpp.
#include "support/cluster_harness.hpp"

#include <cineyma/assert.hpp>
#include <cineyma/cluster/codec.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace cineyma::test {

using cluster::Effects;
using cluster::GossipMessage;
using cluster::MemberStatus;

std::string ClusterHarness::node_id(std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%04zu", i);
  return buf;
}

ClusterHarness::ClusterHarness(sim::Simulation& sim, ClusterHarnessOptions options)
    : sim_(sim), options_(std::move(options)) {
  CINEYMA_ASSERT(options_.nodes > 0);
  CINEYMA_ASSERT(options_.seed_nodes >= 1 && options_.seed_nodes <= options_.nodes);
  CINEYMA_ASSERT(options_.latency_us_min >= 0);
  CINEYMA_ASSERT(options_.latency_us_min <= options_.latency_us_max);
  CINEYMA_ASSERT(options_.spike_us_min <= options_.spike_us_max);
  nodes_.resize(options_.nodes);
  group_of_.assign(options_.nodes, 0);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].sim_node = &sim_.add_node(node_id(i));
    by_id_.emplace(node_id(i), i);
    by_endpoint_.emplace(node_id(i) + ":7946", i);
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].engine = std::make_unique<cluster::GossipEngine>(config_for(i, 0), sim_.now());
    const auto interval = static_cast<std::uint64_t>(options_.gossip.gossip_interval.count());
    schedule_tick(i, Duration(static_cast<std::int64_t>(environment(i).random().below(interval))));
  }
}

cluster::GossipConfig ClusterHarness::config_for(std::size_t i, std::uint64_t incarnation) const {
  cluster::GossipConfig c = options_.gossip;
  c.node_id = node_id(i);
  c.endpoint = node_id(i) + ":7946";
  c.incarnation = incarnation;
  c.seeds.clear();
  for (std::size_t s = 0; s < options_.seed_nodes; ++s) c.seeds.push_back(node_id(s) + ":7946");
  return c;
}

void ClusterHarness::schedule_tick(std::size_t i, Duration delay) {
  const std::uint64_t life = nodes_[i].life;
  environment(i).clock().schedule_after(delay, [this, i, life] { on_tick(i, life); });
}

void ClusterHarness::on_tick(std::size_t i, std::uint64_t life) {
  SimNode& n = nodes_[i];
  if (!n.alive || n.life != life) return;
  const TimePoint now = sim_.now();
  if (now < n.paused_until) {
    // The process is not running: its timer is overdue and fires when it resumes.
    schedule_tick(i, n.paused_until - now);
    return;
  }
  Effects fx = n.engine->tick(now, environment(i).random());
  apply(i, fx);
  schedule_tick(i, options_.gossip.gossip_interval);
}

Duration ClusterHarness::draw_latency(std::size_t from) {
  Random& random = environment(from).random();
  auto us = static_cast<std::int64_t>(
      random.between(static_cast<std::uint64_t>(options_.latency_us_min),
                     static_cast<std::uint64_t>(options_.latency_us_max)));
  if (options_.spike_numerator > 0 &&
      random.chance(options_.spike_numerator, options_.spike_denominator)) {
    us += static_cast<std::int64_t>(
        random.between(static_cast<std::uint64_t>(options_.spike_us_min),
                       static_cast<std::uint64_t>(options_.spike_us_max)));
  }
  return std::chrono::microseconds(us);
}

bool ClusterHarness::reachable(std::size_t a, std::size_t b) const {
  return group_of_[a] == group_of_[b];
}

void ClusterHarness::apply(std::size_t from, Effects& fx) {
  for (const cluster::MemberEvent& e : fx.events) {
    events_.push_back(ObservedEvent{sim_.now(), from, e});
    if (on_event) on_event(events_.back());
  }
  for (cluster::RegistrationLost& lost : fx.lost) {
    losses_.push_back(ObservedLoss{sim_.now(), from, std::move(lost)});
  }
  for (const cluster::Outgoing& out : fx.send) {
    ++sent_;
    std::size_t to = 0;
    if (!out.to_node.empty()) {
      const auto it = by_id_.find(out.to_node);
      CINEYMA_ASSERT(it != by_id_.end());  // engines only learn ids from the harness' nodes
      to = it->second;
    } else {
      const auto it = by_endpoint_.find(out.to_endpoint);
      CINEYMA_ASSERT(it != by_endpoint_.end());
      to = it->second;
    }
    if (!reachable(from, to)) {
      ++dropped_;
      continue;
    }
    std::shared_ptr<const GossipMessage> message = out.message;
    if (options_.codec_roundtrip) {
      const std::vector<std::uint8_t> bytes = cluster::encode_gossip(*message);
      Result<GossipMessage> decoded = cluster::decode_gossip(bytes);
      CINEYMA_ASSERT(decoded.has_value());
      CINEYMA_ASSERT(*decoded == *message);
      message = std::make_shared<const GossipMessage>(std::move(decoded).value());
    }
    const std::uint64_t life = nodes_[to].life;
    environment(to).clock().schedule_after(
        draw_latency(from), [this, to, life, message] { deliver(to, life, message); });
  }
}

void ClusterHarness::deliver(std::size_t i, std::uint64_t life,
                             const std::shared_ptr<const GossipMessage>& message) {
  SimNode& n = nodes_[i];
  if (!n.alive || n.life != life) {
    ++dropped_;  // the connection died with the process it led to
    return;
  }
  const TimePoint now = sim_.now();
  if (now < n.paused_until) {
    n.backlog.push_back(message);
    return;
  }
  Result<Effects> fx = n.engine->on_message(*message, now);
  CINEYMA_ASSERT(fx.has_value());  // engines only send valid messages, never to themselves
  apply(i, *fx);
}

void ClusterHarness::crash(std::size_t i) {
  SimNode& n = nodes_.at(i);
  n.alive = false;
  ++n.life;
  n.backlog.clear();
}

void ClusterHarness::restart(std::size_t i, std::uint64_t incarnation) {
  SimNode& n = nodes_.at(i);
  CINEYMA_ASSERT(!n.alive);
  n.alive = true;
  ++n.life;
  n.paused_until = TimePoint{};
  n.backlog.clear();
  n.engine = std::make_unique<cluster::GossipEngine>(config_for(i, incarnation), sim_.now());
  schedule_tick(i, Duration::zero());
}

void ClusterHarness::pause(std::size_t i, Duration d) {
  SimNode& n = nodes_.at(i);
  CINEYMA_ASSERT(n.alive);
  n.paused_until = std::max(n.paused_until, sim_.now() + d);
  const std::uint64_t life = n.life;
  environment(i).clock().schedule_at(n.paused_until, [this, i, life] { resume(i, life); });
}

void ClusterHarness::resume(std::size_t i, std::uint64_t life) {
  SimNode& n = nodes_[i];
  if (!n.alive || n.life != life || sim_.now() < n.paused_until) return;
  std::vector<std::shared_ptr<const GossipMessage>> backlog = std::move(n.backlog);
  n.backlog.clear();
  for (const auto& message : backlog) deliver(i, life, message);
}

void ClusterHarness::leave(std::size_t i) {
  SimNode& n = nodes_.at(i);
  CINEYMA_ASSERT(n.alive);
  Effects fx = n.engine->leave(sim_.now(), environment(i).random());
  apply(i, fx);
  const std::uint64_t life = n.life;
  environment(i).clock().schedule_after(2 * options_.gossip.gossip_interval, [this, i, life] {
    if (nodes_[i].life == life) crash(i);
  });
}

void ClusterHarness::partition(std::vector<int> group_of) {
  CINEYMA_ASSERT(group_of.size() == nodes_.size());
  group_of_ = std::move(group_of);
}

void ClusterHarness::heal() { group_of_.assign(nodes_.size(), 0); }

bool ClusterHarness::all_up_same_view() const {
  const cluster::Membership* reference = nullptr;
  for (const SimNode& n : nodes_) {
    if (!n.alive) continue;
    const cluster::Membership& view = n.engine->membership();
    if (view.size() != nodes_.size()) return false;
    for (const auto& [id, slot] : view.slots()) {
      if (slot.entry.status != MemberStatus::up) return false;
    }
    if (reference == nullptr) {
      reference = &view;
      continue;
    }
    auto a = reference->slots().begin();
    for (const auto& [id, slot] : view.slots()) {
      if (a->second.entry.incarnation != slot.entry.incarnation) return false;
      ++a;
    }
  }
  return true;
}

bool ClusterHarness::agree() const {
  const SimNode* reference = nullptr;
  for (const SimNode& n : nodes_) {
    if (!n.alive) continue;
    if (reference == nullptr) {
      reference = &n;
      continue;
    }
    const auto& a = reference->engine->membership().slots();
    const auto& b = n.engine->membership().slots();
    if (a.size() != b.size()) return false;
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
      const cluster::MemberEntry& l = x->second.entry;
      const cluster::MemberEntry& r = y->second.entry;
      if (l.node != r.node || l.status != r.status || l.incarnation != r.incarnation ||
          l.epoch != r.epoch) {
        return false;
      }
    }
    if (!(reference->engine->registry() == n.engine->registry())) return false;
  }
  if (reference == nullptr) return true;
  const cluster::Membership& view = reference->engine->membership();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const cluster::MemberEntry* e = view.find(node_id(i));
    if (nodes_[i].alive) {
      if (e == nullptr || e->status != MemberStatus::up) return false;
    } else if (e != nullptr && cluster::is_live(e->status)) {
      return false;
    }
  }
  return true;
}

std::optional<Duration> ClusterHarness::run_until(const std::function<bool()>& done,
                                                  Duration deadline, Duration step) {
  const TimePoint start = sim_.now();
  while (!done()) {
    if (sim_.now() - start >= deadline) return std::nullopt;
    sim_.run_for(std::min(step, deadline - (sim_.now() - start)));
  }
  return sim_.now() - start;
}

Duration quantile(std::vector<Duration>& values, std::uint64_t numerator,
                  std::uint64_t denominator) {
  CINEYMA_ASSERT(denominator > 0 && numerator <= denominator);
  if (values.empty()) return Duration::zero();
  std::sort(values.begin(), values.end());
  // Nearest rank: ceil(q * n), at least 1.
  const std::uint64_t n = values.size();
  std::uint64_t rank = (numerator * n + denominator - 1) / denominator;
  if (rank == 0) rank = 1;
  return values[rank - 1];
}

}  // namespace cineyma::test
