// src/asio/random.hpp — randomness for the real runtime.
//
// A splitmix64 sequence whose state is one atomic counter: each call claims the next counter
// value with a single fetch_add and mixes it. That makes `next_u64` lock-free and safe from
// any thread at the cost of one contended cache line — the real runtime draws random numbers
// rarely (jitter, ids, gossip peer choice), never per message. Seeded once, from the options
// or from the OS. The helpers (`below`, `between`, `chance`) are shared with the simulator and
// live in src/core/random.cpp.
//
// Twin of the simulator's per-node `Prng` streams.
#pragma once

#include <cineyma/env/random.hpp>

#include <atomic>
#include <cstdint>

namespace cineyma::real {

class RealRandom final : public Random {
 public:
  /// `seed` 0 means "draw a seed from std::random_device".
  explicit RealRandom(std::uint64_t seed);

  /// Any thread; lock-free.
  std::uint64_t next_u64() noexcept override;

  /// The seed in use (the drawn one when 0 was given); for diagnostics.
  std::uint64_t seed() const noexcept { return seed_; }

 private:
  const std::uint64_t seed_;
  std::atomic<std::uint64_t> state_;
};

}  // namespace cineyma::real
