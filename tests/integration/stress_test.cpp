// Stress of the real runtime's mailbox (DESIGN §8): many producer threads hammer one actor
// with a small mailbox through every enqueue path (try_send with retry, blocking do_send, and
// blocking request/response), while the actor checks per-producer sequence numbers.
// Meant to be run under ThreadSanitizer as well (the `tsan` preset).
#include "support/runtime.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
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
