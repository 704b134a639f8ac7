// examples/distributed-kv/kv_actors.hpp — the three actors of one node of the store.
//
//   Replica      on every node, registered as "kv-replica/<node>": a copy of the data, the
//                term it follows and the highest term it has promised to a takeover.
//   KvStore      on one node at a time, registered as "kv-store": answers clients, and
//                replicates every write to the replicas of the live members before answering.
//   Coordinator  on every node: notices when no live node has held "kv-store" for a grace
//                period (three gossip intervals) and, on the one node chosen
//                deterministically (the smallest live node id), takes it over.
//
// How the store moves (a takeover), and why it is safe:
//   1. prepare: the candidate asks every live replica for its state with a new term T; a
//      replica that grants T refuses writes of older terms from then on, so the old owner
//      (cut off, not dead) can no longer complete a write on a majority;
//   2. it needs grants from a majority of the cluster's members; among them it adopts the
//      newest copy (highest term, then highest sequence number). A write the old owner
//      acknowledged reached a majority, and two majorities share a member, so the newest copy
//      among the grants holds it;
//   3. it pushes that copy with term T to the live replicas (again a majority must apply it),
//      then spawns a KvStore with it and registers "kv-store".
// Two candidates at once (views differ for a moment): the greater term wins at the replicas,
// the cluster's registry keeps one registration of the name, and the loser steps down (its
// writes meet STALE_TERM, or `on_registration_lost` tells it).
//
// "The cluster" is what this node's membership view holds, minus the members that left
// gracefully: a member that is Down still counts (it may be cut off rather than dead), so a
// side of a partition without a majority serves nothing (its store refuses at once and steps
// down after the grace period).
//
// Why a grace period: when a partition heals, each side's Down verdicts reach the other side
// and the nodes they name start a new life (membership.hpp), which kills their registrations
// for a moment until they claim them again. Waiting a few intervals lets the owner reclaim its
// name instead of the store moving for nothing.
//
// Threading: actor state is touched only by the actor's handlers. The ClusterNode is
// thread-safe and outlives these actors (KvNode shuts its actor system down first).
#pragma once

#include "kv_protocol.hpp"

#include <cineyma/cineyma.hpp>
#include <cineyma/cluster.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

/// Receives a sentence about what this node's store did (any thread; must not block or call
/// into the ClusterNode).
using Narrate = std::function<void(const std::string&)>;

/// What a node says while no live node holds the store's name.
inline constexpr std::string_view kNoStore = "no live node hosts the store";

/// The data of the store, ordered by key.
using Data = std::map<std::string, std::string>;

/// The cluster as one node sees it, for majority decisions.
struct QuorumView {
  /// Members that count: every member of the view (self included) except those that Left.
  std::size_t members = 0;
  /// Members that are Up or Suspect (self included), in node id order.
  std::vector<std::string> live;

  std::size_t majority() const noexcept { return members / 2 + 1; }
  bool has_quorum() const noexcept { return members > 0 && live.size() >= majority(); }
};
QuorumView quorum_view(const std::vector<cineyma::cluster::Member>& members);

/// What the actors of one node share.
struct Shared {
  explicit Shared(cineyma::cluster::ClusterNode& n) : node(&n), client(n) {}

  cineyma::cluster::ClusterNode* node;  ///< outlives the actors (see KvNode)
  cineyma::cluster::ClusterClient client;
  std::string self;                    ///< this node's id
  cineyma::Duration interval{};        ///< how often to check (the gossip interval)
  /// How long the store must stay missing before a takeover, and a quorum stay lost before
  /// the owner steps down (three intervals).
  cineyma::Duration grace{};
  cineyma::Duration replica_timeout{}; ///< deadline of one call to a replica
  Narrate narrate;
};

class Replica : public cineyma::Actor<Replica> {
 public:
  distributed_kv::ReplicateResponse handle(const distributed_kv::ReplicateRequest& m, Context&);
  distributed_kv::StateResponse handle(const distributed_kv::StateRequest& m, Context&);

