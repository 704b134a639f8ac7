// Stress of the real runtime's mailbox (DESIGN §8): many producer threads hammer one actor
// with a small mailbox through every enqueue path (try_send with retry, blocking do_send, and
// blocking request/response), while the actor checks per-producer sequence numbers.
// Meant to be run under ThreadSanitizer as well (the `tsan` preset).
#include "support/runtime.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace cineyma;

namespace {

constexpr int kProducers = 4;
constexpr int kPerProducer = 50'000;
constexpr int kRequesters = 4;
constexpr int kPerRequester = 10'000;
constexpr std::size_t kCapacity = 64;

struct Msg {
  int producer;
  int seq;
};
struct Add {
  int a;
  int b;
  using reply = std::int64_t;
};
struct Snapshot {
  std::array<int, kProducers> next{};
  std::int64_t received = 0;
  std::int64_t violations = 0;
  std::int64_t requests = 0;
};
struct GetStats {
  using reply = Snapshot;
};

/// Expects, per producer, exactly 0, 1, 2, ...: a gap is a loss or reordering, a repeat a
/// duplicate. State is the actor's own (no locks): the test reads it through a request.
class Collector : public Actor<Collector> {
 public:
  void handle(const Msg& m, Context&) {
    auto& next = s_.next[static_cast<std::size_t>(m.producer)];
    if (m.seq != next) ++s_.violations;
    next = m.seq + 1;
    ++s_.received;
  }
  std::int64_t handle(const Add& m, Context&) {
    ++s_.requests;
    return std::int64_t{m.a} + m.b;
  }
  Snapshot handle(const GetStats&, Context&) { return s_; }

 private:
  Snapshot s_;
};

}  // namespace

TEST_CASE("stress: 4 producers x 50'000 messages and 4 requesters into a 64-slot mailbox",
          "[stress][real]") {
  test::RealRuntime rt;
  auto collector = rt.system().spawn_with_capacity(Collector{}, kCapacity).value();

  std::atomic<int> send_errors{0};
  std::atomic<std::int64_t> full_retries{0};
  std::atomic<int> wrong_replies{0};
  std::atomic<int> request_errors{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        // Mix the paths: every third message waits for space (do_send), the rest retry
        // try_send while the mailbox is full.
        if ((i + p) % 3 == 0) {
          if (!collector.do_send(Msg{p, i}).get()) send_errors.fetch_add(1);
          continue;
        }
        for (;;) {
          Result<void> r = collector.try_send(Msg{p, i});
          if (r) break;
          if (!r.is(Errc::mailbox_full)) {
            send_errors.fetch_add(1);
            break;
          }
          full_retries.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
      }
    });
  }
  for (int t = 0; t < kRequesters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerRequester; ++i) {
        Result<std::int64_t> r = collector.send(Add{t * 1'000'000, i}).get();
        if (!r) {
          request_errors.fetch_add(1);
        } else if (*r != std::int64_t{t} * 1'000'000 + i) {
          wrong_replies.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  const Snapshot s = collector.send(GetStats{}).get().value();
  INFO("try_send retries on a full mailbox: " << full_retries.load());
  CHECK(send_errors.load() == 0);
  CHECK(request_errors.load() == 0);
  CHECK(wrong_replies.load() == 0);
  CHECK(s.violations == 0);
  CHECK(s.received == std::int64_t{kProducers} * kPerProducer);
  for (int p = 0; p < kProducers; ++p) CHECK(s.next[static_cast<std::size_t>(p)] == kPerProducer);
  CHECK(s.requests == std::int64_t{kRequesters} * kPerRequester);
  CHECK(rt.system().dead_letters() == 0);
}

TEST_CASE("stress: concurrent requesters and a stop never hang", "[stress][real]") {
  // Requests race with the actor's stop: every one must complete, either with the right
  // answer (handled before the stop) or with actor_stopped (never hang, never another error).
  test::RealRuntime rt;
  auto collector = rt.system().spawn_with_capacity(Collector{}, kCapacity).value();
  std::atomic<int> ok{0};
  std::atomic<int> stopped{0};
  std::atomic<int> bad{0};
  std::atomic<int> started_threads{0};
  std::vector<std::thread> threads;
  constexpr int kPer = 5'000;
  for (int t = 0; t < kRequesters; ++t) {
    threads.emplace_back([&, t] {
      started_threads.fetch_add(1);
      for (int i = 0; i < kPer; ++i) {
        Result<std::int64_t> r = collector.send(Add{t, i}).get();
        if (r && *r == t + i) {
          ok.fetch_add(1);
        } else if (r.is(Errc::actor_stopped)) {
          stopped.fetch_add(1);
        } else {
          bad.fetch_add(1);
        }
      }
    });
  }
  // Stop once a fair share of the requests went through.
  REQUIRE(rt.wait_until([&] { return ok.load() >= kRequesters * kPer / 4; }, std::chrono::seconds(60)));
  collector.stop();
  for (auto& th : threads) th.join();
  CHECK(bad.load() == 0);
  CHECK(ok.load() + stopped.load() == kRequesters * kPer);
  CHECK(stopped.load() > 0);
  CHECK(ok.load() >= kRequesters * kPer / 4);
}

// ---- blocking calls run inline (RealEnvironmentOptions::inline_blocking_calls) --------------

namespace {

struct WhereAmI {
  using reply = std::thread::id;
};
struct Explode {
  using reply = int;
};
struct Echo {
  int v;
  using reply = int;
};
struct EchoAfterHop {
  int v;
  using reply = int;
};

/// Reports the thread it runs on; `EchoAfterHop` suspends on a request to `peer` first.
class Probe : public Actor<Probe> {
 public:
  explicit Probe(Addr<Probe> peer = {}) : peer_(std::move(peer)) {}
  std::thread::id handle(const WhereAmI&, Context&) { return std::this_thread::get_id(); }
  int handle(const Explode&, Context&) { throw std::runtime_error("exploded on purpose"); }
  int handle(Echo m, Context&) { return m.v; }
  Task<int> handle(EchoAfterHop m, Context&) {
    Result<int> r = co_await peer_.send(Echo{m.v});
    co_return r.value() + 1;
  }

 private:
  Addr<Probe> peer_;
};

/// A real runtime with the inline option set as asked.
struct InlineRuntime {
  explicit InlineRuntime(bool inline_calls)
      : env(RealEnvironmentOptions{2, 0, "inline", inline_calls}), system(env) {}
  ~InlineRuntime() { (void)system.shutdown(std::chrono::seconds(60)); }
  RealEnvironment env;
  ActorSystem system;
};

/// Blocking calls without a deadline until one is handled on this thread, or 20 s pass.
bool some_call_runs_here(Addr<Probe>& probe) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    Result<std::thread::id> where = probe.send(WhereAmI{}).get();
    if (where && *where == std::this_thread::get_id()) return true;
  }
  return false;
}

