// bench/local_bench.cpp — local (in-process) benchmarks of cineyma on the real runtime.
//
// Every workload runs on `bench_env()` (2 worker threads) and is driven from the benchmark
// thread, which is not a worker (as in the original's criterion setup, SPEC-original §8).
// Rules every benchmark here follows (SPEC-original §8.7, the "corrected variants"):
//   * no sleep inside a timed region — completion of asynchronous work is confirmed by a final
//     request (`addr.send(Flush{}).get()`: FIFO per mailbox ⇒ everything sent before it was
//     handled), or, for the ring, by a blocking wait on an event the last hop sets;
//   * counts are checked, and a wrong count fails the benchmark (`SkipWithError`);
//   * every spawned actor is stopped (`ActorSystem::shutdown()`), outside the timed region
//     unless stopping is what is measured;
//   * wall-clock time (`UseRealTime` / `UseManualTime`): the work happens on the workers, so
//     the benchmark thread's CPU time means nothing.
//
// Units: `items_per_second` is actors/s, messages/s, round trips/s or hops/s as named; the
// `time_per_*` counters are the inverse, in seconds. `bench/run.sh` compares the medians
// with the original's numbers (SPEC-original §10.2). With `--peer_lines` the figures that
// bench/peers/run.sh compares with CAF and Erlang are also printed as `SAMPLE`/`RESULT` lines
// (see `kPeerFigures`).
#include "common.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using cineyma::ActorSystem;
using cineyma::Addr;
using cineyma::BlockingEvent;
using cineyma::Errc;
using cineyma::Result;
using namespace cineyma_bench;

using BenchClock = std::chrono::steady_clock;

// ---- reporting helpers -----------------------------------------------------------------------

/// Reports `items_per_iteration` items per iteration: `items_per_second` and, under `name`,
/// the time per item in seconds (an inverted iteration-invariant rate: time / (iterations ×
/// items); the console shows it with an SI prefix, e.g. `time_per_msg=47.1ns`).
void report_items(benchmark::State& state, double items_per_iteration, const char* name) {
  state.SetItemsProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations()) *
                                                    items_per_iteration));
  state.counters[name] = benchmark::Counter(
      items_per_iteration,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

double seconds_since(BenchClock::time_point t0) {
  return std::chrono::duration<double>(BenchClock::now() - t0).count();
}

/// Asks `addr` for its total; confirms everything sent to it earlier was handled.
template <typename A>
bool flush_equals(const Addr<A>& addr, std::uint64_t expected) {
  Result<std::uint64_t> r = addr.send(Flush{}).get();
  return r && *r == expected;
}

/// Stops every actor of `system` and checks that none is left.
bool stop_all(ActorSystem& system) {
  Result<void> r = system.shutdown();
  return r && system.live_actors() == 0;
}

// ---- spawn -----------------------------------------------------------------------------------

/// Actors per system before it is torn down (outside the timed region) and replaced, so the
/// live population stays bounded (the original leaked every actor: SPEC-original §8.1).
constexpr std::size_t kSpawnPopulation = 10'000;

/// Time to spawn N no-op actors (mailbox 256), with the `Addr`s kept in a vector as the
/// original's spawn_batch does. The actors' `started()` runs concurrently on the workers.
/// Teardown (shutdown of the whole population) is not timed.
void BM_Spawn(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto system = std::make_unique<ActorSystem>(bench_env());
  std::vector<Addr<NoOp>> addrs;
  addrs.reserve(kSpawnPopulation + n);
  bool ok = true;
  auto teardown = [&] {
    for (const auto& a : addrs) ok = ok && static_cast<bool>(a);
    ok = ok && system->live_actors() == addrs.size();
    addrs.clear();
    ok = stop_all(*system) && ok;
  };
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) addrs.push_back(system->spawn(NoOp{}));
    if (addrs.size() >= kSpawnPopulation) {
      state.PauseTiming();
      teardown();
      system = std::make_unique<ActorSystem>(bench_env());
      state.ResumeTiming();
      if (!ok) break;
    }
  }
  teardown();
  if (!ok) state.SkipWithError("spawn failed, or actors still alive after shutdown");
  report_items(state, static_cast<double>(n), "time_per_actor");
}

