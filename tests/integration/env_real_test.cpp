// Integration tests of `RealEnvironment` (src/asio): worker threads, real timers, loopback TCP.
//
// Nothing here sleeps to let something happen: every wait is on a condition (a
// BlockingEvent) with a generous deadline, so a slow machine makes the tests slower, never
// flaky. The only deliberate waits are the ones that check that something does NOT happen
// (a timeout, a cancelled timer), and those are bounded by a later event, not by a sleep.
#include <cineyma/real_environment.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using cineyma::BlockingEvent;
using cineyma::ByteStream;
using cineyma::Endpoint;
using cineyma::Errc;
using cineyma::Listener;
using cineyma::RealEnvironment;
using cineyma::RealEnvironmentOptions;
using cineyma::Result;
using cineyma::Runnable;

namespace {

// Long enough for a loaded CI machine; only reached when something is broken.
constexpr auto kDeadline = std::chrono::seconds(20);

RealEnvironmentOptions options_with(std::size_t workers, std::uint64_t seed = 0) {
  RealEnvironmentOptions options;
  options.worker_threads = workers;
  options.seed = seed;
  options.name = "test";
  return options;
}

bool wait(RealEnvironment& env, BlockingEvent& ev) {
  return env.executor().block_until(ev, kDeadline);
}

/// Counts its runs; the one that completes the total sets `all_done`.
class CountingTask final : public Runnable {
 public:
  void init(std::atomic<std::size_t>& ran, std::size_t total, BlockingEvent& all_done) {
    ran_ = &ran;
    total_ = total;
    all_done_ = &all_done;
  }
  void run() override {
    runs_.fetch_add(1, std::memory_order_relaxed);
    if (ran_->fetch_add(1, std::memory_order_acq_rel) + 1 == total_) all_done_->set();
  }
  int runs() const { return runs_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> runs_{0};
  std::atomic<std::size_t>* ran_ = nullptr;
  std::size_t total_ = 0;
  BlockingEvent* all_done_ = nullptr;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Executor

TEST_CASE("real env: posting 100k runnables from 4 external threads runs each exactly once") {
  constexpr std::size_t kThreads = 4;
  constexpr std::size_t kPerThread = 25'000;
  constexpr std::size_t kTotal = kThreads * kPerThread;
  // Declared before the environment: the tasks must outlive its (draining) destructor.
  std::vector<CountingTask> tasks(kTotal);
  std::atomic<std::size_t> ran{0};
  BlockingEvent all_done;
  for (auto& t : tasks) t.init(ran, kTotal, all_done);
  {
    RealEnvironment env(options_with(2));
    std::vector<std::thread> posters;
    for (std::size_t p = 0; p < kThreads; ++p) {
      posters.emplace_back([&env, &tasks, p] {
        for (std::size_t i = p; i < kTotal; i += kThreads) env.executor().post(tasks[i]);
      });
    }
    for (auto& t : posters) t.join();
    REQUIRE(wait(env, all_done));
  }  // joined: nothing can still run
  CHECK(ran.load() == kTotal);
  CHECK(std::all_of(tasks.begin(), tasks.end(), [](const CountingTask& t) { return t.runs() == 1; }));
}

namespace {
/// Counts its runs and tells its poster, which may then post it again.
class RepostTask final : public Runnable {
 public:
  void run() override {
    runs.fetch_add(1, std::memory_order_relaxed);
    idle.store(true, std::memory_order_release);
  }
  std::atomic<int> runs{0};
  std::atomic<bool> idle{true};
};
}  // namespace

TEST_CASE("real env: runnables re-posted from external threads as soon as they ran run once per post") {
  // The injection queue hands a node out only once it has a successor (or the stub), so a
  // node may be re-posted the moment it has run; this posts each one again as soon as it
  // has, from 4 threads at once, while the workers pop.
  constexpr std::size_t kThreads = 4;
  constexpr std::size_t kPerThread = 8;
  constexpr int kRounds = 2'000;
  std::vector<RepostTask> tasks(kThreads * kPerThread);
  std::atomic<bool> lost{false};
  {
    RealEnvironment env(options_with(2));
    std::vector<std::thread> posters;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (std::size_t p = 0; p < kThreads; ++p) {
      posters.emplace_back([&env, &tasks, &lost, deadline, p] {
        for (int round = 0; round < kRounds; ++round) {
          for (std::size_t i = p * kPerThread; i < (p + 1) * kPerThread; ++i) {
            // Until it has run; a post that never runs is reported, not waited for forever.
            while (!tasks[i].idle.load(std::memory_order_acquire)) {
              if (std::chrono::steady_clock::now() > deadline) {
                lost.store(true);
                return;
              }
              std::this_thread::yield();
            }
            tasks[i].idle.store(false, std::memory_order_relaxed);
            env.executor().post(tasks[i]);
          }
        }
      });
    }
    for (auto& t : posters) t.join();
  }  // the destructor drains the last posts
  REQUIRE_FALSE(lost.load());
  CHECK(std::all_of(tasks.begin(), tasks.end(),
                    [](const RepostTask& t) { return t.runs.load() == kRounds; }));
}

namespace {
/// Sets its event when it runs; the poster waits for that before it posts the next one.
class SignalTask final : public Runnable {
 public:
  void run() override { done->set(); }
  BlockingEvent* done = nullptr;
};
}  // namespace

TEST_CASE("real env: a post after the workers went to sleep always wakes one of them") {
  // One task at a time from outside, each posted once the previous one ran: between two
  // posts every worker searches, then parks, so the posts land in every phase of that (the
  // number of yields before each post varies with the round). A wake-up lost anywhere in
  // the park/claim handshake leaves a task unrun and the wait times out. 4 workers, so
  // that a waker has several parked words to choose from and two posters race for them.
  constexpr int kRounds = 1'500;
  constexpr int kPosters = 2;
  std::atomic<bool> lost{false};
  {
    RealEnvironment env(options_with(4));
    std::vector<std::thread> posters;
    for (int p = 0; p < kPosters; ++p) {
      posters.emplace_back([&env, &lost, p] {
        for (int round = 0; round < kRounds && !lost.load(); ++round) {
          for (int i = 0; i < (round * 7 + p * 13) % 97; ++i) std::this_thread::yield();
          auto done = std::make_unique<BlockingEvent>();
          auto task = std::make_unique<SignalTask>();
          task->done = done.get();
          env.executor().post(*task);
          if (!done->wait_for(kDeadline)) {
            lost.store(true);
            // The task may still run later: leak both rather than let it touch freed memory.
            static_cast<void>(task.release());
            static_cast<void>(done.release());
            return;
          }
        }
      });
    }
    for (auto& t : posters) t.join();
  }
  REQUIRE_FALSE(lost.load());
}

TEST_CASE("real env: runnables posted from workers (fan-out and chains) each run once") {
  constexpr std::size_t kTotal = 50'000;
  std::vector<CountingTask> tasks(kTotal);
  std::atomic<std::size_t> ran{0};
  BlockingEvent all_done;
  for (auto& t : tasks) t.init(ran, kTotal, all_done);
  {
    RealEnvironment env(options_with(2));
    // One task posts everything: exercises the LIFO slot, the local queue, its overflow to
    // the shared queue, and stealing by the other worker.
    env.executor().post([&env, &tasks] {
      for (auto& t : tasks) env.executor().post(t);
    });
    REQUIRE(wait(env, all_done));
  }
  CHECK(std::all_of(tasks.begin(), tasks.end(), [](const CountingTask& t) { return t.runs() == 1; }));
}

namespace {
/// Half of an endless ping-pong: posts its partner until told to stop.
class Bouncer final : public Runnable {
 public:
  void init(cineyma::Executor& ex, Bouncer& other, std::atomic<bool>& stop, BlockingEvent& stopped) {
    ex_ = &ex;
    other_ = &other;
    stop_ = &stop;
    stopped_ = &stopped;
  }
  void run() override {
    if (stop_->load()) {
      stopped_->set();
      return;
    }
    ex_->post(*other_);
  }

 private:
  cineyma::Executor* ex_ = nullptr;
  Bouncer* other_ = nullptr;
  std::atomic<bool>* stop_ = nullptr;
  BlockingEvent* stopped_ = nullptr;
};
}  // namespace

TEST_CASE("real env: an endless ping-pong on one worker does not starve other tasks") {
  // One worker, so that nobody can steal: only the executor's own fairness can get the
  // stopping task to run while the pair keeps re-posting each other.
  Bouncer a;
  Bouncer b;
  std::atomic<bool> stop{false};
  BlockingEvent stopped;
  RealEnvironment env(options_with(1));
  cineyma::Executor& ex = env.executor();
  a.init(ex, b, stop, stopped);
  b.init(ex, a, stop, stopped);

  SECTION("a task queued on the worker behind the pair") {
    ex.post([&] {
      ex.post([&stop] { stop = true; });  // queued on this worker...
      ex.post(a);                         // ...then the pair starts, right behind it
    });
  }
  SECTION("a task posted from outside while the pair runs") {
    ex.post(a);
    ex.post([&stop] { stop = true; });
  }
  CHECK(wait(env, stopped));
}

TEST_CASE("real env: post_after_queued runs behind what the worker has queued, post runs next") {
  // One worker, so that the order is the worker's own and no sibling can steal.
  RealEnvironment env(options_with(1));
  std::mutex mu;
  std::vector<std::string> order;
  auto note = [&](std::string what) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(std::move(what));
  };
  BlockingEvent done;
  env.executor().post([&] {
    auto& ex = env.executor();
    ex.post([&] { note("a"); });
    ex.post([&] { note("b"); });
    ex.post_after_queued([&] {
      note("batched");
      done.set();
    });
    ex.post([&] { note("c"); });  // posted after it, still runs before it
  });
  REQUIRE(wait(env, done));
  std::lock_guard<std::mutex> lock(mu);
  // post puts the newest in the slot that runs next (c), the others run in order; what
  // post_after_queued queued runs after everything posted before it.
  CHECK(order == std::vector<std::string>{"c", "a", "b", "batched"});
}

TEST_CASE("real env: post_after_queued from a thread that is not a worker is a post") {
  RealEnvironment env(options_with(2));
  BlockingEvent ran;
  env.executor().post_after_queued([&ran] { ran.set(); });
  CHECK(wait(env, ran));
}

TEST_CASE("real env: block_until with and without timeout") {
  RealEnvironment env(options_with(2));

  SECTION("an event nobody sets times out") {
    BlockingEvent never;
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(env.executor().block_until(never, 20ms));
    CHECK(std::chrono::steady_clock::now() - start >= 20ms);
  }
  SECTION("an event set from a worker is seen, with a timeout") {
    BlockingEvent ev;
    env.executor().post([&ev] { ev.set(); });
    CHECK(env.executor().block_until(ev, kDeadline));
    CHECK(ev.is_set());
  }
  SECTION("an event set from a worker is seen, without a timeout") {
    BlockingEvent ev;
    env.executor().post([&ev] { ev.set(); });
    CHECK(env.executor().block_until(ev, std::nullopt));
  }
  SECTION("an event already set returns at once") {
    BlockingEvent ev;
    ev.set();
    CHECK(env.executor().block_until(ev, 0ns));
  }
}

TEST_CASE("real env: executor identity and concurrency") {
  RealEnvironment env(options_with(3));
  CHECK(env.executor().concurrency() == 3);
  CHECK_FALSE(env.executor().in_executor_thread());
  CHECK_FALSE(env.is_simulated());
  CHECK(env.name() == "test");

  std::atomic<bool> inside{false};
  BlockingEvent ev;
  env.executor().post([&] {
    inside = env.executor().in_executor_thread();
    ev.set();
  });
  REQUIRE(wait(env, ev));
  CHECK(inside.load());

  // Another environment's workers are not this executor's.
  RealEnvironment other(options_with(1));
  std::atomic<bool> foreign{true};
  BlockingEvent ev2;
  other.executor().post([&] {
    foreign = env.executor().in_executor_thread();
    ev2.set();
  });
  REQUIRE(wait(other, ev2));
  CHECK_FALSE(foreign.load());
}

TEST_CASE("real env: 0 worker threads means one per hardware thread, at least one") {
  RealEnvironment env(options_with(0));
  CHECK(env.executor().concurrency() >= 1);
  CHECK(env.executor().concurrency() ==
        std::max<std::size_t>(1, std::thread::hardware_concurrency()));
}

TEST_CASE("real env: an exception escaping a task does not kill its worker") {
  RealEnvironment env(options_with(1));  // one worker: if it died, nothing would run
  env.executor().post([] { throw std::runtime_error("expected by the test"); });
  env.executor().post([] { throw 42; });
  BlockingEvent ev;
  env.executor().post([&ev] { ev.set(); });
  CHECK(wait(env, ev));
}

TEST_CASE("real env: destruction drains queued tasks, including those they post") {
  std::atomic<int> ran{0};
  {
    RealEnvironment env(options_with(2));
    cineyma::Executor& executor = env.executor();
    for (int i = 0; i < 1000; ++i) {
      executor.post([&executor, &ran] {
        ran.fetch_add(1);
        executor.post([&ran] { ran.fetch_add(1); });  // may be posted while draining
      });
    }
  }
  CHECK(ran.load() == 2000);
}

// ---------------------------------------------------------------------------------------
// Clock

TEST_CASE("real env: now() starts near zero and is monotonic") {
  RealEnvironment env(options_with(1));
  const auto first = env.clock().now();
  CHECK(first.time_since_epoch() >= 0ns);
  CHECK(first.time_since_epoch() < 10s);
  auto previous = first;
  for (int i = 0; i < 1000; ++i) {
    const auto t = env.clock().now();
    CHECK(t >= previous);
    previous = t;
  }
}

TEST_CASE("real env: timers fire in order of deadline, never on the scheduling thread") {
  RealEnvironment env(options_with(2));
  std::mutex mutex;
  std::vector<int> order;
  std::set<std::thread::id> threads;
  BlockingEvent done;
  auto record = [&](int label) {
    return [&, label] {
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back(label);
      threads.insert(std::this_thread::get_id());
      if (order.size() == 5) done.set();
    };
  };
  const auto now = env.clock().now();
  env.clock().schedule_at(now + 60ms, record(3));
  env.clock().schedule_at(now + 20ms, record(1));
  env.clock().schedule_at(now + 40ms, record(2));
  // Equal deadlines run in scheduling order.
  env.clock().schedule_at(now + 80ms, record(4));
  env.clock().schedule_at(now + 80ms, record(5));
  REQUIRE(wait(env, done));
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(threads.count(std::this_thread::get_id()) == 0);
  CHECK(env.clock().now() - now >= 80ms);
}

TEST_CASE("real env: a timer due in the past runs, and not inline") {
  RealEnvironment env(options_with(1));
  std::atomic<std::thread::id> ran_on{};
  BlockingEvent done;
  env.clock().schedule_at(cineyma::TimePoint{}, [&] {
    ran_on = std::this_thread::get_id();
    done.set();
  });
  REQUIRE(wait(env, done));
  CHECK(ran_on.load() != std::this_thread::get_id());
}

TEST_CASE("real env: cancel is exact") {
  RealEnvironment env(options_with(2));

  SECTION("cancel before firing returns true and the task never runs") {
    std::atomic<bool> cancelled_ran{false};
    const auto id = env.clock().schedule_after(50ms, [&] { cancelled_ran = true; });
    CHECK(id != 0);
    CHECK(env.clock().cancel(id));
    CHECK_FALSE(env.clock().cancel(id));  // a second cancel finds nothing
    // A later timer bounds the wait: once it ran, the cancelled one would have run too.
    BlockingEvent sentinel;
    env.clock().schedule_after(100ms, [&] { sentinel.set(); });
    REQUIRE(wait(env, sentinel));
    CHECK_FALSE(cancelled_ran.load());
  }
  SECTION("cancel right after scheduling (creation still queued) is exact too") {
    std::atomic<int> ran{0};
    std::vector<cineyma::TimerId> ids;
    for (int i = 0; i < 200; ++i) ids.push_back(env.clock().schedule_after(0ns, [&] { ran++; }));
    int cancelled = 0;
    for (auto id : ids) cancelled += env.clock().cancel(id) ? 1 : 0;
    BlockingEvent sentinel;
    env.clock().schedule_after(20ms, [&] { sentinel.set(); });
    REQUIRE(wait(env, sentinel));
    CHECK(ran.load() + cancelled == 200);  // every timer either ran or was cancelled
  }
  SECTION("cancel after firing returns false") {
    BlockingEvent fired;
    const auto id = env.clock().schedule_after(1ms, [&] { fired.set(); });
    REQUIRE(wait(env, fired));
    CHECK_FALSE(env.clock().cancel(id));
  }
  SECTION("cancelling an unknown id returns false") {
    CHECK_FALSE(env.clock().cancel(0));
    CHECK_FALSE(env.clock().cancel(123456789));
  }
  SECTION("cancelling destroys the task") {
    auto token = std::make_shared<int>(7);
    const auto id = env.clock().schedule_after(1h, [token] { (void)token; });
    CHECK(token.use_count() == 2);
    CHECK(env.clock().cancel(id));
    CHECK(token.use_count() == 1);
  }
}

TEST_CASE("real env: a task may cancel a later timer that is also due") {
  RealEnvironment env(options_with(1));
  std::atomic<bool> second_ran{false};
  std::atomic<bool> cancel_result{false};
  BlockingEvent sentinel;
  const auto base = env.clock().now() + 20ms;
  cineyma::TimerId second = 0;
  std::atomic<bool> second_known{false};
  env.clock().schedule_at(base, [&] {
    while (!second_known.load()) std::this_thread::yield();
    cancel_result = env.clock().cancel(second);
  });
  second = env.clock().schedule_at(base + 1ns, [&] { second_ran = true; });
  second_known = true;
  env.clock().schedule_at(base + 30ms, [&] { sentinel.set(); });
  REQUIRE(wait(env, sentinel));
  CHECK(cancel_result.load());
  CHECK_FALSE(second_ran.load());
}

TEST_CASE("real env: pending timers are discarded when the environment is destroyed") {
  auto token = std::make_shared<int>(1);
  std::atomic<bool> ran{false};
  {
    RealEnvironment env(options_with(1));
    env.clock().schedule_after(1h, [token, &ran] { ran = true; });
    CHECK(token.use_count() == 2);
  }
  CHECK(token.use_count() == 1);  // the task was destroyed, not leaked
  CHECK_FALSE(ran.load());
}

TEST_CASE("real env: an exception escaping a timer task does not stop the timers") {
  RealEnvironment env(options_with(1));
  env.clock().schedule_after(1ms, [] { throw std::runtime_error("expected by the test"); });
  BlockingEvent later;
  env.clock().schedule_after(5ms, [&] { later.set(); });
  CHECK(wait(env, later));
}

// ---------------------------------------------------------------------------------------
// Random

TEST_CASE("real env: random values differ and `below` stays in range") {
  RealEnvironment env(options_with(1));
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(env.random().next_u64());
  CHECK(seen.size() == 1000);
  for (int i = 0; i < 10'000; ++i) {
    const auto v = env.random().below(10);
    CHECK(v < 10);
    const auto w = env.random().between(5, 7);
    CHECK(w >= 5);
    CHECK(w <= 7);
  }
}

TEST_CASE("real env: a fixed seed gives a fixed sequence, seed 0 draws one") {
  RealEnvironment a(options_with(1, 42));
  RealEnvironment b(options_with(1, 42));
  for (int i = 0; i < 100; ++i) CHECK(a.random().next_u64() == b.random().next_u64());

  RealEnvironment c(options_with(1, 0));
  RealEnvironment d(options_with(1, 0));
  CHECK(c.random().next_u64() != d.random().next_u64());  // 2^-64 to fail by chance
}

TEST_CASE("real env: random is safe from many threads and never repeats a value") {
  RealEnvironment env(options_with(1));
  constexpr int kThreads = 4;
  constexpr int kEach = 10'000;
  std::vector<std::vector<std::uint64_t>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&env, &drawn, t] {
      for (int i = 0; i < kEach; ++i) drawn[static_cast<std::size_t>(t)].push_back(env.random().next_u64());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::uint64_t> all;
  for (const auto& v : drawn) all.insert(v.begin(), v.end());
  CHECK(all.size() == static_cast<std::size_t>(kThreads * kEach));
}

// ---------------------------------------------------------------------------------------
// Transport

namespace {

struct Connected {
  std::unique_ptr<ByteStream> client;
  std::unique_ptr<ByteStream> server;
};

/// Accepts and connects over loopback; both streams, or a failed REQUIRE.
Connected connect_pair(RealEnvironment& env, Listener& listener) {
  Connected pair;
  BlockingEvent accepted;
  BlockingEvent connected;
  std::error_code accept_error;
  std::error_code connect_error;
  listener.async_accept([&](Result<std::unique_ptr<ByteStream>> r) {
    if (r) pair.server = std::move(r).value(); else accept_error = r.error();
    accepted.set();
  });
  env.transport().async_connect(listener.local_endpoint(), [&](Result<std::unique_ptr<ByteStream>> r) {
    if (r) pair.client = std::move(r).value(); else connect_error = r.error();
    connected.set();
  });
  REQUIRE(wait(env, accepted));
  REQUIRE(wait(env, connected));
  REQUIRE_FALSE(accept_error);
  REQUIRE_FALSE(connect_error);
  REQUIRE(pair.client);
  REQUIRE(pair.server);
  return pair;
}

/// Reads until the stream fails, collecting the bytes. Handlers run on the io thread; the
/// test thread looks only after an event has been set (and Catch2 assertions, which are not
/// thread-safe, stay on the test thread).
class Reader {
 public:
  Reader(ByteStream& stream, std::size_t expected) : stream_(stream), expected_(expected) {}
  void start() {
    stream_.async_read_some(buffer_, [this](Result<std::size_t> r) { on_read(r); });
  }
  BlockingEvent got_all;
  BlockingEvent failed;
  std::vector<std::byte> received;
  std::error_code error;

