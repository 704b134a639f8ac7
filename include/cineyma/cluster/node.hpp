// cineyma/cluster/node.hpp — `ClusterNode`: one process's membership in a cluster (DESIGN §6).
//
//   cineyma::cluster::ClusterNode node(system, {.gossip = {.node_id = "node-2",
//                                                           .seeds = {"127.0.0.1:7001"}},
//                                              .bind = {"127.0.0.1", 7002}});
//   node.start().value();
//   node.register_actor("kv-store", store_addr,
//                       std::move(cineyma::remote::MessageRouter().route<kv::Get>(store_addr)),
//                       "KVStore").value();
//   node.subscribe(watcher_addr);          // MemberEvent: up / suspect / down / left
//
// What it is. The gossip state machine (gossip_engine.hpp) wired to the world: a
// `remote::RemoteServer` on one port carries both the cluster's own traffic (gossip, as
// envelopes addressed to the reserved actor name "$cluster") and the actors it exposes, and
// one pooled `remote::RemoteClient` per peer endpoint carries this node's gossip pushes and
// its `ClusterClient` calls (client.hpp) over one persistent, authenticated connection per
// peer. A push is a request; the peer's reply delta is its response (push–pull in one round
// trip, also towards a seed whose node id is not known yet).
//
// Every `gossip_interval` of the environment's clock the node ticks its engine (heartbeat,
// failure detection, pushes to `fanout` live peers, or to the seeds while it knows nobody
// alive: join with retry). Everything it does goes through the `Environment` of its actor
// system, so the same node runs on real TCP and, unchanged, on the simulated network.
//
// Registry. `register_actor(name, addr, router, type)` exposes the actor on this node's port
// and publishes `name → (this node, type)` through gossip. The name is withdrawn — a tombstone
// spreads — when the actor stops for good (a restart keeps it), on `unregister_actor`, or
// when another node's registration of the same name wins (the callback of
// `on_registration_lost` tells which). A Down node's names stop resolving everywhere.
//
// Threading: every member is safe from any thread. Membership callbacks and subscriptions are
// delivered on environment threads (transport or timer), in the order the engine decided them;
// a callback must not block and must not call back into this node.
#pragma once

#include <cineyma/addr.hpp>
#include <cineyma/cluster/gossip_engine.hpp>
#include <cineyma/env/environment.hpp>
#include <cineyma/recipient.hpp>
#include <cineyma/remote/client.hpp>
#include <cineyma/remote/router.hpp>
#include <cineyma/remote/server.hpp>
#include <cineyma/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cineyma {
class ActorSystem;
}

namespace cineyma::cluster {

/// Configuration of a cluster node.
struct ClusterNodeOptions {
  /// Identity, seeds and timings (gossip_engine.hpp). `gossip.endpoint` is the advertised
  /// "host:port" other nodes connect to; left empty it becomes the bound address.
  GossipConfig gossip;
  /// Where the node listens (port 0: any free port; see `start()`).
  cineyma::Endpoint bind{"127.0.0.1", 0};
  /// Handshake: only nodes with the same cluster name and secret are admitted. Without a
  /// secret a node accepts loopback peers only (handshake.hpp).
  std::string cluster_name = "cineyma";
  std::string secret;
  /// Default deadline of a `ClusterClient` call.
  Duration call_timeout = std::chrono::seconds(5);
  /// Deadline of one connection attempt to a peer (TCP connect plus handshake).
  Duration connect_timeout = std::chrono::seconds(2);
  /// Largest frame sent or accepted on the node's connections.
  std::size_t max_frame_bytes = remote::kDefaultMaxFrameBytes;
};

/// `invalid_argument` when the options cannot work (see `validate(GossipConfig)`; an empty
/// endpoint is allowed here, and the bind host must not be empty).
Result<void> validate(const ClusterNodeOptions& options);

/// One member as this node sees it.
struct Member {
  std::string node;
  std::string endpoint;
  MemberStatus status = MemberStatus::up;
  std::uint64_t incarnation = 0;
  bool self = false;  ///< this node's own entry

