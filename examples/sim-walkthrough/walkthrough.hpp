// examples/sim-walkthrough/walkthrough.hpp — the distributed-kv cluster in the simulator.
//
// Three simulated processes run the very same kv::KvNode (actors, cluster node, command
// language) as `distributed-kv`; a script types commands into their sessions and injects a
// partition, a heal, a crash of the store's node and a restart. Everything happens in virtual
// time on one thread, so one seed gives one run: the same timeline, the same trace hash.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace walkthrough {

struct Report {
  bool ok = false;                    ///< every check of the story held
  std::vector<std::string> failures;  ///< the checks that did not
  std::uint64_t events = 0;           ///< simulation events run
  std::uint64_t trace_hash = 0;       ///< same seed => same hash
  std::string trace_error;            ///< why the trace file could not be written (if asked)
};

/// Runs the story with `seed`, printing its timeline line by line through `print`. With a
/// non-empty `trace_path`, records every event and writes a Chrome/Perfetto trace there.
Report run(std::uint64_t seed, const std::string& trace_path,
           const std::function<void(std::string_view)>& print);

}  // namespace walkthrough
