// bench/peers/caf_bench.cpp — the peer-comparison workloads written for CAF 0.17 (Debian's
// libcaf-dev), with the same definitions, sizes and reporting as bench/local_bench.cpp.
//
// Each workload is written the way a CAF 0.17 user would write it: function-based (stateful)
// event-based actors, atoms as message tags, `anon_send` for fire-and-forget from the main
// thread, `request(...).then(...)` between actors, and a `scoped_actor` for blocking calls and
// waits from the main thread. The main thread plays the part of our benchmark thread: it is
// not one of the scheduler's workers, so every wake-up it causes crosses threads, as in ours.
//
// Scheduler: CAF's default (work stealing) with 2 workers (`scheduler.max-threads=2`), unless
// overridden on the command line (e.g. `--scheduler.policy=sharing`, reported as the system
// `caf_sharing`).
//
// Reporting (as Google Benchmark does for ours): one untimed warm-up iteration, then
// `--reps` repetitions; a repetition runs iterations until at least `--min-time` seconds were
// timed and yields one figure. Per repetition: `SAMPLE <system> <workload> <value>`; per
// workload: `RESULT <system> <workload> <median>`. Counts are checked; a wrong count prints
// `ERROR <system> <workload> <why>` and the workload is dropped.
//
//   caf_bench [--reps=N] [--min-time=SECONDS] [--only=key,key...] [--memory[=ACTORS]]
//             [CAF options, e.g. --scheduler.policy=sharing]
//   caf_bench --remote [--reps=N] [--rounds=N] [--pipelined=N] [--rtt-caller=thread|actor]
//             [--deadline=SECONDS] [--only=key,key...] [CAF options]
//
// `--remote` runs the workloads of cineyma_bench_remote (bench/remote_bench.cpp) over CAF's io
// module instead of the local ones: see run_remote() below.
#include "caf/all.hpp"
#ifdef CAF_BENCH_HAS_IO
#include "caf/io/all.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>
#endif

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using caf::actor;
using caf::actor_system;
using caf::behavior;
using caf::event_based_actor;
using caf::infinite;
using caf::scoped_actor;
using caf::stateful_actor;
using Clock = std::chrono::steady_clock;

// ---- messages (atoms tag them, as is usual in CAF 0.17) --------------------------------------

using count_atom = caf::atom_constant<caf::atom("count")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using add_atom = caf::atom_constant<caf::atom("add")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using next_atom = caf::atom_constant<caf::atom("next")>;
using token_atom = caf::atom_constant<caf::atom("token")>;
using done_atom = caf::atom_constant<caf::atom("done")>;

// ---- actors (the same roles as bench/common.hpp) ---------------------------------------------

/// Does nothing; `flush` proves it is running.
behavior noop(event_based_actor*) {
  return {[](flush_atom) { return std::uint64_t{0}; }};
}

struct counter_state {
  std::uint64_t count = 0;
};
/// Counts `count` messages; `flush` returns the total (FIFO per sender: when its reply
/// arrives, everything the same sender sent before was handled).
behavior counter(stateful_actor<counter_state>* self) {
  return {
      [=](count_atom, std::uint32_t) { ++self->state.count; },
      [=](flush_atom) { return self->state.count; },
  };
}

behavior calculator(event_based_actor*) {
  return {[](add_atom, std::uint32_t a, std::uint32_t b) { return a + b; }};
}

/// Sequential request-response rounds to a calculator: each reply triggers the next request,
/// so exactly one request is outstanding. On `run` it answers, through a response promise,
/// once all rounds are done with the number of correct sums. Optionally records every
/// round trip's latency (ns) into `samples_ns`, owned by the main thread, which reads it only
/// after the `run` reply arrived (the reply orders the writes before the read).
struct driver_state {
  actor calc;
  std::vector<std::uint32_t>* samples_ns = nullptr;
  std::uint32_t next = 0;
  std::uint32_t rounds = 0;
  std::uint64_t good = 0;
  Clock::time_point sent_at;
  caf::response_promise done;
};

void driver_step(stateful_actor<driver_state>* self) {
  auto& st = self->state;
  if (st.next == st.rounds) {
    st.done.deliver(st.good);
    return;
  }
  const std::uint32_t i = st.next++;
  if (st.samples_ns != nullptr) st.sent_at = Clock::now();
  self->request(st.calc, infinite, add_atom::value, i, std::uint32_t{1})
      .then([=](std::uint32_t sum) {
        auto& s = self->state;
        if (s.samples_ns != nullptr) {
          s.samples_ns->push_back(static_cast<std::uint32_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s.sent_at)
                  .count()));
        }
        if (sum == i + 1) ++s.good;
        driver_step(self);
      });
}

