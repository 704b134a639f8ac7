// libFuzzer target: envelope decoding (DESIGN §5 layer 4).
//
// Checks: decoding never crashes; whatever decodes is valid, re-encodes, and decodes to the
// same envelope (the codec is a bijection on what it accepts); and the hand-written decoder
// agrees with protobuf's generated parser on every input — both refuse it, or both accept it
// with the same fields (envelope_reference.hpp).
#include <cineyma/remote/envelope.hpp>

#include <cineyma/assert.hpp>

#include "envelope_reference.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cineyma::remote;
  auto decoded = decode_envelope({reinterpret_cast<const std::byte*>(data), size});
  const auto reference = cineyma_fuzz::reference_decode(data, size);
  CINEYMA_ASSERT_MSG(decoded.has_value() == reference.has_value(),
                     "the envelope decoder and protobuf's parser disagree on accepting");
  if (!decoded) {
    CINEYMA_ASSERT(decoded.is(cineyma::Errc::decode_error));
    return 0;
  }
  CINEYMA_ASSERT_MSG(*decoded == *reference,
                     "the envelope decoder and protobuf's parser decode differently");
  CINEYMA_ASSERT(envelope_problem(*decoded) == nullptr);
  const std::string again = encode_envelope(*decoded);
  auto twice = decode_envelope(std::as_bytes(std::span<const char>(again.data(), again.size())));
  CINEYMA_ASSERT(twice.has_value());
  CINEYMA_ASSERT(*twice == *decoded);
  return 0;
}
