// bench/common.hpp — what every cineyma benchmark shares: the runtime they run on, the helper
// actors (after the original's `benches/common`), and a try_send-with-retry helper.
//
// The runtime mirrors the original's criterion setup (SPEC-original §8): a real multi-threaded
// runtime with one worker per core of the reference machine (2), driven from the benchmark
// thread, which is *not* a worker — so every wake-up of an actor and every reply to the
// benchmark thread crosses threads, exactly as it did for tokio's `block_on`.
#pragma once

#include <cineyma/cineyma.hpp>

#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>

namespace cineyma_bench {

/// Worker threads of the runtime under test (the reference machine has 2 vCPUs; the original
/// ran tokio with one worker per core).
inline constexpr std::size_t kWorkerThreads = 2;

/// The real runtime every benchmark runs on: created on first use (outside any timed region),
/// joined at exit. Each benchmark builds its own `ActorSystem` on it and shuts that down.
inline cineyma::RealEnvironment& bench_env() {
  static cineyma::RealEnvironment env{cineyma::RealEnvironmentOptions{
      .worker_threads = kWorkerThreads, .seed = 0, .name = "bench"}};
  return env;
}

// ---- messages --------------------------------------------------------------------------------

/// The tiny one-way message of the throughput benchmarks (the original's `Count`).
struct Count {
  std::uint32_t value = 0;
};
/// Completion probe: FIFO per mailbox, so when its reply arrives every message sent before it
/// by the same sender has been handled. The reply is the actor's running total.
struct Flush {
  using reply = std::uint64_t;
};
/// Request-response message (the original's `Add(a, b)` → wrapping u32 sum).
struct Add {
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  using reply = std::uint32_t;
};
/// Asks a `Driver` to do `rounds` sequential round trips; replies with how many were correct.
struct Run {
  std::uint32_t rounds = 0;
  using reply = std::uint64_t;
};

// ---- actors ----------------------------------------------------------------------------------

/// An actor that does nothing (the original's `NoOpActor`); `Flush` proves it is running.
class NoOp : public cineyma::Actor<NoOp> {
 public:
  std::uint64_t handle(const Flush&, Context&) const noexcept { return 0; }
};

/// Counts `Count` messages (the original's `CounterActor`, minus the atomic: an actor's state
/// needs no synchronisation, and `Flush` reads the total through the mailbox).
class Counter : public cineyma::Actor<Counter> {
 public:
  void handle(const Count&, Context&) noexcept { ++count_; }
  std::uint64_t handle(const Flush&, Context&) const noexcept { return count_; }

 private:
  std::uint64_t count_ = 0;
};

/// The original's `Calculator`.
class Calculator : public cineyma::Actor<Calculator> {
 public:
  std::uint32_t handle(const Add& m, Context&) const noexcept { return m.a + m.b; }
};

/// Performs sequential request-response round trips to a `Calculator` from inside an actor:
/// its async handler awaits each reply before sending the next request, so exactly one
/// request of this driver is outstanding at any time. `Flush` returns the total of correct
/// replies so far (and, FIFO + the mailbox blocked during the async handler, is answered only
/// after every earlier `Run` completed).
class Driver : public cineyma::Actor<Driver> {
 public:
  explicit Driver(cineyma::Addr<Calculator> calc) : calc_(std::move(calc)) {}

  cineyma::Task<std::uint64_t> handle(const Run& m, Context&) {
    const std::uint32_t rounds = m.rounds;
    std::uint64_t good = 0;
    for (std::uint32_t i = 0; i < rounds; ++i) {
      cineyma::Result<std::uint32_t> r = co_await calc_.send(Add{i, 1});
      if (r && *r == i + 1) ++good;
    }
    good_total_ += good;
    co_return good;
  }
  std::uint64_t handle(const Flush&, Context&) const noexcept { return good_total_; }

 private:
  cineyma::Addr<Calculator> calc_;
  std::uint64_t good_total_ = 0;
};

// ---- sending ---------------------------------------------------------------------------------

/// One spin-wait step: a CPU pause hint, then a yield once a wait gets long (3 threads share
/// 2 cores here — the benchmark thread and 2 workers — so a long spin would steal the
/// consumer's core). Never sleeps.
inline void backoff(unsigned attempt) noexcept {
  if (attempt < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

/// `try_send` that retries while the mailbox is full (counting each retry in `retries`).
/// False if the actor stopped.
template <typename A, typename M>
bool send_with_retry(const cineyma::Addr<A>& addr, const M& msg, std::uint64_t& retries) {
  for (unsigned attempt = 0;; ++attempt) {
    cineyma::Result<void> r = addr.try_send(msg);
    if (r) return true;
    if (!r.is(cineyma::Errc::mailbox_full)) return false;
    ++retries;
    backoff(attempt);
  }
}

}  // namespace cineyma_bench
