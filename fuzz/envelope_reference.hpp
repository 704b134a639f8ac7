// fuzz/envelope_reference.hpp — the reference the envelope decoder is checked against:
// protobuf's generated parser followed by the checks `decode_envelope` makes (what the
// library decoded with before it read the wire format by hand). Used by the envelope fuzz
// target and by tests/remote/envelope_test.cpp; needs the generated schema's include path.
#pragma once

#include <cineyma/remote/envelope.hpp>

#include "cineyma/v1/wire.pb.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace cineyma_fuzz {

/// nullopt: refused.
inline std::optional<cineyma::remote::Envelope> reference_decode(const std::uint8_t* data,
                                                                 std::size_t size) {
  using namespace cineyma::remote;
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) return std::nullopt;
  cineyma::v1::Envelope proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return std::nullopt;
  const int kind = proto.kind();
  if (kind < static_cast<int>(EnvelopeKind::request) ||
      kind > static_cast<int>(EnvelopeKind::pong)) {
    return std::nullopt;
  }
  const bool is_error = kind == static_cast<int>(EnvelopeKind::error);
  if (is_error != (proto.error_code() != 0)) return std::nullopt;
  Envelope e;
  e.message_type = proto.message_type();
  e.payload = proto.payload();
  e.correlation_id = proto.correlation_id();
  e.sender_node = proto.sender_node();
  e.target_actor = proto.target_actor();
  e.kind = static_cast<EnvelopeKind>(kind);
  e.error_code = is_error ? errc_from_wire(proto.error_code()) : cineyma::Errc::ok;
  e.error_text = proto.error_text();
  if (envelope_problem(e) != nullptr) return std::nullopt;
  return e;
}

}  // namespace cineyma_fuzz