/// The original's `spawn_single_noop` shape: per iteration a new `ActorSystem` plus one spawn
/// (the original's 1.26 µs includes `ActorSystem::new`). Teardown every 1000 systems, untimed.
void BM_SpawnWithSystem(benchmark::State& state) {
  constexpr std::size_t kBatch = 1000;
  std::vector<std::unique_ptr<ActorSystem>> systems;
  std::vector<Addr<NoOp>> addrs;
  systems.reserve(kBatch);
  addrs.reserve(kBatch);
  bool ok = true;
  auto teardown = [&] {
    for (const auto& a : addrs) ok = ok && static_cast<bool>(a);
    addrs.clear();
    // Initiate every shutdown first, so the 1000 systems stop in parallel rather than one
    // cross-thread wait after another.
    for (auto& s : systems) s->request_shutdown();
    for (auto& s : systems) ok = stop_all(*s) && ok;
    systems.clear();
  };
  for (auto _ : state) {
    systems.push_back(std::make_unique<ActorSystem>(bench_env()));
    addrs.push_back(systems.back()->spawn(NoOp{}));
    if (systems.size() >= kBatch) {
      state.PauseTiming();
      teardown();
      state.ResumeTiming();
      if (!ok) break;
    }
  }
  teardown();
  if (!ok) state.SkipWithError("spawn failed, or actors still alive after shutdown");
  report_items(state, 1.0, "time_per_actor");
}

/// Spawn N no-op actors, then stop them all and wait until every one is stopped
/// (`ActorSystem::shutdown()` returns when all `stopped()` hooks ran). Manual timing covers
/// exactly spawn + shutdown; creating and destroying the (empty) system is not timed.
void BM_SpawnStop(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    auto system = std::make_unique<ActorSystem>(bench_env());
    std::size_t spawned = 0;
    const auto t0 = BenchClock::now();
    for (std::size_t i = 0; i < n; ++i) {
      if (system->spawn(NoOp{})) ++spawned;
    }
    Result<void> r = system->shutdown();
    state.SetIterationTime(seconds_since(t0));
    if (spawned != n || !r || system->live_actors() != 0) {
      state.SkipWithError("spawn failed, or shutdown did not stop every actor");
      break;
    }
  }
  report_items(state, static_cast<double>(n), "time_per_actor");
}

// ---- one sender → one actor ------------------------------------------------------------------

constexpr std::uint64_t kOneToOneMessages = 1'000'000;

/// 1M `try_send(Count)` from the benchmark thread to one `Counter` with the given mailbox
/// capacity, retrying (spin, then yield) while the mailbox is full; then a `Flush` request
/// confirms all were handled and checks the count. Sustained throughput with backpressure:
/// at capacity 256 this is the shape of the original's sustained `do_send().await` figure.
void BM_SendOneToOne(benchmark::State& state) {
  const auto capacity = static_cast<std::size_t>(state.range(0));
  ActorSystem system{bench_env()};
  Result<Addr<Counter>> spawned = system.spawn_with_capacity(Counter{}, capacity);
  if (!spawned) {
    state.SkipWithError("spawn failed");
    return;
  }
  const Addr<Counter> counter = *spawned;
  std::uint64_t retries = 0;
  std::uint64_t expected = 0;
  bool ok = flush_equals(counter, 0);  // started, idle
  for (auto _ : state) {
    if (!ok) break;
    for (std::uint64_t i = 0; i < kOneToOneMessages && ok; ++i) {
      ok = send_with_retry(counter, Count{}, retries);
    }
    expected += kOneToOneMessages;
    ok = ok && flush_equals(counter, expected);
  }
  if (!ok) state.SkipWithError("a message was lost or the actor stopped");
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, static_cast<double>(kOneToOneMessages), "time_per_msg");
  state.counters["retries_per_msg"] =
      state.iterations() == 0
          ? 0.0
          : static_cast<double>(retries) /
                (static_cast<double>(state.iterations()) * kOneToOneMessages);
}

/// The original's sleep-free 1-actor shape (SPEC-original §10.2): spawn a `Counter` of
/// capacity 10 000, N × `try_send` (never full), `Flush`; timed together. The system is
/// created before and shut down after the timed region.
void BM_SendBurstOriginal(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    ActorSystem system{bench_env()};
    bool ok = true;
    const auto t0 = BenchClock::now();
    Result<Addr<Counter>> counter = system.spawn_with_capacity(Counter{}, 10'000);
    ok = static_cast<bool>(counter);
    for (std::uint64_t i = 0; i < n && ok; ++i) ok = static_cast<bool>(counter->try_send(Count{}));
    ok = ok && flush_equals(*counter, n);
    state.SetIterationTime(seconds_since(t0));
    ok = stop_all(system) && ok;
    if (!ok) {
      state.SkipWithError("a send failed or a message was lost");
      break;
    }
  }
  report_items(state, static_cast<double>(n), "time_per_msg");
}

