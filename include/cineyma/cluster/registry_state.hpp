// cineyma/cluster/registry_state.hpp — the replicated name → actor registry of a cluster.
//
// Why this exists. The original registry was last-merged-wins with no unregister: names of dead
// actors lived forever, removals were undone by the next gossip, and a name held by two nodes
// flapped (SPEC-original §5.9, §9.3 #31). Here each name holds one *record*, and merging two
// registries keeps, per name, the greatest record in a total order — a join, so every replica
// that has seen the same records picks the same winner, whatever the order of exchanges:
//
//     (version, node, epoch, tombstone, actor_type)   compared lexicographically.
//
// - A registration takes `version` = (highest version this node knows for the name) + 1, so a
//   name re-registered after a removal wins over the removal.
// - Two nodes registering one name concurrently get equal versions; the greater node id wins,
//   the same everywhere. The loser sees its record displaced and is told (gossip_engine.hpp).
// - When an actor stops, its node writes a *tombstone* (version + 1): stale gossip carrying the
//   old record loses against it, so the entry stays gone.
// - A record is *live* only while its node is live in the membership view and the record was
//   made in the node's current life (`record.epoch >= member.epoch`). Down and Left are final
//   for a life (membership.hpp) and a node that comes back starts a new life with a greater
//   epoch, so a record whose node went Down is dead for good: no gossip, however stale, can make
//   it resolve again.
//
// Threading: a RegistryState is a plain value; one owner, no internal locking.
#pragma once

#include <cineyma/cluster/membership.hpp>
#include <cineyma/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cineyma::cluster {

/// One registration (or its tombstone) as it travels in gossip.
struct RegistryRecord {
  std::string name;               ///< the registered name (the map key)
  std::string node;               ///< node that made the record (owner of the actor)
  std::uint64_t epoch = 0;        ///< the owner's life (its epoch) when it made the record
  std::uint64_t version = 0;      ///< per-name logical version (see the file comment)
  std::string actor_type;         ///< the actor's type name, as the owner registered it
  bool tombstone = false;         ///< true: the name was unregistered (the actor stopped)

  friend bool operator==(const RegistryRecord&, const RegistryRecord&) = default;
};

/// The total order of records of one name: true when `a` loses against `b`.
bool loses_to(const RegistryRecord& a, const RegistryRecord& b) noexcept;

/// True when `record` resolves: not a tombstone, its node is Up or Suspect in `members`, and it
/// was made in the node's current life (`record.epoch >= owner.epoch`).
bool is_live(const RegistryRecord& record, const Membership& members) noexcept;

/// What a registry merge did (null pointers skip the parts the caller does not need).
struct RegistryMergeOutput {
  /// Records this replica holds that the sender lacks or holds an older one of (after the
  /// merge), sorted by name: what a reply must carry.
  std::vector<RegistryRecord>* newer_here = nullptr;
  /// Names whose winner changed or appeared, in name order.
  std::vector<std::string>* changed_names = nullptr;
};

/// name → winning record, ordered by name.
class RegistryState {
 public:
  using Map = std::map<std::string, RegistryRecord, std::less<>>;

  /// The winning record of `name` (possibly a tombstone or dead), or nullptr.
  const RegistryRecord* find(std::string_view name) const noexcept;
  /// The winning record of `name` if it is live (see `is_live`); otherwise `not_found`.
  Result<RegistryRecord> lookup(std::string_view name, const Membership& members) const;
  /// The version a new record of `name` must carry to win here: highest known + 1
  /// (saturating at `GossipLimits::max_counter`, where a new record may not win).
  std::uint64_t next_version(std::string_view name) const noexcept;

  /// Joins one record. Returns true when it became the winner of its name.
  bool upsert(const RegistryRecord& record);
  /// Joins records sorted by strictly increasing name (asserted; gossip is validated first).
  /// One ordered pass. Returns the number of names whose winner changed or appeared.
  std::size_t merge_sorted(std::span<const RegistryRecord> sorted, RegistryMergeOutput out = {});
  /// Joins every record of `other` (the CRDT merge the properties test).
  std::size_t merge(const RegistryState& other);

  /// Every winning record, ordered by name (a copy: what a gossip push carries).
  std::vector<RegistryRecord> records() const;
  /// The map itself, ordered by name.
  const Map& map() const noexcept { return records_; }
  std::size_t size() const noexcept { return records_.size(); }

  friend bool operator==(const RegistryState&, const RegistryState&) = default;

 private:
  Map records_;
};

}  // namespace cineyma::cluster
