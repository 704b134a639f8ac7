// examples/chat/chat_sim.hpp — the chat server inside the deterministic simulator.
//
// A scripted session: a "server" node runs the very same ChatServer as `chat --port N`, and
// scripted clients on a "clients" node talk to it over the simulated network — joining,
// chatting, renaming, listing, sending an overlong line, a session that crashes (an injected
// fault: the room carries on), /quit and end of input. Everything runs in virtual time on one
// thread, so one seed gives one run: same transcript, same trace hash.
//
// (What the simulator does not model here is TCP flow control: a simulated write completes
// at once, so a client that never reads cannot be detected through the simulated network.
// The slow-client cut-off is tested on real sockets, tests/integration/chat_test.cpp.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

/// What a simulated run produced.
struct SimReport {
  /// Every scripted expectation was met (each within a deadline of virtual time).
  bool ok = false;
  /// The first expectation that was not met (empty when ok).
  std::string failure;
  /// What the clients sent and received, in order: "alice > text", "bob   < line".
  std::vector<std::string> transcript;
  /// Simulation events run, and the hash of their trace (same seed => same values).
  std::uint64_t events = 0;
  std::uint64_t trace_hash = 0;
};

/// Runs the scripted session with `seed`. `print`, if set, receives each transcript line and
/// each server log line as it happens (on the calling thread).
SimReport run_simulated_chat(std::uint64_t seed,
                             const std::function<void(std::string_view)>& print = {});

}  // namespace chat