  friend bool operator==(const Member&, const Member&) = default;
};

/// Counters, for tests and monitoring (monotonic).
struct ClusterNodeStats {
  GossipStats gossip;                       ///< the engine's counters
  std::uint64_t exchanges_failed = 0;       ///< pushes that got no reply (peer away, timeout)
  std::uint64_t messages_undecodable = 0;   ///< gossip payloads that did not decode
  std::uint64_t events_dropped = 0;         ///< events a subscriber's full mailbox refused
  std::uint64_t callback_failures = 0;      ///< membership callbacks that threw (contained)
};

/// `"host:port"` → endpoint; `invalid_argument` when it does not parse (port 1..65535).
Result<cineyma::Endpoint> parse_endpoint(std::string_view text);
/// endpoint → `"host:port"`.
std::string to_string(const cineyma::Endpoint& endpoint);

class ClusterNode;

namespace detail {
struct NodeCore;
/// `register_actor` without the actor's type (watches `cell` for its death).
Result<void> register_with_cell(NodeCore& core, std::string name,
                                cineyma::detail::RefPtr<cineyma::detail::CellBase> cell,
                                remote::MessageRouter router, std::string actor_type);
std::shared_ptr<NodeCore> core_of(const ClusterNode& node) noexcept;
}  // namespace detail

/// One process's membership in a cluster. See the file comment.
class ClusterNode {
 public:
  /// Nothing listens or gossips until `start()`. `system` (and its environment) must outlive
  /// the node.
  ClusterNode(ActorSystem& system, ClusterNodeOptions options);
  /// Shuts down (without a graceful leave: call `leave()` first for that).
  ~ClusterNode();
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  /// Validates the options, listens, and starts gossiping (the first tick comes after a random
  /// fraction of an interval, so that nodes started together do not tick in lockstep).
  /// Returns the bound endpoint. Once; `invalid_argument` for bad options, the transport's
  /// error when the port cannot be bound.
  Result<cineyma::Endpoint> start();

  /// This node's id.
  const std::string& node_id() const noexcept;
  /// The advertised "host:port" (after `start`).
  std::string endpoint() const;

  /// Makes the actor behind `router` reachable on this node's port as `name`, and publishes
  /// `name → (this node, actor_type)` in the cluster's registry. The name is withdrawn when
  /// the actor stops for good. Errors: `invalid_argument` (empty name, names starting with
  /// '$' are reserved, empty or overlong type), `already_exists` (the name is exposed here, or
  /// another node holds a live registration of it in this node's view), `actor_stopped`
  /// (before `start`, after `leave`/`shutdown`, or `addr` is dead).
  template <typename A>
  Result<void> register_actor(std::string name, const Addr<A>& addr,
                              remote::MessageRouter router, std::string actor_type) {
    return detail::register_with_cell(*core_, std::move(name), addr.cell(), std::move(router), std::move(actor_type));
  }
  /// Withdraws a name this node registered (a tombstone spreads); `not_found` otherwise.
  Result<void> unregister_actor(std::string_view name);
  /// Where `name` lives in this node's view; `not_found` when no live registration is known.
  Result<ActorLocation> lookup_actor(std::string_view name) const;
  /// Every live registration this node knows, by name.
  std::map<std::string, ActorLocation, std::less<>> actors() const;

  /// Every member this node knows (itself included), ordered by node id.
  std::vector<Member> members() const;
  /// The status of `node` in this view; `not_found` for a node never heard of.
  Result<MemberStatus> status_of(std::string_view node) const;

  /// Delivers every later membership change to `recipient` (with `try_send`; a full mailbox
  /// drops the event and counts it in `stats().events_dropped` — `members()` stays the
  /// authoritative state). A subscriber that has stopped is dropped from the list.
  void subscribe(Recipient<MemberEvent> recipient);
  /// Calls `fn` for every later membership change (on an environment thread; see the file
  /// comment). An exception from `fn` is contained: logged and counted in
  /// `stats().callback_failures`.
  void on_member_event(std::function<void(const MemberEvent&)> fn);
  /// Calls `fn` when a registration of this node lost to another node's (the name is then
  /// no longer exposed here).
  void on_registration_lost(std::function<void(const RegistrationLost&)> fn);

  /// Graceful leave: this node's entry becomes Left and is pushed to peers; the node keeps
  /// answering gossip (so that the Left entry spreads) but stops ticking and registering.
  /// Others see it Left, never Down. Call `shutdown()` an interval or two later.
  void leave();
  /// Stops gossiping, closes the port and every pooled connection (their calls fail with
  /// `disconnected` or `maybe_delivered`). Idempotent; returns at once.
  void shutdown() noexcept;

  ClusterNodeStats stats() const;

 private:
  friend std::shared_ptr<detail::NodeCore> detail::core_of(const ClusterNode&) noexcept;
  std::shared_ptr<detail::NodeCore> core_;
};

}  // namespace cineyma::cluster
