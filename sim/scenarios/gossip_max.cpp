// sim/scenarios/gossip_max.cpp — five processes gossip the largest value they know over the
// simulated TCP transport, through every network and process fault the simulator has.
//
// Each node (its state built by a boot function, so a crash loses it) listens on port 7000
// and, every 50-150 ms of its own clock, connects to a random peer, sends what it knows as an
// 8-byte big-endian frame and closes. Inbound streams are read with a deadline (a half-open
// connection must not hold a reader forever). Options are swarm-drawn from the seed.
//
// Fault phase (20 s of virtual time): partitions (symmetric, one-way), heals, crashes and
// restarts, pauses and clock skew, chosen from the seed. Invariant, checked as it goes: no
// node ever holds a value that is not some node's initial value (framing survives short reads,
// split writes, resets). Heal phase: everything healed and restarted; every node must know
// the global maximum within 30 s of virtual time (liveness).
#include <cineyma/sim/scenario.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using cineyma::ByteStream;
using cineyma::Environment;
using cineyma::Result;

constexpr std::uint16_t kPort = 7000;
constexpr int kNodes = 5;

std::string node_name(int i) {
  std::string name = "node-";  // appended, not `"node-" + ...`: GCC 12 -O3 warns (-Wrestrict)
  name += std::to_string(i);
  return name;
}

/// The gossip process of one node. All callbacks hold a weak reference: the process may be
/// gone (crash) by the time a completion would have run.
class Gossip : public std::enable_shared_from_this<Gossip> {
 public:
  /// `whole_frames`: the planted bug of `gossip_max_planted_bug` — decode after the first
  /// read, as if TCP delivered whole writes (it does not: reads may be short).
  Gossip(Environment& env, std::uint64_t initial, bool whole_frames = false)
      : env_(env), known_(initial), whole_frames_(whole_frames) {}

  void start() {
    auto l = env_.transport().listen({env_.name(), kPort});
    if (!l) return;  // a process that cannot listen still gossips outward
    listener_ = std::move(*l);
    accept_next();
    schedule_tick();
  }
  void stop() {
    stopped_ = true;
    if (tick_ != 0) env_.clock().cancel(tick_);
    if (listener_) listener_->close();
    for (auto& [id, in] : inbound_) in.stream->close();
  }
  std::uint64_t known() const noexcept { return known_; }

 private:
  struct Inbound {
    std::unique_ptr<ByteStream> stream;
    std::array<std::byte, 8> frame{};
    std::size_t have = 0;
    cineyma::TimerId deadline = 0;
  };

  void accept_next() {
    listener_->async_accept([weak = weak_from_this()](Result<std::unique_ptr<ByteStream>> r) {
      auto self = weak.lock();
      if (!self || self->stopped_ || !r) return;
      const std::uint64_t id = self->next_inbound_++;
      Inbound& in = self->inbound_[id];
      in.stream = std::move(*r);
      in.deadline = self->env_.clock().schedule_after(2s, [weak, id] {
        if (auto s = weak.lock()) s->drop_inbound(id, false);
      });
      self->read_more(id);
      self->accept_next();
    });
  }

  void read_more(std::uint64_t id) {
    Inbound& in = inbound_.at(id);
    std::span<std::byte> rest(in.frame.data() + in.have, in.frame.size() - in.have);
    in.stream->async_read_some(rest, [weak = weak_from_this(), id](Result<std::size_t> r) {
      auto self = weak.lock();
      if (!self || self->stopped_) return;
      const auto it = self->inbound_.find(id);
      if (it == self->inbound_.end()) return;
      if (!r) {
        self->drop_inbound(id, true);
        return;
      }
      it->second.have += *r;
      if (it->second.have < it->second.frame.size() && !self->whole_frames_) {
        self->read_more(id);
        return;
      }
      std::uint64_t value = 0;
      for (const std::byte b : it->second.frame) value = (value << 8) | static_cast<std::uint8_t>(b);
      if (value > self->known_) self->known_ = value;
      self->drop_inbound(id, true);
    });
  }

  void drop_inbound(std::uint64_t id, bool cancel_deadline) {
    const auto it = inbound_.find(id);
    if (it == inbound_.end()) return;
    if (cancel_deadline) env_.clock().cancel(it->second.deadline);
    // Destroying the stream from its own completion is fine: nothing of it is pending.
    inbound_.erase(it);
  }

  void schedule_tick() {
    const auto delay = std::chrono::milliseconds(50 + env_.random().below(100));
    tick_ = env_.clock().schedule_after(delay, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->stopped_) return;
      self->tick_ = 0;
      self->gossip_once();
      self->schedule_tick();
    });
  }

  void gossip_once() {
    int peer = static_cast<int>(env_.random().below(kNodes));
    if (node_name(peer) == env_.name()) peer = (peer + 1) % kNodes;
    env_.transport().async_connect(
        {node_name(peer), kPort},
        [weak = weak_from_this()](Result<std::unique_ptr<ByteStream>> r) {
          auto self = weak.lock();
          if (!self || self->stopped_ || !r) return;
          auto frame = std::make_shared<std::array<std::byte, 8>>();
          for (int i = 0; i < 8; ++i) {
            (*frame)[static_cast<std::size_t>(i)] =
                static_cast<std::byte>((self->known_ >> (56 - 8 * i)) & 0xFF);
          }
          ByteStream* raw = r->release();
          if (raw == nullptr) return;
          std::shared_ptr<ByteStream> stream(raw);
          raw->async_write(*frame, [frame, stream](Result<void>) { stream->close(); });
        });
  }

  Environment& env_;
  std::uint64_t known_;
  bool whole_frames_;
  bool stopped_ = false;
  std::unique_ptr<cineyma::Listener> listener_;
  cineyma::TimerId tick_ = 0;
  std::map<std::uint64_t, Inbound> inbound_;
  std::uint64_t next_inbound_ = 0;
};