behavior driver(stateful_actor<driver_state>* self, actor calc,
                std::vector<std::uint32_t>* samples_ns) {
  self->state.calc = std::move(calc);
  self->state.samples_ns = samples_ns;
  return {[=](run_atom, std::uint32_t rounds) {
    auto& st = self->state;
    st.next = 0;
    st.rounds = rounds;
    st.good = 0;
    st.done = self->make_response_promise();
    driver_step(self);
    return st.done;  // delegated: driver_step delivers after the last round
  }};
}

/// A ring node: forwards the token to its successor, or tells the waiter when no hops are left.
struct ring_state {
  actor next;
  actor waiter;
};
behavior ring_node(stateful_actor<ring_state>* self) {
  return {
      [=](next_atom, actor next, actor waiter) {
        self->state.next = std::move(next);
        self->state.waiter = std::move(waiter);
        return std::uint64_t{0};
      },
      [=](token_atom, std::uint64_t remaining) {
        if (remaining == 0) {
          self->send(self->state.waiter, done_atom::value);
        } else {
          self->send(self->state.next, token_atom::value, remaining - 1);
        }
      },
  };
}

// ---- blocking helpers for the main thread ----------------------------------------------------

/// A failed check: reported as ERROR and the workload is dropped.
struct check_failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
void check(bool ok, const char* what) {
  if (!ok) throw check_failed(what);
}

/// Blocking request from the main thread's scoped actor, returning a `uint64_t` reply.
template <class... Ts>
std::uint64_t ask_u64(scoped_actor& self, const actor& to, Ts... xs) {
  std::uint64_t out = 0;
  bool ok = false;
  self->request(to, infinite, xs...).receive([&](std::uint64_t v) { out = v, ok = true; },
                                             [&](caf::error&) { ok = false; });
  check(ok, "request failed");
  return out;
}

/// Stops every actor in `actors` and waits until the system has no live actor left — the
/// cheapest wait CAF offers (one counter in the registry), usable only while no other actor
/// lives: a `scoped_actor` counts as running even when hidden.
void stop_all(actor_system& sys, std::vector<actor>& actors) {
  for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  actors.clear();
  sys.await_all_actors_done();
}

