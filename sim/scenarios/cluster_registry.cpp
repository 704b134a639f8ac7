// sim/scenarios/cluster_registry.cpp — five ClusterNodes (real actor systems, remote servers,
// pooled clients, gossip) on the simulated TCP network, through swarm-drawn network faults,
// partitions, crashes, restarts, pauses and clock skew.
//
// Every node hosts a service actor registered as "svc-<node>" (re-registered by the node's
// boot function after a restart) and a few short-lived actors "tmp-<node>-<k>" that the
// scenario stops during the run. Clients on random live nodes call random services.
//
// Safety, checked as it goes:
//   - every answer a call gets is the answer to *that* call (same id), from the node that
//     holds the name (svc-i is only ever registered by node-i): no reply mix-ups, no calls
//     routed to the wrong node;
//   - once a node has seen a stopped actor's name gone, the name never resolves there again;
//   - a node never lists a member twice and always lists itself Up or Left.
// Liveness (heal phase): everything healed and restarted; within 30 s of virtual time every
// node sees every node Up, resolves every svc-i to node-i and none of the stopped names, and
// a call from every node to every service succeeds.
#include <cineyma/cluster.hpp>
#include <cineyma/sim/scenario.hpp>
#include <cineyma/system.hpp>

#include "cineyma_scenarios/cluster.pb.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

template <>
struct cineyma::message_reply<cineyma_scenarios::Ask> {
  using type = cineyma_scenarios::Answer;
};

namespace {

using namespace std::chrono_literals;
using cineyma::Prng;
using cineyma::cluster::ClusterClient;
using cineyma::cluster::ClusterNode;
using cineyma::cluster::ClusterNodeOptions;
using cineyma::cluster::MemberStatus;

constexpr int kNodes = 5;
constexpr int kTemporaries = 3;  // short-lived actors per node
constexpr std::uint16_t kPort = 7400;

using ServiceProtocol =
    cineyma::remote::Protocol<cineyma::remote::Rpc<cineyma_scenarios::Ask>>;

std::string node_name(int i) {
  std::string s = "node-";
  s += std::to_string(i);
  return s;
}
std::string endpoint_of(int i) { return node_name(i) + ":" + std::to_string(kPort); }
std::string service_name(int i) { return "svc-" + node_name(i); }
std::string temporary_name(int i, int k) {
  return "tmp-" + node_name(i) + "-" + std::to_string(k);
}

/// Answers who it is.
class Service : public cineyma::Actor<Service> {
 public:
  explicit Service(std::string node) : node_(std::move(node)) {}
  cineyma_scenarios::Answer handle(const cineyma_scenarios::Ask& m, Context&) {
    cineyma_scenarios::Answer a;
    a.set_id(m.id());
    a.set_node(node_);
    return a;
  }

 private:
  std::string node_;
};

ClusterNodeOptions options_for(int i) {
  ClusterNodeOptions o;
  o.gossip.node_id = node_name(i);
  o.gossip.endpoint = endpoint_of(i);
  // Two seeds, so that the cluster can form while one of them is down.
  for (int s : {0, 1}) {
    if (s != i) o.gossip.seeds.push_back(endpoint_of(s));
  }
  o.gossip.gossip_interval = 200ms;
  o.gossip.suspect_after = 1s;
  o.gossip.down_after = 2s;
  o.bind = {"", kPort};
  o.cluster_name = "scenario";
  o.secret = "scenario-secret";
  o.call_timeout = 500ms;
  o.connect_timeout = 300ms;
  return o;
}

/// One process: boot state, destroyed (cluster node first) when the node crashes.
struct Process {
  Process(cineyma::Environment& env, int index) : system(env), node(system, options_for(index)) {
    if (!node.start()) return;
    auto svc = system.spawn(Service(node_name(index)));
    started = node
                  .register_actor(service_name(index), svc,
                                  std::move(cineyma::remote::MessageRouter()
                                                .route<cineyma_scenarios::Ask>(svc)),
                                  "Service")
                  .has_value();
  }
  cineyma::ActorSystem system;
  ClusterNode node;
  bool started = false;
  std::vector<cineyma::Addr<Service>> temporaries;
};

}  // namespace

