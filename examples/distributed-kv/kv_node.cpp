// examples/distributed-kv/kv_node.cpp — see kv_node.hpp.
#include "kv_node.hpp"

#include "kv_commands.hpp"

#include <cineyma/cluster/client.hpp>

#include <algorithm>
#include <memory>
#include <utility>

namespace kv {

namespace {

using cineyma::Result;

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "distributed-kv"; }
  std::string message(int code) const override {
    switch (static_cast<Errc>(code)) {
      case Errc::no_quorum:
        return "the store cannot reach a majority of the cluster";
      case Errc::store_moved:
        return "the store moved to another node";
    }
    return "unknown distributed-kv error";
  }
};

/// The store's answer status as an error, or none for STATUS_OK.
std::optional<std::error_code> status_error(distributed_kv::Status s) {
  switch (s) {
    case distributed_kv::STATUS_OK:
      return std::nullopt;
    case distributed_kv::STATUS_NO_QUORUM:
      return make_error_code(Errc::no_quorum);
    case distributed_kv::STATUS_STORE_MOVED:
      return make_error_code(Errc::store_moved);
    default:
      break;
  }
  // A newer peer's status we do not know: the command did not succeed, and it may have written.
  return make_error_code(Errc::store_moved);
}

cineyma::cluster::ClusterNodeOptions cluster_options(const KvOptions& o) {
  cineyma::cluster::ClusterNodeOptions c;
  c.gossip.node_id = o.node_id;
  c.gossip.endpoint = o.endpoint;
  c.gossip.seeds = o.seeds;
  c.gossip.gossip_interval = o.gossip_interval;
  c.gossip.suspect_after = o.suspect_after;
  c.gossip.down_after = o.down_after;
  c.gossip.incarnation = o.incarnation;
  c.bind = o.bind;
  c.cluster_name = o.cluster_name;
  c.secret = o.secret;
  c.call_timeout = o.call_timeout;
  // Peers are on loopback or a LAN: a connect that takes longer than the interval is as good
  // as failed, and gossip retries anyway.
  c.connect_timeout = std::max<cineyma::Duration>(o.gossip_interval, std::chrono::milliseconds(200));
  return c;
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

cineyma::Duration replica_timeout(const KvOptions& options) noexcept {
  return std::min<cineyma::Duration>(options.suspect_after / 2, std::chrono::seconds(1));
}

KvNode::KvNode(cineyma::Environment& env, KvOptions options)
    : options_(std::move(options)),
      system_(env),
      node_(system_, cluster_options(options_)),
      client_(node_) {
  if (!options_.narrate) options_.narrate = [](const std::string&) {};
}

KvNode::~KvNode() {
  // First the node: no more gossip ticks, and every cluster call still waiting fails at once,
  // so the actors can finish what they are doing. Then the actors, which call into node_ (an
  // object that stays valid after its shutdown): they must be gone before it is destroyed
  // (members are destroyed after this body, node_ before system_).
  node_.shutdown();
  static_cast<void>(system_.shutdown());
}

Result<cineyma::Endpoint> KvNode::start() {
  Result<cineyma::Endpoint> bound = node_.start();
  if (!bound) return bound;

  replica_ = system_.spawn(Replica{});
  cineyma::remote::MessageRouter router;
  router.route<distributed_kv::ReplicateRequest>(replica_).route<distributed_kv::StateRequest>(
      replica_);
  if (Result<void> r = node_.register_actor(replica_name(options_.node_id), replica_,
                                            std::move(router), std::string(kReplicaType));
      !r) {
    return cineyma::fail(r.error());
  }

  auto shared = std::make_shared<Shared>(node_);
  shared->self = options_.node_id;
  shared->interval = options_.gossip_interval;
  shared->grace = 3 * options_.gossip_interval;
  shared->replica_timeout = replica_timeout(options_);
  shared->narrate = options_.narrate;
  coordinator_ = system_.spawn(Coordinator(shared, options_.seeds.empty()));

  // Callbacks run under the node's lock: they only print and enqueue.
  node_.on_registration_lost([c = coordinator_](const cineyma::cluster::RegistrationLost& lost) {
    static_cast<void>(c.try_send(Coordinator::Lost{lost.name, lost.winner.node}));
  });
  node_.on_member_event([c = coordinator_, narrate = options_.narrate](
                            const cineyma::cluster::MemberEvent& e) {
    narrate(e.node + " is now " + status_label(e.status));
    static_cast<void>(c.try_send(Coordinator::Tick{}));
  });
  return bound;
}

Result<std::optional<std::string>> KvNode::get(const std::string& key) {
  auto store = client_.remote_addr<StoreProtocol>(std::string(kStoreName));
  distributed_kv::GetRequest request;
  request.set_key(key);
  Result<distributed_kv::GetResponse> r = store.call(request).get();
  if (!r) return cineyma::fail(r.error());
  if (auto bad = status_error(r->status())) return cineyma::fail(*bad);
  if (!r->found()) return std::optional<std::string>{};
  return std::optional<std::string>(r->value());
}

Result<void> KvNode::set(const std::string& key, const std::string& value) {
  auto store = client_.remote_addr<StoreProtocol>(std::string(kStoreName));
  distributed_kv::SetRequest request;
  request.set_key(key);
  request.set_value(value);
  Result<distributed_kv::SetResponse> r = store.call(request).get();
  if (!r) return cineyma::fail(r.error());
  if (auto bad = status_error(r->status())) return cineyma::fail(*bad);
  return cineyma::ok();
}

Result<bool> KvNode::erase(const std::string& key) {
  auto store = client_.remote_addr<StoreProtocol>(std::string(kStoreName));
  distributed_kv::DeleteRequest request;
  request.set_key(key);
  Result<distributed_kv::DeleteResponse> r = store.call(request).get();
  if (!r) return cineyma::fail(r.error());
  if (auto bad = status_error(r->status())) return cineyma::fail(*bad);
  return r->deleted();
}

void KvNode::leave() { node_.leave(); }

}  // namespace kv