 private:
  void on_read(const Result<std::size_t>& r) {
    if (!r) {
      error = r.error();
      failed.set();
      return;
    }
    received.insert(received.end(), buffer_.begin(),
                    buffer_.begin() + static_cast<std::ptrdiff_t>(*r));
    if (received.size() >= expected_) got_all.set();
    start();
  }
  ByteStream& stream_;
  const std::size_t expected_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(64 * 1024);
};

}  // namespace

TEST_CASE("real env: TCP loopback carries 1 MiB exactly, and close is seen as an error") {
  RealEnvironment env(options_with(2));
  auto listening = env.transport().listen(Endpoint{"127.0.0.1", 0});
  REQUIRE(listening);
  std::unique_ptr<Listener> listener = std::move(listening).value();
  CHECK(listener->local_endpoint().host == "127.0.0.1");
  CHECK(listener->local_endpoint().port != 0);

  Connected pair = connect_pair(env, *listener);
  CHECK(pair.server->remote_endpoint().host == "127.0.0.1");
  CHECK(pair.client->remote_endpoint() == listener->local_endpoint());

  constexpr std::size_t kSize = 1024 * 1024;
  std::vector<std::byte> payload(kSize);
  for (std::size_t i = 0; i < kSize; ++i) {
    payload[i] = static_cast<std::byte>((i * 131 + i / 4096) & 0xff);
  }
  Reader reader(*pair.server, kSize);
  reader.start();

  BlockingEvent written;
  std::error_code write_error;
  pair.client->async_write(payload, [&](Result<void> r) {
    write_error = r.error();
    written.set();
  });
  REQUIRE(wait(env, written));
  CHECK_FALSE(write_error);
  REQUIRE(wait(env, reader.got_all));
  CHECK(reader.received.size() == kSize);
  CHECK(reader.received == payload);

  pair.client->close();
  pair.client->close();  // idempotent
  REQUIRE(wait(env, reader.failed));
  CHECK(reader.error == cineyma::make_error_code(Errc::disconnected));
}

TEST_CASE("real env: try_write writes from the calling thread, in order with async_write") {
  RealEnvironment env(options_with(2));
  auto listener = std::move(env.transport().listen(Endpoint{"127.0.0.1", 0})).value();
  Connected pair = connect_pair(env, *listener);

  // A small write to an idle socket goes out whole from this (non-io) thread; a 16 MiB one
  // (larger than Linux's largest default socket buffers) is taken only in part, and the rest
  // follows through async_write, after it in the stream. What arrives is the bytes in order,
  // exactly once.
  constexpr std::size_t kSmall = 100;
  constexpr std::size_t kBig = 16 * 1024 * 1024;
  std::vector<std::byte> payload(kSmall + kBig);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<std::byte>((i * 7 + i / 1000) & 0xff);
  }
  Reader reader(*pair.server, payload.size());
  reader.start();
  const std::span<const std::byte> all(payload);
  CHECK(pair.client->try_write(all.first(kSmall)) == kSmall);
  const std::size_t taken = pair.client->try_write(all.subspan(kSmall));
  CHECK(taken <= kBig);
  BlockingEvent written;
  std::error_code write_error;
  pair.client->async_write(all.subspan(kSmall + taken), [&](Result<void> r) {
    write_error = r.error();
    written.set();
  });
  REQUIRE(wait(env, written));
  CHECK_FALSE(write_error);
  REQUIRE(wait(env, reader.got_all));
  CHECK(reader.received.size() == payload.size());
  CHECK(reader.received == payload);

