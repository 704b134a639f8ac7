// examples/distributed-kv/kv_node.hpp — one process of the replicated key-value store.
//
//   cineyma::RealEnvironment env;                        // or a simulated node's environment
//   kv::KvNode node(env, {.node_id = "node-2", .bind = {"127.0.0.1", 7002},
//                         .seeds = {"127.0.0.1:7001"}});
//   node.start().value();
//   node.set("greeting", "hello");                       // blocking, from a non-actor thread
//   auto v = node.get("greeting");                       // Result<std::optional<std::string>>
//
// A KvNode owns an actor system on the given environment, a cluster node, and the store's
// actors (kv_actors.hpp): every node holds a replica, one node at a time holds the store, and
// the store moves when its node goes Down. The very same class runs in `distributed-kv`
// (real TCP) and in `sim-walkthrough` (the simulator).
//
// Threading: `get`/`set`/`erase` block the calling thread (under simulation they drive the
// simulation) and must not be called from an actor. Everything else: any thread.
#pragma once

#include "kv_actors.hpp"

#include <cineyma/cineyma.hpp>
#include <cineyma/cluster.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kv {

struct KvOptions {
  std::string node_id;
  /// Where the node listens (port 0: any free port).
  cineyma::Endpoint bind{"127.0.0.1", 0};
  /// The advertised "host:port" peers connect to; empty: the bound address.
  std::string endpoint;
  /// Members to join through ("host:port"); empty: this node founds a cluster (and hosts the
  /// store until it goes Down).
  std::vector<std::string> seeds;
  /// Failure detection (the library's defaults): gossip every second, Suspect after 5 s
  /// without news of a member, Down after 10 s.
  cineyma::Duration gossip_interval = std::chrono::seconds(1);
  cineyma::Duration suspect_after = std::chrono::seconds(5);
  cineyma::Duration down_after = std::chrono::seconds(10);
  /// Deadline of a client command (get / set / delete).
  cineyma::Duration call_timeout = std::chrono::seconds(5);
  /// This process's incarnation (GossipConfig::incarnation); 0 is safe.
  std::uint64_t incarnation = 0;
  /// Only nodes with the same cluster name and secret are admitted; without a secret, peers
  /// must be on loopback.
  std::string cluster_name = "distributed-kv";
  std::string secret;
  /// Sentences about membership changes and the store (see kv_actors.hpp). Any thread.
  Narrate narrate;
};

/// The deadline of one call from the store (or a candidate) to a replica: half the suspect
/// timeout, at most one second — a member that cannot answer that fast will soon be Suspect.
cineyma::Duration replica_timeout(const KvOptions& options) noexcept;

class KvNode {
 public:
  /// Nothing runs until `start()`. `env` must outlive the node.
  KvNode(cineyma::Environment& env, KvOptions options);
  /// Stops the actors first (they use the cluster node), then the node. No graceful leave:
  /// call `leave()` for that.
  ~KvNode();
  KvNode(const KvNode&) = delete;
  KvNode& operator=(const KvNode&) = delete;

  /// Listens, joins, and starts the store's actors. Returns the bound endpoint.
  cineyma::Result<cineyma::Endpoint> start();

  const std::string& node_id() const noexcept { return options_.node_id; }
  /// The advertised endpoint (after `start`).
  std::string endpoint() const { return node_.endpoint(); }
  const KvOptions& options() const noexcept { return options_; }
  cineyma::Environment& environment() const noexcept { return system_.environment(); }
  cineyma::cluster::ClusterNode& cluster() noexcept { return node_; }
  const cineyma::cluster::ClusterNode& cluster() const noexcept { return node_; }

  /// The value of `key` (nullopt: no such key). Errors: the cluster client's (`not_found`: no
  /// live node hosts the store, `disconnected`, `timeout`, ...) and `kv::Errc`.
  cineyma::Result<std::optional<std::string>> get(const std::string& key);
  /// Sets `key`; ok once a majority of the cluster's replicas hold it.
  cineyma::Result<void> set(const std::string& key, const std::string& value);
  /// Deletes `key`; true when it existed.
  cineyma::Result<bool> erase(const std::string& key);

  /// Graceful leave: others see this node Left (not Down) and, if it hosted the store, take
  /// it over at once. Keep the process alive an interval or so for the news to spread.
  void leave();

 private:
  KvOptions options_;
  cineyma::ActorSystem system_;
  cineyma::cluster::ClusterNode node_;
  cineyma::cluster::ClusterClient client_;
  cineyma::Addr<Replica> replica_;
  cineyma::Addr<Coordinator> coordinator_;
};

}  // namespace kv
