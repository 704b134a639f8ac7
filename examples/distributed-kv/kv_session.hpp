// examples/distributed-kv/kv_session.hpp — runs the commands of kv_commands.hpp on a KvNode
// and returns the lines to print. Used by the REPL of `distributed-kv` and, unchanged, by
// `sim-walkthrough` (where every blocking call drives the simulation instead).
//
// Threading: one session per thread; never from an actor (commands block).
#pragma once

#include "kv_commands.hpp"
#include "kv_node.hpp"

#include <cineyma/env/environment.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

/// What one command printed.
struct Outcome {
  std::vector<std::string> lines;
  bool quit = false;    ///< `quit` / `exit`: the caller leaves the cluster and exits
  bool failed = false;  ///< a wait-* command ran out of time (scripts exit non-zero then)
};

/// Blocks until `done()` holds (checked at once and then every few milliseconds of `env`'s
/// clock) or `deadline` has passed on it; returns `done()`. Under simulation it drives the
/// simulation meanwhile. Not from an actor.
bool wait_until(cineyma::Environment& env, const std::function<bool()>& done,
                cineyma::Duration deadline);

class Session {
 public:
  explicit Session(KvNode& node) : node_(node) {}

  Outcome run(const Command& command);
  Outcome run_line(std::string_view line) { return run(parse_command(line)); }

 private:
  Outcome wait_members(const Command& c);
  Outcome wait_status(const Command& c);
  Outcome wait_store(const Command& c);

  KvNode& node_;
};

}  // namespace kv
