// sim/src/options.cpp — swarm options and their one-line description.
//
// Swarm testing (Groce et al.): rather than every fault at a moderate rate in every run, each
// seed switches a random subset of knobs off entirely and draws the others, so that some runs
// explore rare combinations and others stay quiet enough for deep protocol states.
#include <cineyma/env/random.hpp>
#include <cineyma/sim/simulation.hpp>

#include <string>

namespace cineyma::sim {
namespace {

// Salted, so a scenario's swarm options do not correlate with its scheduling choices.
constexpr std::uint64_t kSwarmSeedSalt = 0x737761726D6B6E62ULL;  // "swarmknb"

/// Off with probability 1/2; otherwise 1 in uniform [lo, hi].
Ratio maybe_one_in(Prng& r, std::uint64_t lo, std::uint64_t hi) {
  if (r.chance(1, 2)) return Ratio{0, 1};
  return Ratio{1, r.between(lo, hi)};
}

std::int64_t pick_us(Prng& r, std::int64_t lo, std::int64_t hi) {
  return static_cast<std::int64_t>(
      r.between(static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)));
}

std::string ratio_text(const Ratio& r) {
  return std::to_string(r.numerator) + "/" + std::to_string(r.denominator);
}

}  // namespace

SimulationOptions SimulationOptions::swarm(std::uint64_t seed) {
  Prng r(seed ^ kSwarmSeedSalt);
  SimulationOptions o;
  o.latency_us = pick_us(r, 10, 2'000);
  o.latency_jitter_us = r.chance(1, 2) ? 0 : pick_us(r, 1, 5'000);
  o.latency_tail_ratio = maybe_one_in(r, 20, 1'000);
  o.latency_tail_us = o.latency_tail_ratio.numerator == 0 ? 0 : pick_us(r, 10'000, 500'000);
  o.stall_ratio = maybe_one_in(r, 50, 2'000);
  o.stall_us = o.stall_ratio.numerator == 0 ? 0 : pick_us(r, 10'000, 2'000'000);
  o.reset_ratio = maybe_one_in(r, 200, 20'000);
  o.half_open_ratio = maybe_one_in(r, 500, 50'000);
  o.connect_refused_ratio = maybe_one_in(r, 5, 100);
  o.partition_break_ratio = r.chance(1, 2) ? Ratio{0, 1} : Ratio{r.between(1, 4), 4};
  o.tcp_timeout_us = pick_us(r, 200'000, 5'000'000);
  o.callback_exceptions = maybe_one_in(r, 100, 10'000);
  o.buggify = r.chance(1, 2);
  return o;
}

std::string describe(const SimulationOptions& o) {
  std::string s;
  auto add = [&s](const char* name, const std::string& value) {
    if (!s.empty()) s += ' ';
    s += name;
    s += '=';
    s += value;
  };
  add("latency_us", std::to_string(o.latency_us));
  add("latency_jitter_us", std::to_string(o.latency_jitter_us));
  add("latency_tail_ratio", ratio_text(o.latency_tail_ratio));
  add("latency_tail_us", std::to_string(o.latency_tail_us));
  add("stall_ratio", ratio_text(o.stall_ratio));
  add("stall_us", std::to_string(o.stall_us));
  add("reset_ratio", ratio_text(o.reset_ratio));
  add("half_open_ratio", ratio_text(o.half_open_ratio));
  add("connect_refused_ratio", ratio_text(o.connect_refused_ratio));
  add("partition_break_ratio", ratio_text(o.partition_break_ratio));
  add("tcp_timeout_us", std::to_string(o.tcp_timeout_us));
  add("callback_exceptions", ratio_text(o.callback_exceptions));
  add("buggify", o.buggify ? "on" : "off");
  add("buggify_site_ratio", ratio_text(o.buggify_site_ratio));
  add("buggify_fire_ratio", ratio_text(o.buggify_fire_ratio));
  return s;
}

}  // namespace cineyma::sim
