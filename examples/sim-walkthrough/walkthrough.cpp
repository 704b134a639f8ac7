// examples/sim-walkthrough/walkthrough.cpp — see walkthrough.hpp.
//
// The script talks to each node through kv::Session, exactly as the REPL of distributed-kv
// does; every blocking call (a get, a wait-* command) drives the simulation until it
// completes, so the script reads top to bottom like a terminal session, in virtual time.
#include "walkthrough.hpp"

#include "kv_session.hpp"

#include <cineyma/sim/simulation.hpp>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <utility>

namespace walkthrough {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kNodes = 3;
constexpr std::uint16_t kPort = 7000;

std::string name_of(std::size_t i) { return "node-" + std::to_string(i + 1); }
std::string endpoint_of(std::size_t i) { return name_of(i) + ":" + std::to_string(kPort); }

class Story {
 public:
  Story(std::uint64_t seed, bool record, const std::function<void(std::string_view)>& print)
      : sim_(seed, options(record)), print_(print) {}

  ~Story() {
    // Everything built on the nodes' environments goes before the simulation.
    quiet_ = true;
    for (std::size_t i = 0; i < kNodes; ++i) {
      if (nodes_[i] != nullptr) crash(i);
    }
  }

  cineyma::sim::Simulation& sim() noexcept { return sim_; }
  Report& report() noexcept { return report_; }

  /// Starts node i; `seeds`: the endpoints it joins through (none: it founds the cluster).
  void boot(std::size_t i, std::vector<std::string> seeds) {
    cineyma::sim::BootFunction fn = [this, i, seeds](cineyma::sim::Node& n) {
      kv::KvOptions o;
      o.node_id = name_of(i);
      o.bind = {"", kPort};  // a simulated node listens on its own name
      o.endpoint = endpoint_of(i);
      o.seeds = seeds;
      // The demo's timings: gossip every 200 ms, Suspect after 1 s, Down after 2 s.
      o.gossip_interval = 200ms;
      o.suspect_after = 1s;
      o.down_after = 2s;
      o.call_timeout = 2s;
      o.incarnation = n.incarnation();
      o.secret = "walkthrough";
      o.narrate = [this, i](const std::string& line) { narrate(i, line); };
      auto& node = n.make<kv::KvNode>(n.environment(), std::move(o));
      const auto started = node.start();
      check(started.has_value(), name_of(i) + " starts");
      nodes_[i] = &node;
    };
    if (sim_.node(name_of(i)) == nullptr) {
      sim_.add_node(name_of(i), std::move(fn));
    } else {
      sim_.restart(name_of(i), std::move(fn));
    }
  }

  void crash(std::size_t i) {
    nodes_[i] = nullptr;
    sim_.crash(name_of(i));
  }

  /// Types `line` into node i's session; returns what it printed.
  std::vector<std::string> type(std::size_t i, const std::string& line) {
    if (nodes_[i] == nullptr) {
      check(false, "a command to " + name_of(i) + ", which is down");
      return {};
    }
    say(fmt::format("{}> {}", name_of(i), line));
    kv::Session session(*nodes_[i]);
    const kv::Outcome out = session.run_line(line);
    for (const auto& l : out.lines) say(fmt::format("        {}", l));
    check(!out.failed, name_of(i) + ": " + line);
    return out.lines;
  }

  /// Types `line` and checks that its first answer line is `expected`.
  void expect(std::size_t i, const std::string& line, const std::string& expected) {
    const auto out = type(i, line);
    check(!out.empty() && out.front() == expected,
          fmt::format("{}: '{}' answers '{}'", name_of(i), line, expected));
  }

  /// Types `line` and checks that it fails with an error.
  void expect_error(std::size_t i, const std::string& line) {
    const auto out = type(i, line);
    check(!out.empty() && out.front().rfind("error: ", 0) == 0,
          fmt::format("{}: '{}' fails", name_of(i), line));
  }

  void phase(const std::string& title) {
    print_("");
    print_("-- " + title);
  }

  void check(bool ok, const std::string& what) {
    if (ok) return;
    report_.failures.push_back(what);
    say("CHECK FAILED: " + what);
  }

  /// Where node i sees the store ("" when nowhere).
  std::string store_seen_by(std::size_t i) const {
    if (nodes_[i] == nullptr) return {};
    const auto at = nodes_[i]->cluster().lookup_actor(kv::kStoreName);
    return at ? at->node : std::string();
  }

  /// Runs until every running node sees the same node hosting the store, and that node Up;
  /// returns it ("" if that does not happen within `deadline`).
  std::string agreed_store(cineyma::Duration deadline) {
    std::string home;
    const auto agreed = [&] {
      home.clear();
      for (std::size_t i = 0; i < kNodes; ++i) {
        if (nodes_[i] == nullptr) continue;
        const auto at = nodes_[i]->cluster().lookup_actor(kv::kStoreName);
        if (!at || (!home.empty() && at->node != home)) return false;
        const auto status = nodes_[i]->cluster().status_of(at->node);
        if (!status || *status != cineyma::cluster::MemberStatus::up) return false;
        home = at->node;
      }
      return !home.empty();
    };
    if (!sim_.run_until(agreed, deadline)) return {};
    say("(every node sees the store on " + home + ")");
    return home;
  }

  /// How many times node i took the store over (as narrated by it).
  int takeovers(std::size_t i) const {
    auto it = takeovers_.find(i);
    return it == takeovers_.end() ? 0 : it->second;
  }

