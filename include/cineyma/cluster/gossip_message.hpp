// cineyma/cluster/gossip_message.hpp — what one node tells another in a gossip exchange.
//
// An exchange is push–pull: the initiator *pushes* its whole view (membership and registry),
// the receiver merges it and *replies* with exactly the entries the initiator lacks or holds
// older versions of (a delta computed during the merge). A leave is a push whose sender entry
// says Left; a join is a push to a seed. Both lists are sorted by key, strictly increasing —
// `validate` checks it, so a merge can be a single ordered pass.
//
// The message is transport-independent: codec.hpp turns it into bytes (and back, never trusting
// the input); the cluster node carries those bytes on its one multiplexed port.
//
// Threading: a plain value.
#pragma once

#include <cineyma/cluster/membership.hpp>
#include <cineyma/cluster/registry_state.hpp>
#include <cineyma/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cineyma::cluster {

/// Kind of a gossip message. Values are stable (they travel on the wire).
enum class GossipKind : std::uint8_t {
  push = 1,   ///< the sender's full view; the receiver answers with a `reply`
  reply = 2,  ///< the receiver's delta after merging a push; never answered
};

/// Limits every well-formed message respects (checked by `validate`, hence by the decoder).
struct GossipLimits {
  static constexpr std::size_t max_node_id_bytes = 255;
  static constexpr std::size_t max_endpoint_bytes = 255;
  static constexpr std::size_t max_name_bytes = 1024;
  static constexpr std::size_t max_actor_type_bytes = 1024;
  static constexpr std::size_t max_members = 1U << 16;
  static constexpr std::size_t max_records = 1U << 20;
  /// Incarnations, epochs, heartbeats and versions never exceed this: a peer cannot make a
  /// counter overflow (engines saturate here; a correct cluster never gets near it).
  static constexpr std::uint64_t max_counter = std::uint64_t{1} << 62;
};

/// `value + 1`, but never above `GossipLimits::max_counter`.
constexpr std::uint64_t bump_counter(std::uint64_t value) noexcept {
  return value < GossipLimits::max_counter ? value + 1 : GossipLimits::max_counter;
}

/// One gossip message.
struct GossipMessage {
  GossipKind kind = GossipKind::push;
  std::string from;                     ///< sender node id (unauthenticated at this layer)
  std::vector<MemberEntry> members;     ///< sorted by node id, strictly increasing
  std::vector<RegistryRecord> registry; ///< sorted by name, strictly increasing

  friend bool operator==(const GossipMessage&, const GossipMessage&) = default;
};

/// Checks the invariants a receiver relies on: known kind and statuses, non-empty ids within
/// `GossipLimits`, counters at most `max_counter`, `epoch <= incarnation`, keys strictly
/// increasing. `decode_error` otherwise.
Result<void> validate(const GossipMessage& message);

}  // namespace cineyma::cluster