/// Stops every actor in `actors` and waits, from `self`, until each has terminated.
void stop_all(scoped_actor& self, std::vector<actor>& actors) {
  for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  self->wait_for(actors);
  actors.clear();
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- the harness -----------------------------------------------------------------------------

struct Options {
  int reps = 5;
  double min_time_s = 0.5;
  std::vector<std::string> only;  // empty: all workloads
  std::size_t memory_actors = 0;  // non-zero: memory mode
  std::string system = "caf";
  // --remote mode
  bool remote = false;
  std::size_t rounds = 10'000;      // timed round trips per repetition (plus 10 % warm-up)
  std::size_t pipelined = 200'000;  // calls per repetition, 100 in flight
  bool rtt_from_actor = true;       // --rtt-caller=thread for a scoped_actor; see below
  double deadline_s = 120;          // for the whole run, connect included
};

/// One iteration's timed seconds and the number of items (actors, messages, ...) it covered.
struct Timed {
  double seconds;
  double items;
};

enum class Kind { ns_per_item, items_per_s };

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

class Harness {
 public:
  explicit Harness(const Options& opt) : opt_(opt) {}

  bool wanted(std::string_view key) const {
    return opt_.only.empty() ||
           std::find(opt_.only.begin(), opt_.only.end(), key) != opt_.only.end();
  }

  /// Runs `iteration` once untimed, then `reps` repetitions of at least `min_time_s` each.
  void measure(const std::string& key, Kind kind, const std::function<Timed()>& iteration) {
    if (!wanted(key)) return;
    try {
      iteration();  // warm-up
      std::vector<double> values;
      for (int r = 0; r < opt_.reps; ++r) {
        double seconds = 0;
        double items = 0;
        while (seconds < opt_.min_time_s) {
          const Timed t = iteration();
          seconds += t.seconds;
          items += t.items;
        }
        values.push_back(kind == Kind::ns_per_item ? seconds * 1e9 / items : items / seconds);
        sample(key, values.back());
      }
      result(key, median_of(values));
    } catch (const check_failed& e) {
      std::printf("ERROR %s %s %s\n", opt_.system.c_str(), key.c_str(), e.what());
      std::fflush(stdout);
    }
  }

  /// Latency percentiles: `iteration` appends one sample (ns) per round trip; a repetition
  /// runs iterations for at least `min_time_s` of wall time and reports p50 and p99 over all
  /// of its samples (nearest rank).
  void measure_latency(const std::string& key_p50, const std::string& key_p99,
                       const std::function<void(std::vector<std::uint32_t>&)>& iteration) {
    if (!wanted(key_p50) && !wanted(key_p99)) return;
    try {
      std::vector<std::uint32_t> samples;
      iteration(samples);  // warm-up
      std::vector<double> p50s;
      std::vector<double> p99s;
      for (int r = 0; r < opt_.reps; ++r) {
        samples.clear();
        const auto t0 = Clock::now();
        while (seconds_since(t0) < opt_.min_time_s) iteration(samples);
        p50s.push_back(percentile(samples, 50));
        p99s.push_back(percentile(samples, 99));
        sample(key_p50, p50s.back());
        sample(key_p99, p99s.back());
      }
      result(key_p50, median_of(p50s));
      result(key_p99, median_of(p99s));
    } catch (const check_failed& e) {
      std::printf("ERROR %s %s %s\n", opt_.system.c_str(), key_p50.c_str(), e.what());
      std::fflush(stdout);
    }
  }

  void sample(const std::string& key, double value) const {
    std::printf("SAMPLE %s %s %.6g\n", opt_.system.c_str(), key.c_str(), value);
    std::fflush(stdout);
  }

 private:
  static double percentile(std::vector<std::uint32_t>& v, unsigned pct) {
    check(!v.empty(), "no samples");
    // Nearest rank: the smallest sample with at least pct % of all samples at or below it.
    const std::size_t rank = (v.size() * pct + 99) / 100;
    const auto nth = v.begin() + static_cast<std::ptrdiff_t>(rank - 1);
    std::nth_element(v.begin(), nth, v.end());
    return *nth;
  }

  void result(const std::string& key, double value) const {
    std::printf("RESULT %s %s %.6g\n", opt_.system.c_str(), key.c_str(), value);
    std::fflush(stdout);
  }

  const Options& opt_;
};

// ---- workloads -------------------------------------------------------------------------------

/// Actors per population before it is stopped (untimed) and a new one started, as ours.
constexpr std::size_t kSpawnPopulation = 10'000;

/// Spawn N no-op actors from the main thread, handles kept in a vector (reserved). Stopping a
/// population of at least 10 000 is untimed.
void bench_spawn(Harness& h, actor_system& sys, const std::string& key, std::size_t n) {
  std::vector<actor> actors;
  actors.reserve(kSpawnPopulation + n);
  h.measure(key, Kind::ns_per_item, [&] {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) actors.push_back(sys.spawn(noop));
    const double s = seconds_since(t0);
    if (actors.size() >= kSpawnPopulation) stop_all(sys, actors);
    return Timed{s, static_cast<double>(n)};
  });
  stop_all(sys, actors);
}

/// Spawn N no-op actors, then stop them all (exit signal) and wait until every one is gone.
void bench_spawn_stop(Harness& h, actor_system& sys, std::size_t n) {
  std::vector<actor> actors;
  actors.reserve(n);
  h.measure("spawn_stop_1k_ns_per_actor", Kind::ns_per_item, [&] {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < n; ++i) actors.push_back(sys.spawn(noop));
    stop_all(sys, actors);
    return Timed{seconds_since(t0), static_cast<double>(n)};
  });
}

/// `actors` counters, `per_actor` messages to each, sent round-robin from the main thread with
/// `anon_send` (CAF 0.17 mailboxes are unbounded, so there is nothing to retry); then a
/// blocking `flush` request to each confirms and checks every count.
void bench_send(Harness& h, actor_system& sys, const std::string& key, std::size_t n_actors,
                std::uint64_t per_actor) {
  scoped_actor self{sys, true};
  std::vector<actor> actors;
  for (std::size_t i = 0; i < n_actors; ++i) actors.push_back(sys.spawn(counter));
  std::uint64_t expected = 0;
  h.measure(key, Kind::items_per_s, [&] {
    const auto t0 = Clock::now();
    for (std::uint64_t round = 0; round < per_actor; ++round) {
      for (const auto& a : actors) caf::anon_send(a, count_atom::value, std::uint32_t{0});
    }
    expected += per_actor;
    for (const auto& a : actors) check(ask_u64(self, a, flush_atom::value) == expected, "lost");
    return Timed{seconds_since(t0), static_cast<double>(per_actor * n_actors)};
  });
  stop_all(self, actors);
}