CINEYMA_SIM_SCENARIO(cluster_registry,
                     "5 ClusterNodes on simulated TCP: swarm faults, partitions, crashes; "
                     "registry and calls stay correct, all converge after healing") {
  // Swarm-drawn network faults and BUGGIFY; no injected handler exceptions: the services
  // here are top-level actors, which a failure stops for good (that is supervision's subject,
  // in local_pipeline and the supervision properties), and a stopped service's name is
  // rightly withdrawn.
  auto options = cineyma::sim::SimulationOptions::swarm(run.seed());
  options.callback_exceptions = cineyma::sim::Ratio{0, 1};
  auto& sim = run.simulation(options);
  Prng choices(run.seed() ^ 0x636c757374657221ULL);  // "cluster!"

  std::array<Process*, kNodes> procs{};
  for (int i = 0; i < kNodes; ++i) {
    sim.add_node(node_name(i), [i, &procs, &run](cineyma::sim::Node& n) {
      auto& p = n.make<Process>(n.environment(), i);
      run.check(p.started, node_name(i) + " did not start");
      procs[static_cast<std::size_t>(i)] = &p;
    });
  }
  auto crash = [&](int i) {
    procs[static_cast<std::size_t>(i)] = nullptr;
    sim.crash(node_name(i));
  };

  // The first life of each node also hosts short-lived actors, stopped during the run.
  sim.run_for(1s);
  std::vector<std::string> stopped_names;
  // name -> node -> 1: seen resolving after the stop, 2: then seen gone
  std::map<std::string, std::map<int, int>> seen_gone;
  std::vector<std::pair<std::string, cineyma::Addr<Service>>> to_stop;
  for (int i = 0; i < kNodes; ++i) {
    Process* p = procs[static_cast<std::size_t>(i)];
    if (p == nullptr) continue;
    for (int k = 0; k < kTemporaries; ++k) {
      auto a = p->system.spawn(Service(node_name(i)));
      if (p->node
              .register_actor(temporary_name(i, k), a,
                              std::move(cineyma::remote::MessageRouter()
                                            .route<cineyma_scenarios::Ask>(a)),
                              "Temporary")
              .has_value()) {
        to_stop.emplace_back(temporary_name(i, k), a);
      }
    }
  }

  std::uint64_t next_id = 1;
  std::uint64_t calls_ok = 0;
  std::uint64_t calls_failed = 0;
  std::string last_error;
  auto call_once = [&](int from, int to) {
    Process* p = procs[static_cast<std::size_t>(from)];
    if (p == nullptr) return;
    cineyma_scenarios::Ask ask;
    ask.set_id(next_id++);
    ClusterClient client(p->node);
    auto r = client.remote_addr<ServiceProtocol>(service_name(to)).call(ask, 500ms).get();
    if (!r) {
      ++calls_failed;
      last_error = r.error().message();
      return;
    }
    ++calls_ok;
    run.check(r->id() == ask.id(), "a call got the answer of another call");
    run.check(r->node() == node_name(to),
              "a call for " + service_name(to) + " was answered by " + r->node());
  };

  auto check_state = [&] {
    for (int i = 0; i < kNodes; ++i) {
      Process* p = procs[static_cast<std::size_t>(i)];
      if (p == nullptr) continue;
      for (const std::string& name : stopped_names) {
        // Gone after having been seen resolving (since the stop): the node then holds the
        // tombstone or knows the owner's life is over, and neither can be undone. (A node
        // that never saw the registration may still receive it late, with its tombstone
        // close behind: that is not a return.)
        const bool resolves = p->node.lookup_actor(name).has_value();
        auto& state = seen_gone[name][i];
        if (resolves && state == 2) {
          run.fail(name + " came back on " + node_name(i) + " after it was gone");
        } else if (resolves) {
          state = 1;
        } else if (state == 1) {
          state = 2;
        }
      }
      std::set<std::string> listed;
      for (const auto& m : p->node.members()) {
        if (!listed.insert(m.node).second) run.fail(node_name(i) + " lists " + m.node + " twice");
        if (m.self && m.status != MemberStatus::up && m.status != MemberStatus::left) {
          run.fail(node_name(i) + " sees itself " + std::to_string(static_cast<int>(m.status)));
        }
      }
    }
  };

  // ---- fault phase: 20 s of virtual time ----
  std::vector<std::string> faults;
  const auto fault_end = sim.now() + 20s;
  while (sim.now() < fault_end && !run.failed()) {
    sim.run_for(std::chrono::milliseconds(choices.between(50, 1'000)));
    check_state();
    const int target = static_cast<int>(choices.below(kNodes));
    switch (choices.below(10)) {
      case 0: {
        std::vector<std::string> a, b;
        for (int i = 0; i < kNodes; ++i) (choices.chance(1, 2) ? a : b).push_back(node_name(i));
        if (!a.empty() && !b.empty()) {
          sim.partition(a, b);
          faults.push_back("partition");
        }
        break;
      }
      case 1:
        sim.heal();
        faults.push_back("heal");
        break;
      case 2:
        if (sim.node(node_name(target))->is_up()) {
          crash(target);
          faults.push_back("crash " + node_name(target));
        }
        break;
      case 3:
        if (!sim.node(node_name(target))->is_up()) {
          sim.restart(node_name(target));
          faults.push_back("restart " + node_name(target));
        }
        break;
      case 4:
        if (sim.node(node_name(target))->is_up()) {
          sim.pause(node_name(target), std::chrono::milliseconds(choices.between(10, 3'000)));
          faults.push_back("pause " + node_name(target));
        }
        break;
      case 5:
        if (!to_stop.empty()) {
          auto [name, addr] = to_stop.back();
          to_stop.pop_back();
          addr.stop();  // a no-op if its node crashed meanwhile: the name dies with the node
          stopped_names.push_back(name);
          faults.push_back("stop " + name);
        }
        break;
      default:
        for (int n = 0; n < 3; ++n) {
          call_once(static_cast<int>(choices.below(kNodes)),
                    static_cast<int>(choices.below(kNodes)));
        }
        break;
    }
  }
  // The temporaries not stopped yet are stopped now, so that none is left to resolve.
  for (auto& [name, addr] : to_stop) {
    addr.stop();
    stopped_names.push_back(name);
  }
  to_stop.clear();

  // ---- heal phase ----
  sim.heal();
  for (int i = 0; i < kNodes; ++i) {
    if (!sim.node(node_name(i))->is_up()) sim.restart(node_name(i));
  }
  auto converged = [&] {
    for (int i = 0; i < kNodes; ++i) {
      Process* p = procs[static_cast<std::size_t>(i)];
      if (p == nullptr) return false;
      std::size_t up = 0;
      for (const auto& m : p->node.members()) up += m.status == MemberStatus::up ? 1 : 0;
      if (up != kNodes) return false;
      for (int j = 0; j < kNodes; ++j) {
        auto at = p->node.lookup_actor(service_name(j));
        if (!at || at->node != node_name(j)) return false;
      }
      for (const std::string& name : stopped_names) {
        if (p->node.lookup_actor(name)) return false;
      }
    }
    return true;
  };
  const bool ok = sim.run_until(converged, 30s);
  check_state();
  run.check(ok, "liveness: the cluster did not converge within 30 s after healing");
  if (ok) {
    // The network's own faults (stalls of up to seconds, resets) stay on after healing, so
    // one call may miss its 500 ms deadline; and a restarted node (which starts from
    // incarnation 0) may still have to outbid a verdict on an earlier life of its own that
    // arrives late, which briefly hides its names. Attempts spread over 5 s must get through.
    for (int i = 0; i < kNodes; ++i) {
      for (int j = 0; j < kNodes; ++j) {
        const std::uint64_t before = calls_ok;
        for (int attempt = 0; attempt < 10 && calls_ok == before; ++attempt) {
          if (attempt > 0) sim.run_for(500ms);
          call_once(i, j);
        }
        run.check(calls_ok == before + 1, "after healing, " + node_name(i) + " cannot call " +
                                              service_name(j) + ": " + last_error);
      }
    }
  }
  std::string list;
  for (const auto& f : faults) list += (list.empty() ? "" : ", ") + f;
  run.note("calls ok=" + std::to_string(calls_ok) + " failed=" + std::to_string(calls_failed) +
           "; faults: " + list);
  for (int i = 0; i < kNodes; ++i) {
    if (procs[static_cast<std::size_t>(i)] != nullptr) crash(i);
  }
}
