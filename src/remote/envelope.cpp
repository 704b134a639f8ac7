// src/remote/envelope.cpp — the envelope codec (the contract is in envelope.hpp).
#include <cineyma/remote/envelope.hpp>

#include <cineyma/assert.hpp>
#include <cineyma/remote/framing.hpp>

#include <cstring>
#include <limits>

namespace cineyma::remote {

namespace {

// The last Errc this build knows; codes above it come from a newer peer.
constexpr std::uint32_t kLastKnownErrc = static_cast<std::uint32_t>(Errc::already_exists);

// The encoder writes protobuf's wire format by hand, byte for byte what the generated
// SerializeToString would write (fields in number order, proto3 defaults omitted; a unit test
// compares the two): building a generated message first would copy every string once more,
// which is most of the cost of a small envelope. The decoder below reads it by hand too.
constexpr std::uint32_t kWireVarint = 0;
constexpr std::uint32_t kWireFixed64 = 1;
constexpr std::uint32_t kWireBytes = 2;
constexpr std::uint32_t kWireStartGroup = 3;
constexpr std::uint32_t kWireEndGroup = 4;
constexpr std::uint32_t kWireFixed32 = 5;

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

namespace {

/// Reads protobuf's wire format the way protobuf 3.21's generated parser does, for the one
/// flat message we decode on every frame. Why not the generated parser: it builds a
/// `pb::Envelope` whose strings are heap objects of their own, which we then move out of and
/// destroy — in a pipelined profile a third of all allocations. Reading straight into
/// `Envelope` costs one allocation per long field and nothing else.
///
/// What it accepts is exactly what `pb::Envelope::ParseFromArray` accepts, with the same
/// result (the envelope fuzz target checks the two against each other on every input):
/// fields in any order and repeated (the last one wins), unknown fields of every wire type
/// skipped — groups too, nested up to protobuf's recursion limit of 100 — a known field with
/// an unexpected wire type skipped as unknown, varints of up to 10 bytes (tags and lengths
/// up to 5) truncated to their field's width, and anything else — a truncated field, field
/// number 0, a stray end-group or zero tag, wire types 6 and 7 — refused.
class WireReader {
 public:
  explicit WireReader(std::span<const std::byte> body) noexcept
      : p_(reinterpret_cast<const unsigned char*>(body.data())), end_(p_ + body.size()) {}

  bool at_end() const noexcept { return p_ == end_; }

  static constexpr int kMaxVarintBytes = 10;

  /// A varint of at most `max_bytes` bytes; bits beyond 64 are dropped, as protobuf does.
  bool varint(std::uint64_t& out, int max_bytes = kMaxVarintBytes) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < max_bytes; ++i) {
      if (p_ == end_) return false;
      const std::uint64_t b = *p_++;
      v |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        out = v;
        return true;
      }
    }
    return false;
  }

  bool tag(std::uint32_t& out) noexcept {
    std::uint64_t v = 0;
    if (!varint(v, kMaxTagBytes)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
  }

  /// A length-delimited field's bytes (after its tag).
  bool bytes(std::string& into) noexcept {
    const unsigned char* at = nullptr;
    std::size_t n = 0;
    if (!length_delimited(at, n)) return false;
    into.assign(reinterpret_cast<const char*>(at), n);
    return true;
  }

  /// Skips the field that `tag` starts (an unknown one). `depth`: enclosing groups.
  bool skip(std::uint32_t tag, int depth) noexcept {
    if ((tag >> 3) == 0) return false;
    switch (tag & 7) {
      case kWireVarint: {
        std::uint64_t ignored = 0;
        return varint(ignored);
      }
      case kWireFixed64:
        return advance(8);
      case kWireBytes: {
        const unsigned char* at = nullptr;
        std::size_t n = 0;
        return length_delimited(at, n);
      }
      case kWireStartGroup:
        if (depth >= kMaxGroupDepth) return false;
        for (;;) {
          std::uint32_t inner = 0;
          if (!this->tag(inner) || inner == 0) return false;
          if ((inner & 7) == kWireEndGroup) return inner == tag + 1;  // same field number
          if (!skip(inner, depth + 1)) return false;
        }
      case kWireFixed32:
        return advance(4);
      default:  // an end group with no start (the callers catch it first), 6, 7
        return false;
    }
  }

 private:
  static constexpr int kMaxTagBytes = 5;
  static constexpr int kMaxGroupDepth = 100;  // protobuf's default recursion limit

  bool advance(std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  bool length_delimited(const unsigned char*& at, std::size_t& n) noexcept {
    std::uint64_t size = 0;
    if (!varint(size, kMaxTagBytes)) return false;
    if (size > static_cast<std::uint64_t>(end_ - p_)) return false;
    at = p_;
    n = static_cast<std::size_t>(size);
    p_ += n;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* const end_;
};

constexpr std::uint32_t wire_tag(std::uint32_t field, std::uint32_t wire_type) noexcept {
  return field << 3 | wire_type;
}

}  // namespace

Result<Envelope> decode_envelope(std::span<const std::byte> body) {
  if (body.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail(Errc::decode_error);
  }
  Envelope e;
  std::int32_t kind = 0;
  std::uint32_t error_code = 0;
  WireReader in(body);
  while (!in.at_end()) {
    std::uint32_t tag = 0;
    if (!in.tag(tag)) return fail(Errc::decode_error);
    bool ok = true;
    std::uint64_t v = 0;
    switch (tag) {
      case wire_tag(1, kWireBytes): ok = in.bytes(e.message_type); break;
      case wire_tag(2, kWireBytes): ok = in.bytes(e.payload); break;
      case wire_tag(3, kWireVarint): ok = in.varint(e.correlation_id); break;
      case wire_tag(4, kWireBytes): ok = in.bytes(e.sender_node); break;
      case wire_tag(5, kWireBytes): ok = in.bytes(e.target_actor); break;
      case wire_tag(6, kWireVarint):
        // An open enum: protobuf keeps the low 32 bits as an int32.
        ok = in.varint(v);
        kind = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
        break;
      case wire_tag(7, kWireVarint):
        ok = in.varint(v);
        error_code = static_cast<std::uint32_t>(v);
        break;
      case wire_tag(8, kWireBytes): ok = in.bytes(e.error_text); break;
      default:
        // A zero tag or an end group ends a message early, which the parser of a whole
        // buffer refuses; anything else is a field we do not know, skipped.
        ok = tag != 0 && (tag & 7) != kWireEndGroup && in.skip(tag, 0);
        break;
    }
    if (!ok) return fail(Errc::decode_error);
  }
  if (kind < static_cast<std::int32_t>(EnvelopeKind::request) ||
      kind > static_cast<std::int32_t>(EnvelopeKind::pong)) {
    return fail(Errc::decode_error);
  }
  // An error must say which; anything else must not carry a code at all.
  const bool is_error = kind == static_cast<std::int32_t>(EnvelopeKind::error);
  if (is_error != (error_code != 0)) return fail(Errc::decode_error);
  e.kind = static_cast<EnvelopeKind>(kind);
  e.error_code = is_error ? errc_from_wire(error_code) : Errc::ok;
  if (envelope_problem(e) != nullptr) return fail(Errc::decode_error);
  return e;
}

}  // namespace cineyma::remote