// ---- one sender → many actors ----------------------------------------------------------------

constexpr std::size_t kFanoutActors = 100;

/// `n_actors` `Counter`s of capacity 1000; `per_actor` messages to each (1M per iteration in
/// both registrations), sent round-robin from the benchmark thread with `try_send`, retrying
/// when a mailbox is full; then one `Flush` per actor confirms and checks every count.
void fanout_round_robin(benchmark::State& state, std::size_t n_actors, std::uint64_t per_actor) {
  ActorSystem system{bench_env()};
  std::vector<Addr<Counter>> actors;
  bool ok = true;
  for (std::size_t i = 0; i < n_actors && ok; ++i) {
    Result<Addr<Counter>> a = system.spawn_with_capacity(Counter{}, 1000);
    ok = static_cast<bool>(a);
    if (ok) actors.push_back(*a);
  }
  for (const auto& a : actors) ok = ok && flush_equals(a, 0);
  std::uint64_t retries = 0;
  std::uint64_t expected = 0;
  for (auto _ : state) {
    if (!ok) break;
    for (std::uint64_t round = 0; round < per_actor && ok; ++round) {
      for (const auto& a : actors) ok = ok && send_with_retry(a, Count{}, retries);
    }
    expected += per_actor;
    for (const auto& a : actors) ok = ok && flush_equals(a, expected);
  }
  if (!ok) state.SkipWithError("a message was lost or an actor stopped");
  actors.clear();
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  const double per_iteration = static_cast<double>(per_actor * n_actors);
  report_items(state, per_iteration, "time_per_msg");
  state.counters["retries_per_msg"] =
      state.iterations() == 0
          ? 0.0
          : static_cast<double>(retries) / (static_cast<double>(state.iterations()) * per_iteration);
}

