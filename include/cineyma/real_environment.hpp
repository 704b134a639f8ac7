// cineyma/real_environment.hpp — the production environment: worker threads, steady time,
// Asio timers and TCP, OS-seeded randomness. Implemented in src/asio/, the only directory
// allowed to touch real clocks, threads, sockets and the OS random source.
#pragma once

#include <cineyma/env/environment.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace cineyma {

/// Options of the real environment.
struct RealEnvironmentOptions {
  /// Worker threads running actors; 0 means one per hardware thread (at least 1).
  std::size_t worker_threads = 0;
  /// Seed of the PRNG; 0 means "seed once from the OS random source".
  std::uint64_t seed = 0;
  /// Name shown in logs.
  std::string name = "real";
  /// When a plain thread blocks on a request without a deadline (`addr.send(m).get()`) to an
  /// actor that is idle, the request's message is handled on that thread instead of being
  /// handed to a worker and the reply handed back (see `Executor::run_inline`). The handler
  /// runs exactly as on a worker (one message, then the actor goes back to the workers if
  /// more is queued); only the thread differs. Off: every handler runs on a worker.
  bool inline_blocking_calls = true;
};

/// Real-time, multi-threaded environment. Threads start in the constructor and are joined in
/// the destructor (after every queued task has run or been discarded).
///
/// Threading: every accessor and every interface it returns is safe from any thread.
class RealEnvironment final : public Environment {
 public:
  explicit RealEnvironment(RealEnvironmentOptions options = {});
  ~RealEnvironment() override;
  RealEnvironment(const RealEnvironment&) = delete;
  RealEnvironment& operator=(const RealEnvironment&) = delete;

  Executor& executor() noexcept override;
  Clock& clock() noexcept override;
  Random& random() noexcept override;
  Transport& transport() noexcept override;
  const std::string& name() const noexcept override;
  bool is_simulated() const noexcept override { return false; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cineyma
