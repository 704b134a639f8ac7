// cineyma/env/random.hpp — randomness as the environment provides it.
//
// We never use <random> distributions: their output differs between standard libraries, which
// would break seed replay across compilers. `Prng` is our own generator (xoshiro256**, seeded
// through splitmix64) with bounded-integer and integer-ratio helpers.
#pragma once

#include <cstdint>

namespace cineyma {

/// A 64-bit source of randomness plus helpers built only on `next_u64()`.
class Random {
 public:
  virtual ~Random() = default;

  /// The next 64 random bits. Thread contract: see the implementation (the real one is safe
  /// from any thread; a simulated one is used by its single simulation thread).
  virtual std::uint64_t next_u64() noexcept = 0;

  /// Uniform integer in [0, bound). `bound` must be > 0. Unbiased (Lemire's method).
  std::uint64_t below(std::uint64_t bound) noexcept;

  /// Uniform integer in [lo, hi] (inclusive). Requires lo <= hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept;

  /// True with probability numerator/denominator (integer ratio; denominator > 0).
  bool chance(std::uint64_t numerator, std::uint64_t denominator) noexcept;
};

/// Deterministic xoshiro256** generator. Not thread-safe: one owner.
class Prng final : public Random {
 public:
  explicit Prng(std::uint64_t seed) noexcept;
  std::uint64_t next_u64() noexcept override;

  /// A new, independent generator derived from this one (for per-node streams).
  Prng fork() noexcept { return Prng(next_u64()); }

 private:
  std::uint64_t s_[4];
};

/// splitmix64 step: mixes `x` into a well-distributed 64-bit value.
std::uint64_t splitmix64(std::uint64_t& state) noexcept;

}  // namespace cineyma