void BM_Fanout100RoundRobin(benchmark::State& state) { fanout_round_robin(state, 100, 10'000); }
void BM_Fanout1000RoundRobin(benchmark::State& state) { fanout_round_robin(state, 1000, 1000); }

/// The original's sleep-free 100-actor shape (SPEC-original §10.2): spawn 100 `Counter`s of
/// capacity 1000, 1000 `try_send` to each in turn (never full), `Flush` each; all timed.
void BM_Fanout100Original(benchmark::State& state) {
  constexpr std::uint64_t kPerActor = 1000;
  for (auto _ : state) {
    ActorSystem system{bench_env()};
    std::vector<Addr<Counter>> actors;
    actors.reserve(kFanoutActors);
    bool ok = true;
    const auto t0 = BenchClock::now();
    for (std::size_t i = 0; i < kFanoutActors && ok; ++i) {
      Result<Addr<Counter>> a = system.spawn_with_capacity(Counter{}, 1000);
      ok = static_cast<bool>(a);
      if (ok) actors.push_back(*a);
    }
    for (const auto& a : actors) {
      for (std::uint64_t i = 0; i < kPerActor && ok; ++i) ok = static_cast<bool>(a.try_send(Count{}));
    }
    for (const auto& a : actors) ok = ok && flush_equals(a, kPerActor);
    state.SetIterationTime(seconds_since(t0));
    actors.clear();
    ok = stop_all(system) && ok;
    if (!ok) {
      state.SkipWithError("a send failed or a message was lost");
      break;
    }
  }
  report_items(state, static_cast<double>(kPerActor * kFanoutActors), "time_per_msg");
}

// ---- request-response ------------------------------------------------------------------------

constexpr std::uint32_t kRoundTripsPerRun = 100'000;

/// Sequential request-response between two actors: a `Driver` whose async handler does
/// 100 000 sequential `co_await calc.send(Add{i, 1})` and checks every sum. The benchmark
/// thread triggers it once per iteration with `driver.send(Run{...}).get()` (one cross-thread
/// round trip per 100 000, negligible).
void BM_RequestResponseActor(benchmark::State& state) {
  ActorSystem system{bench_env()};
  const Addr<Calculator> calc = system.spawn(Calculator{});
  const Addr<Driver> driver = system.spawn(Driver{calc});
  bool ok = static_cast<bool>(calc) && static_cast<bool>(driver);
  for (auto _ : state) {
    if (!ok) break;
    Result<std::uint64_t> good = driver.send(Run{kRoundTripsPerRun}).get();
    ok = good && *good == kRoundTripsPerRun;
  }
  if (!ok) state.SkipWithError("a round trip failed or returned a wrong sum");
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, kRoundTripsPerRun, "time_per_round_trip");
}

/// Asks a `LatencyDriver` for `rounds` sequential round trips, each one timed.
struct Probe {
  std::uint32_t rounds = 0;
  using reply = std::uint64_t;
};

/// A `Driver` that also records every round trip's latency (ns) into `samples_ns`, which the
/// benchmark thread owns and reads only after the `Probe` reply arrived (the reply orders the
/// driver's writes before that read).
class LatencyDriver : public cineyma::Actor<LatencyDriver> {
 public:
  LatencyDriver(Addr<Calculator> calc, std::vector<std::uint32_t>* samples_ns)
      : calc_(std::move(calc)), samples_ns_(samples_ns) {}

  cineyma::Task<std::uint64_t> handle(const Probe& m, Context&) {
    const std::uint32_t rounds = m.rounds;
    std::uint64_t good = 0;
    for (std::uint32_t i = 0; i < rounds; ++i) {
      const auto t0 = BenchClock::now();
      Result<std::uint32_t> r = co_await calc_.send(Add{i, 1});
      const auto t1 = BenchClock::now();
      samples_ns_->push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
      if (r && *r == i + 1) ++good;
    }
    co_return good;
  }

 private:
  Addr<Calculator> calc_;
  std::vector<std::uint32_t>* samples_ns_;
};

/// Nearest-rank percentile: the smallest sample with at least `pct` % of all at or below it.
double percentile(std::vector<std::uint32_t>& samples, unsigned pct) {
  if (samples.empty()) return 0;
  const std::size_t rank = (samples.size() * pct + 99) / 100;
  const auto nth = samples.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

/// The latency distribution of `rr_actor_to_actor`'s round trips (the peer comparison quotes
/// a median and a p99): each iteration is a run of 100 000 sequential round trips, each timed
/// with two clock reads (their cost is in every sample, as in the peers' versions); the
/// counters `p50_ns` and `p99_ns` are taken over all the round trips of the repetition.
void BM_RequestResponseLatency(benchmark::State& state) {
  ActorSystem system{bench_env()};
  std::vector<std::uint32_t> samples;
  const Addr<Calculator> calc = system.spawn(Calculator{});
  const Addr<LatencyDriver> driver = system.spawn(LatencyDriver{calc, &samples});
  bool ok = static_cast<bool>(calc) && static_cast<bool>(driver);
  for (auto _ : state) {
    if (!ok) break;
    Result<std::uint64_t> good = driver.send(Probe{kRoundTripsPerRun}).get();
    ok = good && *good == kRoundTripsPerRun;
  }
  if (!ok) state.SkipWithError("a round trip failed or returned a wrong sum");
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, kRoundTripsPerRun, "time_per_round_trip");
  state.counters["p50_ns"] = percentile(samples, 50);
  state.counters["p99_ns"] = percentile(samples, 99);
}

/// The original's `sync_local_add` shape: one `send(Add{42, 58}).get()` per iteration from the
/// benchmark thread (a non-worker). The call has no deadline and the actor is idle between
/// calls, so the blocked caller usually handles the message itself (`inline_blocking_calls`,
/// on by default); `rr_cross_thread_on_worker` below is the same call with that option off.
void BM_RequestResponseCrossThread(benchmark::State& state) {
  ActorSystem system{bench_env()};
  const Addr<Calculator> calc = system.spawn(Calculator{});
  bool ok = static_cast<bool>(calc);
  for (auto _ : state) {
    if (!ok) break;
    Result<std::uint32_t> sum = calc.send(Add{42, 58}).get();
    ok = sum && *sum == 100;
  }
  if (!ok) state.SkipWithError("a round trip failed or returned a wrong sum");
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, 1.0, "time_per_round_trip");
}

