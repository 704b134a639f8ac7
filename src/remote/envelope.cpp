// src/remote/envelope.cpp — the envelope codec (the contract is in envelope.hpp).
#include <cineyma/remote/envelope.hpp>

#include <cineyma/assert.hpp>
#include <cineyma/remote/framing.hpp>

#include "cineyma/v1/wire.pb.h"

#include <limits>

namespace cineyma::remote {

namespace {

namespace pb = ::cineyma::v1;

// The last Errc this build knows; codes above it come from a newer peer.
constexpr std::uint32_t kLastKnownErrc = static_cast<std::uint32_t>(Errc::already_exists);

void to_proto(const Envelope& e, pb::Envelope& out) {
  out.set_message_type(e.message_type);
  out.set_payload(e.payload);
  out.set_correlation_id(e.correlation_id);
  out.set_sender_node(e.sender_node);
  out.set_target_actor(e.target_actor);
  out.set_kind(static_cast<pb::Kind>(e.kind));
  out.set_error_code(static_cast<std::uint32_t>(e.error_code));
  out.set_error_text(e.error_text);
}

}  // namespace

const char* to_string(EnvelopeKind k) noexcept {
  switch (k) {
    case EnvelopeKind::request: return "request";
    case EnvelopeKind::response: return "response";
    case EnvelopeKind::one_way: return "one_way";
    case EnvelopeKind::error: return "error";
  }
  return "invalid";
}

const char* envelope_problem(const Envelope& e) noexcept {
  switch (e.kind) {
    case EnvelopeKind::request:
    case EnvelopeKind::response:
    case EnvelopeKind::one_way:
    case EnvelopeKind::error:
      break;
    default:
      return "unknown kind";
  }
  if (e.message_type.size() > kMaxNameBytes) return "message type too long";
  if (e.sender_node.size() > kMaxNameBytes) return "sender node too long";
  if (e.target_actor.size() > kMaxNameBytes) return "target actor too long";
  if (e.error_text.size() > kMaxNameBytes * 4) return "error text too long";
  const bool answer = e.kind == EnvelopeKind::response || e.kind == EnvelopeKind::error;
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
  pb::Envelope proto;
  to_proto(e, proto);
  return proto.SerializeAsString();
}

Result<void> append_envelope_frame(std::string& out, const Envelope& e,
                                   std::size_t max_frame_bytes) {
  CINEYMA_ASSERT_MSG(envelope_problem(e) == nullptr, "encoding an invalid envelope");
  pb::Envelope proto;
  to_proto(e, proto);
  const std::size_t size = proto.ByteSizeLong();
  if (size > max_frame_bytes) return fail(Errc::frame_too_large);
  // Serialize straight behind the header: one copy of the payload, not two.
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderBytes + size);
  auto* base = reinterpret_cast<std::byte*>(out.data() + at);
  encode_frame_header(static_cast<std::uint32_t>(size), base);
  const bool written = proto.SerializeToArray(base + kFrameHeaderBytes, static_cast<int>(size));
  CINEYMA_ASSERT(written);
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
      kind > static_cast<int>(EnvelopeKind::error)) {
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
