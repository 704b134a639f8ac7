// Mailbox properties (DESIGN §4, §8), checked with RapidCheck on the simulator (deterministic
// and fast; a failure prints the seed and the shrunk inputs):
//   * per-sender FIFO with no loss and no duplication, for several concurrent senders using
//     do_send, try_send-with-retry and send, at random capacities and seeds;
//   * up to `capacity` messages offered at once are all accepted and handled exactly once, in
//     order;
//   * try_send fails exactly when the mailbox is full, checked against a model over random
//     sequences of {try_send burst, Simulation::step()}.
#include <cineyma/cineyma.hpp>
#include <cineyma/sim/simulation.hpp>

#include <rapidcheck/catch.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using namespace cineyma;

namespace {

// ---------------------------------------------------------------------------------------------
// Per-sender FIFO

struct Item {
  int sender;
  int seq;
  using reply = int;  // echoes seq (used by the `send` mode; ignored otherwise)
};

/// Records every item (single-threaded under the simulator).
class Sink : public Actor<Sink> {
 public:
  explicit Sink(std::vector<std::pair<int, int>>* got) : got_(got) {}
  int handle(const Item& m, Context&) {
    got_->emplace_back(m.sender, m.seq);
    return m.seq;
  }

 private:
  std::vector<std::pair<int, int>>* got_;
};

enum class Mode : int { do_send = 0, try_send_retry = 1, request = 2 };

struct Start {};

/// Sends 0..count-1 to the sink, one mode per sender.
class Producer : public Actor<Producer> {
 public:
  Producer(Addr<Sink> sink, int id, int count, Mode mode, int* errors)
      : sink_(std::move(sink)), id_(id), count_(count), mode_(mode), errors_(errors) {}
  Task<void> handle(const Start&, Context& ctx) {
    for (int i = 0; i < count_; ++i) {
      switch (mode_) {
        case Mode::do_send:
          if (!(co_await sink_.do_send(Item{id_, i}))) ++*errors_;
          break;
        case Mode::try_send_retry:
          for (;;) {
            Result<void> r = sink_.try_send(Item{id_, i});
            if (r) break;
            if (!r.is(Errc::mailbox_full)) {
              ++*errors_;
              break;
            }
            co_await ctx.sleep(std::chrono::microseconds(1 + ctx.random().below(50)));
          }
          break;
        case Mode::request: {
          Result<int> r = co_await sink_.send(Item{id_, i});
          if (!r || *r != i) ++*errors_;
          break;
        }
      }
    }
  }

 private:
  Addr<Sink> sink_;
  int id_;
  int count_;
  Mode mode_;
  int* errors_;
};

// ---------------------------------------------------------------------------------------------
// Model of try_send

struct Val {
  int v;
};

class Counting : public Actor<Counting> {
 public:
  explicit Counting(std::vector<int>* got) : got_(got) {}
  void handle(const Val& m, Context&) { got_->push_back(m.v); }