/// The same call with `inline_blocking_calls` off, so that the handler runs on a worker and
/// both the request and the reply cross threads (what `rr_cross_thread` measured before the
/// blocked caller ran idle actors itself). Not a peer row: kept to show the hand-off's cost.
void BM_RequestResponseCrossThreadOnWorker(benchmark::State& state) {
  static cineyma::RealEnvironment env{cineyma::RealEnvironmentOptions{
      .worker_threads = kWorkerThreads, .seed = 0, .name = "bench-no-inline",
      .inline_blocking_calls = false}};
  ActorSystem system{env};
  const Addr<Calculator> calc = system.spawn(Calculator{});
  bool ok = static_cast<bool>(calc);
  for (auto _ : state) {
    if (!ok) break;
    Result<std::uint32_t> sum = calc.send(Add{42, 58}).get();
    ok = sum && *sum == 100;
  }
  if (!ok) state.SkipWithError("a round trip failed or returned a wrong sum");
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, 1.0, "time_per_round_trip");
}

/// 100 requests in flight, 1M per iteration, against one `Calculator` (mailbox 256 ≥ 100).
///
/// How "in flight" is made true: 100 `Driver` actors each run 10 000 *sequential* awaited
/// `send`s. A driver sends its next request only when the previous reply arrived, so each of
/// the 100 always has exactly one request outstanding: 100 concurrent requesters = 100
/// requests in flight through the real request-response path (completion slot + coroutine
/// resumption), not one-way messages imitating replies. The benchmark thread starts all 100
/// with `try_send(Run)`, then sends each a `Flush`: a driver's mailbox is blocked while its
/// async `Run` handler runs, so its `Flush` is answered only after its 10 000 round trips.
void BM_RequestResponse100InFlight(benchmark::State& state) {
  constexpr std::size_t kRequesters = 100;
  constexpr std::uint32_t kPerRequester = 10'000;
  ActorSystem system{bench_env()};
  const Addr<Calculator> calc = system.spawn(Calculator{});
  std::vector<Addr<Driver>> drivers;
  bool ok = static_cast<bool>(calc);
  for (std::size_t i = 0; i < kRequesters && ok; ++i) {
    drivers.push_back(system.spawn(Driver{calc}));
    ok = static_cast<bool>(drivers.back());
  }
  std::uint64_t expected = 0;
  for (auto _ : state) {
    if (!ok) break;
    for (const auto& d : drivers) ok = ok && static_cast<bool>(d.try_send(Run{kPerRequester}));
    expected += kPerRequester;
    for (const auto& d : drivers) ok = ok && flush_equals(d, expected);
  }
  if (!ok) state.SkipWithError("a request failed or returned a wrong sum");
  drivers.clear();
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, static_cast<double>(kRequesters) * kPerRequester, "time_per_request");
}

// ---- ring ------------------------------------------------------------------------------------

/// Set by the ring when the token has made all its hops (or a hop failed).
struct RingDone {
  BlockingEvent event;
  bool failed = false;  // written before event.set(), read after the wait
};

/// A token with `remaining` hops to go.
struct Token {
  std::uint64_t remaining = 0;
  RingDone* done = nullptr;
};

class RingNode;
/// Links a ring node to its successor (a request, so the benchmark knows it was applied).
struct SetNext {
  Addr<RingNode> next;
};

class RingNode : public cineyma::Actor<RingNode> {
 public:
  void handle(SetNext m, Context&) noexcept { next_ = std::move(m.next); }
  void handle(const Token& t, Context&) noexcept {
    if (t.remaining == 0) {
      t.done->event.set();
      return;
    }
    // One token circulates, so the successor's mailbox cannot be full: a failure is a bug.
    if (!next_.try_send(Token{t.remaining - 1, t.done})) {
      t.done->failed = true;
      t.done->event.set();
    }
  }

 private:
  Addr<RingNode> next_;
};

