// examples/sim-walkthrough — the distributed-kv cluster (the same actor code) in the
// deterministic simulator: three nodes, a partition, a heal, a crash of the store's node and
// a restart, narrated in virtual time.
//
//   sim-walkthrough [--seed S] [--trace FILE | --no-trace]
//
// Prints the seed first, then the timeline, the trace hash, the command that replays the run,
// and the path of the Chrome/Perfetto trace (default sim-walkthrough-<seed>.json in the
// current directory). Same seed, same output. Exits 0 only if every check of the story held.
#include "walkthrough.hpp"

#include <charconv>
#include <cstdlib>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <string_view>

namespace {

int usage() {
  std::cerr << "usage: sim-walkthrough [--seed S] [--trace FILE | --no-trace]\n";
  return 2;
}

bool parse_seed(std::string_view s, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 0;
  bool seed_given = false;
  std::string trace;
  bool trace_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--seed" && i + 1 < argc) {
      if (!parse_seed(argv[++i], seed)) return usage();
      seed_given = true;
    } else if (a == "--trace" && i + 1 < argc) {
      trace = argv[++i];
      trace_given = true;
    } else if (a == "--no-trace") {
      trace.clear();
      trace_given = true;
    } else {
      return usage();
    }
  }
  // The timeline is the story; the library's own log lines (stderr) would repeat it with
  // their own stamps. CINEYMA_LOG_LEVEL=info shows them.
  setenv("CINEYMA_LOG_LEVEL", "off", 0);
  if (!seed_given) {
    // A fresh run when none is asked for; the seed printed below replays it.
    std::random_device entropy;  // tidy: allow choosing the seed of an unseeded run
    seed = (static_cast<std::uint64_t>(entropy()) << 32) | entropy();
  }
  if (!trace_given) trace = "sim-walkthrough-" + std::to_string(seed) + ".json";

  std::cout << "seed: " << seed << std::endl;
  const walkthrough::Report report = walkthrough::run(
      seed, trace, [](std::string_view line) { std::cout << line << '\n'; });
  std::cout << "\nsimulation: " << report.events << " events, trace hash " << report.trace_hash
            << "\n";
  std::cout << "replay: sim-walkthrough --seed " << seed << "\n";
  if (!trace.empty()) {
    if (report.trace_error.empty()) {
      std::cout << "trace: " << trace << " (open it in ui.perfetto.dev or chrome://tracing)\n";
    } else {
      std::cout << "trace: could not write " << trace << ": " << report.trace_error << "\n";
    }
  }
  if (!report.ok) {
    std::cout << "FAILED: " << report.failures.size() << " check(s) did not hold:\n";
    for (const auto& f : report.failures) std::cout << "  " << f << "\n";
    return 1;
  }
  std::cout << "all checks held\n";
  return 0;
}
