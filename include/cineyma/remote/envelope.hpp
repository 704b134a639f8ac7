// cineyma/remote/envelope.hpp — the envelope codec (DESIGN §5, layer 4).
//
// `Envelope` is the C++ view of `cineyma.v1.Envelope` (proto/cineyma/v1/wire.proto): one actor
// message or its answer. `encode_envelope` / `decode_envelope` convert it to and from a frame
// body. Decoding is the boundary where untrusted bytes become values, so it checks more than
// protobuf does: the kind must be known, a request must carry a correlation id and a target,
// an error must carry a code, and every name must be shorter than `kMaxNameBytes`. Anything
// else is `Errc::decode_error`, never an assertion or an exception.
//
// Threading: plain values and pure functions; safe from any thread.
#pragma once

#include <cineyma/error.hpp>
#include <cineyma/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace cineyma::remote {

/// What an envelope is for (values as on the wire).
enum class EnvelopeKind : std::uint8_t {
  request = 1,   ///< expects one response or error with the same correlation id
  response = 2,  ///< the successful answer to a request
  one_way = 3,   ///< never answered
  error = 4,     ///< the failed answer to a request
  ping = 5,      ///< liveness probe, answered by the connection itself (not an actor)
  pong = 6,      ///< the answer to a ping
};

/// Short name of a kind ("request", ...).
const char* to_string(EnvelopeKind k) noexcept;

/// Longest message type, node id or actor name accepted on the wire.
inline constexpr std::size_t kMaxNameBytes = 1024;

/// One message on the wire (see the file comment and wire.proto for each field).
struct Envelope {
  std::string message_type;  ///< protobuf full name of the payload type
  std::string payload;       ///< protobuf-encoded payload
  std::uint64_t correlation_id = 0;
  std::string sender_node;
  std::string target_actor;
  EnvelopeKind kind = EnvelopeKind::request;
  Errc error_code = Errc::ok;  ///< for `error` only
  std::string error_text;      ///< for `error` only

  friend bool operator==(const Envelope&, const Envelope&) = default;
};

/// Encodes `e` as a frame body (protobuf). `e` must be valid in the sense of `decode_envelope`
/// (assertion: we never put on the wire what we would refuse to read).
std::string encode_envelope(const Envelope& e);

/// Appends `e` as one complete frame (header + body) to `out`; `frame_too_large` if the body
/// exceeds `max_frame_bytes` (nothing appended).
Result<void> append_envelope_frame(std::string& out, const Envelope& e,
                                   std::size_t max_frame_bytes);

/// Decodes and validates a frame body; `decode_error` when the bytes are not a valid envelope.
Result<Envelope> decode_envelope(std::span<const std::byte> body);

/// Why `e` would be refused by `decode_envelope`, or nullptr when it is valid.
const char* envelope_problem(const Envelope& e) noexcept;

/// The `Errc` carried by an error envelope, mapped so that codes this build does not know
/// become `Errc::handler_failed` (a newer peer's code must not become "success").
Errc errc_from_wire(std::uint32_t code) noexcept;

}  // namespace cineyma::remote
