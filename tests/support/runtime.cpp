// Wall-clock waiting is allowed here (tests/), and only for the real runtime: it polls a
// condition with a deadline; it never sleeps "long enough" for something to happen.
#include "support/runtime.hpp"

#include <thread>

namespace cineyma::test {

SimRuntime::SimRuntime(std::uint64_t seed)
    : sim_(seed), node_(&sim_.add_node("node-1")),
      system_(std::make_unique<ActorSystem>(node_->environment())) {}

SimRuntime::~SimRuntime() {
  // Stop everything in virtual time before the simulation goes away.
  (void)system_->shutdown(60s);
  system_.reset();
}

bool SimRuntime::wait_until(const std::function<bool()>& done, Duration deadline) {
  return sim_.run_until(done, deadline);
}

void SimRuntime::advance(Duration d) { sim_.run_for(d); }

RealRuntime::RealRuntime(std::uint64_t seed)
    : env_(std::make_unique<RealEnvironment>(RealEnvironmentOptions{2, seed, "real"})),
      system_(std::make_unique<ActorSystem>(*env_)) {}

RealRuntime::~RealRuntime() {
  (void)system_->shutdown(60s);
  system_.reset();
  env_.reset();
}

bool RealRuntime::wait_until(const std::function<bool()>& done, Duration deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return done();
    std::this_thread::sleep_for(200us);
  }
  return true;
}

void RealRuntime::advance(Duration d) { std::this_thread::sleep_for(d); }

}  // namespace cineyma::test