/// Polls until `probe` no longer accepts messages, or 20 s pass.
bool wait_until_stopped(const Addr<Probe>& probe) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (probe.is_alive()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
  return true;
}

/// How many of `n` calls were handled on this thread.
template <typename Call>
int calls_run_here(int n, Call call) {
  int here = 0;
  for (int i = 0; i < n; ++i) {
    Result<std::thread::id> where = call();
    REQUIRE(where);
    if (*where == std::this_thread::get_id()) ++here;
  }
  return here;
}

}  // namespace

TEST_CASE("inline calls: a blocking call to an idle actor is handled on the calling thread",
          "[stress][real][inline]") {
  InlineRuntime rt(true);
  Addr<Probe> probe = rt.system.spawn(Probe{});
  CHECK(some_call_runs_here(probe));
  // A deadline keeps the caller free to give up, so its handler always runs on a worker.
  const int with_deadline_here =
      calls_run_here(2'000, [&] { return probe.send(WhereAmI{}, std::chrono::seconds(20)).get(); });
  CHECK(with_deadline_here == 0);
  // Another thread's calls interleave with ours; each still gets its own answer. (Catch's
  // assertions are not thread-safe: the other thread counts its wrong answers instead.)
  std::atomic<int> other_wrong{0};
  std::thread other([&] {
    for (int i = 0; i < 20'000; ++i) {
      auto r = probe.send(Echo{i}).get();
      if (!r || *r != i) other_wrong.fetch_add(1, std::memory_order_relaxed);
    }
  });
  int wrong = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto r = probe.send(Echo{-i}).get();
    if (!r || *r != -i) ++wrong;
  }
  other.join();
  CHECK(wrong == 0);
  CHECK(other_wrong.load() == 0);
}

TEST_CASE("inline calls: with the option off every handler runs on a worker",
          "[stress][real][inline]") {
  InlineRuntime rt(false);
  Addr<Probe> probe = rt.system.spawn(Probe{});
  CHECK(calls_run_here(2'000, [&] { return probe.send(WhereAmI{}).get(); }) == 0);
}

TEST_CASE("inline calls: a handler that throws inline fails the call and stops the actor",
          "[stress][real][inline]") {
  InlineRuntime rt(true);
  for (int i = 0; i < 50; ++i) {
    Addr<Probe> probe = rt.system.spawn(Probe{});
    REQUIRE(some_call_runs_here(probe));  // idle now, and its calls may run here
    CHECK(probe.send(Explode{}).get().is(Errc::handler_failed));
    // Top-level actors stop on failure (supervision), wherever the handler ran.
    REQUIRE(wait_until_stopped(probe));
    CHECK(probe.send(Echo{1}).get().is(Errc::actor_stopped));
  }
}

TEST_CASE("inline calls: an async handler that suspends inline completes on the workers",
          "[stress][real][inline]") {
  InlineRuntime rt(true);
  Addr<Probe> peer = rt.system.spawn(Probe{});
  Addr<Probe> front = rt.system.spawn(Probe{peer});
  for (int i = 0; i < 5'000; ++i) REQUIRE(front.send(EchoAfterHop{i}).get().value() == i + 1);
}