constexpr std::uint32_t kRoundTripsPerRun = 100'000;

/// Latency of sequential request-response between two actors: a driver does 100 000
/// sequential requests per run and records each round trip; p50 and p99 over a repetition.
void bench_rr_latency(Harness& h, actor_system& sys) {
  scoped_actor self{sys, true};
  std::vector<std::uint32_t> samples;  // written by the driver during a run, read after it
  std::vector<actor> actors{sys.spawn(calculator)};
  actors.push_back(sys.spawn(driver, actors[0], &samples));
  h.measure_latency("rr_actor_p50_ns", "rr_actor_p99_ns", [&](std::vector<std::uint32_t>& out) {
    samples.clear();
    samples.reserve(kRoundTripsPerRun);
    check(ask_u64(self, actors[1], run_atom::value, kRoundTripsPerRun) == kRoundTripsPerRun,
          "wrong sum");
    out.insert(out.end(), samples.begin(), samples.end());
  });
  stop_all(self, actors);
}

/// A blocking call from a plain (non-actor) thread: the main thread's scoped actor does
/// `request(calc, add, 42, 58).receive(...)`, one round trip at a time.
void bench_call_from_thread(Harness& h, actor_system& sys) {
  constexpr int kCalls = 1000;
  scoped_actor self{sys, true};
  std::vector<actor> actors{sys.spawn(calculator)};
  h.measure("call_from_thread_ns", Kind::ns_per_item, [&] {
    const auto t0 = Clock::now();
    for (int i = 0; i < kCalls; ++i) {
      std::uint32_t sum = 0;
      self->request(actors[0], infinite, add_atom::value, std::uint32_t{42}, std::uint32_t{58})
          .receive([&](std::uint32_t v) { sum = v; }, [&](caf::error&) {});
      check(sum == 100, "wrong sum");
    }
    return Timed{seconds_since(t0), kCalls};
  });
  stop_all(self, actors);
}

/// 100 requests in flight: 100 drivers, each 10 000 sequential requests to one calculator
/// (so each always has exactly one outstanding). The main thread issues all 100 `run`
/// requests, then collects the 100 replies.
void bench_rr_in_flight(Harness& h, actor_system& sys) {
  constexpr std::size_t kRequesters = 100;
  constexpr std::uint32_t kPerRequester = 10'000;
  scoped_actor self{sys, true};
  std::vector<actor> actors{sys.spawn(calculator)};
  for (std::size_t i = 0; i < kRequesters; ++i) {
    actors.push_back(sys.spawn(driver, actors[0], nullptr));
  }
  h.measure("rr_100_in_flight_req_per_s", Kind::items_per_s, [&] {
    const auto t0 = Clock::now();
    std::vector<decltype(self->request(actors[0], infinite, run_atom::value, kPerRequester))>
        pending;
    pending.reserve(kRequesters);
    for (std::size_t i = 1; i <= kRequesters; ++i) {
      pending.push_back(self->request(actors[i], infinite, run_atom::value, kPerRequester));
    }
    std::uint64_t good = 0;
    for (auto& p : pending) {
      p.receive([&](std::uint64_t v) { good += v; }, [&](caf::error&) {});
    }
    check(good == kRequesters * kPerRequester, "wrong sum");
    return Timed{seconds_since(t0), static_cast<double>(kRequesters * kPerRequester)};
  });
  stop_all(self, actors);
}

/// A ring of 1000 actors passes one token 1M hops; the main thread injects it and blocks until
/// the last node tells it the hops are done.
void bench_ring(Harness& h, actor_system& sys) {
  constexpr std::size_t kNodes = 1000;
  constexpr std::uint64_t kHops = 1'000'000;
  scoped_actor self{sys, true};
  std::vector<actor> nodes;
  for (std::size_t i = 0; i < kNodes; ++i) nodes.push_back(sys.spawn(ring_node));
  const actor waiter{self};
  for (std::size_t i = 0; i < kNodes; ++i) {
    ask_u64(self, nodes[i], next_atom::value, nodes[(i + 1) % kNodes], waiter);
  }
  h.measure("ring_1000_hops_per_s", Kind::items_per_s, [&] {
    const auto t0 = Clock::now();
    self->send(nodes[0], token_atom::value, kHops);
    self->receive([](done_atom) {});
    return Timed{seconds_since(t0), static_cast<double>(kHops)};
  });
  stop_all(self, nodes);
}