 private:
  std::vector<int>* got_;
};

struct Command {
  bool step;      // true: Simulation::step(); false: a burst of try_sends
  int burst = 0;  // try_sends in the burst
};

// RapidCheck prints generated values when a property fails (found by ADL).
std::ostream& operator<<(std::ostream& os, const Command& c) {
  return c.step ? (os << "step") : (os << "try_send x" << c.burst);
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<Command> {
  static Gen<Command> arbitrary() {
    return gen::oneOf(gen::just(Command{true, 0}),
                      gen::map(gen::inRange(1, 40), [](int b) { return Command{false, b}; }));
  }
};
}  // namespace rc

TEST_CASE("property: per-sender FIFO, nothing lost or duplicated", "[property][mailbox]") {
  rc::prop("property: per-sender FIFO", [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const auto capacity = *rc::gen::inRange<std::size_t>(1, 9);
    const auto senders = *rc::gen::inRange(1, 6);
    std::vector<int> counts;
    std::vector<Mode> modes;
    for (int s = 0; s < senders; ++s) {
      counts.push_back(*rc::gen::inRange(0, 40));
      modes.push_back(static_cast<Mode>(*rc::gen::inRange(0, 3)));
    }
    int total = 0;
    for (int c : counts) total += c;

    std::vector<std::pair<int, int>> got;
    int errors = 0;
    sim::Simulation sim(seed);
    sim::Node& node = sim.add_node("node-1");
    {
      ActorSystem system(node.environment());
      Addr<Sink> sink = system.spawn_with_capacity(Sink{&got}, capacity).value();
      for (int s = 0; s < senders; ++s) {
        auto sender = system.spawn(Producer{sink, s, counts[s], modes[s], &errors});
        RC_ASSERT(sender.try_send(Start{}));
      }
      const bool done = sim.run_until(
          [&] { return got.size() == static_cast<std::size_t>(total); }, 60s);
      RC_ASSERT(done);
      sim.run_for(10ms);  // anything extra (a duplicate) would arrive now
      RC_ASSERT(system.shutdown(10s));
    }
    RC_ASSERT(errors == 0);
    RC_ASSERT(got.size() == static_cast<std::size_t>(total));
    std::vector<int> next(static_cast<std::size_t>(senders), 0);
    for (const auto& [sender, seq] : got) {
      RC_ASSERT(sender >= 0);
      RC_ASSERT(sender < senders);
      RC_ASSERT(seq == next[static_cast<std::size_t>(sender)]);  // FIFO, no gap, no repeat
      ++next[static_cast<std::size_t>(sender)];
    }
    for (int s = 0; s < senders; ++s) RC_ASSERT(next[static_cast<std::size_t>(s)] == counts[s]);
  });
}

TEST_CASE("property: up to capacity messages are all accepted and handled once, in order",
          "[property][mailbox]") {
  rc::prop("property: below capacity nothing is lost", [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    const auto capacity = *rc::gen::inRange<std::size_t>(1, 300);
    const auto rounds = *rc::gen::inRange(1, 4);
    std::vector<int> got;
    std::vector<int> expected;
    sim::Simulation sim(seed);
    sim::Node& node = sim.add_node("node-1");
    {
      ActorSystem system(node.environment());
      Addr<Counting> rx = system.spawn_with_capacity(Counting{&got}, capacity).value();
      int next = 0;
      for (int round = 0; round < rounds; ++round) {
        // The receiver is idle with an empty mailbox: any k <= capacity must fit.
        const auto k = *rc::gen::inRange<std::size_t>(0, capacity + 1);
        for (std::size_t i = 0; i < k; ++i) {
          RC_ASSERT(rx.try_send(Val{next}));
          expected.push_back(next++);
        }
        sim.run_until_idle(10s);
        RC_ASSERT(got == expected);
      }
      RC_ASSERT(system.shutdown(10s));
    }
    RC_ASSERT(got == expected);
  });
}

TEST_CASE("property: try_send fails exactly when the mailbox is full (model)",
          "[property][mailbox]") {
  rc::prop("property: try_send matches the bounded-queue model", [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    // Small capacities, and some above the throughput quantum (128) so that a drain spans
    // several runs of the cell.
    const auto capacity = static_cast<std::size_t>(
        *rc::gen::oneOf(rc::gen::inRange(1, 9), rc::gen::inRange(120, 260)));
    const auto commands = *rc::gen::arbitrary<std::vector<Command>>();

    std::vector<int> got;
    sim::Simulation sim(seed);
    sim::Node& node = sim.add_node("node-1");
    std::size_t accepted = 0;
    {
      ActorSystem system(node.environment());
      Addr<Counting> rx = system.spawn_with_capacity(Counting{&got}, capacity).value();
      for (const Command& c : commands) {
        if (c.step) {
          sim.step();
        } else {
          // Bursts sized relative to the capacity, so that large mailboxes fill up too.
          const int burst = capacity > 100 ? c.burst * 8 : c.burst;
          for (int i = 0; i < burst; ++i) {
            const std::size_t handled = got.size();
            RC_ASSERT(handled <= accepted);
            const bool room = accepted - handled < capacity;
            Result<void> r = rx.try_send(Val{static_cast<int>(accepted)});
            RC_ASSERT(static_cast<bool>(r) == room);
            if (r) {
              ++accepted;
            } else {
              RC_ASSERT(r.is(Errc::mailbox_full));
            }
          }
        }
        RC_ASSERT(got.size() <= accepted);
        RC_ASSERT(accepted - got.size() <= capacity);
      }
      sim.run_until_idle(10s);
      RC_ASSERT(got.size() == accepted);
      RC_ASSERT(system.shutdown(10s));
    }
    for (std::size_t i = 0; i < got.size(); ++i) RC_ASSERT(got[i] == static_cast<int>(i));
    RC_ASSERT(got.size() == accepted);
  });
}
