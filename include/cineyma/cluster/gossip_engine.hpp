// cineyma/cluster/gossip_engine.hpp — one node's gossip protocol, as a pure state machine.
//
// Why a state machine. Membership, failure detection and the distributed registry are the
// subtle part of a cluster; sockets are not. The engine owns no socket, thread or timer: the
// caller feeds it time (`tick`, every `gossip_interval`), incoming messages (`on_message`) and
// local requests (`register_actor`, `leave`, ...) and gets back *effects*: messages to send and
// events to publish. The same engine therefore runs under the remote layer on real TCP and, by
// the thousand, in a simulated network inside tests (tests/support/cluster_harness.hpp), and
// every decision it takes depends only on its inputs and the PRNG it is handed — one seed
// replays a whole cluster.
//
// What it guarantees (the fixes of SPEC-original §9.3):
// - Liveness is judged on heartbeat *progress* learned through any gossip, not only on direct
//   contact: a peer whose (incarnation, heartbeat) has not advanced for `suspect_after` becomes
//   Suspect, for `down_after` Down (measured from the last advance, checked at each tick).
// - A node that sees itself Suspect refutes by raising its incarnation. A node that sees itself
//   Down (or sees an entry of an earlier life of itself) starts a new life — incarnation and
//   epoch raised — and re-registers its names: a false Down heals instead of lasting forever.
// - Ticks that come late (the process was paused) do not count against peers: the time this
//   node did not listen is added back to every peer before judging.
// - Gossip goes to `fanout` peers chosen with the caller's PRNG among live members; a node
//   with no live peer contacts its seeds (join with retry); with probability 1/`down_probe_one_in`
//   a tick also pushes to one Down member, which is how two sides of a healed partition that
//   declared each other Down find each other again.
// - Registry names of stopped actors (tombstones) and of Down nodes never resolve again
//   (registry_state.hpp); a name held by two nodes resolves identically everywhere and the
//   losing node gets a `RegistrationLost` effect.
//
// Threading: one owner; no member may be called concurrently with another. Completion: every
// call is synchronous; effects are returned, never called back.
#pragma once

#include <cineyma/cluster/gossip_message.hpp>
#include <cineyma/cluster/membership.hpp>
#include <cineyma/cluster/registry_state.hpp>
#include <cineyma/env/clock.hpp>
#include <cineyma/env/random.hpp>
#include <cineyma/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cineyma::cluster {

/// Configuration of one node's gossip. Defaults follow the seed README: Suspect after 5 s
/// without news, Down after 10 s; DESIGN §6: fan-out 3.
struct GossipConfig {
  std::string node_id;             ///< unique in the cluster, 1..255 bytes
  std::string endpoint;            ///< advertised "host:port", 1..255 bytes
  std::vector<std::string> seeds;  ///< endpoints contacted while no live peer is known
  Duration gossip_interval = std::chrono::seconds(1);  ///< the caller ticks this often
  std::size_t fanout = 3;                              ///< live peers pushed to per tick
  Duration suspect_after = std::chrono::seconds(5);    ///< no progress this long ⇒ Suspect
  Duration down_after = std::chrono::seconds(10);      ///< no progress this long ⇒ Down
  /// Incarnation this process starts with. A node that can keep a boot counter should raise it
  /// on every start; 0 is safe too (an earlier life is recognised when its gossip arrives).
  std::uint64_t incarnation = 0;
  /// Each tick, with probability 1/n, push to one random Down member as well (0 = never).
  std::uint64_t down_probe_one_in = 4;
};

/// `invalid_argument` when a field is out of range (empty or too long id/endpoint, fan-out 0,
/// non-positive interval, `suspect_after` not below `down_after`).
Result<void> validate(const GossipConfig& config);

/// A membership change as this node observed it (never about the node itself).
struct MemberEvent {
  MemberStatus status = MemberStatus::up;  ///< the new status: up / suspect / down / left
  std::string node;
  std::string endpoint;
  std::uint64_t incarnation = 0;

  friend bool operator==(const MemberEvent&, const MemberEvent&) = default;
};

/// This node registered `name` but another node's live registration won (see registry_state.hpp).
struct RegistrationLost {
  std::string name;
  std::string actor_type;  ///< the type this node had registered
  RegistryRecord winner;
};

/// A message to send. `to_node` is empty for a seed whose id is not known yet; `to_endpoint`
/// is empty when the receiver's endpoint is unknown (answer on the connection it came from).
/// Messages of one tick share one `GossipMessage` (encode it once).
struct Outgoing {
  std::string to_node;
  std::string to_endpoint;
  std::shared_ptr<const GossipMessage> message;
};

/// What a call asks the caller to do, in order.
struct Effects {
  std::vector<Outgoing> send;
  std::vector<MemberEvent> events;
  std::vector<RegistrationLost> lost;