  // Once closed, try_write writes nothing (and the descriptor is never used again).
  pair.client->close();
  REQUIRE(wait(env, reader.failed));
  std::byte one{1};
  CHECK(pair.client->try_write(std::span<const std::byte>(&one, 1)) == 0);
  CHECK(pair.client->try_write({}) == 0);
}

TEST_CASE("real env: closing a stream completes its pending read with an error") {
  RealEnvironment env(options_with(1));
  auto listener = std::move(env.transport().listen(Endpoint{"", 0})).value();  // "" = 127.0.0.1
  CHECK(listener->local_endpoint().host == "127.0.0.1");
  Connected pair = connect_pair(env, *listener);
  Reader reader(*pair.server, 1);
  reader.start();
  pair.server->close();  // from the test thread, while the read is pending on the io thread
  REQUIRE(wait(env, reader.failed));
  CHECK(reader.error == cineyma::make_error_code(Errc::disconnected));

  // Writing to the closed stream fails too (and does not crash).
  BlockingEvent written;
  std::error_code write_error;
  std::byte one{1};
  pair.server->async_write(std::span<const std::byte>(&one, 1), [&](Result<void> r) {
    write_error = r.error();
    written.set();
  });
  REQUIRE(wait(env, written));
  CHECK(write_error == cineyma::make_error_code(Errc::disconnected));
}

/// Records each completion of a stream's reads and the thread it ran on. Unlike Reader, its
/// completions may run on a test thread (read_here), so it keeps its state atomic/locked.
class ThreadedReader {
 public:
  explicit ThreadedReader(ByteStream& stream) : stream_(stream) {}
  void start() {
    stream_.async_read_some(buffer_, [this](Result<std::size_t> r) { on_read(r); });
  }
  std::atomic<std::size_t> bytes{0};
  BlockingEvent failed;
  std::error_code error;  // set before `failed`
  /// Threads that ran completions, in order of their first completion.
  std::vector<std::thread::id> threads() {
    std::lock_guard lock(m_);
    return threads_;
  }