 private:
  static cineyma::sim::SimulationOptions options(bool record) {
    cineyma::sim::SimulationOptions o;
    o.record_events = record;
    // A LAN: 0.5-2 ms one way, so that the seed decides the order of what happens at once.
    o.latency_us = 500;
    o.latency_jitter_us = 1500;
    return o;
  }

  std::string stamp() const {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        sim_.now().time_since_epoch())
                        .count();
    return fmt::format("[{:4d}.{:03d}s]", us / 1000000, (us / 1000) % 1000);
  }

  void say(const std::string& text) { print_(stamp() + " " + text); }

  void narrate(std::size_t i, const std::string& line) {
    if (quiet_) return;
    if (line.rfind("this node now hosts the store", 0) == 0) ++takeovers_[i];
    say(fmt::format("{}  * {}", name_of(i), line));
  }

  cineyma::sim::Simulation sim_;
  const std::function<void(std::string_view)>& print_;
  std::array<kv::KvNode*, kNodes> nodes_{};
  std::map<std::size_t, int> takeovers_;
  bool quiet_ = false;
  Report report_;
};

void tell(Story& s) {
  constexpr std::size_t n1 = 0, n2 = 1, n3 = 2;

  s.phase("1. three nodes: node-1 founds the cluster and hosts the store, node-2 and node-3 join");
  s.boot(n1, {});
  s.boot(n2, {endpoint_of(n1)});
  s.boot(n3, {endpoint_of(n1)});
  for (std::size_t i : {n1, n2, n3}) s.expect(i, "wait-members 3 10000", "3 members up");
  s.expect(n3, "wait-store 10000", "the store is on node-1");

  s.phase("2. writes on one node, reads on another");
  s.expect(n2, "set greeting hello world", "OK");
  s.expect(n3, "get greeting", "hello world");
  s.expect(n1, "set color blue", "OK");
  s.expect(n3, "get nothing-here", "(nil)");

  s.phase("3. partition: node-3 is cut off from node-1 and node-2");
  s.sim().partition({name_of(n3)}, {name_of(n1), name_of(n2)});
  s.expect(n1, "wait-status node-3 down 10000", "node-3 is Down");
  s.expect(n3, "wait-status node-1 down 10000", "node-1 is Down");
  // The majority side keeps the store and keeps writing (2 of 3 replicas acknowledge)...
  s.expect(n1, "set during partition", "OK");
  // ... and the minority side must not elect a store of its own (no split brain): it sees
  // only 1 of 3 members alive. Give it a few of its check intervals to get that wrong.
  s.expect_error(n3, "get greeting");
  s.sim().run_for(2s);
  s.check(s.takeovers(n3) == 0, "node-3 never hosts the store while cut off");
  s.check(s.store_seen_by(n3).empty(), "node-3 sees no live store while cut off");

  s.phase("4. heal: node-3 rejoins; each side now hears the other's Down verdicts, and the "
          "nodes they name start new lives");
  s.sim().heal();
  for (std::size_t i : {n1, n2, n3}) s.expect(i, "wait-members 3 20000", "3 members up");
  // Those new lives kill registrations made in the old ones for a moment, so the store may
  // move once more here (with its data); wait until every node sees the same live home.
  const std::string home = s.agreed_store(10s);
  s.check(!home.empty(), "after healing, all nodes agree where the store is");
  s.expect(n3, "get during", "partition");

  std::size_t owner = n1;
  for (std::size_t i : {n1, n2, n3}) {
    if (name_of(i) == home) owner = i;
  }
  std::vector<std::size_t> rest;
  for (std::size_t i : {n1, n2, n3}) {
    if (i != owner) rest.push_back(i);
  }
  const std::size_t heir = rest.front();   // the smallest live node id
  const std::size_t watcher = rest.back();
  const std::string dead = name_of(owner);

  s.phase("5. crash: the store's node (" + dead + ") dies; the store moves with its data");
  const int moves_before = s.takeovers(heir) + s.takeovers(watcher);
  s.crash(owner);
  s.expect(watcher, "wait-status " + dead + " suspect 10000", dead + " is Suspect");
  s.expect(watcher, "wait-status " + dead + " down 10000", dead + " is Down");
  s.expect(watcher, "wait-store 10000", "the store is on " + name_of(heir));
  s.expect(watcher, "get greeting", "hello world");
  s.expect(watcher, "get during", "partition");
  s.expect(heir, "get color", "blue");
  s.expect(watcher, "set after crash", "OK");
  s.check(s.takeovers(heir) + s.takeovers(watcher) == moves_before + 1,
          "the store moved exactly once, to " + name_of(heir) + " (the smallest live node id)");

  s.phase("6. " + dead + " restarts (a new life), rejoins and reads the moved store");
  s.boot(owner, {endpoint_of(rest[0]), endpoint_of(rest[1])});
  s.expect(owner, "wait-members 3 20000", "3 members up");
  s.expect(owner, "wait-store 10000", "the store is on " + name_of(heir));
  s.expect(owner, "get after", "crash");
  s.type(owner, "members");
  s.type(owner, "actors");
}

}  // namespace

Report run(std::uint64_t seed, const std::string& trace_path,
           const std::function<void(std::string_view)>& print) {
  Report report;
  {
    Story story(seed, !trace_path.empty(), print);
    tell(story);
    report = story.report();
    report.events = story.sim().events();
    report.trace_hash = story.sim().trace_hash();
    if (!trace_path.empty()) {
      const auto written = story.sim().write_trace(trace_path);
      if (!written) report.trace_error = written.error().message();
    }
  }
  report.ok = report.failures.empty() && report.trace_error.empty();
  return report;
}

}  // namespace walkthrough
