// src/asio/environment.cpp — `RealEnvironment`: the parts, and the order they stop in.
//
// Start: the io context, clock, transport and random are built first and the executor (whose
// threads start at once) last; the io thread starts at the very end, so that nothing runs
// before every part exists.
//
// Stop (the destructor), in this order and for these reasons:
//   1. clock.shutdown(): pending timers are discarded and new ones refused, so no timer task
//      can post work while the executor drains, nor run after the environment is gone.
//   2. io.stop(): the io thread is joined. Network completions still queued are not run
//      (their handlers are destroyed with the io context), so the network cannot feed the
//      executor either. By the lifetime contract, everything built on the environment is
//      already gone, so normally nothing is pending.
//   3. executor.shutdown(): the workers drain — they run every task still queued and every
//      task those post — and are joined. Draining rather than dropping, because a queued
//      runnable may own resources (a self-deleting function task, a coroutine frame) that
//      only running frees. Timers and the network are already quiet, so draining ends.
//   4. members are destroyed in reverse order; the io context goes last, since the clock's
//      timer and the sockets' shared states must be destroyed before it.
#include <cineyma/real_environment.hpp>

#include "clock.hpp"
#include "executor.hpp"
#include "io_thread.hpp"
#include "random.hpp"
#include "transport.hpp"

#include <cineyma/assert.hpp>

#include <chrono>
#include <thread>
#include <utility>

namespace cineyma {

struct RealEnvironment::Impl {
  explicit Impl(RealEnvironmentOptions options)
      : name(std::move(options.name)),
        io(name),
        clock(io.context(), std::chrono::steady_clock::now(), name),
        transport(io.context()),
        random(options.seed),
        executor(worker_count(options.worker_threads), name, options.inline_blocking_calls) {
    io.start();
  }

  ~Impl() { shutdown(); }

  /// The stop sequence described at the top of this file. Idempotent.
  void shutdown() {
    CINEYMA_ASSERT_MSG(!executor.in_executor_thread(),
                       "a RealEnvironment destroyed from one of its own workers: "
                       "a worker cannot join itself");
    CINEYMA_ASSERT_MSG(!io.in_io_thread(),
                       "a RealEnvironment destroyed from its own io/timer thread: "
                       "that thread cannot join itself");
    clock.shutdown();
    io.stop();
    executor.shutdown();
  }

  static std::size_t worker_count(std::size_t requested) noexcept {
    if (requested != 0) return requested;
    const unsigned hardware = std::thread::hardware_concurrency();  // 0 when unknown
    return hardware != 0 ? hardware : 1;
  }

  const std::string name;
  real::IoThread io;  // first in, last out: the others hold Asio objects bound to it
  real::RealClock clock;
  real::RealTransport transport;
  real::RealRandom random;
  real::RealExecutor executor;
};

RealEnvironment::RealEnvironment(RealEnvironmentOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

// The stop sequence runs here, in the body, rather than in ~Impl: tasks that run while the
// executor drains may still call `env.clock()` & co., which must find `impl_` intact.
RealEnvironment::~RealEnvironment() { impl_->shutdown(); }

Executor& RealEnvironment::executor() noexcept { return impl_->executor; }
Clock& RealEnvironment::clock() noexcept { return impl_->clock; }
Random& RealEnvironment::random() noexcept { return impl_->random; }
Transport& RealEnvironment::transport() noexcept { return impl_->transport; }
const std::string& RealEnvironment::name() const noexcept { return impl_->name; }

}  // namespace cineyma
