// The chat example inside the simulator (examples/chat/chat_sim.cpp): the scripted session —
// join, chat, rename, list, overlong line, a session that fails under an injected fault while
// the room carries on, /quit, end of input — passes for several seeds, and one seed replays
// exactly.
#include "chat_sim.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace {

std::string dump(const chat::SimReport& r) {
  std::string s = "failure: " + r.failure + "\n";
  for (const std::string& l : r.transcript) s += "  " + l + "\n";
  return s;
}

}  // namespace

TEST_CASE("chat sim: the scripted session passes for several seeds") {
  for (std::uint64_t seed : {1ULL, 7ULL, 42ULL, 0xdeadbeefULL}) {
    INFO("seed " << seed);
    const chat::SimReport r = chat::run_simulated_chat(seed);
    INFO(dump(r));
    CHECK(r.ok);
    CHECK(r.events > 0);
  }
}

TEST_CASE("chat sim: the same seed gives the same transcript and trace") {
  const chat::SimReport a = chat::run_simulated_chat(7);
  const chat::SimReport b = chat::run_simulated_chat(7);
  REQUIRE(a.ok);
  CHECK(a.transcript == b.transcript);
  CHECK(a.events == b.events);
  CHECK(a.trace_hash == b.trace_hash);
}
