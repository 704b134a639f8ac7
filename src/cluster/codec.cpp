// src/cluster/codec.cpp — gossip message validation and its binary encoding (format in
// codec.hpp). Every read is bounds-checked; nothing is allocated for a length before the bytes
// it promises have been seen to exist.
#include <cineyma/cluster/codec.hpp>

#include <cineyma/assert.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace cineyma::cluster {

namespace {

constexpr std::uint8_t magic0 = 'C';
constexpr std::uint8_t magic1 = 'G';
constexpr std::uint8_t tombstone_flag = 0x01;

// The fewest bytes one member / one record can take: empty strings are invalid, so each string
// costs at least 2 bytes (length + one byte), each varint 1 and each u8 1. Used to reject a
// count that the remaining input cannot possibly hold, before reserving for it.
constexpr std::size_t min_member_bytes = 2 + 2 + 1 + 1 + 1 + 1;
constexpr std::size_t min_record_bytes = 2 + 2 + 1 + 1 + 2 + 1;

bool valid_status(std::uint8_t raw) noexcept { return raw <= 3; }

bool valid_string(const std::string& s, std::size_t max_bytes) noexcept {
  return !s.empty() && s.size() <= max_bytes;
}

// ---- encoding ------------------------------------------------------------------------------

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

void put_string(std::vector<std::uint8_t>& out, const std::string& s) {
  put_varint(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// ---- decoding ------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  std::size_t left() const noexcept { return bytes_.size() - pos_; }

  bool u8(std::uint8_t& v) noexcept {
    if (left() < 1) return false;
    v = bytes_[pos_++];
    return true;
  }

  bool varint(std::uint64_t& v) noexcept {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      std::uint8_t byte = 0;
      if (!u8(byte)) return false;
      // The 10th byte may only contribute the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) return false;
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      // The last byte of a multi-byte varint is never 0: one encoding per value, so a decoded
      // message re-encodes to exactly the bytes it came from.
      if ((byte & 0x80) == 0) return byte != 0 || shift == 0;
    }
    return false;
  }

  bool string(std::string& s, std::size_t max_bytes) {
    std::uint64_t n = 0;
    if (!varint(n)) return false;
    if (n == 0 || n > max_bytes || n > left()) return false;
    const auto* first = bytes_.data() + pos_;
    s.assign(reinterpret_cast<const char*>(first), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

  // A count of items each taking at least `min_item_bytes`: rejects what cannot fit.
  bool count(std::size_t& n, std::size_t max_items, std::size_t min_item_bytes) noexcept {
    std::uint64_t raw = 0;
    if (!varint(raw)) return false;
    if (raw > max_items || raw > left() / min_item_bytes) return false;
    n = static_cast<std::size_t>(raw);
    return true;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

bool read_member(Reader& in, MemberEntry& m) {
  std::uint8_t status = 0;
  if (!in.string(m.node, GossipLimits::max_node_id_bytes)) return false;
  if (!in.string(m.endpoint, GossipLimits::max_endpoint_bytes)) return false;
  if (!in.varint(m.incarnation) || !in.varint(m.epoch) || !in.varint(m.heartbeat)) return false;
  if (!in.u8(status) || !valid_status(status)) return false;
  m.status = static_cast<MemberStatus>(status);
  return true;
}

bool read_record(Reader& in, RegistryRecord& r) {
  std::uint8_t flags = 0;
  if (!in.string(r.name, GossipLimits::max_name_bytes)) return false;
  if (!in.string(r.node, GossipLimits::max_node_id_bytes)) return false;
  if (!in.varint(r.epoch) || !in.varint(r.version)) return false;
  if (!in.string(r.actor_type, GossipLimits::max_actor_type_bytes)) return false;
  if (!in.u8(flags) || (flags & ~tombstone_flag) != 0) return false;
  r.tombstone = (flags & tombstone_flag) != 0;
  return true;
}

bool read_message(Reader& in, GossipMessage& msg) {
  std::uint8_t b0 = 0, b1 = 0, version = 0, kind = 0;
  if (!in.u8(b0) || !in.u8(b1) || b0 != magic0 || b1 != magic1) return false;
  if (!in.u8(version) || version != gossip_codec_version) return false;
  if (!in.u8(kind)) return false;
  if (kind != static_cast<std::uint8_t>(GossipKind::push) &&
      kind != static_cast<std::uint8_t>(GossipKind::reply)) {
    return false;
  }
  msg.kind = static_cast<GossipKind>(kind);
  if (!in.string(msg.from, GossipLimits::max_node_id_bytes)) return false;
  std::size_t n = 0;
  if (!in.count(n, GossipLimits::max_members, min_member_bytes)) return false;
  msg.members.resize(n);
  for (MemberEntry& m : msg.members) {
    if (!read_member(in, m)) return false;
  }
  if (!in.count(n, GossipLimits::max_records, min_record_bytes)) return false;
  msg.registry.resize(n);
  for (RegistryRecord& r : msg.registry) {
    if (!read_record(in, r)) return false;
  }
  return in.left() == 0;
}

}  // namespace

Result<void> validate(const GossipMessage& message) {
  if (message.kind != GossipKind::push && message.kind != GossipKind::reply) {
    return Errc::decode_error;
  }
  if (!valid_string(message.from, GossipLimits::max_node_id_bytes)) return Errc::decode_error;
  if (message.members.size() > GossipLimits::max_members) return Errc::decode_error;
  if (message.registry.size() > GossipLimits::max_records) return Errc::decode_error;
  for (std::size_t i = 0; i < message.members.size(); ++i) {
    const MemberEntry& m = message.members[i];
    if (!valid_string(m.node, GossipLimits::max_node_id_bytes)) return Errc::decode_error;
    if (!valid_string(m.endpoint, GossipLimits::max_endpoint_bytes)) return Errc::decode_error;
    if (!valid_status(static_cast<std::uint8_t>(m.status))) return Errc::decode_error;
    if (m.epoch > m.incarnation) return Errc::decode_error;
    if (m.incarnation > GossipLimits::max_counter) return Errc::decode_error;
    if (m.heartbeat > GossipLimits::max_counter) return Errc::decode_error;
    if (i > 0 && !(message.members[i - 1].node < m.node)) return Errc::decode_error;
  }
  for (std::size_t i = 0; i < message.registry.size(); ++i) {
    const RegistryRecord& r = message.registry[i];
    if (!valid_string(r.name, GossipLimits::max_name_bytes)) return Errc::decode_error;
    if (!valid_string(r.node, GossipLimits::max_node_id_bytes)) return Errc::decode_error;
    if (!valid_string(r.actor_type, GossipLimits::max_actor_type_bytes)) {
      return Errc::decode_error;
    }
    if (r.epoch > GossipLimits::max_counter) return Errc::decode_error;
    if (r.version > GossipLimits::max_counter) return Errc::decode_error;
    if (i > 0 && !(message.registry[i - 1].name < r.name)) return Errc::decode_error;
  }
  return ok();
}

void encode_gossip_into(const GossipMessage& message, std::vector<std::uint8_t>& out) {
  // Assert on the sending side of the boundary too: an invalid message here is our bug, and
  // the peer would only reject it.
  CINEYMA_ASSERT(validate(message).has_value());
  out.push_back(magic0);
  out.push_back(magic1);
  out.push_back(gossip_codec_version);
  out.push_back(static_cast<std::uint8_t>(message.kind));
  put_string(out, message.from);
  put_varint(out, message.members.size());
  for (const MemberEntry& m : message.members) {
    put_string(out, m.node);
    put_string(out, m.endpoint);
    put_varint(out, m.incarnation);
    put_varint(out, m.epoch);
    put_varint(out, m.heartbeat);
    out.push_back(static_cast<std::uint8_t>(m.status));
  }
  put_varint(out, message.registry.size());
  for (const RegistryRecord& r : message.registry) {
    put_string(out, r.name);
    put_string(out, r.node);
    put_varint(out, r.epoch);
    put_varint(out, r.version);
    put_string(out, r.actor_type);
    out.push_back(r.tombstone ? tombstone_flag : 0);
  }
}

std::vector<std::uint8_t> encode_gossip(const GossipMessage& message) {
  std::vector<std::uint8_t> out;
  encode_gossip_into(message, out);
  return out;
}

Result<GossipMessage> decode_gossip(std::span<const std::uint8_t> bytes) {
  Reader in(bytes);
  GossipMessage msg;
  if (!read_message(in, msg)) return Errc::decode_error;
  if (!validate(msg)) return Errc::decode_error;
  return msg;
}

}  // namespace cineyma::cluster