/// A ring of 1000 actors passes one token 1M hops per iteration (each hop an actor-to-actor
/// `try_send`). The benchmark thread injects the token and blocks on an event the final hop
/// sets — the same blocking wait a request's `.get()` uses — so there is no polling or sleep.
void BM_Ring(benchmark::State& state) {
  constexpr std::size_t kNodes = 1000;
  constexpr std::uint64_t kHops = 1'000'000;
  ActorSystem system{bench_env()};
  std::vector<Addr<RingNode>> nodes;
  bool ok = true;
  for (std::size_t i = 0; i < kNodes && ok; ++i) {
    nodes.push_back(system.spawn(RingNode{}));
    ok = static_cast<bool>(nodes.back());
  }
  for (std::size_t i = 0; i < nodes.size() && ok; ++i) {
    ok = static_cast<bool>(nodes[i].send(SetNext{nodes[(i + 1) % nodes.size()]}).get());
  }
  for (auto _ : state) {
    if (!ok) break;
    RingDone done;
    ok = static_cast<bool>(nodes.front().try_send(Token{kHops, &done}));
    if (ok) bench_env().executor().block_until(done.event, std::nullopt);
    ok = ok && !done.failed;
  }
  if (!ok) state.SkipWithError("a hop failed");
  nodes.clear();
  if (!stop_all(system)) state.SkipWithError("shutdown left actors alive");
  report_items(state, static_cast<double>(kHops), "time_per_hop");
}

// ---- machine calibration ---------------------------------------------------------------------

/// Not a cineyma workload: the round-trip time of one cache line between two threads (one
/// atomic ping-pong, both sides spinning). On a VM this is set by where the host runs the
/// vCPUs (SMT siblings, cores, sockets) and it changes over time; every cross-thread figure
/// above scales with it, so `run.sh` prints it next to the results as the machine's state.
void BM_CalibPingPong(benchmark::State& state) {
  constexpr int kRounds = 100'000;
  constexpr int kIdle = 0, kPing = 1, kQuit = 2;
  std::atomic<int> flag{kIdle};
  std::thread partner([&flag] {
    for (;;) {
      int v;
      while ((v = flag.load(std::memory_order_acquire)) == kIdle) backoff(0);
      if (v == kQuit) return;
      flag.store(kIdle, std::memory_order_release);
    }
  });
  for (auto _ : state) {
    for (int i = 0; i < kRounds; ++i) {
      flag.store(kPing, std::memory_order_release);
      while (flag.load(std::memory_order_acquire) != kIdle) backoff(0);
    }
  }
  flag.store(kQuit, std::memory_order_release);
  partner.join();
  report_items(state, kRounds, "time_per_round_trip");
}

/// Not a cineyma workload: one thread allocates 48-byte blocks and hands them through a ring
/// to another that frees them — the allocation pattern of every cross-thread message (the
/// sender allocates the envelope, a worker frees it). Shows what the allocator alone costs
/// per message on this machine right now.
void BM_CalibCrossThreadMalloc(benchmark::State& state) {
  constexpr int kBlocks = 1'000'000;
  constexpr std::size_t kRing = 1024;
  std::vector<std::atomic<void*>> ring(kRing);
  for (auto& slot : ring) slot.store(nullptr, std::memory_order_relaxed);
  std::atomic<bool> quit{false};
  std::thread consumer([&] {
    for (std::size_t i = 0;; ++i) {
      auto& slot = ring[i % kRing];
      void* p;
      while ((p = slot.load(std::memory_order_acquire)) == nullptr) {
        if (quit.load(std::memory_order_acquire)) return;
        backoff(0);
      }
      slot.store(nullptr, std::memory_order_relaxed);
      std::free(p);
    }
  });
  std::size_t next = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBlocks; ++i, ++next) {
      auto& slot = ring[next % kRing];
      while (slot.load(std::memory_order_acquire) != nullptr) backoff(0);
      slot.store(std::malloc(48), std::memory_order_release);
    }
  }
  // Let the consumer drain the ring before it may quit.
  for (auto& slot : ring) {
    while (slot.load(std::memory_order_acquire) != nullptr) backoff(0);
  }
  quit.store(true, std::memory_order_release);
  consumer.join();
  report_items(state, kBlocks, "time_per_block");
}

}  // namespace