// ---- memory ----------------------------------------------------------------------------------

std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size_pages = 0;
  std::size_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

/// As bench/memory_bench.cpp: warm up, read RSS, spawn N idle no-op actors and confirm each
/// runs with a `flush` request, read RSS again; the difference over N. One measurement per
/// process (freed memory would be reused by a second one); the script runs it several times.
int measure_memory(actor_system& sys, const Options& opt) {
  std::vector<actor> actors;
  actors.reserve(opt.memory_actors);
  double bytes_per_actor = 0;
  {
    scoped_actor self{sys, true};
    std::vector<actor> warm;  // warm-up: worker stacks, scheduler and mailbox structures
    for (int i = 0; i < 64; ++i) warm.push_back(sys.spawn(noop));
    for (const auto& a : warm) ask_u64(self, a, flush_atom::value);
    stop_all(self, warm);
    const std::size_t rss0 = rss_bytes();
    for (std::size_t i = 0; i < opt.memory_actors; ++i) actors.push_back(sys.spawn(noop));
    for (const auto& a : actors) ask_u64(self, a, flush_atom::value);
    const std::size_t rss1 = rss_bytes();
    bytes_per_actor = (static_cast<double>(rss1) - static_cast<double>(rss0)) /
                      static_cast<double>(opt.memory_actors);
  }
  stop_all(sys, actors);  // the scoped actor is gone: the cheap global wait applies
  Harness(opt).sample("memory_idle_actor_bytes", bytes_per_actor);
  return 0;
}

// ---- remote: two processes over CAF's io module ----------------------------------------------
//
// The workloads of cineyma_bench_remote (bench/remote_bench.cpp), written the CAF 0.17 way: the
// server process publishes an echo actor with `middleman().publish(actor, port)` on loopback,
// the client process gets a proxy with `middleman().remote_actor(host, port)` and sends it
// `request`s (CAF's BASP protocol over one TCP connection). Each process has its own actor
// system with 2 scheduler workers (`scheduler.max-threads=2`) plus the middleman's multiplexer
// thread — as ours has 2 workers plus its io thread. The request is `(echo, id, payload)` with
// a 64-byte string payload; the answer `(id, payload)`; every answer is checked (id, size).
//
//  * Round trip: one call at a time, each timed; `rounds / 10` untimed warm-up calls first,
//    as ours. Median and p99 in µs with the same index convention as ours
//    (cineyma_bench::summarize: sorted[n / 2], sorted[min(n - 1, n * 99 / 100)]). The caller
//    is an event-based actor chaining `request(...).then(...)`: of CAF's two idiomatic
//    callers it was the faster on this VM (work stealing: ~335 µs against 355-390 µs for the
//    main thread's `scoped_actor` doing `request(...).receive(...)`; work sharing: about
//    equal, ~150 µs), so CAF is credited with its better figure even though ours calls from a
//    plain thread (`.get()`). `--rtt-caller=thread` measures the scoped_actor instead.
//  * Pipelined: 100 event-based driver actors each make calls back to back with
//    `request(...).then(...)`, so 100 are in flight on the connection; the main thread starts
//    them all and waits for their 100 answers. Requests per second.
//
// The repetitions share one pair of processes and one connection (a warm-up before each
// round-trip part). A wrong answer, an error answer, a failed publish or connect, or a run
// longer than --deadline prints `ERROR <system> <key> <why>` for every key asked for and
// exits non-zero; the server process dies with the client (PR_SET_PDEATHSIG) whatever happens.

#ifdef CAF_BENCH_HAS_IO

using echo_atom = caf::atom_constant<caf::atom("echo")>;

constexpr std::size_t kPayloadBytes = 64;
constexpr std::size_t kInFlight = 100;
const char* const kRemoteKeys[] = {"remote_rtt_us", "remote_rtt_p99_us", "remote_pipelined_rps"};

behavior echo_server(event_based_actor*) {
  return {[](echo_atom, std::uint64_t id, std::string& payload) {
    return std::make_tuple(id, std::move(payload));  // moved: the request is not shared
  }};
}

/// Sequential calls to the remote echo actor, one outstanding at a time, as `driver` above;
/// answers `run` with the number of correct answers, or with the first error answer.
/// Optionally records each round trip (µs) into `samples_us`, owned by the main thread, which
/// reads it only after the `run` answer arrived.
struct remote_driver_state {
  actor server;
  std::vector<double>* samples_us = nullptr;
  std::string payload = std::string(kPayloadBytes, '\x42');
  std::uint64_t next = 0;
  std::uint64_t calls = 0;
  std::uint64_t good = 0;
  Clock::time_point sent_at;
  caf::response_promise done;
};

