// Our own PRNG and its helpers. <random> distributions are implementation-defined, so a
// seed would replay differently under libstdc++ and libc++; everything here is specified
// bit for bit.
#include <cineyma/assert.hpp>
#include <cineyma/env/random.hpp>

namespace cineyma {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Prng::Prng(std::uint64_t seed) noexcept {
  std::uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64(sm);
}

namespace {
__extension__ typedef unsigned __int128 u128;  // GCC/Clang builtin; -Wpedantic needs the tag
constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
}  // namespace

std::uint64_t Prng::next_u64() noexcept {
  // xoshiro256** (Blackman & Vigna).
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Random::below(std::uint64_t bound) noexcept {
  CINEYMA_ASSERT(bound > 0);
  // Lemire's nearly divisionless method: multiply into 128 bits, reject the biased low part.
  u128 m = static_cast<u128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<u128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::uint64_t Random::between(std::uint64_t lo, std::uint64_t hi) noexcept {
  CINEYMA_ASSERT(lo <= hi);
  if (lo == 0 && hi == ~std::uint64_t{0}) return next_u64();
  return lo + below(hi - lo + 1);
}

bool Random::chance(std::uint64_t numerator, std::uint64_t denominator) noexcept {
  CINEYMA_ASSERT(denominator > 0);
  if (numerator >= denominator) return true;
  if (numerator == 0) return false;
  return below(denominator) < numerator;
}

}  // namespace cineyma