// Registration. Every benchmark reports wall-clock time.
BENCHMARK(BM_Spawn)->Name("spawn")->ArgName("n")->Arg(1)->Arg(100)->Arg(1000)->Arg(10'000)
    ->Arg(100'000)->UseRealTime();
// Fixed iterations: each iteration leaves a system to tear down (untimed, but a few µs of wall
// time each), and an adaptive count would build millions of them.
BENCHMARK(BM_SpawnWithSystem)->Name("spawn_with_system")->Iterations(200'000)->UseRealTime();
BENCHMARK(BM_SpawnStop)->Name("spawn_stop")->ArgName("n")->Arg(1)->Arg(100)->Arg(1000)
    ->Arg(10'000)->UseManualTime();
BENCHMARK(BM_SendOneToOne)->Name("send_1to1_1M")->ArgName("cap")->Arg(10'000)->Arg(256)
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SendBurstOriginal)->Name("send_1to1_burst")->ArgName("n")->Arg(100)->Arg(1000)
    ->Arg(10'000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Fanout100RoundRobin)->Name("send_100x10k_round_robin")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fanout1000RoundRobin)->Name("send_1000x1k_round_robin")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fanout100Original)->Name("send_100x1000_burst")->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RequestResponseActor)->Name("rr_actor_to_actor")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RequestResponseLatency)->Name("rr_actor_to_actor_latency")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RequestResponseCrossThread)->Name("rr_cross_thread")->UseRealTime();
BENCHMARK(BM_RequestResponseCrossThreadOnWorker)->Name("rr_cross_thread_on_worker")->UseRealTime();
BENCHMARK(BM_RequestResponse100InFlight)->Name("rr_100_in_flight")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Ring)->Name("ring_1000x1M_hops")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibPingPong)->Name("calib_cache_line_round_trip")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CalibCrossThreadMalloc)->Name("calib_cross_thread_malloc_free")->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---- peer-comparison lines (bench/peers/run.sh) ----------------------------------------------

/// The figures compared with CAF and Erlang: which run, which counter, the factor to the
/// peers' unit, and the workload key the peers' programs print (bench/peers/).
struct PeerFigure {
  std::string_view run_name;
  std::string_view counter;
  double scale;
  std::string_view key;
};
constexpr PeerFigure kPeerFigures[] = {
    {"spawn/n:1000/real_time", "time_per_actor", 1e9, "spawn_1k_ns_per_actor"},
    {"spawn/n:100000/real_time", "time_per_actor", 1e9, "spawn_100k_ns_per_actor"},
    {"spawn_stop/n:1000/manual_time", "time_per_actor", 1e9, "spawn_stop_1k_ns_per_actor"},
    {"send_1to1_1M/cap:10000/real_time", "items_per_second", 1, "send_1to1_msgs_per_s"},
    {"send_100x10k_round_robin/real_time", "items_per_second", 1, "send_100x10k_msgs_per_s"},
    {"send_1000x1k_round_robin/real_time", "items_per_second", 1, "send_1000x1k_msgs_per_s"},
    {"rr_actor_to_actor_latency/real_time", "p50_ns", 1, "rr_actor_p50_ns"},
    {"rr_actor_to_actor_latency/real_time", "p99_ns", 1, "rr_actor_p99_ns"},
    {"rr_cross_thread/real_time", "time_per_round_trip", 1e9, "call_from_thread_ns"},
    {"rr_100_in_flight/real_time", "items_per_second", 1, "rr_100_in_flight_req_per_s"},
    {"ring_1000x1M_hops/real_time", "items_per_second", 1, "ring_1000_hops_per_s"},
    // Not a workload: the machine's state, printed above the table.
    {"calib_cache_line_round_trip/real_time", "time_per_round_trip", 1e9,
     "calib_cache_line_round_trip_ns"},
};

/// The console output, plus `SAMPLE cineyma <key> <value>` per repetition and
/// `RESULT cineyma <key> <median>` for each figure in `kPeerFigures`.
class PeerLinesReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal: the lines are meant to be read by a script.
  PeerLinesReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type != Run::RT_Iteration && !median)) continue;
      for (const PeerFigure& f : kPeerFigures) {
        if (run.run_name.str() != f.run_name) continue;
        const auto counter = run.counters.find(std::string{f.counter});
        if (counter == run.counters.end()) continue;
        GetOutputStream() << (median ? "RESULT" : "SAMPLE") << " cineyma " << f.key << ' '
                          << counter->second.value * f.scale << '\n';
      }
    }
    GetOutputStream().flush();
  }
};

int main(int argc, char** argv) {
  // --peer_lines (ours, not Google Benchmark's): also print the peer-comparison lines.
  bool peer_lines = false;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view{argv[i]} == "--peer_lines") {
      peer_lines = true;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("cineyma_worker_threads", std::to_string(kWorkerThreads));
  benchmark::AddCustomContext("cineyma_driver", "benchmark thread (not a worker)");
  if (peer_lines) {
    PeerLinesReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}
