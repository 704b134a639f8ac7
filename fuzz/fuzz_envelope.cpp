// libFuzzer target: envelope decoding (DESIGN §5 layer 4).
//
// Checks: decoding never crashes; whatever decodes is valid, re-encodes, and decodes to the
// same envelope (the codec is a bijection on what it accepts).
#include <cineyma/remote/envelope.hpp>

#include <cineyma/assert.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cineyma::remote;
  auto decoded = decode_envelope({reinterpret_cast<const std::byte*>(data), size});
  if (!decoded) {
    CINEYMA_ASSERT(decoded.is(cineyma::Errc::decode_error));
    return 0;
  }
  CINEYMA_ASSERT(envelope_problem(*decoded) == nullptr);
  const std::string again = encode_envelope(*decoded);
  auto twice = decode_envelope(std::as_bytes(std::span<const char>(again.data(), again.size())));
  CINEYMA_ASSERT(twice.has_value());
  CINEYMA_ASSERT(*twice == *decoded);
  return 0;
}
