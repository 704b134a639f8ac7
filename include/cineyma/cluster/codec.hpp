// cineyma/cluster/codec.hpp — the compact, versioned binary encoding of gossip messages.
//
// Why not protobuf: the envelope of the remote layer is protobuf; gossip is the one message a
// node sends every interval to several peers, carrying the whole membership, and it is only
// ever read by cineyma itself. A small hand-written format keeps it cheap and lets the decoder
// bound every allocation before making it. It travels as the payload of the multiplexed cluster
// message, so the outer envelope still names it.
//
// Format, version 1 (all integers LEB128 varints unless noted; strings = varint length + bytes):
//
//     'C' 'G'  u8 version(=1)  u8 kind
//     string from
//     varint n_members  n × { string node, string endpoint, incarnation, epoch, heartbeat,
//                             u8 status }
//     varint n_records  n × { string name, string node, epoch, version,
//                             string actor_type, u8 flags (bit 0 = tombstone, others 0) }
//
// Nothing may follow the last record. The decoder never trusts the input: every length is
// checked against the bytes left before anything is allocated, varints that are not minimal,
// longer than 10 bytes or overflowing 64 bits are rejected (so every message has exactly one
// encoding), and the result must pass `validate` (sorted keys, limits).
// Any violation is `Errc::decode_error`. Fuzzed by fuzz/fuzz_gossip.cpp.
//
// Threading: pure functions, callable from any thread.
#pragma once

#include <cineyma/cluster/gossip_message.hpp>
#include <cineyma/result.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace cineyma::cluster {

/// The format version this build writes (and the only one it reads).
inline constexpr std::uint8_t gossip_codec_version = 1;

/// Encodes a message. The message must be valid (`validate`): asserted, since only the engine
/// builds messages and an invalid one is a bug on the sending side.
std::vector<std::uint8_t> encode_gossip(const GossipMessage& message);

/// Appends the encoding of `message` to `out` (lets a caller reuse one buffer).
void encode_gossip_into(const GossipMessage& message, std::vector<std::uint8_t>& out);

/// Decodes one message that occupies all of `bytes`. `decode_error` on any malformed input.
Result<GossipMessage> decode_gossip(std::span<const std::uint8_t> bytes);

}  // namespace cineyma::cluster
