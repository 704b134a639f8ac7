// libFuzzer target: the gossip decoder (src/cluster/codec.cpp) and the engine behind it.
//
// Input: the bytes of one gossip message as they would come off the cluster port. Checks:
// nothing crashes or over-allocates; whatever decodes re-encodes to the very same bytes (the
// format has one encoding per message) and passes `validate`; and a GossipEngine accepts it
// (or refuses a message claiming its own id) without breaking its own invariants: it still
// holds its authoritative self entry, and its reply, if any, is itself a valid message.
#include <cineyma/cluster/codec.hpp>
#include <cineyma/cluster/gossip_engine.hpp>

#include <cineyma/assert.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cineyma::cluster;
  const std::span<const std::uint8_t> bytes(data, size);
  cineyma::Result<GossipMessage> decoded = decode_gossip(bytes);
  if (!decoded) {
    CINEYMA_ASSERT(decoded.is(cineyma::Errc::decode_error));
    return 0;
  }
  const GossipMessage& message = *decoded;
  CINEYMA_ASSERT(validate(message).has_value());
  const std::vector<std::uint8_t> again = encode_gossip(message);
  CINEYMA_ASSERT(again.size() == size);
  CINEYMA_ASSERT(std::equal(again.begin(), again.end(), data));

  GossipConfig config;
  config.node_id = "a";  // short ids, so that the fuzzer finds messages about "us"
  config.endpoint = "a:1";
  const cineyma::TimePoint t0{};
  GossipEngine engine(config, t0);
  cineyma::Prng random(size);
  static_cast<void>(engine.register_actor("x", "X"));
  static_cast<void>(engine.tick(t0 + std::chrono::seconds(1), random));
  const MemberEntry before = engine.self();
  cineyma::Result<Effects> fx = engine.on_message(message, t0 + std::chrono::seconds(2));
  if (!fx) {
    // Refused only when it claims our id or carries our entry at the counter limit.
    CINEYMA_ASSERT(fx.is(cineyma::Errc::invalid_argument));
    bool ours_at_limit = false;
    for (const MemberEntry& m : message.members) {
      ours_at_limit = ours_at_limit || (m.node == config.node_id &&
                                        m.incarnation >= GossipLimits::max_counter - 1);
    }
    CINEYMA_ASSERT(message.from == config.node_id || ours_at_limit);
    CINEYMA_ASSERT(engine.self() == before);
    return 0;
  }
  CINEYMA_ASSERT(*engine.membership().find("a") == engine.self());
  CINEYMA_ASSERT(engine.self().epoch >= before.epoch);
  CINEYMA_ASSERT(engine.self().status == MemberStatus::up);
  for (const Outgoing& out : fx->send) {
    CINEYMA_ASSERT(validate(*out.message).has_value());
    CINEYMA_ASSERT(decode_gossip(encode_gossip(*out.message)).has_value());
  }
  static_cast<void>(engine.tick(t0 + std::chrono::seconds(20), random));
  return 0;
}