/// Boot state: owns the process and stops it when the node crashes.
struct GossipProcess {
  GossipProcess(Environment& env, std::uint64_t initial, bool whole_frames)
      : gossip(std::make_shared<Gossip>(env, initial, whole_frames)) {
    gossip->start();
  }
  ~GossipProcess() { gossip->stop(); }
  GossipProcess(const GossipProcess&) = delete;
  GossipProcess& operator=(const GossipProcess&) = delete;
  std::shared_ptr<Gossip> gossip;
};

void run_gossip(cineyma::sim::ScenarioRun& run, bool whole_frames) {
  auto& sim = run.simulation(cineyma::sim::SimulationOptions::swarm(run.seed()));
  cineyma::Prng choices(run.seed() ^ 0x676f737369ULL);

  std::array<std::uint64_t, kNodes> initial{};
  std::set<std::uint64_t> legal;
  std::array<std::weak_ptr<Gossip>, kNodes> live;
  for (int i = 0; i < kNodes; ++i) {
    initial[static_cast<std::size_t>(i)] = choices.below(1'000'000'000);
    legal.insert(initial[static_cast<std::size_t>(i)]);
  }
  const std::uint64_t global_max = *legal.rbegin();
  for (int i = 0; i < kNodes; ++i) {
    sim.add_node(node_name(i), [i, &initial, &live, whole_frames](cineyma::sim::Node& n) {
      auto& process = n.make<GossipProcess>(n.environment(), initial[static_cast<std::size_t>(i)],
                                            whole_frames);
      live[static_cast<std::size_t>(i)] = process.gossip;
    });
  }
  auto check_safety = [&] {
    for (int i = 0; i < kNodes; ++i) {
      const auto g = live[static_cast<std::size_t>(i)].lock();
      if (g && !legal.contains(g->known())) {
        run.fail(node_name(i) + " holds " + std::to_string(g->known()) +
                 ", which no node started with");
        return false;
      }
    }
    return true;
  };

  // Fault phase.
  std::vector<std::string> faults;
  const auto fault_phase_end = sim.now() + 20s;
  while (sim.now() < fault_phase_end) {
    sim.run_for(std::chrono::milliseconds(choices.between(50, 1'500)));
    if (!check_safety()) return;
    const std::string target = node_name(static_cast<int>(choices.below(kNodes)));
    switch (choices.below(8)) {
      case 0: {
        std::vector<std::string> a;
        std::vector<std::string> b;
        for (int i = 0; i < kNodes; ++i) (choices.chance(1, 2) ? a : b).push_back(node_name(i));
        sim.partition(a, b);
        faults.push_back("partition");
        break;
      }
      case 1:
        sim.partition_one_way({target}, {node_name(static_cast<int>(choices.below(kNodes)))});
        faults.push_back("one-way");
        break;
      case 2:
        sim.heal();
        faults.push_back("heal");
        break;
      case 3:
        if (sim.node(target)->is_up()) {
          sim.crash(target);
          faults.push_back("crash " + target);
        }
        break;
      case 4:
        if (!sim.node(target)->is_up()) {
          sim.restart(target);
          faults.push_back("restart " + target);
        }
        break;
      case 5:
        sim.pause(target, std::chrono::milliseconds(choices.between(10, 3'000)));
        faults.push_back("pause " + target);
        break;
      case 6:
        sim.clock_skew(target,
                       std::chrono::milliseconds(static_cast<std::int64_t>(choices.below(2'000)) - 1'000),
                       static_cast<std::int64_t>(choices.below(200'001)) - 100'000);
        faults.push_back("skew " + target);
        break;
      default:
        break;  // a quiet interval
    }
  }
  // Heal phase.
  sim.heal();
  for (int i = 0; i < kNodes; ++i) {
    if (!sim.node(node_name(i))->is_up()) sim.restart(node_name(i));
  }
  auto converged = [&] {
    for (const auto& weak : live) {
      const auto g = weak.lock();
      if (!g || g->known() != global_max) return false;
    }
    return true;
  };
  const bool ok = sim.run_until(converged, 30s);
  check_safety();
  run.check(ok, "liveness: not every node knows the maximum 30 s after healing");
  std::string list;
  for (const auto& f : faults) list += (list.empty() ? "" : ", ") + f;
  run.note("faults: " + list);
}

}  // namespace

CINEYMA_SIM_SCENARIO(gossip_max,
                     "5 nodes gossip a maximum over TCP; swarm faults, crashes; converge") {
  run_gossip(run, false);
}

CINEYMA_SIM_SCENARIO(gossip_max_planted_bug,
                     "demo: gossip_max with a framing bug (assumes whole frames); some seeds fail") {
  run_gossip(run, true);
}
