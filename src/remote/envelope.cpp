// src/remote/envelope.cpp — the envelope codec (the contract is in envelope.hpp).
#include <cineyma/remote/envelope.hpp>

#include <cineyma/assert.hpp>
#include <cineyma/remote/framing.hpp>

#include "cineyma/v1/wire.pb.h"

#include <cstring>
#include <limits>

namespace cineyma::remote {

namespace {

namespace pb = ::cineyma::v1;

// The last Errc this build knows; codes above it come from a newer peer.
constexpr std::uint32_t kLastKnownErrc = static_cast<std::uint32_t>(Errc::already_exists);

// The encoder writes protobuf's wire format by hand, byte for byte what the generated
// SerializeToString would write (fields in number order, proto3 defaults omitted; a unit test
// compares the two): building a generated message first would copy every string once more,
// which is most of the cost of a small envelope. Decoding stays with the generated parser.
constexpr std::uint32_t kWireVarint = 0;
constexpr std::uint32_t kWireBytes = 2;

std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* put_varint(char* out, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *out++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

std::size_t bytes_field_size(std::uint32_t field, const std::string& value) noexcept {
  if (value.empty()) return 0;
  return varint_size(field << 3 | kWireBytes) + varint_size(value.size()) + value.size();
}

std::size_t varint_field_size(std::uint32_t field, std::uint64_t value) noexcept {
  if (value == 0) return 0;
  return varint_size(field << 3 | kWireVarint) + varint_size(value);
}

char* put_bytes_field(char* out, std::uint32_t field, const std::string& value) noexcept {
  if (value.empty()) return out;
  out = put_varint(out, field << 3 | kWireBytes);
  out = put_varint(out, value.size());
  std::memcpy(out, value.data(), value.size());
  return out + value.size();
}

char* put_varint_field(char* out, std::uint32_t field, std::uint64_t value) noexcept {
  if (value == 0) return out;
  out = put_varint(out, field << 3 | kWireVarint);
  return put_varint(out, value);
}

std::size_t encoded_size(const Envelope& e) noexcept {
  return bytes_field_size(1, e.message_type) + bytes_field_size(2, e.payload) +
         varint_field_size(3, e.correlation_id) + bytes_field_size(4, e.sender_node) +
         bytes_field_size(5, e.target_actor) +
         varint_field_size(6, static_cast<std::uint64_t>(e.kind)) +
         varint_field_size(7, static_cast<std::uint64_t>(e.error_code)) +
         bytes_field_size(8, e.error_text);
}

char* encode_into(char* out, const Envelope& e) noexcept {
  out = put_bytes_field(out, 1, e.message_type);
  out = put_bytes_field(out, 2, e.payload);
  out = put_varint_field(out, 3, e.correlation_id);
  out = put_bytes_field(out, 4, e.sender_node);
  out = put_bytes_field(out, 5, e.target_actor);
  out = put_varint_field(out, 6, static_cast<std::uint64_t>(e.kind));
  out = put_varint_field(out, 7, static_cast<std::uint64_t>(e.error_code));
  return put_bytes_field(out, 8, e.error_text);
}

}  // namespace

const char* to_string(EnvelopeKind k) noexcept {
  switch (k) {
    case EnvelopeKind::request: return "request";
    case EnvelopeKind::response: return "response";
    case EnvelopeKind::one_way: return "one_way";
    case EnvelopeKind::error: return "error";
    case EnvelopeKind::ping: return "ping";
    case EnvelopeKind::pong: return "pong";
  }
  return "invalid";
}

const char* envelope_problem(const Envelope& e) noexcept {
  switch (e.kind) {
    case EnvelopeKind::request:
    case EnvelopeKind::response:
    case EnvelopeKind::one_way:
    case EnvelopeKind::error:
    case EnvelopeKind::ping:
    case EnvelopeKind::pong:
      break;
    default:
      return "unknown kind";
  }
  if (e.message_type.size() > kMaxNameBytes) return "message type too long";
  if (e.sender_node.size() > kMaxNameBytes) return "sender node too long";
  if (e.target_actor.size() > kMaxNameBytes) return "target actor too long";
  if (e.error_text.size() > kMaxNameBytes * 4) return "error text too long";
  const bool answer = e.kind == EnvelopeKind::response || e.kind == EnvelopeKind::error;
  if (e.kind == EnvelopeKind::ping || e.kind == EnvelopeKind::pong) {
    // Connection-level: a correlation id, nothing else.
    if (e.correlation_id == 0) return "ping or pong without a correlation id";
    if (!e.message_type.empty() || !e.payload.empty() || !e.target_actor.empty()) {
      return "ping or pong with a message";
    }
    if (e.error_code != Errc::ok) return "error code on a ping or pong";
    return nullptr;
  }
  // Requests and answers are matched by correlation id; 0 is reserved for "none".
  if ((e.kind == EnvelopeKind::request || answer) && e.correlation_id == 0) {
    return "request or answer without a correlation id";
  }
  if (e.kind == EnvelopeKind::one_way && e.correlation_id != 0) {
    return "one-way message with a correlation id";
  }
  if (!answer && e.message_type.empty()) return "request without a message type";
  if (e.kind == EnvelopeKind::error && e.error_code == Errc::ok) return "error without a code";
  if (e.kind != EnvelopeKind::error && e.error_code != Errc::ok) {
    return "error code on a non-error envelope";
  }
  return nullptr;
}

Errc errc_from_wire(std::uint32_t code) noexcept {
  if (code == 0 || code > kLastKnownErrc) return Errc::handler_failed;
  return static_cast<Errc>(code);
}

std::string encode_envelope(const Envelope& e) {
  CINEYMA_ASSERT_MSG(envelope_problem(e) == nullptr, "encoding an invalid envelope");
  std::string out(encoded_size(e), '\0');
  char* end = encode_into(out.data(), e);
  CINEYMA_ASSERT(end == out.data() + out.size());
  return out;
}

Result<void> append_envelope_frame(std::string& out, const Envelope& e,
                                   std::size_t max_frame_bytes) {
  CINEYMA_ASSERT_MSG(envelope_problem(e) == nullptr, "encoding an invalid envelope");
  const std::size_t size = encoded_size(e);
  if (size > max_frame_bytes) return fail(Errc::frame_too_large);
  // Encoded straight behind the header: the payload is copied once, into the frame.
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderBytes + size);
  encode_frame_header(static_cast<std::uint32_t>(size),
                      reinterpret_cast<std::byte*>(out.data() + at));
  char* end = encode_into(out.data() + at + kFrameHeaderBytes, e);
  CINEYMA_ASSERT(end == out.data() + out.size());
  return ok();
}

Result<Envelope> decode_envelope(std::span<const std::byte> body) {
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(Errc::decode_error);
  }
  pb::Envelope proto;
  if (!proto.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return fail(Errc::decode_error);
  }
  const int kind = proto.kind();
  if (kind < static_cast<int>(EnvelopeKind::request) ||
      kind > static_cast<int>(EnvelopeKind::pong)) {
    return fail(Errc::decode_error);
  }
  // An error must say which; anything else must not carry a code at all.
  const bool is_error = kind == static_cast<int>(EnvelopeKind::error);
  if (is_error != (proto.error_code() != 0)) return fail(Errc::decode_error);
  Envelope e;
  e.message_type = std::move(*proto.mutable_message_type());
  e.payload = std::move(*proto.mutable_payload());
  e.correlation_id = proto.correlation_id();
  e.sender_node = std::move(*proto.mutable_sender_node());
  e.target_actor = std::move(*proto.mutable_target_actor());
  e.kind = static_cast<EnvelopeKind>(kind);
  e.error_code = is_error ? errc_from_wire(proto.error_code()) : Errc::ok;
  e.error_text = std::move(*proto.mutable_error_text());
  if (envelope_problem(e) != nullptr) return fail(Errc::decode_error);
  return e;
}

}  // namespace cineyma::remote