void remote_step(stateful_actor<remote_driver_state>* self) {
  auto& st = self->state;
  if (st.next == st.calls) {
    st.done.deliver(st.good);
    return;
  }
  const std::uint64_t id = st.next++;
  if (st.samples_us != nullptr) st.sent_at = Clock::now();
  self->request(st.server, infinite, echo_atom::value, id, st.payload)
      .then(
          [=](std::uint64_t answer_id, const std::string& payload) {
            auto& s = self->state;
            if (s.samples_us != nullptr) {
              s.samples_us->push_back(
                  std::chrono::duration<double, std::micro>(Clock::now() - s.sent_at).count());
            }
            if (answer_id == id && payload.size() == kPayloadBytes) ++s.good;
            remote_step(self);
          },
          [=](caf::error& e) { self->state.done.deliver(std::move(e)); });
}

behavior remote_driver(stateful_actor<remote_driver_state>* self, actor server,
                       std::vector<double>* samples_us) {
  self->state.server = std::move(server);
  self->state.samples_us = samples_us;
  return {[=](run_atom, std::uint64_t calls) {
    auto& st = self->state;
    st.next = 0;
    st.calls = calls;
    st.good = 0;
    st.done = self->make_response_promise();
    remote_step(self);
    return st.done;
  }};
}

/// Kills the run if it outlives its deadline (a lost answer, a connect that never completes):
/// prints the ERROR lines and exits, which also takes the server process down.
class Watchdog {
 public:
  Watchdog(const Options& opt, double seconds) : opt_(opt) {
    thread_ = std::thread([this, seconds] {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return done_; })) {
        char why[128];
        std::snprintf(why, sizeof why, "not done within the deadline of %.0f s (during %s)",
                      seconds, phase_.load());
        for (const char* key : kRemoteKeys) {
          if (Harness(opt_).wanted(key)) {
            std::printf("ERROR %s %s %s\n", opt_.system.c_str(), key, why);
          }
        }
        std::fflush(stdout);
        std::_Exit(3);
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void phase(const char* what) { phase_ = what; }

 private:
  const Options& opt_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<const char*> phase_{"start-up"};
  std::thread thread_;
};

void remote_fail(const Options& opt, const std::string& why) {
  for (const char* key : kRemoteKeys) {
    if (Harness(opt).wanted(key)) {
      std::printf("ERROR %s %s %s\n", opt.system.c_str(), key, why.c_str());
    }
  }
  std::fflush(stdout);
}

/// The server process: publishes the echo actor on an ephemeral loopback port, tells the
/// client the port through `port_fd` (0: failed), and serves until the client closes `stop_fd`
/// or dies.
int remote_server(caf::actor_system_config& cfg, pid_t client, int port_fd, int stop_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != client) return 1;  // the client died before prctl took effect
  std::uint16_t port = 0;
  {
    actor_system sys{cfg};
    auto echo = sys.spawn(echo_server);
    auto published = sys.middleman().publish(echo, 0, "127.0.0.1");
    if (published) port = *published;
    if (::write(port_fd, &port, sizeof port) != sizeof port || port == 0) {
      if (!published) {
        std::fprintf(stderr, "caf_bench: publish: %s\n", sys.render(published.error()).c_str());
      }
      return 1;
    }
    char c;
    while (::read(stop_fd, &c, 1) > 0) {
    }
    caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  }
  return 0;
}

