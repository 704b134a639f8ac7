// src/asio/random.cpp — the real runtime's randomness (see random.hpp).
#include "random.hpp"

#include <random>

namespace cineyma::real {

namespace {

constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

std::uint64_t os_seed() {
  // Two 32-bit draws: random_device yields `unsigned int`, and a 32-bit seed would make
  // collisions between processes likely enough to matter (e.g. for random ids).
  std::random_device device;
  const auto high = static_cast<std::uint64_t>(device());
  const auto low = static_cast<std::uint64_t>(device());
  return (high << 32) ^ low;
}

}  // namespace

RealRandom::RealRandom(std::uint64_t seed) : seed_(seed != 0 ? seed : os_seed()), state_(seed_) {}

std::uint64_t RealRandom::next_u64() noexcept {
  // The splitmix64 step of src/core/random.cpp, with the increment made atomic: concurrent
  // callers each claim a distinct counter value, so no value is handed out twice and no lock
  // is needed. Relaxed: the counter orders nothing else.
  std::uint64_t z = state_.fetch_add(kGoldenGamma, std::memory_order_relaxed) + kGoldenGamma;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace cineyma::real
