// cineyma/cluster/membership.hpp — the replicated membership view of a cluster.
//
// Why this exists. The original merged gossip by "status differs ⇒ overwrite": stale news won as
// often as fresh, peers could overwrite a node's opinion of itself, and a live node could stay
// Down forever (SPEC-original §5.5, §9.3). Here every entry carries an ordering, and merging two
// views is a *join* in a semilattice: commutative, associative and idempotent, so replicas that
// have exchanged the same updates hold the same entries whatever the order, duplication or
// delay of the exchanges (property-tested in tests/property/cluster_merge_property_test.cpp).
//
// `epoch` is the incarnation at which the node's current *life* began (its first incarnation
// after a start, or after it found itself declared Down or Left). Raising the incarnation to
// refute a suspicion keeps the epoch; a new life sets epoch = incarnation, above every
// incarnation the node has seen of itself. Only the node itself raises incarnation and epoch.
//
// The order on two entries of one node, compared in this sequence:
//   1. the higher `epoch` wins outright (a newer life of the node);
//   2. within one life, a *terminal* entry (Down or Left) wins over a non-terminal one;
//   3. then the higher `incarnation` wins outright (a refutation);
//   4. at equal (epoch, terminal, incarnation) each remaining field takes its maximum: status
//      by precedence Up < Suspect and Down < Left, the heartbeat, and (a tie-break a correct
//      node never needs) the endpoint string.
// Consequences: a suspicion is refuted only by the node raising its incarnation; a heartbeat
// learned from anyone is never lost; and Down and Left are final not only for the incarnation
// but for the whole life — a refutation that races with a Down verdict loses against it, and the
// node has to start a new life (DESIGN §6 says "final for that incarnation"; we make it stronger
// because otherwise the racing refutation would revive, at the nodes that had already seen the
// Down, the registrations that the Down had removed). Steps 1–3 compare a total preorder and
// step 4 is a lattice on each of its classes, so the whole is a join.
//
// The distributed registry ties each record to the life (epoch) it was made in: names
// registered in an earlier life are dead (registry_state.hpp).
//
// Next to each replicated entry the view keeps one *local* fact that is never sent and never
// compared: `progress_at`, the local time at which the entry's (incarnation, heartbeat) last
// advanced. The failure detector (gossip_engine.hpp) judges liveness from it, i.e. from heartbeat
// progress learned through any gossip, not only from direct contact.
//
// Threading: a Membership is a plain value; one owner (the engine's), no internal locking.
#pragma once

#include <cineyma/env/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cineyma::cluster {

/// Status of a member, in precedence order (a larger value wins within one incarnation).
/// Values are stable: they travel on the wire (codec.hpp).
enum class MemberStatus : std::uint8_t {
  up = 0,       ///< alive as far as anyone knows
  suspect = 1,  ///< someone saw no heartbeat progress for `suspect_after`
  down = 2,     ///< someone saw no heartbeat progress for `down_after`; final for the life
  left = 3,     ///< the node announced a graceful leave; final for the life
};

/// Stable lower-case name ("up", "suspect", "down", "left"). Never null.
const char* to_string(MemberStatus status) noexcept;

/// True for Down and Left: the life of the member is over.
constexpr bool is_terminal(MemberStatus status) noexcept {
  return status == MemberStatus::down || status == MemberStatus::left;
}

/// True for Up and Suspect: the member is still considered part of the cluster.
constexpr bool is_live(MemberStatus status) noexcept {
  return status == MemberStatus::up || status == MemberStatus::suspect;
}

/// The replicated state of one member.
struct MemberEntry {
  std::string node;               ///< node id, unique in the cluster (the map key)
  std::string endpoint;           ///< advertised "host:port" peers connect to
  std::uint64_t incarnation = 0;  ///< raised by the node itself only (refutation, new life)
  std::uint64_t epoch = 0;        ///< incarnation at which the current life began (<= incarnation)
  std::uint64_t heartbeat = 0;    ///< raised by the node itself once per gossip tick
  MemberStatus status = MemberStatus::up;

  friend bool operator==(const MemberEntry&, const MemberEntry&) = default;
};

/// The join of two entries of the same node (`a.node == b.node`, asserted). See the file
/// comment for the order. Pure; commutative, associative, idempotent.
MemberEntry join(const MemberEntry& a, const MemberEntry& b);

/// `into = join(into, from)`. Returns true when `into` changed.
bool join_into(MemberEntry& into, const MemberEntry& from);

/// A member whose status or incarnation changed in a merge, as seen by this view.
struct MemberTransition {
  bool known_before = false;  ///< false: the member was unknown until this merge
  MemberStatus status_before = MemberStatus::up;  ///< meaningful only when known_before
  std::uint64_t incarnation_before = 0;            ///< meaningful only when known_before
  MemberEntry after;                              ///< the entry after the merge
};

/// What a merge did, filled only for the parts the caller asks for (null pointers skip them).
struct MembershipMergeOutput {
  /// Entries this view holds that the sender lacks or holds an older version of (after the
  /// merge): exactly what a reply must carry so that the sender catches up. Sorted by node.
  std::vector<MemberEntry>* newer_here = nullptr;
  /// Members whose status or incarnation changed, in node order.
  std::vector<MemberTransition>* transitions = nullptr;
};

/// The membership view: node id → entry, ordered by node id (deterministic iteration).
class Membership {
 public:
  /// One member as this view holds it: the replicated entry and local bookkeeping.
  struct Slot {
    MemberEntry entry;
    TimePoint progress_at{};  ///< local time of the last (incarnation, heartbeat) advance
  };
  using Map = std::map<std::string, Slot, std::less<>>;

  /// The entry of `node`, or nullptr.
  const MemberEntry* find(std::string_view node) const noexcept;
  /// The slot of `node` (entry and local progress time), or nullptr.
  const Slot* find_slot(std::string_view node) const noexcept;
  /// Number of members, in any status.
  std::size_t size() const noexcept { return slots_.size(); }
  /// Every slot, ordered by node id.
  const Map& slots() const noexcept { return slots_; }
  /// Every entry, ordered by node id (a copy: what a gossip push carries).
  std::vector<MemberEntry> entries() const;

  /// Joins one entry into the view (inserting it when the node is unknown). `now` stamps
  /// `progress_at` when (incarnation, heartbeat) advanced. Returns true when the entry changed;
  /// appends to `transitions` (when not null) if its status or incarnation changed.
  bool upsert(const MemberEntry& entry, TimePoint now,
              std::vector<MemberTransition>* transitions = nullptr);

  /// Joins a batch of entries *sorted by strictly increasing node id* (asserted; gossip input
  /// is validated before it gets here). One ordered pass: O(n + m). Returns the number of
  /// entries of this view that changed or were inserted.
  std::size_t merge_sorted(std::span<const MemberEntry> sorted, TimePoint now,
                           MembershipMergeOutput out = {});

  /// Joins every entry of `other` into this view (the CRDT merge the properties test).
  std::size_t merge(const Membership& other, TimePoint now = TimePoint{});

  /// Moves every `progress_at` forward by `delta` (never beyond `limit`). The engine calls it
  /// when its own ticks were late (the process was paused): time during which this node did
  /// not listen must not count against its peers.
  void defer_progress(Duration delta, TimePoint limit) noexcept;

  /// True when both views hold the same replicated entries (local progress times ignored).
  bool same_state(const Membership& other) const noexcept;

 private:
  Map slots_;
};

}  // namespace cineyma::cluster
