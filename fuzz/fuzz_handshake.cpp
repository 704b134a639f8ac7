// libFuzzer target: the handshake state machine (DESIGN §5 layer 3), both roles.
//
// Input: byte 0 picks the role and whether a secret is configured, the rest is a stream of
// frames (4-byte length + body) fed to the handshake as if from the peer. Checks: nothing
// crashes; a failure is final; and a side with a secret never completes: completing needs an
// HMAC-SHA256 proof keyed with a secret that appears nowhere in the input, so completion would
// mean an authentication bypass.
#include <cineyma/remote/framing.hpp>
#include <cineyma/remote/handshake.hpp>

#include <cineyma/assert.hpp>
#include <cineyma/env/random.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cineyma::remote;
  if (size < 1) return 0;
  const bool server = (data[0] & 1) != 0;
  const bool with_secret = (data[0] & 2) != 0;
  HandshakeOptions options;
  options.node_id = server ? "fuzz-server" : "fuzz-client";
  options.cluster_name = "fuzz";
  if (with_secret) options.secret = "fuzz-secret";
  cineyma::Prng random(data[0]);
  Handshake handshake(server ? Handshake::Role::server : Handshake::Role::client, options,
                      random, cineyma::Endpoint{(data[0] & 4) ? "127.0.0.1" : "10.0.0.1", 1234});
  (void)handshake.start();

  FrameDecoder frames(1 << 16);
  frames.feed({reinterpret_cast<const std::byte*>(data + 1), size - 1});
  for (;;) {
    auto frame = frames.next_frame();
    if (!frame || !*frame) break;
    Handshake::Step step = handshake.on_frame(**frame);
    CINEYMA_ASSERT(step.send.size() <= kDefaultMaxFrameBytes);
    if (step.error) {
      CINEYMA_ASSERT(handshake.failed());
      CINEYMA_ASSERT(!step.complete);
    }
    if (step.complete) {
      CINEYMA_ASSERT(!with_secret);
      CINEYMA_ASSERT(handshake.complete());
    }
  }
  return 0;
}