  bool empty() const noexcept { return send.empty() && events.empty() && lost.empty(); }
};

/// Where a registered name lives.
struct ActorLocation {
  std::string node;
  std::string endpoint;
  std::string actor_type;
  std::uint64_t epoch = 0;  ///< the owner's life (epoch) at registration
  std::uint64_t version = 0;
};

/// Counters, for tests and metrics.
struct GossipStats {
  std::uint64_t ticks = 0;
  std::uint64_t pushes_sent = 0;
  std::uint64_t replies_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t messages_rejected = 0;
  std::uint64_t suspicions_raised = 0;  ///< peers this node's detector turned Suspect
  std::uint64_t downs_declared = 0;     ///< peers this node's detector turned Down
  std::uint64_t refutations = 0;        ///< incarnation raised to refute a suspicion of itself
  std::uint64_t new_lives = 0;          ///< new life started (seen Down, or an earlier life seen)
  std::uint64_t registrations_lost = 0;
};

/// One node's gossip state machine. See the file comment.
class GossipEngine {
 public:
  /// A node alone in its view (Up, heartbeat 0). `config` must be valid (asserted: check it
  /// with `validate` first). `now` is the caller's clock.
  GossipEngine(GossipConfig config, TimePoint now);

  /// One gossip round; call every `gossip_interval`. Raises this node's heartbeat, runs the
  /// failure detector, and returns pushes to up to `fanout` live peers (or to seeds when none
  /// is live; or nothing after `leave`). `now` must not go backwards (asserted). `random`
  /// chooses the peers; pass the environment's.
  Effects tick(TimePoint now, Random& random);

  /// Handles a message received from the network. A push is answered with a reply carrying
  /// what the sender lacks (when it lacks anything). `decode_error` when the message breaks the
  /// invariants of `validate`; `invalid_argument` when it claims to come from this node, or
  /// carries an entry of this node with an incarnation at the counter limit (which no
  /// refutation could outbid). The state is unchanged in both cases.
  Result<Effects> on_message(const GossipMessage& message, TimePoint now);

  /// Graceful leave: this node's entry becomes Left (final) and is pushed to up to `fanout`
  /// live peers. Later ticks send nothing; messages are still merged and answered (which spreads
  /// the Left entry further), so keep feeding them for an interval or two before closing.
  Effects leave(TimePoint now, Random& random);

  /// Registers `name` for a local actor of type `actor_type` (both 1..1024 bytes, else
  /// `invalid_argument`). `already_exists` when another node holds a live registration of the
  /// name in this view; `actor_stopped` after `leave`. Re-registering a name this node holds
  /// replaces it. The record spreads with the next gossip.
  Result<void> register_actor(std::string_view name, std::string_view actor_type);
  /// Removes a name this node registered (call it when the actor stops): a tombstone spreads.
  /// `not_found` when this node holds no registration of `name`.
  Result<void> unregister_actor(std::string_view name);
  /// Where `name` lives, if some node holds a live registration of it in this view;
  /// `not_found` otherwise.
  Result<ActorLocation> lookup_actor(std::string_view name) const;

  /// This node's own entry (its authoritative state).
  const MemberEntry& self() const noexcept { return self_; }
  /// True after `leave`.
  bool has_left() const noexcept { return self_.status == MemberStatus::left; }
  const Membership& membership() const noexcept { return membership_; }
  const RegistryState& registry() const noexcept { return registry_; }
  /// Names this node currently holds (name → actor type), in name order.
  std::map<std::string, std::string, std::less<>> local_registrations() const;
  const GossipConfig& config() const noexcept { return config_; }
  const GossipStats& stats() const noexcept { return stats_; }

 private:
  struct LocalRegistration {
    std::string actor_type;
    std::uint64_t version = 0;
    std::uint64_t epoch = 0;
  };

  void publish_self(TimePoint now);
  void detect(TimePoint now, Effects& fx);
  bool check_self(TimePoint now);
  void reconcile_name(const std::string& name, Effects& fx);
  bool write_record(const std::string& name, const std::string& actor_type, bool tombstone);
  void to_events(const std::vector<MemberTransition>& transitions, Effects& fx) const;
  std::shared_ptr<const GossipMessage> make_push() const;
  void push_to(const std::vector<const MemberEntry*>& peers,
               const std::shared_ptr<const GossipMessage>& push, Effects& fx);
  std::vector<const MemberEntry*> pick_live_peers(std::size_t count, Random& random) const;

  GossipConfig config_;
  MemberEntry self_;
  Membership membership_;
  RegistryState registry_;
  std::map<std::string, LocalRegistration, std::less<>> local_;
  std::optional<TimePoint> last_tick_;
  TimePoint last_now_{};
  GossipStats stats_;
};

}  // namespace cineyma::cluster