std::pair<double, double> median_p99(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

/// The client process's part; returns the process's exit status.
int remote_client(caf::actor_system_config& cfg, const Options& opt, std::uint16_t port,
                  Watchdog& dog) {
  Harness h{opt};
  const bool want_rtt = h.wanted("remote_rtt_us") || h.wanted("remote_rtt_p99_us");
  const bool want_piped = h.wanted("remote_pipelined_rps");
  actor_system sys{cfg};
  dog.phase("remote_actor (connect)");
  auto connected = sys.middleman().remote_actor("127.0.0.1", port);
  if (!connected) {
    remote_fail(opt, "remote_actor(127.0.0.1, " + std::to_string(port) +
                         "): " + sys.render(connected.error()));
    return 1;
  }
  const actor server = *connected;
  scoped_actor self{sys};
  std::vector<double> samples;  // the round-trip driver's, when --rtt-caller=actor
  std::vector<actor> actors{sys.spawn(remote_driver, server, &samples)};
  const std::uint64_t per_driver = opt.pipelined / kInFlight;
  for (std::size_t i = 0; i < kInFlight; ++i) {
    actors.push_back(sys.spawn(remote_driver, server, nullptr));
  }
  std::vector<double> medians, p99s, rates;
  std::string failure;
  auto on_error = [&](caf::error& e) { failure = sys.render(e); };

  for (int rep = 0; rep < opt.reps && failure.empty(); ++rep) {
    if (want_rtt) {
      dog.phase("round trips");
      const std::size_t warmup = opt.rounds / 10;
      std::vector<double> us;
      if (opt.rtt_from_actor) {
        samples.clear();
        samples.reserve(warmup + opt.rounds);
        std::uint64_t good = 0;
        self->request(actors[0], infinite, run_atom::value, std::uint64_t{warmup + opt.rounds})
            .receive([&](std::uint64_t g) { good = g; }, on_error);
        if (!failure.empty()) break;
        if (good != warmup + opt.rounds) {
          failure = "wrong answers in the round trips";
          break;
        }
        us.assign(samples.begin() + static_cast<std::ptrdiff_t>(warmup), samples.end());
      } else {
        const std::string payload(kPayloadBytes, '\x42');
        us.reserve(opt.rounds);
        for (std::uint64_t i = 0; i < warmup + opt.rounds && failure.empty(); ++i) {
          bool ok = false;
          const auto t0 = Clock::now();
          self->request(server, infinite, echo_atom::value, i, payload)
              .receive(
                  [&](std::uint64_t answer_id, const std::string& p) {
                    ok = answer_id == i && p.size() == kPayloadBytes;
                  },
                  on_error);
          const auto t1 = Clock::now();
          if (!ok && failure.empty()) failure = "wrong answer in the round trips";
          if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
        if (!failure.empty()) break;
      }
      const auto [median, p99] = median_p99(std::move(us));
      medians.push_back(median);
      p99s.push_back(p99);
      if (h.wanted("remote_rtt_us")) h.sample("remote_rtt_us", median);
      if (h.wanted("remote_rtt_p99_us")) h.sample("remote_rtt_p99_us", p99);
    }
    if (want_piped) {
      dog.phase("pipelined calls");
      const auto t0 = Clock::now();
      for (std::size_t i = 1; i <= kInFlight; ++i) {
        self->send(actors[i], run_atom::value, per_driver);
      }
      std::uint64_t good = 0;
      std::size_t answered = 0;
      while (answered < kInFlight && failure.empty()) {
        // The drivers answer `run` through response promises to this scoped actor's sends,
        // which arrive as plain messages (an error answer as a caf::error).
        self->receive([&](std::uint64_t g) { good += g, ++answered; },
                      [&](caf::error& e) { failure = sys.render(e); });
      }
      const double seconds = seconds_since(t0);
      if (!failure.empty()) break;
      if (good != per_driver * kInFlight) {
        failure = "wrong answers in the pipelined calls";
        break;
      }
      rates.push_back(static_cast<double>(per_driver * kInFlight) / seconds);
      h.sample("remote_pipelined_rps", rates.back());
    }
  }
  dog.phase("shutdown");
  for (const auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  self->wait_for(actors);
  if (!failure.empty()) {
    remote_fail(opt, failure);
    return 1;
  }
  for (const auto& [key, values] : {std::pair{"remote_rtt_us", &medians},
                                    std::pair{"remote_rtt_p99_us", &p99s},
                                    std::pair{"remote_pipelined_rps", &rates}}) {
    if (h.wanted(key)) {
      std::printf("RESULT %s %s %.6g\n", opt.system.c_str(), key, median_of(*values));
    }
  }
  std::fflush(stdout);
  return 0;
}

int run_remote(caf::actor_system_config& cfg, const Options& opt) {
  // Fork before either process has an actor system (and so any thread).
  int port_pipe[2];
  int stop_pipe[2];
  if (::pipe(port_pipe) != 0 || ::pipe(stop_pipe) != 0) {
    remote_fail(opt, "pipe failed");
    return 1;
  }
  const pid_t client = ::getpid();
  std::fflush(stdout);
  const pid_t server = ::fork();
  if (server < 0) {
    remote_fail(opt, "fork failed");
    return 1;
  }
  if (server == 0) {
    ::close(port_pipe[0]);
    ::close(stop_pipe[1]);
    std::_Exit(remote_server(cfg, client, port_pipe[1], stop_pipe[0]));
  }
  ::close(port_pipe[1]);
  ::close(stop_pipe[0]);
  int status = 1;
  {
    Watchdog dog{opt, opt.deadline_s};
    dog.phase("publish");
    std::uint16_t port = 0;
    if (::read(port_pipe[0], &port, sizeof port) != sizeof port || port == 0) {
      remote_fail(opt, "the server process could not publish the echo actor");
    } else {
      status = remote_client(cfg, opt, port, dog);
    }
    ::close(stop_pipe[1]);
    dog.phase("server shutdown");
    int server_status = 0;
    ::waitpid(server, &server_status, 0);
  }
  return status;
}

#endif  // CAF_BENCH_HAS_IO

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);  // one worker per vCPU, as ours
  std::vector<std::string> caf_args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--reps=")) {
      opt.reps = std::atoi(argv[i] + 7);
    } else if (arg.starts_with("--min-time=")) {
      opt.min_time_s = std::atof(argv[i] + 11);
    } else if (arg.starts_with("--only=")) {
      std::string list{arg.substr(7)};
      for (std::size_t pos = 0; pos <= list.size();) {
        const std::size_t comma = std::min(list.find(',', pos), list.size());
        if (comma > pos) opt.only.push_back(list.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else if (arg == "--memory") {
      opt.memory_actors = 100'000;
    } else if (arg.starts_with("--memory=")) {
      opt.memory_actors = std::strtoull(argv[i] + 9, nullptr, 10);
    } else if (arg == "--remote") {
      opt.remote = true;
    } else if (arg.starts_with("--rounds=")) {
      opt.rounds = std::strtoull(argv[i] + 9, nullptr, 10);
    } else if (arg.starts_with("--pipelined=")) {
      opt.pipelined = std::strtoull(argv[i] + 12, nullptr, 10);
    } else if (arg == "--rtt-caller=actor" || arg == "--rtt-caller=thread") {
      opt.rtt_from_actor = arg.ends_with("actor");
    } else if (arg.starts_with("--deadline=")) {
      opt.deadline_s = std::atof(argv[i] + 11);
    } else {
      caf_args.emplace_back(arg);  // a CAF option, e.g. --scheduler.policy=sharing
    }
  }
#ifdef CAF_BENCH_HAS_IO
  // Only the remote mode loads the middleman: it adds a thread the local workloads must not
  // have. Loaded before parsing, so that middleman options can be given on the command line.
  if (opt.remote) cfg.load<caf::io::middleman>();
#endif
  if (auto err = cfg.parse(caf_args)) {
    std::fprintf(stderr, "caf_bench: %s\n", caf::to_string(err).c_str());
    return 2;
  }
  if (cfg.cli_helptext_printed) return 0;
  if (opt.reps < 1 || opt.min_time_s <= 0 || opt.rounds < 1 || opt.pipelined < 100 ||
      opt.deadline_s <= 0) {
    std::fprintf(stderr, "caf_bench: --reps, --rounds must be >= 1, --pipelined >= 100, "
                 "--min-time and --deadline > 0\n");
    return 2;
  }
  if (caf::get_or(cfg, "scheduler.policy", caf::atom("stealing")) == caf::atom("sharing")) {
    opt.system = "caf_sharing";
  }

  if (opt.remote) {
#ifdef CAF_BENCH_HAS_IO
    return run_remote(cfg, opt);
#else
    for (const char* key : {"remote_rtt_us", "remote_rtt_p99_us", "remote_pipelined_rps"}) {
      if (Harness(opt).wanted(key)) {
        std::printf("ERROR %s %s built without libcaf_io\n", opt.system.c_str(), key);
      }
    }
    return 1;
#endif
  }

  actor_system sys{cfg};
  if (opt.memory_actors > 0) return measure_memory(sys, opt);

  Harness h{opt};
  bench_spawn(h, sys, "spawn_1k_ns_per_actor", 1000);
  bench_spawn(h, sys, "spawn_100k_ns_per_actor", 100'000);
  bench_spawn_stop(h, sys, 1000);
  bench_send(h, sys, "send_1to1_msgs_per_s", 1, 1'000'000);
  bench_send(h, sys, "send_100x10k_msgs_per_s", 100, 10'000);
  bench_send(h, sys, "send_1000x1k_msgs_per_s", 1000, 1000);
  bench_rr_latency(h, sys);
  bench_call_from_thread(h, sys);
  bench_rr_in_flight(h, sys);
  bench_ring(h, sys);
  return 0;
}