 private:
  distributed_kv::ReplicateResponse answer(distributed_kv::ReplicateResponse::Outcome o) const;

  distributed_kv::Term term_;      ///< the term whose writes this copy holds
  distributed_kv::Term promised_;  ///< no write of an older term is accepted (>= term_)
  std::uint64_t seq_ = 0;
  Data data_;
};

class KvStore : public cineyma::Actor<KvStore> {
 public:
  /// Periodic: step down without a quorum; send the state to live replicas not known in sync.
  struct Sync {};

  KvStore(std::shared_ptr<const Shared> shared, distributed_kv::Term term, std::uint64_t seq,
          Data data, std::set<std::string> in_sync);

  void started(Context& ctx);
  distributed_kv::GetResponse handle(const distributed_kv::GetRequest& m, Context& ctx);
  cineyma::Task<distributed_kv::SetResponse> handle(distributed_kv::SetRequest m, Context& ctx);
  cineyma::Task<distributed_kv::DeleteResponse> handle(distributed_kv::DeleteRequest m,
                                                       Context& ctx);
  cineyma::Task<void> handle(Sync m, Context& ctx);

 private:
  struct Pushed {
    std::size_t applied = 0;  ///< replicas that hold the write now
    bool stale = false;       ///< a replica follows a newer term
    std::string stale_at;
  };
  /// Sends `request` (a write, or the state) to each of `nodes`' replicas, one after the other.
  cineyma::Task<Pushed> push(distributed_kv::ReplicateRequest request,
                             std::vector<std::string> nodes);
  /// The outcome of a write replicated to `view`'s live members.
  cineyma::Task<distributed_kv::Status> replicate(distributed_kv::ReplicateRequest request,
                                                  QuorumView view, Context& ctx);
  distributed_kv::ReplicateRequest snapshot() const;
  /// Why the store does not serve now (no quorum, stepped down), or nothing.
  std::optional<distributed_kv::Status> refusal(Context& ctx);
  void step_down(Context& ctx, const std::string& why);

  std::shared_ptr<const Shared> shared_;
  distributed_kv::Term term_;
  std::uint64_t seq_;
  Data data_;
  std::set<std::string> in_sync_;  ///< nodes whose replicas hold (term_, seq_)
  bool stepped_down_ = false;
  distributed_kv::Status down_status_ = distributed_kv::STATUS_STORE_MOVED;  ///< once stepped down
  std::optional<cineyma::TimePoint> no_quorum_since_;
};

class Coordinator : public cineyma::Actor<Coordinator> {
 public:
  /// Periodic (and on every membership event): see whether the store needs a new home.
  struct Tick {};
  /// This node's registration of `name` lost to `winner`'s (from on_registration_lost).
  struct Lost {
    std::string name;
    std::string winner;
  };

  /// `joined`: the node may host the store before it has seen any other member (true for
  /// the node that founds the cluster, false for one that joins through seeds).
  Coordinator(std::shared_ptr<const Shared> shared, bool joined);

  void started(Context& ctx);
  cineyma::Task<void> handle(Tick m, Context& ctx);
  void handle(const Lost& m, Context& ctx);
  void handle(const cineyma::Terminated& m, Context& ctx);

 private:
  bool should_take_over(const QuorumView& view);
  cineyma::Task<void> take_over(QuorumView view, Context& ctx);
  /// Spawns the store with `copy` under `term` and registers it.
  void host(Context& ctx, const distributed_kv::Term& term,
            const distributed_kv::StateResponse& copy, const std::string& copy_from,
            std::set<std::string> in_sync);
  void tell_location();
  void tell_failure(const std::string& why);

  std::shared_ptr<const Shared> shared_;
  bool joined_;
  cineyma::Addr<KvStore> store_;
  std::uint64_t next_term_ = 1;  ///< the term number the next takeover asks for (at least)
  std::string told_location_{kNoStore};  ///< the last location narrated
  std::string told_failure_;     ///< the last takeover failure narrated
  std::optional<cineyma::TimePoint> missing_since_;  ///< since when no live store is known
};

}  // namespace kv