 private:
  void on_read(const Result<std::size_t>& r) {
    {
      std::lock_guard lock(m_);
      if (std::find(threads_.begin(), threads_.end(), std::this_thread::get_id()) ==
          threads_.end()) {
        threads_.push_back(std::this_thread::get_id());
      }
    }
    if (!r) {
      error = r.error();
      failed.set();
      return;
    }
    bytes.fetch_add(*r);
    start();
  }
  ByteStream& stream_;
  std::mutex m_;
  std::vector<std::thread::id> threads_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(4096);
};

TEST_CASE("real env: read_here runs the pending read on the calling thread, then gives reading "
          "back to the io thread") {
  RealEnvironment env(options_with(1));
  auto listener = std::move(env.transport().listen(Endpoint{"127.0.0.1", 0})).value();
  Connected pair = connect_pair(env, *listener);
  const std::vector<std::byte> hundred(100, std::byte{7});

  // No read pending: nothing to do here.
  CHECK_FALSE(pair.client->read_here([] { return true; }, 10s));

  ThreadedReader reader(*pair.client);
  reader.start();
  // Nothing to wait for: it returns at once, without reading.
  CHECK_FALSE(pair.client->read_here([] { return false; }, 10s));

  // Bytes sent once the caller reads (keep_going's first call comes before it takes over,
  // the second after): read and completed on this thread, not the io thread's.
  int asked = 0;
  std::size_t sent = 0;
  CHECK(pair.client->read_here(
      [&] {
        if (++asked == 2) sent = pair.server->try_write(hundred);
        return reader.bytes.load() < 100;
      },
      30s));
  CHECK(sent == hundred.size());
  CHECK(reader.bytes.load() == 100);
  REQUIRE(reader.threads().size() == 1);
  CHECK(reader.threads()[0] == std::this_thread::get_id());

  // A deadline that passes with no bytes: it stops, and still hands reading back.
  CHECK(pair.client->read_here([] { return true; }, 1ms));

  // Reading is the io thread's again: more bytes are read without us.
  REQUIRE(pair.server->try_write(hundred) == hundred.size());
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (reader.bytes.load() < 200 && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  CHECK(reader.bytes.load() == 200);
  const auto threads = reader.threads();
  REQUIRE(threads.size() == 2);
  CHECK(threads[1] != std::this_thread::get_id());

  // The peer's end, seen by a caller reading: the read completes here with the error.
  pair.server->close();
  // (Or the io thread saw it first, and there was nothing left to read here.)
  const bool read_here = pair.client->read_here([&] { return !reader.failed.is_set(); }, 30s);
  CHECK((read_here || reader.failed.is_set()));
  REQUIRE(wait(env, reader.failed));
  CHECK(reader.error == cineyma::make_error_code(Errc::disconnected));
  CHECK_FALSE(pair.client->read_here([] { return true; }, 10s));  // no read pending any more
}

TEST_CASE("real env: closing a stream while a thread waits in read_here ends the wait and the "
          "read") {
  RealEnvironment env(options_with(1));
  auto listener = std::move(env.transport().listen(Endpoint{"127.0.0.1", 0})).value();
  for (int round = 0; round < 20; ++round) {
    Connected pair = connect_pair(env, *listener);
    ThreadedReader reader(*pair.client);
    reader.start();
    std::atomic<bool> entered{false};
    std::atomic<bool> returned{false};
    std::thread waiter([&] {
      // Nothing ever comes: only the close can end this before its (long) deadline.
      static_cast<void>(pair.client->read_here(
          [&] {
            entered.store(true);
            return true;
          },
          60s));
      returned.store(true);
    });
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!entered.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    CHECK(entered.load());
    if (round % 2 == 1) {
      // Half the rounds give the waiter time to get past its 50 us of polling into poll(2)
      // (not needed for correctness either way: this only varies where the close finds it).
      for (int i = 0; i < 2000; ++i) std::this_thread::yield();
    }
    pair.client->close();
    waiter.join();  // returns once the close's shutdown wakes it
    CHECK(returned.load());
    REQUIRE(wait(env, reader.failed));
    CHECK(reader.error == cineyma::make_error_code(Errc::disconnected));
  }
}

TEST_CASE("real env: closing a listener completes its pending accept with an error") {
  RealEnvironment env(options_with(1));
  auto listener = std::move(env.transport().listen(Endpoint{"127.0.0.1", 0})).value();
  BlockingEvent done;
  std::error_code error;
  listener->async_accept([&](Result<std::unique_ptr<ByteStream>> r) {
    error = r.error();
    done.set();
  });
  listener->close();
  REQUIRE(wait(env, done));
  CHECK(error == cineyma::make_error_code(Errc::disconnected));
}

TEST_CASE("real env: connecting to a closed port fails with connection_refused") {
  RealEnvironment env(options_with(1));
  std::uint16_t port = 0;
  {
    // Borrow a free port from the OS, then give it back.
    auto listener = std::move(env.transport().listen(Endpoint{"127.0.0.1", 0})).value();
    port = listener->local_endpoint().port;
  }
  BlockingEvent done;
  std::error_code error;
  bool got_stream = false;
  env.transport().async_connect(Endpoint{"127.0.0.1", port}, [&](Result<std::unique_ptr<ByteStream>> r) {
    got_stream = r.has_value();
    error = r.error();
    done.set();
  });
  REQUIRE(wait(env, done));
  CHECK_FALSE(got_stream);
  CHECK(error == std::errc::connection_refused);
}

TEST_CASE("real env: a non-numeric host is an invalid argument, reported asynchronously") {
  RealEnvironment env(options_with(1));
  auto listening = env.transport().listen(Endpoint{"not-an-address", 0});
  CHECK(listening.is(Errc::invalid_argument));

  BlockingEvent done;
  std::error_code error;
  std::atomic<std::thread::id> completed_on{};
  env.transport().async_connect(Endpoint{"example.invalid", 80}, [&](Result<std::unique_ptr<ByteStream>> r) {
    error = r.error();
    completed_on = std::this_thread::get_id();
    done.set();
  });
  REQUIRE(wait(env, done));
  CHECK(error == cineyma::make_error_code(Errc::invalid_argument));
  CHECK(completed_on.load() != std::this_thread::get_id());
}

TEST_CASE("real env: listening twice on one port fails with the system's error") {
  RealEnvironment env(options_with(1));
  auto first = std::move(env.transport().listen(Endpoint{"127.0.0.1", 0})).value();
  auto second = env.transport().listen(first->local_endpoint());
  REQUIRE_FALSE(second);
  CHECK(second.error() == std::errc::address_in_use);
}
